package main

import (
	"context"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/digest"
)

// statusStore is what the status page reads from the database.
type statusStore interface {
	parley.StatusStore
	Digests(ctx context.Context) ([]parley.DigestRecord, error)
}

// statusReader builds the status page from the database, the running
// connectors (live; nil when read from the database alone) and the digest
// schedule.
type statusReader struct {
	st     statusStore
	live   *connectorStates
	conns  []namedSource // the configured connectors, when not live
	digest digest.Config
	next   func(time.Time) time.Time // the digest schedule; nil when off or unknown
	node   string                    // this node's lease holder name, with a shared database (live)
	now    func() time.Time
}

// failingLimit is how many failing drafts the page lists.
const failingLimit = 50

func (r *statusReader) read(ctx context.Context) (parley.Status, error) {
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	s := parley.Status{At: now().UTC(), Live: r.live != nil, Node: r.node}
	var err error
	if s.Outbox, err = r.st.OutboxStatus(ctx, failingLimit); err != nil {
		return s, err
	}
	cursors, err := r.st.Cursors(ctx)
	if err != nil {
		return s, err
	}
	prefixes := map[string]string{}
	if r.live != nil {
		s.Connectors = r.live.statuses()
		prefixes = r.live.prefixes()
	} else {
		for _, c := range r.conns {
			s.Connectors = append(s.Connectors, parley.ConnectorStatus{Name: c.name, Platform: c.platform(),
				State: "not running", RateLimit: parley.RateLimit{Remaining: -1, Limit: -1}})
			prefixes[c.name] = c.prefix
		}
	}
	s.Cursors = attachCursors(s.Connectors, prefixes, cursors)
	if s.Digest, err = r.digestStatus(ctx, now()); err != nil {
		return s, err
	}
	if ll, ok := r.st.(parley.LeaseLister); ok {
		if s.Leases, err = ll.Leases(ctx); err != nil {
			return s, err
		}
	}
	return s, nil
}

// attachCursors gives each connector the cursors under its key prefix and
// returns the others.
func attachCursors(conns []parley.ConnectorStatus, prefixes map[string]string, cursors []parley.Cursor) []parley.Cursor {
	var other []parley.Cursor
	for _, c := range cursors {
		owned := false
		for i := range conns {
			if p := prefixes[conns[i].Name]; p != "" && strings.HasPrefix(c.Key, p) {
				conns[i].Cursors = append(conns[i].Cursors, c)
				owned = true
				break
			}
		}
		if !owned {
			other = append(other, c)
		}
	}
	return other
}

func (r *statusReader) digestStatus(ctx context.Context, now time.Time) (parley.DigestStatus, error) {
	cfg := r.digest.WithDefaults()
	d := parley.DigestStatus{Schedule: cfg.Schedule, TimeZone: cfg.TimeZone}
	if r.next != nil {
		d.NextRun = r.next(now)
	}
	recs, err := r.st.Digests(ctx)
	if err != nil {
		return d, err
	}
	seen := map[string]bool{}
	for _, rec := range recs { // newest week first
		for _, dl := range rec.Deliveries {
			if !seen[dl.Target] {
				seen[dl.Target] = true
				d.LastDeliveries = append(d.LastDeliveries, parley.WeekDelivery{Week: rec.Week, DigestDelivery: dl})
			}
		}
	}
	return d, nil
}

// digestNext returns the digest schedule's next-run function for cfg (nil
// when the schedule is off or does not parse).
func digestNext(st digest.Store, cfg digest.Config) func(time.Time) time.Time {
	svc, err := digest.NewService(st, cfg, digest.ServiceOptions{})
	if err != nil {
		return nil
	}
	sch, err := digest.NewScheduler(svc)
	if err != nil {
		return nil
	}
	return sch.Next
}

func (n namedSource) platform() string {
	if p, ok := n.source.(interface{ Platform() string }); ok {
		return p.Platform()
	}
	name, _, _ := strings.Cut(n.name, ":")
	return name
}

// mastodonCursorPrefix is how the Mastodon connector's cursor keys begin
// ("mastodon:HOST:").
func mastodonCursorPrefix(mc mastodon.Config) string {
	u, err := mc.ServerURL()
	if err != nil {
		return ""
	}
	return "mastodon:" + strings.ToLower(u.Host) + ":"
}
