package advocate

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
)

// Engine scores people, moves their advocate states, chooses prompts,
// spots opt-outs and prompt outcomes, all from one compiled Config. It is
// safe for concurrent use and never changes after New.
type Engine struct {
	cfg      Config
	brand    string
	brandTZ  string
	brandLoc *time.Location

	templates map[string]*compiledTemplate
	rules     []compiledRule

	ack  *template.Template
	acks map[string]*template.Template

	commands []string // normalised whole-message opt-out commands
	phrases  []string // opt-out phrases
	declines []string // phrases that decline a prompt

	quietStart, quietEnd time.Duration
}

type compiledTemplate struct {
	Template
	tmpl *template.Template
}

type compiledRule struct {
	PromptRule
	prog *vm.Program
}

// New compiles cfg (the zero Config means Defaults()). brand is what
// templates see as {{.Brand}}; brandTZ the IANA zone for people whose zone
// is unknown ("" is UTC). Errors: EINVALID listing every problem (see
// Check).
func New(cfg Config, brand, brandTZ string) (*Engine, error) {
	e, problems := compile(cfg, "", brand, brandTZ)
	if len(problems) > 0 {
		return nil, rules.AsError(problems)
	}
	return e, nil
}

// Check validates the section and compiles its templates and prompt rules,
// reporting every problem at its line in file (lines are known when the
// config was read from YAML).
func (c Config) Check(file string) []rules.Problem {
	_, problems := compile(c, file, "Brand", "")
	return problems
}

