package dataframe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// DataFrame is an immutable, lazily evaluated query: a logical plan over
// named, typed (and qualified) columns. Every operation returns a new
// DataFrame; an operation that fails (an unknown column, a type mismatch)
// returns a DataFrame that carries the error, and the error comes out of
// Err, Schema, Substrait or Collect, so operations chain without checks in
// between. Nothing runs until Collect.
type DataFrame struct {
	sess *Context // nil for DataFrames not made by a Context
	plan logical.Plan
	err  error
}

func failed(sess *Context, err error) *DataFrame { return &DataFrame{sess: sess, err: err} }

// session is the Context of df (nil for a nil DataFrame).
func (df *DataFrame) session() *Context {
	if df == nil {
		return nil
	}
	return df.sess
}

// derive returns a DataFrame over plan in df's session, or carrying err
// (prefixed with the operation).
func (df *DataFrame) derive(op string, plan logical.Plan, err error) *DataFrame {
	if err != nil {
		return failed(df.session(), fmt.Errorf("%s: %w", op, err))
	}
	return &DataFrame{sess: df.session(), plan: plan}
}

// check reports a DataFrame that cannot be used as an input.
func (df *DataFrame) check() error {
	switch {
	case df == nil:
		return errors.New("nil DataFrame")
	case df.err != nil:
		return df.err
	case df.plan == nil:
		return errors.New("empty DataFrame (use Context.Table, ReadParquet or ReadCSV)")
	}
	return nil
}

// Err is the error of the first operation that failed, if any.
func (df *DataFrame) Err() error {
	if df == nil {
		return errors.New("nil DataFrame")
	}
	if df.err == nil && df.plan == nil {
		return df.check()
	}
	return df.err
}

// LogicalPlan is the DataFrame's logical plan.
func (df *DataFrame) LogicalPlan() (logical.Plan, error) {
	if err := df.check(); err != nil {
		return nil, err
	}
	return df.plan, nil
}

// Explain renders the logical plan, one node per line.
func (df *DataFrame) Explain() (string, error) {
	p, err := df.final()
	if err != nil {
		return "", err
	}
	return logical.Format(p), nil
}

// Schema is the schema of the DataFrame's result (the schema of what
// Collect returns).
func (df *DataFrame) Schema() (*arrow.Schema, error) {
	p, err := df.final()
	if err != nil {
		return nil, err
	}
	return p.Schema().Arrow(), nil
}

// Columns lists the columns, qualified with their table or alias where
// they have one ("l.l_orderkey"), as Col accepts them.
func (df *DataFrame) Columns() ([]string, error) {
	if err := df.check(); err != nil {
		return nil, err
	}
	fs := df.plan.Schema().Fields
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = qualified(f)
	}
	return out, nil
}

// Filter keeps the rows for which cond is true (not false or NULL).
func (df *DataFrame) Filter(cond Expr) *DataFrame {
	const op = "Filter"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	b := &binder{in: df.plan.Schema(), clause: op}
	c, err := b.top(cond)
	if err == nil {
		c, err = sql.Boolean(c, "Filter")
	}
	if err != nil {
		return df.derive(op, nil, fmt.Errorf("%s: %w", cond, err))
	}
	return df.derive(op, &logical.Filter{Input: df.plan, Cond: c}, nil)
}

// Where is Filter.
func (df *DataFrame) Where(cond Expr) *DataFrame { return df.Filter(cond) }

// Select computes one output column per expression. A column reference
// keeps its name and qualifier; other expressions are named by As, or
// else after their text.
func (df *DataFrame) Select(exprs ...Expr) *DataFrame {
	const op = "Select"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if len(exprs) == 0 {
		return df.derive(op, nil, errors.New("no columns"))
	}
	in := df.plan.Schema()
	b := &binder{in: in, clause: op}
	out := make([]logical.Expr, len(exprs))
	names := make([]string, len(exprs))
	quals := make([]string, len(exprs))
	for i, e := range exprs {
		x, err := b.top(e)
		if err != nil {
			return df.derive(op, nil, fmt.Errorf("%s: %w", e, err))
		}
		out[i], names[i] = x, name(e, x, in)
		if c, ok := x.(*logical.ColumnRef); ok {
			quals[i] = in.Fields[c.Index].Qualifier
		}
	}
	return df.derive(op, logical.NewProject(df.plan, out, names, quals), nil)
}

// SelectColumns keeps the named columns, in that order.
func (df *DataFrame) SelectColumns(names ...string) *DataFrame {
	es := make([]Expr, len(names))
	for i, n := range names {
		es[i] = Col(n)
	}
	return df.Select(es...)
}

