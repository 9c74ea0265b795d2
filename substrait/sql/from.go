package sql

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// maxViewDepth bounds view expansion (a view that refers to itself).
const maxViewDepth = 32

// bindFrom binds a FROM list; several items are cross-joined (the
// optimizer turns WHERE conjuncts into join conditions).
func (b *binder) bindFrom(items []*pg.Node, e *env) (logical.Plan, *scope, error) {
	if len(items) == 0 {
		return logical.NewValues(&logical.Schema{}, [][]logical.Expr{{}}), emptyScope(), nil
	}
	var plan logical.Plan
	var sc *scope
	for _, it := range items {
		p, s, err := b.bindFromItem(it, e)
		if err != nil {
			return nil, nil, err
		}
		if plan == nil {
			plan, sc = p, s
			continue
		}
		j := logical.NewJoin(plan, p, logical.JoinCross, nil)
		sc = concatScopes(sc, s, plan.Schema().Len(), j.Schema())
		plan = j
	}
	return plan, sc, nil
}

// concatScopes appends r (whose indexes are shifted by shift) to l; schema
// is the schema the combined positions index.
func concatScopes(l, r *scope, shift int, schema *logical.Schema) *scope {
	out := &scope{cols: append([]scopeCol(nil), l.cols...), schema: schema}
	for _, c := range r.cols {
		c.idx += shift
		out.cols = append(out.cols, c)
	}
	return out
}

func (b *binder) bindFromItem(n *pg.Node, e *env) (logical.Plan, *scope, error) {
	p, sc, err := b.fromItem(n, e)
	if err != nil {
		return nil, nil, b.errAt(location(n), err)
	}
	return p, sc, nil
}

func (b *binder) fromItem(n *pg.Node, e *env) (logical.Plan, *scope, error) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		return b.bindTableRef(x.RangeVar, e)
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		if rs.Lateral {
			return nil, nil, notSupported("LATERAL")
		}
		sel, ok := rs.Subquery.Node.(*pg.Node_SelectStmt)
		if !ok {
			return nil, nil, fmt.Errorf("derived table is not a query")
		}
		plan, err := b.bindQuery(sel.SelectStmt, e.child())
		if err != nil {
			return nil, nil, err
		}
		qual := ""
		if rs.Alias != nil {
			qual = rs.Alias.Aliasname
		}
		sc := scopeOf(plan, qual)
		if qual == "" {
			for i := range sc.cols {
				sc.cols[i].qual = ""
			}
		}
		if err := renameColumns(sc, rs.Alias, qual); err != nil {
			return nil, nil, err
		}
		return plan, sc, nil
	case *pg.Node_JoinExpr:
		return b.bindJoin(x.JoinExpr, e)
	case *pg.Node_RangeFunction:
		return nil, nil, notSupported("table functions in FROM")
	}
	return nil, nil, notSupported("FROM item %s", strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_"))
}

// renameColumns applies an alias's column list (AS t(a, b, ...)).
func renameColumns(sc *scope, alias *pg.Alias, qual string) error {
	if alias == nil || len(alias.Colnames) == 0 {
		return nil
	}
	visible := 0
	for _, c := range sc.cols {
		if !c.hidden {
			visible++
		}
	}
	if len(alias.Colnames) > visible {
		return fmt.Errorf("table %q has %d columns available but %d columns specified", qual, visible, len(alias.Colnames))
	}
	k := 0
	for i := range sc.cols {
		if sc.cols[i].hidden {
			continue
		}
		if k < len(alias.Colnames) {
			sc.cols[i].name = strVal(alias.Colnames[k])
		}
		k++
	}
	return nil
}

