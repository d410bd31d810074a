// Package discordtest is a fake Discord for tests: one httptest server that
// speaks the gateway over a websocket (HELLO, IDENTIFY, READY,
// heartbeats, RESUME with replay, dispatches with sequence numbers,
// INTERACTION_CREATE) and the REST routes Parley's connector uses (gateway
// discovery, channels, message history, messages with nonce dedupe, DM
// channels, interaction callbacks and webhook follow-ups). Payloads are
// built from discordgo's own structs, so their shapes match what discordgo
// expects.
//
// Create one Server per test (New registers its Close with t.Cleanup); it
// keeps no global state, so tests can run in parallel. Point the connector
// at it with api_url = Server.URL.
package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// discordEpoch is the first millisecond of 2015, where snowflakes start.
const discordEpoch = 1420070400000

// Server is a fake Discord. Its exported fields may be changed before the
// client connects.
type Server struct {
	// URL is the base URL to use as api_url (http://127.0.0.1:port).
	URL string
	// Token is the bot token the fake accepts (without "Bot ").
	Token string
	// Bot is the bot's user.
	Bot *discordgo.User
	// AppID is the bot's application id.
	AppID string
	// AppFlags are the application flags sent in READY (default: the
	// message content intent enabled, 1<<19).
	AppFlags int
	// HeartbeatInterval is sent in HELLO (default 1s).
	HeartbeatInterval time.Duration
	// NonceWindow is how long a nonce with enforce_nonce returns the
	// message first created with it (default 5m).
	NonceWindow time.Duration

	tb  testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	lastID     uint64
	guilds     map[string]*discordgo.Guild
	guildOrder []string
	botRoles   map[string][]string
	channels   map[string]*discordgo.Channel
	history    map[string][]*stored // channel → messages, oldest first
	byID       map[string]*stored
	nonces     map[string]nonceEntry
	dms        map[string]string // user → DM channel
	inters     map[string]*Interaction
	posted     []*discordgo.Message
	requests   []string

	sessions   map[string]*session
	conns      map[*conn]bool
	identifies int
	resumes    int
	intents    discordgo.Intent
	disallowed discordgo.Intent
	heartbeats int

	rateLimitNext  int
	rateLimitAfter time.Duration
	rateLimited    int
	failNext       int
	failStatus     int
}

type stored struct {
	msg        *discordgo.Message
	components []discordgo.MessageComponent
	nonce      string
}

type nonceEntry struct {
	id string
	at time.Time
}

// New starts a fake Discord for one test and stops it when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{
		Token:             "test-token",
		Bot:               &discordgo.User{ID: "", Username: "parleybot", GlobalName: "Parley", Bot: true, Discriminator: "0"},
		AppFlags:          1 << 19,
		HeartbeatInterval: time.Second,
		NonceWindow:       5 * time.Minute,
		tb:                tb,
		guilds:            map[string]*discordgo.Guild{},
		botRoles:          map[string][]string{},
		channels:          map[string]*discordgo.Channel{},
		history:           map[string][]*stored{},
		byID:              map[string]*stored{},
		nonces:            map[string]nonceEntry{},
		dms:               map[string]string{},
		inters:            map[string]*Interaction{},
		sessions:          map[string]*session{},
		conns:             map[*conn]bool{},
	}
	s.Bot.ID = s.NewID()
	s.AppID = s.Bot.ID
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway/", s.serveGateway)
	mux.HandleFunc("GET /gateway", s.serveGateway)
	mux.HandleFunc("GET /api/v9/gateway", s.getGateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", s.getGateway)
	mux.HandleFunc("GET /api/v9/channels/{channel}", s.auth(s.getChannel))
	mux.HandleFunc("GET /api/v9/channels/{channel}/messages", s.auth(s.getMessages))
	mux.HandleFunc("GET /api/v9/channels/{channel}/messages/{message}", s.auth(s.getMessage))
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", s.auth(s.postMessage))
	mux.HandleFunc("PATCH /api/v9/channels/{channel}/messages/{message}", s.auth(s.patchMessage))
	mux.HandleFunc("POST /api/v9/users/@me/channels", s.auth(s.postDM))
	mux.HandleFunc("GET /api/v9/users/@me", s.auth(s.getMe))
	mux.HandleFunc("GET /api/v9/users/@me/guilds", s.auth(s.getMyGuilds))
	mux.HandleFunc("GET /api/v9/guilds/{guild}", s.auth(s.getGuild))
	mux.HandleFunc("GET /api/v9/guilds/{guild}/members/{user}", s.auth(s.getMember))
	mux.HandleFunc("GET /api/v9/applications/@me", s.auth(s.getApplication))
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", s.limited(s.interactionCallback))
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", s.limited(s.webhookExecute))
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{message}", s.limited(s.webhookEdit))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.note(r)
		writeError(w, http.StatusNotFound, 0, "404: Not Found ("+r.Method+" "+r.URL.Path+" is not faked)")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close drops every gateway connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	for c := range s.conns {
		c.ws.Close()
	}
	s.mu.Unlock()
	s.srv.Close()
}

