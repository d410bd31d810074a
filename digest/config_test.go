package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

func TestConfigFromYAML(t *testing.T) {
	var doc struct {
		Digest digest.Config `yaml:"digest"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(`
digest:
  schedule: "0 9 * * MON"
  timezone: Europe/Berlin
  response_target: 30m
  targets:
    - {type: file, dir: ./digests}
    - {type: email, smtp: "smtp.example.com:587", from: parley@example.com, to: [ana@example.com],
       username_env: SMTP_USER, password_env: SMTP_PASS, tls: starttls}
    - {type: discord, channel: "123456789012345678"}
    - {type: mastodon, to: ["@ana@example.social"]}
`), &doc))
	c := doc.Digest
	assert.Equal(t, 30*time.Minute, c.ResponseTarget)
	env := map[string]string{"SMTP_USER": "u", "SMTP_PASS": "p"}
	assert.Empty(t, c.Validate(func(k string) string { return env[k] }))
	c = c.WithDefaults()
	assert.Equal(t, []string{"html", "md", "text"}, c.Targets[0].Formats)
	assert.Equal(t, []string{"file ./digests", "email to ana@example.com", "discord channel 123456789012345678",
		"mastodon DM to @ana@example.social"}, []string{c.Targets[0].Key(), c.Targets[1].Key(), c.Targets[2].Key(), c.Targets[3].Key()})

	// A missing secret is reported by name.
	errs := doc.Digest.Validate(func(string) string { return "" })
	require.Len(t, errs, 2)
	assert.Equal(t, "digest.targets[1] (email): environment variable SMTP_USER is not set", errs[0].Error())
}

func TestConfigDefaults(t *testing.T) {
	c := digest.Config{}.WithDefaults()
	assert.Equal(t, digest.DefaultSchedule, c.Schedule)
	assert.Equal(t, "UTC", c.TimeZone)
	assert.Equal(t, time.Hour, c.ResponseTarget)
	assert.Empty(t, digest.Config{}.Validate(nil))
	assert.True(t, digest.Config{Schedule: "off"}.Disabled())
	assert.Empty(t, digest.Config{Schedule: "off"}.Validate(nil))
	assert.Empty(t, digest.Config{Schedule: "@weekly"}.Validate(nil))
}

func TestConfigValidateSaysWhatAndWhere(t *testing.T) {
	c := digest.Config{
		Schedule:       "every monday",
		TimeZone:       "Mars/Olympus",
		ResponseTarget: -time.Minute,
		Targets: []digest.Target{
			{Type: "file"},
			{Type: "email", SMTP: "mail.example.com", From: "nobody", To: []string{"x"}, TLS: "ssl", UsernameEnv: "U"},
			{Type: "discord", Channel: "#general"},
			{Type: "mastodon"},
			{Type: "pigeon"},
			{Type: "file", Dir: "d", Formats: []string{"pdf"}, Channel: "1"},
			{Type: "file", Dir: "d"},
		},
	}
	var msgs []string
	for _, err := range c.Validate(nil) {
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
		msgs = append(msgs, err.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`digest.timezone "Mars/Olympus" is not a known time zone`,
		`digest.schedule "every monday"`,
		`digest.response_target -1m0s`,
		`digest.targets[0] (file): dir is missing`,
		`digest.targets[1] (email): smtp "mail.example.com": want host:port`,
		`digest.targets[1] (email): from "nobody" is not an email address`,
		`digest.targets[1] (email): to "x" is not an email address`,
		`digest.targets[1] (email): tls "ssl": want starttls, tls or none`,
		`digest.targets[1] (email): set both username_env and password_env, or neither`,
		`digest.targets[2] (discord): channel "#general": want a Discord channel id`,
		`digest.targets[3] (mastodon): to is missing`,
		`digest.targets[4] (pigeon): type "pigeon": want file, email, discord or mastodon`,
		`digest.targets[5] (file): format "pdf": want md, html or text`,
		`digest.targets[5] (file): channel does not apply to a file target`,
		`digest.targets[6] (file): same name "file d" as digest.targets[5]`,
	} {
		assert.Contains(t, all, want)
	}
	assert.Len(t, msgs, 15, all)
}
