package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// bindQuery binds a query: WITH, set operations, VALUES or a SELECT block.
func (b *binder) bindQuery(s *pg.SelectStmt, e *env) (logical.Plan, error) {
	if s == nil {
		return nil, fmt.Errorf("missing query")
	}
	if s.WithClause != nil {
		ne, err := b.bindWith(s.WithClause, e)
		if err != nil {
			return nil, err
		}
		e = ne
	}
	if s.IntoClause != nil {
		return nil, notSupported("SELECT INTO")
	}
	if len(s.LockingClause) > 0 {
		return nil, notSupported("FOR UPDATE/SHARE")
	}
	if s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED {
		return b.bindSetOp(s, e)
	}
	if len(s.ValuesLists) > 0 {
		plan, err := b.bindValues(s.ValuesLists, e)
		if err != nil {
			return nil, err
		}
		return b.orderLimitOutput(plan, s, e)
	}
	return b.bindSelect(s, e)
}

// bindWith binds the common table expressions of a WITH clause, each
// visible to the ones after it and to the query.
func (b *binder) bindWith(w *pg.WithClause, e *env) (*env, error) {
	if w.Recursive {
		return nil, b.errAt(w.Location, notSupported("WITH RECURSIVE"))
	}
	ne := &env{ctes: map[string]*cteDef{}, outer: e.outer, far: e.far, sub: e.sub}
	for k, v := range e.ctes {
		ne.ctes[k] = v
	}
	local := map[string]bool{}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			return nil, fmt.Errorf("malformed WITH clause")
		}
		if local[cte.Ctename] {
			return nil, b.errAt(cte.Location, fmt.Errorf("WITH query name %q specified more than once", cte.Ctename))
		}
		local[cte.Ctename] = true
		sel := cte.Ctequery.GetSelectStmt()
		if sel == nil {
			return nil, b.errAt(cte.Location, notSupported("data-modifying statements in WITH"))
		}
		plan, err := b.bindQuery(sel, ne.child())
		if err != nil {
			return nil, err
		}
		names := make([]string, plan.Schema().Len())
		for i, f := range plan.Schema().Fields {
			names[i] = f.Name
		}
		if len(cte.Aliascolnames) > len(names) {
			return nil, b.errAt(cte.Location, fmt.Errorf("WITH query %q has %d columns available but %d columns specified", cte.Ctename, len(names), len(cte.Aliascolnames)))
		}
		for i, a := range cte.Aliascolnames {
			names[i] = strVal(a)
		}
		ne.ctes[cte.Ctename] = &cteDef{plan: plan, names: names}
	}
	return ne, nil
}

// bindValues binds VALUES (...), (...) to an inline table of constants.
func (b *binder) bindValues(lists []*pg.Node, e *env) (logical.Plan, error) {
	c := &exprCtx{sc: emptyScope(), env: e, clause: "VALUES"}
	var rows [][]logical.Expr
	width := -1
	for _, l := range lists {
		items := l.GetList()
		if items == nil {
			return nil, b.errAt(location(l), fmt.Errorf("malformed VALUES"))
		}
		row, err := b.exprs(items.Items, c)
		if err != nil {
			return nil, err
		}
		if width >= 0 && len(row) != width {
			return nil, b.errAt(location(l), fmt.Errorf("VALUES lists must all be the same length"))
		}
		width = len(row)
		for i, x := range row {
			if _, ok := x.(*logical.Literal); !ok {
				return nil, b.errAt(location(items.Items[i]), notSupported("non-constant expressions in VALUES"))
			}
		}
		rows = append(rows, row)
	}
	schema := &logical.Schema{}
	for col := 0; col < width; col++ {
		column := make([]logical.Expr, len(rows))
		for i := range rows {
			column[i] = rows[i][col]
		}
		t, err := unify(column)
		if err != nil {
			return nil, b.errAt(location(lists[0]), fmt.Errorf("VALUES column %d: %w", col+1, err))
		}
		nullable := false
		for i := range rows {
			if rows[i][col], err = castTo(rows[i][col], t); err != nil {
				return nil, err
			}
			nullable = nullable || rows[i][col].Nullable()
		}
		schema.Fields = append(schema.Fields, logical.Field{Name: fmt.Sprintf("column%d", col+1), Type: t, Nullable: nullable})
	}
	return logical.NewValues(schema, rows), nil
}