// NewID returns a fresh snowflake for now, larger than every earlier one.
func (s *Server) NewID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

func (s *Server) newIDLocked() string {
	id := uint64(time.Now().UnixMilli()-discordEpoch) << 22 //nolint:gosec // G115: the clock is past 2015
	if id <= s.lastID {
		id = s.lastID + 1
	}
	s.lastID = id
	return strconv.FormatUint(id, 10)
}

// AddGuild adds a server (its Roles are kept; channels are added with
// AddChannel).
func (s *Server) AddGuild(g *discordgo.Guild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.guilds[g.ID]; !ok {
		s.guildOrder = append(s.guildOrder, g.ID)
	}
	s.guilds[g.ID] = g
}

// SetBotRoles gives the bot roles in a guild (sent in GUILD_CREATE).
func (s *Server) SetBotRoles(guildID string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botRoles[guildID] = roles
}

// AddChannel adds a channel or thread. A thread added while the bot is
// connected is announced with THREAD_CREATE only when announce is true
// (else the client has to look it up with GET /channels/{id}).
func (s *Server) AddChannel(ch *discordgo.Channel, announce bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[ch.ID] = ch
	if announce && ch.IsThread() {
		s.dispatchLocked("THREAD_CREATE", discordgo.ThreadCreate{Channel: ch, NewlyCreated: true})
	}
}

// InjectMessage stores m in its channel's history and dispatches
// MESSAGE_CREATE to the bot (queued for replay when it is disconnected). It
// fills ID, GuildID, Timestamp and Type when they are empty and returns
// the stored message.
func (s *Server) InjectMessage(m *discordgo.Message) *discordgo.Message {
	return s.inject(m, true)
}

// StoreMessage stores m in its channel's history without telling the
// gateway, as if it was written while the bot was not running.
func (s *Server) StoreMessage(m *discordgo.Message) *discordgo.Message {
	return s.inject(m, false)
}

func (s *Server) inject(m *discordgo.Message, dispatch bool) *discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.ChannelID == "" {
		s.tb.Fatalf("discordtest: message without ChannelID")
	}
	if m.ID == "" {
		m.ID = s.newIDLocked()
	}
	if ch, ok := s.channels[m.ChannelID]; ok && m.GuildID == "" {
		m.GuildID = ch.GuildID
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now().UTC().Truncate(time.Millisecond)
	}
	if m.MessageReference != nil && m.Type == discordgo.MessageTypeDefault {
		m.Type = discordgo.MessageTypeReply
	}
	st := &stored{msg: m}
	s.storeLocked(st)
	if dispatch {
		s.dispatchMessageLocked(st)
	}
	return clone(m)
}

func (s *Server) storeLocked(st *stored) {
	h := s.history[st.msg.ChannelID]
	h = append(h, st)
	slices.SortFunc(h, func(a, b *stored) int { return cmpID(a.msg.ID, b.msg.ID) })
	s.history[st.msg.ChannelID] = h
	s.byID[st.msg.ID] = st
}

func cmpID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// Messages returns the messages of a channel, oldest first (copies).
func (s *Server) Messages(channelID string) []*discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*discordgo.Message
	for _, st := range s.history[channelID] {
		out = append(out, clone(st.msg))
	}
	return out
}

// Message returns one message with its components, or nil.
func (s *Server) Message(id string) *discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[id]
	if !ok {
		return nil
	}
	m := clone(st.msg)
	m.Components = st.components
	return m
}

// Posted returns the messages the bot created through REST, in order,
// with their components.
func (s *Server) Posted() []*discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*discordgo.Message, 0, len(s.posted))
	for _, m := range s.posted {
		c := clone(m)
		c.Components = s.byID[m.ID].components
		out = append(out, c)
	}
	return out
}

