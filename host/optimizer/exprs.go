package optimizer

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// exprEqual reports whether a and b are structurally the same expression.
func exprEqual(a, b logical.Expr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case *logical.ColumnRef:
		y, ok := b.(*logical.ColumnRef)
		return ok && x.Index == y.Index && arrow.TypeEqual(x.T, y.T)
	case *logical.Literal:
		y, ok := b.(*logical.Literal)
		return ok && arrow.TypeEqual(x.T, y.T) && literalValueEqual(x.Value, y.Value)
	case *logical.Call:
		y, ok := b.(*logical.Call)
		if !ok || x.Func != y.Func || !arrow.TypeEqual(x.T, y.T) || !maps.Equal(x.Options, y.Options) {
			return false
		}
		return exprsEqual(x.Args, y.Args)
	case *logical.Cast:
		y, ok := b.(*logical.Cast)
		return ok && x.Try == y.Try && arrow.TypeEqual(x.T, y.T) && exprEqual(x.Input, y.Input)
	case *logical.Case:
		y, ok := b.(*logical.Case)
		if !ok || len(x.Whens) != len(y.Whens) || !arrow.TypeEqual(x.T, y.T) || !exprEqual(x.Else, y.Else) {
			return false
		}
		for i := range x.Whens {
			if !exprEqual(x.Whens[i].Cond, y.Whens[i].Cond) || !exprEqual(x.Whens[i].Then, y.Whens[i].Then) {
				return false
			}
		}
		return true
	case *logical.InList:
		y, ok := b.(*logical.InList)
		return ok && x.Negated == y.Negated && exprEqual(x.Input, y.Input) && exprsEqual(x.List, y.List)
	case *logical.AggregateCall:
		y, ok := b.(*logical.AggregateCall)
		return ok && x.Func == y.Func && x.Distinct == y.Distinct && arrow.TypeEqual(x.T, y.T) &&
			exprsEqual(x.Args, y.Args) && exprEqual(x.Filter, y.Filter)
	case *logical.WindowCall:
		y, ok := b.(*logical.WindowCall)
		return ok && arrow.TypeEqual(x.T, y.T) && x.String() == y.String()
	}
	return false
}

func exprsEqual(a, b []logical.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !exprEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func literalValueEqual(a, b any) bool {
	if ab, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && bytes.Equal(ab, bb)
	}
	if _, ok := b.([]byte); ok {
		return false
	}
	return a == b
}

// containsExpr reports whether list holds an expression equal to e.
func containsExpr(list []logical.Expr, e logical.Expr) bool {
	for _, x := range list {
		if exprEqual(x, e) {
			return true
		}
	}
	return false
}

// dedupExprs drops repeated expressions, keeping the first occurrence.
func dedupExprs(list []logical.Expr) []logical.Expr {
	out := make([]logical.Expr, 0, len(list))
	for _, e := range list {
		if !containsExpr(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// colsOf returns the sorted distinct input columns e reads.
func colsOf(e logical.Expr) []int {
	var out []int
	logical.WalkExpr(e, func(n logical.Expr) bool {
		if c, ok := n.(*logical.ColumnRef); ok {
			if i, found := slices.BinarySearch(out, c.Index); !found {
				out = slices.Insert(out, i, c.Index)
			}
		}
		return true
	})
	return out
}

// refsOnly reports whether every column e reads satisfies in.
func refsOnly(e logical.Expr, in func(int) bool) bool {
	ok := true
	logical.WalkExpr(e, func(n logical.Expr) bool {
		if c, isRef := n.(*logical.ColumnRef); isRef && !in(c.Index) {
			ok = false
		}
		return ok
	})
	return ok
}

// refsAny reports whether e reads some column satisfying in.
func refsAny(e logical.Expr, in func(int) bool) bool {
	found := false
	logical.WalkExpr(e, func(n logical.Expr) bool {
		if c, isRef := n.(*logical.ColumnRef); isRef && in(c.Index) {
			found = true
		}
		return !found
	})
	return found
}

// mapColumns rewrites every column index i in e to f(i).
func mapColumns(e logical.Expr, f func(int) int) logical.Expr {
	out, _ := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		c, ok := n.(*logical.ColumnRef)
		if !ok {
			return n, nil
		}
		cc := *c
		cc.Index = f(c.Index)
		return &cc, nil
	})
	return out
}

// substitute replaces every column reference i in e by exprs[i].
func substitute(e logical.Expr, exprs []logical.Expr) logical.Expr {
	out, _ := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		if c, ok := n.(*logical.ColumnRef); ok {
			return exprs[c.Index], nil
		}
		return n, nil
	})
	return out
}

