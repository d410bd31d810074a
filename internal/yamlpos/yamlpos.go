// Package yamlpos decodes YAML configuration through yaml.Node and reports
// everything wrong with it as structured problems {Path, Line, Msg}: a
// syntax error at its line, an unknown key with the nearest known one, a
// value of the wrong type at its line. It is the one place that knows
// where in a file a setting was written; every config loader in Parley
// goes through it.
//
// Decode walks the node and the Go value together instead of handing the
// whole document to yaml.v3, so it reports every problem (not the first),
// knows each one's key path, and never reads line numbers back out of
// error text.
package yamlpos

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a YAML document.
type Problem struct {
	Path string // the key path, e.g. "digest.targets[1].kind"; "" for the document
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong, for people
}

// String is "line N: msg".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// Problems is a list of problems as an error; a type's UnmarshalYAML
// returns it so Decode can merge its problems with their lines.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders problems by line, keeping the order of those on one line.
func Sort(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// Parse reads a YAML document and returns its top node (the mapping,
// sequence or scalar the document holds; nil for an empty document). A
// syntax error becomes a problem at its line.
func Parse(data []byte) (*yaml.Node, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p := syntaxProblem(err)
		p.Line = firstBadLine(data, p.Line, p.Msg)
		return nil, []Problem{p}
	}
	switch {
	case doc.Kind == 0:
		return nil, nil // nothing but comments, or nothing at all
	case doc.Kind == yaml.DocumentNode && len(doc.Content) == 0:
		return nil, nil
	case doc.Kind == yaml.DocumentNode:
		return Resolve(doc.Content[0]), nil
	}
	return &doc, nil
}

// syntaxProblem turns yaml.v3's parse error into a problem. The parser
// reports a syntax error only as text ("yaml: line 7: mapping values are
// not allowed in this context"), so its line is read from there: this is
// the one place that does so.
func syntaxProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, text
			}
		}
	}
	if strings.Contains(msg, "found character that cannot start any token") ||
		strings.Contains(msg, "mapping values are not allowed") ||
		strings.Contains(msg, "did not find expected key") {
		msg += " (check the indentation: keys of one mapping line up, with spaces, not tabs)"
	}
	return Problem{Line: line, Msg: "YAML: " + msg}
}

// firstBadLine finds the line a syntax error is on. yaml.v3 reports the
// line where the enclosing mapping or list began (its context), not the
// line that broke it: a key indented one space too little is blamed on
// the section above. The first prefix of the document, from that line on,
// that no longer parses, with the same complaint, ends at the line to
// blame (a prefix cut inside a multi-line value fails differently).
// Configs are short, so parsing a few hundred prefixes costs little.
func firstBadLine(data []byte, reported int, msg string) int {
	lines := strings.SplitAfter(string(data), "\n")
	if reported < 1 || len(lines) > 5000 {
		return reported
	}
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		if i+1 < reported {
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(prefix.String()), &n); err != nil && syntaxProblem(err).Msg == msg {
			return i + 1
		}
	}
	return reported
}

// Resolve follows aliases (*name) to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// Lookup returns the value node at a key path ("brand", "timezone") in a
// mapping and the line of the last key found on the way: the key itself
// when the whole path exists, else its nearest ancestor (0 when none).
// A path element "[2]" indexes a sequence.
func Lookup(n *yaml.Node, path ...string) (*yaml.Node, int) {
	n = Resolve(n)
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = Resolve(n.Content[0])
	}
	line := 0
	for _, key := range path {
		if n == nil {
			return nil, line
		}
		var next *yaml.Node
		if idx, ok := index(key); ok {
			if n.Kind == yaml.SequenceNode && idx < len(n.Content) {
				next = Resolve(n.Content[idx])
				line = next.Line
			}
		} else if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line = n.Content[i].Line
					next = Resolve(n.Content[i+1])
					break
				}
			}
		}
		if next == nil {
			return nil, line
		}
		n = next
	}
	return n, line
}

// Line is the line of a dotted key path ("digest.targets[2].to", as
// Problem.Path spells it), or of its nearest ancestor.
func Line(n *yaml.Node, path string) int {
	_, line := Lookup(n, SplitPath(path)...)
	return line
}

// SplitPath splits "digest.targets[2].to" into "digest", "targets", "[2]",
// "to".
func SplitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				out = append(out, part)
				part = ""
			case i > 0:
				out = append(out, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					out = append(out, part)
					part = ""
					continue
				}
				out = append(out, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return out
}

func index(key string) (int, bool) {
	if !strings.HasPrefix(key, "[") || !strings.HasSuffix(key, "]") {
		return 0, false
	}
	n, err := strconv.Atoi(key[1 : len(key)-1])
	return n, err == nil && n >= 0
}

