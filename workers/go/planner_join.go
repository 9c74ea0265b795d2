package worker

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

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
// representation without loss (see equiKeyTypes); the others stay in the
// residual.
func splitEquiKeys(on logical.Expr, nl int) (lk, rk []logical.Expr, residual logical.Expr) {
	var rest []logical.Expr
	for _, c := range logical.SplitConjunction(on) {
		call, ok := c.(*logical.Call)
		if ok && call.Func == "equal" && len(call.Args) == 2 {
			a, b := call.Args[0], call.Args[1]
			sa, sb := side(a, nl), side(b, nl)
			if sa == sideRight && sb == sideLeft {
				a, b, sa, sb = b, a, sb, sa
			}
			if sa == sideLeft && sb == sideRight {
				if l, r, ok := equiKeyTypes(a, b); ok {
					lk, rk = append(lk, l), append(rk, logical.ShiftColumns(r, -nl))
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	return lk, rk, logical.And(rest...)
}

// equiKeyTypes returns the operands of an equality brought to types the
// hash join can compare: unchanged when the types are equal or are
// decimals that differ only in precision (same scale and storage width);
// otherwise the narrower operand is cast to a common type when one holds
// both exactly: integers of different widths to the wider type, decimals
// of different scales or storage to a decimal with the larger scale and
// enough integer digits for both. ok is false when no such type exists.
func equiKeyTypes(a, b logical.Expr) (logical.Expr, logical.Expr, bool) {
	at, bt := a.Type(), b.Type()
	if join.KeyTypesCompatible(at, bt) {
		return a, b, true
	}
	var common arrow.DataType
	if ap, as, ok := logical.DecimalParams(at); ok {
		bp, bs, ok := logical.DecimalParams(bt)
		if !ok {
			return nil, nil, false
		}
		scale := max(as, bs)
		prec := max(ap-as, bp-bs) + scale
		if prec > 38 {
			return nil, nil, false
		}
		common = logical.DecimalType(prec, scale)
	} else if common = widerInteger(at, bt); common == nil {
		return nil, nil, false
	}
	cast := func(e logical.Expr) logical.Expr {
		if join.KeyTypesCompatible(e.Type(), common) {
			return e
		}
		return &logical.Cast{Input: e, T: common}
	}
	return cast(a), cast(b), true
}

// widerInteger is the integer type that holds every value of the integer
// types a and b, or nil when they are not both integers or none does
// (64-bit unsigned with signed).
func widerInteger(a, b arrow.DataType) arrow.DataType {
	aw, as, ok1 := intWidth(a)
	bw, bs, ok2 := intWidth(b)
	if !ok1 || !ok2 {
		return nil
	}
	if as == bs {
		if aw >= bw {
			return a
		}
		return b
	}
	// One is unsigned: the signed one must be wider.
	sw, sT, uw := aw, a, bw
	if bs {
		sw, sT, uw = bw, b, aw
	}
	switch {
	case sw > uw:
		return sT
	case uw < 64:
		return signedOfWidth(2 * uw)
	}
	return nil
}

// intWidth gives the bit width and signedness of an integer type.
func intWidth(t arrow.DataType) (int, bool, bool) {
	switch t.ID() {
	case arrow.INT8:
		return 8, true, true
	case arrow.INT16:
		return 16, true, true
	case arrow.INT32:
		return 32, true, true
	case arrow.INT64:
		return 64, true, true
	case arrow.UINT8:
		return 8, false, true
	case arrow.UINT16:
		return 16, false, true
	case arrow.UINT32:
		return 32, false, true
	case arrow.UINT64:
		return 64, false, true
	}
	return 0, false, false
}

func signedOfWidth(w int) arrow.DataType {
	switch w {
	case 16:
		return arrow.PrimitiveTypes.Int16
	case 32:
		return arrow.PrimitiveTypes.Int32
	}
	return arrow.PrimitiveTypes.Int64
}

const (
	sideNone = iota
	sideLeft
	sideRight
	sideBoth
)

func side(e logical.Expr, nl int) int {
	s := sideNone
	for i := range logical.ColumnsUsed(e, nil) {
		cur := sideLeft
		if i >= nl {
			cur = sideRight
		}
		if s == sideNone {
			s = cur
		} else if s != cur {
			return sideBoth
		}
	}
	return s
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
