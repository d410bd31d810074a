package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"

	"github.com/parleybot/parley"
)

// env is what a rule's `when` expression sees. Field names in expressions
// are the expr tags (snake_case); doc.go and README.md list them. Keep the
// three in step.
//
// The types are unexported: rules are written against the tags, and the
// package builds the environment itself (see fill).
type env struct {
	Text      string        `expr:"text"`
	TextLower string        `expr:"text_lower"`
	Lang      string        `expr:"lang"`
	Platform  string        `expr:"platform"`
	Channel   string        `expr:"channel"`
	URL       string        `expr:"url"`
	Direct    bool          `expr:"direct"`
	IsReply   bool          `expr:"is_reply"`
	Length    int           `expr:"length"`
	Sentiment sentimentVars `expr:"sentiment"`
	Person    personVars    `expr:"person"`
	Thread    threadVars    `expr:"thread"`
	Conv      convVars      `expr:"conversation"`
	Tags      []string      `expr:"tags"`

	memo memo   // not visible to expressions
	pre  []bool // the mention's prepared text facts (see Prepare), or nil
}

type sentimentVars struct {
	Label      string   `expr:"label"`
	Score      float64  `expr:"score"`
	Confidence float64  `expr:"confidence"`
	Known      bool     `expr:"known"`
	Overrides  []string `expr:"overrides"`
}

type personVars struct {
	Handle        string  `expr:"handle"`
	Name          string  `expr:"name"`
	Followers     int     `expr:"followers"`
	Mentions      int     `expr:"mentions"`
	FirstTime     bool    `expr:"first_time"`
	Returning     bool    `expr:"returning"`
	Positive      int     `expr:"positive"`
	Negative      int     `expr:"negative"`
	Neutral       int     `expr:"neutral"`
	LastSentiment string  `expr:"last_sentiment"`
	RepliesSent   int     `expr:"replies_sent"`
	PendingDrafts int     `expr:"pending_drafts"`
	OptedOut      bool    `expr:"opted_out"`
	Advocate      bool    `expr:"advocate"`
	AdvocateState string  `expr:"advocate_state"`
	AdvocateScore float64 `expr:"advocate_score"`
	NoBot         bool    `expr:"nobot"`
}

type threadVars struct {
	Mentions int `expr:"mentions"`
	Replies  int `expr:"replies"`
}

// convVars is the mention's conversation as it stood before the mention.
type convVars struct {
	New           bool    `expr:"new"`            // the mention starts it
	State         string  `expr:"state"`          // needs_reply, waiting, closed, snoozed ("" when new)
	Messages      int     `expr:"messages"`       // earlier customer messages in it
	WaitedMinutes float64 `expr:"waited_minutes"` // how long the customer has waited for us by this post
	Answered      bool    `expr:"answered"`       // we have replied in it before
	LastReply     string  `expr:"last_reply"`     // the text of our last reply sent in it
}

// needs records which costly environment fields some rule reads, so fill
// computes only those.
type needs struct {
	textLower bool
	length    bool
}

// mergePerson is the person rules and templates see: the stored person from
// h (whose counters cover only earlier mentions), with the identity fields
// the connector just reported on m.Author when they are newer or the store
// had none (a first-timer).
func mergePerson(m *parley.Mention, h *parley.History) parley.Person {
	p := h.Person
	a := &m.Author
	if p.ID == 0 {
		p.ID = m.PersonID
	}
	if p.Platform == "" {
		p.Platform = m.Platform
	}
	if a.ExternalID != "" {
		p.ExternalID = a.ExternalID
	}
	if a.Handle != "" {
		p.Handle = a.Handle
	}
	if a.Name != "" {
		p.Name = a.Name
	}
	if a.Followers > 0 {
		p.Followers = a.Followers
	}
	if a.TimeZone != "" {
		p.TimeZone = a.TimeZone
	}
	p.NoBot = p.NoBot || a.NoBot
	p.OptedOut = p.OptedOut || a.OptedOut
	if p.AdvocateState == "" {
		p.AdvocateState = a.AdvocateState
	}
	return p
}