// bindSetOp binds UNION / INTERSECT / EXCEPT [ALL].
func (b *binder) bindSetOp(s *pg.SelectStmt, e *env) (logical.Plan, error) {
	left, err := b.bindQuery(s.Larg, e.child())
	if err != nil {
		return nil, err
	}
	right, err := b.bindQuery(s.Rarg, e.child())
	if err != nil {
		return nil, err
	}
	ls, rs := left.Schema(), right.Schema()
	var kind logical.SetOpKind
	switch s.Op {
	case pg.SetOperation_SETOP_UNION:
		kind = logical.Union
	case pg.SetOperation_SETOP_INTERSECT:
		kind = logical.Intersect
	default:
		kind = logical.Except
	}
	if ls.Len() != rs.Len() {
		return nil, b.errAt(selectLocation(s.Rarg), fmt.Errorf("each %s query must have the same number of columns (%d and %d)", strings.ToUpper(kind.String()), ls.Len(), rs.Len()))
	}
	types := make([]arrow.DataType, ls.Len())
	for i := range types {
		t, ok := commonType(ls.Fields[i].Type, rs.Fields[i].Type)
		if !ok {
			return nil, b.errAt(selectLocation(s.Rarg), fmt.Errorf("%s types %s and %s cannot be matched (column %d)", strings.ToUpper(kind.String()), sqlTypeName(ls.Fields[i].Type), sqlTypeName(rs.Fields[i].Type), i+1))
		}
		types[i] = t
	}
	if left, err = castColumns(left, types, nil); err != nil {
		return nil, err
	}
	// The right side takes the left side's column names.
	names := make([]string, ls.Len())
	for i, f := range ls.Fields {
		names[i] = f.Name
	}
	if right, err = castColumns(right, types, names); err != nil {
		return nil, err
	}
	inputs := []logical.Plan{left, right}
	if l, ok := left.(*logical.SetOp); ok && l.Kind == kind && l.All == s.All && kind == logical.Union {
		inputs = append(append([]logical.Plan(nil), l.Inputs...), right)
	}
	plan := &logical.SetOp{Kind: kind, All: s.All, Inputs: inputs}
	return b.orderLimitOutput(plan, s, e)
}

// castColumns projects p so its columns have the given types (and names,
// when set); p is returned unchanged when nothing differs.
func castColumns(p logical.Plan, types []arrow.DataType, names []string) (logical.Plan, error) {
	sch := p.Schema()
	same := true
	exprs := make([]logical.Expr, sch.Len())
	outNames := make([]string, sch.Len())
	for i, f := range sch.Fields {
		x, err := castTo(logical.Col(sch, i), types[i])
		if err != nil {
			return nil, err
		}
		exprs[i] = x
		outNames[i] = f.Name
		if names != nil {
			outNames[i] = names[i]
		}
		if !arrow.TypeEqual(f.Type, types[i]) || outNames[i] != f.Name {
			same = false
		}
	}
	if same {
		return p, nil
	}
	return logical.NewProject(p, exprs, outNames, nil), nil
}

// orderLimitOutput applies ORDER BY / LIMIT / OFFSET of a set operation or
// VALUES: the keys name output columns (by name or ordinal) or are
// expressions over them.
func (b *binder) orderLimitOutput(plan logical.Plan, s *pg.SelectStmt, e *env) (logical.Plan, error) {
	if len(s.SortClause) > 0 {
		sc := scopeOf(plan, "")
		c := &exprCtx{sc: sc, env: e, clause: "ORDER BY"}
		var keys []logical.SortKey
		for _, n := range s.SortClause {
			sb := n.GetSortBy()
			if sb == nil {
				return nil, fmt.Errorf("malformed ORDER BY")
			}
			var x logical.Expr
			if pos, ok := ordinal(sb.Node); ok {
				if pos < 1 || pos > plan.Schema().Len() {
					return nil, b.errAt(location(sb.Node), fmt.Errorf("ORDER BY position %d is not in select list", pos))
				}
				x = logical.Col(plan.Schema(), pos-1)
			} else {
				var err error
				if x, err = b.expr(sb.Node, c); err != nil {
					return nil, err
				}
			}
			k, err := sortKey(x, sb)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		plan = &logical.Sort{Input: plan, Keys: keys, Fetch: -1}
	}
	return b.applyLimit(plan, s, e)
}

// ordinal returns the value of an integer constant node.
func ordinal(n *pg.Node) (int, bool) {
	if c := n.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
			return int(iv.Ival.Ival), true
		}
	}
	return 0, false
}

