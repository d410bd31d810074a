package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// testEnv is a web server on a real SQLite store, on 127.0.0.1.
type testEnv struct {
	t   testing.TB
	st  *store.Store
	srv *web.Server
	ts  *httptest.Server
	url string // the server's base URL
	// botMetrics are the pipeline's metrics, served at /metrics as
	// 'parley run' serves them; the decision service reports to them.
	botMetrics *bot.Metrics

	mu      sync.Mutex
	decided []parley.Draft // approvals and rejections the decision service reported
	// check, when set, is the platform's check of a draft's text.
	check func(ctx context.Context, d parley.Draft) error
}

type envOption func(*web.Config, *web.Options)

func newEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	st := storetest.Open(t)
	return newEnvOn(t, st, opts...)
}

// newEnvOn is newEnv on a store the test opened.
func newEnvOn(t testing.TB, st *store.Store, opts ...envOption) *testEnv {
	t.Helper()
	var err error
	e := &testEnv{t: t, st: st, botMetrics: bot.NewMetrics()}
	e.botMetrics.WatchStore(st.QueueStats, nil)
	cfg := web.Config{MetricsTokenEnv: "PARLEY_TEST_METRICS_TOKEN"}
	o := web.Options{
		Metrics: e.botMetrics.Registry(),
		Getenv: func(k string) string {
			return map[string]string{"PARLEY_TEST_METRICS_TOKEN": testMetricsToken}[k]
		},
		Store:        st,
		Logger:       slog.New(slog.DiscardHandler),
		PasswordCost: bcrypt.MinCost,
		PollInterval: 50 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&cfg, &o)
	}
	if o.Decider == nil {
		o.Decider = bot.NewDecisions(st, bot.DecisionsOptions{
			Check: func(ctx context.Context, d parley.Draft) error {
				if e.check != nil {
					return e.check(ctx, d)
				}
				return nil
			},
			OnDecided: func(action string, d parley.Draft) {
				e.botMetrics.ObserveDecision(action, d)
				if action == "approve" || action == "reject" {
					e.mu.Lock()
					e.decided = append(e.decided, d)
					e.mu.Unlock()
				}
			},
		})
	}
	e.srv, err = web.New(cfg, o)
	require.NoError(t, err)
	e.ts = httptest.NewServer(e.srv.Handler())
	e.url = e.ts.URL
	t.Cleanup(e.ts.Close)
	return e
}

// addUser creates a user with a cheap hash.
func (e *testEnv) addUser(name string, role parley.Role, password string) {
	e.t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(e.t, err)
	_, err = e.st.CreateUser(context.Background(), name, role, string(h))
	require.NoError(e.t, err)
}

var t0 = time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)

// mention builds a Mastodon mention minutes after t0.
func mention(id, author, text string, label parley.Label, followers, minutes int) *parley.Mention {
	return &parley.Mention{
		Platform:   parley.PlatformMastodon,
		ExternalID: id,
		Author:     parley.Person{ExternalID: "a-" + author, Handle: author + "@skate.social", Name: strings.ToUpper(author[:1]) + author[1:], Followers: followers},
		Text:       text,
		CreatedAt:  t0.Add(time.Duration(minutes) * time.Minute),
		URL:        "https://skate.social/@" + author + "/" + id,
		Sentiment:  parley.Sentiment{Label: label, Score: map[parley.Label]float64{parley.Negative: -0.6, parley.Neutral: 0, parley.Positive: 0.7}[label]},
	}
}

// draftEach answers every mention with a draft "Reply to <text>", tagged
// by sentiment.
func draftEach(m *parley.Mention, h parley.History) []parley.Draft {
	m.Tags = []string{string(m.Sentiment.Label) + "-tag"}
	m.Rules = []string{"rule-" + string(m.Sentiment.Label)}
	if m.Sentiment.Label == parley.Negative {
		m.Priority = 5
	}
	return []parley.Draft{{Text: "Thanks " + h.Person.DisplayName() + "!", Rule: "rule-" + string(m.Sentiment.Label), Priority: m.Priority}}
}

// ingest stores mentions with draftEach and returns the draft ids.
func (e *testEnv) ingest(ms ...*parley.Mention) []int64 {
	e.t.Helper()
	res, err := e.st.IngestBatch(context.Background(), ms, draftEach)
	require.NoError(e.t, err)
	return res.DraftIDs
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed, and the page's CSRF token.
type client struct {
	e    *testEnv
	c    *http.Client
	csrf string
}

func (e *testEnv) client() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{e: e, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// get fetches a page and remembers its CSRF token.
func (c *client) get(path string) (*http.Response, string) {
	c.e.t.Helper()
	res, err := c.c.Get(c.e.url + path)
	require.NoError(c.e.t, err)
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(c.e.t, err)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res, string(b)
}

// post sends a form (with the CSRF token unless vals sets csrf_token).
func (c *client) post(path string, vals url.Values, header ...string) (*http.Response, string) {
	c.e.t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	if _, ok := vals["csrf_token"]; !ok {
		vals.Set("csrf_token", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.e.url+path, strings.NewReader(vals.Encode()))
	require.NoError(c.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.c.Do(req)
	require.NoError(c.e.t, err)
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(c.e.t, err)
	return res, string(b)
}

// postJSON is post as app.js does it: token in a header, JSON back.
func (c *client) postJSON(path string, vals url.Values) (*http.Response, string) {
	if vals == nil {
		vals = url.Values{}
	}
	vals.Set("csrf_token", "")
	return c.post(path, vals, "Accept", "application/json", "X-CSRF-Token", c.csrf)
}

// login logs in and loads the inbox (for the new CSRF token).
func (c *client) login(name, password string) {
	c.e.t.Helper()
	c.get("/login")
	res, body := c.post("/login", url.Values{"name": {name}, "password": {password}, "next": {"/"}})
	require.Equal(c.e.t, http.StatusSeeOther, res.StatusCode, "login as %s: %s", name, body)
	res, body = c.get("/")
	require.Equal(c.e.t, http.StatusOK, res.StatusCode, body)
}

func (e *testEnv) loggedIn(name string, role parley.Role) *client {
	e.t.Helper()
	e.addUser(name, role, "password-"+name)
	c := e.client()
	c.login(name, "password-"+name)
	return c
}

func (e *testEnv) draft(id int64) parley.Draft {
	e.t.Helper()
	d, err := e.st.Draft(context.Background(), id)
	require.NoError(e.t, err)
	return d
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func regexpMust(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }

// testMetricsToken is the bearer token for /metrics on the inbox's
// address in tests.
const testMetricsToken = "test-metrics-token"

// metrics scrapes /metrics into series -> value.
func (e *testEnv) metrics() map[string]string {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	require.Equal(e.t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}

func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}