// fill sets e from the mention and the history, reusing e's tag slice.
func (e *env) fill(m *parley.Mention, h *parley.History, nd needs) {
	p := mergePerson(m, h)
	tags := e.Tags[:0]
	*e = env{
		Text:     m.Text,
		Lang:     m.Lang,
		Platform: m.Platform,
		Channel:  m.Channel,
		URL:      m.URL,
		Direct:   m.Direct,
		IsReply:  m.InReplyTo != "",
		Sentiment: sentimentVars{
			Label:      string(m.Sentiment.Label),
			Score:      m.Sentiment.Score,
			Confidence: m.Sentiment.Confidence,
			Known:      m.Sentiment.Known(),
			Overrides:  m.Sentiment.Overrides,
		},
		Person: personVars{
			Handle:        p.Handle,
			Name:          p.Name,
			Followers:     p.Followers,
			Mentions:      p.Mentions,
			FirstTime:     p.Mentions == 0,
			Returning:     p.Mentions > 0,
			Positive:      p.Positive,
			Negative:      p.Negative,
			Neutral:       p.Neutral,
			LastSentiment: string(p.LastSentiment),
			RepliesSent:   p.RepliesSent,
			PendingDrafts: h.PendingDrafts,
			OptedOut:      p.OptedOut,
			Advocate:      p.AdvocateState == "advocate",
			AdvocateState: p.AdvocateState,
			AdvocateScore: p.AdvocateScore,
			NoBot:         p.NoBot,
		},
		Thread: threadVars{
			Mentions: h.ThreadMentions,
			Replies:  h.RepliesInThread,
		},
		Conv: conversationVars(m, h),
		Tags: append(tags, m.Tags...),
	}
	if e.Sentiment.Label == "" {
		e.Sentiment.Label = string(parley.Neutral)
	}
	if nd.textLower {
		e.TextLower = strings.ToLower(m.Text)
	}
	if nd.length {
		e.Length = utf8.RuneCountInString(m.Text)
	}
}

// conversationVars is what rules see of the mention's conversation.
func conversationVars(m *parley.Mention, h *parley.History) convVars {
	c := h.Conversation
	v := convVars{New: c.ID == 0, State: string(c.State), Messages: c.Messages,
		Answered: !c.FirstResponseAt.IsZero(), LastReply: h.LastReply}
	if v.New {
		v.State = ""
	}
	since := c.WaitingSince
	if c.State != parley.NeedsReply || since.IsZero() {
		since = m.CreatedAt
	}
	v.WaitedMinutes = max(0, m.CreatedAt.Sub(since).Minutes())
	return v
}

// exprOptions are the options every rule expression is compiled with.
func exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(env{}), // a value: fields compile to direct loads (Run gets a *env)
		expr.AsBool(),
		expr.Patch(helperPatcher{}),
		expr.Function("contains_any", containsAnyFunc,
			new(func(string, []any) bool),
			new(func(string, []string) bool),
			new(func(string, []any, *env) bool),
			new(func(string, []string, *env) bool),
			new(func(string, *phraseList, *env) bool),
		),
		expr.Function("is_question", isQuestionFunc,
			new(func(string) bool),
			new(func(string, *env) bool),
		),
		// `text matches 'constant'`, as helperPatcher rewrites it.
		expr.Function(matchesFunc, matchesText,
			new(func(string, *pattern, *env) bool),
		),
	}
}

// matchesFunc is the name of the function `text matches 'constant'`
// becomes; a rule cannot call it (it takes a *pattern).
const matchesFunc = "__matches"

func matchesText(params ...any) (any, error) {
	text, _ := params[0].(string)
	p, _ := params[1].(*pattern)
	e, _ := params[2].(*env)
	if p == nil {
		return nil, fmt.Errorf("matches: no pattern")
	}
	if v, ok := e.fact(p.fact, text); ok {
		return v, nil
	}
	return p.match(text), nil
}

// helperPatcher rewrites calls of the helper functions before they are
// type-checked: a constant phrase list becomes a prepared *phraseList, and
// the environment ($env) is passed as a hidden last argument so the
// helpers can reuse work within one evaluation (lowering the text once,
// not once per rule).
type helperPatcher struct{}

func (helperPatcher) Visit(node *ast.Node) {
	if bin, ok := (*node).(*ast.BinaryNode); ok {
		patchMatches(node, bin)
		return
	}
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	// The patched call is a fresh node: the checker skips nodes that
	// already carry a type from its first pass.
	args := slices.Clone(call.Arguments)
	defer func() {
		if len(args) == len(call.Arguments) {
			return
		}
		callee := &ast.IdentifierNode{Value: id.Value}
		callee.SetLocation(id.Location())
		patched := &ast.CallNode{Callee: callee, Arguments: args}
		patched.SetLocation(call.Location())
		*node = patched
	}()
	switch {
	case id.Value == "contains_any" && len(args) == 2:
		if list, ok := args[1].(*ast.ArrayNode); ok {
			var phrases []string
			for _, n := range list.Nodes {
				sn, ok := n.(*ast.StringNode)
				if !ok {
					phrases = nil
					break
				}
				phrases = append(phrases, sn.Value)
			}
			if len(phrases) == len(list.Nodes) {
				c := &ast.ConstantNode{Value: newPhraseList(phrases)}
				c.SetLocation(list.Location())
				args[1] = c
			}
		}
		args = append(args, envArg(call))
	case id.Value == "is_question" && len(args) == 1:
		args = append(args, envArg(call))
	}
}

