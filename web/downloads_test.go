package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestExportDownloadsMatchTheStore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ingest(mention("1", "jules", "=HYPERLINK(\"http://evil.example\",\"click\")", parley.Positive, 842, 0),
		mention("2", "gus", "my order never arrived", parley.Negative, 10, 1),
		mention("3", "mia", "which bearings?", parley.Neutral, 50, 2))
	manager := e.loggedIn("ma", parley.RoleManager)
	res, page := manager.get("/exports")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, page, `href="/exports" aria-current="page"`, "managers find it in the nav")

	count := func(kind string) int {
		n := 0
		var err error
		inc := func() error { n++; return nil }
		switch kind {
		case "mentions":
			err = e.st.ExportMentions(ctx, parley.ExportFilter{}, func(parley.Mention) error { return inc() })
		case "conversations":
			err = e.st.ExportConversations(ctx, parley.ExportFilter{}, func(parley.Conversation) error { return inc() })
		case "drafts":
			err = e.st.ExportDrafts(ctx, parley.ExportFilter{}, func(parley.Draft) error { return inc() })
		case "people":
			err = e.st.ExportPeople(ctx, parley.ExportFilter{}, func(parley.Person) error { return inc() })
		}
		require.NoError(t, err)
		return n
	}
	stats, err := e.st.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, stats.Mentions)
	for _, kind := range []string{"mentions", "conversations", "drafts", "people"} {
		res, body := manager.get("/exports/download?kind=" + kind + "&format=csv")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		assert.Contains(t, res.Header.Get("Content-Disposition"), `attachment; filename="parley-`+kind+`-`)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		require.NoError(t, err)
		assert.Equal(t, count(kind), len(recs)-1, "%s: one row per stored row, after the header", kind)

		res, body = manager.get("/exports/download?kind=" + kind + "&format=jsonl")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		lines := strings.Split(strings.TrimSpace(body), "\n")
		assert.Len(t, lines, count(kind), kind)
		assert.True(t, json.Valid([]byte(lines[0])), lines[0])
	}

	_, body := manager.get("/exports/download?kind=mentions&format=csv")
	assert.Contains(t, body, `'=HYPERLINK(`, "a formula is not run by a spreadsheet")
	_, body = manager.get("/exports/download?kind=mentions&format=csv&since=2999-01-01")
	assert.Equal(t, 1, strings.Count(body, "\n"), "only the header: %s", body)
	_, body = manager.get("/exports/download?kind=mentions&format=csv&platform=discord")
	assert.Equal(t, 1, strings.Count(body, "\n"))

	res, _ = manager.get("/exports/download?kind=threads")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res, _ = manager.get("/exports/download?kind=mentions&since=yesterday")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	agent := e.loggedIn("ag", parley.RoleAgent)
	res, _ = agent.get("/exports/download?kind=people")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "managers only")

	entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Action: "export", Actor: "ma"})
	require.NoError(t, err)
	assert.Len(t, entries, 11, "each download is in the activity log")
	assert.Equal(t, "mentions as csv (on discord): 0 rows", entries[0].Detail)
}