// applyLimit applies LIMIT / OFFSET: a Sort directly below takes the
// bound as its fetch.
func (b *binder) applyLimit(plan logical.Plan, s *pg.SelectStmt, e *env) (logical.Plan, error) {
	if s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		return nil, b.errAt(location(s.LimitCount), notSupported("FETCH ... WITH TIES"))
	}
	count, err := b.limitValue(s.LimitCount, e, "LIMIT")
	if err != nil {
		return nil, err
	}
	offset, err := b.limitValue(s.LimitOffset, e, "OFFSET")
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		offset = 0
	}
	if count < 0 && offset == 0 {
		return plan, nil
	}
	if srt, ok := plan.(*logical.Sort); ok && count >= 0 {
		ns := *srt
		ns.Fetch = count + offset
		if offset == 0 {
			return &ns, nil
		}
		plan = &ns
	}
	return &logical.Limit{Input: plan, Offset: offset, Count: count}, nil
}

// limitValue evaluates a LIMIT/OFFSET expression (-1 when absent or ALL).
func (b *binder) limitValue(n *pg.Node, e *env, what string) (int64, error) {
	if n == nil {
		return -1, nil
	}
	x, err := b.expr(n, &exprCtx{sc: emptyScope(), env: &env{ctes: e.ctes}, clause: what})
	if err != nil {
		return 0, err
	}
	l, ok := x.(*logical.Literal)
	if !ok {
		return 0, b.errAt(location(n), notSupported("non-constant %s", what))
	}
	if l.Value == nil {
		return -1, nil
	}
	v, s, ok := literalDecimal(l)
	if !ok || s != 0 || !v.IsInt64() {
		return 0, b.errAt(location(n), fmt.Errorf("%s must be an integer", what))
	}
	if v.Sign() < 0 {
		return 0, b.errAt(location(n), fmt.Errorf("%s must not be negative", what))
	}
	return v.Int64(), nil
}

// selectItem is one output column of a SELECT block.
type selectItem struct {
	expr logical.Expr
	name string
	loc  int32 // position in the statement
}

// orderItem is one ORDER BY key: an output column (item) or a hidden
// expression.
type orderItem struct {
	item int // index into the projected columns
	key  logical.SortKey
}

