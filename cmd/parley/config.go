package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/internal/yamlpos"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/advocate"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/web"
)

// Config is Parley's configuration file. config.example.yaml documents
// every key. Secrets are never in it: sections name the environment
// variables that hold them.
type Config struct {
	Brand struct {
		// Name is the brand as replies and the digest name it. Required.
		Name string `yaml:"name"`
		// TimeZone is an IANA zone for quiet hours and the digest.
		TimeZone string `yaml:"timezone"`
	} `yaml:"brand"`
	// Data is the data folder (default ./parley-data); the database is
	// DATA/parley.db unless --db says otherwise.
	Data string `yaml:"data"`
	// Store selects the database: SQLite (default) or PostgreSQL.
	Store     StoreConfig `yaml:"store"`
	Sentiment struct {
		// Model is the classifier: "default" (trained), "vader", or a model
		// file (a path, relative to the working directory) from `parley
		// sentiment retrain`.
		Model string `yaml:"model"`
		// Lexicon overrides the model for brand words and phrases
		// (valence -4..4), e.g. {sick: 2.5} for a skate brand.
		Lexicon sentiment.Lexicon `yaml:"lexicon"`
		// Languages holds lexicons for posts in other languages, by
		// ISO 639-1 code.
		Languages map[string]sentiment.Lexicon `yaml:"languages"`
	} `yaml:"sentiment"`
	// Rules is the rules: list, handed to the rules package with its lines.
	Rules      yaml.Node `yaml:"rules"`
	Connectors struct {
		Mastodon []mastodon.Config `yaml:"mastodon"`
		Discord  *discord.Config   `yaml:"discord"`
	} `yaml:"connectors"`
	// Web is the inbox people use (parley run and parley demo serve it).
	Web web.Config `yaml:"web"`
	// Digest is the weekly digest: schedule, time zone, targets.
	Digest digest.Config `yaml:"digest"`
	// Advocates is the advocates: section: scoring, states, prompts,
	// consent (rules/advocate; defaults when absent).
	Advocates advocate.Config `yaml:"advocates"`

	// Outbox is the outbox: section: how approved replies go out.
	Outbox struct {
		// UndoGrace is how long an approved draft waits before it is
		// posted; until then Undo returns it to pending. Unset means
		// DefaultUndoGrace; 0 posts at once (no undo).
		UndoGrace *time.Duration `yaml:"undo_grace"`
	} `yaml:"outbox"`

	// Webhooks is the webhooks: section: how events go out to the
	// subscriptions admins add (parley webhook add, the web's Webhooks page).
	Webhooks WebhooksConfig `yaml:"webhooks"`

	// Alerts is the alerts: section: real-time alerts (spikes, large-reach
	// negative posts, overdue conversations) to the staff channels.
	Alerts AlertsConfig `yaml:"alerts"`

	file  string     // the file it came from, for messages
	rules *rules.Set // compiled by validate
}

// Problem is one thing wrong with a config file, at a line.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// ConfigError lists every problem found in a config file.
type ConfigError struct{ Problems []Problem }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets parley.ErrorCode see EINVALID.
func (e *ConfigError) Unwrap() error {
	return &parley.Error{Code: parley.EINVALID, Message: e.Error()}
}

// ParseConfig parses and validates a config. file names it in messages;
// getenv looks up the secrets it names (to report a missing one). Every
// problem is reported, each as file:line: what is wrong, in a *ConfigError.
func ParseConfig(file string, data []byte, getenv func(string) string) (*Config, error) {
	cfg := &Config{file: file}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ConfigError{[]Problem{{File: file, Msg: "the file is empty: start from config.example.yaml"}}}
	}
	root, yps := yamlpos.Parse(data)
	if len(yps) > 0 { // a syntax error: nothing below it can be trusted
		return nil, &ConfigError{fileProblems(file, yps)}
	}
	problems := fileProblems(file, yamlpos.Decode(root, cfg, ""))
	problems = append(problems, cfg.validate(root, getenv)...)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	if len(problems) > 0 {
		return nil, &ConfigError{problems}
	}
	return cfg, nil
}

