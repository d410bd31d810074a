// Package mastodontest is a fake Mastodon server on httptest for tests of
// the mastodon connector. It speaks the real endpoints the connector uses,
// with real JSON shapes:
//
//	GET  /api/v1/instance, /api/v2/instance
//	GET  /api/v1/accounts/verify_credentials
//	GET  /api/v1/accounts/:id/statuses
//	GET  /api/v1/notifications          (types[], exclude_types[], since_id, min_id, max_id, limit; Link header)
//	GET  /api/v1/timelines/tag/:hashtag (since_id, min_id, max_id, limit; Link header)
//	GET  /api/v2/search                 (q, type=statuses, min_id, max_id, limit, offset)
//	POST /api/v1/statuses               (form or JSON; Idempotency-Key replay)
//	GET  /api/v1/statuses/:id, /api/v1/statuses/:id/context
//	GET  /api/v1/streaming              (websocket; stream=user|user:notification|hashtag&tag=)
//	POST /api/v1/apps, GET /oauth/authorize, POST /oauth/token
//
// and has hooks to add statuses and mentions, drop stream connections,
// answer 429 for the next N requests, and count requests and posts.
package mastodontest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults of a new Server.
const (
	// Token is the bot account's access token.
	Token = "fake-token-0123456789"
	// BotUsername is the bot account's user name.
	BotUsername = "parley"
	// AuthCode is the authorization code /oauth/authorize shows.
	AuthCode = "fake-auth-code"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	At     time.Time
	Status int
	// IdempotencyKey is the Idempotency-Key header, if any.
	IdempotencyKey string
}

type notifEntry struct {
	id   string
	typ  string
	json []byte
}

type wsConn struct {
	conn    *websocket.Conn
	mu      sync.Mutex // serializes writes
	streams map[string]bool
}

func (c *wsConn) write(data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

// Server is a fake Mastodon server. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// Domain is the account domain local handles belong to.
	Domain string

	ts *httptest.Server

	mu          sync.Mutex
	nextID      int64
	bot         Account
	accounts    map[string]Account // by acct
	statuses    []*Status          // ascending id
	byID        map[string]*Status
	notifs      []notifEntry // ascending id
	idem        map[string]string
	posts       []*Status
	requests    []Request
	failN       int
	failStatus  int
	retryAfter  string
	exhaustNext time.Duration
	maxChars    int
	noV2        bool
	streaming   bool
	noHashtag   bool
	queryToken  bool
	conns       map[*wsConn]bool
	accepted    int
	apps        map[string]string // client_id -> secret
	scopes      []string          // the token's; nil: not listed (before Mastodon 4.3)
}

// Option configures a Server.
type Option func(*Server)

// WithMaxChars sets the instance's character limit (default 500).
func WithMaxChars(n int) Option { return func(s *Server) { s.maxChars = n } }

// WithoutV2Instance makes /api/v2/instance answer 404 and /api/v1/instance
// carry max_toot_chars instead of configuration (as Akkoma does).
func WithoutV2Instance() Option { return func(s *Server) { s.noV2 = true } }

// WithoutHashtagStreams makes the streaming endpoint refuse hashtag
// streams (as GoToSocial does).
func WithoutHashtagStreams() Option { return func(s *Server) { s.noHashtag = true } }

// WithStreamingTokenInQuery makes the streaming endpoint ignore the
// Authorization header and read the token only from the access_token
// query parameter or the subprotocol (as GoToSocial and Akkoma do).
func WithStreamingTokenInQuery() Option { return func(s *Server) { s.queryToken = true } }

// NewServer starts a fake server; it is closed when tb's test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	s := &Server{
		Domain:    "fake.example",
		nextID:    110000000000000000,
		accounts:  map[string]Account{},
		byID:      map[string]*Status{},
		idem:      map[string]string{},
		maxChars:  500,
		streaming: true,
		conns:     map[*wsConn]bool{},
		apps:      map[string]string{},
		scopes:    []string{"read", "write"},
	}
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	s.bot = s.AddAccount(BotUsername, AccountOptions{DisplayName: "Parley Bot", Bot: true, Followers: 12})
	tb.Cleanup(s.Close)
	return s
}

// Close drops every stream and stops the server.
func (s *Server) Close() {
	s.DropStreams()
	s.ts.Close()
}

// Bot returns the bot account (the owner of Token).
func (s *Server) Bot() Account { return s.bot }

// NextID returns a fresh id, greater than every id handed out before.
func (s *Server) NextID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newID()
}

func (s *Server) newID() string {
	s.nextID += 1 + s.nextID%7 // gaps, as snowflake ids have
	return strconv.FormatInt(s.nextID, 10)
}