// Nonce returns the nonce a message was created with.
func (s *Server) Nonce(messageID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.byID[messageID]; ok {
		return st.nonce
	}
	return ""
}

// DMChannel returns the DM channel opened with a user, or "".
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dms[userID]
}

// Requests returns "METHOD /path" of every REST request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RateLimitNext makes the next n REST requests (gateway discovery
// excepted) answer 429 with retry_after d.
func (s *Server) RateLimitNext(n int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimitNext, s.rateLimitAfter = n, d
}

// RateLimited returns how many 429 answers were served.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// FailNext makes the next n REST requests (gateway discovery excepted)
// answer with the HTTP status given, without acting.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failStatus = n, status
}

// DisallowIntents makes IDENTIFY with any of these intents fail with close
// code 4014, as Discord does for privileged intents not enabled for the
// application. Without the message content intent, REST history also
// comes without content (except DMs and messages mentioning the bot).
func (s *Server) DisallowIntents(i discordgo.Intent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disallowed = i
}

// Identifies and Resumes count IDENTIFY (op 2) and RESUME (op 6) packets
// accepted; Intents returns the intents of the last IDENTIFY.
func (s *Server) Identifies() int { s.mu.Lock(); defer s.mu.Unlock(); return s.identifies }

// Resumes counts the RESUME packets accepted.
func (s *Server) Resumes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.resumes }

// Intents returns the intents of the last accepted IDENTIFY.
func (s *Server) Intents() discordgo.Intent { s.mu.Lock(); defer s.mu.Unlock(); return s.intents }

// Heartbeats counts heartbeats (op 1) received.
func (s *Server) Heartbeats() int { s.mu.Lock(); defer s.mu.Unlock(); return s.heartbeats }

// Connected reports whether a gateway connection is open and identified
// or resumed.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.conn != nil {
			return true
		}
	}
	return false
}

// DropGateway cuts every gateway connection without a close frame, as a
// network failure would. Sessions stay resumable: dispatches made until
// the client resumes are replayed then.
func (s *Server) DropGateway() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.ws.UnderlyingConn().Close() // dropped on purpose, like a network failure
		delete(s.conns, c)
	}
	for _, ss := range s.sessions {
		ss.conn = nil
	}
}

func clone(m *discordgo.Message) *discordgo.Message {
	c := *m
	return &c
}

// ---- REST plumbing ----

func (s *Server) note(r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
}

// resetAt is X-RateLimit-Reset for a bucket that refills after d: Unix
// seconds, with milliseconds.
func resetAt(d time.Duration) string {
	return strconv.FormatFloat(float64(time.Now().Add(d).UnixMilli())/1000, 'f', 3, 64)
}

// limited applies the injected 429s and failures.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.note(r)
		s.mu.Lock()
		if s.rateLimitNext > 0 {
			s.rateLimitNext--
			s.rateLimited++
			after := s.rateLimitAfter
			s.mu.Unlock()
			secs := strconv.FormatFloat(after.Seconds(), 'f', 3, 64)
			w.Header().Set("Retry-After", secs)
			w.Header().Set("X-RateLimit-Limit", "5")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset-After", secs)
			w.Header().Set("X-RateLimit-Reset", resetAt(after))
			w.Header().Set("X-RateLimit-Bucket", "fake")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"message": "You are being rate limited.", "retry_after": after.Seconds(), "global": false,
			})
			return
		}
		if s.failNext > 0 {
			s.failNext--
			status := s.failStatus
			s.mu.Unlock()
			writeError(w, status, 0, http.StatusText(status))
			return
		}
		s.mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "4")
		w.Header().Set("X-RateLimit-Reset-After", "1.000")
		w.Header().Set("X-RateLimit-Reset", resetAt(time.Second))
		h(w, r)
	}
}

// auth checks the bot token, then applies limited.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+s.Token {
			s.note(r)
			writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		s.limited(h)(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, discordgo.APIErrorMessage{Code: code, Message: msg})
}

// wireMessage adds what discordgo.Message leaves out of its JSON.
type wireMessage struct {
	*discordgo.Message
	Components []discordgo.MessageComponent `json:"components"`
	Nonce      string                       `json:"nonce,omitempty"`
}

