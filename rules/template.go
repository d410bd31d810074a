package rules

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode"

	"github.com/parleybot/parley"
)

// TemplateData is what a rule's reply template sees as its dot.
//
//	{{.Person.DisplayName}}  {{first .Person}}  {{.Person.Mentions}}
//	{{if .History.FirstTime}}Welcome!{{else}}Good to hear from you again.{{end}}
//	{{.Brand}}  {{.Mention.Text}}  {{.Sentiment.Label}}
type TemplateData struct {
	// Person is the author as stored before this mention (counters cover
	// earlier mentions only), with the handle, name and followers the
	// platform just reported.
	Person parley.Person
	// History is the store's view before this mention; History.FirstTime
	// tells a first-timer from a returning person.
	History parley.History
	// Mention is the mention, with the tags, priority and rule names of
	// this evaluation applied.
	Mention parley.Mention
	// Brand is the brand name from the config.
	Brand string
	// Sentiment is the mention's sentiment.
	Sentiment parley.Sentiment
}

// TemplateFuncs returns the functions reply templates may call besides
// text/template's builtins (first, default, lower, upper, trim, join,
// plural, ordinal), for other templates of the config to offer the same.
func TemplateFuncs() template.FuncMap { return maps.Clone(templateFuncs) }

// templateFuncs are the functions reply templates may call besides the
// text/template builtins.
var templateFuncs = template.FuncMap{
	// first gives a first name: of a Person (from its display name, or the
	// user part of its handle) or of a string.
	"first": firstName,
	// default returns value unless it is empty, else def:
	// {{.Person.Name | default "there"}}.
	"default": defaultValue,
	"lower":   strings.ToLower,
	"upper":   strings.ToUpper,
	"trim":    strings.TrimSpace,
	// join joins a list with sep: {{.Mention.Tags | join ", "}}.
	"join": func(sep string, list []string) string { return strings.Join(list, sep) },
	// plural gives the count with the right noun: {{plural 3 "post" "posts"}} is "3 posts".
	"plural": func(n int, singular, plural string) string {
		if n == 1 || n == -1 {
			return strconv.Itoa(n) + " " + singular
		}
		return strconv.Itoa(n) + " " + plural
	},
	// ordinal gives 1st, 2nd, 3rd, 4th, 11th, 21st...
	"ordinal": ordinal,
}

func firstName(v any) string {
	var s string
	switch v := v.(type) {
	case parley.Person:
		s = v.DisplayName()
	case *parley.Person:
		if v != nil {
			s = v.DisplayName()
		}
	case string:
		s = v
	case fmt.Stringer:
		s = v.String()
	default:
		s = fmt.Sprint(v)
	}
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "@")
	if i := strings.IndexByte(s, '@'); i > 0 { // ana@example.social
		s = s[:i]
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i > 0 {
		s = s[:i]
	}
	return s
}

func defaultValue(def, value any) any {
	if value == nil {
		return def
	}
	v := reflect.ValueOf(value)
	switch v.Kind() {
	case reflect.String:
		if strings.TrimSpace(v.String()) == "" {
			return def
		}
	case reflect.Slice, reflect.Map, reflect.Array:
		if v.Len() == 0 {
			return def
		}
	default:
		if v.IsZero() {
			return def
		}
	}
	return value
}

func ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// templateProblem is a template error at a line of the template text.
type templateProblem struct {
	line int // 1-based line in the template text; 0 if unknown
	msg  string
}

var (
	templateErrRE = regexp.MustCompile(`^template: reply:(\d+):(?:\d+:)? ?(.*)$`)
	startedAtRE   = regexp.MustCompile(` started at reply:(\d+)$`)
)

