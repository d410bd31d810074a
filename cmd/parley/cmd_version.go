package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version, commit, build date and Go version",
		usage: `parley version [--json]

Prints what the binary was built from, read from Go's build information:
the module version (a release tag, or (devel) for a local build), the VCS
commit and its date (with "dirty" when the tree had changes), the Go
version, and the target platform.

Example:
  parley version
  parley version --json`,
		run: runVersion,
	})
}

// The release script sets these with -ldflags -X when the build has no VCS
// information of its own (a source archive, -buildvcs=false).
var (
	version   string
	commit    string
	buildDate string
)

// buildInfo is what 'parley version' reports.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildDate string `json:"build_date,omitempty"`
	Dirty     bool   `json:"dirty,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func readBuildInfo() buildInfo {
	bi := buildInfo{Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return bi.withLinkerValues()
	}
	if v := info.Main.Version; v != "" {
		bi.Version = v
	}
	bi.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.Commit = s.Value
		case "vcs.time":
			bi.BuildDate = s.Value
		case "vcs.modified":
			bi.Dirty = s.Value == "true"
		}
	}
	return bi.withLinkerValues()
}

// withLinkerValues fills what the build info lacks from the -X values.
func (b buildInfo) withLinkerValues() buildInfo {
	if version != "" && (b.Version == "(devel)" || b.Version == "(unknown)") {
		b.Version = version
	}
	if b.Commit == "" {
		b.Commit = commit
	}
	if b.BuildDate == "" {
		b.BuildDate = buildDate
	}
	return b
}

func (b buildInfo) String() string {
	s := "parley " + b.Version
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (commit " + c
		if b.Dirty {
			s += ", dirty"
		}
		if b.BuildDate != "" {
			s += ", " + b.BuildDate
		}
		s += ")"
	}
	return s + fmt.Sprintf(", %s, %s", b.GoVersion, b.Platform)
}

func runVersion(_ context.Context, e *env, args []string) error {
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	bi := readBuildInfo()
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(bi)
	}
	_, err = fmt.Fprintln(e.stdout, bi.String())
	return err
}
