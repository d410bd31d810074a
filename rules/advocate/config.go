package advocate

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// Config is the advocates: section of Parley's config. The zero value (no
// section at all) means Defaults(); a section sets only the keys it names,
// the rest keep their defaults. config.example.yaml documents every key.
type Config struct {
	// Interval is how often people are rescored and prompts considered.
	Interval  Duration      `yaml:"interval"`
	Score     ScoreConfig   `yaml:"score"`
	States    StatesConfig  `yaml:"states"`
	Consent   ConsentConfig `yaml:"consent"`
	Outcome   OutcomeConfig `yaml:"outcome"`
	OptOut    OptOutConfig  `yaml:"opt_out"`
	Templates []Template    `yaml:"templates"`
	Prompts   []PromptRule  `yaml:"prompts"`

	set   bool           // read from YAML (else Defaults apply)
	lines map[string]int // key path ("score.half_life") -> line
}

// ScoreConfig is the advocate score's formula:
//
//	score = positive    × Σ 0.5^(age/half_life) over positive posts in the window
//	      + reach       × log10(1 + followers)              } only with a positive
//	      + engagement  × log2(1 + replies from others)     } post in the window
//	      + consistency × log2(days with a positive post)
//	      − negative    × Σ 0.5^(age/negative_half_life) over negative posts
//
// Engagement counts the replies other people posted to the person's posts;
// the platforms' boosts, favourites and reactions are not stored, so they
// do not count.
type ScoreConfig struct {
	Window           Duration `yaml:"window"`
	HalfLife         Duration `yaml:"half_life"`
	Positive         float64  `yaml:"positive"`
	Reach            float64  `yaml:"reach"`
	Engagement       float64  `yaml:"engagement"`
	Consistency      float64  `yaml:"consistency"`
	Negative         float64  `yaml:"negative"`
	NegativeHalfLife Duration `yaml:"negative_half_life"`
}

// StatesConfig are the thresholds of the advocate states.
type StatesConfig struct {
	// Candidate is the score from which a person (with a positive post in
	// the window) becomes a candidate.
	Candidate float64 `yaml:"candidate"`
	// Advocate is the score from which a candidate becomes an advocate,
	// with at least MinPositive positive posts on MinDays different days.
	Advocate    float64 `yaml:"advocate"`
	MinPositive int     `yaml:"min_positive"`
	MinDays     int     `yaml:"min_days"`
	// Confirm is "auto" (candidates who qualify become advocates) or
	// "manager" (they wait for `parley advocates confirm`).
	Confirm string `yaml:"confirm"`
	// LapseAfter: an advocate with no positive post for this long lapses.
	LapseAfter Duration `yaml:"lapse_after"`
}

// Confirm modes.
const (
	ConfirmAuto    = "auto"
	ConfirmManager = "manager"
)

// ConsentConfig is the restraint the store enforces on prompts.
type ConsentConfig struct {
	// MaxPrompts per Per: at most this many prompts waiting or sent.
	MaxPrompts int      `yaml:"max_prompts"`
	Per        Duration `yaml:"per"`
	// Cooldown after any negative mention.
	Cooldown Duration `yaml:"cooldown"`
	// QuietHours "21:00-09:00" in the person's time zone when known, else
	// brand.timezone; "" or "off" for none.
	QuietHours string `yaml:"quiet_hours"`
}

// OutcomeConfig says how a sent prompt's outcome is detected.
type OutcomeConfig struct {
	// Window is how long the person's posts are watched after the prompt
	// is sent; silence for that long marks it expired.
	Window Duration `yaml:"window"`
	// PositiveConverts: any positive post in the window converts the
	// prompt (else only the asked-for link or hashtag does).
	PositiveConverts bool `yaml:"positive_converts"`
}

