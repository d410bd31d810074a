package mastodon

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSeveralAccountsNamespaceStatusIDs(t *testing.T) {
	s := &apiStatus{ID: "109", InReplyToID: "108", Content: "<p>hi</p>", Visibility: "public"}
	single := toMention(s, "example.social", "notifications", "", time.Now())
	assert.Equal(t, "109", single.ExternalID)
	assert.Equal(t, "108", single.InReplyTo)
	assert.Empty(t, single.Account)

	named := toMention(s, "example.social", "notifications", "eu", time.Now())
	assert.Equal(t, "eu:109", named.ExternalID)
	assert.Equal(t, "eu:108", named.InReplyTo)
	assert.Equal(t, "eu", named.Account)

	c := &Connector{cfg: Config{Name: "eu"}}
	assert.Equal(t, "109", c.statusID("eu:109"))
	assert.Equal(t, "109", (&Connector{}).statusID("109"))
}
