package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Decorrelate rewrites the subquery expressions of a plan that arrived as
// Substrait (logical.Subquery, with logical.OuterRef inside its plan) into
// the joins the binder builds for SQL subqueries (see subquery.go).
//
// The correlation of a subquery plan is pulled up to its top: correlated
// conjuncts of filters (and of inner join conditions) leave the plan, the
// projections above them pass the inner columns those conjuncts read, and
// an aggregate above them groups by the inner sides of equality
// correlations. What remains is an uncorrelated plan plus correlation
// predicates over its output and the enclosing row, which is what the
// binder's joins take. Correlation elsewhere (inside a LIMIT, an outer
// join, a window, a projection's values, or non-equality correlation under
// an aggregate) is refused with an error that says where.
func Decorrelate(p logical.Plan) (logical.Plan, error) {
	b := &binder{}
	return b.decorrelate(p)
}

func (b *binder) decorrelate(p logical.Plan) (logical.Plan, error) {
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		switch x := n.(type) {
		case *logical.Filter:
			if !logical.ContainsSubquery(x.Cond) {
				return n, nil
			}
			conjs := logical.SplitConjunction(x.Cond)
			for i, c := range conjs {
				var err error
				if conjs[i], err = b.fromSubqueries(c); err != nil {
					return nil, err
				}
			}
			out, err := b.applyFilter(x.Input, conjs)
			if err != nil {
				return nil, err
			}
			return projectPrefix(out, x.Input.Schema().Len()), nil
		case *logical.Project:
			has := false
			for _, e := range x.Exprs {
				has = has || logical.ContainsSubquery(e)
			}
			if !has {
				return n, nil
			}
			plan := x.Input
			exprs := make([]logical.Expr, len(x.Exprs))
			quals := make([]string, len(x.Exprs))
			for i, e := range x.Exprs {
				quals[i] = x.Schema().Fields[i].Qualifier
				e, err := b.fromSubqueries(e)
				if err != nil {
					return nil, err
				}
				if plan, exprs[i], err = b.replaceSubqueries(plan, e, nil); err != nil {
					return nil, err
				}
			}
			return logical.NewProject(plan, exprs, x.Names, quals), nil
		}
		for _, e := range logical.NodeExprs(n) {
			if logical.ContainsSubquery(e) {
				return nil, notSupported("subquery expressions in %s", nodeKind(n))
			}
		}
		return n, nil
	})
}

// nodeKind names a plan node in errors ("Join", "Aggregate", ...).
func nodeKind(n logical.Plan) string {
	s := n.String()
	if i := strings.IndexByte(s, ':'); i > 0 {
		return s[:i]
	}
	return s
}

// projectPrefix keeps the first n columns of p.
func projectPrefix(p logical.Plan, n int) logical.Plan {
	s := p.Schema()
	if s.Len() == n {
		return p
	}
	exprs := make([]logical.Expr, n)
	names := make([]string, n)
	quals := make([]string, n)
	for i := 0; i < n; i++ {
		exprs[i] = logical.Col(s, i)
		names[i] = s.Fields[i].Name
		quals[i] = s.Fields[i].Qualifier
	}
	return logical.NewProject(p, exprs, names, quals)
}

// fromSubqueries replaces the logical.Subquery nodes of e with the
// binder's subquery placeholders.
func (b *binder) fromSubqueries(e logical.Expr) (logical.Expr, error) {
	return logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		s, ok := n.(*logical.Subquery)
		if !ok {
			return n, nil
		}
		return b.placeholder(s)
	})
}