// AccountOptions describe an account to add.
type AccountOptions struct {
	// Domain is the account's server; empty for a local account.
	Domain      string
	DisplayName string
	Note        string // HTML
	Fields      []Field
	Followers   int
	Bot         bool
}

// AddAccount registers an account. Local accounts have acct == username.
func (s *Server) AddAccount(username string, o AccountOptions) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, home := username, s.URL
	if o.Domain != "" {
		acct = username + "@" + o.Domain
		home = "https://" + o.Domain
	}
	a := Account{
		ID:             s.newID(),
		Username:       username,
		Acct:           acct,
		DisplayName:    o.DisplayName,
		Bot:            o.Bot,
		Discoverable:   true,
		CreatedAt:      time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC),
		Note:           o.Note,
		URL:            home + "/@" + username,
		URI:            home + "/users/" + username,
		Avatar:         s.URL + "/avatars/original/missing.png",
		AvatarStatic:   s.URL + "/avatars/original/missing.png",
		Header:         s.URL + "/headers/original/missing.png",
		HeaderStatic:   s.URL + "/headers/original/missing.png",
		FollowersCount: o.Followers,
		FollowingCount: 3,
		Emojis:         []any{},
		Fields:         o.Fields,
	}
	if a.Fields == nil {
		a.Fields = []Field{}
	}
	s.accounts[strings.ToLower(acct)] = a
	return a
}

// StatusOptions describe a status to add.
type StatusOptions struct {
	Author Account
	// Text is plain text rendered to HTML as Mastodon does (links,
	// @mentions of known accounts, #hashtags). HTML, when set, is used as
	// the content verbatim instead (Text is still what search matches).
	Text        string
	HTML        string
	SpoilerText string
	Visibility  string // default public
	InReplyToID string
	Language    string // default "en"
	// Home also streams the status as an update to the bot's user stream
	// (the bot follows the author).
	Home bool
	// NoStream keeps the status (and its notification) off every stream,
	// as if the event was lost: only a poll finds it.
	NoStream bool
}

// AddStatus stores a status as if a user posted it. When it mentions the
// bot (and is not the bot's own), a mention notification is created and
// streamed (unless NoStream). Hashtag streams get public statuses with
// their tags. It returns the status and the notification (nil if none).
func (s *Server) AddStatus(o StatusOptions) (Status, *Notification) {
	s.mu.Lock()
	st := s.newStatus(o)
	var n *Notification
	for _, m := range st.Mentions {
		if m.ID == s.bot.ID && st.Account.ID != s.bot.ID {
			n = &Notification{ID: s.newID(), Type: "mention", CreatedAt: st.CreatedAt, Account: st.Account, Status: st}
			b, _ := json.Marshal(n)
			s.notifs = append(s.notifs, notifEntry{id: n.ID, typ: n.Type, json: b})
			break
		}
	}
	conns := s.connList()
	s.mu.Unlock()

	if !o.NoStream {
		payload, _ := json.Marshal(st)
		for _, c := range conns {
			c.mu.Lock()
			streams := maps(c.streams)
			c.mu.Unlock()
			if n != nil {
				np, _ := json.Marshal(n)
				for _, name := range []string{"user", "user:notification"} {
					if streams[name] {
						_ = c.write(frame("notification", []string{name}, string(np)))
					}
				}
			}
			if o.Home && streams["user"] {
				_ = c.write(frame("update", []string{"user"}, string(payload)))
			}
			if st.Visibility == "public" {
				for _, t := range st.Tags {
					if streams["hashtag:"+t.Name] {
						_ = c.write(frame("update", []string{"hashtag", t.Name}, string(payload)))
					}
				}
			}
		}
	}
	out := *st
	if n != nil {
		nc := *n
		return out, &nc
	}
	return out, nil
}

func maps(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// AddMention adds a public status by author that mentions the bot (text
// gets "@parley " in front unless it mentions the bot already).
func (s *Server) AddMention(author Account, text string) (Status, *Notification) {
	if !strings.Contains(strings.ToLower(text), "@"+BotUsername) {
		text = "@" + BotUsername + " " + text
	}
	return s.AddStatus(StatusOptions{Author: author, Text: text})
}

// AddNotification adds a notification of another type (favourite,
// follow, reblog, ...) from account, about status (may be nil).
func (s *Server) AddNotification(typ string, from Account, status *Status) Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := Notification{ID: s.newID(), Type: typ, CreatedAt: time.Now().UTC(), Account: from, Status: status}
	b, _ := json.Marshal(n)
	s.notifs = append(s.notifs, notifEntry{id: n.ID, typ: typ, json: b})
	return n
}