// OptOutConfig holds the words that opt a person out and the
// acknowledgement they get (once, auto-approved: the one reply Parley sends
// without a person approving it).
type OptOutConfig struct {
	// Acknowledgement is a text/template (.Person, .Brand) for the reply.
	Acknowledgement string `yaml:"acknowledgement"`
	// Acknowledgements by language code, for posts in that language.
	Acknowledgements map[string]string `yaml:"acknowledgements"`
	// Commands opt out when they are the whole message (without
	// @mentions, punctuation, emoji and "please"), in a DM or a reply to
	// us. By language code; added to the built-in English ones.
	Commands map[string][]string `yaml:"commands"`
	// Phrases opt out wherever they appear in a DM, a reply to us or a
	// post addressed to the brand. By language; added to the built-in ones.
	Phrases map[string][]string `yaml:"phrases"`
	// Declines answer a prompt with no ("no thanks", "not interested")
	// when a DM or reply to us starts with them: the prompt is declined,
	// the person stays opted in. By language; added to the built-in ones.
	Declines map[string][]string `yaml:"declines"`
}

// Template is one invitation.
type Template struct {
	// Name identifies the template (the Draft's Rule, the digest's
	// conversion per template).
	Name string `yaml:"name"`
	// Ask names what is asked; a person is never asked the same twice.
	// Default: the name.
	Ask string `yaml:"ask"`
	// Text is a text/template; see PromptData.
	Text string `yaml:"text"`
	// Link and Hashtag, when set, are what a converted post carries
	// (and {{.Link}} / {{.Hashtag}} in the text).
	Link    string `yaml:"link"`
	Hashtag string `yaml:"hashtag"`
	// Line is where the template is defined in the config file.
	Line int `yaml:"-"`
}

// PromptRule chooses a template for a person. Rules are tried in order;
// the first matching one whose ask the person was not asked yet wins.
type PromptRule struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// When is an expr condition over person.* and prompts.* (see doc.go).
	When     string `yaml:"when"`
	Template string `yaml:"template"`
	// AutoApprove queues the prompt approved; by default it waits in the
	// approval queue like a reply.
	AutoApprove bool `yaml:"auto_approve"`
	Priority    int  `yaml:"priority"`
	Line        int  `yaml:"-"`
}

// Defaults returns the configuration used when the config has no
// advocates: section, and under the keys a section leaves out.
func Defaults() Config {
	return Config{
		Interval: Duration(time.Hour),
		Score: ScoreConfig{
			Window:           Duration(90 * Day),
			HalfLife:         Duration(30 * Day),
			Positive:         1,
			Reach:            0.5,
			Engagement:       0.5,
			Consistency:      1,
			Negative:         1,
			NegativeHalfLife: Duration(14 * Day),
		},
		States: StatesConfig{
			Candidate:   3,
			Advocate:    6,
			MinPositive: 3,
			MinDays:     3,
			Confirm:     ConfirmAuto,
			LapseAfter:  Duration(6 * Week),
		},
		Consent: ConsentConfig{
			MaxPrompts: 1,
			Per:        Duration(30 * Day),
			Cooldown:   Duration(14 * Day),
			QuietHours: "21:00-09:00",
		},
		Outcome: OutcomeConfig{
			Window:           Duration(7 * Day),
			PositiveConverts: true,
		},
		OptOut: OptOutConfig{
			Acknowledgement: DefaultAcknowledgement,
		},
	}
}

// DefaultAcknowledgement is the reply to an opt-out when the config has
// none.
const DefaultAcknowledgement = "Understood, {{first .Person}}: no more invitations from {{.Brand}}. " +
	"We'll still answer whenever you ask us something."

// effective is c, or Defaults() when c was never read from YAML and is
// the zero value.
func (c Config) effective() Config {
	if c.set || !reflect.ValueOf(c).IsZero() {
		return c
	}
	return Defaults()
}

