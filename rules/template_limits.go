package rules

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"
)

// Limits on what a template may do, so a mistaken one is a config error
// found at load rather than a process that spins for ever: text/template
// has no deadline and cannot be stopped from outside.
const (
	// MaxRangeIterations is the most items one {{range}} may visit.
	MaxRangeIterations = 1000
	// MaxRangeNesting is how deep {{range}} may nest.
	MaxRangeNesting = 2
	// MaxTemplateOutput is the most bytes a template may write (a reply is
	// a few hundred characters; the longest platform limit is 4,000).
	MaxTemplateOutput = 64 << 10
)

// rangeLimitFunc is called on the value of every {{range}} (LimitTemplate
// appends it to the pipeline).
const rangeLimitFunc = "parleyRangeLimit"

func init() { templateFuncs[rangeLimitFunc] = rangeLimit }

// rangeLimit returns v when ranging over it visits at most
// MaxRangeIterations items; else an error.
func rangeLimit(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return v, nil
		}
		rv = rv.Elem()
	}
	var n uint64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = uint64(max(rv.Int(), 0)) //nolint:gosec // G115: not negative
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n = rv.Uint()
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		n = uint64(rv.Len()) //nolint:gosec // G115: a length is not negative
	case reflect.Func, reflect.Chan:
		return nil, fmt.Errorf("range over a %s: only lists, maps and numbers up to %d", rv.Kind(), MaxRangeIterations)
	}
	if n > MaxRangeIterations {
		return nil, fmt.Errorf("range over %d items: at most %d", n, MaxRangeIterations)
	}
	return v, nil
}

// LimitTemplate bounds t (parsed with TemplateFuncs): it refuses
// templates that call templates ({{template}}, {{block}}, {{define}}),
// whose loops nest deeper than MaxRangeNesting, and makes every {{range}}
// fail beyond MaxRangeIterations items. Run it with ExecuteLimited, which
// bounds the output. The error reads as text/template's ("template:
// NAME:LINE:COL: ...").
func LimitTemplate(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("templates calling templates ({{template}}, {{define}}, {{block}}) are not allowed")
	}
	if t.Tree == nil || t.Root == nil {
		return nil
	}
	return limitNode(t.Tree, t.Root, 0)
}

func limitNode(tree *parse.Tree, n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := limitNode(tree, c, depth); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return lineErr(tree, n, "templates calling templates ({{template}}) are not allowed")
	case *parse.IfNode:
		return limitBranch(tree, &n.BranchNode, depth)
	case *parse.WithNode:
		return limitBranch(tree, &n.BranchNode, depth)
	case *parse.RangeNode:
		if depth >= MaxRangeNesting {
			return lineErr(tree, n, fmt.Sprintf("{{range}} nested more than %d deep", MaxRangeNesting))
		}
		n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pipe.Pos,
			Args: []parse.Node{parse.NewIdentifier(rangeLimitFunc).SetTree(tree).SetPos(n.Pipe.Pos)}})
		return limitBranch(tree, &n.BranchNode, depth+1)
	}
	return nil
}

func limitBranch(tree *parse.Tree, b *parse.BranchNode, depth int) error {
	if err := limitNode(tree, b.List, depth); err != nil {
		return err
	}
	if b.ElseList != nil {
		// An {{else}} of a range runs when it has nothing to visit: not
		// inside the loop.
		d := depth
		if b.NodeType == parse.NodeRange {
			d--
		}
		return limitNode(tree, b.ElseList, d)
	}
	return nil
}

func lineErr(tree *parse.Tree, n parse.Node, msg string) error {
	loc, _ := tree.ErrorContext(n)
	return fmt.Errorf("template: %s: %s", loc, msg)
}

// errTooLong is returned by a template writing more than MaxTemplateOutput.
var errTooLong = fmt.Errorf("the text is longer than %d KiB", MaxTemplateOutput>>10)

type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxTemplateOutput {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}

// ExecuteLimited runs t on data and returns what it wrote, failing when
// that passes MaxTemplateOutput bytes.
func ExecuteLimited(t *template.Template, data any) (string, error) {
	var b limitedBuffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