// identity returns column references to every input column with names
// and qualifiers.
func identity(s *logical.Schema) ([]logical.Expr, []string, []string) {
	exprs := make([]logical.Expr, s.Len())
	names := make([]string, s.Len())
	quals := make([]string, s.Len())
	for i, f := range s.Fields {
		exprs[i], names[i], quals[i] = logical.Col(s, i), f.Name, f.Qualifier
	}
	return exprs, names, quals
}

// WithColumn adds a column computed by e, or replaces the column of that
// name (keeping its position).
func (df *DataFrame) WithColumn(name string, e Expr) *DataFrame {
	const op = "WithColumn"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if name == "" {
		return df.derive(op, nil, errors.New("empty column name"))
	}
	in := df.plan.Schema()
	x, err := (&binder{in: in, clause: op}).top(e)
	if err != nil {
		return df.derive(op, nil, fmt.Errorf("%s: %w", e, err))
	}
	exprs, names, quals := identity(in)
	replaced := false
	for i, f := range in.Fields {
		if f.Name == name {
			exprs[i], quals[i], replaced = x, "", true
		}
	}
	if !replaced {
		exprs, names, quals = append(exprs, x), append(names, name), append(quals, "")
	}
	return df.derive(op, logical.NewProject(df.plan, exprs, names, quals), nil)
}

// WithColumnRenamed renames a column.
func (df *DataFrame) WithColumnRenamed(old, new string) *DataFrame {
	const op = "WithColumnRenamed"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	in := df.plan.Schema()
	i, err := resolve(in, old)
	if err != nil {
		return df.derive(op, nil, err)
	}
	if new == "" {
		return df.derive(op, nil, errors.New("empty column name"))
	}
	exprs, names, quals := identity(in)
	names[i] = new
	return df.derive(op, logical.NewProject(df.plan, exprs, names, quals), nil)
}

// Drop removes columns.
func (df *DataFrame) Drop(names ...string) *DataFrame {
	const op = "Drop"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	in := df.plan.Schema()
	drop := map[int]bool{}
	for _, n := range names {
		i, err := resolve(in, n)
		if err != nil {
			return df.derive(op, nil, err)
		}
		drop[i] = true
	}
	if len(drop) == in.Len() {
		return df.derive(op, nil, errors.New("cannot drop every column"))
	}
	exprs, outNames, quals := identity(in)
	var e []logical.Expr
	var n, q []string
	for i := range exprs {
		if !drop[i] {
			e, n, q = append(e, exprs[i]), append(n, outNames[i]), append(q, quals[i])
		}
	}
	return df.derive(op, logical.NewProject(df.plan, e, n, q), nil)
}

// Alias qualifies every column with name, so that Col("name.column")
// refers to them (use it to tell apart the two sides of a self join).
func (df *DataFrame) Alias(name string) *DataFrame {
	const op = "Alias"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if name == "" || strings.Contains(name, ".") {
		return df.derive(op, nil, fmt.Errorf("invalid alias %q", name))
	}
	if s, ok := df.plan.(*logical.Scan); ok {
		n := logical.NewScan(s.Source, name, s.Projection)
		n.Filters, n.Limit = s.Filters, s.Limit
		return df.derive(op, n, nil)
	}
	exprs, names, quals := identity(df.plan.Schema())
	for i := range quals {
		quals[i] = name
	}
	return df.derive(op, logical.NewProject(df.plan, exprs, names, quals), nil)
}

// Grouped is a DataFrame with group keys, waiting for its aggregates.
type Grouped struct {
	df   *DataFrame
	keys []Expr
}

// GroupBy groups by the named columns; Agg then computes the aggregates.
func (df *DataFrame) GroupBy(columns ...string) *Grouped {
	keys := make([]Expr, len(columns))
	for i, c := range columns {
		keys[i] = Col(c)
	}
	return &Grouped{df: df, keys: keys}
}

// GroupByExpr groups by expressions (named by As, else by their text).
func (df *DataFrame) GroupByExpr(keys ...Expr) *Grouped {
	return &Grouped{df: df, keys: append([]Expr(nil), keys...)}
}

// Agg computes aggregates over the whole input: one row.
func (df *DataFrame) Agg(items ...Expr) *DataFrame { return (&Grouped{df: df}).Agg(items...) }