// bindSelect binds one SELECT block.
func (b *binder) bindSelect(s *pg.SelectStmt, e *env) (logical.Plan, error) {
	plan, sc, err := b.bindFrom(s.FromClause, e)
	if err != nil {
		return nil, err
	}
	windows := map[string]*pg.WindowDef{}
	for _, w := range s.WindowClause {
		if wd := w.GetWindowDef(); wd != nil {
			windows[wd.Name] = wd
		}
	}
	base := &exprCtx{sc: sc, env: e, windows: windows}

	// WHERE: correlated conjuncts of a subquery are set aside for the
	// join that will replace it.
	if s.WhereClause != nil {
		c := base.with(func(c *exprCtx) { c.clause = "WHERE"; c.subqOK = true; c.outerOK = e.sub != nil })
		cond, err := b.expr(s.WhereClause, c)
		if err != nil {
			return nil, err
		}
		if cond, err = toBool(cond, "WHERE"); err != nil {
			return nil, err
		}
		var local []logical.Expr
		for _, conj := range logical.SplitConjunction(cond) {
			if hasOuterRef(conj) {
				if containsSubquery(conj) {
					return nil, b.errAt(startLocation(s.WhereClause), notSupported("a subquery combined with a correlated reference in one WHERE condition"))
				}
				e.sub.corr = append(e.sub.corr, conj)
				continue
			}
			local = append(local, conj)
		}
		if plan, err = b.applyFilter(plan, local); err != nil {
			return nil, err
		}
	}

	// SELECT list.
	selCtx := base.with(func(c *exprCtx) {
		c.clause = "SELECT"
		c.aggOK, c.windowOK, c.subqOK = true, true, true
		c.outerOK = e.sub != nil
	})
	var items []selectItem
	for _, n := range s.TargetList {
		rt := n.GetResTarget()
		if rt == nil {
			return nil, fmt.Errorf("malformed select list")
		}
		if star, qual, ok := isStar(rt.Val); ok && star {
			exp, err := expandStar(sc, qual)
			if err != nil {
				return nil, b.errAt(rt.Location, err)
			}
			for i := range exp {
				exp[i].loc = rt.Location
			}
			items = append(items, exp...)
			continue
		}
		x, err := b.expr(rt.Val, selCtx)
		if err != nil {
			return nil, err
		}
		name := rt.Name
		if name == "" {
			name = exprName(rt.Val)
		}
		items = append(items, selectItem{expr: x, name: name, loc: rt.Location})
	}
	if len(items) == 0 && (e.sub == nil || !e.sub.exists) {
		if len(s.TargetList) > 0 {
			return nil, b.errAt(selectLocation(s), fmt.Errorf("SELECT * with no columns"))
		}
	}

	// GROUP BY.
	g, err := b.bindGroupBy(s.GroupClause, items, base)
	if err != nil {
		return nil, err
	}

	// HAVING.
	var having logical.Expr
	if s.HavingClause != nil {
		c := base.with(func(c *exprCtx) { c.clause = "HAVING"; c.aggOK = true; c.subqOK = true })
		if having, err = b.expr(s.HavingClause, c); err != nil {
			return nil, err
		}
		if having, err = toBool(having, "HAVING"); err != nil {
			return nil, err
		}
	}

	distinct := false
	var distinctOn []*pg.Node
	if len(s.DistinctClause) > 0 {
		if len(s.DistinctClause) == 1 && s.DistinctClause[0].Node == nil {
			distinct = true
		} else {
			distinctOn = s.DistinctClause
		}
	}

	// ORDER BY and DISTINCT ON keys: output columns by ordinal or name,
	// else expressions over the FROM clause (hidden columns unless they
	// match an output).
	var hidden []logical.Expr
	var hiddenLocs []int32
	orderCtx := base.with(func(c *exprCtx) { c.clause = "ORDER BY"; c.aggOK = true; c.windowOK = true; c.subqOK = true })
	locate := func(n *pg.Node, clause string) (int, error) {
		loc := location(n)
		if pos, ok := ordinal(n); ok {
			if pos < 1 || pos > len(items) {
				return 0, b.errAt(loc, fmt.Errorf("%s position %d is not in select list", clause, pos))
			}
			return pos - 1, nil
		}
		if name, ok := bareName(n); ok && outputIndex(items, name) != -1 {
			idx := outputIndex(items, name)
			if idx == -2 {
				return 0, b.errAt(loc, fmt.Errorf("%s %q is ambiguous", clause, name))
			}
			return idx, nil
		}
		x, err := b.expr(n, orderCtx.with(func(c *exprCtx) { c.clause = clause }))
		if err != nil {
			return 0, err
		}
		key := exprKey(x)
		for i, it := range items {
			if exprKey(it.expr) == key {
				return i, nil
			}
		}
		if distinct {
			return 0, b.errAt(loc, fmt.Errorf("for SELECT DISTINCT, ORDER BY expressions must appear in select list"))
		}
		for i, h := range hidden {
			if exprKey(h) == key {
				return len(items) + i, nil
			}
		}
		hidden = append(hidden, x)
		hiddenLocs = append(hiddenLocs, loc)
		return len(items) + len(hidden) - 1, nil
	}
	var onItems []int
	for _, n := range distinctOn {
		idx, err := locate(n, "DISTINCT ON")
		if err != nil {
			return nil, err
		}
		onItems = append(onItems, idx)
	}
	var order []orderItem
	for _, n := range s.SortClause {
		sb := n.GetSortBy()
		if sb == nil {
			return nil, fmt.Errorf("malformed ORDER BY")
		}
		idx, err := locate(sb.Node, "ORDER BY")
		if err != nil {
			return nil, err
		}
		k, err := sortKey(&logical.ColumnRef{}, sb)
		if err != nil {
			return nil, b.errAt(sb.Location, err)
		}
		order = append(order, orderItem{item: idx, key: k})
	}
	if len(distinctOn) > 0 {
		if err := checkDistinctOnOrder(onItems, order); err != nil {
			return nil, b.errAt(location(s.SortClause[0]), err)
		}
		if e.sub != nil && !e.sub.exists && len(e.sub.corr) > 0 {
			return nil, b.errAt(location(distinctOn[0]), notSupported("DISTINCT ON in a correlated subquery"))
		}
	}

	// All expressions computed above the FROM clause, in output order.
	exprs := make([]logical.Expr, 0, len(items)+len(hidden))
	for _, it := range items {
		exprs = append(exprs, it.expr)
	}
	exprs = append(exprs, hidden...)

	grouping := len(s.GroupClause) > 0 || having != nil || containsAggregate(exprs...)
	sub := e.sub
	if sub != nil && len(sub.corr) > 0 && (s.LimitCount != nil || s.LimitOffset != nil) && !sub.exists {
		return nil, b.errAt(limitLocation(s), notSupported("LIMIT/OFFSET in a correlated subquery"))
	}
	userGroups := len(g.exprs)
	var countCols map[int]bool
	if grouping {
		locs := make([]int32, 0, len(exprs))
		for _, it := range items {
			locs = append(locs, it.loc)
		}
		locs = append(locs, hiddenLocs...)
		ar, err := b.aggregate(plan, g, exprs, locs, having, startLocation(s.HavingClause), sub, startLocation(s.WhereClause))
		if err != nil {
			return nil, err
		}
		plan, exprs, having, countCols = ar.plan, ar.exprs, ar.having, ar.countCols
		if having != nil {
			if plan, err = b.applyFilter(plan, logical.SplitConjunction(having)); err != nil {
				return nil, err
			}
		}
	}

	// Subqueries in the select list and ORDER BY.
	for i := range exprs {
		if plan, exprs[i], err = b.replaceSubqueries(plan, exprs[i], nil); err != nil {
			return nil, err
		}
	}

	// Window functions.
	if plan, exprs, err = windowNode(plan, exprs); err != nil {
		return nil, err
	}

	// Projection: the select list, then the columns correlation predicates
	// need, then hidden ORDER BY expressions.
	names := make([]string, 0, len(exprs))
	for _, it := range items {
		names = append(names, it.name)
	}
	outExprs := append([]logical.Expr(nil), exprs[:len(items)]...)
	if sub != nil && sub.exists {
		outExprs, names = nil, nil
	}
	// A subquery's value that reads the enclosing row is computed after
	// the join: the subquery outputs the columns of its own it needs (and,
	// when a row may be missing, a marker that is never NULL).
	var value logical.Expr
	alwaysOneRow := grouping && userGroups == 0 && len(g.sets) == 0 && having == nil
	if sub != nil && !sub.exists && len(items) == 1 && hasOuterRef(outExprs[0]) {
		ordered := false
		for _, o := range order {
			ordered = ordered || o.item == 0
		}
		if distinct || len(onItems) > 0 || ordered {
			return nil, b.errAt(items[0].loc, notSupported("DISTINCT or ORDER BY on a subquery's select-list expression that reads the enclosing query"))
		}
		value = outExprs[0]
		outExprs, names = nil, nil
		mapping := map[int]int{}
		for _, col := range sortedColumns(value) {
			mapping[col] = len(outExprs)
			outExprs = append(outExprs, logical.Col(plan.Schema(), col))
			names = append(names, fmt.Sprintf("__value_%d", len(outExprs)))
		}
		if value, err = remapInner(value, mapping); err != nil {
			return nil, err
		}
		sub.presentCol = -1
		if !alwaysOneRow {
			sub.presentCol = len(outExprs)
			outExprs = append(outExprs, &logical.Literal{Value: true, T: logical.Bool})
			names = append(names, "__present")
		}
	}
	width := len(outExprs)
	var corrCols []int // output positions of the columns correlation needs
	if sub != nil && len(sub.corr) > 0 {
		mapping := map[int]int{}
		for _, p := range sub.corr {
			for _, col := range sortedColumns(p) {
				if _, ok := mapping[col]; ok {
					continue
				}
				mapping[col] = len(outExprs)
				corrCols = append(corrCols, len(outExprs))
				outExprs = append(outExprs, logical.Col(plan.Schema(), col))
				names = append(names, fmt.Sprintf("__corr_%d", len(corrCols)))
			}
		}
		for i, p := range sub.corr {
			if sub.corr[i], err = remapInner(p, mapping); err != nil {
				return nil, err
			}
		}
	}
	visible := len(outExprs)
	hiddenStart := len(outExprs)
	for i, h := range exprs[len(items):] {
		outExprs = append(outExprs, h)
		names = append(names, fmt.Sprintf("__sort_%d", i+1))
	}
	plan = logical.NewProject(plan, outExprs, names, nil)

	if len(onItems) > 0 && !(sub != nil && sub.exists) {
		plan = distinctOnFilter(plan, onItems, order, len(items), hiddenStart)
	}
	if distinct && !(sub != nil && sub.exists) {
		sch := plan.Schema()
		groups := make([]logical.Expr, sch.Len())
		gnames := make([]string, sch.Len())
		for i, f := range sch.Fields {
			groups[i] = logical.Col(sch, i)
			gnames[i] = f.Name
		}
		plan = logical.NewAggregate(plan, groups, gnames, nil, nil, nil)
	}
	if sub != nil && sub.exists {
		// Only the existence of a row matters: ORDER BY is irrelevant and
		// a LIMIT of at least one row changes nothing.
		count, err := b.limitValue(s.LimitCount, e, "LIMIT")
		if err != nil {
			return nil, err
		}
		offset, err := b.limitValue(s.LimitOffset, e, "OFFSET")
		if err != nil {
			return nil, err
		}
		if count == 0 || offset > 0 {
			return nil, b.errAt(limitLocation(s), notSupported("LIMIT 0 or OFFSET in an EXISTS subquery"))
		}
	} else {
		if len(order) > 0 {
			keys := make([]logical.SortKey, len(order))
			for i, o := range order {
				k := o.key
				pos := o.item
				if pos >= len(items) {
					pos = hiddenStart + pos - len(items)
				}
				k.Expr = logical.Col(plan.Schema(), pos)
				keys[i] = k
			}
			plan = &logical.Sort{Input: plan, Keys: keys, Fetch: -1}
		}
		if plan, err = b.applyLimit(plan, s, e); err != nil {
			return nil, err
		}
	}
	if plan.Schema().Len() > visible {
		sch := plan.Schema()
		ex := make([]logical.Expr, visible)
		nm := make([]string, visible)
		for i := 0; i < visible; i++ {
			ex[i] = logical.Col(sch, i)
			nm[i] = sch.Fields[i].Name
		}
		plan = logical.NewProject(plan, ex, nm, nil)
	}

	if sub != nil {
		sub.width = width
		sub.items = len(items)
		sub.nonEmpty = alwaysOneRow
		if value != nil {
			// value was remapped over the projection; its references
			// take their names from it.
			if sub.value, err = rebase(value, plan.Schema(), 0, false); err != nil {
				return nil, err
			}
		}
		if len(sub.corr) == 0 {
			sub.oneRow = alwaysOneRow && s.LimitCount == nil && s.LimitOffset == nil
		} else if alwaysOneRow {
			// A HAVING clause may drop the group, so only a block without
			// one yields exactly one row per correlation key.
			sub.grouped = true
			if len(corrCols) > 0 {
				sub.markerCol = corrCols[0]
			}
			if !sub.exists && len(items) > 0 {
				sub.emptyValue = emptyGroupValue(exprs[0], countCols)
			}
		}
	}
	return plan, nil
}

