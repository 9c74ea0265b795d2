package optimizer

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// PruneColumns makes every node output only the columns its parent needs:
// scans get projection lists (so readers decode only those columns),
// projections, aggregates and windows drop unused outputs, join inputs are
// trimmed to the columns used above or in the condition, and projections
// that just pass their input through are removed. Column references are
// remapped through every node. A node from which nothing is needed still
// outputs one (the narrowest) column, so row counts survive.
type PruneColumns struct{}

// Name implements Rule.
func (PruneColumns) Name() string { return "prune_columns" }

// Apply implements Rule.
func (PruneColumns) Apply(p logical.Plan) (logical.Plan, error) {
	return pruneExact(p, seq(p.Schema().Len()), true), nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// union returns the sorted distinct elements of a and b.
func union(a []int, b ...[]int) []int {
	out := slices.Clone(a)
	for _, x := range b {
		out = append(out, x...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// exprsCols returns the sorted distinct columns the expressions read.
func exprsCols(es ...logical.Expr) []int {
	var out []int
	for _, e := range es {
		if e != nil {
			out = append(out, colsOf(e)...)
		}
	}
	return union(out)
}

// remapTo rewrites column i of e to its position in kept (sorted; it must
// contain every column e reads).
func remapTo(e logical.Expr, kept []int) logical.Expr {
	return mapColumns(e, func(i int) int {
		j, _ := slices.BinarySearch(kept, i)
		return j
	})
}

func remapAll(es []logical.Expr, kept []int) []logical.Expr {
	out := make([]logical.Expr, len(es))
	for i, e := range es {
		out[i] = remapTo(e, kept)
	}
	return out
}

// narrowestColumn picks the column that is cheapest to carry.
func narrowestColumn(s *logical.Schema) int {
	best, bestW := 0, -1
	for i, f := range s.Fields {
		w := 128
		if fw, ok := f.Type.(arrow.FixedWidthDataType); ok {
			w = fw.BitWidth()
		}
		if bestW < 0 || w < bestW {
			best, bestW = i, w
		}
	}
	return best
}

// pruneExact returns a plan computing exactly the columns req of p, in
// order.
func pruneExact(p logical.Plan, req []int, keepNames bool) logical.Plan {
	if len(req) == 0 && p.Schema().Len() > 0 {
		req = []int{narrowestColumn(p.Schema())}
	}
	q, kept := prune(p, req, keepNames)
	if slices.Equal(kept, req) {
		return q
	}
	pos := make([]int, len(req))
	for i, r := range req {
		pos[i], _ = slices.BinarySearch(kept, r)
	}
	return projectColumns(q, pos)
}

// prune returns a plan computing at least the columns req (sorted,
// distinct) of p, and the ascending positions in p's output of the columns
// that plan outputs. keepNames says whether the plan's column names are
// visible (the root of the query and what passes names up to it).
func prune(p logical.Plan, req []int, keepNames bool) (logical.Plan, []int) {
	if len(req) == 0 && p.Schema().Len() > 0 {
		req = []int{narrowestColumn(p.Schema())}
	}
	switch n := p.(type) {
	case *logical.Scan:
		need := union(req, exprsCols(n.Filters...))
		if len(need) == n.Schema().Len() {
			return n, need
		}
		proj := make([]int, len(need))
		for i, c := range need {
			if n.Projection == nil {
				proj[i] = c
			} else {
				proj[i] = n.Projection[c]
			}
		}
		return n.WithProjection(proj, remapAll(n.Filters, need)), need
	case *logical.Values:
		if len(req) == n.Schema().Len() {
			return n, req
		}
		fields := make([]logical.Field, len(req))
		for i, c := range req {
			fields[i] = n.Schema().Fields[c]
		}
		rows := make([][]logical.Expr, len(n.Rows))
		for r, row := range n.Rows {
			rows[r] = make([]logical.Expr, len(req))
			for i, c := range req {
				rows[r][i] = row[c]
			}
		}
		return logical.NewValues(logical.NewSchema(fields...), rows), req
	case *logical.Filter:
		child, kept := prune(n.Input, union(req, colsOf(n.Cond)), keepNames)
		return &logical.Filter{Input: child, Cond: remapTo(n.Cond, kept)}, kept
	case *logical.Project:
		return pruneProject(n, req, keepNames)
	case *logical.Aggregate:
		return pruneAggregate(n, req)
	case *logical.Join:
		return pruneJoin(n, req, keepNames)
	case *logical.Sort:
		keys := make([]logical.Expr, len(n.Keys))
		for i, k := range n.Keys {
			keys[i] = k.Expr
		}
		need := union(req, exprsCols(keys...))
		s := *n
		s.Input = pruneExact(n.Input, need, keepNames)
		s.Keys = make([]logical.SortKey, len(n.Keys))
		for i, k := range n.Keys {
			s.Keys[i] = k
			s.Keys[i].Expr = remapTo(k.Expr, need)
		}
		return &s, need
	case *logical.Limit:
		child, kept := prune(n.Input, req, keepNames)
		return n.WithChildren([]logical.Plan{child}), kept
	case *logical.SetOp:
		need := req
		if n.Kind != logical.Union || !n.All {
			need = seq(n.Schema().Len()) // every column decides distinctness
		}
		inputs := make([]logical.Plan, len(n.Inputs))
		for i, in := range n.Inputs {
			inputs[i] = pruneExact(in, need, keepNames && i == 0)
		}
		return n.WithChildren(inputs), need
	case *logical.Window:
		return pruneWindow(n, req, keepNames)
	}
	kids := p.Children()
	if len(kids) > 0 {
		nk := make([]logical.Plan, len(kids))
		for i, k := range kids {
			nk[i] = pruneExact(k, seq(k.Schema().Len()), keepNames)
		}
		p = p.WithChildren(nk)
	}
	return p, seq(p.Schema().Len())
}

func pruneProject(n *logical.Project, req []int, keepNames bool) (logical.Plan, []int) {
	exprs := make([]logical.Expr, len(req))
	nm := make([]string, len(req))
	q := make([]string, len(req))
	out := n.Schema()
	for i, c := range req {
		exprs[i] = n.Exprs[c]
		nm[i] = n.Names[c]
		q[i] = out.Fields[c].Qualifier
	}
	child, kept := prune(n.Input, exprsCols(exprs...), false)
	np := logical.NewProject(child, remapAll(exprs, kept), nm, q)
	if isIdentityProject(np) && (!keepNames || sameNames(np.Schema(), child.Schema())) {
		return child, req
	}
	return np, req
}

func pruneAggregate(n *logical.Aggregate, req []int) (logical.Plan, []int) {
	ng := len(n.GroupBy)
	var aggs []*logical.AggregateCall
	var aggNames []string
	kept := seq(ng)
	for i, a := range n.Aggs {
		if _, found := slices.BinarySearch(req, ng+i); found {
			aggs = append(aggs, a)
			aggNames = append(aggNames, n.AggNames[i])
			kept = append(kept, ng+i)
		}
	}
	if len(n.GroupBy) == 0 && len(aggs) == 0 && len(n.Aggs) > 0 {
		aggs, aggNames, kept = n.Aggs[:1], n.AggNames[:1], []int{0}
	}
	if len(n.GroupingSets) > 0 {
		kept = append(kept, ng+len(n.Aggs))
	}
	exprs := slices.Clone(n.GroupBy)
	for _, a := range aggs {
		exprs = append(exprs, a.Args...)
		if a.Filter != nil {
			exprs = append(exprs, a.Filter)
		}
	}
	child, ck := prune(n.Input, exprsCols(exprs...), false)
	newAggs := make([]*logical.AggregateCall, len(aggs))
	for i, a := range aggs {
		c := *a
		c.Args = remapAll(a.Args, ck)
		if a.Filter != nil {
			c.Filter = remapTo(a.Filter, ck)
		}
		newAggs[i] = &c
	}
	return logical.NewAggregate(child, remapAll(n.GroupBy, ck), n.GroupNames, n.GroupingSets, newAggs, aggNames), kept
}

func pruneJoin(n *logical.Join, req []int, keepNames bool) (logical.Plan, []int) {
	nl := n.Left.Schema().Len()
	onCols := exprsCols(n.On)
	outputsRight := n.Type != logical.JoinSemi && n.Type != logical.JoinAnti && n.Type != logical.JoinMark
	var lreq, rreq []int
	for _, c := range req { // output positions
		switch {
		case c < nl:
			lreq = append(lreq, c)
		case outputsRight:
			rreq = append(rreq, c-nl)
		}
	}
	for _, c := range onCols { // positions in left ++ right
		if c < nl {
			lreq = append(lreq, c)
		} else {
			rreq = append(rreq, c-nl)
		}
	}
	lreq, rreq = union(lreq), union(rreq)
	if len(lreq) == 0 && nl > 0 {
		lreq = []int{narrowestColumn(n.Left.Schema())}
	}
	if len(rreq) == 0 && n.Right.Schema().Len() > 0 {
		rreq = []int{narrowestColumn(n.Right.Schema())}
	}
	left := pruneExact(n.Left, lreq, keepNames)
	right := pruneExact(n.Right, rreq, keepNames)
	var on logical.Expr
	if n.On != nil {
		on = mapColumns(n.On, func(i int) int {
			if i < nl {
				j, _ := slices.BinarySearch(lreq, i)
				return j
			}
			j, _ := slices.BinarySearch(rreq, i-nl)
			return len(lreq) + j
		})
	}
	j := logical.NewJoin(left, right, n.Type, on)
	j.NullAware = n.NullAware
	kept := slices.Clone(lreq)
	switch {
	case n.Type == logical.JoinMark:
		kept = append(kept, nl)
	case outputsRight:
		for _, c := range rreq {
			kept = append(kept, nl+c)
		}
	}
	return j, kept
}

func pruneWindow(n *logical.Window, req []int, keepNames bool) (logical.Plan, []int) {
	nin := n.Input.Schema().Len()
	var funcs []*logical.WindowCall
	var fnames []string
	var fpos []int
	var need []int
	for _, c := range req {
		if c < nin {
			need = append(need, c)
		} else {
			f := n.Funcs[c-nin]
			funcs = append(funcs, f)
			fnames = append(fnames, n.Names[c-nin])
			fpos = append(fpos, c)
			need = union(need, exprsCols(logical.ExprChildren(f)...))
		}
	}
	if len(funcs) == 0 {
		child, kept := prune(n.Input, need, keepNames)
		return child, kept
	}
	child := pruneExact(n.Input, need, keepNames)
	newFuncs := make([]*logical.WindowCall, len(funcs))
	for i, f := range funcs {
		e, _ := logical.TransformExpr(f, func(x logical.Expr) (logical.Expr, error) {
			if c, ok := x.(*logical.ColumnRef); ok {
				cc := *c
				cc.Index, _ = slices.BinarySearch(need, c.Index)
				return &cc, nil
			}
			return x, nil
		})
		newFuncs[i] = e.(*logical.WindowCall)
	}
	return logical.NewWindow(child, newFuncs, fnames), append(slices.Clone(need), fpos...)
}
