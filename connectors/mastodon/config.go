// Package mastodon connects Parley to a server speaking the Mastodon client
// API (Mastodon, GoToSocial, Akkoma, ...) through one bot account.
//
// Listening: the websocket streaming API (/api/v1/streaming) for mentions
// (stream user:notification, or user when keywords are configured, whose
// home timeline updates are matched against the keywords) and for each
// configured hashtag (stream hashtag), plus polling of the notifications,
// hashtag timelines and keyword search with a cursor (min_id) persisted per
// feed in a parley.CursorStore. A feed is polled on start, on every stream
// (re)connect, after a frame it could not read, and every poll_interval, so
// a restart, a dropped connection or a server without streaming leaves no
// gap; a mention seen on both the stream and a poll is delivered once.
//
// Speaking: approved replies are posted as replies (in_reply_to_id) with
// the same visibility as the post they answer, mentioning its author;
// prompts go as direct messages. Every post carries an Idempotency-Key, so
// a retry never posts twice.
//
// Only root types (parley.Mention, parley.Outgoing, ...) leave this
// package; go-mastodon and JSON shapes stay inside.
package mastodon

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// DefaultTokenEnv is the environment variable that holds the access token
// when token_env is not set.
const DefaultTokenEnv = "PARLEY_MASTODON_TOKEN" //nolint:gosec // G101: the name of an environment variable, not a secret

// DefaultPollInterval is how often each feed is polled when poll_interval
// is not set.
const DefaultPollInterval = time.Minute

// MinPollInterval is the shortest poll_interval Validate accepts; shorter
// ones would spend the server's rate limit (300 requests per 5 minutes on
// Mastodon) for nothing.
const MinPollInterval = 10 * time.Second

// Config is one connectors.mastodon entry of Parley's config file: one bot
// account on one server. Several may be configured, told apart by Name.
type Config struct {
	// Server is the base URL of the server, e.g. https://mastodon.social.
	Server string `yaml:"server"`
	// TokenEnv names the environment variable holding the account's access
	// token (default PARLEY_MASTODON_TOKEN). When that variable is unset,
	// the variable <TokenEnv>_FILE may name a file holding the token (for
	// Docker or systemd credentials). `parley mastodon login --server URL`
	// creates a token.
	TokenEnv string `yaml:"token_env"`
	// Keywords are brand words searched for (v2 search, polled) and matched
	// (case-insensitive, whole words) in the account's home timeline.
	Keywords []string `yaml:"keywords"`
	// Hashtags (without or with the leading #) are followed by their
	// stream where the server offers one and by polling their timeline.
	Hashtags []string `yaml:"hashtags"`
	// PollInterval is how often every feed is polled (default 1m, at
	// least 10s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Name is an optional label telling several accounts apart in logs,
	// config errors and the cursor store.
	Name string `yaml:"name"`
}

// TokenVar returns the name of the environment variable holding the token.
func (c Config) TokenVar() string {
	if v := strings.TrimSpace(c.TokenEnv); v != "" {
		return v
	}
	return DefaultTokenEnv
}

// Interval returns the poll interval, DefaultPollInterval when unset.
func (c Config) Interval() time.Duration {
	if c.PollInterval <= 0 {
		return DefaultPollInterval
	}
	return c.PollInterval
}

// prefix is the config path used in error messages.
func (c Config) prefix() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return "connectors.mastodon[" + n + "]"
	}
	return "connectors.mastodon"
}

// Token reads the access token from the environment variable TokenVar(),
// or else from the file named by TokenVar()+"_FILE" (surrounding white
// space trimmed). Errors (EINVALID) say which variable is missing or which
// file cannot be read; they never contain the token.
func (c Config) Token(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	name := c.TokenVar()
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v, nil
	}
	file := strings.TrimSpace(getenv(name + "_FILE"))
	if file == "" {
		return "", parley.Errorf(parley.EINVALID, "%s: token_env %s is not set in the environment (nor %s_FILE naming a file with the token); create a token with `parley mastodon login --server %s`", c.prefix(), name, name, orPlaceholder(c.Server))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", parley.Errorf(parley.EINVALID, "%s: reading the token file named by %s_FILE: %w", c.prefix(), name, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", parley.Errorf(parley.EINVALID, "%s: the token file %s (from %s_FILE) is empty", c.prefix(), file, name)
	}
	return tok, nil
}

