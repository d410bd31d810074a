package rules

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/expr-lang/expr/vm"

	"github.com/parleybot/parley"
)

// Rule is one rule as written in the config, for display (parley check,
// parley rules test, the web inbox).
type Rule struct {
	Name        string
	Description string
	// When is the condition, as written.
	When        string
	Tags        []string
	Priority    int
	Reply       string // the reply template, as written; "" for none
	AutoApprove bool
	Ignore      bool
	Stop        bool
	// File and Line say where the rule is defined.
	File string
	Line int
}

// compiled is a rule ready to evaluate.
type compiled struct {
	Rule
	when string      // the condition on one line, for Why
	prog *vm.Program // the condition
	refs []varRef    // the variables the condition reads, for Why
	tmpl *template.Template
}

// Set is a loaded, compiled rule list. It is safe for concurrent use and
// never changes after Load. The zero Set and a nil *Set match nothing.
type Set struct {
	brand string
	rules []compiled
	needs needs
	pool  sync.Pool // *state

	// The text facts Prepare works out (see prepare.go).
	question bool // some condition calls is_question
	lists    []*phraseList
	patterns []*pattern
	nfacts   int
	scan     *phraseScanner // over lists

	reads historyReads // the History counts conditions and templates may read
}

// state is the scratch space of one evaluation, pooled.
type state struct {
	env   env
	vm    vm.VM
	why   []byte
	cands []int
}

func (s *Set) init() {
	for _, c := range s.rules {
		for _, r := range c.refs {
			switch r.path {
			case "text_lower":
				s.needs.textLower = true
			case "length":
				s.needs.length = true
			}
		}
	}
	s.pool.New = func() any { return &state{} }
	s.initFacts()
	s.initReads()
}

// Rules returns the rules in evaluation order (copies; changing them does
// not change the set).
func (s *Set) Rules() []Rule {
	if s == nil {
		return nil
	}
	out := make([]Rule, len(s.rules))
	for i, c := range s.rules {
		out[i] = c.Rule
		out[i].Tags = slices.Clone(c.Tags)
	}
	return out
}

// Len is the number of rules.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Match is one rule that matched a mention.
type Match struct {
	Rule string `json:"rule"`
	// Why is the condition followed by the values of the variables it
	// read, e.g.
	//   sentiment.label == "positive" && !person.first_time  [sentiment.label="positive" person.first_time=false]
	Why string `json:"why"`
}

// RuleError is a condition or template that failed at run time (say, tags[0]
// on a mention without tags). The rule counts as not matching, or its reply
// as not drafted; evaluation goes on with the next rule.
type RuleError struct {
	Rule string
	Err  error
}

func (e RuleError) Error() string { return fmt.Sprintf("rule %q: %v", e.Rule, e.Err) }

func (e RuleError) Unwrap() error { return e.Err }

// Result is what a rule set decided about one mention.
type Result struct {
	// Matches lists the rules that matched, in evaluation order.
	Matches []Match `json:"matches"`
	// Drafts holds at most one reply draft.
	Drafts []parley.Draft `json:"drafts,omitempty"`
	// Ignored is true when a matching rule said ignore.
	Ignored bool `json:"ignored,omitempty"`
	// Tags are the tags the matching rules add, in order, without
	// duplicates (tags the mention already had are not repeated).
	Tags []string `json:"tags,omitempty"`
	// Priority is the highest priority of the matching rules (0 if none).
	Priority int `json:"priority,omitempty"`
	// NoDraft says why no draft was made although a matching rule has a
	// reply ("" when a draft was made or no matching rule has one).
	NoDraft string `json:"no_draft,omitempty"`
	// Errors lists rules that failed at run time.
	Errors []RuleError `json:"-"`
}

// RuleNames returns the names of the matching rules.
func (r Result) RuleNames() []string {
	if len(r.Matches) == 0 {
		return nil
	}
	names := make([]string, len(r.Matches))
	for i, m := range r.Matches {
		names[i] = m.Rule
	}
	return names
}

// Apply records the result on m: it adds the tags (keeping m's own),
// raises m.Priority to the result's, sets m.Rules to the matching rule
// names and sets m.Ignored if a rule said ignore.
func (r Result) Apply(m *parley.Mention) {
	for _, t := range r.Tags {
		if !slices.Contains(m.Tags, t) {
			m.Tags = append(m.Tags, t)
		}
	}
	m.Priority = max(m.Priority, r.Priority)
	m.Rules = r.RuleNames()
	m.Ignored = m.Ignored || r.Ignored
}