func wire(st *stored) wireMessage {
	comps := st.components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	return wireMessage{Message: st.msg, Components: comps, Nonce: st.nonce}
}

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	s.note(r)
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway"
	writeJSON(w, http.StatusOK, discordgo.GatewayBotResponse{URL: u, Shards: 1,
		SessionStartLimit: discordgo.SessionInformation{Total: 1000, Remaining: 1000, MaxConcurrency: 1}})
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ch, ok := s.channels[r.PathValue("channel")]
	visible := ok && s.botSeesLocked(ch)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	if !visible {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	writeJSON(w, http.StatusOK, ch)
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[r.PathValue("message")]
	if !ok || st.msg.ChannelID != r.PathValue("channel") {
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	m := wire(st)
	if s.hidesContentLocked(st.msg) {
		c := clone(st.msg)
		c.Content, c.Embeds, c.Attachments = "", nil, nil
		m.Message = c
	}
	writeJSON(w, http.StatusOK, m)
}

// hidesContentLocked tells whether Discord would send m without its
// content: the application lacks the message content intent (see
// DisallowIntents), and m is a guild message neither by nor mentioning
// the bot.
func (s *Server) hidesContentLocked(m *discordgo.Message) bool {
	if s.disallowed&discordgo.IntentsMessageContent == 0 {
		return false
	}
	ch := s.channels[m.ChannelID]
	guild := m.GuildID != "" || (ch != nil && ch.GuildID != "")
	return guild && !mentions(m, s.Bot.ID) && (m.Author == nil || m.Author.ID != s.Bot.ID)
}

// getMessages answers GET /channels/{id}/messages like Discord: newest
// first; with after, the limit messages just after it.
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chID := r.PathValue("channel")
	if _, ok := s.channels[chID]; !ok {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body (limit)")
			return
		}
		limit = n
	}
	var sel []*stored
	h := s.history[chID]
	if after := q.Get("after"); after != "" {
		for _, st := range h {
			if cmpID(st.msg.ID, after) > 0 {
				sel = append(sel, st)
				if len(sel) == limit {
					break
				}
			}
		}
	} else {
		before := q.Get("before")
		for i := len(h) - 1; i >= 0 && len(sel) < limit; i-- {
			if before == "" || cmpID(h[i].msg.ID, before) < 0 {
				sel = append([]*stored{h[i]}, sel...)
			}
		}
	}
	out := make([]wireMessage, 0, len(sel))
	for i := len(sel) - 1; i >= 0; i-- {
		// History messages carry no guild_id (as on Discord).
		m := clone(sel[i].msg)
		if s.hidesContentLocked(m) {
			m.Content, m.Embeds, m.Attachments = "", nil, nil
		}
		m.GuildID = ""
		out = append(out, wireMessage{Message: m, Components: sel[i].components, Nonce: sel[i].nonce})
	}
	writeJSON(w, http.StatusOK, out)
}

// messageBody is what the bot POSTs or PATCHes for a message.
type messageBody struct {
	Content          *string                           `json:"content"`
	Embeds           *[]*discordgo.MessageEmbed        `json:"embeds"`
	Components       *[]json.RawMessage                `json:"components"`
	MessageReference *discordgo.MessageReference       `json:"message_reference"`
	AllowedMentions  *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Nonce            json.RawMessage                   `json:"nonce"`
	EnforceNonce     bool                              `json:"enforce_nonce"`
	Flags            discordgo.MessageFlags            `json:"flags"`
}