// hasAggOrWindow reports whether e holds an aggregate or window call.
func hasAggOrWindow(e logical.Expr) bool {
	found := false
	logical.WalkExpr(e, func(n logical.Expr) bool {
		switch n.(type) {
		case *logical.AggregateCall, *logical.WindowCall:
			found = true
		}
		return !found
	})
	return found
}

func boolLit(v bool) *logical.Literal { return &logical.Literal{Value: v, T: logical.Bool} }

func isBoolLit(e logical.Expr, v bool) bool {
	l, ok := e.(*logical.Literal)
	if !ok {
		return false
	}
	b, ok := l.Value.(bool)
	return ok && b == v
}

func isNullLit(e logical.Expr) bool {
	l, ok := e.(*logical.Literal)
	return ok && l.Value == nil
}

// isTrue reports whether e is the literal true.
func isTrue(e logical.Expr) bool { return isBoolLit(e, true) }

// splitDisjunction flattens nested `or` calls into their disjuncts.
func splitDisjunction(e logical.Expr) []logical.Expr {
	if c, ok := e.(*logical.Call); ok && c.Func == "or" {
		var out []logical.Expr
		for _, a := range c.Args {
			out = append(out, splitDisjunction(a)...)
		}
		return out
	}
	return []logical.Expr{e}
}

// orOf combines disjuncts with `or`; the literal false for none.
func orOf(disj []logical.Expr) logical.Expr {
	switch len(disj) {
	case 0:
		return boolLit(false)
	case 1:
		return disj[0]
	}
	nullable := false
	for _, d := range disj {
		nullable = nullable || d.Nullable()
	}
	return &logical.Call{Func: "or", Args: disj, T: logical.Bool, NullableOut: nullable}
}

// andOf combines conjuncts with `and`; the literal true for none.
func andOf(conj []logical.Expr) logical.Expr {
	if len(conj) == 0 {
		return boolLit(true)
	}
	return logical.And(conj...)
}

// withFilter puts a Filter holding preds above p (p itself when none).
func withFilter(p logical.Plan, preds []logical.Expr) logical.Plan {
	preds = dedupExprs(preds)
	if len(preds) == 0 {
		return p
	}
	return &logical.Filter{Input: p, Cond: logical.And(preds...)}
}

// qualifiers returns the qualifier of every field of s.
func qualifiers(s *logical.Schema) []string {
	q := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		q[i] = f.Qualifier
	}
	return q
}

// names returns the name of every field of s.
func names(s *logical.Schema) []string {
	n := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		n[i] = f.Name
	}
	return n
}

// projectColumns builds a Project of input's columns idx keeping their
// names and qualifiers.
func projectColumns(input logical.Plan, idx []int) *logical.Project {
	s := input.Schema()
	nm := make([]string, len(idx))
	q := make([]string, len(idx))
	for i, j := range idx {
		nm[i] = s.Fields[j].Name
		q[i] = s.Fields[j].Qualifier
	}
	return logical.NewProject(input, logical.Cols(s, idx), nm, q)
}

// rebuildProject rebuilds p over input with exprs, keeping p's output names
// and qualifiers (the schema is recomputed from the expressions).
func rebuildProject(p *logical.Project, input logical.Plan, exprs []logical.Expr) *logical.Project {
	return logical.NewProject(input, exprs, p.Names, qualifiers(p.Schema()))
}

// isIdentityProject reports whether p outputs exactly its input's columns in
// order (names may differ).
func isIdentityProject(p *logical.Project) bool {
	if len(p.Exprs) != p.Input.Schema().Len() {
		return false
	}
	for i, e := range p.Exprs {
		c, ok := e.(*logical.ColumnRef)
		if !ok || c.Index != i {
			return false
		}
	}
	return true
}

// sameNames reports whether a and b have the same column names.
func sameNames(a, b *logical.Schema) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name {
			return false
		}
	}
	return true
}

func typeEqual(a, b arrow.DataType) bool { return arrow.TypeEqual(a, b) }

// sortExprs orders expressions by their text, for deterministic plans.
func sortExprs(list []logical.Expr) {
	slices.SortStableFunc(list, func(a, b logical.Expr) int {
		return strings.Compare(a.String(), b.String())
	})
}