// checkDistinctOnOrder applies PostgreSQL's rule that the DISTINCT ON
// keys must match the leading ORDER BY keys: when the ORDER BY has a key
// that is not a DISTINCT ON key, every DISTINCT ON key must come before
// it.
func checkDistinctOnOrder(on []int, order []orderItem) error {
	isOn := map[int]bool{}
	for _, i := range on {
		isOn[i] = true
	}
	inPrefix := map[int]bool{}
	n := 0
	for n < len(order) && isOn[order[n].item] {
		inPrefix[order[n].item] = true
		n++
	}
	if n == len(order) {
		return nil
	}
	for _, i := range on {
		if !inPrefix[i] {
			return fmt.Errorf("SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
		}
	}
	return nil
}

// distinctOnFilter keeps the first row (in ORDER BY order) of each group
// of rows with equal DISTINCT ON keys: a window numbers the rows of each
// group and a filter keeps number 1. plan is the block's projection;
// keys and order name select items (positions past nItems are hidden
// columns, which start at hiddenStart in plan).
func distinctOnFilter(plan logical.Plan, on []int, order []orderItem, nItems, hiddenStart int) logical.Plan {
	sch := plan.Schema()
	col := func(item int) *logical.ColumnRef {
		if item >= nItems {
			item = hiddenStart + item - nItems
		}
		return logical.Col(sch, item)
	}
	rn := &logical.WindowCall{Func: "row_number", T: logical.Int64}
	seen := map[int]bool{}
	for _, i := range on {
		if !seen[i] {
			seen[i] = true
			rn.PartitionBy = append(rn.PartitionBy, col(i))
		}
	}
	for _, o := range order {
		if seen[o.item] {
			continue // constant within a partition
		}
		k := o.key
		k.Expr = col(o.item)
		rn.OrderBy = append(rn.OrderBy, k)
	}
	win := logical.NewWindow(plan, []*logical.WindowCall{rn}, []string{"__distinct_on_row"})
	first := logical.Equal(logical.Col(win.Schema(), sch.Len()), &logical.Literal{Value: int64(1), T: logical.Int64})
	return &logical.Filter{Input: win, Cond: first}
}

// selectLocation is where a query block starts as far as pg_query tells:
// the first position recorded inside it (-1 when none).
func selectLocation(s *pg.SelectStmt) int32 {
	if s == nil {
		return -1
	}
	return minLocation(s.ProtoReflect())
}

// limitLocation is the position of a block's LIMIT or OFFSET expression.
func limitLocation(s *pg.SelectStmt) int32 {
	if s.LimitCount != nil {
		return location(s.LimitCount)
	}
	return location(s.LimitOffset)
}

// isStar reports whether n is * or t.*.
func isStar(n *pg.Node) (star bool, qual string, ok bool) {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return false, "", false
	}
	if _, isStar := cr.Fields[len(cr.Fields)-1].Node.(*pg.Node_AStar); !isStar {
		return false, "", false
	}
	if len(cr.Fields) >= 2 {
		qual = strVal(cr.Fields[len(cr.Fields)-2])
	}
	return true, qual, true
}