func orPlaceholder(server string) string {
	if strings.TrimSpace(server) == "" {
		return "URL"
	}
	return strings.TrimSpace(server)
}

// ServerURL returns the server's base URL, without a trailing slash,
// query or fragment, or an EINVALID error saying what is wrong with it.
func (c Config) ServerURL() (*url.URL, error) {
	raw := strings.TrimSpace(c.Server)
	if raw == "" {
		return nil, parley.Errorf(parley.EINVALID, "%s.server: missing; set it to the base URL of the bot account's server, e.g. https://mastodon.social", c.prefix())
	}
	if !strings.Contains(raw, "://") {
		return nil, parley.Errorf(parley.EINVALID, "%s.server: %q has no scheme; write https://%s", c.prefix(), raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "%s.server: %q is not a URL: %w", c.prefix(), raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, parley.Errorf(parley.EINVALID, "%s.server: %q is not an absolute http(s) URL, e.g. https://mastodon.social", c.prefix(), raw)
	}
	if u.User != nil {
		return nil, parley.Errorf(parley.EINVALID, "%s.server: %q must not contain a user name or password; the token comes from token_env", c.prefix(), u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

// Warnings returns what is allowed but unsafe in the section (a plain
// http:// server), for `parley check` and the log.
func (c Config) Warnings() []string {
	u, err := c.ServerURL()
	if err != nil {
		return nil // Validate reports it
	}
	if w := parley.PlainHTTPWarning(c.prefix()+".server", u); w != "" {
		return []string{w}
	}
	return nil
}

var hashtagRE = regexp.MustCompile(`^[\p{L}\p{N}_\p{M}]+$`)

// normHashtag strips a leading # and white space.
func normHashtag(h string) string {
	return strings.TrimPrefix(strings.TrimSpace(h), "#")
}

// Validate checks the section and returns every problem found, each saying
// which key is wrong and how to fix it (nil when the section is usable).
// getenv reads the environment (os.Getenv when nil); the token itself is
// never part of a message.
func (c Config) Validate(getenv func(string) string) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, parley.Errorf(parley.EINVALID, c.prefix()+"."+format, args...))
	}
	if _, err := c.ServerURL(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Token(getenv); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, k := range c.Keywords {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			add("keywords[%d]: empty keyword", i)
		case seen["k:"+strings.ToLower(k)]:
			add("keywords[%d]: %q is listed twice", i, k)
		}
		seen["k:"+strings.ToLower(k)] = true
	}
	for i, h := range c.Hashtags {
		t := normHashtag(h)
		switch {
		case t == "":
			add("hashtags[%d]: empty hashtag", i)
		case !hashtagRE.MatchString(t):
			add("hashtags[%d]: %q is not a hashtag (letters, digits and _ only, e.g. \"acme\" or \"#acme\")", i, h)
		case seen["h:"+strings.ToLower(t)]:
			add("hashtags[%d]: %q is listed twice", i, h)
		}
		seen["h:"+strings.ToLower(t)] = true
	}
	if c.PollInterval < 0 {
		add("poll_interval: %s is negative", c.PollInterval)
	} else if c.PollInterval > 0 && c.PollInterval < MinPollInterval {
		add("poll_interval: %s is too short (at least %s; the server's rate limit is shared by every feed)", c.PollInterval, MinPollInterval)
	}
	if n := strings.TrimSpace(c.Name); n != "" && strings.ContainsAny(n, ": \t\n") {
		add("name: %q must not contain spaces or colons", n)
	}
	return errs
}

// String labels the account for logs: its Name, else the server's host
// (never the token).
func (c Config) String() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	if u, err := c.ServerURL(); err == nil {
		return u.Host
	}
	return strings.TrimSpace(c.Server)
}
