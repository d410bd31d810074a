package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func testWebhookDeliveries(t *testing.T, st Store) {
	ctx := context.Background()
	_, err := st.AddWebhook(ctx, parley.Webhook{URL: "ftp://example.com/x", Secret: "0123456789abcdef", Events: []string{"*"}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "only http(s)")
	_, err = st.AddWebhook(ctx, parley.Webhook{URL: "https://example.com/x", Secret: "short", Events: []string{"*"}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "a short secret")
	_, err = st.AddWebhook(ctx, parley.Webhook{URL: "https://example.com/x", Secret: "0123456789abcdef", Events: []string{"nope"}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "an unknown event")

	all, err := st.AddWebhook(ctx, parley.Webhook{URL: "https://a.example/hook", Secret: "0123456789abcdef",
		Events: []string{"*"}, CreatedBy: "ana"})
	require.NoError(t, err)
	drafts, err := st.AddWebhook(ctx, parley.Webhook{URL: "https://b.example/hook", Secret: "fedcba9876543210",
		Events: []string{parley.EventDraftSent, parley.EventDraftFailed}, CreatedBy: "ana"})
	require.NoError(t, err)
	hooks, err := st.Webhooks(ctx)
	require.NoError(t, err)
	require.Len(t, hooks, 2)
	assert.Equal(t, []string{parley.EventDraftSent, parley.EventDraftFailed}, hooks[1].Events)
	assert.Equal(t, "fedcba9876543210", hooks[1].Secret)

	data, _ := json.Marshal(map[string]any{"text": "hello"})
	ev := func(id, typ string) parley.Event {
		return parley.Event{ID: id, Type: typ, CreatedAt: t0, Data: data, PersonID: 7}
	}
	n, err := st.EnqueueEvents(ctx, 0, ev("evt_1", parley.EventMentionCreated), ev("evt_2", parley.EventDraftSent))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "mention.created to one webhook, draft.sent to both")
	n, err = st.EnqueueEvents(ctx, 0, ev("evt_1", parley.EventMentionCreated))
	require.NoError(t, err)
	assert.Zero(t, n, "an event is stored once per webhook")
	n, err = st.EnqueueEvents(ctx, drafts.ID, ev("evt_test", parley.EventTest))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a test goes to the one webhook asked")

	now := time.Now().Add(time.Second) // deliveries are due from the store's clock
	claimed, err := st.ClaimDeliveries(ctx, 10, now, time.Minute)
	require.NoError(t, err)
	require.Len(t, claimed, 4)
	again, err := st.ClaimDeliveries(ctx, 10, now.Add(30*time.Second), time.Minute)
	require.NoError(t, err)
	assert.Empty(t, again, "a claimed delivery is held for the lease")

	var first parley.WebhookDelivery
	for _, d := range claimed {
		assert.Equal(t, 1, d.Attempts)
		if d.EventID == "evt_1" {
			first = d
		}
	}
	require.NotZero(t, first.ID)
	assert.Equal(t, all.ID, first.WebhookID)
	assert.Equal(t, "https://a.example/hook", first.URL)
	assert.Equal(t, "0123456789abcdef", first.Secret)
	var body parley.Event
	require.NoError(t, json.Unmarshal(first.Body, &body))
	assert.Equal(t, "evt_1", body.ID)
	assert.Equal(t, parley.EventMentionCreated, body.Type)
	assert.JSONEq(t, `{"text":"hello"}`, string(body.Data))

	// A failure with a retry time puts it back; success delivers it.
	require.NoError(t, st.RecordAttempt(ctx, parley.WebhookAttempt{DeliveryID: first.ID, At: now, Status: 500,
		Error: "HTTP 500", Duration: 40 * time.Millisecond}, false, now.Add(10*time.Second)))
	retried, err := st.ClaimDeliveries(ctx, 10, now.Add(11*time.Second), time.Minute)
	require.NoError(t, err)
	require.Len(t, retried, 1)
	assert.Equal(t, first.ID, retried[0].ID)
	assert.Equal(t, 2, retried[0].Attempts)
	require.NoError(t, st.RecordAttempt(ctx, parley.WebhookAttempt{DeliveryID: first.ID, At: now.Add(12 * time.Second),
		Status: 204}, true, time.Time{}))

	log, err := st.WebhookDeliveries(ctx, all.ID, 10)
	require.NoError(t, err)
	require.Len(t, log, 2)
	got := log[1] // newest first: evt_2 was enqueued after evt_1
	assert.Equal(t, "evt_1", got.EventID)
	assert.Equal(t, parley.DeliveryDelivered, got.State)
	assert.Equal(t, 204, got.LastStatus)
	attempts, err := st.WebhookAttempts(ctx, first.ID)
	require.NoError(t, err)
	require.Len(t, attempts, 2)
	assert.Equal(t, 500, attempts[0].Status)
	assert.Equal(t, "HTTP 500", attempts[0].Error)
	assert.Equal(t, 40*time.Millisecond, attempts[0].Duration)
	assert.Equal(t, 204, attempts[1].Status)

	// Failed for good: no retry time.
	require.NoError(t, st.RecordAttempt(ctx, parley.WebhookAttempt{DeliveryID: claimed[1].ID, Status: 410}, false, time.Time{}))
	log, err = st.WebhookDeliveries(ctx, claimed[1].WebhookID, 10)
	require.NoError(t, err)
	for _, d := range log {
		if d.ID == claimed[1].ID {
			assert.Equal(t, parley.DeliveryFailed, d.State)
		}
	}

	require.NoError(t, st.RemoveWebhook(ctx, drafts.ID))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(st.RemoveWebhook(ctx, drafts.ID)))
	log, err = st.WebhookDeliveries(ctx, drafts.ID, 10)
	require.NoError(t, err)
	assert.Empty(t, log, "its deliveries go with it")
}