// AddRawNotification adds a notification whose JSON is raw, verbatim (to
// serve malformed items); id and typ place and filter it.
func (s *Server) AddRawNotification(id, typ, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifs = append(s.notifs, notifEntry{id: id, typ: typ, json: []byte(raw)})
	slices.SortStableFunc(s.notifs, func(a, b notifEntry) int { return cmpID(a.id, b.id) })
}

// newStatus creates and stores a status; s.mu is held.
func (s *Server) newStatus(o StatusOptions) *Status {
	vis := o.Visibility
	if vis == "" {
		vis = "public"
	}
	lang := o.Language
	if lang == "" {
		lang = "en"
	}
	author := o.Author
	if author.ID == "" {
		author = s.bot
	}
	id := s.newID()
	content, mentions, tags := s.render(o.Text, s.resolve)
	if o.HTML != "" {
		content = o.HTML
	}
	u := author.URL + "/" + id
	st := &Status{
		ID:               id,
		CreatedAt:        time.Now().UTC().Truncate(time.Millisecond),
		SpoilerText:      o.SpoilerText,
		Visibility:       vis,
		Language:         &lang,
		URI:              author.URI + "/statuses/" + id,
		URL:              &u,
		Content:          content,
		Filtered:         []any{},
		Account:          author,
		MediaAttachments: []any{},
		Mentions:         mentions,
		Tags:             tags,
		Emojis:           []any{},
		text:             o.Text,
	}
	if st.Mentions == nil {
		st.Mentions = []StatusMention{}
	}
	if st.Tags == nil {
		st.Tags = []StatusTag{}
	}
	if o.InReplyToID != "" {
		if parent, ok := s.byID[o.InReplyToID]; ok {
			rid, aid := parent.ID, parent.Account.ID
			st.InReplyToID, st.InReplyToAccountID = &rid, &aid
			parent.RepliesCount++
		}
	}
	s.statuses = append(s.statuses, st)
	s.byID[id] = st
	return st
}

// resolve finds a mentioned account: user@domain, or a local user.
func (s *Server) resolve(acct string) (Account, bool) {
	acct = strings.ToLower(acct)
	if a, ok := s.accounts[acct]; ok {
		return a, true
	}
	if user, dom, ok := strings.Cut(acct, "@"); ok && dom == strings.ToLower(s.Domain) {
		a, ok := s.accounts[user]
		return a, ok
	}
	return Account{}, false
}

// Status returns a stored status by id.
func (s *Server) Status(id string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[id]
	if !ok {
		return Status{}, false
	}
	return *st, true
}

// Posts returns the statuses created through POST /api/v1/statuses, in
// order (an Idempotency-Key replay creates nothing).
func (s *Server) Posts() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.posts))
	for i, p := range s.posts {
		out[i] = *p
	}
	return out
}

// PostCount returns len(Posts()).
func (s *Server) PostCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests counts the requests whose path starts with prefix.
func (s *Server) CountRequests(method, prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// RateLimitNext makes the next n requests (any endpoint, the streaming
// handshake included) answer 429 with Retry-After: retryAfter (in whole
// seconds, rounded up).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, http.StatusTooManyRequests
	s.retryAfter = strconv.Itoa(int((retryAfter + time.Second - 1) / time.Second))
}

// FailNext makes the next n requests answer status (a 5xx, say) with a
// Mastodon error body.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// ForgetIdempotencyKeys drops the remembered Idempotency-Keys, as
// Mastodon does after an hour.
func (s *Server) ForgetIdempotencyKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idem = map[string]string{}
}

// ExhaustRateLimit makes the next answer carry X-RateLimit-Remaining: 0
// and an X-RateLimit-Reset reset from now (the answer itself succeeds).
func (s *Server) ExhaustRateLimit(reset time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exhaustNext = reset
}

// SetScopes sets the scopes of Token's application, which
// /api/v1/apps/verify_credentials lists and the API enforces (a request
// outside them answers 403, as Mastodon does). nil lists none, as servers
// before Mastodon 4.3 do, and enforces none. The default is read write.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = scopes
}

// allowed reports whether the token's scopes grant scope.
func (s *Server) allowed(scope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scopes == nil {
		return true
	}
	top, _, _ := strings.Cut(scope, ":")
	return slices.Contains(s.scopes, scope) || slices.Contains(s.scopes, top)
}

// SetStreaming turns the streaming endpoint on or off; off, handshakes
// answer 503 (existing connections stay; see DropStreams).
func (s *Server) SetStreaming(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streaming = on
}