// expandStar lists the columns * or qual.* stands for.
func expandStar(sc *scope, qual string) ([]selectItem, error) {
	var out []selectItem
	for _, c := range sc.cols {
		if qual == "" && c.hidden {
			continue
		}
		if qual != "" && !strings.EqualFold(c.qual, qual) {
			continue
		}
		out = append(out, selectItem{expr: sc.ref(c), name: c.name})
	}
	if len(out) == 0 {
		if qual != "" {
			return nil, fmt.Errorf("missing FROM-clause entry for table %q%s", qual, suggest(qual, sc.quals()))
		}
		if len(sc.cols) == 0 {
			return nil, fmt.Errorf("SELECT * with no tables specified is not valid")
		}
	}
	return out, nil
}

// bareName returns the name of an unqualified column reference.
func bareName(n *pg.Node) (string, bool) {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) != 1 {
		return "", false
	}
	s := strVal(cr.Fields[0])
	return s, s != ""
}

// outputIndex finds the select item named name: -1 when none, -2 when
// several different ones.
func outputIndex(items []selectItem, name string) int {
	idx := -1
	for i, it := range items {
		if it.name != name {
			continue
		}
		if idx >= 0 && exprKey(items[idx].expr) != exprKey(it.expr) {
			return -2
		}
		if idx < 0 {
			idx = i
		}
	}
	return idx
}