// Validate is Check without file names and lines, as errors.
func (c Config) Validate() []error {
	var errs []error
	for _, p := range c.Check("") {
		errs = append(errs, parley.Errorf(parley.EINVALID, "advocates: %s", p.Msg))
	}
	return errs
}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_.:-]*$`)

// problemFunc reports a problem at a key path of the section (line 0:
// the path's line).
type problemFunc func(path string, line int, format string, args ...any)

// compile checks the section and builds the engine, one function per
// part: the numbers, the opt-out words, the templates, the prompt rules.
func compile(cfg Config, file, brand, brandTZ string) (*Engine, []rules.Problem) {
	cfg = cfg.effective()
	var problems []rules.Problem
	add := func(path string, line int, format string, args ...any) {
		if line == 0 {
			line = cfg.line(path)
		}
		problems = append(problems, rules.Problem{File: file, Line: line, Msg: "advocates: " + fmt.Sprintf(format, args...)})
	}
	e := &Engine{cfg: cfg, brand: brand, brandTZ: brandTZ, brandLoc: time.UTC,
		templates: map[string]*compiledTemplate{}, acks: map[string]*template.Template{}}
	if brandTZ != "" {
		if loc, err := time.LoadLocation(brandTZ); err == nil {
			e.brandLoc = loc
		}
	}
	checkNumbers(cfg, add)
	var err error
	if e.quietStart, e.quietEnd, err = quietHours(cfg.Consent.QuietHours); err != nil {
		add("consent.quiet_hours", 0, "consent.%v", err)
	}
	e.compileOptOut(cfg, add)
	e.compileTemplates(cfg, add)
	e.compilePrompts(cfg, add)
	if len(problems) > 0 {
		return nil, problems
	}
	return e, nil
}

// checkNumbers checks the durations, weights, thresholds and limits.
func checkNumbers(cfg Config, add problemFunc) {
	positive := func(path string, d Duration) {
		if d <= 0 {
			add(path, 0, "%s must be longer than 0 (e.g. 30d)", path)
		}
	}
	positive("score.window", cfg.Score.Window)
	positive("score.half_life", cfg.Score.HalfLife)
	positive("score.negative_half_life", cfg.Score.NegativeHalfLife)
	positive("states.lapse_after", cfg.States.LapseAfter)
	positive("consent.per", cfg.Consent.Per)
	positive("outcome.window", cfg.Outcome.Window)
	if cfg.Interval < Duration(time.Minute) {
		add("interval", 0, "interval %s is too short: rescoring every person takes a while; use 1m or more (default 1h)", cfg.Interval)
	}
	if cfg.Consent.Cooldown < 0 {
		add("consent.cooldown", 0, "consent.cooldown must not be negative")
	}
	for _, w := range []struct {
		path string
		v    float64
	}{{"score.positive", cfg.Score.Positive}, {"score.reach", cfg.Score.Reach}, {"score.engagement", cfg.Score.Engagement},
		{"score.consistency", cfg.Score.Consistency}, {"score.negative", cfg.Score.Negative}} {
		if !finite(w.v) || w.v < 0 {
			add(w.path, 0, "%s is a weight: want 0 or more (0 turns the term off)", w.path)
		}
	}
	st := cfg.States
	if !finite(st.Candidate) || !finite(st.Advocate) || st.Candidate < 0 || st.Advocate < st.Candidate {
		add("states", 0, "states: want 0 <= candidate (%g) <= advocate (%g)", st.Candidate, st.Advocate)
	}
	if st.MinPositive < 1 {
		add("states.min_positive", 0, "states.min_positive must be 1 or more")
	}
	if st.MinDays < 1 {
		add("states.min_days", 0, "states.min_days must be 1 or more")
	}
	if st.Confirm != ConfirmAuto && st.Confirm != ConfirmManager {
		add("states.confirm", 0, "states.confirm %q: want auto (qualifying candidates become advocates) or manager (they wait for `parley advocates confirm`)", st.Confirm)
	}
	if cfg.States.LapseAfter > cfg.Score.Window {
		add("states.lapse_after", 0, "states.lapse_after (%s) is longer than score.window (%s): Parley only looks back score.window", cfg.States.LapseAfter, cfg.Score.Window)
	}
	if cfg.Consent.MaxPrompts < 0 {
		add("consent.max_prompts", 0, "consent.max_prompts must be 0 (no prompts) or more")
	}
}

// compileOptOut gathers the opt-out words and compiles the
// acknowledgements.
func (e *Engine) compileOptOut(cfg Config, add problemFunc) {
	var err error
	e.commands = normList(builtinCommands)
	e.phrases = normList(builtinPhrases)
	e.declines = normList(builtinDeclines)
	for _, set := range []struct {
		path string
		m    map[string][]string
		dst  *[]string
	}{{"opt_out.commands", cfg.OptOut.Commands, &e.commands}, {"opt_out.phrases", cfg.OptOut.Phrases, &e.phrases},
		{"opt_out.declines", cfg.OptOut.Declines, &e.declines}} {
		for lang, words := range set.m {
			for _, w := range words {
				n := normalize(w)
				if n == "" {
					add(set.path+"."+lang, 0, "%s.%s: %q holds no words", set.path, lang, w)
					continue
				}
				if !slices.Contains(*set.dst, n) {
					*set.dst = append(*set.dst, n)
				}
			}
		}
	}
	ackSrc := cfg.OptOut.Acknowledgement
	if strings.TrimSpace(ackSrc) == "" {
		add("opt_out.acknowledgement", 0, "opt_out.acknowledgement is empty: an opt-out is acknowledged once, write a short text")
	} else if e.ack, err = compileText("acknowledgement", ackSrc, ackSample()); err != nil {
		add("opt_out.acknowledgement", 0, "opt_out.acknowledgement: %v", err)
	}
	for lang, src := range cfg.OptOut.Acknowledgements {
		t, err := compileText("acknowledgement", src, ackSample())
		if err != nil {
			add("opt_out.acknowledgements."+lang, 0, "opt_out.acknowledgements.%s: %v", lang, err)
			continue
		}
		e.acks[strings.ToLower(lang)] = t
	}
}

func (e *Engine) compileTemplates(cfg Config, add problemFunc) {
	var err error
	for i, t := range cfg.Templates {
		label := fmt.Sprintf("templates[%d]", i)
		if t.Name != "" {
			label = fmt.Sprintf("template %q", t.Name)
		}
		switch {
		case strings.TrimSpace(t.Name) == "":
			add("templates", t.Line, "%s: name is required (e.g. share-review)", label)
			continue
		case !nameRE.MatchString(t.Name):
			add("templates", t.Line, "%s: name may hold letters, digits and _ . : - only", label)
		case e.templates[t.Name] != nil:
			add("templates", t.Line, "%s: the name is used twice (first at line %d)", label, e.templates[t.Name].Line)
			continue
		}
		if t.Ask == "" {
			t.Ask = t.Name
		}
		if t.Link != "" {
			if u, err := url.Parse(t.Link); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				add("templates", t.Line, "%s: link %q: want a full http(s) address", label, t.Link)
			}
		}
		if t.Hashtag != "" && (!strings.HasPrefix(t.Hashtag, "#") || len(t.Hashtag) < 2 || strings.ContainsAny(t.Hashtag, " \t,")) {
			add("templates", t.Line, "%s: hashtag %q: write it as one word with its #, e.g. \"#tidewaterclips\" (in quotes: YAML reads # as a comment)", label, t.Hashtag)
		}
		ct := &compiledTemplate{Template: t}
		if strings.TrimSpace(t.Text) == "" {
			add("templates", t.Line, "%s: text is required (the invitation, a template)", label)
		} else if ct.tmpl, err = compileText(t.Name, t.Text, promptSample(t)); err != nil {
			add("templates", t.Line, "%s: text: %v", label, err)
		}
		e.templates[t.Name] = ct
	}
}

func (e *Engine) compilePrompts(cfg Config, add problemFunc) {
	var err error
	seen := map[string]int{}
	for i, r := range cfg.Prompts {
		label := fmt.Sprintf("prompts[%d]", i)
		if r.Name != "" {
			label = fmt.Sprintf("prompt rule %q", r.Name)
		}
		switch {
		case strings.TrimSpace(r.Name) == "":
			add("prompts", r.Line, "%s: name is required", label)
		case !nameRE.MatchString(r.Name):
			add("prompts", r.Line, "%s: name may hold letters, digits and _ . : - only", label)
		case seen[r.Name] != 0:
			add("prompts", r.Line, "%s: the name is used twice (first at line %d)", label, seen[r.Name])
		}
		seen[r.Name] = max(r.Line, 1)
		if r.Template == "" {
			add("prompts", r.Line, "%s: template is required (one of the templates: names)", label)
		} else if e.templates[r.Template] == nil {
			add("prompts", r.Line, "%s: no template named %q (templates: %s)", label, r.Template, strings.Join(e.templateNames(), ", "))
		}
		if r.Priority < rules.MinPriority || r.Priority > rules.MaxPriority {
			add("prompts", r.Line, "%s: priority %d is out of range; want %d to %d", label, r.Priority, rules.MinPriority, rules.MaxPriority)
		}
		cr := compiledRule{PromptRule: r}
		if strings.TrimSpace(r.When) == "" {
			add("prompts", r.Line, `%s: when is required (e.g. person.state == "advocate")`, label)
		} else if cr.prog, err = expr.Compile(r.When, exprOptions()...); err != nil {
			add("prompts", r.Line, "%s: when: %s", label, exprMessage(err))
		}
		e.rules = append(e.rules, cr)
	}
}

func (e *Engine) templateNames() []string {
	var names []string
	for _, t := range e.cfg.Templates {
		names = append(names, t.Name)
	}
	if len(names) == 0 {
		return []string{"none defined"}
	}
	return names
}

var (
	noFieldRE  = regexp.MustCompile(`type advocate\.(\w+)Vars has no field (\w+)`)
	unknownRE  = regexp.MustCompile(`unknown name (\w+)`)
	typeNameRE = regexp.MustCompile(`advocate\.(\w+)Vars`)
)

// exprMessage is expr's message without its snippet, in the names a rule
// author writes (person, prompts), with the fields to choose from.
func exprMessage(err error) string {
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if m := noFieldRE.FindStringSubmatch(msg); m != nil {
		group := strings.ToLower(m[1])
		return fmt.Sprintf("%s has no field %s (it has %s)", group, m[2], strings.Join(fieldNames(group), ", "))
	}
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown name %s (names: person.*, prompts.*, brand; see the advocate package docs)", m[1])
	}
	if strings.HasPrefix(msg, "expected bool") {
		return "the condition must be true or false, " + msg
	}
	return typeNameRE.ReplaceAllStringFunc(msg, func(s string) string {
		return strings.ToLower(typeNameRE.FindStringSubmatch(s)[1])
	})
}

// fieldNames lists the names of a group of the rule environment.
func fieldNames(group string) []string {
	t := reflect.TypeFor[env]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("expr") == group {
			var names []string
			for j := range f.Type.NumField() {
				names = append(names, f.Type.Field(j).Tag.Get("expr"))
			}
			return names
		}
	}
	return nil
}

// Config returns the effective configuration (defaults filled in).
func (e *Engine) Config() Config { return e.cfg }

// Interval is how often the worker rescores.
func (e *Engine) Interval() time.Duration { return e.cfg.Interval.D() }

// Window is how far back the score looks.
func (e *Engine) Window() time.Duration { return e.cfg.Score.Window.D() }

// Brand is the brand name templates see.
func (e *Engine) Brand() string { return e.brand }

// Policy is the consent policy the store enforces when it queues a prompt.
func (e *Engine) Policy() parley.ConsentPolicy {
	return parley.ConsentPolicy{
		MaxPrompts: e.cfg.Consent.MaxPrompts,
		Per:        e.cfg.Consent.Per.D(),
		Cooldown:   e.cfg.Consent.Cooldown.D(),
		QuietStart: e.quietStart,
		QuietEnd:   e.quietEnd,
		TimeZone:   e.brandTZ,
		WatchFor:   e.cfg.Outcome.Window.D(),
	}
}

// Templates lists the templates in config order.
func (e *Engine) Templates() []Template {
	out := make([]Template, 0, len(e.cfg.Templates))
	for _, t := range e.cfg.Templates {
		out = append(out, e.templates[t.Name].Template)
	}
	return out
}

// templateFuncs are what prompt and acknowledgement templates may call
// besides text/template's builtins: the same as reply templates.
var templateFuncs = rules.TemplateFuncs()

// compileText parses src and runs it on sample data, so a misspelt field
// is a config error rather than a failure at the first prompt.
func compileText(name, src string, samples []any) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		return nil, templateError(err)
	}
	if err := rules.LimitTemplate(t); err != nil {
		return nil, templateError(err)
	}
	for _, s := range samples {
		if _, err := rules.ExecuteLimited(t, s); err != nil {
			return nil, templateError(err)
		}
	}
	return t, nil
}

var templateErrRE = regexp.MustCompile(`^template: [^:]+:(\d+):(?:\d+:)? ?(?:executing "[^"]*" )?(.*)$`)