// Agg computes, per group, each item: an aggregate (Sum, Count, ...) or an
// expression over aggregates and group keys (Sum(a).Div(Sum(b))). The
// output is the group keys followed by the items.
func (g *Grouped) Agg(items ...Expr) *DataFrame {
	const op = "Agg"
	if g == nil {
		return failed(nil, errors.New("Agg: nil Grouped"))
	}
	df := g.df
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if len(items) == 0 && len(g.keys) == 0 {
		return df.derive(op, nil, errors.New("no group keys and no aggregates"))
	}
	in := df.plan.Schema()
	st := &aggState{groupKeys: map[string]int{}, callKeys: map[string]int{}}
	plain := &binder{in: in, clause: "GroupBy"}
	var groupQuals []string
	for _, k := range g.keys {
		x, err := plain.top(k)
		if err != nil {
			return df.derive("GroupBy", nil, fmt.Errorf("%s: %w", k, err))
		}
		n := name(k, x, in)
		q := ""
		if c, ok := x.(*logical.ColumnRef); ok {
			q = in.Fields[c.Index].Qualifier
		}
		key := exprKey(x)
		if _, dup := st.groupKeys[key]; dup {
			return df.derive("GroupBy", nil, fmt.Errorf("key %s given twice", k))
		}
		st.groupKeys[key] = len(st.groups)
		st.groups = append(st.groups, x)
		st.groupNames = append(st.groupNames, n)
		groupQuals = append(groupQuals, q)
	}
	b := &binder{in: in, clause: op, agg: st}
	bound := make([]logical.Expr, len(items))
	names := make([]string, len(items))
	for i, it := range items {
		x, err := b.top(it)
		if err != nil {
			return df.derive(op, nil, fmt.Errorf("%s: %w", it, err))
		}
		bound[i] = x
		names[i] = name(it, nil, nil)
		if c, ok := x.(*logical.ColumnRef); ok && c.Index < len(st.groups) {
			if _, isCol := unalias(it).n.(colNode); isCol {
				names[i] = st.groupNames[c.Index]
			}
		}
	}
	// When the items are exactly the aggregates, in order, the Aggregate
	// alone is the result; otherwise a projection computes the items.
	direct := len(bound) == len(st.calls)
	for i, x := range bound {
		c, ok := x.(*logical.ColumnRef)
		direct = direct && ok && c.Index == len(st.groups)+i
	}
	aggNames := make([]string, len(st.calls))
	for i := range st.calls {
		aggNames[i] = fmt.Sprintf("__agg_%d", i)
		if direct {
			aggNames[i] = names[i]
		}
	}
	aggPlan := logical.NewAggregate(df.plan, st.groups, st.groupNames, nil, st.calls, aggNames)
	if direct {
		return df.derive(op, aggPlan, nil)
	}
	as := aggPlan.Schema()
	exprs := make([]logical.Expr, 0, len(st.groups)+len(bound))
	outNames := make([]string, 0, cap(exprs))
	quals := make([]string, 0, cap(exprs))
	for i := range st.groups {
		exprs = append(exprs, logical.Col(as, i))
		outNames = append(outNames, st.groupNames[i])
		quals = append(quals, groupQuals[i])
	}
	for i, x := range bound {
		exprs = append(exprs, x)
		outNames = append(outNames, names[i])
		quals = append(quals, "")
	}
	return df.derive(op, logical.NewProject(aggPlan, exprs, outNames, quals), nil)
}

func unalias(e Expr) Expr {
	for {
		a, ok := e.n.(aliasNode)
		if !ok {
			return e
		}
		e = a.e
	}
}

// Distinct removes duplicate rows.
func (df *DataFrame) Distinct() *DataFrame {
	const op = "Distinct"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	exprs, names, _ := identity(df.plan.Schema())
	return df.derive(op, logical.NewAggregate(df.plan, exprs, names, nil, nil, nil), nil)
}

// Sort orders the rows by keys (Col("a").Asc(), Col("b").Desc().NullsLast()).
func (df *DataFrame) Sort(keys ...SortKey) *DataFrame {
	const op = "Sort"
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if len(keys) == 0 {
		return df.derive(op, nil, errors.New("no sort keys"))
	}
	b := &binder{in: df.plan.Schema(), clause: op}
	out := make([]logical.SortKey, len(keys))
	for i, k := range keys {
		x, err := b.top(k.e)
		if err != nil {
			return df.derive(op, nil, fmt.Errorf("%s: %w", k.e, err))
		}
		out[i] = logical.SortKey{Expr: x, Descending: k.desc, NullsFirst: k.nullsFirst}
	}
	return df.derive(op, &logical.Sort{Input: df.plan, Keys: out, Fetch: -1}, nil)
}

// OrderBy is Sort.
func (df *DataFrame) OrderBy(keys ...SortKey) *DataFrame { return df.Sort(keys...) }

// Limit keeps at most n rows.
func (df *DataFrame) Limit(n int64) *DataFrame {
	if n < 0 {
		return df.derive("Limit", nil, fmt.Errorf("negative count %d", n))
	}
	return df.limit("Limit", 0, n)
}

// Offset skips the first n rows.
func (df *DataFrame) Offset(n int64) *DataFrame {
	if n < 0 {
		return df.derive("Offset", nil, fmt.Errorf("negative offset %d", n))
	}
	return df.limit("Offset", n, -1)
}