// Day and Week are the units durations in the config may use besides Go's
// (h, m, s).
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// Duration is a time.Duration written as "30d", "6w", "12h", "1d12h" or
// "90m" in the config.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes 4 or more whole weeks as "6w", whole days as "30d", else
// as Go does.
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t == 0:
		return "0"
	case t%Week == 0 && t >= 4*Week:
		return strconv.Itoa(int(t/Week)) + "w"
	case t%Day == 0:
		return strconv.Itoa(int(t/Day)) + "d"
	}
	return t.String()
}

// MarshalYAML writes the duration as String does.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration such as 30d, 6w or 12h.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a duration such as 30d, 6w or 12h")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

var dayUnitRE = regexp.MustCompile(`(\d+(?:\.\d+)?)([wd])`)

// ParseDuration reads "30d", "6w", "1d12h", "90m", "0" and anything
// time.ParseDuration takes. Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	src := strings.TrimSpace(s)
	if src == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("duration %q: want e.g. 30d, 6w, 12h or 90m", s)
	if src == "" || strings.HasPrefix(src, "-") {
		return 0, bad
	}
	var convErr error
	expanded := dayUnitRE.ReplaceAllStringFunc(src, func(m string) string {
		sub := dayUnitRE.FindStringSubmatch(m)
		f, err := strconv.ParseFloat(sub[1], 64)
		if err != nil {
			convErr = err
		}
		hours := f * 24
		if sub[2] == "w" {
			hours *= 7
		}
		return strconv.FormatFloat(hours, 'f', -1, 64) + "h"
	})
	if convErr != nil {
		return 0, bad
	}
	d, err := time.ParseDuration(expanded)
	if err != nil {
		return 0, bad
	}
	return d, nil
}

// UnmarshalYAML reads the section over the defaults, reporting every
// unknown key and bad value with its line (yamlpos.Problems), and
// remembering each key's line for Check.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	*c = Defaults()
	type plain Config
	problems := yamlpos.Decode(n, (*plain)(c), "")
	c.set = true
	c.lines = map[string]int{"": n.Line}
	recordLines(n, "", c.lines)
	if len(problems) > 0 {
		return yamlpos.Problems(problems)
	}
	return nil
}

func recordLines(n *yaml.Node, prefix string, lines map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		lines[path] = k.Line
		recordLines(v, path, lines)
	}
}

// line is the line of a key path, else of the nearest parent, else of the
// section (0 when the config did not come from YAML).
func (c Config) line(path string) int {
	for {
		if l, ok := c.lines[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return c.lines[""]
		}
		path = path[:i]
	}
}

// UnmarshalYAML reads a template, reporting unknown keys, and remembers
// its line.
func (t *Template) UnmarshalYAML(n *yaml.Node) error {
	type plain Template
	return decodeItem(n, (*plain)(t), "template", &t.Line)
}

// UnmarshalYAML reads a prompt rule, reporting unknown keys, and remembers
// its line.
func (r *PromptRule) UnmarshalYAML(n *yaml.Node) error {
	type plain PromptRule
	return decodeItem(n, (*plain)(r), "prompt rule", &r.Line)
}

// decodeItem decodes one list item, naming what it is in its problems.
func decodeItem(n *yaml.Node, dst any, what string, line *int) error {
	*line = n.Line
	problems := yamlpos.Decode(n, dst, "")
	for i := range problems {
		problems[i].Msg = what + ": " + problems[i].Msg
	}
	if len(problems) > 0 {
		return yamlpos.Problems(problems)
	}
	return nil
}

// quietHours parses "21:00-09:00" into offsets from midnight; "" and "off"
// are no quiet hours (start == end).
func quietHours(s string) (start, end time.Duration, err error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "off" || s == "none" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("quiet_hours %q: want HH:MM-HH:MM such as 21:00-09:00, or off", s)
	}
	if start, err = clock(a); err == nil {
		end, err = clock(b)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("quiet_hours %q: %v (want HH:MM-HH:MM such as 21:00-09:00, or off)", s, err)
	}
	return start, end, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day", strings.TrimSpace(s))
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