// DropStreams closes every open stream connection abruptly.
func (s *Server) DropStreams() {
	s.mu.Lock()
	conns := s.connList()
	s.conns = map[*wsConn]bool{}
	s.mu.Unlock()
	for _, c := range conns {
		c.conn.Close()
	}
}

// SendRaw writes data as one text frame to every open stream connection.
func (s *Server) SendRaw(data string) {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.write([]byte(data))
	}
}

// ActiveStreams returns how many stream connections are open.
func (s *Server) ActiveStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// StreamHandshakes returns how many stream connections were accepted in
// all.
func (s *Server) StreamHandshakes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

func (s *Server) connList() []*wsConn {
	out := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func frame(event string, stream []string, payload string) []byte {
	b, _ := json.Marshal(map[string]any{"event": event, "stream": stream, "payload": payload})
	return b
}

// cmpID orders ids as Mastodon does: shorter first, then lexically.
func cmpID(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), At: time.Now(), IdempotencyKey: r.Header.Get("Idempotency-Key")}
	s.mu.Lock()
	failStatus := 0
	if s.failN > 0 {
		s.failN--
		failStatus = s.failStatus
	}
	retryAfter := s.retryAfter
	exhaust := s.exhaustNext
	s.exhaustNext = 0
	s.mu.Unlock()

	reset := time.Now().Add(5 * time.Minute).UTC()
	remaining := 299
	if exhaust > 0 {
		reset, remaining = time.Now().Add(exhaust).UTC(), 0
	}
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", reset.Format("2006-01-02T15:04:05.000Z"))

	status := 0
	defer func() {
		rec.Status = status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	if failStatus == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter)
		w.Header().Set("X-RateLimit-Remaining", "0")
		status = failStatus
		writeJSON(w, status, map[string]string{"error": "Too many requests"})
		return
	}
	if failStatus != 0 {
		status = failStatus
		writeJSON(w, status, map[string]string{"error": http.StatusText(failStatus)})
		return
	}
	status = s.route(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, status int, msg string) int {
	writeJSON(w, status, map[string]string{"error": msg})
	return status
}

func (s *Server) authorized(r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.queryToken && strings.HasPrefix(r.URL.Path, "/api/v1/streaming") {
		tok = ""
	}
	if tok == "" {
		tok = r.URL.Query().Get("access_token")
	}
	if tok == "" {
		tok = r.Header.Get("Sec-WebSocket-Protocol")
	}
	return tok == Token
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) int {
	p := r.URL.Path
	switch {
	case p == "/api/v1/apps" && r.Method == http.MethodPost:
		return s.handleApps(w, r)
	case p == "/oauth/authorize" && r.Method == http.MethodGet:
		return s.handleAuthorize(w, r)
	case p == "/oauth/token" && r.Method == http.MethodPost:
		return s.handleToken(w, r)
	case p == "/api/v1/instance" && r.Method == http.MethodGet:
		return s.handleInstanceV1(w)
	case p == "/api/v2/instance" && r.Method == http.MethodGet:
		if s.noV2 {
			return apiErr(w, http.StatusNotFound, "Record not found")
		}
		return s.handleInstanceV2(w)
	}
	if !s.authorized(r) {
		return apiErr(w, http.StatusUnauthorized, "The access token is invalid")
	}
	if need := scopeFor(r.Method, p); need != "" && !s.allowed(need) {
		return apiErr(w, http.StatusForbidden, "This action is outside the authorized scopes")
	}
	switch {
	case p == "/api/v1/apps/verify_credentials" && r.Method == http.MethodGet:
		return s.handleAppCredentials(w)
	case p == "/api/v1/streaming" || p == "/api/v1/streaming/":
		return s.handleStreaming(w, r)
	case p == "/api/v1/accounts/verify_credentials" && r.Method == http.MethodGet:
		var ca credentialAccount
		ca.Account = s.bot
		ca.Source.Privacy, ca.Source.Language, ca.Source.Fields = "public", "en", []Field{}
		writeJSON(w, http.StatusOK, ca)
		return http.StatusOK
	case strings.HasPrefix(p, "/api/v1/accounts/") && strings.HasSuffix(p, "/statuses") && r.Method == http.MethodGet:
		return s.handleAccountStatuses(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/accounts/"), "/statuses"))
	case p == "/api/v1/notifications" && r.Method == http.MethodGet:
		return s.handleNotifications(w, r)
	case strings.HasPrefix(p, "/api/v1/timelines/tag/") && r.Method == http.MethodGet:
		return s.handleTag(w, r, strings.TrimPrefix(p, "/api/v1/timelines/tag/"))
	case p == "/api/v2/search" && r.Method == http.MethodGet:
		return s.handleSearch(w, r)
	case p == "/api/v1/statuses" && r.Method == http.MethodPost:
		return s.handlePost(w, r)
	case strings.HasPrefix(p, "/api/v1/statuses/") && r.Method == http.MethodGet:
		rest := strings.TrimPrefix(p, "/api/v1/statuses/")
		if id, ok := strings.CutSuffix(rest, "/context"); ok {
			return s.handleContext(w, id)
		}
		s.mu.Lock()
		st, ok := s.byID[rest]
		var c Status
		if ok {
			c = *st
		}
		s.mu.Unlock()
		if !ok {
			return apiErr(w, http.StatusNotFound, "Record not found")
		}
		writeJSON(w, http.StatusOK, c)
		return http.StatusOK
	}
	return apiErr(w, http.StatusNotFound, "Not found")
}

// pageParams are the paging parameters of a list request.
type pageParams struct {
	maxID, sinceID, minID string
	limit, offset         int
}

func readPage(q url.Values, def, most int) pageParams {
	p := pageParams{maxID: q.Get("max_id"), sinceID: q.Get("since_id"), minID: q.Get("min_id"), limit: def}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		p.limit = min(n, most)
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		p.offset = n
	}
	return p
}