// patchMatches rewrites `text matches 'constant'` into a call of
// matchesFunc with the compiled pattern, so the answer can be prepared
// ahead (see Prepare) and a literal the pattern needs is looked for before
// the regular expression runs. A pattern that does not compile is left for
// expr to report.
func patchMatches(node *ast.Node, bin *ast.BinaryNode) {
	left, ok := bin.Left.(*ast.IdentifierNode)
	if !ok || left.Value != "text" || bin.Operator != "matches" {
		return
	}
	str, ok := bin.Right.(*ast.StringNode)
	if !ok {
		return
	}
	re, err := regexp.Compile(str.Value)
	if err != nil {
		return
	}
	c := &ast.ConstantNode{Value: newPattern(re)}
	c.SetLocation(str.Location())
	text := &ast.IdentifierNode{Value: left.Value}
	text.SetLocation(left.Location())
	callee := &ast.IdentifierNode{Value: matchesFunc}
	callee.SetLocation(bin.Location())
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{text, c, envArg(bin)}}
	call.SetLocation(bin.Location())
	*node = call
}

func envArg(at ast.Node) ast.Node {
	n := &ast.IdentifierNode{Value: "$env"}
	n.SetLocation(at.Location())
	return n
}

func containsAnyFunc(params ...any) (any, error) {
	if len(params) != 2 && len(params) != 3 {
		return nil, fmt.Errorf("contains_any: want 2 arguments, got %d", len(params))
	}
	text, ok := params[0].(string)
	if !ok {
		return nil, fmt.Errorf("contains_any: first argument is %T, want a string", params[0])
	}
	var e *env
	if len(params) == 3 {
		e, _ = params[2].(*env)
	}
	if list, ok := params[1].(*phraseList); ok {
		if v, ok := e.fact(list.fact, text); ok {
			return v, nil
		}
	}
	lower := e.lowered(text)
	switch list := params[1].(type) {
	case *phraseList:
		return list.in(lower), nil
	case []string:
		for _, p := range list {
			if newPhrase(p).in(lower) {
				return true, nil
			}
		}
	case []any:
		for _, v := range list {
			p, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("contains_any: list holds %T, want strings", v)
			}
			if newPhrase(p).in(lower) {
				return true, nil
			}
		}
	default:
		return nil, fmt.Errorf("contains_any: second argument is %T, want a list of strings", params[1])
	}
	return false, nil
}

func isQuestionFunc(params ...any) (any, error) {
	if len(params) != 1 && len(params) != 2 {
		return nil, fmt.Errorf("is_question: want 1 argument, got %d", len(params))
	}
	text, ok := params[0].(string)
	if !ok {
		return nil, fmt.Errorf("is_question: argument is %T, want a string", params[0])
	}
	if len(params) == 2 {
		if e, ok := params[1].(*env); ok && e != nil {
			if v, ok := e.fact(factQuestion, text); ok {
				return v, nil
			}
			return e.isQuestion(text), nil
		}
	}
	return IsQuestion(text), nil
}

// memo holds what the helpers computed for the texts of one evaluation.
// fill resets it.
type memo struct {
	lowerSrc, lower string
	questionSrc     string
	question, asked bool
}

// lowered is strings.ToLower(s), computed once per evaluation for the
// text the rules keep asking about. A nil e computes it every time.
func (e *env) lowered(s string) string {
	if e == nil {
		return strings.ToLower(s)
	}
	if s == e.TextLower && e.TextLower != "" {
		return s
	}
	if e.memo.lower != "" && s == e.memo.lowerSrc {
		return e.memo.lower
	}
	l := strings.ToLower(s)
	e.memo.lowerSrc, e.memo.lower = s, l
	return l
}

func (e *env) isQuestion(s string) bool {
	if e.memo.asked && s == e.memo.questionSrc {
		return e.memo.question
	}
	q := IsQuestion(s)
	e.memo.questionSrc, e.memo.question, e.memo.asked = s, q, true
	return q
}

// phrase is one contains_any phrase, lowered, with whether each end must
// fall on a word boundary.
type phrase struct {
	s           string
	left, right bool
}

func newPhrase(p string) phrase {
	p = strings.ToLower(strings.TrimSpace(p))
	first, _ := utf8.DecodeRuneInString(p)
	last, _ := utf8.DecodeLastRuneInString(p)
	return phrase{s: p, left: isWordRune(first), right: isWordRune(last)}
}

