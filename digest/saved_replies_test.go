package digest_test

import (
	"testing"

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
