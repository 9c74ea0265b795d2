package worker

import (
	"fmt"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/aggregate"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/join"
)

// join plans a logical join: a hash join when the condition has equi-join
// conjuncts between the two sides, a nested-loop join otherwise. The right
// input is the build side.
func (pl *planner) join(j *logical.Join) (exec.Node, error) {
	left, err := pl.plan(j.Left)
	if err != nil {
		return nil, err
	}
	right, err := pl.plan(j.Right)
	if err != nil {
		return nil, err
	}
	nl := j.Left.Schema().Len()
	jt := j.Type
	if jt == logical.JoinCross {
		jt = logical.JoinInner
	}
	lk, rk, residual := splitEquiKeys(j.On, nl)
	if len(lk) == 0 {
		return join.NewNestedLoopJoin(left, right, jt, j.On)
	}
	return join.NewHashJoin(left, right, jt, lk, rk, residual, j.NullAware, join.CollectBuild)
}

// splitEquiKeys separates `left = right` conjuncts (each side referring to
// one input only, right keys rebased onto the right schema) from the rest.
// Operands of different types become keys when they can be brought to one
// representation without loss (see logical.JoinKeyTypes); the others stay in the
// residual.
func splitEquiKeys(on logical.Expr, nl int) (lk, rk []logical.Expr, residual logical.Expr) {
	var rest []logical.Expr
	for _, c := range logical.SplitConjunction(on) {
		call, ok := c.(*logical.Call)
		if ok && call.Func == "equal" && len(call.Args) == 2 {
			a, b := call.Args[0], call.Args[1]
			sa, sb := logical.JoinSide(a, nl), logical.JoinSide(b, nl)
			if sa == logical.SideRight && sb == logical.SideLeft {
				a, b, sa, sb = b, a, sb, sa
			}
			if sa == logical.SideLeft && sb == logical.SideRight {
				if l, r, ok := logical.JoinKeyTypes(a, b); ok {
					lk, rk = append(lk, l), append(rk, logical.ShiftColumns(r, -nl))
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	return lk, rk, logical.And(rest...)
}

// intersectExcept plans INTERSECT and EXCEPT [ALL] (NULLs compare equal, as
// in every set operation): both inputs are tagged, unioned and grouped by
// all columns, counting the rows from each side; the counts decide which
// groups survive and, for ALL, how many copies.
func (pl *planner) intersectExcept(s *logical.SetOp, inputs []exec.Node) (exec.Node, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("not supported: %s of %d inputs", s.Kind, len(inputs))
	}
	schema := inputs[0].Schema()
	ncols := schema.NumFields()
	ls := logical.FromArrow(schema, "")
	tag := func(in exec.Node, l, r int64) (exec.Node, error) {
		ins := logical.FromArrow(in.Schema(), "")
		exprs := make([]logical.Expr, 0, ncols+2)
		names := make([]string, 0, ncols+2)
		for i := 0; i < ncols; i++ {
			exprs = append(exprs, logical.Col(ins, i))
			names = append(names, ls.Fields[i].Name)
		}
		exprs = append(exprs, &logical.Literal{Value: l, T: logical.Int64}, &logical.Literal{Value: r, T: logical.Int64})
		names = append(names, "__l", "__r")
		return exec.NewProject(in, exprs, names)
	}
	a, err := tag(inputs[0], 1, 0)
	if err != nil {
		return nil, err
	}
	b, err := tag(inputs[1], 0, 1)
	if err != nil {
		return nil, err
	}
	u, err := exec.NewUnion(a, b)
	if err != nil {
		return nil, err
	}
	us := logical.FromArrow(u.Schema(), "")
	keys := make([]logical.Expr, ncols)
	keyNames := make([]string, ncols)
	for i := range keys {
		keys[i] = logical.Col(us, i)
		keyNames[i] = ls.Fields[i].Name
	}
	aggs := []*logical.AggregateCall{
		{Func: "sum", Args: []logical.Expr{logical.Col(us, ncols)}, T: logical.Int64},
		{Func: "sum", Args: []logical.Expr{logical.Col(us, ncols+1)}, T: logical.Int64},
	}
	var in exec.Node = u
	if in.Partitions() > 1 {
		in = exec.NewCoalesce(in)
	}
	agg, err := aggregate.NewHashAggregate(in, aggregate.Single, keys, keyNames, nil, aggs, []string{"__cl", "__cr"})
	if err != nil {
		return nil, err
	}
	as := logical.FromArrow(agg.Schema(), "")
	cl, cr := logical.Col(as, ncols), logical.Col(as, ncols+1)
	zero := &logical.Literal{Value: int64(0), T: logical.Int64}
	cmp := func(fn string, x, y logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: []logical.Expr{x, y}, T: logical.Bool}
	}
	var cond, count logical.Expr
	if s.Kind == logical.Intersect {
		cond = logical.And(cmp("gt", cl, zero), cmp("gt", cr, zero))
		count = &logical.Case{Whens: []logical.When{{Cond: cmp("lt", cl, cr), Then: cl}}, Else: cr, T: logical.Int64}
	} else {
		cond = logical.And(cmp("gt", cl, zero), cmp("gt", &logical.Call{Func: "subtract", Args: []logical.Expr{cl, cr}, T: logical.Int64}, zero))
		if !s.All {
			cond = logical.And(cmp("gt", cl, zero), cmp("equal", cr, zero))
		}
		count = &logical.Call{Func: "subtract", Args: []logical.Expr{cl, cr}, T: logical.Int64}
	}
	filtered, err := exec.NewFilter(agg, cond)
	if err != nil {
		return nil, err
	}
	outExprs := make([]logical.Expr, 0, ncols+1)
	outNames := make([]string, 0, ncols+1)
	for i := 0; i < ncols; i++ {
		outExprs = append(outExprs, logical.Col(as, i))
		outNames = append(outNames, ls.Fields[i].Name)
	}
	if !s.All {
		return exec.NewProject(filtered, outExprs, outNames)
	}
	outExprs = append(outExprs, count)
	outNames = append(outNames, "__count")
	proj, err := exec.NewProject(filtered, outExprs, outNames)
	if err != nil {
		return nil, err
	}
	return newReplicate(proj), nil
}