// compileTemplate parses src, checks the fields it names against
// TemplateData, and executes it on sample data, so a typo is a load error
// rather than a failure at the first matching mention.
func compileTemplate(src string) (*template.Template, []templateProblem) {
	t, err := template.New("reply").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		return nil, []templateProblem{templateErr(err)}
	}
	var probs []templateProblem
	for _, tr := range t.Templates() {
		if tr.Tree == nil || tr.Root == nil {
			continue
		}
		c := &fieldChecker{src: src, root: reflect.TypeFor[TemplateData]()}
		c.list(tr.Root, c.root)
		probs = append(probs, c.probs...)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if err := LimitTemplate(t); err != nil {
		return nil, []templateProblem{templateErr(err)}
	}
	for _, d := range sampleData() {
		if _, err := ExecuteLimited(t, d); err != nil {
			return nil, []templateProblem{templateErr(err)}
		}
	}
	return t, nil
}

func templateErr(err error) templateProblem {
	msg := err.Error()
	if m := templateErrRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		rest := m[2]
		// "executing "reply" at <.X>: can't ..." -> "at <.X>: can't ..."
		rest = strings.TrimPrefix(rest, `executing "reply" `)
		// "unclosed action started at reply:3": point at the start.
		if m := startedAtRE.FindStringSubmatch(rest); m != nil {
			line, _ = strconv.Atoi(m[1])
			rest = strings.TrimSuffix(rest, m[0])
		}
		return templateProblem{line: line, msg: rest}
	}
	return templateProblem{msg: strings.TrimPrefix(msg, "template: ")}
}

// sampleData are the situations a template is tried on at load: a named
// first-timer with a positive post, a returning advocate known only by
// handle with a negative reply in a thread, and an empty mention.
func sampleData() []TemplateData {
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	first := parley.Person{ID: 1, Platform: parley.PlatformMastodon, ExternalID: "1",
		Handle: "ana@example.social", Name: "Ana Lima", Followers: 120, FirstSeen: t0, LastSeen: t0}
	returning := parley.Person{ID: 2, Platform: parley.PlatformDiscord, ExternalID: "2",
		Handle: "kickflip_kid", Followers: 25000, Mentions: 7, Positive: 5, Negative: 1, Neutral: 1,
		LastSentiment: parley.Positive, RepliesSent: 3, AdvocateState: "advocate", AdvocateScore: 0.9,
		FirstSeen: t0.Add(-30 * 24 * time.Hour), LastSeen: t0.Add(-24 * time.Hour)}
	pos := parley.Sentiment{Label: parley.Positive, Score: 0.8, Confidence: 0.9, Model: "sample"}
	neg := parley.Sentiment{Label: parley.Negative, Score: -0.7, Confidence: 0.8, Model: "sample", Overrides: []string{"sick"}}
	return []TemplateData{
		{
			Person:    first,
			History:   parley.History{Person: first},
			Mention:   parley.Mention{Platform: first.Platform, ExternalID: "10", Author: first, Text: "Love my new deck!", CreatedAt: t0, Sentiment: pos, Tags: []string{"praise"}, Rules: []string{"sample"}},
			Brand:     "Sample Brand",
			Sentiment: pos,
		},
		{
			Person:    returning,
			History:   parley.History{Person: returning, ThreadMentions: 2, RepliesInThread: 1, PendingDrafts: 1},
			Mention:   parley.Mention{Platform: returning.Platform, ExternalID: "11", Author: returning, Text: "My wheels broke again?", CreatedAt: t0, InReplyTo: "9", Channel: "support", Sentiment: neg, Priority: 2, Direct: true},
			Brand:     "Sample Brand",
			Sentiment: neg,
		},
		{},
	}
}

// fieldChecker walks a template's parse tree and reports field chains that
// name no field or method of the type the dot has there (when that type is
// known: inside {{with}} and {{range}} it follows the pipeline when it can).
type fieldChecker struct {
	src   string
	root  reflect.Type
	probs []templateProblem
}

