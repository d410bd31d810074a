package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// session is one gateway session: it outlives its connections so that a
// client can RESUME and get what was dispatched meanwhile.
type session struct {
	id      string
	seq     int64
	intents discordgo.Intent
	events  []discordgo.Event // every dispatch, for replay
	conn    *conn
}

type conn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// gatewayOp is a packet from the client.
type gatewayOp struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
}

type helloData struct {
	HeartbeatInterval int64 `json:"heartbeat_interval"`
}

// identifyData is the part of discordgo.Identify the fake reads (discordgo's
// own presence field does not survive a JSON round trip).
type identifyData struct {
	Token      string                       `json:"token"`
	Intents    discordgo.Intent             `json:"intents"`
	Properties discordgo.IdentifyProperties `json:"properties"`
}

type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Sequence  int64  `json:"seq"`
}

// readyData is discordgo's Ready plus resume_gateway_url, which discordgo
// v0.29 does not read but Discord sends.
type readyData struct {
	discordgo.Ready
	ResumeGatewayURL string `json:"resume_gateway_url"`
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws}
	s.mu.Lock()
	s.conns[c] = true
	hb := s.HeartbeatInterval
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		for _, ss := range s.sessions {
			if ss.conn == c {
				ss.conn = nil
			}
		}
		s.mu.Unlock()
		ws.Close()
	}()
	if c.write(discordgo.Event{Operation: 10, RawData: mustJSON(helloData{HeartbeatInterval: hb.Milliseconds()})}) != nil {
		return
	}
	for {
		var op gatewayOp
		if err := ws.ReadJSON(&op); err != nil {
			return
		}
		switch op.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			s.mu.Unlock()
			if c.write(discordgo.Event{Operation: 11}) != nil {
				return
			}
		case 2:
			var id identifyData
			if json.Unmarshal(op.Data, &id) != nil {
				closeWith(c, 4002, "Decode error")
				return
			}
			if !s.identify(c, id) {
				return
			}
		case 6:
			var rd resumeData
			if json.Unmarshal(op.Data, &rd) != nil {
				closeWith(c, 4002, "Decode error")
				return
			}
			if !s.resume(c, rd) {
				return
			}
		}
	}
}

func closeWith(c *conn, code int, text string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

func (s *Server) identify(c *conn, id identifyData) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id.Token != "Bot "+s.Token {
		closeWith(c, 4004, "Authentication failed.")
		return false
	}
	if id.Intents&s.disallowed != 0 {
		closeWith(c, 4014, "Disallowed intent(s).")
		return false
	}
	s.identifies++
	s.intents = id.Intents
	ss := &session{id: randomID(), intents: id.Intents, conn: c}
	s.sessions[ss.id] = ss
	ready := readyData{
		Ready: discordgo.Ready{
			Version:     9,
			SessionID:   ss.id,
			User:        s.Bot,
			Application: &discordgo.Application{ID: s.AppID, Flags: s.AppFlags},
		},
		ResumeGatewayURL: "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway",
	}
	for _, gid := range s.guildOrder {
		ready.Guilds = append(ready.Guilds, &discordgo.Guild{ID: gid, Unavailable: true})
	}
	s.sendLocked(ss, "READY", ready)
	for _, gid := range s.guildOrder {
		s.sendLocked(ss, "GUILD_CREATE", s.guildCreateLocked(gid))
	}
	return ss.conn != nil
}

func (s *Server) guildCreateLocked(gid string) *discordgo.Guild {
	g := *s.guilds[gid]
	g.Channels, g.Threads = nil, nil
	for _, ch := range s.channels {
		if ch.GuildID != gid {
			continue
		}
		if ch.IsThread() {
			g.Threads = append(g.Threads, ch)
		} else {
			g.Channels = append(g.Channels, ch)
		}
	}
	g.Members = []*discordgo.Member{{User: s.Bot, Roles: s.botRoles[gid], GuildID: gid}}
	return &g
}

func (s *Server) resume(c *conn, rd resumeData) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rd.Token != "Bot "+s.Token {
		closeWith(c, 4004, "Authentication failed.")
		return false
	}
	ss, ok := s.sessions[rd.SessionID]
	if !ok || rd.Sequence > ss.seq {
		// Invalid session, not resumable: the client must IDENTIFY.
		return c.write(discordgo.Event{Operation: 9, RawData: json.RawMessage("false")}) == nil
	}
	s.resumes++
	ss.conn = c
	for _, e := range ss.events {
		if e.Sequence > rd.Sequence {
			if c.write(e) != nil {
				ss.conn = nil
				return false
			}
		}
	}
	s.sendLocked(ss, "RESUMED", discordgo.Resumed{})
	return ss.conn != nil
}

// sendLocked numbers a dispatch for one session, keeps it for replay and
// writes it when the session is connected.
func (s *Server) sendLocked(ss *session, typ string, data any) {
	ss.seq++
	e := discordgo.Event{Operation: 0, Sequence: ss.seq, Type: typ, RawData: mustJSON(data)}
	ss.events = append(ss.events, e)
	if len(ss.events) > 1000 {
		ss.events = ss.events[len(ss.events)-1000:]
	}
	if ss.conn != nil {
		if ss.conn.write(e) != nil {
			ss.conn = nil
		}
	}
}

// dispatchLocked sends an event to every session.
func (s *Server) dispatchLocked(typ string, data any) {
	for _, ss := range s.sessions {
		s.sendLocked(ss, typ, data)
	}
}

// dispatchMessageLocked sends MESSAGE_CREATE, emptying the content for
// sessions without the message content intent (as Discord does for guild
// messages that do not mention the bot).
func (s *Server) dispatchMessageLocked(st *stored) {
	full := wire(st)
	for _, ss := range s.sessions {
		data := full
		if ss.intents&discordgo.IntentsMessageContent == 0 && st.msg.GuildID != "" && !mentions(st.msg, s.Bot.ID) &&
			(st.msg.Author == nil || st.msg.Author.ID != s.Bot.ID) {
			m := clone(st.msg)
			m.Content, m.Embeds, m.Attachments = "", nil, nil
			data = wireMessage{Message: m, Components: []discordgo.MessageComponent{}}
		}
		s.sendLocked(ss, "MESSAGE_CREATE", data)
	}
}

func mentions(m *discordgo.Message, id string) bool {
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discordtest: " + err.Error())
	}
	return b
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
