// Package deploy holds the files that run Parley as a service (a systemd
// unit, a compose file); its tests check them with the tools that read them.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit, with
// ExecStart pointed at an executable that exists, and checks the hardening is there.
func TestSystemdUnitVerifies(t *testing.T) {
	unit, err := os.ReadFile("parley.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=parley", "ProtectSystem=strict",
		"NoNewPrivileges=yes", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "UMask=0077"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIPPED: systemd-analyze is not installed; the unit was not verified")
	}
	// verify checks that ExecStart names an executable; which one does
	// not matter to it, and building parley here would cost minutes.
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/parley", bin)
	path := filepath.Join(dir, "parley.service")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDockerfile checks what the image promises, since no docker engine
// runs in CI: two stages, a static trimmed build, a non-root user, the
// /data volume, and a HEALTHCHECK that needs no shell.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	if n := strings.Count(df, "\nFROM "); n < 2 {
		t.Errorf("want a multi-stage build, found %d FROM lines", n)
	}
	for _, want := range []string{"CGO_ENABLED=0 go build -trimpath", "USER 65532:65532", `VOLUME ["/data"]`,
		`CMD ["/usr/local/bin/parley", "health"`, "PARLEY_DATA=/data"} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	c, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"parley-data:/data", "PARLEY_CONFIG:", "no-new-privileges"} {
		if !strings.Contains(string(c), want) {
			t.Errorf("compose.yaml lacks %q", want)
		}
	}
}
