package digest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

// noticePoster is a Discord poster that keeps the notices it is given;
// its first post fails as a platform hiccup does.
type noticePoster struct {
	mu      sync.Mutex
	tries   int
	notices []digest.Notice
}

func (p *noticePoster) PostDigest(context.Context, digest.Target, *digest.Digest) error { return nil }

func (p *noticePoster) PostNotice(_ context.Context, t digest.Target, n digest.Notice) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tries++
	if p.tries == 1 {
		return parley.Errorf(parley.EUNAVAILABLE, "discord: 502")
	}
	if t.Channel != "300000000000000002" {
		return parley.Errorf(parley.ENOTFOUND, "channel %s", t.Channel)
	}
	p.notices = append(p.notices, n)
	return nil
}

// A notice (an alert) goes through the digest's delivery: the Discord
// poster, retried, and an email through the same SMTP settings.
func TestNotifyDeliversToDiscordAndEmail(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	mb := startMailbox(t, serverTLS)
	poster := &noticePoster{}
	env := map[string]string{"PARLEY_SMTP_USER": "digest-bot", "PARLEY_SMTP_PASSWORD": "s3cret"}
	svc, err := digest.NewService(fixtureStore(t), digest.Config{}, digest.ServiceOptions{
		Posters: map[string]digest.Poster{digest.TargetDiscord: poster}, Getenv: func(k string) string { return env[k] },
		Backoff: 10 * time.Millisecond, EmailTLS: clientTLS, EmailTimeout: 5 * time.Second})
	require.NoError(t, err)
	targets := []digest.Target{
		{Type: digest.TargetDiscord, Channel: "300000000000000002"},
		{Type: digest.TargetEmail, SMTP: mb.addr, From: "parley@example.com", To: []string{"ana@example.com"},
			UsernameEnv: "PARLEY_SMTP_USER", PasswordEnv: "PARLEY_SMTP_PASSWORD"},
	}
	n := digest.Notice{ID: "alert-7", Subject: "[Parley] Negative spike", Text: "21 negative mentions in the last hour"}
	out, err := svc.Notify(context.Background(), targets, n)
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.Equal(t, 2, out[0].Attempts, "the hiccup is retried")
	assert.True(t, out[1].OK, out[1].Error)
	assert.Equal(t, []digest.Notice{n}, poster.notices)
	msgs := mb.received()
	require.Len(t, msgs, 1)
	assert.Equal(t, "digest-bot", msgs[0].user)
	assert.Contains(t, string(msgs[0].data), "Subject: [Parley] Negative spike")
	assert.Contains(t, string(msgs[0].data), "21 negative mentions in the last hour")

	_, err = svc.Notify(context.Background(), []digest.Target{{Type: digest.TargetDiscord, Channel: "1"}}, n)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "1 of 1 targets failed")
	_, err = svc.Notify(context.Background(), []digest.Target{{Type: digest.TargetFile, Dir: t.TempDir()}}, n)
	assert.Contains(t, err.Error(), "a notice cannot go to a file target")
}

func TestValidateTargetsForAlerts(t *testing.T) {
	errs := digest.ValidateTargets("alerts.channels", []digest.Target{
		{Type: digest.TargetDiscord, Channel: "300000000000000002"},
		{Type: digest.TargetFile, Dir: "x"},
		{Type: digest.TargetEmail, SMTP: "mail.example.com"},
		{Type: "pager"},
	}, digest.NoticeTargetTypes, nil)
	var msgs []string
	for _, err := range errs {
		var fe *digest.FieldError
		require.ErrorAs(t, err, &fe)
		msgs = append(msgs, fe.Path+" → "+err.Error())
	}
	text := strings.Join(msgs, "\n")
	assert.Contains(t, text, `alerts.channels[1] → alerts.channels[1] (file): type "file": want discord or email`)
	assert.Contains(t, text, `alerts.channels[2] → alerts.channels[2] (email): smtp "mail.example.com": want host:port`)
	assert.Contains(t, text, `alerts.channels[3] → alerts.channels[3] (pager): type "pager": want discord or email`)
	assert.NotContains(t, text, "channels[0]")
}
