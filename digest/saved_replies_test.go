package digest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

func TestDigestReportsTheSavedRepliesUsed(t *testing.T) {
	d := &digest.Digest{Brand: "Tidewater"}
	d.Response.SavedReplies = []parley.SavedReplyUse{{ID: 1, Title: "Shipping times", Uses: 5}, {ID: 2, Title: "Returns", Uses: 2}}
	assert.Contains(t, d.Markdown(), "Saved replies used: “Shipping times” 5, “Returns” 2")
	html, err := d.HTML(digest.HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, html, "<h3>Saved replies used</h3>")
	assert.Contains(t, html, "<td>Shipping times</td><td class=\"n\">5</td>")

	d.Response.SavedReplies = nil
	assert.NotContains(t, d.Markdown(), "Saved replies used", "no line when none was used")
}

func TestAnUndoneApprovalIsNotCountedForTheAgent(t *testing.T) {
	at := time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)
	w := parley.DigestWindow{
		Audit: []parley.AuditEntry{
			{Action: "approve", Actor: "ana", DraftID: 1, At: at},
			{Action: "undo", Actor: "ana", DraftID: 1, At: at.Add(5 * time.Second)},
			{Action: "approve", Actor: "ana", DraftID: 2, At: at.Add(time.Minute)},
			{Action: "undo", Actor: "bo", DraftID: 9, At: at.Add(time.Minute)},
		},
		SavedReplies: []parley.SavedReplyUse{{ID: 3, Title: "Shipping", Uses: 4}},
	}
	d := digest.Compute(digest.Week{Year: 2026, Num: 47}, w, parley.DigestWindow{}, nil, digest.Options{Location: time.UTC, AsOf: at.Add(time.Hour)})
	assert.Equal(t, []digest.Agent{{Name: "ana", Approved: 1}}, d.Response.Agents, "bo only undid one from the week before")
	assert.Equal(t, w.SavedReplies, d.Response.SavedReplies)
}