// exprKey identifies an expression for matching GROUP BY and ORDER BY
// expressions against the select list.
func exprKey(e logical.Expr) string { return e.String() + "::" + e.Type().String() }

// sortedColumns lists the input columns e reads, ascending.
func sortedColumns(e logical.Expr) []int {
	var out []int
	seen := map[int]bool{}
	walk(e, func(n logical.Expr) bool {
		if c, ok := n.(*logical.ColumnRef); ok && !seen[c.Index] {
			seen[c.Index] = true
			out = append(out, c.Index)
		}
		return true
	})
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// remapInner rewrites the (inner) column references of a correlation
// predicate; outer references are left alone.
func remapInner(e logical.Expr, mapping map[int]int) (logical.Expr, error) {
	return logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		c, ok := n.(*logical.ColumnRef)
		if !ok {
			return n, nil
		}
		j, ok := mapping[c.Index]
		if !ok {
			return nil, fmt.Errorf("internal: correlation column %s has no mapping", c)
		}
		cc := *c
		cc.Index = j
		return &cc, nil
	})
}

// windowNode moves the window functions of exprs into a Window node over
// plan and replaces them with references to its output.
func windowNode(plan logical.Plan, exprs []logical.Expr) (logical.Plan, []logical.Expr, error) {
	var calls []*logical.WindowCall
	index := map[string]int{}
	for _, x := range exprs {
		logical.WalkExpr(x, func(n logical.Expr) bool {
			if w, ok := n.(*logical.WindowCall); ok {
				k := exprKey(w)
				if _, ok := index[k]; !ok {
					index[k] = len(calls)
					calls = append(calls, w)
				}
				return false
			}
			return true
		})
	}
	if len(calls) == 0 {
		return plan, exprs, nil
	}
	names := make([]string, len(calls))
	for i, w := range calls {
		names[i] = w.Func
	}
	width := plan.Schema().Len()
	win := logical.NewWindow(plan, calls, names)
	out := make([]logical.Expr, len(exprs))
	for i, x := range exprs {
		y, err := rewriteTopDown(x, func(n logical.Expr) (logical.Expr, bool, error) {
			if w, ok := n.(*logical.WindowCall); ok {
				j := index[exprKey(w)]
				return logical.Col(win.Schema(), width+j), true, nil
			}
			return n, false, nil
		})
		if err != nil {
			return nil, nil, err
		}
		out[i] = y
	}
	return win, out, nil
}