// selectPage picks from ids (ascending) the indexes of one page, newest
// first, as Mastodon does: with min_id the page right after it, else the
// newest ones (below max_id, above since_id).
func selectPage(ids []string, p pageParams) []int {
	var cand []int
	for i, id := range ids {
		if p.maxID != "" && cmpID(id, p.maxID) >= 0 {
			continue
		}
		if p.sinceID != "" && cmpID(id, p.sinceID) <= 0 {
			continue
		}
		if p.minID != "" && cmpID(id, p.minID) <= 0 {
			continue
		}
		cand = append(cand, i)
	}
	var page []int
	if p.minID != "" {
		// oldest first from min_id, then reversed
		lo := min(p.offset, len(cand))
		hi := min(lo+p.limit, len(cand))
		page = slices.Clone(cand[lo:hi])
		slices.Reverse(page)
	} else {
		slices.Reverse(cand)
		lo := min(p.offset, len(cand))
		hi := min(lo+p.limit, len(cand))
		page = cand[lo:hi]
	}
	return page
}

// link writes the Link header of a page (ids newest first).
func (s *Server) link(w http.ResponseWriter, r *http.Request, newest, oldest string) {
	mk := func(k, v string) string {
		q := url.Values{}
		if l := r.URL.Query().Get("limit"); l != "" {
			q.Set("limit", l)
		}
		for _, k2 := range []string{"types[]", "exclude_types[]"} {
			for _, v2 := range r.URL.Query()[k2] {
				q.Add(k2, v2)
			}
		}
		q.Set(k, v)
		return s.URL + r.URL.Path + "?" + q.Encode()
	}
	w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="prev"`, mk("max_id", oldest), mk("min_id", newest)))
}

func (s *Server) handleNotifications(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	types := q["types[]"]
	excl := q["exclude_types[]"]
	s.mu.Lock()
	var entries []notifEntry
	for _, n := range s.notifs {
		if len(types) > 0 && !slices.Contains(types, n.typ) {
			continue
		}
		if slices.Contains(excl, n.typ) {
			continue
		}
		entries = append(entries, n)
	}
	s.mu.Unlock()
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	page := selectPage(ids, readPage(q, 40, 80))
	items := make([]json.RawMessage, 0, len(page))
	for _, i := range page {
		items = append(items, entries[i].json)
	}
	if len(page) > 0 {
		s.link(w, r, ids[page[0]], ids[page[len(page)-1]])
	}
	writeJSON(w, http.StatusOK, items)
	return http.StatusOK
}

func (s *Server) handleTag(w http.ResponseWriter, r *http.Request, tag string) int {
	tag, _ = url.PathUnescape(tag)
	tag = strings.ToLower(tag)
	s.mu.Lock()
	var sts []Status
	for _, st := range s.statuses {
		if st.Visibility != "public" {
			continue
		}
		for _, t := range st.Tags {
			if t.Name == tag {
				sts = append(sts, *st)
				break
			}
		}
	}
	s.mu.Unlock()
	return s.writeStatuses(w, r, sts, true)
}

// handleAccountStatuses lists an account's statuses, newest first. As on
// Mastodon, the account itself (the bot's token) also sees its direct
// messages; others see public and unlisted ones.
func (s *Server) handleAccountStatuses(w http.ResponseWriter, r *http.Request, id string) int {
	s.mu.Lock()
	var sts []Status
	for _, st := range s.statuses {
		if st.Account.ID != id {
			continue
		}
		if id != s.bot.ID && st.Visibility != "public" && st.Visibility != "unlisted" {
			continue
		}
		sts = append(sts, *st)
	}
	s.mu.Unlock()
	return s.writeStatuses(w, r, sts, true)
}

func (s *Server) writeStatuses(w http.ResponseWriter, r *http.Request, sts []Status, withLink bool) int {
	ids := make([]string, len(sts))
	for i, st := range sts {
		ids[i] = st.ID
	}
	page := selectPage(ids, readPage(r.URL.Query(), 20, 40))
	out := make([]Status, 0, len(page))
	for _, i := range page {
		out = append(out, sts[i])
	}
	if withLink && len(page) > 0 {
		s.link(w, r, ids[page[0]], ids[page[len(page)-1]])
	}
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	term := strings.ToLower(strings.TrimSpace(q.Get("q")))
	typ := q.Get("type")
	res := map[string]any{"accounts": []any{}, "statuses": []Status{}, "hashtags": []any{}}
	if term != "" && (typ == "" || typ == "statuses") {
		s.mu.Lock()
		var sts []Status
		for _, st := range s.statuses {
			if st.Visibility == "public" && strings.Contains(strings.ToLower(st.text), term) {
				sts = append(sts, *st)
			}
		}
		s.mu.Unlock()
		ids := make([]string, len(sts))
		for i, st := range sts {
			ids[i] = st.ID
		}
		page := selectPage(ids, readPage(q, 20, 40))
		out := make([]Status, 0, len(page))
		for _, i := range page {
			out = append(out, sts[i])
		}
		res["statuses"] = out
	}
	writeJSON(w, http.StatusOK, res)
	return http.StatusOK
}

func (s *Server) handleContext(w http.ResponseWriter, id string) int {
	s.mu.Lock()
	st, ok := s.byID[id]
	anc, desc := []Status{}, []Status{}
	if ok {
		for cur := st; cur.InReplyToID != nil; {
			parent, ok := s.byID[*cur.InReplyToID]
			if !ok {
				break
			}
			anc = append([]Status{*parent}, anc...)
			cur = parent
		}
		inThread := map[string]bool{id: true}
		for _, c := range s.statuses {
			if c.InReplyToID != nil && inThread[*c.InReplyToID] {
				inThread[c.ID] = true
				desc = append(desc, *c)
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return apiErr(w, http.StatusNotFound, "Record not found")
	}
	writeJSON(w, http.StatusOK, map[string][]Status{"ancestors": anc, "descendants": desc})
	return http.StatusOK
}

// postForm reads a status form: urlencoded (go-mastodon) or JSON.
func postForm(r *http.Request) (url.Values, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			switch x := x.(type) {
			case string:
				v.Set(k, x)
			case nil:
			default:
				v.Set(k, fmt.Sprint(x))
			}
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) int {
	form, err := postForm(r)
	if err != nil {
		return apiErr(w, http.StatusBadRequest, "Invalid request body")
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	if key != "" {
		if id, ok := s.idem[key]; ok {
			st := *s.byID[id]
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, st)
			return http.StatusOK
		}
	}
	maxChars := s.maxChars
	s.mu.Unlock()

	text := form.Get("status")
	vis := form.Get("visibility")
	if vis == "" {
		vis = "public"
	}
	switch {
	case strings.TrimSpace(text) == "":
		return apiErr(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
	case !slices.Contains([]string{"public", "unlisted", "private", "direct"}, vis):
		return apiErr(w, http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
	case countChars(text) > maxChars:
		return apiErr(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", maxChars))
	}
	reply := form.Get("in_reply_to_id")
	s.mu.Lock()
	if reply != "" {
		if _, ok := s.byID[reply]; !ok {
			s.mu.Unlock()
			return apiErr(w, http.StatusNotFound, "Record not found")
		}
	}
	if id, ok := s.idem[key]; key != "" && ok { // a concurrent twin won
		st := *s.byID[id]
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, st)
		return http.StatusOK
	}
	st := s.newStatus(StatusOptions{Author: s.bot, Text: text, Visibility: vis, InReplyToID: reply, Language: form.Get("language"), SpoilerText: form.Get("spoiler_text")})
	st.Application = &Application{Name: "Parley"}
	if key != "" {
		s.idem[key] = st.ID
	}
	s.posts = append(s.posts, st)
	c := *st
	conns := s.connList()
	s.mu.Unlock()
	// The author's own post appears in their home stream.
	payload, _ := json.Marshal(c)
	for _, wc := range conns {
		wc.mu.Lock()
		home := wc.streams["user"]
		wc.mu.Unlock()
		if home {
			_ = wc.write(frame("update", []string{"user"}, string(payload)))
		}
	}
	writeJSON(w, http.StatusOK, c)
	return http.StatusOK
}

// countChars approximates Mastodon's length count: runes, URLs as 23.
func countChars(text string) int {
	n := 0
	for _, f := range strings.SplitAfter(text, " ") {
		w := strings.TrimSpace(f)
		if strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://") {
			n += 23 + len([]rune(f)) - len([]rune(w))
			continue
		}
		n += len([]rune(f))
	}
	return n
}

func (s *Server) instanceStreamingURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http")
}

func (s *Server) handleInstanceV2(w http.ResponseWriter) int {
	s.mu.Lock()
	maxChars := s.maxChars
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"domain":      s.Domain,
		"title":       "Fake Mastodon",
		"version":     "4.3.2",
		"source_url":  "https://github.com/mastodon/mastodon",
		"description": "A fake server for tests.",
		"usage":       map[string]any{"users": map[string]any{"active_month": 3}},
		"thumbnail":   map[string]any{"url": s.URL + "/packs/media/images/preview.png"},
		"languages":   []string{"en"},
		"configuration": map[string]any{
			"urls":     map[string]any{"streaming": s.instanceStreamingURL(), "status": nil},
			"accounts": map[string]any{"max_featured_tags": 10, "max_pinned_statuses": 5},
			"statuses": map[string]any{"max_characters": maxChars, "max_media_attachments": 4, "characters_reserved_per_url": 23},
			"media_attachments": map[string]any{
				"supported_mime_types": []string{"image/jpeg", "image/png"},
				"image_size_limit":     16777216,
			},
			"polls":       map[string]any{"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
			"translation": map[string]any{"enabled": false},
		},
		"registrations": map[string]any{"enabled": false, "approval_required": false, "message": nil},
		"contact":       map[string]any{"email": "admin@" + s.Domain, "account": nil},
		"rules":         []any{},
	})
	return http.StatusOK
}

func (s *Server) handleInstanceV1(w http.ResponseWriter) int {
	s.mu.Lock()
	maxChars, noV2 := s.maxChars, s.noV2
	s.mu.Unlock()
	v := map[string]any{
		"uri":               s.Domain,
		"title":             "Fake Mastodon",
		"short_description": "A fake server for tests.",
		"description":       "",
		"email":             "admin@" + s.Domain,
		"version":           "4.3.2",
		"urls":              map[string]any{"streaming_api": s.instanceStreamingURL()},
		"stats":             map[string]any{"user_count": 3, "status_count": 10, "domain_count": 2},
		"thumbnail":         s.URL + "/packs/media/images/preview.png",
		"languages":         []string{"en"},
		"registrations":     false,
		"approval_required": false,
		"invites_enabled":   false,
		"contact_account":   nil,
		"rules":             []any{},
	}
	if noV2 {
		v["uri"] = "https://" + s.Domain
		v["max_toot_chars"] = maxChars
		v["version"] = "2.7.2 (compatible; Akkoma 3.13.2)"
	} else {
		v["configuration"] = map[string]any{
			"statuses": map[string]any{"max_characters": maxChars, "max_media_attachments": 4, "characters_reserved_per_url": 23},
		}
	}
	writeJSON(w, http.StatusOK, v)
	return http.StatusOK
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) handleStreaming(w http.ResponseWriter, r *http.Request) int {
	s.mu.Lock()
	on, noHashtag := s.streaming, s.noHashtag
	s.mu.Unlock()
	if !on {
		return apiErr(w, http.StatusServiceUnavailable, "Streaming is unavailable")
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return apiErr(w, http.StatusBadRequest, "Expected a websocket upgrade")
	}
	q := r.URL.Query()
	stream := q.Get("stream")
	name, err := streamName(stream, q.Get("tag"), noHashtag)
	if err != "" {
		return apiErr(w, http.StatusBadRequest, err)
	}
	var hdr http.Header
	if p := r.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		hdr = http.Header{"Sec-WebSocket-Protocol": {p}}
	}
	// Subscribed before the client sees the handshake's answer, so an
	// event added once the client is connected is never missed.
	s.mu.Lock()
	conn, uerr := upgrader.Upgrade(w, r, hdr)
	if uerr != nil {
		s.mu.Unlock()
		return http.StatusBadRequest
	}
	c := &wsConn{conn: conn, streams: map[string]bool{}}
	if name != "" {
		c.streams[name] = true
	}
	s.conns[c] = true
	s.accepted++
	s.mu.Unlock()
	go s.readLoop(c, noHashtag)
	return http.StatusSwitchingProtocols
}

// streamName maps a stream request to a subscription key.
func streamName(stream, tag string, noHashtag bool) (string, string) {
	switch stream {
	case "":
		return "", ""
	case "user", "user:notification":
		return stream, ""
	case "hashtag":
		if noHashtag {
			return "", "Unknown stream type"
		}
		if tag == "" {
			return "", "No tag for stream provided"
		}
		return "hashtag:" + strings.ToLower(tag), ""
	}
	return "", "Unknown stream type"
}

// readLoop answers pings (gorilla does while reading), handles subscribe
// and unsubscribe messages, and forgets the connection when it ends.
func (s *Server) readLoop(c *wsConn, noHashtag bool) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.conn.Close()
	}()
	c.conn.SetPingHandler(func(data string) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Type   string `json:"type"`
			Stream string `json:"stream"`
			Tag    string `json:"tag"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		name, e := streamName(m.Stream, m.Tag, noHashtag)
		if e != "" {
			b, _ := json.Marshal(map[string]any{"error": e, "status": 400})
			_ = c.write(b)
			continue
		}
		c.mu.Lock()
		switch m.Type {
		case "subscribe":
			c.streams[name] = true
		case "unsubscribe":
			delete(c.streams, name)
		}
		c.mu.Unlock()
	}
}

