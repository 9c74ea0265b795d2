package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// EliminateTrivialNodes removes nodes that do nothing and folds adjacent
// ones: Filter true (and Filter false or NULL into an empty Values), merged
// adjacent Filters and Projects, Projects that pass their input through
// unchanged, Limits without bound (and LIMIT 0), Sorts without keys, a Sort
// directly under another Sort or an Aggregate, single-input and nested
// unions, and operators over empty inputs that must produce no rows.
type EliminateTrivialNodes struct{}

// Name implements Rule.
func (EliminateTrivialNodes) Name() string { return "eliminate_trivial_nodes" }

// Apply implements Rule.
func (EliminateTrivialNodes) Apply(p logical.Plan) (logical.Plan, error) {
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) { return eliminate(n), nil })
}

func emptyOf(s *logical.Schema) *logical.Values { return logical.NewValues(s, nil) }

func isEmpty(p logical.Plan) bool {
	v, ok := p.(*logical.Values)
	return ok && len(v.Rows) == 0
}

func eliminate(n logical.Plan) logical.Plan {
	switch x := n.(type) {
	case *logical.Filter:
		switch {
		case isTrue(x.Cond):
			return x.Input
		case isBoolLit(x.Cond, false) || isNullLit(x.Cond) || isEmpty(x.Input):
			return emptyOf(x.Schema())
		}
		if in, ok := x.Input.(*logical.Filter); ok {
			conj := append(logical.SplitConjunction(in.Cond), logical.SplitConjunction(x.Cond)...)
			return &logical.Filter{Input: in.Input, Cond: logical.And(dedupExprs(conj)...)}
		}
	case *logical.Project:
		if isEmpty(x.Input) {
			return emptyOf(x.Schema())
		}
		if isIdentityProject(x) && sameNames(x.Schema(), x.Input.Schema()) {
			return x.Input
		}
		if in, ok := x.Input.(*logical.Project); ok && mergeable(x.Exprs, in.Exprs) {
			exprs := make([]logical.Expr, len(x.Exprs))
			for i, e := range x.Exprs {
				exprs[i] = substitute(e, in.Exprs)
			}
			return eliminate(rebuildProject(x, in.Input, exprs))
		}
	case *logical.Limit:
		switch {
		case x.Count < 0 && x.Offset == 0:
			return x.Input
		case x.Count == 0 || isEmpty(x.Input):
			return emptyOf(x.Schema())
		}
	case *logical.Sort:
		if isEmpty(x.Input) || x.Fetch == 0 {
			return emptyOf(x.Schema())
		}
		if len(x.Keys) == 0 {
			if x.Fetch < 0 {
				return x.Input
			}
			return &logical.Limit{Input: x.Input, Count: x.Fetch}
		}
		if in, ok := x.Input.(*logical.Sort); ok && in.Fetch < 0 {
			return x.WithChildren([]logical.Plan{in.Input})
		}
	case *logical.Aggregate:
		if in, ok := x.Input.(*logical.Sort); ok && in.Fetch < 0 {
			return x.WithChildren([]logical.Plan{in.Input})
		}
		if isEmpty(x.Input) && len(x.GroupBy) > 0 {
			return emptyOf(x.Schema())
		}
	case *logical.Join:
		return eliminateJoin(x)
	case *logical.SetOp:
		return eliminateSetOp(x)
	}
	return n
}

// mergeable reports whether outer can be substituted with inner without
// computing a non-trivial inner expression more than once.
func mergeable(outer, inner []logical.Expr) bool {
	uses := make([]int, len(inner))
	for _, e := range outer {
		if hasAggOrWindow(e) {
			return false
		}
		logical.WalkExpr(e, func(x logical.Expr) bool {
			if c, ok := x.(*logical.ColumnRef); ok {
				uses[c.Index]++
			}
			return true
		})
	}
	for i, e := range inner {
		switch e.(type) {
		case *logical.ColumnRef, *logical.Literal:
			continue
		}
		if uses[i] > 1 {
			return false
		}
	}
	return true
}

func eliminateJoin(x *logical.Join) logical.Plan {
	le, re := isEmpty(x.Left), isEmpty(x.Right)
	switch x.Type {
	case logical.JoinInner, logical.JoinCross, logical.JoinSemi:
		if le || re {
			return emptyOf(x.Schema())
		}
	case logical.JoinAnti, logical.JoinLeft, logical.JoinSingle, logical.JoinMark:
		if le {
			return emptyOf(x.Schema())
		}
	case logical.JoinRight:
		if re {
			return emptyOf(x.Schema())
		}
	case logical.JoinFull:
		if le && re {
			return emptyOf(x.Schema())
		}
	}
	return x
}

func eliminateSetOp(x *logical.SetOp) logical.Plan {
	if x.Kind != logical.Union {
		if len(x.Inputs) > 0 && isEmpty(x.Inputs[0]) {
			return emptyOf(x.Schema())
		}
		return x
	}
	var inputs []logical.Plan
	changed := false
	for _, in := range x.Inputs {
		if isEmpty(in) {
			changed = true
			continue
		}
		// UNION ALL inside UNION ALL, or any union inside UNION DISTINCT,
		// flattens.
		if u, ok := in.(*logical.SetOp); ok && u.Kind == logical.Union && (u.All || !x.All) && len(u.Inputs) > 0 {
			inputs = append(inputs, u.Inputs...)
			changed = true
			continue
		}
		inputs = append(inputs, in)
	}
	if len(inputs) > 0 {
		// The first input names the union's columns.
		inputs[0] = renameTo(inputs[0], x.Schema())
	}
	switch {
	case len(inputs) == 0:
		return emptyOf(x.Schema())
	case len(inputs) == 1 && x.All:
		return inputs[0]
	case len(inputs) == 1:
		// UNION of one input is DISTINCT: group by every column.
		in := inputs[0]
		s := x.Schema()
		return logical.NewAggregate(in, logical.Cols(in.Schema(), seq(s.Len())), names(s), nil, nil, nil)
	}
	if !changed {
		return x
	}
	return x.WithChildren(inputs)
}

// renameTo returns p with the column names of s (p itself when they match).
func renameTo(p logical.Plan, s *logical.Schema) logical.Plan {
	if sameNames(p.Schema(), s) {
		return p
	}
	if pr, ok := p.(*logical.Project); ok {
		return logical.NewProject(pr.Input, pr.Exprs, names(s), qualifiers(pr.Schema()))
	}
	return logical.NewProject(p, logical.Cols(p.Schema(), seq(s.Len())), names(s), qualifiers(p.Schema()))
}