func decodeComponents(raw []json.RawMessage) ([]discordgo.MessageComponent, error) {
	out := make([]discordgo.MessageComponent, 0, len(raw))
	for _, r := range raw {
		c, err := discordgo.MessageComponentFromJSON(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (b messageBody) nonce() string {
	if len(b.Nonce) == 0 || string(b.Nonce) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(b.Nonce, &s) == nil {
		return s
	}
	return string(b.Nonce) // an integer nonce
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chID := r.PathValue("channel")
	ch, ok := s.channels[chID]
	if !ok {
		writeError(w, http.StatusNotFound, 10003, "Unknown Channel")
		return
	}
	content := ""
	if body.Content != nil {
		content = *body.Content
	}
	var embeds []*discordgo.MessageEmbed
	if body.Embeds != nil {
		embeds = *body.Embeds
	}
	if strings.TrimSpace(content) == "" && len(embeds) == 0 {
		writeError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	}
	if len([]rune(content)) > 2000 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body",
			"errors": map[string]any{"content": map[string]any{"_errors": []map[string]string{{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}}}}})
		return
	}
	nonce := body.nonce()
	if len(nonce) > 25 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body",
			"errors": map[string]any{"nonce": map[string]any{"_errors": []map[string]string{{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}}}}})
		return
	}
	if nonce != "" && body.EnforceNonce {
		if e, ok := s.nonces[nonce]; ok && time.Since(e.at) < s.NonceWindow {
			writeJSON(w, http.StatusOK, wire(s.byID[e.id]))
			return
		}
	}
	m := &discordgo.Message{
		ID:        s.newIDLocked(),
		ChannelID: chID,
		GuildID:   ch.GuildID,
		Content:   content,
		Embeds:    embeds,
		Timestamp: time.Now().UTC().Truncate(time.Millisecond),
		Author:    s.Bot,
		Type:      discordgo.MessageTypeDefault,
	}
	if ref := body.MessageReference; ref != nil {
		target, ok := s.byID[ref.MessageID]
		if !ok || target.msg.ChannelID != chID {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body",
				"errors": map[string]any{"message_reference": map[string]any{"_errors": []map[string]string{{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}}}}})
			return
		}
		m.Type = discordgo.MessageTypeReply
		m.MessageReference = &discordgo.MessageReference{MessageID: ref.MessageID, ChannelID: chID, GuildID: ch.GuildID}
		m.ReferencedMessage = clone(target.msg)
	}
	st := &stored{msg: m, nonce: nonce}
	if body.Components != nil {
		comps, err := decodeComponents(*body.Components)
		if err != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body (components: "+err.Error()+")")
			return
		}
		st.components = comps
	}
	s.storeLocked(st)
	if nonce != "" && body.EnforceNonce {
		s.nonces[nonce] = nonceEntry{id: m.ID, at: time.Now()}
	}
	s.posted = append(s.posted, m)
	s.dispatchMessageLocked(st)
	writeJSON(w, http.StatusOK, wire(st))
}

func (s *Server) applyEdit(st *stored, body messageBody) error {
	if body.Content != nil {
		st.msg.Content = *body.Content
	}
	if body.Embeds != nil {
		st.msg.Embeds = *body.Embeds
	}
	if body.Components != nil {
		comps, err := decodeComponents(*body.Components)
		if err != nil {
			return err
		}
		st.components = comps
	}
	now := time.Now().UTC()
	st.msg.EditedTimestamp = &now
	return nil
}

func (s *Server) patchMessage(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[r.PathValue("message")]
	if !ok || st.msg.ChannelID != r.PathValue("channel") {
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	if st.msg.Author == nil || st.msg.Author.ID != s.Bot.ID {
		writeError(w, http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
		return
	}
	if err := s.applyEdit(st, body); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, wire(st))
}

// getMe answers GET /users/@me: the bot user.
func (s *Server) getMe(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.Bot)
}

// ExpireNonces forgets every nonce, as Discord does after a few minutes:
// a message posted again with the same nonce is a new message.
func (s *Server) ExpireNonces() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nonces = map[string]nonceEntry{}
}

func (s *Server) postDM(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.RecipientID == "" {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body (recipient_id)")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dms[body.RecipientID]
	if !ok {
		id = s.newIDLocked()
		s.dms[body.RecipientID] = id
		s.channels[id] = &discordgo.Channel{ID: id, Type: discordgo.ChannelTypeDM,
			Recipients: []*discordgo.User{{ID: body.RecipientID}}}
	}
	writeJSON(w, http.StatusOK, s.channels[id])
}

// ---- interactions ----

// Interaction is one button click or modal submission sent to the bot, and
// what the bot answered.
type Interaction struct {
	s   *Server
	raw *discordgo.Interaction
	// messageID is the message whose component was used (the "original"
	// for deferred updates).
	messageID string

	responses []discordgo.InteractionResponse
	followups []*discordgo.Message
	original  string // id of the response message, for type 4/5
}

// ID returns the interaction's id.
func (i *Interaction) ID() string { return i.raw.ID }

// Responses returns the callbacks the bot sent (normally one).
func (i *Interaction) Responses() []discordgo.InteractionResponse {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	return slices.Clone(i.responses)
}

// Followups returns the follow-up messages the bot sent.
func (i *Interaction) Followups() []*discordgo.Message {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	return slices.Clone(i.followups)
}

// Ephemeral returns the texts shown only to the clicker: ephemeral
// callback messages and ephemeral follow-ups.
func (i *Interaction) Ephemeral() []string {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	var out []string
	for _, r := range i.responses {
		if r.Type == discordgo.InteractionResponseChannelMessageWithSource && r.Data != nil && r.Data.Flags&discordgo.MessageFlagsEphemeral != 0 {
			out = append(out, r.Data.Content)
		}
	}
	for _, m := range i.followups {
		if m.Flags&discordgo.MessageFlagsEphemeral != 0 {
			out = append(out, m.Content)
		}
	}
	return out
}

// Click has member press the button customID on a message, as Discord
// does: the message must carry that button. It dispatches
// INTERACTION_CREATE and returns the interaction to inspect the answers.
func (s *Server) Click(messageID, customID string, member *discordgo.Member) (*Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[messageID]
	if !ok {
		return nil, fmt.Errorf("discordtest: no message %s", messageID)
	}
	if !hasButton(st.components, customID) {
		return nil, fmt.Errorf("discordtest: message %s has no button %q", messageID, customID)
	}
	raw := &discordgo.Interaction{
		ID:        s.newIDLocked(),
		AppID:     s.AppID,
		Type:      discordgo.InteractionMessageComponent,
		Data:      discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent},
		GuildID:   st.msg.GuildID,
		ChannelID: st.msg.ChannelID,
		Message:   clone(st.msg),
		Member:    member,
		Token:     "itoken-" + s.newIDLocked(),
		Version:   1,
	}
	return s.startInteractionLocked(raw, messageID), nil
}

