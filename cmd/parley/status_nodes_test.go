package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// nodeHealth is what /healthz says about the node and its leases.
type nodeHealth struct {
	Status     string               `json:"status"`
	Node       string               `json:"node"`
	Leases     []parley.Lease       `json:"leases"`
	Connectors []web.ConnectorState `json:"connectors"`
}

func getHealth(t *testing.T, addr string) (int, nodeHealth) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var h nodeHealth
	require.NoError(t, json.Unmarshal(b, &h), string(b))
	return res.StatusCode, h
}

// TestStatusAndHealthzShowWhichNodeHoldsWhat: two 'parley run' share one
// PostgreSQL database. Each /healthz names its node and lists the leases;
// the connector runs on the node holding its lease and is on standby (and
// healthy) on the other, which names the holder. 'parley status' says the
// same live and from the database.
func TestStatusAndHealthzShowWhichNodeHoldsWhat(t *testing.T) {
	url := storetest.PostgresURL(t)
	srv := mastodontest.NewServer(t)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
web:
  metrics_token_env: PARLEY_TEST_METRICS_TOKEN
`, srv.URL))
	env := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": mastodontest.Token, "PARLEY_TEST_METRICS_TOKEN": "s3cret", "USER": "tester"}
	runs := []*inProcessRun{startRun(t, env, cfg, url), startRun(t, env, cfg, url)}
	addrs := make([]string, 2)
	for i, r := range runs {
		require.Eventually(t, func() bool { return listenAddr.MatchString(r.errb.String()) }, patience, 10*time.Millisecond,
			"stderr: %s", &r.errb)
		addrs[i] = listenAddr.FindStringSubmatch(r.errb.String())[1]
	}

	// Wait until one node runs the account and the other knows it.
	var hs [2]nodeHealth
	require.Eventually(t, func() bool {
		for i, a := range addrs {
			code, h := getHealth(t, a)
			if code != http.StatusOK || len(h.Connectors) != 1 {
				return false
			}
			hs[i] = h
		}
		// Both know the holder: the one running it, and the other once its
		// first ask for the lease was refused.
		return hs[0].Connectors[0].State != hs[1].Connectors[0].State &&
			hs[0].Connectors[0].Holder != "" && hs[1].Connectors[0].Holder != ""
	}, patience, 50*time.Millisecond, "healthz: %+v", &hs)
	holder, standby := 0, 1
	if hs[1].Connectors[0].State == web.ConnectorRunning {
		holder, standby = 1, 0
	}
	node := hs[holder].Node
	require.NotEmpty(t, node)
	assert.NotEqual(t, node, hs[standby].Node, "each node has its own name")
	assert.Equal(t, web.ConnectorRunning, hs[holder].Connectors[0].State)
	assert.Equal(t, node, hs[holder].Connectors[0].Holder)
	assert.Equal(t, web.ConnectorStandby, hs[standby].Connectors[0].State, "healthy while another node runs it")
	assert.Equal(t, node, hs[standby].Connectors[0].Holder, "the standby node names the holder")
	for _, h := range hs {
		var found bool
		for _, l := range h.Leases {
			if strings.HasPrefix(l.Name, "connector:mastodon:") {
				found = true
				assert.Equal(t, node, l.Holder)
				assert.True(t, l.Until.After(time.Now().Add(-time.Second)), "held, not expired: %v", l.Until)
			}
		}
		assert.True(t, found, "the connector's lease is listed: %+v", h.Leases)
	}

	// parley status, live from the standby node and from the database.
	r := parleyEnv(t, env, "status", "--config", cfg, "--db", url, "--addr", addrs[standby])
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "node "+hs[standby].Node)
	assert.Regexp(t, `mastodon:127\.0\.0\.1:\d+: standby, `+regexpQuote(node)+` runs it`, r.stdout)
	assert.Regexp(t, `connector:mastodon:\S+: held by `+regexpQuote(node)+` until`, r.stdout)
	r = parleyEnv(t, env, "status", "--config", cfg, "--db", url, "--addr", addrs[holder], "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var st parley.Status
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
	assert.Equal(t, node, st.Node)
	require.Len(t, st.Connectors, 1)
	assert.Equal(t, node, st.Connectors[0].Holder)
	r = parleyEnv(t, env, "status", "--config", cfg, "--db", url, "--offline")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `connector:mastodon:\S+: held by `+regexpQuote(node)+` until`, r.stdout)

	// The holder stops: it releases its lease and the other takes over.
	runs[holder].stop(t)
	require.Eventually(t, func() bool {
		_, h := getHealth(t, addrs[standby])
		return len(h.Connectors) == 1 && h.Connectors[0].State == web.ConnectorRunning && h.Connectors[0].Holder == h.Node
	}, patience, 50*time.Millisecond)
	runs[standby].stop(t)
	r = parleyEnv(t, env, "status", "--config", cfg, "--db", url, "--offline")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `connector:mastodon:\S+: free, released by `+regexpQuote(hs[standby].Node), r.stdout)
}
