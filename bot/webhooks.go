package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

// WebhookPoster posts one delivery (webhook.Client): the HTTP status (0
// for none) and how long it took; an error with code EINVALID is final.
type WebhookPoster interface {
	Post(ctx context.Context, d parley.WebhookDelivery, now time.Time) (status int, took time.Duration, err error)
}

// WebhookPosterFunc adapts a function to a WebhookPoster.
type WebhookPosterFunc func(ctx context.Context, d parley.WebhookDelivery, now time.Time) (int, time.Duration, error)

// Post calls f.
func (f WebhookPosterFunc) Post(ctx context.Context, d parley.WebhookDelivery, now time.Time) (int, time.Duration, error) {
	return f(ctx, d, now)
}

// WebhooksOptions tune Webhooks. The zero value is sensible.
type WebhooksOptions struct {
	Logger *slog.Logger
	// Interval is how often the worker looks for due deliveries when
	// nothing wakes it; default 1s.
	Interval time.Duration
	// Concurrency bounds the POSTs in flight; default 4.
	Concurrency int
	// RetryBase is the first retry delay; it doubles with each attempt
	// (with jitter) up to RetryMax. Defaults 30s and 1h.
	RetryBase, RetryMax time.Duration
	// RetryFor is how long after the event a delivery is retried before
	// it fails for good; default 72h (at least 24h).
	RetryFor time.Duration
	// Lease is how long a claimed delivery is held: a crash mid-POST
	// leaves it to be tried again after it. Default 2m.
	Lease time.Duration
	// MaxQueue bounds the events emitted and not yet stored (a store that
	// stays down must not eat the memory); default 100000. Beyond it the
	// oldest are dropped and logged.
	MaxQueue int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Webhooks sends events to the webhooks people subscribe. Emit queues an
// event in memory and never blocks or touches the database, so ingest and
// decisions are never slowed by a receiver or by the write; Run stores the
// queued events (one delivery per subscribed webhook) and then POSTs the
// due deliveries, a bounded number at once, retrying failures with
// backoff. An event is stored before anything is sent, so a restart
// resumes its delivery; Run stores what is queued before it returns.
type Webhooks struct {
	store  parley.WebhookStore
	post   WebhookPoster
	opts   WebhooksOptions
	log    *slog.Logger
	wake   chan struct{} // the deliverer: deliveries may be due
	queued chan struct{} // the storer: events were emitted

	mu      sync.Mutex
	queue   []parley.Event
	dropped int
}

// NewWebhooks returns a worker; Run starts it.
func NewWebhooks(st parley.WebhookStore, post WebhookPoster, opts WebhooksOptions) *Webhooks {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 30 * time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Hour
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = 72 * time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = 100000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Webhooks{store: st, post: post, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1),
		queued: make(chan struct{}, 1)}
}

// NewEvent makes an event of type typ about person (0 for none) with data
// as its payload, and a fresh unique id.
func NewEvent(typ string, personID int64, data any, at time.Time) (parley.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return parley.Event{}, fmt.Errorf("event %s: %w", typ, err)
	}
	return parley.Event{ID: NewEventID(), Type: typ, CreatedAt: at.UTC(), PersonID: personID, Data: raw}, nil
}

// NewEventID returns "evt_" and 32 random hex digits.
func NewEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "evt_" + hex.EncodeToString(b[:])
}

// Emit queues an event of type typ (see NewEvent). It never blocks; a
// nil *Webhooks drops it (no webhooks configured).
func (w *Webhooks) Emit(typ string, personID int64, data any) {
	if w == nil {
		return
	}
	e, err := NewEvent(typ, personID, data, w.opts.Now())
	if err != nil {
		w.log.Error("webhook event", "type", typ, "err", err)
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, e)
	if over := len(w.queue) - w.opts.MaxQueue; over > 0 {
		w.queue = append(w.queue[:0:0], w.queue[over:]...)
		w.dropped += over
	}
	w.mu.Unlock()
	select {
	case w.queued <- struct{}{}:
	default:
	}
}