func fileProblems(file string, ps []yamlpos.Problem) []Problem {
	out := make([]Problem, 0, len(ps))
	for _, p := range ps {
		out = append(out, Problem{File: file, Line: p.Line, Msg: p.Msg})
	}
	return out
}

// keyLine finds the line of a key path (e.g. "brand", "name") in the
// document, or of its nearest ancestor, or 0.
func keyLine(root *yaml.Node, path ...string) int {
	_, line := yamlpos.Lookup(root, path...)
	return line
}

// WebhooksConfig tunes outgoing webhooks.
type WebhooksConfig struct {
	// AllowPrivate lets deliveries go to loopback, private and link-local
	// addresses (a receiver inside your network). Off by default, so a
	// subscription cannot be used to reach inside the network.
	AllowPrivate bool `yaml:"allow_private"`
	// RetryFor is how long a failing delivery is retried, with backoff
	// (30s doubling up to 1h), before it fails for good; default 72h, at
	// least 24h.
	RetryFor time.Duration `yaml:"retry_for"`
	// Timeout bounds one POST; default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// check reports what is wrong with the webhooks: section.
func (w WebhooksConfig) check(root *yaml.Node, add func(int, string, ...any)) {
	if w.RetryFor != 0 && (w.RetryFor < 24*time.Hour || w.RetryFor > 30*24*time.Hour) {
		add(keyLine(root, "webhooks", "retry_for"), "webhooks.retry_for %s: want between 24h and 720h (30 days), e.g. 72h", w.RetryFor)
	}
	if w.Timeout != 0 && (w.Timeout < time.Second || w.Timeout > time.Minute) {
		add(keyLine(root, "webhooks", "timeout"), "webhooks.timeout %s: want between 1s and 1m, e.g. 10s", w.Timeout)
	}
}

// DefaultUndoGrace is how long an approved reply can be undone when
// outbox.undo_grace is not set.
const DefaultUndoGrace = 10 * time.Second

// undoGrace is outbox.undo_grace with its default.
func (c *Config) undoGrace() time.Duration {
	if c.Outbox.UndoGrace == nil {
		return DefaultUndoGrace
	}
	return *c.Outbox.UndoGrace
}

func (c *Config) validate(root *yaml.Node, getenv func(string) string) []Problem {
	var problems []Problem
	add := func(line int, format string, args ...any) {
		problems = append(problems, Problem{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if g := c.undoGrace(); g < 0 || g > time.Hour {
		add(keyLine(root, "outbox", "undo_grace"), "outbox.undo_grace %s: want between 0 (no undo) and 1h, e.g. 10s", g)
	}
	c.Webhooks.check(root, add)
	if strings.TrimSpace(c.Brand.Name) == "" {
		line := keyLine(root, "brand")
		if line == 0 {
			add(1, "brand.name is missing: add `brand: {name: Your Brand}` (replies and the digest use it)")
		} else {
			add(line, "brand.name is missing: replies and the digest use it")
		}
	}
	if c.Brand.TimeZone != "" {
		if _, err := time.LoadLocation(c.Brand.TimeZone); err != nil {
			add(keyLine(root, "brand", "timezone"), "brand.timezone %q is not a known time zone (want e.g. Europe/Berlin)", c.Brand.TimeZone)
		}
	}
	opts := sentiment.Options{Lexicon: c.Sentiment.Lexicon, LanguageLexicons: c.Sentiment.Languages}
	if err := opts.Validate(); err != nil {
		add(keyLine(root, "sentiment", "lexicon"), "sentiment: %v", err)
	}
	switch m := c.Sentiment.Model; {
	case m == "" || contains(sentiment.Names(), m):
	case sentiment.IsModelFile(m):
		if _, err := sentiment.LoadModelFile(m); err != nil {
			add(keyLine(root, "sentiment", "model"), "sentiment.model: %v", err)
		}
	default:
		add(keyLine(root, "sentiment", "model"), "sentiment.model %q is unknown: want one of %s, or a model file (FILE.model.gz)",
			m, strings.Join(sentiment.Names(), ", "))
	}
	if c.Rules.Kind != 0 {
		set, rps := rules.Load(c.file, &c.Rules, c.Brand.Name)
		for _, p := range rps {
			problems = append(problems, Problem{File: p.File, Line: p.Line, Msg: p.Msg})
		}
		c.rules = set
	} else {
		c.rules, _ = rules.Load(c.file, nil, c.Brand.Name)
	}
	for _, p := range c.Advocates.Check(c.file) {
		problems = append(problems, Problem(p))
	}
	if c.Digest.TimeZone == "" {
		c.Digest.TimeZone = c.Brand.TimeZone
	}
	for _, err := range c.Digest.Validate(getenv) {
		line := keyLine(root, "digest")
		if fe := (*digest.FieldError)(nil); errors.As(err, &fe) {
			line = yamlpos.Line(root, fe.Path)
		}
		add(line, "%v", err)
	}
	c.Alerts.check(root, c.Connectors.Discord, getenv, add)
	for _, msg := range c.Store.check(getenv) {
		add(keyLine(root, "store"), "%s", msg)
	}
	for _, err := range c.Web.Validate() {
		add(keyLine(root, "web"), "%v", err)
	}
	names := map[string]bool{}
	for i, m := range c.Connectors.Mastodon {
		line := keyLine(root, "connectors", "mastodon")
		if len(c.Connectors.Mastodon) > 1 {
			switch {
			case strings.TrimSpace(m.Name) == "":
				add(line, "connectors.mastodon[%d]: several accounts are configured, so each needs a name: (it keeps their posts apart)", i)
			case names[m.Name]:
				add(line, "connectors.mastodon[%d]: the name %q is used twice", i, m.Name)
			}
			names[m.Name] = true
		}
		for _, err := range m.Validate(getenv) {
			add(line, "connectors.mastodon[%d]: %v", i, err)
		}
	}
	if d := c.Connectors.Discord; d != nil {
		line := keyLine(root, "connectors", "discord")
		for _, err := range d.Validate(getenv) {
			add(line, "connectors.discord: %v", err)
		}
	}
	return problems
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// loadConfig reads --config, or returns nil when none was given.
func (e *env) loadConfig() (*Config, error) {
	if e.configPath == "" {
		return nil, nil
	}
	data, err := os.ReadFile(e.configPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, parley.Errorf(parley.EINVALID, "config file %s does not exist (start from config.example.yaml)", e.configPath)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(e.configPath, data, e.getenv)
	if err != nil {
		return nil, err
	}
	return cfg, e.overlayEnv(cfg)
}

// requireConfig is loadConfig for commands that cannot work without one.
func (e *env) requireConfig() (*Config, error) {
	if e.configPath == "" {
		return nil, fmt.Errorf("%w: --config FILE is required, or PARLEY_CONFIG (start from config.example.yaml, or run parley init)", errUsage)
	}
	return e.loadConfig()
}

// classifier builds the sentiment classifier the config asks for; model
// (a name or a model file), when set, overrides the config's choice.
// Without a config it is the model with its built-in slang lexicon, the
// same verdicts `rules test` sees.
func (c *Config) classifier(model string) (sentiment.LangClassifier, error) {
	if model == "" && c != nil {
		model = c.Sentiment.Model
	}
	var opts sentiment.Options
	if c != nil {
		opts = sentiment.Options{Lexicon: c.Sentiment.Lexicon, LanguageLexicons: c.Sentiment.Languages}
	}
	return sentiment.New(model, opts)
}

// ruleSet returns the compiled rules (an empty set without a config).
func (c *Config) ruleSet() *rules.Set {
	if c == nil || c.rules == nil {
		set, _ := rules.Load("", nil, "")
		return set
	}
	return c.rules
}
