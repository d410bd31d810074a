package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/parleybot/parley"
)

// streamOverlap is how far back each poll of the live stream looks again
// before the newest change it saw. A transaction stamps drafts with the
// time it started but they become visible when it commits, up to several
// seconds later for a big ingest batch; looking back catches them, and
// the stream skips what it already sent.
const streamOverlap = 15 * time.Second

// maxStreamBurst is the most changed drafts one poll delivers; beyond it
// the page is told to reload instead.
const maxStreamBurst = 2000

// draftEvent is one change the live inbox hears about.
type draftEvent struct {
	ID        int64             `json:"id"`
	State     parley.DraftState `json:"state"`
	DecidedBy string            `json:"decided_by,omitempty"`
	// HTML is the card of a pending draft that matches the page's
	// filters; Rank places it. Remove says the page should drop the draft
	// (decided, or no longer matching the filters).
	HTML   string  `json:"html,omitempty"`
	Rank   float64 `json:"rank,omitempty"`
	Remove bool    `json:"remove,omitempty"`
}

// events streams changes to drafts (server-sent events) so the inbox
// updates without a reload. It looks in the store for drafts changed after
// the version the page was rendered at (?since=, or Last-Event-ID when the
// browser reconnects) every PollInterval, and at once when the store's
// change feed (parley.ChangeFeed: PostgreSQL's LISTEN/NOTIFY, SQLite's
// data_version) says a connection committed a change, so drafts written
// by another process (parley ingest, another node) appear too. Each "draft" event carries a
// draftEvent; its id is the version reached.
//
// The stream ends when its session does: at once for a logout, password
// reset or removal in this server, else at the next poll, which checks
// the session and its user again. A user holds at most MaxStreamsPerUser.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	user, token := currentUser(ctx).Name, s.sessions.Token(ctx)
	ls, ok := s.streams.add(user, token, cancel)
	if !ok {
		s.writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": "too_many_streams",
			"error": fmt.Sprintf("you have %d live inbox pages open already: close some tabs", MaxStreamsPerUser)})
		return
	}
	defer s.streams.remove(ls)
	r = r.WithContext(ctx)
	rc := http.NewResponseController(w)
	f, _, _ := inboxFilter(r)

	var since time.Time
	raw := r.Header.Get("Last-Event-ID")
	if raw == "" {
		raw = r.URL.Query().Get("since")
	}
	if ms, err := strconv.ParseInt(raw, 10, 64); err == nil && ms > 0 {
		since = time.UnixMilli(ms)
	} else {
		v, err := s.st.DraftsVersion(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		since = v
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}

	version := r.URL.Query().Get("version")
	sent := map[int64]time.Time{} // draft id -> the change already sent
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	var changed <-chan struct{} // nil (never ready) without a change feed
	if feed, ok := s.st.(parley.ChangeFeed); ok {
		changed = feed.Changes(ctx)
	}
	lastWrite := time.Now()
	// The first look is at once: a change between rendering the page and
	// opening the stream is not left for the next poll.
	for first := true; ; first = false {
		if !first && !s.awaitChange(ctx, poll.C, &changed) {
			return
		}
		if alive, err := s.sessionAlive(ctx, token, user); !alive {
			fmt.Fprint(w, "event: ended\ndata: {}\n\n")
			_ = rc.Flush() // the stream ends either way
			return
		} else if err != nil && ctx.Err() == nil {
			s.logger.Warn("live inbox: check session", "err", err)
		}
		n, newest, err := s.pushChanges(w, r, f, since, sent)
		if err == nil {
			var changed bool
			changed, version, err = s.pushInboxChange(w, r, version)
			if changed {
				n++
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("live inbox: poll", "err", err)
			}
			continue
		}
		if newest.After(since) {
			since = newest
		}
		for id, at := range sent {
			if at.Before(since.Add(-streamOverlap)) {
				delete(sent, id)
			}
		}
		switch {
		case n > 0:
			lastWrite = time.Now()
		case time.Since(lastWrite) > 20*time.Second:
			// A comment keeps proxies from closing an idle stream.
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			lastWrite = time.Now()
		default:
			continue
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// awaitChange waits for the next poll or a change the store's feed tells
// of; false when the stream should end (its request did, or the server).
func (s *Server) awaitChange(ctx context.Context, poll <-chan time.Time, changed *<-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	case <-poll:
	case _, ok := <-*changed:
		if !ok {
			*changed = nil // the store closed its feed: polling goes on
		}
	}
	return true
}

// pushChanges writes an event for every draft changed since (minus the
// overlap) that was not sent yet, and returns how many and the newest
// change time.
func (s *Server) pushChanges(w http.ResponseWriter, r *http.Request, f parley.InboxFilter, since time.Time, sent map[int64]time.Time) (int, time.Time, error) {
	ctx := r.Context()
	from := since.Add(-streamOverlap)
	if from.UnixMilli() < 1 {
		from = time.UnixMilli(1) // the zero time would mean "no bound"
	}
	var changed []parley.Draft
	for offset := 0; ; offset += 500 {
		page, err := s.st.Drafts(ctx, parley.DraftFilter{UpdatedAfter: from, Limit: 500, Offset: offset})
		if err != nil {
			return 0, time.Time{}, err
		}
		changed = append(changed, page...)
		if len(page) < 500 {
			break
		}
		if len(changed) >= maxStreamBurst {
			if _, err := fmt.Fprintf(w, "event: reload\ndata: {}\n\n"); err != nil {
				return 0, time.Time{}, err
			}
			break
		}
	}
	newest := since
	var fresh []parley.Draft
	var pending []int64
	for _, d := range changed {
		if d.UpdatedAt.After(newest) {
			newest = d.UpdatedAt
		}
		if at, ok := sent[d.ID]; ok && !d.UpdatedAt.After(at) {
			continue
		}
		fresh = append(fresh, d)
		if d.State == parley.DraftPending {
			pending = append(pending, d.ID)
		}
	}
	if len(fresh) == 0 {
		return 0, newest, nil
	}
	cards := map[int64]string{}
	ranks := map[int64]float64{}
	if len(pending) > 0 {
		items, err := s.st.InboxItems(ctx, parley.InboxFilter{IDs: pending})
		if err != nil {
			return 0, newest, err
		}
		now := s.opts.Now()
		for _, it := range items {
			if !f.Matches(it) {
				continue
			}
			u := UrgencyOf(it, now)
			html, err := s.fragment("card", s.card(r, it, u))
			if err != nil {
				return 0, newest, err
			}
			cards[it.Draft.ID], ranks[it.Draft.ID] = html, u.Rank
		}
	}
	for _, d := range fresh {
		ev := draftEvent{ID: d.ID, State: d.State, DecidedBy: d.DecidedBy}
		if html, ok := cards[d.ID]; ok {
			ev.HTML, ev.Rank = html, ranks[d.ID]
		} else {
			ev.Remove = true
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return 0, newest, err
		}
		// G705: an event stream (text/event-stream), data is JSON.
		if _, err := fmt.Fprintf(w, "id: %d\nevent: draft\ndata: %s\n\n", newest.UnixMilli(), b); err != nil { //nolint:gosec // G705: see above
			return 0, newest, err
		}
		sent[d.ID] = d.UpdatedAt
	}
	return len(fresh), newest, nil
}

// pushInboxChange writes an "inbox" event when the inbox's version moved
// on from version (a message arrived, a conversation or draft changed):
// the page then fetches its list again. It returns the version now.
func (s *Server) pushInboxChange(w http.ResponseWriter, r *http.Request, version string) (bool, string, error) {
	now, err := s.st.InboxVersion(r.Context())
	if err != nil || now == version {
		return false, version, err
	}
	if _, err := fmt.Fprintf(w, "event: inbox\ndata: {}\n\n"); err != nil {
		return false, version, err
	}
	return true, now, nil
}