func (s *Server) handleApps(w http.ResponseWriter, r *http.Request) int {
	form, err := postForm(r)
	if err != nil || form.Get("client_name") == "" || form.Get("redirect_uris") == "" {
		return apiErr(w, http.StatusUnprocessableEntity, "Validation failed: Application name can't be blank, Redirect URI can't be blank")
	}
	s.mu.Lock()
	id := "client-" + s.newID()
	secret := "secret-" + s.newID()
	s.apps[id] = secret
	s.mu.Unlock()
	uris := strings.Fields(form.Get("redirect_uris"))
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            "1",
		"name":          form.Get("client_name"),
		"website":       form.Get("website"),
		"scopes":        strings.Fields(form.Get("scopes")),
		"redirect_uri":  form.Get("redirect_uris"),
		"redirect_uris": uris,
		"client_id":     id,
		"client_secret": secret,
		"vapid_key":     "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
	})
	return http.StatusOK
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	s.mu.Lock()
	_, ok := s.apps[q.Get("client_id")]
	s.mu.Unlock()
	if !ok || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		return apiErr(w, http.StatusBadRequest, "invalid_request")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<!DOCTYPE html><html><body><p>Copy this authorization code and paste it to the application.</p><input class="oauth-code" readonly type="text" value="%s"></body></html>`, AuthCode)
	return http.StatusOK
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) int {
	form, err := postForm(r)
	if err != nil {
		return apiErr(w, http.StatusBadRequest, "invalid_request")
	}
	s.mu.Lock()
	secret, ok := s.apps[form.Get("client_id")]
	s.mu.Unlock()
	if !ok || secret != form.Get("client_secret") {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})
		return http.StatusUnauthorized
	}
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != AuthCode || form.Get("redirect_uri") != "urn:ietf:wg:oauth:2.0:oob" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."})
		return http.StatusBadRequest
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": Token, "token_type": "Bearer", "scope": "read write", "created_at": time.Now().Unix()})
	return http.StatusOK
}

// scopeFor is the scope Mastodon requires for a request ("" for none
// checked here).
func scopeFor(method, path string) string {
	switch {
	case method == http.MethodPost && path == "/api/v1/statuses":
		return "write:statuses"
	case path == "/api/v1/notifications":
		return "read:notifications"
	case path == "/api/v1/accounts/verify_credentials":
		return "read:accounts"
	case path == "/api/v2/search":
		return "read:search"
	case strings.HasPrefix(path, "/api/v1/streaming"):
		return "read:statuses"
	}
	return ""
}

// handleAppCredentials answers GET /api/v1/apps/verify_credentials: the
// token's application, with its scopes when the server lists them.
func (s *Server) handleAppCredentials(w http.ResponseWriter) int {
	s.mu.Lock()
	scopes := s.scopes
	s.mu.Unlock()
	app := map[string]any{"name": "Parley", "website": nil,
		"vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="}
	if scopes != nil {
		app["scopes"] = scopes
		app["redirect_uris"] = []string{"urn:ietf:wg:oauth:2.0:oob"}
	}
	writeJSON(w, http.StatusOK, app)
	return http.StatusOK
}