// placeholder decorrelates the plan of s and describes it as the binder
// does for a SQL subquery block.
func (b *binder) placeholder(s *logical.Subquery) (*subqueryExpr, error) {
	inner, err := b.decorrelate(s.Plan)
	if err != nil {
		return nil, err
	}
	if err := checkOuterDepth(inner); err != nil {
		return nil, err
	}
	width := inner.Schema().Len()
	pulled, corr, err := pullCorrelation(inner)
	if err != nil {
		return nil, err
	}
	if err := noOuterRefs(pulled); err != nil {
		return nil, err
	}
	info := &subqueryInfo{exists: s.Kind == logical.SubqueryExists, corr: corr, width: width, items: width, presentCol: -1}
	if s.Kind != logical.SubqueryExists {
		info.items = 1
	}
	// An aggregate without GROUP BY (and no HAVING: a filter would hide
	// it from topAggregate) yields one row, or one row per correlation key.
	if agg, path := topAggregate(pulled); agg != nil && len(agg.GroupingSets) == 0 && len(agg.GroupBy) == countCorrKeys(agg) {
		info.nonEmpty = true
		if len(corr) == 0 {
			info.oneRow = true
		} else {
			info.grouped = true
			info.markerCol = width // the correlation keys follow the value columns
			if s.Kind != logical.SubqueryExists {
				info.emptyValue = emptyValueThrough(path, agg)
			}
		}
	}
	b.nextID++
	sq := &subqueryExpr{plan: pulled, info: info, id: b.nextID}
	switch s.Kind {
	case logical.SubqueryScalar:
		sq.kind = subqScalar
	case logical.SubqueryExists:
		sq.kind = subqExists
	case logical.SubqueryAny, logical.SubqueryAll:
		sq.kind = subqAny
		if s.Kind == logical.SubqueryAll {
			sq.kind = subqAll
		}
		if _, ok := negatedComparison[s.Op]; !ok {
			return nil, fmt.Errorf("subquery comparison %q", s.Op)
		}
		test, err := b.fromSubqueries(s.Test)
		if err != nil {
			return nil, err
		}
		if _, err := compare(s.Op, test, &logical.ColumnRef{Name: "subquery", T: sq.valueType(), CanBeNull: true}); err != nil {
			return nil, err
		}
		sq.op, sq.test = s.Op, test
	}
	return sq, nil
}

// corrKeyPrefix names the grouping keys pullCorrelation adds.
const corrKeyPrefix = "__corr_key_"

func countCorrKeys(a *logical.Aggregate) int {
	n := 0
	for _, name := range a.GroupNames {
		if strings.HasPrefix(name, corrKeyPrefix) {
			n++
		}
	}
	return n
}

// topAggregate finds the aggregate at the top of p under projections and
// sorts, with those projections outermost first.
func topAggregate(p logical.Plan) (*logical.Aggregate, []*logical.Project) {
	var path []*logical.Project
	for {
		switch x := p.(type) {
		case *logical.Aggregate:
			return x, path
		case *logical.Project:
			path = append(path, x)
			p = x.Input
		case *logical.Sort:
			if x.Fetch >= 0 {
				return nil, nil
			}
			p = x.Input
		default:
			return nil, nil
		}
	}
}

// emptyValueThrough is the value of column 0 of the subquery for an outer
// row without inner rows: column 0 traced through the projections down to
// the aggregate, with counts 0 and other aggregates NULL.
func emptyValueThrough(path []*logical.Project, agg *logical.Aggregate) logical.Expr {
	var e logical.Expr = &logical.ColumnRef{Index: 0, T: agg.Schema().Fields[0].Type, CanBeNull: true}
	if len(path) > 0 {
		e = path[0].Exprs[0]
		for _, p := range path[1:] {
			exprs := p.Exprs
			out, err := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
				if c, ok := n.(*logical.ColumnRef); ok {
					return exprs[c.Index], nil
				}
				return n, nil
			})
			if err != nil {
				return nil
			}
			e = out
		}
	}
	countCols := map[int]bool{}
	nG := len(agg.GroupBy)
	for i, a := range agg.Aggs {
		if a.Func == "count" {
			countCols[nG+i] = true
		}
	}
	return emptyGroupValue(e, countCols)
}

