package discordtest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restSession returns a discordgo session pointed at the fake through the
// rewriting transport a client would use.
func restSession(t *testing.T, s *Server) *discordgo.Session {
	dg, err := discordgo.New("Bot " + s.Token)
	require.NoError(t, err)
	dg.Client = s.srv.Client()
	dg.Client.Transport = rewrite{base: s.URL, next: dg.Client.Transport}
	return dg
}

func TestHistoryPagingLikeDiscord(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.AddChannel(&discordgo.Channel{ID: "1", GuildID: "9", Type: discordgo.ChannelTypeGuildText}, false)
	var ids []string
	for range 5 {
		ids = append(ids, s.StoreMessage(&discordgo.Message{ChannelID: "1", Content: "x", Author: &discordgo.User{ID: "2"}}).ID)
	}
	dg := restSession(t, s)
	// after: the messages just after, newest first.
	got, err := dg.ChannelMessages("1", 2, "", ids[0], "")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{ids[2], ids[1]}, []string{got[0].ID, got[1].ID})
	assert.Empty(t, got[0].GuildID, "history carries no guild_id")
	// no cursor: the newest, newest first.
	got, err = dg.ChannelMessages("1", 2, "", "", "")
	require.NoError(t, err)
	assert.Equal(t, []string{ids[4], ids[3]}, []string{got[0].ID, got[1].ID})
	_, err = dg.ChannelMessages("404", 2, "", "", "")
	var re *discordgo.RESTError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 10003, re.Message.Code)
}

func TestNonceDedupe(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.AddChannel(&discordgo.Channel{ID: "1", GuildID: "9", Type: discordgo.ChannelTypeGuildText}, false)
	dg := restSession(t, s)
	post := func(nonce string, enforce bool) string {
		body := map[string]any{"content": "hi", "nonce": nonce, "enforce_nonce": enforce}
		resp, err := dg.Request("POST", discordgo.EndpointChannelMessages("1"), body)
		require.NoError(t, err)
		var m discordgo.Message
		require.NoError(t, discordgo.Unmarshal(resp, &m))
		return m.ID
	}
	a := post("n1", true)
	assert.Equal(t, a, post("n1", true), "same nonce, enforced: same message")
	assert.NotEqual(t, a, post("n2", true))
	assert.NotEqual(t, post("n3", false), post("n3", false), "not enforced: two messages")
	assert.Len(t, s.Posted(), 4)
	assert.Equal(t, "n1", s.Nonce(a))
}

type rewrite struct {
	base string
	next http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	u, _ := url.Parse(r.base)
	c := req.Clone(req.Context())
	c.URL.Scheme, c.URL.Host, c.Host = u.Scheme, u.Host, u.Host
	return r.next.RoundTrip(c)
}
