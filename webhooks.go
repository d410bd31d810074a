package parley

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Event types a webhook can subscribe to.
const (
	EventMentionCreated  = "mention.created"
	EventNeedsReply      = "conversation.needs_reply"
	EventDraftCreated    = "draft.created"
	EventDraftApproved   = "draft.approved"
	EventDraftSent       = "draft.sent"
	EventDraftFailed     = "draft.failed"
	EventAdvocateChanged = "advocate.changed"
	EventPromptOutcome   = "prompt.outcome"
	EventAlertRaised     = "alert.raised"
	EventTest            = "webhook.test" // sent by "send test" to one webhook only
	EventAll             = "*"            // a subscription to every event
)

// webhookSecretMinBytes is the shortest secret a webhook may sign with.
const webhookSecretMinBytes = 16

// EventTypes lists the event types, in the order people read them.
func EventTypes() []string {
	return []string{EventMentionCreated, EventNeedsReply, EventDraftCreated, EventDraftApproved, EventDraftSent,
		EventDraftFailed, EventAdvocateChanged, EventPromptOutcome, EventAlertRaised}
}

// Webhook is a subscription: events of the listed types are POSTed to URL,
// signed with Secret.
type Webhook struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
	// Secret signs every delivery (HMAC-SHA256); never shown after it is
	// made, never logged.
	Secret string `json:"-"`
	// Events are the types it receives; ["*"] for all.
	Events    []string  `json:"events"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether the webhook subscribes to events of type typ.
func (w Webhook) Wants(typ string) bool {
	for _, e := range w.Events {
		if e == typ || e == EventAll {
			return true
		}
	}
	return false
}

// Check checks a subscription before it is stored: an http(s) URL with a
// host, a secret long enough to sign with, known events.
func (w Webhook) Check() error {
	u, err := url.Parse(strings.TrimSpace(w.URL))
	switch {
	case strings.TrimSpace(w.URL) == "":
		return Errorf(EINVALID, "a webhook needs a URL")
	case err != nil:
		return Errorf(EINVALID, "webhook URL %q: %v", w.URL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return Errorf(EINVALID, "webhook URL %q: want http:// or https://", w.URL)
	case u.Host == "":
		return Errorf(EINVALID, "webhook URL %q has no host", w.URL)
	case u.User != nil:
		return Errorf(EINVALID, "webhook URL %q: put no user or password in it (the signature authenticates Parley)", w.URL)
	}
	if err := CheckWebhookSecret(w.Secret); err != nil {
		return err
	}
	return CheckWebhookEvents(w.Events)
}

// CheckWebhookEvents checks a subscription's event list: known types or
// "*", at least one.
func CheckWebhookEvents(events []string) error {
	if len(events) == 0 {
		return Errorf(EINVALID, "a webhook needs at least one event (or * for all)")
	}
	known := map[string]bool{EventAll: true}
	for _, t := range EventTypes() {
		known[t] = true
	}
	for _, e := range events {
		if !known[e] {
			return Errorf(EINVALID, "unknown event %q: want one of %v or *", e, EventTypes())
		}
	}
	return nil
}

// CheckWebhookSecret refuses a secret too short to sign with.
func CheckWebhookSecret(secret string) error {
	if len(secret) < webhookSecretMinBytes {
		return Errorf(EINVALID, "a webhook secret needs at least %d characters", webhookSecretMinBytes)
	}
	return nil
}

// Event is something that happened, for webhooks. Its body (the JSON a
// receiver gets) is fixed when it is stored, so every retry sends the same
// bytes.
type Event struct {
	// ID is unique per event ("evt_" and random hex), the same for every
	// webhook it goes to: receivers deduplicate on it.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// PersonID is the person the event is about (0 for none), so erasing
	// them removes it too. Not part of the body.
	PersonID int64 `json:"-"`
	// Data is the payload: a mention, a draft, an alert.
	Data json.RawMessage `json:"data"`
}

// Body is the JSON a receiver gets: {"id","type","created_at","data"}.
func (e Event) Body() ([]byte, error) { return json.Marshal(e) }

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its first or next attempt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // given up (retried past the deadline, or refused for good)
)

// WebhookDelivery is one event on its way to one webhook.
type WebhookDelivery struct {
	ID        int64  `json:"id"`
	WebhookID int64  `json:"webhook_id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	// Body is the signed JSON, as sent.
	Body     []byte `json:"-"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	// NextAt is when it is tried next (pending) or claimed until.
	NextAt     time.Time `json:"next_at,omitzero"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// URL and Secret are the webhook's, filled by ClaimDeliveries.
	URL    string `json:"-"`
	Secret string `json:"-"`
}

// WebhookAttempt is one try of a delivery, for the delivery log.
type WebhookAttempt struct {
	DeliveryID int64         `json:"delivery_id"`
	At         time.Time     `json:"at"`
	Status     int           `json:"status,omitempty"` // the HTTP status; 0 when none came back
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// WebhookStore keeps subscriptions and the events on their way to them.
// An event is stored (once per subscribed webhook) before anything is
// sent, so a restart loses none.
type WebhookStore interface {
	// AddWebhook stores a subscription and returns it with its ID.
	// Errors: EINVALID for an empty URL, a short secret or unknown events.
	AddWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// Webhooks lists every subscription, oldest first.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// Webhook returns one; ENOTFOUND if there is none.
	Webhook(ctx context.Context, id int64) (Webhook, error)
	// RemoveWebhook deletes a subscription with its deliveries.
	// ENOTFOUND if there is none.
	RemoveWebhook(ctx context.Context, id int64) error
	// EnqueueEvents stores each event once for every webhook subscribed
	// to its type (or only for webhook only, when only > 0), pending and
	// due at once, and returns how many deliveries it made. An event no
	// webhook wants is not stored.
	EnqueueEvents(ctx context.Context, only int64, events ...Event) (int, error)
	// ClaimDeliveries takes up to limit pending deliveries due at now,
	// counts an attempt and holds each until now+lease (a crash leaves it
	// to be claimed again then). They carry their webhook's URL and secret.
	ClaimDeliveries(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]WebhookDelivery, error)
	// RecordAttempt logs an attempt of a claimed delivery and moves it:
	// delivered when ok, else pending until retryAt, or failed when
	// retryAt is zero.
	RecordAttempt(ctx context.Context, a WebhookAttempt, ok bool, retryAt time.Time) error
	// WebhookDeliveries lists a webhook's deliveries, newest first, at
	// most limit.
	WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]WebhookDelivery, error)
	// WebhookAttempts lists a delivery's attempts, oldest first.
	WebhookAttempts(ctx context.Context, deliveryID int64) ([]WebhookAttempt, error)
}