// hasOuterLevel1 reports whether e reads the enclosing row.
func hasOuterLevel1(e logical.Expr) bool {
	found := false
	logical.WalkExpr(e, func(n logical.Expr) bool {
		if o, ok := n.(*logical.OuterRef); ok && o.Steps == 1 {
			found = true
		}
		return !found
	})
	return found
}

func subtreeHasOuter(p logical.Plan) bool {
	for _, e := range logical.NodeExprs(p) {
		if hasOuterLevel1(e) {
			return true
		}
	}
	for _, k := range p.Children() {
		if subtreeHasOuter(k) {
			return true
		}
	}
	return false
}

// checkOuterDepth refuses references that skip a level: after the nested
// subqueries of a subquery plan were joined in, only its own references
// to the enclosing row (steps 1) may remain.
func checkOuterDepth(p logical.Plan) error {
	var err error
	var visit func(p logical.Plan)
	visit = func(p logical.Plan) {
		for _, e := range logical.NodeExprs(p) {
			logical.WalkExpr(e, func(n logical.Expr) bool {
				if o, ok := n.(*logical.OuterRef); ok && o.Steps > 1 && err == nil {
					err = notSupported("outer references %d subquery levels out (%s)", o.Steps, o.Name)
				}
				return err == nil
			})
		}
		for _, k := range p.Children() {
			visit(k)
		}
	}
	visit(p)
	return err
}

func noOuterRefs(p logical.Plan) error {
	if !subtreeHasOuter(p) {
		return nil
	}
	where := p
	for {
		found := false
		for _, k := range where.Children() {
			if subtreeHasOuter(k) {
				where, found = k, true
				break
			}
		}
		if !found {
			break
		}
	}
	return notSupported("correlated subquery with an outer reference in %s", nodeKind(where))
}