// limit skips offset rows and then keeps count (-1: all). Consecutive
// limits merge; a Sort below takes the bound as its fetch (top-k), as the
// SQL binder does.
func (df *DataFrame) limit(op string, offset, count int64) *DataFrame {
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	input := df.plan
	if l, ok := input.(*logical.Limit); ok {
		// Our limit applies to the rows the previous one keeps.
		if l.Count >= 0 {
			rest := max(l.Count-offset, 0)
			if count < 0 || count > rest {
				count = rest
			}
		}
		offset += l.Offset
		input = l.Input
	}
	if s, ok := input.(*logical.Sort); ok && count >= 0 {
		ns := *s
		fetch := count + offset
		if ns.Fetch >= 0 {
			fetch = min(fetch, ns.Fetch)
		}
		ns.Fetch = fetch
		input = &ns
		if offset == 0 {
			return df.derive(op, input, nil)
		}
	}
	return df.derive(op, &logical.Limit{Input: input, Offset: offset, Count: count}, nil)
}

// Union is the rows of df and other without duplicates (SQL UNION).
// Columns pair by position; their types become the common type; the names
// are df's.
func (df *DataFrame) Union(other *DataFrame) *DataFrame {
	return df.setOp("Union", logical.Union, false, other)
}

// UnionAll is the rows of df followed by those of other (UNION ALL).
func (df *DataFrame) UnionAll(other *DataFrame) *DataFrame {
	return df.setOp("UnionAll", logical.Union, true, other)
}

// Intersect is the distinct rows in both df and other (INTERSECT).
func (df *DataFrame) Intersect(other *DataFrame) *DataFrame {
	return df.setOp("Intersect", logical.Intersect, false, other)
}

// Except is the distinct rows of df that are not in other (EXCEPT).
func (df *DataFrame) Except(other *DataFrame) *DataFrame {
	return df.setOp("Except", logical.Except, false, other)
}

func (df *DataFrame) setOp(op string, kind logical.SetOpKind, all bool, other *DataFrame) *DataFrame {
	if err := df.check(); err != nil {
		return df.derive(op, nil, err)
	}
	if err := other.check(); err != nil {
		return df.derive(op, nil, fmt.Errorf("the other DataFrame: %w", err))
	}
	sess, err := joinSessions(df.sess, other.sess)
	if err != nil {
		return failed(df.session(), fmt.Errorf("%s: %w", op, err))
	}
	ls, rs := df.plan.Schema(), other.plan.Schema()
	if ls.Len() != rs.Len() {
		return df.derive(op, nil, fmt.Errorf("the inputs have %d and %d columns", ls.Len(), rs.Len()))
	}
	types := make([]arrow.DataType, ls.Len())
	names := make([]string, ls.Len())
	for i := range types {
		t, ok := sql.CommonType(ls.Fields[i].Type, rs.Fields[i].Type)
		if !ok {
			return df.derive(op, nil, fmt.Errorf("column %d (%s): types %s and %s cannot be matched", i+1, ls.Fields[i].Name,
				sql.TypeName(ls.Fields[i].Type), sql.TypeName(rs.Fields[i].Type)))
		}
		types[i], names[i] = t, ls.Fields[i].Name
	}
	left, err := sql.CastColumns(df.plan, types, nil)
	if err != nil {
		return df.derive(op, nil, err)
	}
	right, err := sql.CastColumns(other.plan, types, names)
	if err != nil {
		return df.derive(op, nil, err)
	}
	inputs := []logical.Plan{left, right}
	if l, ok := left.(*logical.SetOp); ok && l.Kind == kind && l.All == all && kind == logical.Union {
		inputs = append(append([]logical.Plan(nil), l.Inputs...), right)
	}
	return &DataFrame{sess: sess, plan: &logical.SetOp{Kind: kind, All: all, Inputs: inputs}}
}

// joinSessions picks the session of a result built from two DataFrames.
func joinSessions(a, b *Context) (*Context, error) {
	switch {
	case a == nil:
		return b, nil
	case b == nil, a == b:
		return a, nil
	case a.client != nil && b.client != nil && a.client != b.client:
		return nil, errors.New("the DataFrames come from Contexts of different clients")
	}
	return a, nil
}

// Collect runs the DataFrame on the cluster of its Context and returns
// the result stream; the caller closes it. A DataFrame made without a
// Context (package-level ReadParquet and ReadCSV) runs with
// Context.Collect.
func (df *DataFrame) Collect(ctx context.Context) (*client.Result, error) {
	if err := df.Err(); err != nil {
		return nil, err
	}
	if df.sess == nil {
		return nil, errors.New("dataframe: Collect: this DataFrame has no Context; use Context.Collect")
	}
	return df.sess.Collect(ctx, df)
}