// in reports whether the phrase occurs in t (already lower case) with
// word boundaries where it needs them.
func (p phrase) in(t string) bool {
	if p.s == "" {
		return false
	}
	for off := 0; off <= len(t)-len(p.s); {
		i := strings.Index(t[off:], p.s)
		if i < 0 {
			return false
		}
		i += off
		if p.bounded(t, i) {
			return true
		}
		_, size := utf8.DecodeRuneInString(t[i:])
		off = i + size
	}
	return false
}

// bounded reports whether the occurrence of the phrase at t[i:] has the
// word boundaries the phrase needs.
func (p phrase) bounded(t string, i int) bool {
	if p.left && i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(t[:i]); isWordRune(r) {
			return false
		}
	}
	if end := i + len(p.s); p.right && end < len(t) {
		if r, _ := utf8.DecodeRuneInString(t[end:]); isWordRune(r) {
			return false
		}
	}
	return true
}

// phraseList is a constant contains_any list, prepared at load.
type phraseList struct {
	phrases []phrase
	fact    int // index among the set's facts; -1 before initFacts
}

func newPhraseList(ps []string) *phraseList {
	l := &phraseList{phrases: make([]phrase, len(ps)), fact: -1}
	for i, p := range ps {
		l.phrases[i] = newPhrase(p)
	}
	return l
}

func (l *phraseList) in(lower string) bool {
	for _, p := range l.phrases {
		if p.in(lower) {
			return true
		}
	}
	return false
}

// ContainsPhrase reports whether text contains phrase, ignoring case, as
// whole words: "sick" is found in "that deck is sick!" but not in
// "homesick". A phrase that starts or ends with a character that is not a
// letter or digit ("?", "!!", ":(") matches on that side without a word
// boundary. Spaces in the phrase match the same spaces in the text; an
// empty phrase never matches. contains_any uses it.
func ContainsPhrase(text, phrase string) bool {
	return newPhrase(phrase).in(strings.ToLower(text))
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// questionWords start a question in English even without a question mark.
var questionWords = map[string]bool{
	"who": true, "whom": true, "whose": true, "what": true, "when": true, "where": true,
	"why": true, "how": true, "which": true, "can": true, "could": true, "would": true,
	"will": true, "should": true, "shall": true, "do": true, "does": true, "did": true,
	"is": true, "are": true, "was": true, "were": true, "has": true, "have": true,
	"any": true, "anyone": true, "anybody": true, "wondering": true,
}

// IsQuestion reports whether text looks like a question: it holds a
// question mark outside a link ("?", "？", "¿"), or its first word (after
// any leading @mentions) is a question word such as who, what (or
// what's), when, where, why, how, which, can, could, would, will, should,
// do, does, did, is, are, has, have or anyone. A negated start ("can't",
// "doesn't") is not taken as a question. It is a heuristic for English.
func IsQuestion(text string) bool {
	if strings.ContainsAny(text, "?？¿") && hasQuestionMark(text) {
		return true
	}
	w := strings.ToLower(firstWord(text))
	w = strings.TrimFunc(w, func(r rune) bool { return !isWordRune(r) })
	if w == "" {
		return false
	}
	if questionWords[w] {
		return true
	}
	// "what's", "how'd", "where're"; not "can't" or "doesn't", which
	// start statements ("can't wait!") as often as questions.
	if i := strings.IndexAny(w, "'’"); i > 0 {
		switch w[:i] {
		case "who", "what", "when", "where", "why", "how", "which":
			return true
		}
	}
	return false
}

// hasQuestionMark reports whether a word of text that is not a link holds
// a question mark.
func hasQuestionMark(text string) bool {
	for tok := range strings.FieldsSeq(text) {
		if strings.ContainsAny(tok, "?？¿") && !isLink(tok) {
			return true
		}
	}
	return false
}

// firstWord is the first word of text that is not an @mention or a link.
func firstWord(text string) string {
	for tok := range strings.FieldsSeq(text) {
		if tok[0] != '@' && !isLink(tok) {
			return tok
		}
	}
	return ""
}

func isLink(tok string) bool {
	t := strings.TrimLeft(tok, "(<[\"'")
	return strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "www.")
}

// envRoots are the top-level names of the environment (text, person, ...).
var envRoots = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[env]()
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			m[f.Tag.Get("expr")] = true
		}
	}
	return m
}()

// envField resolves a dotted path of expr names ("person.first_time") to
// a reflect field index on env, or ok=false.
func envField(path string) (index []int, ok bool) {
	t := reflect.TypeFor[env]()
	for name := range strings.SplitSeq(path, ".") {
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("expr") == name {
				index = append(index, i)
				t = t.Field(i).Type
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return index, true
}