// pullCorrelation removes the correlation predicates from p. The result
// outputs p's columns first, then the columns the predicates read; the
// predicates are over that output (column references) and the enclosing
// row (outer references).
func pullCorrelation(p logical.Plan) (logical.Plan, []logical.Expr, error) {
	if !subtreeHasOuter(p) {
		return p, nil, nil
	}
	switch x := p.(type) {
	case *logical.Filter:
		in, corr, err := pullCorrelation(x.Input)
		if err != nil {
			return nil, nil, err
		}
		var plain []logical.Expr
		for _, c := range logical.SplitConjunction(x.Cond) {
			if hasOuterLevel1(c) {
				corr = append(corr, c)
			} else {
				plain = append(plain, c)
			}
		}
		if len(plain) == 0 {
			return in, corr, nil
		}
		return &logical.Filter{Input: in, Cond: logical.And(plain...)}, corr, nil
	case *logical.Project:
		for _, e := range x.Exprs {
			if hasOuterLevel1(e) {
				return nil, nil, notSupported("correlated subquery whose projection reads the outer row (%s)", e)
			}
		}
		in, corr, err := pullCorrelation(x.Input)
		if err != nil {
			return nil, nil, err
		}
		exprs := append([]logical.Expr(nil), x.Exprs...)
		names := append([]string(nil), x.Names...)
		quals := make([]string, 0, len(exprs))
		for _, f := range x.Schema().Fields {
			quals = append(quals, f.Qualifier)
		}
		is := in.Schema()
		used := map[int]bool{}
		for _, c := range corr {
			logical.ColumnsUsed(c, used)
		}
		cols := make([]int, 0, len(used))
		for col := range used {
			cols = append(cols, col)
		}
		sort.Ints(cols)
		m := map[int]int{}
		for _, col := range cols {
			m[col] = len(exprs)
			exprs = append(exprs, logical.Col(is, col))
			names = append(names, is.Fields[col].Name)
			quals = append(quals, is.Fields[col].Qualifier)
		}
		for i, c := range corr {
			if corr[i], err = logical.RemapColumns(c, m); err != nil {
				return nil, nil, err
			}
		}
		return logical.NewProject(in, exprs, names, quals), corr, nil
	case *logical.Aggregate:
		for _, e := range logical.NodeExprs(x) {
			if hasOuterLevel1(e) {
				return nil, nil, notSupported("correlated subquery whose aggregate reads the outer row")
			}
		}
		in, corr, err := pullCorrelation(x.Input)
		if err != nil {
			return nil, nil, err
		}
		if len(x.GroupingSets) > 0 {
			return nil, nil, notSupported("correlated subquery with grouping sets")
		}
		groups := append([]logical.Expr(nil), x.GroupBy...)
		names := append([]string(nil), x.GroupNames...)
		nG := len(groups)
		var outers []logical.Expr
		for _, c := range corr {
			inner, outer, fn, ok := splitCorrelation(c)
			if !ok || fn != "equal" {
				return nil, nil, notSupported("correlated subquery with a non-equality correlation (%s) below an aggregate", c)
			}
			groups = append(groups, inner)
			names = append(names, fmt.Sprintf("%s%d", corrKeyPrefix, len(outers)+1))
			outers = append(outers, outer)
		}
		if groups == nil {
			groups = []logical.Expr{}
		}
		agg := logical.NewAggregate(in, groups, names, nil, x.Aggs, x.AggNames)
		// Back to the original layout, the correlation keys last.
		as := agg.Schema()
		k := len(outers)
		var exprs []logical.Expr
		var outNames []string
		order := make([]int, 0, as.Len())
		for i := 0; i < nG; i++ {
			order = append(order, i)
		}
		for i := range x.Aggs {
			order = append(order, nG+k+i)
		}
		for i := 0; i < k; i++ {
			order = append(order, nG+i)
		}
		for _, i := range order {
			exprs = append(exprs, logical.Col(as, i))
			outNames = append(outNames, as.Fields[i].Name)
		}
		proj := logical.NewProject(agg, exprs, outNames, nil)
		ps := proj.Schema()
		pulled := make([]logical.Expr, k)
		for i, o := range outers {
			pulled[i] = logical.Equal(logical.Col(ps, nG+len(x.Aggs)+i), o)
		}
		if k == 0 {
			return logical.NewAggregate(in, x.GroupBy, x.GroupNames, x.GroupingSets, x.Aggs, x.AggNames), nil, nil
		}
		return proj, pulled, nil
	case *logical.Sort:
		in, corr, err := pullCorrelation(x.Input)
		if err != nil {
			return nil, nil, err
		}
		if len(corr) > 0 && x.Fetch >= 0 {
			return nil, nil, notSupported("correlated subquery with ORDER BY ... LIMIT")
		}
		for _, k := range x.Keys {
			if hasOuterLevel1(k.Expr) {
				return nil, nil, notSupported("correlated subquery whose sort key reads the outer row")
			}
		}
		s := *x
		s.Input = in
		return &s, corr, nil
	case *logical.Join:
		if x.Type != logical.JoinInner && x.Type != logical.JoinCross {
			return nil, nil, notSupported("correlated subquery with an outer reference in a %s join", x.Type)
		}
		if subtreeHasOuter(x.Left) || subtreeHasOuter(x.Right) {
			return nil, nil, notSupported("correlated subquery with outer references below a join")
		}
		var plain, corr []logical.Expr
		for _, c := range logical.SplitConjunction(x.On) {
			if hasOuterLevel1(c) {
				corr = append(corr, c)
			} else {
				plain = append(plain, c)
			}
		}
		t := x.Type
		if len(plain) == 0 {
			t = logical.JoinCross
		}
		return logical.NewJoin(x.Left, x.Right, t, logical.And(plain...)), corr, nil
	}
	return nil, nil, notSupported("correlated subquery with an outer reference in %s", nodeKind(p))
}
