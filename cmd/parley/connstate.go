package main

import (
	"sync"

	"github.com/parleybot/parley/web"
)

// connectorStates is what /healthz reports about the running connectors:
// each is running until its Run gives up with an error.
type connectorStates struct {
	mu     sync.Mutex
	states []web.ConnectorState
}

func (cs *connectorStates) set(name, state string, err error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	st := web.ConnectorState{Name: name, State: state}
	if err != nil {
		st.Error = err.Error()
	}
	for i := range cs.states {
		if cs.states[i].Name == name {
			cs.states[i] = st
			return
		}
	}
	cs.states = append(cs.states, st)
}

func (cs *connectorStates) list() []web.ConnectorState {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]web.ConnectorState{}, cs.states...)
}