// SubmitModal has member submit the modal the bot opened in answer to
// prev, with values by text input custom id (inputs not named keep the
// value the bot prefilled).
func (s *Server) SubmitModal(prev *Interaction, values map[string]string, member *discordgo.Member) (*Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var modal *discordgo.InteractionResponseData
	for _, r := range prev.responses {
		if r.Type == discordgo.InteractionResponseModal {
			modal = r.Data
		}
	}
	if modal == nil {
		return nil, fmt.Errorf("discordtest: interaction %s was not answered with a modal", prev.raw.ID)
	}
	var rows []discordgo.MessageComponent
	for _, c := range modal.Components {
		row, ok := c.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		var inputs []discordgo.MessageComponent
		for _, cc := range row.Components {
			ti, ok := cc.(*discordgo.TextInput)
			if !ok {
				continue
			}
			v := ti.Value
			if nv, ok := values[ti.CustomID]; ok {
				v = nv
			}
			inputs = append(inputs, discordgo.TextInput{CustomID: ti.CustomID, Value: v})
		}
		rows = append(rows, discordgo.ActionsRow{Components: inputs})
	}
	st := s.byID[prev.messageID]
	raw := &discordgo.Interaction{
		ID:        s.newIDLocked(),
		AppID:     s.AppID,
		Type:      discordgo.InteractionModalSubmit,
		Data:      modalSubmitData{CustomID: modal.CustomID, Components: rows},
		GuildID:   prev.raw.GuildID,
		ChannelID: prev.raw.ChannelID,
		Member:    member,
		Token:     "itoken-" + s.newIDLocked(),
		Version:   1,
	}
	if st != nil {
		raw.Message = clone(st.msg)
	}
	return s.startInteractionLocked(raw, prev.messageID), nil
}

// modalSubmitData is discordgo's ModalSubmitInteractionData as sent on the
// wire: discordgo leaves its components out of the JSON.
type modalSubmitData struct {
	CustomID   string                       `json:"custom_id"`
	Components []discordgo.MessageComponent `json:"components"`
}

func (modalSubmitData) Type() discordgo.InteractionType { return discordgo.InteractionModalSubmit }

func (s *Server) startInteractionLocked(raw *discordgo.Interaction, messageID string) *Interaction {
	in := &Interaction{s: s, raw: raw, messageID: messageID}
	s.inters[raw.Token] = in
	s.dispatchLocked("INTERACTION_CREATE", raw)
	return in
}

func hasButton(comps []discordgo.MessageComponent, id string) bool {
	for _, c := range comps {
		switch t := c.(type) {
		case *discordgo.ActionsRow:
			if hasButton(t.Components, id) {
				return true
			}
		case discordgo.ActionsRow:
			if hasButton(t.Components, id) {
				return true
			}
		case *discordgo.Button:
			if t.CustomID == id {
				return true
			}
		case discordgo.Button:
			if t.CustomID == id {
				return true
			}
		}
	}
	return false
}