// Wake asks the worker to look now. It never blocks.
func (w *Webhooks) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Test stores a test event for one webhook only and wakes the worker;
// the delivery log shows how it went. It returns the event's id.
func (w *Webhooks) Test(ctx context.Context, webhookID int64, actor string) (string, error) {
	e, err := NewEvent(parley.EventTest, 0, map[string]any{"webhook_id": webhookID, "sent_by": actor,
		"message": "A test event from Parley: if you read this, the webhook works."}, w.opts.Now())
	if err != nil {
		return "", err
	}
	n, err := w.store.EnqueueEvents(ctx, webhookID, e)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", parley.Errorf(parley.ENOTFOUND, "webhook %d not found", webhookID)
	}
	w.Wake()
	return e.ID, nil
}

// Flush stores the queued events now, for a process that does not Run
// the worker (a command): a running 'parley run' delivers them. On
// failure they stay queued (in order) for the next try.
func (w *Webhooks) Flush(ctx context.Context) error { return w.flush(ctx) }

// flush stores the queued events. On failure they stay queued (in
// order) for the next try.
func (w *Webhooks) flush(ctx context.Context) error {
	w.mu.Lock()
	events, dropped := w.queue, w.dropped
	w.queue, w.dropped = nil, 0
	w.mu.Unlock()
	if dropped > 0 {
		w.log.Error("webhook events dropped: the store did not take them in time", "dropped", dropped)
	}
	if len(events) == 0 {
		return nil
	}
	n, err := w.store.EnqueueEvents(ctx, 0, events...)
	if err != nil {
		w.mu.Lock()
		w.queue = append(events, w.queue...)
		w.mu.Unlock()
		return fmt.Errorf("store webhook events: %w", err)
	}
	if n > 0 {
		w.Wake()
	}
	return nil
}

// Run stores emitted events and delivers due deliveries until ctx ends;
// then it stores what is still queued (within a few seconds) and
// returns. Storing and delivering run on their own goroutines, so a slow
// receiver never delays storing. POSTs in flight are not cut off by ctx:
// each is bounded by the client's timeout and recorded.
func (w *Webhooks) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.deliverLoop(ctx)
	}()
	w.storeLoop(ctx)
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.flush(fctx); err != nil {
		w.log.Error("webhook events not stored at shutdown", "err", err)
	}
	return nil
}

func (w *Webhooks) storeLoop(ctx context.Context) {
	for {
		if err := w.flush(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.queued:
		case <-time.After(w.opts.Interval):
		}
	}
}

func (w *Webhooks) deliverLoop(ctx context.Context) {
	for {
		n, err := w.deliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("webhooks", "err", err)
		}
		if n > 0 && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(w.opts.Interval):
		}
	}
}

// deliverDue claims due deliveries and posts them, Concurrency at a time;
// it returns how many it handled.
func (w *Webhooks) deliverDue(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	ds, err := w.store.ClaimDeliveries(ctx, w.opts.Concurrency, w.opts.Now(), w.opts.Lease)
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliver(context.WithoutCancel(ctx), d)
		}()
	}
	wg.Wait()
	return len(ds), nil
}

