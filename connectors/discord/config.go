// Package discord connects Parley to Discord through a bot account: it
// listens on the gateway for mentions of the bot, brand keywords in watched
// channels and direct messages, catches up on missed messages from the REST
// history on every (re)connect, posts approved replies (idempotently, with a
// nonce), and mirrors the approval queue into a staff channel with
// Approve / Edit / Reject buttons.
//
// No discordgo type leaves this package: the rest of Parley sees
// parley.Mention, parley.Outgoing and parley.Store only.
package discord

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/parleybot/parley"
)

// DefaultTokenEnv is the environment variable that holds the bot token when
// token_env is not set.
const DefaultTokenEnv = "PARLEY_DISCORD_TOKEN" //nolint:gosec // G101: the name of an environment variable, not a secret

// DefaultAPIURL is Discord's own API. Requests go to <api_url>/api/v9/...
const DefaultAPIURL = "https://discord.com"

// Config is the connectors.discord section of Parley's config file.
type Config struct {
	// TokenEnv names the environment variable holding the bot token
	// (default PARLEY_DISCORD_TOKEN). When it is unset, the variable
	// <TokenEnv>_FILE may name a file holding the token instead.
	TokenEnv string `yaml:"token_env"`
	// Guilds, when set, restricts listening to these servers (direct
	// messages are always heard).
	Guilds []string `yaml:"guilds"`
	// Channels are watched for Keywords and caught up on after downtime.
	// Threads inside them are watched too.
	Channels []string `yaml:"channels"`
	// Keywords are brand words; a message in a watched channel containing
	// one (case-insensitive, as a whole word) is a mention.
	Keywords []string `yaml:"keywords"`
	// StaffChannel, when set, receives every new pending draft with
	// Approve / Edit / Reject buttons.
	StaffChannel string `yaml:"staff_channel"`
	// StaffRoles are the role ids allowed to press those buttons.
	StaffRoles []string `yaml:"staff_roles"`
	// APIURL is the base URL of the Discord API (default
	// https://discord.com); the gateway URL comes from its /api/v9/gateway.
	APIURL string `yaml:"api_url"`
}

// TokenVar returns the name of the environment variable holding the token.
func (c Config) TokenVar() string {
	if strings.TrimSpace(c.TokenEnv) == "" {
		return DefaultTokenEnv
	}
	return strings.TrimSpace(c.TokenEnv)
}

// Token reads the bot token from the environment variable TokenVar(), or
// else from the file named by TokenVar()+"_FILE" (surrounding white space
// trimmed). Errors (EINVALID) say which variable is missing or which file
// cannot be read; they never contain the token.
func (c Config) Token(getenv func(string) string) (string, error) {
	name := c.TokenVar()
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v, nil
	}
	file := strings.TrimSpace(getenv(name + "_FILE"))
	if file == "" {
		return "", parley.Errorf(parley.EINVALID, "connectors.discord.token_env: environment variable %s is not set (nor %s_FILE naming a file with the bot token)", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "connectors.discord.token_env: reading the token file named by %s_FILE: %w", name, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", parley.Errorf(parley.EINVALID, "connectors.discord.token_env: the token file %s (from %s_FILE) is empty", file, name)
	}
	return tok, nil
}

// Warnings returns what is allowed but unsafe in the section (a plain
// http:// api_url), for `parley check` and the log.
func (c Config) Warnings() []string {
	u, err := c.apiBase()
	if err != nil {
		return nil // Validate reports it
	}
	if w := parley.PlainHTTPWarning("connectors.discord.api_url", u); w != "" {
		return []string{w}
	}
	return nil
}

// apiBase returns the API base URL without a trailing slash or /api/vN.
func (c Config) apiBase() (*url.URL, error) {
	raw := strings.TrimSpace(c.APIURL)
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v9")
	p = strings.TrimSuffix(p, "/api")
	u.Path = p
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Validate checks the section and returns every problem found, each saying
// which key is wrong and how to fix it (nil when the section is usable).
// getenv reads the environment (os.Getenv in production); the token itself
// is never part of a message.
func (c Config) Validate(getenv func(string) string) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, parley.Errorf(parley.EINVALID, "connectors.discord."+format, args...))
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if _, err := c.Token(getenv); err != nil {
		errs = append(errs, err)
	}
	checkIDs := func(key string, ids []string) {
		seen := map[string]bool{}
		for i, id := range ids {
			if !isSnowflake(id) {
				add("%s[%d]: %q is not a Discord id (a number; turn on Developer Mode in Discord and use Copy ID)", key, i, id)
				continue
			}
			if seen[id] {
				add("%s[%d]: %s is listed twice", key, i, id)
			}
			seen[id] = true
		}
	}
	checkIDs("guilds", c.Guilds)
	checkIDs("channels", c.Channels)
	checkIDs("staff_roles", c.StaffRoles)
	for i, k := range c.Keywords {
		if strings.TrimSpace(k) == "" {
			add("keywords[%d]: empty keyword", i)
		}
	}
	if len(c.Keywords) > 0 && len(c.Channels) == 0 {
		add("keywords: keywords are matched only in the configured channels, and channels is empty (add the channel ids to watch)")
	}
	if c.StaffChannel != "" && !isSnowflake(c.StaffChannel) {
		add("staff_channel: %q is not a Discord channel id (a number; turn on Developer Mode in Discord and use Copy ID)", c.StaffChannel)
	}
	if c.StaffChannel != "" && len(c.StaffRoles) == 0 {
		add("staff_roles: staff_channel is set but staff_roles is empty, so nobody could press Approve; list the role ids of your community managers")
	}
	if c.StaffChannel == "" && len(c.StaffRoles) > 0 {
		add("staff_channel: staff_roles is set but staff_channel is empty; set the channel where drafts are posted for approval")
	}
	if _, err := c.apiBase(); err != nil {
		add("api_url: %v", err)
	}
	return errs
}

func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
