package sql

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// refProblems lists every place in p where a column reference disagrees
// with the input field it reads (index out of range, another name, type or
// nullability), where a call claims a non-null result over a nullable
// argument, or where a binder-internal expression survived. An empty list
// means the plan is exactly what the Substrait consumer rebuilds and what
// the optimizer's nullability repair leaves alone.
func refProblems(p logical.Plan) []string {
	var out []string
	var visit func(p logical.Plan)
	visit = func(p logical.Plan) {
		var in *logical.Schema
		var exprs []logical.Expr
		switch n := p.(type) {
		case *logical.Scan:
			in = n.Schema()
			exprs = n.Filters
		case *logical.Values:
			in = &logical.Schema{}
			for _, r := range n.Rows {
				exprs = append(exprs, r...)
			}
		case *logical.Filter:
			in, exprs = n.Input.Schema(), []logical.Expr{n.Cond}
		case *logical.Project:
			in, exprs = n.Input.Schema(), n.Exprs
			for i, e := range n.Exprs {
				f := n.Schema().Fields[i]
				if f.Nullable != e.Nullable() || !arrow.TypeEqual(f.Type, e.Type()) {
					out = append(out, fmt.Sprintf("%s: output %s does not match %s", n, f, e))
				}
			}
		case *logical.Aggregate:
			in, exprs = n.Input.Schema(), n.GroupBy
			for _, a := range n.Aggs {
				exprs = append(exprs, a)
			}
		case *logical.Join:
			in = logical.Concat(n.Left.Schema(), n.Right.Schema())
			if n.On != nil {
				exprs = []logical.Expr{n.On}
			}
		case *logical.Sort:
			in = n.Input.Schema()
			for _, k := range n.Keys {
				exprs = append(exprs, k.Expr)
			}
		case *logical.Window:
			in = n.Input.Schema()
			for _, f := range n.Funcs {
				exprs = append(exprs, f)
			}
		case *logical.Limit, *logical.SetOp:
		default:
			out = append(out, fmt.Sprintf("unexpected node %T", p))
		}
		for _, e := range exprs {
			walk(e, func(x logical.Expr) bool {
				switch c := x.(type) {
				case *outerRef, *subqueryExpr, *groupingExpr:
					out = append(out, fmt.Sprintf("%s: binder expression %s left in the plan", p, x))
				case *logical.ColumnRef:
					if c.Index < 0 || c.Index >= in.Len() {
						out = append(out, fmt.Sprintf("%s: %s out of range (%d columns)", p, c, in.Len()))
						return true
					}
					f := in.Fields[c.Index]
					if c.Name != f.Name || !arrow.TypeEqual(c.T, f.Type) || c.CanBeNull != f.Nullable {
						out = append(out, fmt.Sprintf("%s: reference %s (%s, nullable=%v) reads %s (nullable=%v)",
							p, c, c.T, c.CanBeNull, f, f.Nullable))
					}
				case *logical.Call:
					if !c.NullableOut && testCallMayBeNull(c) {
						out = append(out, fmt.Sprintf("%s: %s claims non-null over a nullable argument", p, c))
					}
				}
				return true
			})
		}
		for _, k := range p.Children() {
			visit(k)
		}
	}
	visit(p)
	return out
}

// testCallMayBeNull reports whether c's arguments let it produce NULL (the
// rule the optimizer's nullability repair applies).
func testCallMayBeNull(c *logical.Call) bool {
	switch c.Func {
	case "is_null", "is_not_null", "is_distinct_from", "is_not_distinct_from",
		"is_true", "is_false", "is_not_true", "is_not_false":
		return false
	case "coalesce":
		for _, a := range c.Args {
			if !a.Nullable() {
				return false
			}
		}
		return len(c.Args) > 0
	}
	for _, a := range c.Args {
		if a.Nullable() {
			return true
		}
	}
	return false
}

// checkRefs fails the test when refProblems finds anything.
func checkRefs(t *testing.T, p logical.Plan) {
	t.Helper()
	for _, msg := range refProblems(p) {
		t.Error(msg)
	}
	if t.Failed() {
		t.Logf("plan:\n%s", logical.Format(p))
	}
}

