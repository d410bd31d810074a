package discord

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

// memStore is an in-memory parley.Store with the behaviour the connector
// relies on: draft state checks with ECONFLICT messages, UpdatedAfter
// watching, cursors.
type memStore struct {
	mu       sync.Mutex
	nextID   int64
	last     time.Time
	mentions map[int64]parley.Mention
	people   map[int64]parley.Person
	drafts   map[int64]parley.Draft
	cursors  map[string]string
	audit    []parley.AuditEntry
	sets     int // SetCursor calls
}

var _ parley.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		mentions: map[int64]parley.Mention{},
		people:   map[int64]parley.Person{},
		drafts:   map[int64]parley.Draft{},
		cursors:  map[string]string{},
	}
}

// tick returns a strictly increasing now.
func (s *memStore) tick() time.Time {
	now := time.Now()
	if !now.After(s.last) {
		now = s.last.Add(time.Microsecond)
	}
	s.last = now
	return now
}

func (s *memStore) id() int64 { s.nextID++; return s.nextID }

func (s *memStore) addPerson(p parley.Person) parley.Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = s.id()
	s.people[p.ID] = p
	return p
}

func (s *memStore) addMention(m parley.Mention) parley.Mention {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = s.id()
	s.mentions[m.ID] = m
	return m
}

func (s *memStore) addDraft(d parley.Draft) parley.Draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.ID = s.id()
	if d.State == "" {
		d.State = parley.DraftPending
	}
	d.CreatedAt = s.tick()
	d.UpdatedAt = d.CreatedAt
	s.drafts[d.ID] = d
	return d
}

func (s *memStore) IngestBatch(_ context.Context, ms []*parley.Mention, _ parley.DecideFunc) (parley.IngestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r parley.IngestResult
	for _, m := range ms {
		dup := false
		for _, old := range s.mentions {
			if old.Platform == m.Platform && old.ExternalID == m.ExternalID {
				dup = true
			}
		}
		if dup {
			r.Duplicates++
			continue
		}
		m.ID = s.id()
		s.mentions[m.ID] = *m
		r.Stored++
	}
	return r, nil
}

func (s *memStore) Mention(_ context.Context, id int64) (parley.Mention, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mentions[id]
	if !ok {
		return m, parley.Errorf(parley.ENOTFOUND, "mention %d not found", id)
	}
	return m, nil
}

func (s *memStore) Person(_ context.Context, id int64) (parley.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[id]
	if !ok {
		return p, parley.Errorf(parley.ENOTFOUND, "person %d not found", id)
	}
	return p, nil
}

func (s *memStore) FindPerson(_ context.Context, platform, h string) (parley.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.people {
		if p.Platform == platform && (p.Handle == h || p.ExternalID == h) {
			return p, nil
		}
	}
	return parley.Person{}, parley.Errorf(parley.ENOTFOUND, "person %s not found", h)
}

func (s *memStore) PersonMentions(_ context.Context, personID int64, limit int) ([]parley.Mention, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []parley.Mention
	for _, m := range s.mentions {
		if m.PersonID == personID {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b parley.Mention) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memStore) ThreadMentions(context.Context, int64) ([]parley.Mention, error) { return nil, nil }

func (s *memStore) Stats(context.Context) (parley.Stats, error) { return parley.Stats{}, nil }

func (s *memStore) Draft(_ context.Context, id int64) (parley.Draft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drafts[id]
	if !ok {
		return d, parley.Errorf(parley.ENOTFOUND, "draft %d not found", id)
	}
	return d, nil
}

func (s *memStore) Drafts(_ context.Context, f parley.DraftFilter) ([]parley.Draft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []parley.Draft
	for _, d := range s.drafts {
		if len(f.States) > 0 && !slices.Contains(f.States, d.State) {
			continue
		}
		if f.Platform != "" && d.Platform != f.Platform {
			continue
		}
		if !f.UpdatedAfter.IsZero() && !d.UpdatedAt.After(f.UpdatedAfter) {
			continue
		}
		out = append(out, d)
	}
	if !f.UpdatedAfter.IsZero() {
		slices.SortFunc(out, func(a, b parley.Draft) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	} else {
		slices.SortFunc(out, func(a, b parley.Draft) int { return a.CreatedAt.Compare(b.CreatedAt) })
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if f.Offset >= len(out) {
		return nil, nil
	}
	out = out[f.Offset:]
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memStore) decide(id int64, actor, action string, allowed []parley.DraftState, f func(*parley.Draft)) (parley.Draft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drafts[id]
	if !ok {
		return d, parley.Errorf(parley.ENOTFOUND, "draft %d not found", id)
	}
	if !slices.Contains(allowed, d.State) {
		return d, parley.Errorf(parley.ECONFLICT, "draft %d is already %s by %s", id, d.State, d.DecidedBy)
	}
	f(&d)
	d.UpdatedAt = s.tick()
	s.drafts[id] = d
	s.audit = append(s.audit, parley.AuditEntry{ID: s.id(), At: d.UpdatedAt, Actor: actor, Action: action, DraftID: id})
	return d, nil
}

func (s *memStore) ApproveDraft(_ context.Context, id int64, actor, text string) (parley.Draft, error) {
	return s.decide(id, actor, "approve", []parley.DraftState{parley.DraftPending}, func(d *parley.Draft) {
		if text != "" {
			d.OriginalText, d.Text = d.Text, text
		}
		d.State, d.DecidedBy, d.DecidedAt = parley.DraftApproved, actor, time.Now()
	})
}

func (s *memStore) EditDraft(_ context.Context, id int64, actor, text string) (parley.Draft, error) {
	return s.decide(id, actor, "edit", []parley.DraftState{parley.DraftPending}, func(d *parley.Draft) {
		d.OriginalText, d.Text = d.Text, text
	})
}

func (s *memStore) RejectDraft(_ context.Context, id int64, actor, _ string) (parley.Draft, error) {
	return s.decide(id, actor, "reject", []parley.DraftState{parley.DraftPending, parley.DraftFailed}, func(d *parley.Draft) {
		d.State, d.DecidedBy, d.DecidedAt = parley.DraftRejected, actor, time.Now()
	})
}

func (s *memStore) ClaimDrafts(context.Context, int, time.Time) ([]parley.Draft, error) {
	return nil, nil
}

func (s *memStore) MarkSent(_ context.Context, id int64, postedID string, at time.Time) error {
	_, err := s.decide(id, "outbox", "sent", []parley.DraftState{parley.DraftApproved, parley.DraftSending}, func(d *parley.Draft) {
		d.State, d.PostedID, d.SentAt = parley.DraftSent, postedID, at
	})
	return err
}

func (s *memStore) MarkFailed(context.Context, int64, string, time.Time) error { return nil }

func (s *memStore) Audit(context.Context, int) ([]parley.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.audit), nil
}

func (s *memStore) Cursor(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[key], nil
}

func (s *memStore) SetCursor(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[key] = value
	s.sets++
	return nil
}

func (s *memStore) Close() error { return nil }

func (s *memStore) cursor(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[key]
}
