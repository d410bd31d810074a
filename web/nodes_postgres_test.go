package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// pgNode is one web server on its own connection pool to a shared
// PostgreSQL database, as one 'parley run' node serves it.
func pgNode(t *testing.T, url string) (*postgres.Store, *testEnv) {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	srv, err := web.New(web.Config{}, web.Options{
		Store:        st,
		Decider:      bot.NewDecisions(st, bot.DecisionsOptions{}),
		Logger:       slog.New(slog.DiscardHandler),
		PasswordCost: bcrypt.MinCost,
		// Only the change feed can bring a change within the test.
		PollInterval: time.Hour,
	})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return st, &testEnv{t: t, url: ts.URL}
}

// TestEventsAcrossNodesOnPostgres: two web servers share one PostgreSQL
// database. A person logs in on A (the session is in the database) and
// opens the live inbox on B; a mention ingested through A's connections
// reaches B's page through LISTEN/NOTIFY (B polls once an hour), and an
// approval made on A tells B's page to drop the draft, naming who decided.
func TestEventsAcrossNodesOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, a := pgNode(t, url)
	_, b := pgNode(t, url)
	ctx := context.Background()
	_, err := web.AddUser(ctx, stA, "ana", parley.RoleManager, "password-ana")
	require.NoError(t, err)
	onA := a.client()
	onA.login("ana", "password-ana")
	onB := &client{e: b, c: onA.c} // the same browser: its cookie names the session
	res, page := onB.get("/")
	require.Equal(t, http.StatusOK, res.StatusCode, "the session made on A is good on B")
	since := regexp1(t, `data-since="(\d+)"`, page)

	sctx, cancel := context.WithTimeout(ctx, nodePatience)
	defer cancel()
	next := openEvents(t, sctx, onB, "/events?since="+since)

	m := mention("n1", "eve", "my deck snapped on the first ollie", parley.Negative, 10, 0)
	r, err := stA.IngestBatch(ctx, []*parley.Mention{m}, draftEach)
	require.NoError(t, err)
	require.Len(t, r.DraftIDs, 1)
	id := r.DraftIDs[0]
	ev := next(func(ev map[string]any) bool { return ev["id"] == float64(id) })
	assert.Equal(t, "pending", ev["state"])
	assert.Contains(t, ev["html"], "my deck snapped")

	res, body := onA.postJSON(path("/drafts/%d/approve", id), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	ev = next(func(ev map[string]any) bool { return ev["id"] == float64(id) && ev["remove"] == true })
	assert.Equal(t, "approved", ev["state"])
	assert.Equal(t, "ana", ev["decided_by"])
}

// nodePatience bounds a wait for something that should happen at once.
const nodePatience = 2 * time.Minute

// openEvents opens the live stream at path and returns a function that
// waits for the first event want accepts (failing when ctx ends first).
func openEvents(t *testing.T, ctx context.Context, c *client, path string) func(want func(map[string]any) bool) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.e.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.c
	hc.Timeout = 0 // the stream stays open
	res, err := hc.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	events := make(chan map[string]any, 64)
	go func() {
		defer close(events)
		var buf strings.Builder
		chunk := make([]byte, 4096)
		for {
			n, err := res.Body.Read(chunk)
			buf.WriteString(string(chunk[:n]))
			for {
				s := buf.String()
				i := strings.Index(s, "\n\n")
				if i < 0 {
					break
				}
				buf.Reset()
				buf.WriteString(s[i+2:])
				for _, line := range strings.Split(s[:i], "\n") {
					var ev map[string]any
					if data, ok := strings.CutPrefix(line, "data: "); ok && json.Unmarshal([]byte(data), &ev) == nil {
						events <- ev
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return func(want func(map[string]any) bool) map[string]any {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				require.True(t, ok, "the stream ended")
				if want(ev) {
					return ev
				}
			case <-ctx.Done():
				t.Fatal("no such event in time")
			}
		}
	}
}

// TestSimultaneousApprovalsOnTwoNodes: ana on node A and bo on node B
// approve the same draft at the same moment, for several drafts. Each time
// one wins and the other is told who did (409, "already approved by ...");
// the audit log has one approval per draft.
func TestSimultaneousApprovalsOnTwoNodes(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, a := pgNode(t, url)
	_, b := pgNode(t, url)
	ctx := context.Background()
	for _, name := range []string{"ana", "bo"} {
		_, err := web.AddUser(ctx, stA, name, parley.RoleManager, "password-"+name)
		require.NoError(t, err)
	}
	onA, onB := a.client(), b.client()
	onA.login("ana", "password-ana")
	onB.login("bo", "password-bo")
	var ms []*parley.Mention
	for i := range 10 {
		ms = append(ms, mention(fmt.Sprint("s", i), fmt.Sprint("user", i), "where is my order", parley.Negative, 10, i))
	}
	r, err := stA.IngestBatch(ctx, ms, draftEach)
	require.NoError(t, err)
	require.Len(t, r.DraftIDs, 10)
	wins := map[string]int{}
	for _, id := range r.DraftIDs {
		type answer struct {
			who  string
			code int
			body string
		}
		answers := make(chan answer, 2)
		start := make(chan struct{})
		for who, c := range map[string]*client{"ana": onA, "bo": onB} {
			go func() {
				<-start
				res, body := c.postJSON(path("/drafts/%d/approve", id), nil)
				answers <- answer{who, res.StatusCode, body}
			}()
		}
		close(start)
		x, y := <-answers, <-answers
		if x.code != http.StatusOK {
			x, y = y, x
		}
		require.Equal(t, http.StatusOK, x.code, "one wins: %s", x.body)
		require.Equal(t, http.StatusConflict, y.code, "the other is refused: %s", y.body)
		assert.Contains(t, y.body, "already approved by "+x.who, "and told who won")
		wins[x.who]++
		entries, err := stA.AuditEntries(ctx, parley.AuditFilter{DraftID: id, Action: "approve"})
		require.NoError(t, err)
		assert.Len(t, entries, 1, "draft %d approved once", id)
	}
	t.Logf("wins: %v", wins)
}