func (b *binder) bindTableRef(rv *pg.RangeVar, e *env) (logical.Plan, *scope, error) {
	name := rv.Relname
	qual := name
	if rv.Alias != nil {
		qual = rv.Alias.Aliasname
	}
	if rv.Schemaname == "" {
		if cte, ok := e.ctes[name]; ok {
			sc := scopeOf(cte.plan, qual)
			for i := range sc.cols {
				sc.cols[i].name = cte.names[i]
			}
			if err := renameColumns(sc, rv.Alias, qual); err != nil {
				return nil, nil, b.errAt(rv.Location, err)
			}
			return cte.plan, sc, nil
		}
	}
	names := []string{name}
	if rv.Schemaname != "" {
		names = []string{rv.Schemaname + "." + name, name}
	}
	for _, n := range names {
		if src, ok := b.cat.LookupTable(n); ok {
			alias := ""
			if rv.Alias != nil {
				alias = qual
			}
			if src.Schema == nil {
				return nil, nil, b.errAt(rv.Location, fmt.Errorf("table %q has no schema", n))
			}
			scan := logical.NewScan(src, alias, nil)
			sc := scopeOf(scan, qual)
			if err := renameColumns(sc, rv.Alias, qual); err != nil {
				return nil, nil, b.errAt(rv.Location, err)
			}
			return scan, sc, nil
		}
		if body, ok := b.cat.LookupView(n); ok {
			plan, err := b.bindView(n, body)
			if err != nil {
				return nil, nil, b.errAt(rv.Location, err)
			}
			sc := scopeOf(plan, qual)
			if err := renameColumns(sc, rv.Alias, qual); err != nil {
				return nil, nil, b.errAt(rv.Location, err)
			}
			return plan, sc, nil
		}
	}
	cands := b.cat.TableNames()
	for k := range e.ctes {
		cands = append(cands, k)
	}
	return nil, nil, b.errAt(rv.Location, fmt.Errorf("table %q not found%s", name, suggest(name, cands)))
}

// bindView binds the body of a catalog view as a query of its own. Its
// errors name the view and give their place in the view's definition.
func (b *binder) bindView(name, body string) (logical.Plan, error) {
	if b.viewDepth >= maxViewDepth {
		return nil, fmt.Errorf("view %q: views nested more than %d deep (does a view refer to itself?)", name, maxViewDepth)
	}
	inView := func(err error) error {
		if e, ok := err.(*Error); ok && e.Line > 0 {
			return &msgError{msg: fmt.Sprintf("in view %q (line %d, column %d of its definition): %s", name, e.Line, e.Column, e.Msg), err: err}
		}
		return &msgError{msg: fmt.Sprintf("in view %q: %v", name, err), err: err}
	}
	p, err := parseOne(body, 0, body)
	if err != nil {
		return nil, inView(err)
	}
	sel, ok := p.stmt.GetSelectStmt(), p.stmt != nil
	if !ok || sel == nil {
		return nil, fmt.Errorf("view %q is not a query", name)
	}
	b.statementTime() // the view sees the statement's time
	vb := &binder{cat: b.cat, p: p, viewDepth: b.viewDepth + 1, now: b.now}
	plan, err := vb.bindQuery(sel, &env{})
	if err != nil {
		return nil, inView(err)
	}
	return plan, nil
}

