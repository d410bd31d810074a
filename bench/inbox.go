package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/web"
)

// InboxReport is what the web inbox costs on a filled database: the
// server-side time to render its pages (the slowest of Runs), their
// weight, and how long a new mention takes to reach an open page.
type InboxReport struct {
	Mentions      int                `json:"mentions"`
	Conversations int                `json:"conversations"`
	Open          int                `json:"open"` // needing a reply
	Runs          int                `json:"runs"`
	PageMS        map[string]float64 `json:"page_ms"`
	// PageMedianMS is each page's median render: on a shared machine the
	// slowest one often measures a wait for a core rather than the page.
	PageMedianMS map[string]float64 `json:"page_median_ms"`
	PageBytes    map[string]int     `json:"page_bytes"`
	// LiveMS is from a mention committed by another writer to the open
	// page holding its row: the stream's event, then the list fetched.
	LiveMS float64 `json:"live_ms"`
}

// inboxPages are the pages timed: the default view, later pages, the
// other views, and searches (words, a rare word, @handle, #tag, filters).
var inboxPages = []struct{ name, path string }{
	{"inbox", "/"},
	{"inbox_page_2", ""}, // the first page's Next link
	{"view_all", "/?view=all"},
	{"view_closed", "/?view=closed"},
	{"view_unassigned", "/?view=unassigned"},
	{"search_words", "/?view=all&q=wheels"},
	{"search_rare", "/?view=all&q=refund+broken"},
	{"search_handle", "/?view=all&q=%40jules"},
	{"search_tag", "/?view=all&q=%23support"},
	{"filter_negative_mastodon", "/?sentiment=negative&platform=mastodon"},
	{"filter_overdue", "/?overdue=1"},
}

var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

// Inbox leaves open conversations needing a reply in the database at
// dbPath (closing the older ones) and times the web inbox on it.
func Inbox(ctx context.Context, dbPath string, open, runs int, logger *slog.Logger) (InboxReport, error) {
	rep := InboxReport{Runs: runs, PageMS: map[string]float64{}, PageMedianMS: map[string]float64{}, PageBytes: map[string]int{}}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, dbPath, store.Options{Logger: logger})
	if err != nil {
		return rep, err
	}
	defer func() { _ = st.Close() }() // read mostly; an error closing changes no figure
	if _, err := st.KeepOpen(ctx, open); err != nil {
		return rep, err
	}
	counts, err := st.Stats(ctx)
	if err != nil {
		return rep, err
	}
	rep.Mentions, rep.Conversations = counts.Mentions, counts.Threads
	srv, err := web.New(web.Config{}, web.Options{Store: st, Logger: logger, PasswordCost: bcrypt.MinCost,
		Decider: bot.NewDecisions(st, bot.DecisionsOptions{})})
	if err != nil {
		return rep, err
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c, err := login(ctx, st, ts.URL)
	if err != nil {
		return rep, err
	}
	if err := timePages(ctx, srv.Handler(), c, ts.URL, &rep); err != nil {
		return rep, err
	}
	page, err := st.InboxPage(ctx, parley.InboxQuery{})
	if err != nil {
		return rep, err
	}
	rep.Open = page.Counts[parley.ViewNeedsReply]
	rep.LiveMS, err = timeLive(ctx, st, c, ts.URL)
	return rep, err
}

// login makes a manager and logs them in; the client keeps the cookie.
func login(ctx context.Context, st *store.Store, base string) (*http.Client, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte("bench password"), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	if _, err := st.CreateUser(ctx, "bench", parley.RoleManager, string(hash)); err != nil && parley.ErrorCode(err) != parley.ECONFLICT {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	body, err := get(ctx, c, base+"/login")
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("bench: no CSRF token on the login page")
	}
	form := url.Values{"name": {"bench"}, "password": {"bench password"}, "csrf_token": {m[1]}, "next": {"/"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: log in: %s", res.Status)
	}
	return c, nil
}

func get(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return string(b), err
}

// timePages renders each page runs times in process (the server's time,
// no network) and keeps the slowest and the size.
func timePages(ctx context.Context, h http.Handler, c *http.Client, base string, rep *InboxReport) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	cookies := c.Jar.Cookies(u)
	next := ""
	for _, p := range inboxPages {
		path := p.path
		if path == "" {
			if path = next; path == "" {
				continue // one page only
			}
		}
		var took []time.Duration
		for range max(1, rep.Runs) {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			w := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(w, req)
			took = append(took, time.Since(start))
			if w.Code != http.StatusOK {
				return fmt.Errorf("bench: GET %s: %d %s", path, w.Code, w.Body.String())
			}
			rep.PageBytes[p.name] = w.Body.Len()
			if m := nextLink.FindStringSubmatch(w.Body.String()); m != nil && p.name == "inbox" {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		slices.Sort(took)
		rep.PageMS[p.name] = float64(took[len(took)-1].Microseconds()) / 1000
		rep.PageMedianMS[p.name] = float64(took[len(took)/2].Microseconds()) / 1000
	}
	return nil
}

// timeLive opens the live stream as an open page does, stores a mention
// as another process would, and times until the page's list has its row.
func timeLive(ctx context.Context, st *store.Store, c *http.Client, base string) (float64, error) {
	version, err := st.InboxVersion(ctx)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events?view=all&version="+url.QueryEscape(version), nil)
	if err != nil {
		return 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: ") {
				events <- strings.TrimPrefix(sc.Text(), "event: ")
			}
		}
		close(events)
	}()
	m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprintf("bench-live-%d", time.Now().UnixNano()),
		Author: parley.Person{ExternalID: "bench-live", Handle: "live@bench.example"}, Text: "is anyone there?",
		CreatedAt: time.Now(), Sentiment: parley.Sentiment{Label: parley.Neutral}}
	start := time.Now()
	if _, err := st.IngestBatch(ctx, []*parley.Mention{m}, nil); err != nil {
		return 0, err
	}
	for ev := range events {
		if ev != "inbox" {
			continue
		}
		list, err := get(ctx, c, base+"/?view=all&fragment=list")
		if err != nil {
			return 0, err
		}
		if !strings.Contains(list, fmt.Sprintf(`id="conv-%d"`, m.ThreadID)) {
			continue
		}
		return float64(time.Since(start).Microseconds()) / 1000, nil
	}
	return 0, fmt.Errorf("bench: the new mention never reached the live page: %w", ctx.Err())
}

// Print writes the report for people.
func (r InboxReport) Print(w io.Writer) {
	fmt.Fprintf(w, "web inbox on %d mentions, %d conversations, %d needing a reply (slowest and median of %d runs, server side)\n",
		r.Mentions, r.Conversations, r.Open, r.Runs)
	for _, p := range inboxPages {
		fmt.Fprintf(w, "  %-26s %8.1f ms  (median %6.1f ms)  %7.1f KB\n", p.name, r.PageMS[p.name], r.PageMedianMS[p.name],
			float64(r.PageBytes[p.name])/1000)
	}
	fmt.Fprintf(w, "  %-26s %8.1f ms  (a new mention stored to its row on an open page)\n", "live_update", r.LiveMS)
}
