package main

import (
	"context"
	"sync"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// connectorStates is what /healthz and the status page report about the
// running connectors: each is running until its Run gives up with an
// error; a connector that is a parley.StatusReporter says more.
type connectorStates struct {
	mu      sync.Mutex
	entries []*connEntry
}

type connEntry struct {
	name, prefix string // prefix: of its cursor keys
	rep          parley.StatusReporter
	state        string
	holder       string // the node running it, with a shared database
	err          error
	errAt        time.Time
	lastMention  time.Time
}

// add registers a connector (before it runs) and returns the sink to give
// its Run: next, noting when each mention is accepted.
func (cs *connectorStates) add(name, prefix string, src parley.Source, next parley.Sink) parley.Sink {
	e := &connEntry{name: name, prefix: prefix, state: web.ConnectorRunning}
	e.rep, _ = src.(parley.StatusReporter)
	cs.mu.Lock()
	cs.entries = append(cs.entries, e)
	cs.mu.Unlock()
	return sinkFunc(func(ctx context.Context, m parley.Mention) error {
		if err := next.Submit(ctx, m); err != nil {
			return err
		}
		cs.mu.Lock()
		e.lastMention = time.Now()
		cs.mu.Unlock()
		return nil
	})
}

func (cs *connectorStates) set(name, state string, err error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, e := range cs.entries {
		if e.name == name {
			e.state, e.err = state, err
			if err != nil {
				e.errAt = time.Now()
			}
			return
		}
	}
	cs.entries = append(cs.entries, &connEntry{name: name, state: state, err: err})
}

// setHolder records who holds the connector's lease: this node (node,
// mine), another (holder), or nobody it knows (lost or released).
func (cs *connectorStates) setHolder(name, node string, l parley.Lease, mine bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, e := range cs.entries {
		if e.name != name || e.state == web.ConnectorStopped {
			continue
		}
		e.state, e.holder = web.ConnectorStandby, l.Holder
		if mine {
			e.state, e.holder = web.ConnectorRunning, node
		}
	}
}

// list is what /healthz shows.
func (cs *connectorStates) list() []web.ConnectorState {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]web.ConnectorState, 0, len(cs.entries))
	for _, e := range cs.entries {
		st := web.ConnectorState{Name: e.name, State: e.state, Holder: e.holder}
		if e.err != nil {
			st.Error = e.err.Error()
		}
		out = append(out, st)
	}
	return out
}

// statuses is what the status page shows of each connector (cursors are
// added from the store).
func (cs *connectorStates) statuses() []parley.ConnectorStatus {
	cs.mu.Lock()
	entries := append([]*connEntry{}, cs.entries...)
	cs.mu.Unlock()
	out := make([]parley.ConnectorStatus, 0, len(entries))
	for _, e := range entries {
		var st parley.ConnectorStatus
		if e.rep != nil {
			st = e.rep.Status() // outside cs.mu: it takes the connector's locks
		} else {
			st.RateLimit = parley.RateLimit{Remaining: -1, Limit: -1}
		}
		cs.mu.Lock()
		st.Name, st.State, st.Holder, st.LastMention = e.name, e.state, e.holder, e.lastMention
		if e.err != nil {
			st.Connected = false
			st.LastError, st.LastErrorAt = e.err.Error(), e.errAt
		}
		cs.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// prefixes maps each connector's name to the prefix of its cursor keys.
func (cs *connectorStates) prefixes() map[string]string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := map[string]string{}
	for _, e := range cs.entries {
		out[e.name] = e.prefix
	}
	return out
}
