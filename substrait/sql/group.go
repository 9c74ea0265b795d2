package sql

import (
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// groupingExpr is GROUPING(args...) until the aggregate is built.
type groupingExpr struct{ args []logical.Expr }

func (g *groupingExpr) Type() arrow.DataType { return logical.Int64 }
func (g *groupingExpr) Nullable() bool       { return false }
func (g *groupingExpr) String() string {
	s := "grouping("
	for i, a := range g.args {
		if i > 0 {
			s += ", "
		}
		s += a.String()
	}
	return s + ")"
}

// groupBy is a bound GROUP BY clause.
type groupBy struct {
	exprs []logical.Expr
	names []string
	sets  [][]int // nil without GROUPING SETS / ROLLUP / CUBE
}

// maxCubeElements bounds CUBE (2^n grouping sets).
const maxCubeElements = 12

func (b *binder) bindGroupBy(clause []*pg.Node, items []selectItem, base *exprCtx) (*groupBy, error) {
	g := &groupBy{}
	index := map[string]int{}
	c := base.with(func(c *exprCtx) { c.clause = "GROUP BY" })
	add := func(x logical.Expr, name string) int {
		k := exprKey(x)
		if i, ok := index[k]; ok {
			return i
		}
		index[k] = len(g.exprs)
		g.exprs = append(g.exprs, x)
		g.names = append(g.names, name)
		return len(g.exprs) - 1
	}
	oneAt := func(n *pg.Node) (int, error) {
		if pos, ok := ordinal(n); ok {
			if pos < 1 || pos > len(items) {
				return 0, fmt.Errorf("GROUP BY position %d is not in select list", pos)
			}
			it := items[pos-1]
			if containsAggregate(it.expr) {
				return 0, fmt.Errorf("GROUP BY position %d refers to an aggregate", pos)
			}
			return add(it.expr, it.name), nil
		}
		if name, ok := bareName(n); ok && len(base.sc.find("", name)) == 0 {
			if i := outputIndex(items, name); i >= 0 {
				if containsAggregate(items[i].expr) {
					return 0, fmt.Errorf("aggregate functions are not allowed in GROUP BY (%q)", name)
				}
				return add(items[i].expr, name), nil
			}
		}
		x, err := b.expr(n, c)
		if err != nil {
			return 0, err
		}
		name := exprName(n)
		if _, isCol := x.(*logical.ColumnRef); !isCol {
			name = fmt.Sprintf("__group_%d", len(g.exprs)+1)
			for _, it := range items {
				if exprKey(it.expr) == exprKey(x) {
					name = it.name
					break
				}
			}
		}
		return add(x, name), nil
	}
	one := func(n *pg.Node) (int, error) {
		i, err := oneAt(n)
		return i, b.errAt(location(n), err)
	}
	// element reads one ROLLUP/CUBE element: an expression or a
	// parenthesised list of them.
	element := func(n *pg.Node) ([]int, error) {
		var parts []*pg.Node
		switch x := n.Node.(type) {
		case *pg.Node_RowExpr:
			parts = x.RowExpr.Args
		case *pg.Node_GroupingSet:
			if x.GroupingSet.Kind != pg.GroupingSetKind_GROUPING_SET_SIMPLE && x.GroupingSet.Kind != pg.GroupingSetKind_GROUPING_SET_EMPTY {
				return nil, b.errAt(location(n), notSupported("nested ROLLUP/CUBE inside ROLLUP/CUBE"))
			}
			parts = x.GroupingSet.Content
		default:
			parts = []*pg.Node{n}
		}
		var out []int
		for _, p := range parts {
			i, err := one(p)
			if err != nil {
				return nil, err
			}
			out = append(out, i)
		}
		return out, nil
	}
	var expand func(n *pg.Node) ([][]int, error)
	expand = func(n *pg.Node) ([][]int, error) {
		gs, ok := n.Node.(*pg.Node_GroupingSet)
		if !ok {
			e, err := element(n)
			if err != nil {
				return nil, err
			}
			return [][]int{e}, nil
		}
		var elems [][]int
		if gs.GroupingSet.Kind == pg.GroupingSetKind_GROUPING_SET_ROLLUP || gs.GroupingSet.Kind == pg.GroupingSetKind_GROUPING_SET_CUBE {
			for _, ct := range gs.GroupingSet.Content {
				e, err := element(ct)
				if err != nil {
					return nil, err
				}
				elems = append(elems, e)
			}
		}
		switch gs.GroupingSet.Kind {
		case pg.GroupingSetKind_GROUPING_SET_EMPTY:
			return [][]int{{}}, nil
		case pg.GroupingSetKind_GROUPING_SET_SIMPLE:
			e, err := element(n)
			if err != nil {
				return nil, err
			}
			return [][]int{e}, nil
		case pg.GroupingSetKind_GROUPING_SET_ROLLUP:
			var out [][]int
			for k := len(elems); k >= 0; k-- {
				var set []int
				for _, e := range elems[:k] {
					set = append(set, e...)
				}
				out = append(out, set)
			}
			return out, nil
		case pg.GroupingSetKind_GROUPING_SET_CUBE:
			if len(elems) > maxCubeElements {
				return nil, b.errAt(location(n), fmt.Errorf("CUBE is limited to %d elements", maxCubeElements))
			}
			n := len(elems)
			var out [][]int
			// Larger sets first, like PostgreSQL.
			for size := n; size >= 0; size-- {
				for mask := (1 << n) - 1; mask >= 0; mask-- {
					if popcount(mask) != size {
						continue
					}
					var set []int
					for i := 0; i < n; i++ {
						if mask&(1<<(n-1-i)) != 0 {
							set = append(set, elems[i]...)
						}
					}
					out = append(out, set)
				}
			}
			return out, nil
		case pg.GroupingSetKind_GROUPING_SET_SETS:
			var out [][]int
			for _, ct := range gs.GroupingSet.Content {
				s, err := expand(ct)
				if err != nil {
					return nil, err
				}
				out = append(out, s...)
			}
			return out, nil
		}
		return nil, b.errAt(location(n), fmt.Errorf("malformed grouping set"))
	}
	hasSets := false
	for _, n := range clause {
		if _, ok := n.Node.(*pg.Node_GroupingSet); ok {
			hasSets = true
		}
	}
	if !hasSets {
		for _, n := range clause {
			if _, err := one(n); err != nil {
				return nil, err
			}
		}
		return g, nil
	}
	sets := [][]int{{}}
	for _, n := range clause {
		s, err := expand(n)
		if err != nil {
			return nil, err
		}
		var next [][]int
		for _, a := range sets {
			for _, bset := range s {
				next = append(next, unionSorted(a, bset))
			}
		}
		if len(next) > 4096 {
			return nil, b.errAt(location(n), fmt.Errorf("too many grouping sets (%d)", len(next)))
		}
		sets = next
	}
	g.sets = sets
	return g, nil
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// unionSorted merges two index sets into a sorted set without duplicates.
func unionSorted(a, b []int) []int {
	seen := map[int]bool{}
	out := []int{}
	for _, x := range append(append([]int(nil), a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Ints(out)
	return out
}

// containsAggregate reports whether an aggregate call occurs in exprs.
func containsAggregate(exprs ...logical.Expr) bool {
	found := false
	for _, e := range exprs {
		walk(e, func(n logical.Expr) bool {
			switch n.(type) {
			case *logical.AggregateCall, *groupingExpr:
				found = true
			}
			return !found
		})
	}
	return found
}

// containsSubquery reports whether a subquery expression occurs in e.
func containsSubquery(e logical.Expr) bool {
	found := false
	walk(e, func(n logical.Expr) bool {
		if _, ok := n.(*subqueryExpr); ok {
			found = true
		}
		return !found
	})
	return found
}

type aggResult struct {
	plan      logical.Plan
	exprs     []logical.Expr
	having    logical.Expr
	countCols map[int]bool // aggregate output columns holding counts
}

// aggregate builds the Aggregate node of a grouping query and rewrites
// exprs (at statement positions locs) and having over its output.
// Correlation predicates of a subquery (sub, from the WHERE clause at
// whereLoc) that are equalities add their inner side to the grouping keys.
func (b *binder) aggregate(plan logical.Plan, g *groupBy, exprs []logical.Expr, locs []int32, having logical.Expr, havingLoc int32, sub *subqueryInfo, whereLoc int32) (*aggResult, error) {
	groups := append([]logical.Expr(nil), g.exprs...)
	names := append([]string(nil), g.names...)
	groupIdx := map[string]int{}
	for i, x := range groups {
		groupIdx[exprKey(x)] = i
	}
	var deferred *outerKeys
	if sub != nil && len(sub.corr) > 0 {
		if len(g.sets) > 0 {
			return nil, b.errAt(whereLoc, notSupported("GROUPING SETS in a correlated subquery"))
		}
		if len(groups) == 0 && !equiCorrelation(sub.corr) {
			// Aggregate, per distinct outer row, the inner rows that
			// satisfy the correlation: plan becomes a left join of the
			// distinct outer values (a placeholder until the enclosing
			// block joins the subquery) with the inner rows, grouped by
			// those values, and the correlation an equality on them.
			var err error
			if plan, deferred, err = b.deferCorrelation(plan, sub); err != nil {
				return nil, b.errAt(whereLoc, err)
			}
			sub.keys = deferred
			sub.corr = nil
			for i, r := range deferred.refs {
				groups = append(groups, logical.Col(plan.Schema(), i))
				names = append(names, fmt.Sprintf("__corr_key_%d", i+1))
				sub.corr = append(sub.corr, logical.Equal(
					&logical.ColumnRef{Index: i, Name: names[i], T: r.T, CanBeNull: r.CanBeNull}, r))
			}
		}
		for i, p := range sub.corr {
			if deferred != nil {
				break // already equalities on the group keys
			}
			inner, outer, fn, ok := splitCorrelation(p)
			if !ok {
				return nil, b.errAt(whereLoc, notSupported("correlated subquery with GROUP BY whose correlation is not an equality of an inner and an outer expression"))
			}
			if fn != "equal" {
				return nil, b.errAt(whereLoc, notSupported("correlated subquery with GROUP BY whose correlation is not an equality of an inner and an outer expression"))
			}
			k := exprKey(inner)
			gi, ok := groupIdx[k]
			if !ok {
				gi = len(groups)
				groupIdx[k] = gi
				groups = append(groups, inner)
				names = append(names, fmt.Sprintf("__corr_key_%d", gi+1))
			}
			sub.corr[i] = logical.Equal(&logical.ColumnRef{Index: gi, Name: names[gi], T: inner.Type(), CanBeNull: inner.Nullable()}, outer)
		}
	}
	var aggs []*logical.AggregateCall
	var aggNames []string
	aggIdx := map[string]int{}
	collect := func(x logical.Expr) {
		walk(x, func(n logical.Expr) bool {
			if a, ok := n.(*logical.AggregateCall); ok {
				k := exprKey(a)
				if _, ok := aggIdx[k]; !ok {
					aggIdx[k] = len(aggs)
					aggs = append(aggs, a)
					aggNames = append(aggNames, a.Func)
				}
				return false
			}
			return true
		})
	}
	for _, x := range exprs {
		collect(x)
	}
	if having != nil {
		collect(having)
	}
	nodeAggs := aggs
	if deferred != nil {
		nodeAggs = make([]*logical.AggregateCall, len(aggs))
		for i, a := range aggs {
			var err error
			if nodeAggs[i], err = deferred.overJoin(a, plan.Schema()); err != nil {
				return nil, err
			}
		}
	}
	agg := logical.NewAggregate(plan, groups, names, g.sets, nodeAggs, aggNames)
	sch := agg.Schema()
	nG := len(groups)
	countCols := map[int]bool{}
	for i, a := range aggs {
		if a.Func == "count" {
			countCols[nG+i] = true
		}
	}
	var toAgg func(x logical.Expr) (logical.Expr, error)
	toAgg = func(x logical.Expr) (logical.Expr, error) {
		return rewriteTopDown(x, func(n logical.Expr) (logical.Expr, bool, error) {
			if _, isLit := n.(*logical.Literal); !isLit {
				if gi, ok := groupIdx[exprKey(n)]; ok {
					return logical.Col(sch, gi), true, nil
				}
			}
			switch y := n.(type) {
			case *logical.AggregateCall:
				return logical.Col(sch, nG+aggIdx[exprKey(y)]), true, nil
			case *groupingExpr:
				out, err := groupingValue(y, groupIdx, sch, nG+len(aggs), len(g.sets) > 0)
				return out, true, err
			case *logical.ColumnRef:
				return nil, true, fmt.Errorf("column %q must appear in the GROUP BY clause or be used in an aggregate function", y.Name)
			case *subqueryExpr:
				out, err := y.mapOuter(toAgg)
				return out, true, err
			}
			return n, false, nil
		})
	}
	out := make([]logical.Expr, len(exprs))
	for i, x := range exprs {
		y, err := toAgg(x)
		if err != nil {
			return nil, b.errAt(locs[i], err)
		}
		out[i] = y
	}
	var h logical.Expr
	if having != nil {
		var err error
		if h, err = toAgg(having); err != nil {
			return nil, b.errAt(havingLoc, err)
		}
	}
	return &aggResult{plan: agg, exprs: out, having: h, countCols: countCols}, nil
}

// groupingValue computes GROUPING(args) from the __grouping_id column:
// bit i of the id is set when GroupBy[i] is not grouped.
func groupingValue(g *groupingExpr, groupIdx map[string]int, sch *logical.Schema, gidCol int, hasSets bool) (logical.Expr, error) {
	idx := make([]int, len(g.args))
	for k, a := range g.args {
		gi, ok := groupIdx[exprKey(a)]
		if !ok {
			return nil, fmt.Errorf("arguments to GROUPING must be grouping expressions of the associated query level")
		}
		idx[k] = gi
	}
	if !hasSets {
		return &logical.Literal{Value: int64(0), T: logical.Int64}, nil
	}
	i64 := func(v int64) logical.Expr { return &logical.Literal{Value: v, T: logical.Int64} }
	call := func(fn string, a, b logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: []logical.Expr{a, b}, T: logical.Int64}
	}
	gid := logical.Col(sch, gidCol)
	var sum logical.Expr
	n := len(idx)
	for k, gi := range idx {
		bit := call("modulus", call("divide", gid, i64(int64(1)<<gi)), i64(2))
		term := bit
		if shift := n - 1 - k; shift > 0 {
			term = call("multiply", bit, i64(int64(1)<<shift))
		}
		if sum == nil {
			sum = term
		} else {
			sum = call("add", sum, term)
		}
	}
	return sum, nil
}

// splitCorrelation splits a correlation predicate `inner op outer` (either
// order) into its inner side (only columns of the subquery), its outer side
// (only outer references and constants) and the comparison function with
// the inner side on the left.
func splitCorrelation(p logical.Expr) (inner, outer logical.Expr, fn string, ok bool) {
	c, isCall := p.(*logical.Call)
	if !isCall || !isComparison(c.Func) || len(c.Args) != 2 {
		return nil, nil, "", false
	}
	onlyOuter := func(e logical.Expr) bool {
		has := false
		bad := false
		walk(e, func(n logical.Expr) bool {
			switch n.(type) {
			case *outerRef:
				has = true
			case *logical.ColumnRef, *logical.AggregateCall, *logical.WindowCall, *subqueryExpr:
				bad = true
			}
			return !bad
		})
		return has && !bad
	}
	onlyInner := func(e logical.Expr) bool { return !hasOuterRef(e) && len(sortedColumns(e)) > 0 }
	a, b := c.Args[0], c.Args[1]
	switch {
	case onlyInner(a) && onlyOuter(b):
		return a, b, c.Func, true
	case onlyOuter(a) && onlyInner(b):
		flip := map[string]string{"equal": "equal", "not_equal": "not_equal", "lt": "gt", "gt": "lt", "lte": "gte", "gte": "lte"}
		return b, a, flip[c.Func], true
	}
	return nil, nil, "", false
}

// emptyGroupValue is the value the select expression x (over an Aggregate's
// output) takes for a group with no rows: counts are 0 and other
// aggregates NULL. It returns nil when that value is simply NULL (no count
// is involved and x is NULL on NULL input), which a left join produces by
// itself.
func emptyGroupValue(x logical.Expr, countCols map[int]bool) logical.Expr {
	usesCount := false
	out, err := logical.TransformExpr(x, func(n logical.Expr) (logical.Expr, error) {
		c, ok := n.(*logical.ColumnRef)
		if !ok {
			return n, nil
		}
		if countCols[c.Index] {
			usesCount = true
			return &logical.Literal{Value: int64(0), T: logical.Int64}, nil
		}
		return logical.NullLiteral(c.T), nil
	})
	if err != nil || (!usesCount && strictExpr(x)) {
		return nil
	}
	return out
}

// strictExpr reports whether e is NULL whenever one of the columns it
// reads is NULL (then a missing row needs no value of its own).
func strictExpr(e logical.Expr) bool {
	strict := true
	logical.WalkExpr(e, func(n logical.Expr) bool {
		switch x := n.(type) {
		case *logical.Case:
			strict = false
		case *logical.Call:
			switch x.Func {
			case "is_null", "is_not_null", "is_distinct_from", "is_not_distinct_from", "is_true", "is_false",
				"is_not_true", "is_not_false", "coalesce", "and", "or", "greatest", "least", "concat", "concat_ws":
				strict = false
			}
		}
		return strict
	})
	return strict
}

// rewriteTopDown rebuilds e top-down: fn sees each node before its
// children; when it reports done, its result replaces the node and the
// children are not visited.
func rewriteTopDown(e logical.Expr, fn func(logical.Expr) (logical.Expr, bool, error)) (logical.Expr, error) {
	if e == nil {
		return nil, nil
	}
	out, done, err := fn(e)
	if err != nil || done {
		return out, err
	}
	rec := func(x logical.Expr) (logical.Expr, error) { return rewriteTopDown(x, fn) }
	switch x := e.(type) {
	case *logical.Call:
		c := *x
		c.Args = make([]logical.Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		return &c, nil
	case *logical.Cast:
		c := *x
		if c.Input, err = rec(x.Input); err != nil {
			return nil, err
		}
		return &c, nil
	case *logical.Case:
		c := *x
		c.Whens = make([]logical.When, len(x.Whens))
		for i, w := range x.Whens {
			if c.Whens[i].Cond, err = rec(w.Cond); err != nil {
				return nil, err
			}
			if c.Whens[i].Then, err = rec(w.Then); err != nil {
				return nil, err
			}
		}
		if c.Else, err = rec(x.Else); err != nil {
			return nil, err
		}
		return &c, nil
	case *logical.InList:
		c := *x
		if c.Input, err = rec(x.Input); err != nil {
			return nil, err
		}
		c.List = make([]logical.Expr, len(x.List))
		for i, a := range x.List {
			if c.List[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		return &c, nil
	case *logical.AggregateCall:
		c := *x
		c.Args = make([]logical.Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		if c.Filter, err = rec(x.Filter); err != nil {
			return nil, err
		}
		return &c, nil
	case *logical.WindowCall:
		c := *x
		c.Args = make([]logical.Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		c.PartitionBy = make([]logical.Expr, len(x.PartitionBy))
		for i, a := range x.PartitionBy {
			if c.PartitionBy[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		c.OrderBy = make([]logical.SortKey, len(x.OrderBy))
		for i, k := range x.OrderBy {
			c.OrderBy[i] = k
			if c.OrderBy[i].Expr, err = rec(k.Expr); err != nil {
				return nil, err
			}
		}
		if x.Frame != nil {
			f := *x.Frame
			if f.Start.Offset, err = rec(f.Start.Offset); err != nil {
				return nil, err
			}
			if f.End.Offset, err = rec(f.End.Offset); err != nil {
				return nil, err
			}
			c.Frame = &f
		}
		return &c, nil
	case *groupingExpr:
		c := &groupingExpr{args: make([]logical.Expr, len(x.args))}
		for i, a := range x.args {
			if c.args[i], err = rec(a); err != nil {
				return nil, err
			}
		}
		return c, nil
	case *subqueryExpr:
		if x.test == nil {
			return x, nil
		}
		c := *x
		if c.test, err = rec(x.test); err != nil {
			return nil, err
		}
		return &c, nil
	}
	return e, nil
}
