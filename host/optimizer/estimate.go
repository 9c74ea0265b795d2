package optimizer

import (
	"math"
	"slices"
	"strings"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Cardinality estimation from table row counts, key-name heuristics and
// fixed predicate selectivities. Estimates guide join order and build-side
// choice; they are never used for correctness.

// UnknownRowCount is the row count assumed for a table whose
// TableSource.RowCount is unknown (-1): large, so such tables end up on the
// probe side of joins.
const UnknownRowCount = 1e7

// Default selectivities of predicates whose columns have no statistics.
const (
	selEquality = 0.1
	selRange    = 0.3
	selLike     = 0.25
	selNull     = 0.1
	selDefault  = 0.5
)

// Estimate returns the estimated number of rows p produces (at least 1 for
// any plan that may produce rows).
func Estimate(p logical.Plan) float64 { return newEstimator(p).rows(p) }

// estimator estimates row counts and distinct-value counts. It knows the
// row count of every table of the plan it was built for, so that a foreign
// key column (l_orderkey) can be bounded by the size of the table whose
// primary key it references (orders).
type estimator struct {
	memo map[logical.Plan]float64
	// keyRows maps a primary-key stem ("order", "cust") to its table's rows.
	keyRows map[string]float64
}

func newEstimator(root logical.Plan) *estimator {
	e := &estimator{memo: map[logical.Plan]float64{}, keyRows: map[string]float64{}}
	var walk func(p logical.Plan)
	walk = func(p logical.Plan) {
		if s, ok := p.(*logical.Scan); ok && s.Source != nil && s.Source.Schema != nil {
			for _, f := range s.Source.Schema.Fields() {
				if stem, ok := primaryKeyStem(s.Source.Name, f.Name); ok {
					e.keyRows[stem] = tableRows(s.Source)
				}
			}
		}
		for _, c := range p.Children() {
			walk(c)
		}
	}
	walk(root)
	return e
}

func tableRows(src *logical.TableSource) float64 {
	if src.RowCount < 0 {
		return UnknownRowCount
	}
	return max(float64(src.RowCount), 1)
}

// keyStem splits a key column name "<prefix>_<stem>key" (o_orderkey,
// ps_partkey) into prefix and stem.
func keyStem(col string) (prefix, stem string, ok bool) {
	col = strings.ToLower(col)
	prefix, rest, found := strings.Cut(col, "_")
	if !found || !strings.HasSuffix(rest, "key") || len(rest) <= 3 {
		return "", "", false
	}
	return prefix, strings.TrimSuffix(rest, "key"), true
}

// primaryKeyStem reports whether col is the single-column primary key of
// table by the TPC-H naming convention: "<prefix>_<stem>key" where the table
// name starts with stem and stem starts with prefix (orders.o_orderkey,
// customer.c_custkey; not partsupp.ps_partkey, lineitem.l_orderkey). A
// column named "id" is also taken as the key.
func primaryKeyStem(table, col string) (string, bool) {
	table = strings.ToLower(table)
	if strings.EqualFold(col, "id") {
		return table, true
	}
	prefix, stem, ok := keyStem(col)
	if !ok || !strings.HasPrefix(table, stem) || !strings.HasPrefix(stem, prefix) {
		return "", false
	}
	return stem, true
}

// rows estimates the row count of p.
func (e *estimator) rows(p logical.Plan) float64 {
	if r, ok := e.memo[p]; ok {
		return r
	}
	r := max(e.computeRows(p), 1)
	e.memo[p] = r
	return r
}

func (e *estimator) computeRows(p logical.Plan) float64 {
	switch n := p.(type) {
	case *logical.Scan:
		r := tableRows(n.Source)
		if n.Limit >= 0 {
			r = min(r, float64(n.Limit))
		}
		return r
	case *logical.Values:
		return float64(len(n.Rows))
	case *logical.Filter:
		return e.rows(n.Input) * e.selectivity(n.Cond, n.Input)
	case *logical.Project:
		return e.rows(n.Input)
	case *logical.Aggregate:
		return e.aggregateRows(n)
	case *logical.Join:
		return e.joinRows(n)
	case *logical.Sort:
		r := e.rows(n.Input)
		if n.Fetch >= 0 {
			r = min(r, float64(n.Fetch))
		}
		return r
	case *logical.Limit:
		r := max(e.rows(n.Input)-float64(n.Offset), 0)
		if n.Count >= 0 {
			r = min(r, float64(n.Count))
		}
		return r
	case *logical.SetOp:
		switch n.Kind {
		case logical.Union:
			var sum float64
			for _, in := range n.Inputs {
				sum += e.rows(in)
			}
			return sum
		case logical.Intersect:
			r := math.Inf(1)
			for _, in := range n.Inputs {
				r = min(r, e.rows(in))
			}
			return r
		default:
			return e.rows(n.Inputs[0])
		}
	case *logical.Window:
		return e.rows(n.Input)
	}
	var r float64 = 1
	for _, c := range p.Children() {
		r = max(r, e.rows(c))
	}
	return r
}

func (e *estimator) aggregateRows(n *logical.Aggregate) float64 {
	in := e.rows(n.Input)
	if len(n.GroupBy) == 0 {
		return 1
	}
	groups := 1.0
	for _, g := range n.GroupBy {
		d := -1.0
		if c, ok := g.(*logical.ColumnRef); ok {
			d = e.baseNDV(n.Input, c.Index)
		}
		if d <= 0 {
			// No statistics: assume a tenth of the rows are distinct.
			d = max(in*0.1, 1)
		}
		groups *= d
	}
	groups = min(groups, in)
	if len(n.GroupingSets) > 0 {
		groups *= float64(len(n.GroupingSets))
	}
	return groups
}

func (e *estimator) joinRows(n *logical.Join) float64 {
	l, r := e.rows(n.Left), e.rows(n.Right)
	nl := n.Left.Schema().Len()
	switch n.Type {
	case logical.JoinSemi, logical.JoinAnti:
		frac := selDefault
		if keys := equiKeys(n.On, nl); len(keys) > 0 {
			frac = 1
			for _, k := range keys {
				dl, dr := e.ndv(n.Left, k[0]), e.ndv(n.Right, k[1]-nl)
				frac *= min(1, dr/dl)
			}
		}
		if n.Type == logical.JoinAnti {
			return l * max(1-frac, 0.1)
		}
		return l * frac
	case logical.JoinMark, logical.JoinSingle:
		return l
	}
	inner := l * r * e.joinSelectivity(n.On, n.Left, n.Right)
	switch n.Type {
	case logical.JoinLeft:
		return max(inner, l)
	case logical.JoinRight:
		return max(inner, r)
	case logical.JoinFull:
		return max(inner, l+r)
	}
	return inner
}

// equiKeys lists the (left column, right column) pairs of column equalities
// in on, with right columns in the concatenated schema.
func equiKeys(on logical.Expr, nl int) [][2]int {
	var out [][2]int
	for _, c := range logical.SplitConjunction(on) {
		call, ok := c.(*logical.Call)
		if !ok || call.Func != "equal" || len(call.Args) != 2 {
			continue
		}
		a, ok1 := call.Args[0].(*logical.ColumnRef)
		b, ok2 := call.Args[1].(*logical.ColumnRef)
		if !ok1 || !ok2 {
			continue
		}
		if a.Index >= nl && b.Index < nl {
			a, b = b, a
		}
		if a.Index < nl && b.Index >= nl {
			out = append(out, [2]int{a.Index, b.Index})
		}
	}
	return out
}

// joinSelectivity is the fraction of the cross product of left and right
// that the condition on keeps.
func (e *estimator) joinSelectivity(on logical.Expr, left, right logical.Plan) float64 {
	if on == nil {
		return 1
	}
	nl := left.Schema().Len()
	both := joinInput{left, right}
	sel := 1.0
	var lcols, rcols []int
	for _, c := range logical.SplitConjunction(on) {
		if call, ok := c.(*logical.Call); ok && call.Func == "equal" && len(call.Args) == 2 {
			a, ok1 := call.Args[0].(*logical.ColumnRef)
			b, ok2 := call.Args[1].(*logical.ColumnRef)
			if ok1 && ok2 && a.Index >= nl && b.Index < nl {
				a, b = b, a
			}
			if ok1 && ok2 && a.Index < nl && b.Index >= nl {
				lcols = append(lcols, a.Index)
				rcols = append(rcols, b.Index-nl)
				continue
			}
		}
		sel *= e.selectivity(c, both)
	}
	if len(lcols) > 0 {
		sel *= e.equiSelectivity(left, lcols, right, rcols)
	}
	return sel
}

// equiSelectivity estimates the selectivity of the equalities
// a.acols[i] = b.bcols[i] taken together. When one side's columns form a
// unique key (a primary key by name, every key column of a link table like
// partsupp, or all group keys of an aggregate), each row of the other side
// matches at most one row of it: 1/(key domain). Otherwise 1/max(ndv) with
// each side's combined distinct count capped at its rows.
func (e *estimator) equiSelectivity(a logical.Plan, acols []int, b logical.Plan, bcols []int) float64 {
	ka, okA := e.uniqueKey(a, acols)
	kb, okB := e.uniqueKey(b, bcols)
	switch {
	case okA && okB:
		return 1 / max(ka, kb, 1)
	case okA:
		return 1 / max(ka, 1)
	case okB:
		return 1 / max(kb, 1)
	}
	da, db := 1.0, 1.0
	for i := range acols {
		da *= e.ndv(a, acols[i])
		db *= e.ndv(b, bcols[i])
	}
	da, db = min(da, e.rows(a)), min(db, e.rows(b))
	return 1 / max(da, db, 1)
}

// uniqueKey reports whether columns cols of p identify its rows, and the
// number of distinct key values in the key's domain (the base table's rows,
// before any filter).
func (e *estimator) uniqueKey(p logical.Plan, cols []int) (float64, bool) {
	switch n := p.(type) {
	case *logical.Filter, *logical.Sort, *logical.Limit:
		return e.uniqueKey(n.Children()[0], cols)
	case *logical.Project:
		in := make([]int, len(cols))
		for i, c := range cols {
			ref, ok := n.Exprs[c].(*logical.ColumnRef)
			if !ok {
				return 0, false
			}
			in[i] = ref.Index
		}
		return e.uniqueKey(n.Input, in)
	case *logical.Join:
		if n.Type == logical.JoinSemi || n.Type == logical.JoinAnti {
			return e.uniqueKey(n.Left, cols)
		}
	case *logical.Aggregate:
		if len(n.GroupBy) == 0 || len(n.GroupingSets) > 0 {
			return 0, false
		}
		for g := range n.GroupBy {
			if !slices.Contains(cols, g) {
				return 0, false
			}
		}
		return e.rows(n), true
	case *logical.Scan:
		return scanKey(n, cols)
	}
	return 0, false
}

// scanKey applies the key naming convention to columns of a scan: the
// table's single-column primary key, or, for a table without one (partsupp),
// all of its key columns together.
func scanKey(n *logical.Scan, cols []int) (float64, bool) {
	have := map[string]bool{}
	for _, c := range cols {
		name := n.Schema().Fields[c].Name
		if _, ok := primaryKeyStem(n.Source.Name, name); ok {
			return tableRows(n.Source), true
		}
		have[strings.ToLower(name)] = true
	}
	keys := 0
	for _, f := range n.Source.Schema.Fields() {
		if _, ok := primaryKeyStem(n.Source.Name, f.Name); ok {
			return 0, false // has a primary key, which cols do not include
		}
		if _, _, ok := keyStem(f.Name); ok {
			if !have[strings.ToLower(f.Name)] {
				return 0, false
			}
			keys++
		}
	}
	return tableRows(n.Source), keys >= 2
}

// joinInput lets selectivity look up columns of a join's concatenated input.
type joinInput struct{ left, right logical.Plan }

// exprNDV estimates the distinct values of e evaluated over p, whose columns
// start at offset in e's column space.
func (e *estimator) exprNDV(x logical.Expr, p logical.Plan, offset int) float64 {
	if c, ok := x.(*logical.ColumnRef); ok {
		return e.ndv(p, c.Index-offset)
	}
	return e.rows(p)
}

// ndv estimates the distinct values of column i of p, at most its rows.
func (e *estimator) ndv(p logical.Plan, i int) float64 {
	r := e.rows(p)
	d := e.baseNDV(p, i)
	if d <= 0 || d > r {
		d = r
	}
	return max(d, 1)
}

// baseNDV traces column i of p to where it is produced and returns its
// distinct count there when known, -1 otherwise.
func (e *estimator) baseNDV(p logical.Plan, i int) float64 {
	switch n := p.(type) {
	case *logical.Scan:
		name := n.Schema().Fields[i].Name
		if _, ok := primaryKeyStem(n.Source.Name, name); ok {
			return tableRows(n.Source)
		}
		if _, stem, ok := keyStem(name); ok {
			if r, ok := e.keyRows[stem]; ok {
				return min(r, tableRows(n.Source))
			}
		}
		return -1
	case *logical.Filter:
		return capNDV(e.baseNDV(n.Input, i), e.rows(p))
	case *logical.Sort, *logical.Limit:
		return capNDV(e.baseNDV(n.Children()[0], i), e.rows(p))
	case *logical.Project:
		if c, ok := n.Exprs[i].(*logical.ColumnRef); ok {
			return e.baseNDV(n.Input, c.Index)
		}
		return -1
	case *logical.Join:
		nl := n.Left.Schema().Len()
		if i < nl {
			return capNDV(e.baseNDV(n.Left, i), e.rows(p))
		}
		if n.Type == logical.JoinMark {
			return 2
		}
		if n.Type == logical.JoinSemi || n.Type == logical.JoinAnti {
			return -1
		}
		return capNDV(e.baseNDV(n.Right, i-nl), e.rows(p))
	case *logical.Aggregate:
		if i >= len(n.GroupBy) {
			return -1
		}
		if len(n.GroupBy) == 1 && len(n.GroupingSets) == 0 {
			return e.rows(p) // the only group key is unique
		}
		if c, ok := n.GroupBy[i].(*logical.ColumnRef); ok {
			return capNDV(e.baseNDV(n.Input, c.Index), e.rows(p))
		}
		return -1
	case *logical.Window:
		if i < n.Input.Schema().Len() {
			return e.baseNDV(n.Input, i)
		}
	}
	return -1
}

func capNDV(d, rows float64) float64 {
	if d <= 0 {
		return d
	}
	return min(d, rows)
}

// selectivity estimates the fraction of rows of input for which cond is
// true. input is a logical.Plan or a joinInput (for join conditions).
func (e *estimator) selectivity(cond logical.Expr, input any) float64 {
	s := e.selectivityOf(cond, input)
	return min(max(s, 1e-9), 1)
}

func (e *estimator) selectivityOf(cond logical.Expr, input any) float64 {
	switch x := cond.(type) {
	case *logical.Literal:
		if v, ok := x.Value.(bool); ok && v {
			return 1
		}
		return 0
	case *logical.InList:
		eq := e.equalitySelectivity(x.Input, input)
		s := min(1, eq*float64(len(x.List)))
		if x.Negated {
			return 1 - s
		}
		return s
	case *logical.ColumnRef:
		return selDefault
	case *logical.Call:
		switch x.Func {
		case "and":
			s := 1.0
			for _, a := range x.Args {
				s *= e.selectivityOf(a, input)
			}
			return s
		case "or":
			s := 0.0
			for _, a := range x.Args {
				t := e.selectivityOf(a, input)
				s = s + t - s*t
			}
			return s
		case "not":
			if len(x.Args) == 1 {
				return 1 - e.selectivityOf(x.Args[0], input)
			}
		case "equal", "is_not_distinct_from":
			if len(x.Args) == 2 {
				if _, isLit := x.Args[1].(*logical.Literal); isLit {
					return e.equalitySelectivity(x.Args[0], input)
				}
				if _, isLit := x.Args[0].(*logical.Literal); isLit {
					return e.equalitySelectivity(x.Args[1], input)
				}
			}
			return selEquality
		case "not_equal", "is_distinct_from":
			return 1 - selEquality
		case "lt", "lte", "gt", "gte":
			return selRange
		case "between":
			return selRange * 0.75
		case "like", "ilike", "starts_with", "ends_with", "contains", "regexp_match":
			return selLike
		case "is_null":
			return selNull
		case "is_not_null":
			return 1 - selNull
		}
	}
	return selDefault
}

// equalitySelectivity is the selectivity of x = <constant>: 1/ndv(x) when
// x is a column with a known distinct count, else selEquality.
func (e *estimator) equalitySelectivity(x logical.Expr, input any) float64 {
	c, ok := x.(*logical.ColumnRef)
	if !ok {
		return selEquality
	}
	var d float64 = -1
	switch in := input.(type) {
	case logical.Plan:
		d = e.baseNDV(in, c.Index)
	case joinInput:
		nl := in.left.Schema().Len()
		if c.Index < nl {
			d = e.baseNDV(in.left, c.Index)
		} else {
			d = e.baseNDV(in.right, c.Index-nl)
		}
	}
	if d <= 0 {
		return selEquality
	}
	return 1 / d
}