func (c *fieldChecker) problem(pos parse.Pos, format string, args ...any) {
	line := strings.Count(c.src[:min(int(pos), len(c.src))], "\n") + 1
	c.probs = append(c.probs, templateProblem{line: line, msg: fmt.Sprintf(format, args...)})
}

func (c *fieldChecker) list(l *parse.ListNode, dot reflect.Type) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(n, dot)
	}
}

func (c *fieldChecker) node(n parse.Node, dot reflect.Type) {
	switch n := n.(type) {
	case *parse.ActionNode:
		c.pipe(n.Pipe, dot)
	case *parse.IfNode:
		c.pipe(n.Pipe, dot)
		c.list(n.List, dot)
		c.list(n.ElseList, dot)
	case *parse.WithNode:
		t := c.pipe(n.Pipe, dot)
		c.list(n.List, t)
		c.list(n.ElseList, dot)
	case *parse.RangeNode:
		t := c.pipe(n.Pipe, dot)
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Slice, reflect.Array, reflect.Map:
				elem = t.Elem()
			}
		}
		c.list(n.List, elem)
		c.list(n.ElseList, dot)
	case *parse.TemplateNode:
		c.pipe(n.Pipe, dot)
	case *parse.ListNode:
		c.list(n, dot)
	}
}

// pipe checks the commands of p and returns the type of its value when it
// is a plain field chain, else nil (unknown).
func (c *fieldChecker) pipe(p *parse.PipeNode, dot reflect.Type) reflect.Type {
	if p == nil {
		return nil
	}
	var last reflect.Type
	for i, cmd := range p.Cmds {
		last = nil
		for j, arg := range cmd.Args {
			t := c.arg(arg, dot)
			if i == len(p.Cmds)-1 && j == 0 && len(cmd.Args) == 1 {
				last = t
			}
		}
	}
	return last
}

func (c *fieldChecker) arg(n parse.Node, dot reflect.Type) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return c.chain(n.Position(), dot, n.Ident, ".")
	case *parse.VariableNode:
		if len(n.Ident) > 0 && n.Ident[0] == "$" {
			return c.chain(n.Position(), c.root, n.Ident[1:], "$.")
		}
	case *parse.ChainNode:
		c.arg(n.Node, dot)
	case *parse.PipeNode:
		return c.pipe(n, dot)
	}
	return nil
}

// chain resolves the field names idents from type t, reporting the first
// one that does not exist. It returns the final type, or nil if unknown.
func (c *fieldChecker) chain(pos parse.Pos, t reflect.Type, idents []string, prefix string) reflect.Type {
	for i, name := range idents {
		if t == nil {
			return nil
		}
		next, known, ok := fieldType(t, name)
		if !ok {
			c.problem(pos, "<%s%s>: %s has no field or method %s", prefix, strings.Join(idents[:i+1], "."), typeName(t), name)
			return nil
		}
		if !known {
			return nil
		}
		t = next
	}
	return t
}

// fieldType is the type of t.name as text/template evaluates it: a method
// (its first result) or an exported field; a map's element. known is false
// when the type cannot be told statically (an interface).
func fieldType(t reflect.Type, name string) (next reflect.Type, known, ok bool) {
	if m, found := t.MethodByName(name); found {
		return firstOut(m.Type), true, true
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if m, found := reflect.PointerTo(t).MethodByName(name); found {
			return firstOut(m.Type), true, true
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, false, true
	case reflect.Map:
		return t.Elem(), true, true
	case reflect.Struct:
		f, found := t.FieldByName(name)
		if !found || !f.IsExported() {
			return nil, false, false
		}
		return f.Type, true, true
	}
	return nil, false, false
}

func firstOut(ft reflect.Type) reflect.Type {
	if ft.NumOut() == 0 {
		return nil
	}
	return ft.Out(0)
}

func typeName(t reflect.Type) string {
	if t == reflect.TypeFor[TemplateData]() {
		return "the reply data (Person, History, Mention, Brand, Sentiment)"
	}
	return t.String()
}
