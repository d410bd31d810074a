package digest

import (
	"fmt"
	"net"
	"net/mail"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/parleybot/parley"
)

// Defaults for Config.
const (
	DefaultSchedule       = "0 9 * * MON" // Monday 09:00: last week's digest
	DefaultTimeZone       = "UTC"
	DefaultResponseTarget = time.Hour
)

// Target types.
const (
	TargetFile     = "file"
	TargetEmail    = "email"
	TargetDiscord  = "discord"
	TargetMastodon = "mastodon"
)

// TLS modes of an email target.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption (a relay on localhost)
)

// Formats a file target can write.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatText     = "text"
)

// Config is the `digest:` section of Parley's config file.
//
//	digest:
//	  schedule: "0 9 * * MON"     # cron, 5 fields, in timezone; "off" to send none
//	  timezone: Europe/Berlin     # the weeks are ISO weeks in this zone
//	  response_target: 1h         # replies within this count as on time
//	  targets:
//	    - {type: file, dir: ./digests}
//	    - {type: email, smtp: "smtp.example.com:587", from: parley@example.com, to: [ana@example.com],
//	       username_env: PARLEY_SMTP_USER, password_env: PARLEY_SMTP_PASSWORD, tls: starttls}
//	    - {type: discord, channel: "123456789012345678"}
//	    - {type: mastodon, to: ["@ana@example.social"]}
type Config struct {
	// Schedule is a 5-field cron expression (minute hour day month
	// weekday) or a descriptor like @weekly, read in TimeZone. Each run
	// sends the last complete week. "off" disables the schedule (parley
	// digest still builds on demand). Default DefaultSchedule.
	Schedule string `yaml:"schedule"`
	// TimeZone is an IANA zone name. Default DefaultTimeZone (the caller
	// may put the brand's zone here first).
	TimeZone string `yaml:"timezone"`
	// ResponseTarget is the reply time the digest measures against.
	// Default DefaultResponseTarget.
	ResponseTarget time.Duration `yaml:"response_target"`
	// Targets are where a digest goes; none means it is only stored.
	Targets []Target `yaml:"targets"`
}

// Target is one delivery target. Type says which fields apply.
type Target struct {
	Type string `yaml:"type"` // file, email, discord, mastodon
	// Name labels the target in reports and the store; default a
	// description such as "email to ana@example.com". Unique.
	Name string `yaml:"name,omitempty"`

	// file: the folder, created when missing, and the formats to write
	// (md, html, text; default all three). Files are named
	// parley-digest-2026-W47.html and so on, replaced atomically.
	Dir     string   `yaml:"dir,omitempty"`
	Formats []string `yaml:"formats,omitempty"`

	// email: the SMTP server as host:port, the sender, the recipients,
	// the environment variables holding the login (both or neither) and
	// the TLS mode (starttls, the default; tls; none).
	SMTP        string   `yaml:"smtp,omitempty"`
	From        string   `yaml:"from,omitempty"`
	To          []string `yaml:"to,omitempty"` // also mastodon: the accounts to DM
	UsernameEnv string   `yaml:"username_env,omitempty"`
	PasswordEnv string   `yaml:"password_env,omitempty"`
	TLS         string   `yaml:"tls,omitempty"`

	// discord: the channel id to post in.
	Channel string `yaml:"channel,omitempty"`
}

// Key returns the target's name: Name, or a description built from its
// fields. Deliveries are recorded under it.
func (t Target) Key() string {
	if t.Name != "" {
		return t.Name
	}
	switch t.Type {
	case TargetFile:
		return "file " + t.Dir
	case TargetEmail:
		return "email to " + strings.Join(t.To, ", ")
	case TargetDiscord:
		return "discord channel " + t.Channel
	case TargetMastodon:
		return "mastodon DM to " + strings.Join(t.To, ", ")
	}
	return t.Type
}

// WithDefaults returns c with the defaults filled in, and each file
// target's formats.
func (c Config) WithDefaults() Config {
	if strings.TrimSpace(c.Schedule) == "" {
		c.Schedule = DefaultSchedule
	}
	if c.TimeZone == "" {
		c.TimeZone = DefaultTimeZone
	}
	if c.ResponseTarget == 0 {
		c.ResponseTarget = DefaultResponseTarget
	}
	c.Targets = slices.Clone(c.Targets)
	for i, t := range c.Targets {
		t.Type = strings.ToLower(strings.TrimSpace(t.Type))
		if t.Type == TargetFile && len(t.Formats) == 0 {
			t.Formats = []string{FormatHTML, FormatMarkdown, FormatText}
		}
		if t.Type == TargetEmail && t.TLS == "" {
			t.TLS = TLSStartTLS
		}
		c.Targets[i] = t
	}
	return c
}

// Disabled reports whether the schedule is "off".
func (c Config) Disabled() bool { return strings.EqualFold(strings.TrimSpace(c.Schedule), "off") }

// Location loads the time zone (after WithDefaults). EINVALID when unknown.
func (c Config) Location() (*time.Location, error) {
	tz := c.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "digest.timezone %q is not a known time zone (want e.g. Europe/Berlin): %w", tz, err)
	}
	return loc, nil
}

// parseSchedule parses the cron expression in loc.
func parseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return nil, fmt.Errorf("put the time zone in digest.timezone, not in the schedule")
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + s)
	if err != nil {
		return nil, err
	}
	return sched, nil
}

