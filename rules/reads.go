package rules

import (
	"slices"
	"text/template/parse"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/parleybot/parley"
)

// Reads reports whether the set's conditions or reply templates may read
// History.PendingDrafts (person.pending_drafts, {{.History.PendingDrafts}})
// and History.RepliesInThread (thread.replies,
// {{.History.RepliesInThread}}). It errs towards true: a condition that
// uses person or thread other than through a named field, or a template
// that hands on its whole data, the whole History or a variable, counts as
// reading both.
func (s *Set) Reads() (pendingDrafts, repliesInThread bool) {
	if s == nil {
		return false, false
	}
	return s.reads.pending, s.reads.replies
}

// DecideOptions returns the parley.DecideOptions that describe Decide:
// the History counts the set never reads (see Reads).
func (s *Set) DecideOptions() parley.DecideOptions {
	pending, replies := s.Reads()
	return parley.DecideOptions{IgnoresPendingDrafts: !pending, IgnoresRepliesInThread: !replies}
}

type historyReads struct{ pending, replies bool }

func (r *historyReads) all() { r.pending, r.replies = true, true }

func (s *Set) initReads() {
	for i := range s.rules {
		c := &s.rules[i]
		tree, err := parser.Parse(c.When)
		if err != nil {
			s.reads.all()
			continue
		}
		conditionReads(tree.Node, &s.reads)
		if c.tmpl != nil {
			for _, t := range c.tmpl.Templates() {
				if t.Tree != nil && t.Root != nil {
					templateReads(t.Root, &s.reads)
				}
			}
		}
	}
}

// conditionReads adds what a condition reads of the draft counts.
func conditionReads(root ast.Node, r *historyReads) {
	named := map[*ast.IdentifierNode]bool{} // person or thread with a constant field
	var members, idents []ast.Node
	ast.Walk(&root, visitor(func(n ast.Node) {
		switch n.(type) {
		case *ast.MemberNode:
			members = append(members, n)
		case *ast.IdentifierNode:
			idents = append(idents, n)
		}
	}))
	for _, n := range members {
		m := n.(*ast.MemberNode)
		id, ok := m.Node.(*ast.IdentifierNode)
		if !ok || (id.Value != "person" && id.Value != "thread") {
			continue
		}
		prop, ok := m.Property.(*ast.StringNode)
		if !ok {
			continue
		}
		named[id] = true
		switch {
		case id.Value == "person" && prop.Value == "pending_drafts":
			r.pending = true
		case id.Value == "thread" && prop.Value == "replies":
			r.replies = true
		}
	}
	for _, n := range idents {
		id := n.(*ast.IdentifierNode)
		switch id.Value {
		case "person", "thread", "$env":
			if !named[id] {
				r.all()
			}
		}
	}
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// templateReads adds what a reply template reads of the draft counts.
func templateReads(n parse.Node, r *historyReads) {
	fields := func(idents []string) {
		switch {
		case slices.Contains(idents, "PendingDrafts") && slices.Contains(idents, "RepliesInThread"):
			r.all()
		case slices.Contains(idents, "PendingDrafts"):
			r.pending = true
		case slices.Contains(idents, "RepliesInThread"):
			r.replies = true
		case len(idents) > 0 && idents[len(idents)-1] == "History":
			r.all() // the whole History, handed to a function or `with`
		}
	}
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			templateReads(c, r)
		}
	case *parse.ActionNode:
		templateReads(n.Pipe, r)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			templateReads(c, r)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			templateReads(a, r)
		}
	case *parse.IfNode:
		branchReads(&n.BranchNode, r)
	case *parse.RangeNode:
		branchReads(&n.BranchNode, r)
	case *parse.WithNode:
		branchReads(&n.BranchNode, r)
	case *parse.TemplateNode:
		templateReads(n.Pipe, r)
	case *parse.FieldNode:
		fields(n.Ident)
	case *parse.ChainNode:
		templateReads(n.Node, r)
		fields(n.Field)
	case *parse.VariableNode:
		if len(n.Ident) == 1 {
			r.all() // $ or a variable: anything
		}
		fields(n.Ident[1:])
	case *parse.DotNode:
		r.all() // dot itself may be the data or the History
	}
}

func branchReads(n *parse.BranchNode, r *historyReads) {
	templateReads(n.Pipe, r)
	templateReads(n.List, r)
	templateReads(n.ElseList, r)
}