func templateError(err error) error {
	if m := templateErrRE.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("line %s of the text: %s", m[1], m[2])
	}
	return err
}

func render(t *template.Template, data any) (string, error) {
	out, err := rules.ExecuteLimited(t, data)
	if err != nil {
		return "", templateError(err)
	}
	return strings.TrimSpace(out), nil
}

// AckData is what the opt-out acknowledgement template sees.
type AckData struct {
	Person parley.Person
	Brand  string
}

func ackSample() []any {
	return []any{
		AckData{Person: parley.Person{Handle: "ana@example.social", Name: "Ana Lima"}, Brand: "Sample Brand"},
		AckData{},
	}
}

// Acknowledgement renders the reply to an opt-out for person p, in the
// language lang when the config has an acknowledgement for it.
func (e *Engine) Acknowledgement(p parley.Person, lang string) string {
	t := e.ack
	if a, ok := e.acks[strings.ToLower(lang)]; ok && lang != "" {
		t = a
	}
	text, err := render(t, AckData{Person: p, Brand: e.brand})
	if err != nil || text == "" {
		// Never leave an opt-out unacknowledged for a template problem.
		text, _ = render(template.Must(template.New("ack").Funcs(templateFuncs).Parse(DefaultAcknowledgement)),
			AckData{Person: p, Brand: e.brand})
	}
	return text
}

// location is the person's zone when known, else the brand's.
func (e *Engine) location(p parley.Person) *time.Location {
	if p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return e.brandLoc
}