// Validate checks c (with or without defaults) and returns every problem,
// each an EINVALID error naming the key, e.g. "digest.targets[1] (email):
// smtp "mail.example.com" has no port". getenv, when non-nil, checks that
// the environment variables the targets name are set.
func (c Config) Validate(getenv func(string) string) []error {
	c = c.WithDefaults()
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Err: parley.Errorf(parley.EINVALID, format, args...)})
	}
	loc, err := c.Location()
	if err != nil {
		errs = append(errs, &FieldError{Path: "digest.timezone", Err: err})
		loc = time.UTC
	}
	if !c.Disabled() {
		if _, err := parseSchedule(c.Schedule, loc); err != nil {
			add("digest.schedule", "digest.schedule %q: %v (want 5 cron fields like \"0 9 * * MON\", or off)", c.Schedule, err)
		}
	}
	if c.ResponseTarget < 0 {
		add("digest.response_target", "digest.response_target %s: want a positive duration like 1h or 30m", c.ResponseTarget)
	}
	errs = append(errs, ValidateTargets("digest.targets", c.Targets,
		[]string{TargetFile, TargetEmail, TargetDiscord, TargetMastodon}, getenv)...)
	return errs
}

// FieldError is a problem with one key of the digest section. Path names
// the key as the config file nests it ("digest.targets[2]"), so a loader
// can report the line it is on.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// problems lists what is wrong with the target, one sentence each;
// getenv checks that the variables it names are set (nil skips that).
func (t Target) problems(getenv func(string) string) []string {
	var p targetProblems
	switch t.Type {
	case TargetFile:
		t.fileProblems(&p)
	case TargetEmail:
		t.emailProblems(&p, getenv)
	case TargetDiscord:
		t.discordProblems(&p)
	case TargetMastodon:
		t.mastodonProblems(&p)
	case "":
		p.add("type is missing: want file, email, discord or mastodon")
	default:
		p.add("type %q: want file, email, discord or mastodon", t.Type)
	}
	return p
}

// targetProblems collects a target's problems.
type targetProblems []string

func (p *targetProblems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// unused complains about a field set on a target of a type without it.
func (p *targetProblems) unused(t Target, field string, set bool) {
	if set {
		p.add("%s does not apply to a %s target", field, t.Type)
	}
}

func (t Target) fileProblems(p *targetProblems) {
	if strings.TrimSpace(t.Dir) == "" {
		p.add("dir is missing: the folder to write digests in")
	} else if filepath.Clean(t.Dir) == "" {
		p.add("dir %q is not a folder", t.Dir)
	}
	for _, f := range t.Formats {
		if f != FormatMarkdown && f != FormatHTML && f != FormatText {
			p.add("format %q: want md, html or text", f)
		}
	}
	p.unused(t, "smtp", t.SMTP != "")
	p.unused(t, "channel", t.Channel != "")
	p.unused(t, "to", len(t.To) > 0)
}

func (t Target) emailProblems(p *targetProblems, getenv func(string) string) {
	host, port, err := net.SplitHostPort(t.SMTP)
	switch {
	case strings.TrimSpace(t.SMTP) == "":
		p.add("smtp is missing: the server as host:port, e.g. smtp.example.com:587")
	case err != nil || host == "":
		p.add("smtp %q: want host:port, e.g. smtp.example.com:587", t.SMTP)
	default:
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.add("smtp %q: the port must be a number from 1 to 65535", t.SMTP)
		}
	}
	if t.From == "" {
		p.add("from is missing: the sender address")
	} else if _, err := mail.ParseAddress(t.From); err != nil {
		p.add("from %q is not an email address", t.From)
	}
	if len(t.To) == 0 {
		p.add("to is missing: a list of recipient addresses")
	}
	for _, a := range t.To {
		if _, err := mail.ParseAddress(a); err != nil {
			p.add("to %q is not an email address", a)
		}
	}
	switch t.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		p.add("tls %q: want starttls, tls or none", t.TLS)
	}
	if (t.UsernameEnv == "") != (t.PasswordEnv == "") {
		p.add("set both username_env and password_env, or neither")
	}
	for _, v := range []string{t.UsernameEnv, t.PasswordEnv} {
		if v != "" && getenv != nil && getenv(v) == "" {
			p.add("environment variable %s is not set", v)
		}
	}
	p.unused(t, "dir", t.Dir != "")
	p.unused(t, "channel", t.Channel != "")
}

func (t Target) discordProblems(p *targetProblems) {
	if strings.TrimSpace(t.Channel) == "" {
		p.add("channel is missing: the id of the channel to post in")
	} else if _, err := strconv.ParseUint(t.Channel, 10, 64); err != nil {
		p.add("channel %q: want a Discord channel id (digits; right-click the channel, Copy Channel ID)", t.Channel)
	}
	p.unused(t, "dir", t.Dir != "")
	p.unused(t, "smtp", t.SMTP != "")
	p.unused(t, "to", len(t.To) > 0)
}

func (t Target) mastodonProblems(p *targetProblems) {
	if len(t.To) == 0 {
		p.add("to is missing: the accounts to send the digest to, e.g. [\"@ana@example.social\"]")
	}
	for _, a := range t.To {
		if !strings.HasPrefix(strings.TrimSpace(a), "@") && !strings.Contains(a, "@") {
			p.add("to %q: want an account like @ana@example.social", a)
		}
	}
	p.unused(t, "dir", t.Dir != "")
	p.unused(t, "smtp", t.SMTP != "")
	p.unused(t, "channel", t.Channel != "")
}
