package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/digest"
)

func TestConfigAlerts(t *testing.T) {
	parse := func(y string) (*Config, error) {
		return ParseConfig("c.yaml", []byte("brand: {name: X}\n"+y), func(k string) string {
			return map[string]string{"PARLEY_DISCORD_TOKEN": "t"}[k]
		})
	}
	cfg, err := parse(`connectors:
  discord:
    token_env: PARLEY_DISCORD_TOKEN
    channels: ["300000000000000009"]
    staff_channel: "300000000000000002"
    staff_roles: ["300000000000000003"]
alerts:
  enabled: true
  cooldown: 3h
  spike: {weeks: 8, k: 2.5, min_mentions: 20}
  large_reach_followers: 10000
  channels:
    - {type: discord}
    - {type: email, smtp: "smtp.example.com:587", from: parley@example.com, to: [ana@example.com]}
`)
	require.NoError(t, err)
	a := cfg.Alerts
	assert.True(t, a.Enabled)
	assert.Equal(t, "300000000000000002", a.Channels[0].Channel, "a discord channel defaults to the staff channel")
	o := a.options(45 * time.Minute)
	assert.Equal(t, 3*time.Hour, o.Cooldown)
	assert.Equal(t, 8, o.Spike.Weeks)
	assert.InDelta(t, 2.5, o.Spike.K, 1e-9)
	assert.Equal(t, 20, o.Spike.MinMentions)
	assert.False(t, o.Spike.Off)
	assert.Equal(t, 10000, o.LargeReachFollowers)
	assert.Equal(t, 45*time.Minute, o.ResponseTarget, "overdue is on by default, at the digest's target")

	cfg, err = parse("alerts: {enabled: true, overdue: false, spike: {enabled: false}}\n")
	require.NoError(t, err)
	o = cfg.Alerts.options(time.Hour)
	assert.Zero(t, o.ResponseTarget)
	assert.True(t, o.Spike.Off)

	_, err = parse(`alerts:
  enabled: true
  cooldown: 10m
  spike:
    weeks: 60
    min_weeks: 70
    k: 0.1
    min_mentions: -1
  large_reach_followers: -5
  channels:
    - {type: discord}
    - {type: file, dir: x}
    - {type: email, smtp: "smtp.example.com", from: parley@example.com, to: [ana@example.com]}
`)
	require.Error(t, err)
	for _, want := range []string{
		"c.yaml:4: alerts.cooldown 10m0s: want between 1h and 168h",
		"c.yaml:6: alerts.spike.weeks 60: want 1 to 52",
		"c.yaml:7: alerts.spike.min_weeks 70",
		"c.yaml:8: alerts.spike.k 0.1",
		"c.yaml:9: alerts.spike.min_mentions -1",
		"c.yaml:10: alerts.large_reach_followers -5",
		"c.yaml:12: alerts.channels[0] (discord): connectors.discord is not configured",
		`c.yaml:13: alerts.channels[1] (file): type "file": want discord or email`,
		`c.yaml:14: alerts.channels[2] (email): smtp "smtp.example.com": want host:port`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, []string{digest.TargetDiscord, digest.TargetEmail}, digest.NoticeTargetTypes)
}
