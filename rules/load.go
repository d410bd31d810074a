package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
	"github.com/parleybot/parley/internal/yamlpos"
)

// Problem is one thing wrong in a rule set, at a line of the config file.
type Problem struct {
	File string
	Line int // 1-based; 0 when the problem has no line (the file as a whole)
	Msg  string
}

// String formats the problem as "file:line: msg" (or "file: msg").
func (p Problem) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return p.Msg
	case p.Line == 0:
		return p.File + ": " + p.Msg
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Msg
}

// AsError returns nil for no problems, else an EINVALID *parley.Error whose
// message lists every problem, one per line.
func AsError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = p.String()
	}
	return parley.Errorf(parley.EINVALID, "%s", strings.Join(lines, "\n"))
}

// Priority bounds for a rule's priority key.
const (
	MinPriority = 0
	MaxPriority = 10
)

// maxTagLen bounds a tag's length in runes.
const maxTagLen = 64

// ruleKeys are the keys a rule may have, in the order Rules documents them.
var ruleKeys = []string{"name", "description", "when", "tags", "priority", "reply", "auto_approve", "ignore", "stop"}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_.:-]*$`)

// Parse reads a whole YAML config document from data and loads the list
// under its top-level `rules:` key (other keys are ignored; a document
// without rules gives an empty set). file names the source in problems.
// It is Load for callers that have bytes rather than a parsed node: tests,
// and tools that look at rules alone.
func Parse(file string, data []byte, brand string) (*Set, []Problem) {
	root, yps := yamlpos.Parse(data)
	if len(yps) > 0 {
		return nil, []Problem{{file, yps[0].Line, yps[0].Msg}}
	}
	if root == nil {
		return Load(file, nil, brand)
	}
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			return Load(file, nil, brand)
		}
		return nil, []Problem{{file, root.Line, "want a mapping with a rules: key at the top level"}}
	}
	rules, _ := yamlpos.Lookup(root, "rules")
	return Load(file, rules, brand)
}

// Load compiles the rule list node (the value of the config's `rules:`
// key, a YAML sequence) into a Set. file names the config in problems;
// brand is what reply templates see as {{.Brand}}.
//
// Every problem found is reported, each at the line of the offending key
// or value: a rule that is not a mapping, a missing or duplicate name, a
// missing `when`, an expression that does not compile or is not boolean
// (with expr's message and the line inside a multi-line expression), an
// unknown key (with a suggestion), a value of the wrong type, a priority
// outside MinPriority..MaxPriority, a reply template that does not parse,
// names a field that does not exist, or fails on sample data, and
// contradictory settings (reply with ignore: true; auto_approve without a
// reply). When problems is non-empty the returned Set is nil.
//
// A nil node or a YAML null (`rules:` with nothing after it) gives an empty
// set, which matches nothing.
func Load(file string, node *yaml.Node, brand string) (*Set, []Problem) {
	l := &loader{file: file}
	s := &Set{brand: brand}
	node = yamlpos.Resolve(node)
	if node != nil && node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = yamlpos.Resolve(node.Content[0])
	}
	switch {
	case node == nil || isNull(node):
	case node.Kind != yaml.SequenceNode:
		l.add(node.Line, "rules: want a list of rules (each a mapping with name and when), got %s", kindName(node))
	default:
		firstLine := map[string]int{}
		for i, item := range node.Content {
			c, ok := l.rule(i+1, yamlpos.Resolve(item))
			if !ok {
				continue
			}
			if prev, dup := firstLine[c.Name]; dup {
				l.add(c.nameLine, "rule %q: duplicate name (first defined at line %d)", c.Name, prev)
				continue
			}
			firstLine[c.Name] = c.nameLine
			s.rules = append(s.rules, c.compiled)
		}
	}
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	s.init()
	return s, nil
}

type loader struct {
	file     string
	problems []Problem
}

func (l *loader) add(line int, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

type loadedRule struct {
	compiled
	nameLine int
}

// rule checks and compiles the n-th rule (1-based) of the list, one key
// at a time.
func (l *loader) rule(n int, node *yaml.Node) (loadedRule, bool) {
	var r loadedRule
	if node.Kind != yaml.MappingNode {
		l.add(node.Line, "rule %d: want a mapping with name and when, got %s", n, kindName(node))
		return r, false
	}
	before := len(l.problems)
	keys, vals := l.pairs(node, 0)

	// The label of this rule in messages: its name when it has one.
	label := fmt.Sprintf("rule %d", n)
	if v, ok := vals["name"]; ok && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" {
		label = fmt.Sprintf("rule %q", strings.TrimSpace(v.Value))
	}
	l.unknownRuleKeys(label, keys)
	r.File, r.Line = l.file, node.Line
	r.nameLine = node.Line
	l.ruleName(label, node, vals, &r)
	if v, ok := vals["description"]; ok && !isNull(v) {
		if s, ok := l.str(label, "description", v); ok {
			r.Description = strings.TrimSpace(s)
		}
	}
	l.ruleWhen(label, node, vals, &r)
	l.ruleTags(label, vals, &r)
	l.rulePriority(label, vals, &r)
	r.AutoApprove = l.boolean(label, "auto_approve", vals)
	r.Ignore = l.boolean(label, "ignore", vals)
	r.Stop = l.boolean(label, "stop", vals)
	l.ruleReply(label, node, vals, &r)
	return r, len(l.problems) == before
}

func (l *loader) unknownRuleKeys(label string, keys []*yaml.Node) {
	for _, k := range keys {
		if !slices.Contains(ruleKeys, k.Value) {
			msg := fmt.Sprintf("%s: unknown key %q", label, k.Value)
			if s := yamlpos.Suggest(k.Value, ruleKeys); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (a rule has " + strings.Join(ruleKeys, ", ") + ")"
			}
			l.add(k.Line, "%s", msg)
		}
	}
}

func (l *loader) ruleName(label string, node *yaml.Node, vals map[string]*yaml.Node, r *loadedRule) {
	if v, ok := vals["name"]; !ok || isNull(v) || (v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "") {
		line := node.Line
		if ok {
			line = v.Line
		}
		l.add(line, "%s: name is required (a short unique name such as thank-happy-customers)", label)
	} else if s, ok := l.str(label, "name", v); ok {
		s = strings.TrimSpace(s)
		r.nameLine = v.Line
		if !nameRE.MatchString(s) {
			l.add(v.Line, "%s: name may hold letters, digits and _ . : - only, starting with a letter or digit", label)
		}
		r.Name = s
	}
}

func (l *loader) ruleWhen(label string, node *yaml.Node, vals map[string]*yaml.Node, r *loadedRule) {
	if v, ok := vals["when"]; ok && hasLocalTag(v) {
		l.add(v.Line, "%s: when: YAML reads the leading ! as a tag; put the condition in quotes: when: '%s'",
			label, strings.TrimSpace(v.Tag+" "+v.Value))
	} else if !ok || isNull(v) || (v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "") {
		line := node.Line
		if ok {
			line = v.Line
		}
		l.add(line, "%s: when is required (a condition such as sentiment.label == \"positive\"; use when: true to match every mention)", label)
	} else if s, ok := l.str(label, "when", v); ok {
		r.When = strings.TrimSpace(s)
		l.compileWhen(label, v, &r.compiled)
	}
}

func (l *loader) ruleTags(label string, vals map[string]*yaml.Node, r *loadedRule) {
	if v, ok := vals["tags"]; ok && !isNull(v) {
		if v.Kind != yaml.SequenceNode {
			l.add(v.Line, "%s: tags: want a list such as [praise, shipping], got %s", label, kindName(v))
		} else {
			for _, t := range v.Content {
				t = yamlpos.Resolve(t)
				if t.Kind != yaml.ScalarNode || isNull(t) {
					l.add(t.Line, "%s: tags: each tag must be a word, got %s", label, kindName(t))
					continue
				}
				tag := strings.TrimSpace(t.Value)
				switch {
				case tag == "":
					l.add(t.Line, "%s: tags: empty tag", label)
				case strings.IndexFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) >= 0:
					l.add(t.Line, "%s: tags: tag %q holds a space or comma; use - or _ between words", label, tag)
				case len([]rune(tag)) > maxTagLen:
					l.add(t.Line, "%s: tags: tag is longer than %d characters", label, maxTagLen)
				case slices.Contains(r.Tags, tag):
					l.add(t.Line, "%s: tags: %q is listed twice", label, tag)
				default:
					r.Tags = append(r.Tags, tag)
				}
			}
		}
	}
}

func (l *loader) rulePriority(label string, vals map[string]*yaml.Node, r *loadedRule) {
	if v, ok := vals["priority"]; ok && !isNull(v) {
		var p int
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&p) != nil {
			l.add(v.Line, "%s: priority: want a whole number from %d to %d, got %s", label, MinPriority, MaxPriority, describe(v))
		} else if p < MinPriority || p > MaxPriority {
			l.add(v.Line, "%s: priority: %d is out of range; want %d to %d", label, p, MinPriority, MaxPriority)
		} else {
			r.Priority = p
		}
	}
}

// ruleReply compiles the reply template and checks it against ignore and
// auto_approve, which are read before it.
func (l *loader) ruleReply(label string, node *yaml.Node, vals map[string]*yaml.Node, r *loadedRule) {
	if v, ok := vals["reply"]; ok {
		switch {
		case isNull(v) || (v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == ""):
			l.add(v.Line, "%s: reply is empty; write a template or remove the key", label)
		default:
			if s, ok := l.str(label, "reply", v); ok {
				r.Reply = s
				t, probs := compileTemplate(s)
				for _, p := range probs {
					l.add(innerLine(v, p.line), "%s: reply: %s", label, p.msg)
				}
				r.tmpl = t
			}
		}
		if r.Ignore {
			l.add(keyLine(node, "reply"), "%s: reply and ignore: true together; an ignored mention never gets a draft", label)
		}
	}
	if r.AutoApprove && r.Reply == "" {
		if _, hasReply := vals["reply"]; !hasReply {
			l.add(keyLine(node, "auto_approve"), "%s: auto_approve without a reply has nothing to approve", label)
		}
	}
}

// pairs returns the keys of a mapping in order and their values by name,
// following YAML merge keys (<<: *defaults; keys written in the rule win)
// and reporting keys given twice.
func (l *loader) pairs(node *yaml.Node, depth int) ([]*yaml.Node, map[string]*yaml.Node) {
	var keys []*yaml.Node
	vals := map[string]*yaml.Node{}
	var merged []*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := yamlpos.Resolve(node.Content[i]), yamlpos.Resolve(node.Content[i+1])
		if k.Tag == "!!merge" || k.Value == "<<" {
			merged = append(merged, v)
			continue
		}
		if _, dup := vals[k.Value]; dup {
			l.add(k.Line, "key %q is given twice in this rule", k.Value)
			continue
		}
		keys = append(keys, k)
		vals[k.Value] = v
	}
	if depth > 8 {
		return keys, vals
	}
	for _, m := range merged {
		var sources []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, c := range m.Content {
				sources = append(sources, yamlpos.Resolve(c))
			}
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				l.add(src.Line, "<<: want a mapping to merge, got %s", kindName(src))
				continue
			}
			mk, mv := l.pairs(src, depth+1)
			for _, k := range mk {
				if _, set := vals[k.Value]; !set {
					keys = append(keys, k)
					vals[k.Value] = mv[k.Value]
				}
			}
		}
	}
	return keys, vals
}

func (l *loader) str(label, key string, v *yaml.Node) (string, bool) {
	switch {
	case v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode:
		l.add(v.Line, "%s: %s: want text, got %s (put text that starts with [ or { in quotes)", label, key, kindName(v))
		return "", false
	case v.Kind != yaml.ScalarNode:
		l.add(v.Line, "%s: %s: want text, got %s", label, key, kindName(v))
		return "", false
	case hasLocalTag(v):
		l.add(v.Line, "%s: %s: YAML reads the leading ! as a tag; put the text in quotes", label, key)
		return "", false
	}
	return v.Value, true
}

// hasLocalTag reports whether YAML took a leading ! of a value as a tag
// (when: !person.first_time).
func hasLocalTag(v *yaml.Node) bool {
	return strings.HasPrefix(v.Tag, "!") && !strings.HasPrefix(v.Tag, "!!")
}

func (l *loader) boolean(label, key string, vals map[string]*yaml.Node) bool {
	v, ok := vals[key]
	if !ok || isNull(v) {
		return false
	}
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		l.add(v.Line, "%s: %s: want true or false, got %s", label, key, describe(v))
		return false
	}
	return b
}

// compileWhen compiles the condition in v into c, reporting expr's errors
// at their line in the file.
func (l *loader) compileWhen(label string, v *yaml.Node, c *compiled) {
	src := v.Value
	prog, err := expr.Compile(src, exprOptions()...)
	if err != nil {
		line, msg := v.Line, exprMessage(err)
		var fe *file.Error
		if errors.As(err, &fe) && fe.Line > 0 {
			line = innerLine(v, fe.Line)
			msg += near(src, fe.Line, fe.Column)
		}
		l.add(line, "%s: when: %s", label, msg)
		return
	}
	tree, err := parser.Parse(src)
	if err != nil { // cannot happen: it compiled
		l.add(v.Line, "%s: when: %s", label, exprMessage(err))
		return
	}
	c.prog = prog
	c.when = textutil.OneLine(src)
	c.refs = collectRefs(tree.Node)
}

var (
	noFieldRE     = regexp.MustCompile(`type \*?rules\.(\w+)Vars has no field (\w+)`)
	unknownNameRE = regexp.MustCompile(`unknown name (\w+)`)
	typeNameRE    = regexp.MustCompile(`\*?rules\.(\w+)Vars`)
)

// exprMessage is expr's error message without its snippet, in the terms a
// rule author uses (sentiment, person, thread rather than Go type names),
// with a suggestion for a misspelt name.
func exprMessage(err error) string {
	var fe *file.Error
	msg := err.Error()
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if msg == "expected bool, but got int" || strings.HasPrefix(msg, "expected bool, but got ") {
		return "the condition must be true or false, but it gives " + strings.TrimPrefix(msg, "expected bool, but got ") +
			` (compare it, e.g. person.followers >= 10000)`
	}
	if m := noFieldRE.FindStringSubmatch(msg); m != nil {
		group := strings.ToLower(m[1][:1]) + m[1][1:]
		fields := fieldNames(group)
		out := fmt.Sprintf("%s has no field %s", group, m[2])
		if s := yamlpos.Suggest(m[2], fields); s != "" {
			return out + fmt.Sprintf(" (did you mean %s.%s?)", group, s)
		}
		return out + " (it has " + strings.Join(fields, ", ") + ")"
	}
	if m := unknownNameRE.FindStringSubmatch(msg); m != nil {
		names := append(fieldNames(""), "contains_any", "is_question")
		if s := yamlpos.Suggest(m[1], names); s != "" {
			return msg + fmt.Sprintf(" (did you mean %s?)", s)
		}
		return msg + " (names: " + strings.Join(fieldNames(""), ", ") + ")"
	}
	return typeNameRE.ReplaceAllStringFunc(msg, func(s string) string {
		m := typeNameRE.FindStringSubmatch(s)
		return strings.ToLower(m[1][:1]) + m[1][1:]
	})
}

// fieldNames lists the expression names of a group of env ("" for the top
// level, "person", "sentiment", "thread").
func fieldNames(group string) []string {
	t := reflect.TypeFor[env]()
	if group != "" {
		f, ok := envField(group)
		if !ok {
			return nil
		}
		t = t.FieldByIndex(f).Type
	}
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			names = append(names, f.Tag.Get("expr"))
		}
	}
	return names
}

// near describes where in the condition an error is: the column, and the
// text from there (the file line may differ when YAML folded the text).
func near(src string, line, col int) string {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := []rune(lines[line-1])
	if col < 0 || col > len(l) {
		return ""
	}
	frag := strings.TrimSpace(string(l[col:]))
	if frag == "" {
		return fmt.Sprintf(" (column %d, at the end)", col+1)
	}
	return fmt.Sprintf(" (column %d, at %q)", col+1, textutil.Truncate(frag, 24))
}

// innerLine maps a 1-based line inside a scalar's text to a line of the
// file. A literal block (|) keeps its lines, starting below the key; a
// folded block (>) keeps the breaks around more-indented lines; a plain or
// quoted scalar is one logical line.
func innerLine(v *yaml.Node, inner int) int {
	switch {
	case v.Style&yaml.LiteralStyle != 0:
		if inner < 1 {
			inner = 1
		}
		return v.Line + inner
	case v.Style&yaml.FoldedStyle != 0:
		// Exact unless YAML joined lines of equal indentation before
		// this one; near() quotes the text to find it by.
		return v.Line + max(inner, 1)
	}
	return v.Line
}

// keyLine is the line of key in mapping node, or the mapping's line.
func keyLine(node *yaml.Node, key string) int {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i].Line
		}
	}
	return node.Line
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return describe(n)
	}
	return "nothing usable"
}

func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	return strconv.Quote(textutil.Truncate(n.Value, 40))
}