// Suggest returns the candidate closest to s when it is close enough to
// be a likely typo, else "".
func Suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if d < bestD || (d == bestD && best == "") {
			if d <= max(1, min(2, len(c)/3)) {
				best, bestD = c, d
			}
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1) // transposition
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// UnknownKey is the message for a key a mapping does not have: the
// nearest known key when one is close, else the list of known keys.
func UnknownKey(key string, known []string) string {
	if s := Suggest(key, known); s != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, s)
	}
	return fmt.Sprintf("unknown key %q (known keys: %s)", key, strings.Join(known, ", "))
}

// Decode decodes n into v, a pointer, over the values v already holds
// (so defaults stay where the document is silent). path names n in
// problems ("" for the document). Struct fields are matched by their yaml
// tags and unknown keys are problems; a slice of structs also takes a
// single mapping (one account written without the list). A type with its
// own UnmarshalYAML reads its node itself; when that returns Problems
// they are merged, any other error is a problem at the node's line.
func Decode(n *yaml.Node, v any, path string) []Problem {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return []Problem{{Path: path, Msg: fmt.Sprintf("yamlpos: Decode needs a non-nil pointer, got %T", v)}}
	}
	d := &decoder{}
	if n != nil {
		d.value(Resolve(n), rv.Elem(), path)
	}
	return d.problems
}

type decoder struct{ problems []Problem }

func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.problems = append(d.problems, Problem{Path: path, Line: n.Line, Msg: msg})
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n == nil {
		return
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		d.custom(n, v.Addr(), path)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // yaml.v3 leaves the value as it was for a null
	}
	if v.CanAddr() && v.Addr().Type().Implements(textType) {
		d.scalar(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// custom hands n to a type's own UnmarshalYAML.
func (d *decoder) custom(n *yaml.Node, ptr reflect.Value, path string) {
	err := ptr.Interface().(yaml.Unmarshaler).UnmarshalYAML(n)
	var ps Problems
	switch {
	case err == nil:
	case errors.As(err, &ps):
		for _, p := range ps {
			if p.Line == 0 {
				p.Line = n.Line
			}
			d.problems = append(d.problems, p)
		}
	default:
		d.add(n, path, "%v", err)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "want a mapping (key: value lines), got %s", kindName(n))
		return
	}
	fields, names := structFields(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], Resolve(n.Content[i+1])
		if k.Value == "<<" && k.Tag == "!!merge" {
			d.value(val, v, path)
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			msg := UnknownKey(k.Value, names)
			if path != "" {
				msg = path + ": " + msg
			}
			d.problems = append(d.problems, Problem{Path: join(path, k.Value), Line: k.Line, Msg: msg})
			continue
		}
		d.value(val, v.FieldByIndex(idx), join(path, k.Value))
	}
}

// structFields maps each yaml key of struct type t to its field (inline
// structs' fields included) and lists the keys in field order.
func structFields(t reflect.Type) (map[string][]int, []string) {
	fields := map[string][]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			sub, subNames := structFields(f.Type)
			for k, idx := range sub {
				fields[k] = append([]int{i}, idx...)
			}
			names = append(names, subNames...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = []int{i}
		names = append(names, name)
	}
	return fields, names
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	items := n.Content
	switch {
	case n.Kind == yaml.SequenceNode:
	case n.Kind == yaml.MappingNode && isStructish(v.Type().Elem()):
		items = []*yaml.Node{n} // one item written without the list
	default:
		d.add(n, path, "want a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		p := path + "[" + strconv.Itoa(i) + "]"
		if n.Kind != yaml.SequenceNode {
			p = path
		}
		d.value(Resolve(item), out.Index(i), p)
	}
	v.Set(out)
}

func isStructish(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != nodeType
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "want a mapping (key: value lines), got %s", kindName(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], Resolve(n.Content[i+1])
		key := reflect.New(v.Type().Key()).Elem()
		if err := k.Decode(key.Addr().Interface()); err != nil {
			d.add(k, path, "key %q: want %s", k.Value, typeName(key.Type()))
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old)
		}
		d.value(val, elem, join(path, k.Value))
		v.SetMapIndex(key, elem)
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode && v.Kind() != reflect.Interface {
		d.add(n, path, "want %s, got %s", typeName(v.Type()), kindName(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.add(n, path, "want %s, got %q", typeName(v.Type()), n.Value)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.PkgPath() == "time" && t.Name() == "Duration" {
			return "a duration such as 90s, 15m or 2h"
		}
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value lines)"
	}
	return t.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