// Evaluate runs the rules, in order, on mention m with the author's and
// thread's history h (as the store knew them before m). m must already
// carry its sentiment; Evaluate does not change m (see Result.Apply and
// Decide).
//
// Each matching rule adds its tags (visible as `tags` to later rules),
// raises the priority and may mark the mention ignored; a rule with
// stop: true ends the evaluation after its own actions. The first matching
// rule with a reply whose template renders non-blank text drafts the one
// reply (kind reply, state pending, or approved when the rule has
// auto_approve; priority the mention's final priority; Rule the rule's
// name; Platform, MentionID, PersonID, ThreadID from m; times from
// m.ReceivedAt). No draft is made when the mention is ignored or its
// author has #nobot (Result.NoDraft says why). A person who opted out
// still gets replies to their own posts: opting out stops prompts, which
// rules do not make; a rule can test person.opted_out.
//
// A condition or template that fails at run time is listed in
// Result.Errors and treated as not matching.
func (s *Set) Evaluate(m *parley.Mention, h parley.History) Result {
	return s.evaluate(m, h, true)
}

// evaluate is Evaluate; without why, Match.Why is left empty (Decide
// keeps only the rule names).
func (s *Set) evaluate(m *parley.Mention, h parley.History, why bool) Result {
	var r Result
	if s == nil || len(s.rules) == 0 {
		return r
	}
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)
	st.env.fill(m, &h, s.needs)
	st.env.pre = s.facts(m)
	st.cands = st.cands[:0]
	base := len(st.env.Tags)
	ignoredBy := ""

	for i := range s.rules {
		c := &s.rules[i]
		out, err := st.vm.Run(c.prog, &st.env)
		if err != nil {
			r.Errors = append(r.Errors, RuleError{Rule: c.Name, Err: err})
			continue
		}
		if ok, _ := out.(bool); !ok {
			continue
		}
		mt := Match{Rule: c.Name}
		if why {
			st.why = appendWhy(st.why[:0], c.when, c.refs, &st.env)
			mt.Why = string(st.why)
		}
		r.Matches = append(r.Matches, mt)
		for _, t := range c.Tags {
			if !slices.Contains(st.env.Tags, t) {
				st.env.Tags = append(st.env.Tags, t)
			}
		}
		r.Priority = max(r.Priority, c.Priority)
		if c.Ignore && !r.Ignored {
			r.Ignored, ignoredBy = true, c.Name
		}
		if c.tmpl != nil {
			st.cands = append(st.cands, i)
		}
		if c.Stop {
			break
		}
	}
	if len(st.env.Tags) > base {
		r.Tags = slices.Clone(st.env.Tags[base:])
	}
	if len(st.cands) == 0 {
		return r
	}

	p := mergePerson(m, &h)
	switch {
	case p.NoBot:
		r.NoDraft = "the author asks bots to leave them alone (#nobot)"
		return r
	case r.Ignored:
		r.NoDraft = fmt.Sprintf("ignored by rule %q", ignoredBy)
		return r
	}
	mc := *m
	mc.Tags = slices.Clone(m.Tags)
	r.Apply(&mc)
	data := TemplateData{Person: p, History: h, Mention: mc, Brand: s.brand, Sentiment: m.Sentiment}
	for _, i := range st.cands {
		c := &s.rules[i]
		out, err := ExecuteLimited(c.tmpl, data)
		if err != nil {
			r.Errors = append(r.Errors, RuleError{Rule: c.Name, Err: fmt.Errorf("reply: %w", err)})
			continue
		}
		text := strings.TrimSpace(out)
		if text == "" {
			continue
		}
		d := parley.Draft{
			Kind:        parley.KindReply,
			State:       parley.DraftPending,
			Platform:    m.Platform,
			MentionID:   m.ID,
			PersonID:    m.PersonID,
			ThreadID:    m.ThreadID,
			Rule:        c.Name,
			Text:        text,
			Priority:    r.Priority,
			AutoApprove: c.AutoApprove,
			CreatedAt:   m.ReceivedAt,
			UpdatedAt:   m.ReceivedAt,
		}
		if c.AutoApprove {
			d.State = parley.DraftApproved
			d.DecidedBy = "rule:" + c.Name
			d.DecidedAt = m.ReceivedAt
		}
		r.Drafts = []parley.Draft{d}
		return r
	}
	r.NoDraft = "the reply templates of the matching rules rendered no text"
	return r
}

// Decide evaluates the rules on m, applies the result to m and returns
// the drafts: a parley.DecideFunc for MentionStore.IngestBatch. Run-time
// rule errors are logged on log (when non-nil) as warnings with the rule
// name and the mention's platform and external id.
func (s *Set) Decide(log *slog.Logger) parley.DecideFunc {
	return func(m *parley.Mention, h parley.History) []parley.Draft {
		r := s.evaluate(m, h, false)
		r.Apply(m)
		if log != nil {
			for _, e := range r.Errors {
				log.Warn("rule failed", "rule", e.Rule, "platform", m.Platform,
					"external_id", m.ExternalID, "err", e.Err)
			}
		}
		return r.Drafts
	}
}
