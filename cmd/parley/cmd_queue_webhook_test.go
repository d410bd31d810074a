package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

// An approval from the CLI emits draft.approved as one from the web does
// (both through Webhooks.OnDecided): the event is stored for the
// subscribed webhook before the command returns, for 'parley run' to
// deliver.
func TestQueueApproveEmitsDraftApproved(t *testing.T) {
	ctx := context.Background()
	db := demoDB(t)
	st := storetest.Open(t, storetest.Path(db))
	hook, err := st.AddWebhook(ctx, parley.Webhook{URL: "https://crm.example/parley", Secret: "0123456789abcdef",
		Events: []string{parley.EventDraftApproved}})
	require.NoError(t, err)
	pending, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 2})
	require.NoError(t, err)
	require.Len(t, pending, 2)
	require.NoError(t, st.Close())

	r := parleyRun(t, "", "queue", "approve", fmt.Sprint(pending[0].ID), "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "queue", "reject", fmt.Sprint(pending[1].ID), "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)

	st = storetest.Open(t, storetest.Path(db))
	ds, err := st.WebhookDeliveries(ctx, hook.ID, 10)
	require.NoError(t, err)
	require.Len(t, ds, 1, "the approval, not the rejection")
	assert.Equal(t, parley.EventDraftApproved, ds[0].EventType)
	assert.Equal(t, parley.DeliveryPending, ds[0].State)
	var body struct {
		Type string `json:"type"`
		Data struct {
			Action string       `json:"action"`
			Draft  parley.Draft `json:"draft"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ds[0].Body, &body))
	assert.Equal(t, parley.EventDraftApproved, body.Type)
	assert.Equal(t, "approve", body.Data.Action)
	assert.Equal(t, pending[0].ID, body.Data.Draft.ID)
	assert.Equal(t, "ana", body.Data.Draft.DecidedBy)
}
