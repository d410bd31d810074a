package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/webhook"
)

const hookSecret = "whsec_0123456789abcdef"

// receiver is a webhook endpoint that checks every signature and answers
// with the statuses it is given, then 204.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	got      []parley.Event // the deliveries it accepted
	tries    int
	bad      []string // what failed verification
	done     chan parley.Event
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, statuses: statuses, done: make(chan parley.Event, 16)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if err := webhook.Verify(hookSecret, req.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		r.bad = append(r.bad, err.Error())
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var e parley.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != req.Header.Get(webhook.EventIDHeader) {
		r.bad = append(r.bad, "body and Parley-Event-Id disagree")
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if len(r.statuses) > 0 {
		st := r.statuses[0]
		r.statuses = r.statuses[1:]
		w.WriteHeader(st)
		return
	}
	r.got = append(r.got, e)
	w.WriteHeader(http.StatusNoContent)
	r.done <- e
}

func (r *receiver) wait(t *testing.T) parley.Event {
	t.Helper()
	select {
	case e := <-r.done:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("the receiver got nothing")
	}
	return parley.Event{}
}

func addHook(t *testing.T, st parley.WebhookStore, url string, events ...string) parley.Webhook {
	t.Helper()
	w, err := st.AddWebhook(context.Background(), parley.Webhook{URL: url, Secret: hookSecret, Events: events, CreatedBy: "ana"})
	require.NoError(t, err)
	return w
}

func runWebhooks(t *testing.T, w *bot.Webhooks) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			assert.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

func client() *webhook.Client { return webhook.NewClient(webhook.Options{AllowPrivate: true}) }

func TestWebhooksSignedDelivery(t *testing.T) {
	st := storetest.Open(t)
	rcv, srv := newReceiver(t)
	hook := addHook(t, st, srv.URL+"/hook", parley.EventMentionCreated)
	w := bot.NewWebhooks(st, client(), bot.WebhooksOptions{})
	runWebhooks(t, w)

	w.Emit(parley.EventDraftSent, 0, map[string]any{"draft": 1}) // not subscribed
	w.Emit(parley.EventMentionCreated, 3, map[string]any{"mention": map[string]any{"id": 9, "text": "hi"}})
	e := rcv.wait(t)
	assert.Equal(t, parley.EventMentionCreated, e.Type)
	assert.Regexp(t, `^evt_[0-9a-f]{32}$`, e.ID)
	assert.JSONEq(t, `{"mention":{"id":9,"text":"hi"}}`, string(e.Data))
	rcv.mu.Lock()
	assert.Empty(t, rcv.bad)
	rcv.mu.Unlock()

	ds, err := st.WebhookDeliveries(context.Background(), hook.ID, 10)
	require.NoError(t, err)
	require.Len(t, ds, 1, "only the subscribed event was stored")
	assert.Equal(t, e.ID, ds[0].EventID)
}

func TestWebhooksRetryAfterReceiverFails(t *testing.T) {
	st := storetest.Open(t)
	rcv, srv := newReceiver(t, http.StatusInternalServerError, http.StatusBadGateway)
	hook := addHook(t, st, srv.URL, "*")
	w := bot.NewWebhooks(st, client(), bot.WebhooksOptions{RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
		Interval: 5 * time.Millisecond})
	runWebhooks(t, w)
	w.Emit(parley.EventDraftFailed, 0, map[string]any{"draft": 4})
	e := rcv.wait(t)

	var ds []parley.WebhookDelivery
	require.Eventually(t, func() bool { // the receiver answers before the attempt is recorded
		var err error
		ds, err = st.WebhookDeliveries(context.Background(), hook.ID, 10)
		return err == nil && len(ds) == 1 && ds[0].State == parley.DeliveryDelivered
	}, 30*time.Second, 5*time.Millisecond)
	assert.Equal(t, 3, ds[0].Attempts)
	attempts, err := st.WebhookAttempts(context.Background(), ds[0].ID)
	require.NoError(t, err)
	require.Len(t, attempts, 3)
	assert.Equal(t, []int{500, 502, 204}, []int{attempts[0].Status, attempts[1].Status, attempts[2].Status})
	assert.Contains(t, attempts[0].Error, "500")
	assert.Equal(t, e.ID, ds[0].EventID, "every retry sends the same event id")
	rcv.mu.Lock()
	assert.Equal(t, 3, rcv.tries)
	assert.Empty(t, rcv.bad, "each retry is signed afresh")
	rcv.mu.Unlock()
}

func TestWebhooksGiveUpAfterRetryWindow(t *testing.T) {
	st := storetest.Open(t)
	_, srv := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500)
	hook := addHook(t, st, srv.URL, "*")
	// A retry window shorter than the first delay: the first failure is the last.
	w := bot.NewWebhooks(st, client(), bot.WebhooksOptions{RetryBase: time.Hour, RetryFor: time.Minute})
	stop := runWebhooks(t, w)
	_, err := w.Test(context.Background(), hook.ID, "ana")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ds, err := st.WebhookDeliveries(context.Background(), hook.ID, 10)
		return err == nil && len(ds) == 1 && ds[0].State == parley.DeliveryFailed
	}, 30*time.Second, 10*time.Millisecond)
	stop()
}

func TestWebhooksDeliveryAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	st := storetest.Open(t, storetest.Path(path))
	rcv, srv := newReceiver(t)
	hook := addHook(t, st, srv.URL, parley.EventDraftApproved)

	// The first run stops before it sends anything: what it was handed is
	// stored on the way out.
	down := bot.WebhookPosterFunc(func(context.Context, parley.WebhookDelivery, time.Time) (int, time.Duration, error) {
		t.Error("the first run must not post")
		return 0, 0, nil
	})
	first := bot.NewWebhooks(st, down, bot.WebhooksOptions{})
	first.Emit(parley.EventDraftApproved, 0, map[string]any{"draft": 12})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, first.Run(ctx))
	require.NoError(t, st.Close())

	st = storetest.Open(t, storetest.Path(path))
	second := bot.NewWebhooks(st, client(), bot.WebhooksOptions{})
	runWebhooks(t, second)
	e := rcv.wait(t)
	assert.Equal(t, parley.EventDraftApproved, e.Type)
	assert.JSONEq(t, `{"draft":12}`, string(e.Data))
	require.Eventually(t, func() bool {
		ds, err := st.WebhookDeliveries(context.Background(), hook.ID, 10)
		return err == nil && len(ds) == 1 && ds[0].State == parley.DeliveryDelivered
	}, 30*time.Second, 10*time.Millisecond)
}

// A slow receiver holds up its own delivery, never Emit nor the storing
// of other events.
func TestWebhooksSlowReceiverDelaysNothingElse(t *testing.T) {
	st := storetest.Open(t)
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	hook := addHook(t, st, srv.URL, "*")
	w := bot.NewWebhooks(st, client(), bot.WebhooksOptions{Concurrency: 1})
	runWebhooks(t, w)
	t.Cleanup(func() { close(release) }) // runs before the worker stops
	w.Emit(parley.EventMentionCreated, 0, map[string]any{"n": 0})
	<-arrived // the first POST hangs from here on
	for i := range 500 {
		w.Emit(parley.EventMentionCreated, 0, map[string]any{"n": i + 1})
	}
	require.Eventually(t, func() bool {
		ds, err := st.WebhookDeliveries(context.Background(), hook.ID, 1000)
		return err == nil && len(ds) == 501
	}, 30*time.Second, 10*time.Millisecond, "events are stored while the receiver hangs")
}
