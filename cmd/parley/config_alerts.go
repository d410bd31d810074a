package main

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/internal/yamlpos"
)

// AlertsConfig is the alerts: section: real-time alerts to the staff.
// config.example.yaml and docs/configuration.md describe each key.
type AlertsConfig struct {
	// Enabled runs the detectors in parley run; off by default.
	Enabled bool `yaml:"enabled"`
	// Cooldown keeps an alert about the same thing from repeating within
	// it; default 2h, from 1h (the large-reach look-back) to 7 days.
	Cooldown time.Duration `yaml:"cooldown"`
	Spike    struct {
		// Enabled: the mention and negative-mention spikes (default on).
		Enabled *bool `yaml:"enabled"`
		// Weeks back the baseline reads (default 6, 1 to 52); MinWeeks of
		// them must have passed since the first mention (default 3).
		Weeks    int `yaml:"weeks"`
		MinWeeks int `yaml:"min_weeks"`
		// K is how many standard deviations above the mean make a spike
		// (default 3, up to 20).
		K float64 `yaml:"k"`
		// The floors: at least this many mentions (default 10) or
		// negative mentions (default 5) in the hour.
		MinMentions int `yaml:"min_mentions"`
		MinNegative int `yaml:"min_negative"`
	} `yaml:"spike"`
	// LargeReachFollowers alerts on a negative post by an author with at
	// least this many followers; 0 (the default) turns it off.
	LargeReachFollowers int `yaml:"large_reach_followers"`
	// Overdue alerts once on each conversation waiting past
	// digest.response_target (the inbox's overdue mark); default on.
	Overdue *bool `yaml:"overdue"`
	// Channels are where alerts go besides the alert.raised webhook:
	// discord (channel defaults to connectors.discord.staff_channel) and
	// email targets, written as digest targets.
	Channels []digest.Target `yaml:"channels"`
}

// maxAlertCooldown bounds alerts.cooldown.
const maxAlertCooldown = 7 * 24 * time.Hour

// check reports what is wrong with the alerts: section, each at its line.
func (a *AlertsConfig) check(root *yaml.Node, dc *discord.Config, getenv func(string) string, add func(int, string, ...any)) {
	line := func(key ...string) int { return keyLine(root, append([]string{"alerts"}, key...)...) }
	if a.Cooldown != 0 && (a.Cooldown < bot.LargeReachWindow || a.Cooldown > maxAlertCooldown) {
		add(line("cooldown"), "alerts.cooldown %s: want between 1h and 168h (7 days), e.g. 2h", a.Cooldown)
	}
	s := a.Spike
	if s.Weeks < 0 || s.Weeks > 52 {
		add(line("spike", "weeks"), "alerts.spike.weeks %d: want 1 to 52 weeks of history", s.Weeks)
	}
	weeks := s.Weeks
	if weeks == 0 {
		weeks = 6
	}
	if s.MinWeeks < 0 || s.MinWeeks > weeks {
		add(line("spike", "min_weeks"), "alerts.spike.min_weeks %d: want 1 to alerts.spike.weeks (%d)", s.MinWeeks, weeks)
	}
	if s.K != 0 && (s.K < 0.5 || s.K > 20) {
		add(line("spike", "k"), "alerts.spike.k %g: want a number of standard deviations from 0.5 to 20, e.g. 3", s.K)
	}
	if s.MinMentions < 0 {
		add(line("spike", "min_mentions"), "alerts.spike.min_mentions %d: want 0 or more mentions in the hour", s.MinMentions)
	}
	if s.MinNegative < 0 {
		add(line("spike", "min_negative"), "alerts.spike.min_negative %d: want 0 or more negative mentions in the hour", s.MinNegative)
	}
	if a.LargeReachFollowers < 0 {
		add(line("large_reach_followers"), "alerts.large_reach_followers %d: want a number of followers, or 0 for off", a.LargeReachFollowers)
	}
	// A Discord channel without an id goes to the staff channel.
	for i := range a.Channels {
		c := &a.Channels[i]
		if c.Type != digest.TargetDiscord {
			continue
		}
		if dc == nil {
			add(yamlpos.Line(root, fmt.Sprintf("alerts.channels[%d]", i)),
				"alerts.channels[%d] (discord): connectors.discord is not configured, so nothing can post there", i)
			continue
		}
		if c.Channel == "" {
			c.Channel = dc.StaffChannel
		}
	}
	for _, err := range digest.ValidateTargets("alerts.channels", a.Channels, digest.NoticeTargetTypes, getenv) {
		at := line("channels")
		if fe := (*digest.FieldError)(nil); errors.As(err, &fe) {
			at = yamlpos.Line(root, fe.Path)
		}
		add(at, "%v", err)
	}
}

// options are the detectors' options (bot.NewAlerts fills the defaults);
// responseTarget is digest.response_target with its default.
func (a *AlertsConfig) options(responseTarget time.Duration) bot.AlertsOptions {
	o := bot.AlertsOptions{Cooldown: a.Cooldown, LargeReachFollowers: a.LargeReachFollowers,
		Spike: bot.SpikeOptions{Weeks: a.Spike.Weeks, MinWeeks: a.Spike.MinWeeks, K: a.Spike.K,
			MinMentions: a.Spike.MinMentions, MinNegative: a.Spike.MinNegative,
			Off: a.Spike.Enabled != nil && !*a.Spike.Enabled}}
	if a.Overdue == nil || *a.Overdue {
		o.ResponseTarget = responseTarget
	}
	return o
}