// exprName is the output column name PostgreSQL gives an unnamed
// select-list expression.
func exprName(n *pg.Node) string {
	if n == nil {
		return "?column?"
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if len(x.ColumnRef.Fields) > 0 {
			if s := strVal(x.ColumnRef.Fields[len(x.ColumnRef.Fields)-1]); s != "" {
				return s
			}
		}
	case *pg.Node_FuncCall:
		return funcName(x.FuncCall)
	case *pg.Node_TypeCast:
		if inner := exprName(x.TypeCast.Arg); inner != "?column?" {
			return inner
		}
		if len(x.TypeCast.TypeName.Names) > 0 {
			return typeName(x.TypeCast.TypeName)
		}
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			return "least"
		}
		return "greatest"
	case *pg.Node_AExpr:
		if x.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif"
		}
	case *pg.Node_SubLink:
		switch x.SubLink.SubLinkType {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists"
		case pg.SubLinkType_EXPR_SUBLINK:
			if sel := x.SubLink.Subselect.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
				if rt := sel.TargetList[0].GetResTarget(); rt != nil {
					if rt.Name != "" {
						return rt.Name
					}
					return exprName(rt.Val)
				}
			}
		}
	case *pg.Node_GroupingFunc:
		return "grouping"
	case *pg.Node_SqlvalueFunction:
		return strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(x.SqlvalueFunction.Op.String(), "SVFOP_")), "_n")
	}
	return "?column?"
}