// TestRefProblems makes sure the checker itself catches what it is meant
// to catch.
func TestRefProblems(t *testing.T) {
	sts, err := bindAll(t, tpchCatalog(), "select c_custkey from customer left join orders on c_custkey = o_custkey")
	if err != nil {
		t.Fatal(err)
	}
	good := sts[0].(*Query).Plan
	if msgs := refProblems(good); len(msgs) != 0 {
		t.Fatalf("problems in a correct plan: %v", msgs)
	}
	join := good.Children()[0].(*logical.Join)
	js := join.Schema()
	oc := logical.Col(js, 9) // o_orderkey, nullable above the left join
	if !oc.CanBeNull {
		t.Fatalf("o_orderkey not nullable above a left join")
	}
	mk := func(e logical.Expr) logical.Plan {
		return logical.NewProject(join, []logical.Expr{e}, []string{"x"}, nil)
	}
	notNull := *oc
	notNull.CanBeNull = false
	renamed := *oc
	renamed.Name = "other"
	retyped := *oc
	retyped.T = arrow.PrimitiveTypes.Int32
	for name, p := range map[string]logical.Plan{
		"nullability":  mk(&notNull),
		"name":         mk(&renamed),
		"type":         mk(&retyped),
		"range":        mk(&logical.ColumnRef{Index: 99, Name: "z", T: logical.Int64}),
		"call":         mk(&logical.Call{Func: "negate", Args: []logical.Expr{oc}, T: logical.Int64}),
		"binder exprs": mk(&outerRef{Steps: 1, Index: 0, Name: "c_custkey", T: logical.Int64}),
	} {
		if len(refProblems(p)) == 0 {
			t.Errorf("%s: problem not found", name)
		}
	}
}

// refQueries exercise every way the binder builds column references:
// outer joins (the null-supplying side), USING and NATURAL joins, aliases
// that rename columns, views, CTEs, set operations, grouping, windows and
// every kind of subquery. TestRefs and the optimizer's repair test bind
// them all.
var refQueries = []string{
	"select c_custkey, count(o_orderkey) from customer left outer join orders on c_custkey = o_custkey and o_comment not like '%x%' group by c_custkey",
	"select count(o_orderkey), count(*) from customer right join orders on c_custkey = o_custkey",
	"select c_custkey, o_orderkey, coalesce(o_orderkey, 0) + 1, o_orderkey is null from customer full join orders on c_custkey = o_custkey",
	"select a, c, a + c from t left join u using (a)",
	"select a, c from t right join u using (a) where c is null",
	"select a, b, c from t full join u using (a, s)",
	"select * from t natural left join u",
	"select x.p, x.q from (select a, b from t) as x(p, q) left join u on x.p = u.a",
	"select j.x, j.c from (t left join u on t.a = u.a) as j(x, y)",
	"with w(k, v) as (select a, sum(d) from t group by a) select k, v from w left join u on w.k = u.a",
	"select t.a, u.c from t left join u on t.a = u.a where exists (select 1 from u u2 where u2.c = u.c)",
	"select t.a, (select max(u2.c) from u u2 where u2.a = u.a) from t left join u on t.a = u.a",
	"select t.a from t left join u on t.a = u.a where u.c in (select c from u u3 where u3.s = t.s)",
	"select t.a from t left join u on t.a = u.a where u.c not in (select c from u u3)",
	"select t.a, (select count(*) from u u2 where u2.a = t.a) from t",
	"select a, exists(select 1 from u) from t",
	"select a, not exists(select 1 from u where u.a = t.a) from t",
	"select a from t where b > all (select c from u where u.a = t.a)",
	"select a from t where b > any (select c from u where u.a = t.a) or a = 1",
	"select a, rank() over (partition by c order by b) from t left join u using (a)",
	"select a, b from t union select a, c from u order by 2",
	"select distinct u.c from t left join u on t.a = u.a",
	"select b, sum(d) from t left join u on t.a = u.a group by rollup(b) having sum(d) > (select avg(d) from t t2 where t2.b = t.b)",
	"select t.a, (select u2.c + u.c from u u2 where u2.a = t.a) from t left join u on t.a = u.a",
	"select t.a, (select coalesce(max(u2.c), u.c) from u u2 where u2.a = t.a) from t left join u on t.a = u.a",
	"select t.a from t left join u on t.a = u.a where u.c in (select u2.c + u.c from u u2 where u2.s = t.s)",
	"select t.a, (select count(*) from u u2 where u2.c > u.c) from t left join u on t.a = u.a",
	"select u.c, (select sum(t2.d) from t t2 where t2.b < u.c) from t left join u on t.a = u.a group by u.c",
	"select distinct on (u.c) t.a, u.s from t left join u on t.a = u.a order by u.c, t.b",
	"select now(), current_date, current_timestamp(3)",
	"select a, not exists(select 1 from u), not exists(select 1 from u where u.a = t.a) from t",
	"select a, exists(select count(*) from u where u.a = t.a), not exists(select max(c) from u where u.c > t.b) from t",
	"select a from t where exists(select count(*) from u where u.a = t.a) and not exists(select 1 from u having count(*) > 1)",
}

// TestRefs binds refQueries and checks every reference against its input.
func TestRefs(t *testing.T) {
	for _, q := range refQueries {
		t.Run(q, func(t *testing.T) {
			sts, err := bindAll(t, tpchCatalog(), q)
			if err != nil {
				t.Fatal(err)
			}
			checkRefs(t, sts[len(sts)-1].(*Query).Plan)
		})
	}
}
