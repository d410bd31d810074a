package web_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

func getWith(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// By default /metrics is not on the inbox's address (anyone who reaches
// the inbox would read it): it is on web.metrics_addr, or on the inbox's
// address only with the bearer token named by web.metrics_token_env.
func TestMetricsNotOnTheInboxByDefault(t *testing.T) {
	e := newEnv(t, func(c *web.Config, _ *web.Options) { c.MetricsTokenEnv = "" })
	code, body := getWith(t, e.url+"/metrics")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, body, "metrics_addr")
	assert.NotContains(t, body, "parley_")

	e = newEnv(t, func(c *web.Config, o *web.Options) {
		c.MetricsTokenEnv = "PARLEY_METRICS_TOKEN"
		o.Getenv = func(k string) string { return map[string]string{"PARLEY_METRICS_TOKEN": "s3cret-scrape-token"}[k] }
	})
	code, body = getWith(t, e.url+"/metrics")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.NotContains(t, body, "parley_")
	code, _ = getWith(t, e.url+"/metrics", "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, body = getWith(t, e.url+"/metrics", "Authorization", "Bearer s3cret-scrape-token")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "parley_drafts_queued_total")

	// A token variable that is named but empty is a configuration error.
	st := storetest.Open(t)
	_, err := web.New(web.Config{MetricsTokenEnv: "PARLEY_METRICS_TOKEN"}, web.Options{Store: st, Getenv: func(string) string { return "" },
		Decider: bot.NewDecisions(st, bot.DecisionsOptions{})})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PARLEY_METRICS_TOKEN")
}

// /healthz reads real rows: a database whose pages are damaged fails it,
// even when the table of migrations still answers.
func TestHealthzFailsOnADamagedDatabase(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "parley.db")
	st := storetest.Open(t, storetest.Path(p))
	var ms []*parley.Mention
	for i := range 300 {
		ms = append(ms, mention(strconv.Itoa(i+1), "user"+strconv.Itoa(i), "a long enough text to fill some pages of the database file", parley.Neutral, i, i))
	}
	_, err := st.IngestBatch(ctx, ms, draftEach)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	// Damage the root pages of the main tables; the schema and the table
	// of migrations stay readable.
	db, err := sql.Open("sqlite", "file:"+p)
	require.NoError(t, err)
	var roots []int64
	rows, err := db.Query(`SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name IN ('mentions', 'drafts', 'people', 'threads')`)
	require.NoError(t, err)
	for rows.Next() {
		var r int64
		require.NoError(t, rows.Scan(&r))
		roots = append(roots, r)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, db.Close())
	require.Len(t, roots, 4)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	for _, r := range roots {
		junk := make([]byte, 4096)
		rand.Read(junk)
		_, err = f.WriteAt(junk, (r-1)*4096)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	st, err = store.Open(ctx, p, store.Options{})
	require.NoError(t, err, "the migrations table still answers")
	defer st.Close()
	e := newEnvOn(t, st)
	code, body := getWith(t, e.url+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	var h map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	assert.Equal(t, "unavailable", h["status"])
}

// /healthz says how each connector is doing, and fails when one stopped.
func TestHealthzReportsConnectors(t *testing.T) {
	states := []web.ConnectorState{{Name: "mastodon:bot@example.social", State: web.ConnectorRunning}}
	e := newEnv(t, func(_ *web.Config, o *web.Options) {
		o.Connectors = func() []web.ConnectorState { return states }
	})
	code, body := getWith(t, e.url+"/healthz")
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"mastodon:bot@example.social"`)
	assert.Contains(t, body, `"running"`)

	states = append(states, web.ConnectorState{Name: "discord", State: web.ConnectorStopped, Error: "token refused"})
	code, body = getWith(t, e.url+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Contains(t, body, `"stopped"`)
	assert.Contains(t, body, "token refused")
}
