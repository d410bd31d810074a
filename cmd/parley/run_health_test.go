package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// 'parley run' serves /metrics on web.metrics_addr (not on the inbox's
// address), and /healthz reports the connectors: one that gave up (its
// token refused) makes it fail.
func TestRunServesMetricsOnItsAddressAndConnectorHealth(t *testing.T) {
	srv := mastodontest.NewServer(t)
	db := filepath.Join(t.TempDir(), "p.db")
	maddr := freeAddr(t)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
web:
  metrics_addr: %s
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
`, maddr, srv.URL))
	env := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": "not-the-token", "USER": "tester"}
	run := startRun(t, env, cfg, db)
	errb, done, cancel := &run.errb, run.done, run.cancel
	var inbox string
	require.Eventually(t, func() bool {
		if i := strings.Index(errb.String(), "inbox=http://"); i >= 0 {
			inbox = strings.Fields(errb.String()[i+len("inbox="):])[0]
			return true
		}
		select {
		case code := <-done:
			t.Fatalf("run ended with %d: %s", code, errb)
		default:
		}
		return false
	}, patience, 10*time.Millisecond, "stderr: %s", errb)

	code, body := httpGet(t, "http://"+maddr+"/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "parley_drafts_queued_total")
	code, body = httpGet(t, inbox+"/metrics")
	assert.Equal(t, http.StatusNotFound, code)
	assert.NotContains(t, body, "parley_drafts_queued_total")

	require.Eventually(t, func() bool {
		code, body = httpGet(t, "http://"+maddr+"/healthz")
		return code == http.StatusServiceUnavailable
	}, patience, 50*time.Millisecond, "healthz: %d %s\nstderr: %s", code, body, errb)
	assert.Contains(t, body, `"stopped"`)
	assert.Contains(t, body, "mastodon")
	cancel()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("run did not stop")
	}
}
