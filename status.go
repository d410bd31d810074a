package parley

import (
	"context"
	"time"
)

// Connector modes, as ConnectorStatus.Mode reports them.
const (
	// ModeStreaming: the platform pushes posts (Mastodon's streaming API,
	// Discord's gateway).
	ModeStreaming = "streaming"
	// ModePolling: Parley asks for new posts now and then (the stream is
	// down or refused).
	ModePolling = "polling"
)

// RateLimit is what a platform last said about its request budget.
type RateLimit struct {
	// Remaining and Limit are the platform's X-RateLimit-Remaining and
	// X-RateLimit-Limit; -1 when it never said.
	Remaining int `json:"remaining"`
	Limit     int `json:"limit"`
	// Reset is when the budget refills (zero when unknown).
	Reset time.Time `json:"reset,omitzero"`
	// HeldUntil is when requests may go again after a 429 or a spent
	// budget; zero or past when they may go now.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// Hits counts 429 answers since the start.
	Hits int `json:"hits"`
}

// ConnectorStatus is how one connector is doing, for the status page.
type ConnectorStatus struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	// State is "running", "stopped" when it gave up (LastError says why),
	// or "standby" when another node sharing the database runs it.
	State string `json:"state"`
	// Holder is the node that runs it when several share the database.
	Holder string `json:"holder,omitempty"`
	// Connected: the platform answered the last request, or the stream or
	// gateway is up.
	Connected bool `json:"connected"`
	// Mode is ModeStreaming or ModePolling ("" when the connector does not
	// say); Detail says more ("2 of 3 feeds streaming").
	Mode   string `json:"mode,omitempty"`
	Detail string `json:"detail,omitempty"`
	// LastMention is when the connector last handed a mention to the
	// pipeline (zero: none since the start).
	LastMention time.Time `json:"last_mention,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	RateLimit   RateLimit `json:"rate_limit"`
	// Cursors are the connector's saved positions (from the store).
	Cursors []Cursor `json:"cursors,omitempty"`
}

// StatusReporter is implemented by connectors that say how they are doing;
// the caller fills in Name, State, LastMention and Cursors.
type StatusReporter interface {
	Status() ConnectorStatus
}

// Cursor is one saved position of a connector (see CursorStore).
type Cursor struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OutboxStatus is what waits to be posted and what fails.
type OutboxStatus struct {
	Approved int `json:"approved"` // approved, waiting to be sent (retries included)
	Sending  int `json:"sending"`
	Retrying int `json:"retrying"` // approved drafts whose last attempt failed
	Failed   int `json:"failed"`   // failed for good, until retried or rejected
	// Failing lists the failed and retrying drafts, most recently
	// changed first (at most the limit asked for); LastError and Attempts
	// say what happened.
	Failing []Draft `json:"failing"`
}

// DigestStatus is the digest's schedule and where it last went.
type DigestStatus struct {
	Schedule string    `json:"schedule"` // the cron expression, or "off"
	TimeZone string    `json:"timezone,omitempty"`
	NextRun  time.Time `json:"next_run,omitzero"`
	// LastDeliveries is the newest delivery to each target, with its week.
	LastDeliveries []WeekDelivery `json:"last_deliveries"`
}

// WeekDelivery is a digest delivery with its week.
type WeekDelivery struct {
	Week string `json:"week"`
	DigestDelivery
}

// Lease is one job that one node of several holds for a while (a
// connector account, the digest schedule), when a shared database
// coordinates several processes.
type Lease struct {
	Name   string    `json:"name"`
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
	Epoch  int64     `json:"epoch,omitempty"`
}

// Status is the status page: the connectors, the outbox and the digest.
type Status struct {
	At time.Time `json:"at"`
	// Node names the node that answered, when several share the database
	// (live only).
	Node string `json:"node,omitempty"`
	// Live is true when a running 'parley run' answered; false when the
	// status was read from the database alone (connectors then show only
	// their cursors).
	Live       bool              `json:"live"`
	Connectors []ConnectorStatus `json:"connectors"`
	// Cursors are saved positions no configured connector owns.
	Cursors []Cursor     `json:"other_cursors,omitempty"`
	Outbox  OutboxStatus `json:"outbox"`
	Digest  DigestStatus `json:"digest"`
	// Leases says which node holds which lease (an expired one is held by
	// nobody: its Until is past); empty with a store that runs one process
	// (SQLite).
	Leases []Lease `json:"leases,omitempty"`
}

// StatusStore is what the status page reads from the store.
type StatusStore interface {
	// Cursors returns every saved cursor, by key.
	Cursors(ctx context.Context) ([]Cursor, error)
	// OutboxStatus counts the outbox's drafts and lists up to limit
	// failing ones.
	OutboxStatus(ctx context.Context, limit int) (OutboxStatus, error)
}

// LeaseLister is implemented by stores that coordinate several processes
// with leases; the status page lists them.
type LeaseLister interface {
	// Leases returns every lease ever taken, by name, with its last
	// holder and expiry.
	Leases(ctx context.Context) ([]Lease, error)
}

// DraftRetrier is implemented by stores that can send a failed draft
// again.
type DraftRetrier interface {
	// RetryDraft moves a failed draft back to approved, or makes an
	// approved draft waiting for a retry due now; the outbox then sends it
	// (with the same idempotency key: a post that went out is not made
	// twice). Audited under actor. Errors: ENOTFOUND; ECONFLICT for a
	// draft in another state; EINVALID for an empty actor.
	RetryDraft(ctx context.Context, id int64, actor string) (Draft, error)
}