// deliver posts one delivery and records the attempt.
func (w *Webhooks) deliver(ctx context.Context, d parley.WebhookDelivery) {
	log := w.log.With("webhook_id", d.WebhookID, "event_id", d.EventID, "event_type", d.EventType, "attempt", d.Attempts)
	now := w.opts.Now()
	status, took, err := w.post.Post(ctx, d, now)
	a := parley.WebhookAttempt{DeliveryID: d.ID, At: w.opts.Now(), Status: status, Duration: took}
	var retry time.Time
	if err != nil {
		a.Error = err.Error()
		if parley.ErrorCode(err) != parley.EINVALID {
			next := a.At.Add(backoff.Policy{Base: w.opts.RetryBase, Max: w.opts.RetryMax, Jitter: 0.2}.Delay(d.Attempts - 1))
			if next.Sub(d.CreatedAt) <= w.opts.RetryFor {
				retry = next
			}
		}
		if retry.IsZero() {
			log.Error("webhook delivery failed for good", "status", status, "err", err)
		} else {
			log.Warn("webhook delivery failed; will retry", "status", status, "retry_at", retry, "err", err)
		}
	} else {
		log.Info("webhook delivered", "status", status, "took", took)
	}
	if err := w.store.RecordAttempt(ctx, a, err == nil, retry); err != nil {
		log.Error("record webhook attempt", "err", err)
	}
}

// mentionView is a mention as webhook events carry it.
type mentionView struct {
	ID        int64            `json:"id"`
	Platform  string           `json:"platform"`
	URL       string           `json:"url,omitempty"`
	ThreadID  int64            `json:"conversation_id"`
	Text      string           `json:"text"`
	CreatedAt time.Time        `json:"created_at"`
	Sentiment parley.Sentiment `json:"sentiment"`
	Priority  int              `json:"priority,omitempty"`
	Tags      []string         `json:"tags,omitempty"`
	Author    personView       `json:"author"`
}

type personView struct {
	ID        int64  `json:"id"`
	Handle    string `json:"handle"`
	Name      string `json:"name,omitempty"`
	Followers int    `json:"followers"`
}

// OnStored emits the events of a committed batch: mention.created for
// each stored mention, conversation.needs_reply for each conversation a
// customer message (not ignored by the rules) is waiting in, and
// draft.created for each queued draft. Chain it into
// PipelineOptions.OnStored; it only queues, so the writer never waits.
func (w *Webhooks) OnStored(stored []*parley.Mention, res parley.IngestResult) {
	if w == nil {
		return
	}
	threads := map[int64]bool{}
	for _, m := range stored {
		w.Emit(parley.EventMentionCreated, m.PersonID, map[string]any{"mention": mentionView{ID: m.ID,
			Platform: m.Platform, URL: m.URL, ThreadID: m.ThreadID, Text: m.Text, CreatedAt: m.CreatedAt,
			Sentiment: m.Sentiment, Priority: m.Priority, Tags: m.Tags, Author: personView{ID: m.PersonID,
				Handle: m.Author.Handle, Name: m.Author.Name, Followers: m.Author.Followers}}})
		if !m.Ignored && m.ThreadID != 0 && !threads[m.ThreadID] {
			threads[m.ThreadID] = true
			w.Emit(parley.EventNeedsReply, m.PersonID, map[string]any{"conversation_id": m.ThreadID,
				"mention_id": m.ID, "person_id": m.PersonID, "platform": m.Platform})
		}
	}
	for _, id := range res.DraftIDs {
		w.Emit(parley.EventDraftCreated, 0, map[string]any{"draft_id": id})
	}
}

// OnDecided emits draft.approved when a decision left a draft approved
// (an approval, or a reply a person wrote and approved). Chain it into
// DecisionsOptions.OnDecided.
func (w *Webhooks) OnDecided(action string, d parley.Draft) {
	if w == nil || d.State != parley.DraftApproved {
		return
	}
	w.Emit(parley.EventDraftApproved, d.PersonID, map[string]any{"draft": d, "action": action})
}

// OnOutcome emits draft.sent or draft.failed: OutboxOptions.OnOutcome.
func (w *Webhooks) OnOutcome(d parley.Draft, err error) {
	if w == nil {
		return
	}
	if err == nil {
		w.Emit(parley.EventDraftSent, d.PersonID, map[string]any{"draft": d})
		return
	}
	w.Emit(parley.EventDraftFailed, d.PersonID, map[string]any{"draft": d, "error": err.Error()})
}