func (b *binder) bindJoin(j *pg.JoinExpr, e *env) (logical.Plan, *scope, error) {
	lp, ls, err := b.bindFromItem(j.Larg, e)
	if err != nil {
		return nil, nil, err
	}
	rp, rs, err := b.bindFromItem(j.Rarg, e)
	if err != nil {
		return nil, nil, err
	}
	lw := lp.Schema().Len()
	// The join condition sees the inputs side by side, before an outer
	// join makes a side nullable.
	sc := concatScopes(ls, rs, lw, logical.Concat(lp.Schema(), rp.Schema()))
	var jt logical.JoinType
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER:
		jt = logical.JoinInner
	case pg.JoinType_JOIN_LEFT:
		jt = logical.JoinLeft
	case pg.JoinType_JOIN_RIGHT:
		jt = logical.JoinRight
	case pg.JoinType_JOIN_FULL:
		jt = logical.JoinFull
	default:
		return nil, nil, notSupported("join type %s", j.Jointype)
	}
	// USING / NATURAL columns.
	var using []string
	if j.IsNatural {
		for _, lc := range ls.cols {
			if lc.hidden {
				continue
			}
			if len(rs.find("", lc.name)) > 0 {
				using = append(using, lc.name)
			}
		}
	}
	for _, u := range j.UsingClause {
		using = append(using, strVal(u))
	}
	var conds []logical.Expr
	type pair struct{ l, r int } // positions in sc.cols
	var pairs []pair
	for _, u := range using {
		lpos, rpos := -1, -1
		for i, c := range sc.cols {
			if c.hidden || !nameMatch(u, c.name, false) {
				continue
			}
			if i < len(ls.cols) {
				if lpos >= 0 {
					return nil, nil, fmt.Errorf("common column name %q appears more than once in left table", u)
				}
				lpos = i
			} else {
				if rpos >= 0 {
					return nil, nil, fmt.Errorf("common column name %q appears more than once in right table", u)
				}
				rpos = i
			}
		}
		if lpos < 0 {
			return nil, nil, fmt.Errorf("column %q specified in USING clause does not exist in left table", u)
		}
		if rpos < 0 {
			return nil, nil, fmt.Errorf("column %q specified in USING clause does not exist in right table", u)
		}
		lc, rc := sc.cols[lpos], sc.cols[rpos]
		cond, err := compare("equal", sc.ref(lc), sc.ref(rc))
		if err != nil {
			return nil, nil, fmt.Errorf("JOIN USING %q: %w", u, err)
		}
		conds = append(conds, cond)
		pairs = append(pairs, pair{lpos, rpos})
	}
	if j.Quals != nil {
		c := &exprCtx{sc: sc, env: e, clause: "JOIN conditions"}
		q, err := b.expr(j.Quals, c)
		if err != nil {
			return nil, nil, err
		}
		if q, err = toBool(q, "JOIN/ON"); err != nil {
			return nil, nil, err
		}
		conds = append(conds, q)
	}
	on := logical.And(conds...)
	if on == nil && jt == logical.JoinInner && !j.IsNatural {
		jt = logical.JoinCross
	}
	var plan logical.Plan = logical.NewJoin(lp, rp, jt, on)
	// Above the join, columns read the join's output (an outer join's
	// null-supplying side is nullable there).
	sc.schema = plan.Schema()
	if len(pairs) > 0 {
		// The USING columns come first and resolve unqualified to one
		// column: the left one, the right one for RIGHT JOIN, and their
		// coalesce for FULL JOIN.
		var first []scopeCol
		if jt == logical.JoinFull {
			n := plan.Schema().Len()
			exprs := make([]logical.Expr, n)
			names := make([]string, n)
			for i := 0; i < n; i++ {
				exprs[i] = logical.Col(plan.Schema(), i)
				names[i] = plan.Schema().Fields[i].Name
			}
			quals := make([]string, n)
			for i, f := range plan.Schema().Fields {
				quals[i] = f.Qualifier
			}
			for _, p := range pairs {
				lc, rc := sc.cols[p.l], sc.cols[p.r]
				co, err := variadicCommon("coalesce", []logical.Expr{logical.Col(plan.Schema(), lc.idx), logical.Col(plan.Schema(), rc.idx)})
				if err != nil {
					return nil, nil, err
				}
				first = append(first, scopeCol{name: lc.name, idx: len(exprs)})
				exprs = append(exprs, co)
				names = append(names, lc.name)
				quals = append(quals, "")
				sc.cols[p.l].hidden = true
				sc.cols[p.r].hidden = true
			}
			plan = logical.NewProject(plan, exprs, names, quals)
		} else {
			for _, p := range pairs {
				keep, hide := p.l, p.r
				if jt == logical.JoinRight {
					keep, hide = p.r, p.l
				}
				first = append(first, sc.cols[keep])
				sc.cols[keep].hidden = true // moved to the front below
				sc.cols[hide].hidden = true
			}
		}
		var rest []scopeCol
		for i, c := range sc.cols {
			isKeep := false
			if jt != logical.JoinFull {
				for _, p := range pairs {
					k := p.l
					if jt == logical.JoinRight {
						k = p.r
					}
					if k == i {
						isKeep = true
					}
				}
			}
			if !isKeep {
				rest = append(rest, c)
			}
		}
		sc = &scope{cols: append(first, rest...), schema: plan.Schema()}
	}
	if j.Alias != nil {
		// Under a join alias only the visible columns remain.
		var vis []scopeCol
		for _, c := range sc.cols {
			if !c.hidden {
				c.qual = j.Alias.Aliasname
				vis = append(vis, c)
			}
		}
		sc = &scope{cols: vis, schema: sc.schema}
		if err := renameColumns(sc, j.Alias, j.Alias.Aliasname); err != nil {
			return nil, nil, err
		}
	}
	return plan, sc, nil
}