// responseBody is an interaction callback as sent.
type responseBody struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data *struct {
		Content    string                    `json:"content"`
		Embeds     []*discordgo.MessageEmbed `json:"embeds"`
		Components *[]json.RawMessage        `json:"components"`
		Flags      discordgo.MessageFlags    `json:"flags"`
		CustomID   string                    `json:"custom_id"`
		Title      string                    `json:"title"`
	} `json:"data"`
}

func (s *Server) interactionCallback(w http.ResponseWriter, r *http.Request) {
	var body responseBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.inters[r.PathValue("token")]
	if !ok || in.raw.ID != r.PathValue("id") {
		writeError(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	}
	if len(in.responses) > 0 {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	resp := discordgo.InteractionResponse{Type: body.Type}
	var edit messageBody
	if body.Data != nil {
		data := &discordgo.InteractionResponseData{Content: body.Data.Content, Embeds: body.Data.Embeds,
			Flags: body.Data.Flags, CustomID: body.Data.CustomID, Title: body.Data.Title}
		if body.Data.Components != nil {
			comps, err := decodeComponents(*body.Data.Components)
			if err != nil {
				writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
				return
			}
			data.Components = comps
		}
		resp.Data = data
		edit = messageBody{Content: &body.Data.Content, Embeds: &body.Data.Embeds, Components: body.Data.Components}
	}
	switch body.Type {
	case discordgo.InteractionResponseChannelMessageWithSource:
		if resp.Data == nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body (data)")
			return
		}
		if resp.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
			m := &discordgo.Message{ID: s.newIDLocked(), ChannelID: in.raw.ChannelID, GuildID: in.raw.GuildID,
				Content: resp.Data.Content, Embeds: resp.Data.Embeds, Author: s.Bot, Timestamp: time.Now().UTC()}
			st := &stored{msg: m, components: resp.Data.Components}
			s.storeLocked(st)
			in.original = m.ID
		}
	case discordgo.InteractionResponseDeferredChannelMessageWithSource, discordgo.InteractionResponseDeferredMessageUpdate:
	case discordgo.InteractionResponseUpdateMessage:
		if in.messageID == "" || resp.Data == nil {
			writeError(w, http.StatusBadRequest, 40004, "Interaction has no message to update")
			return
		}
		if err := s.applyEdit(s.byID[in.messageID], edit); err != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
			return
		}
	case discordgo.InteractionResponseModal:
		if in.raw.Type == discordgo.InteractionModalSubmit {
			writeError(w, http.StatusBadRequest, 50035, "A modal cannot answer a modal submission")
			return
		}
		if resp.Data == nil || resp.Data.CustomID == "" || resp.Data.Title == "" || len(resp.Data.Components) == 0 {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body (modal needs custom_id, title, components)")
			return
		}
	default:
		writeError(w, http.StatusBadRequest, 50035, fmt.Sprintf("Invalid Form Body (type %d)", body.Type))
		return
	}
	in.responses = append(in.responses, resp)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) webhookExecute(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.inters[r.PathValue("token")]
	if !ok || r.PathValue("app") != s.AppID {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	if len(in.responses) == 0 {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has not been acknowledged")
		return
	}
	m := &discordgo.Message{ID: s.newIDLocked(), ChannelID: in.raw.ChannelID, GuildID: in.raw.GuildID,
		Author: s.Bot, Timestamp: time.Now().UTC(), Flags: body.Flags}
	if body.Content != nil {
		m.Content = *body.Content
	}
	st := &stored{msg: m}
	if body.Flags&discordgo.MessageFlagsEphemeral == 0 {
		s.storeLocked(st)
	}
	in.followups = append(in.followups, clone(m))
	if r.URL.Query().Get("wait") == "true" {
		writeJSON(w, http.StatusOK, wire(st))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) webhookEdit(w http.ResponseWriter, r *http.Request) {
	var body messageBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.inters[r.PathValue("token")]
	if !ok || r.PathValue("app") != s.AppID {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	if len(in.responses) == 0 {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has not been acknowledged")
		return
	}
	target := r.PathValue("message")
	if target == "@original" {
		switch in.responses[0].Type {
		case discordgo.InteractionResponseDeferredMessageUpdate, discordgo.InteractionResponseUpdateMessage:
			target = in.messageID
		default:
			target = in.original
		}
	}
	st, ok := s.byID[target]
	if !ok {
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	if err := s.applyEdit(st, body); err != nil {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, wire(st))
}
