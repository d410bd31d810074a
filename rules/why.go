package rules

import (
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/parleybot/parley/internal/textutil"
)

// varRef is one environment path an expression reads, with the field index
// that fetches its value from an env.
type varRef struct {
	path  string
	index []int
}

// collectRefs returns the environment paths node reads, in source order,
// without duplicates and without a path that is a prefix of another one
// ("person" when "person.followers" is there). Function names, predicate
// pointers (#) and let-variables are not environment paths.
func collectRefs(node ast.Node) []varRef {
	type hit struct {
		path string
		from int
	}
	var hits []hit
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil {
			return
		}
		if p, ok := memberPath(n); ok {
			if root, _, _ := strings.Cut(p, "."); envRoots[root] {
				hits = append(hits, hit{p, n.Location().From})
			}
			return
		}
		switch n := n.(type) {
		case *ast.UnaryNode:
			walk(n.Node)
		case *ast.BinaryNode:
			walk(n.Left)
			walk(n.Right)
		case *ast.ChainNode:
			walk(n.Node)
		case *ast.MemberNode:
			walk(n.Node)
			walk(n.Property)
		case *ast.SliceNode:
			walk(n.Node)
			walk(n.From)
			walk(n.To)
		case *ast.CallNode:
			if _, ok := n.Callee.(*ast.IdentifierNode); !ok {
				walk(n.Callee)
			}
			for _, a := range n.Arguments {
				walk(a)
			}
		case *ast.BuiltinNode:
			for _, a := range n.Arguments {
				walk(a)
			}
		case *ast.PredicateNode:
			walk(n.Node)
		case *ast.VariableDeclaratorNode:
			walk(n.Value)
			walk(n.Expr)
		case *ast.SequenceNode:
			for _, x := range n.Nodes {
				walk(x)
			}
		case *ast.ConditionalNode:
			walk(n.Cond)
			walk(n.Exp1)
			walk(n.Exp2)
		case *ast.ArrayNode:
			for _, x := range n.Nodes {
				walk(x)
			}
		case *ast.MapNode:
			for _, x := range n.Pairs {
				walk(x)
			}
		case *ast.PairNode:
			walk(n.Key)
			walk(n.Value)
		}
	}
	walk(node)

	slices.SortStableFunc(hits, func(a, b hit) int { return a.from - b.from })
	var refs []varRef
	for _, h := range hits {
		dup := false
		for _, o := range hits {
			if o.path != h.path && strings.HasPrefix(o.path, h.path+".") {
				dup = true // a longer path says more
				break
			}
		}
		for _, r := range refs {
			dup = dup || r.path == h.path
		}
		if dup {
			continue
		}
		if idx, ok := envField(h.path); ok {
			refs = append(refs, varRef{path: h.path, index: idx})
		}
	}
	return refs
}

// memberPath returns "a.b.c" for an identifier or a chain of constant
// member accesses (a.b.c, a?.b, a["b"]).
func memberPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value, true
	case *ast.ChainNode:
		return memberPath(n.Node)
	case *ast.MemberNode:
		prop, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method {
			return "", false
		}
		base, ok := memberPath(n.Node)
		if !ok {
			return "", false
		}
		return base + "." + prop.Value, true
	}
	return "", false
}

// maxWhyText is how many runes of a string value a Why shows.
const maxWhyText = 60

// appendWhy appends the explanation of a match to b: the condition on one
// line, then the values of the variables it read, e.g.
//
//	sentiment.label == "positive" && !person.first_time  [sentiment.label="positive" person.first_time=false]
func appendWhy(b []byte, when string, refs []varRef, e *env) []byte {
	b = append(b, when...)
	if len(refs) == 0 {
		return b
	}
	b = append(b, "  ["...)
	v := reflect.ValueOf(e).Elem()
	for i, r := range refs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, r.path...)
		b = append(b, '=')
		b = appendValue(b, v.FieldByIndex(r.index))
	}
	return append(b, ']')
}

func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		return strconv.AppendQuote(b, textutil.Truncate(v.String(), maxWhyText))
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Float64:
		return strconv.AppendFloat(b, v.Float(), 'g', 3, 64)
	case reflect.Slice:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, v.Index(i))
		}
		return append(b, ']')
	case reflect.Struct:
		t := v.Type()
		b = append(b, '{')
		for i := range v.NumField() {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, t.Field(i).Tag.Get("expr")...)
			b = append(b, ':')
			b = appendValue(b, v.Field(i))
		}
		return append(b, '}')
	}
	return append(b, '?')
}
