package optimizer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
)

// A TPC-H catalog at scale factor 1, with the engine's logical types.

var (
	tInt64 = arrow.PrimitiveTypes.Int64
	tInt32 = arrow.PrimitiveTypes.Int32
	tMoney = logical.DecimalType(15, 2)
	tStr   = logical.Utf8
	tDate  = logical.Date32
)

// tpch are the TPC-H tables with SF 1 statistics.
var tpch = sqltest.TPCH(false, true).Tables

// scan reads a TPC-H table, optionally under an alias.
func scan(table string, alias ...string) *logical.Scan {
	a := ""
	if len(alias) > 0 {
		a = alias[0]
	}
	src, ok := tpch[table]
	if !ok {
		panic("no table " + table)
	}
	return logical.NewScan(src, a, nil)
}

// colIn resolves "name" or "qualifier.name" in s.
func colIn(s *logical.Schema, name string) *logical.ColumnRef {
	q, n, qualified := strings.Cut(name, ".")
	if !qualified {
		n, q = name, ""
	}
	found := -1
	for i, f := range s.Fields {
		if f.Name == n && (q == "" || f.Qualifier == q) {
			if found >= 0 {
				panic("ambiguous column " + name)
			}
			found = i
		}
	}
	if found < 0 {
		panic(fmt.Sprintf("no column %s in %s", name, s))
	}
	return logical.Col(s, found)
}

// col resolves a column of p's output.
func col(p logical.Plan, name string) *logical.ColumnRef { return colIn(p.Schema(), name) }

// jcol resolves a column of l's output followed by r's.
func jcol(l, r logical.Plan, name string) *logical.ColumnRef {
	return colIn(logical.Concat(l.Schema(), r.Schema()), name)
}

func call(fn string, t arrow.DataType, args ...logical.Expr) *logical.Call {
	nullable := false
	for _, a := range args {
		nullable = nullable || a.Nullable()
	}
	return &logical.Call{Func: fn, Args: args, T: t, NullableOut: nullable}
}

func cmpf(fn string) func(a, b logical.Expr) logical.Expr {
	return func(a, b logical.Expr) logical.Expr { return call(fn, logical.Bool, a, b) }
}

var (
	eq  = cmpf("equal")
	ne  = cmpf("not_equal")
	lt  = cmpf("lt")
	lte = cmpf("lte")
	gt  = cmpf("gt")
	gte = cmpf("gte")
)

func and(args ...logical.Expr) logical.Expr { return call("and", logical.Bool, args...) }
func or(args ...logical.Expr) logical.Expr  { return call("or", logical.Bool, args...) }
func not(a logical.Expr) logical.Expr       { return call("not", logical.Bool, a) }

func i64(v int64) *logical.Literal { return &logical.Literal{Value: v, T: tInt64} }
func i32(v int32) *logical.Literal { return &logical.Literal{Value: v, T: tInt32} }
func str(s string) *logical.Literal {
	return &logical.Literal{Value: s, T: tStr}
}
func date(s string) *logical.Literal {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return &logical.Literal{Value: arrow.Date32FromTime(d), T: tDate}
}

// dec builds a decimal(p, s) literal from text.
func dec(text string, p, s int32) *logical.Literal {
	v, ok := parseDecimal(text, s)
	if !ok {
		panic("bad decimal " + text)
	}
	l, ok := makeDecimal(v, logical.DecimalType(p, s))
	if !ok {
		panic("decimal out of range " + text)
	}
	return l
}

func interval(months, days int32) *logical.Literal {
	return &logical.Literal{Value: arrow.MonthDayNanoInterval{Months: months, Days: days}, T: logical.Interval}
}

func filter(p logical.Plan, cond logical.Expr) logical.Plan {
	return &logical.Filter{Input: p, Cond: cond}
}

// project builds a Project from alternating names and expressions.
func project(p logical.Plan, namesAndExprs ...any) logical.Plan {
	var nm []string
	var es []logical.Expr
	for i := 0; i < len(namesAndExprs); i += 2 {
		nm = append(nm, namesAndExprs[i].(string))
		es = append(es, namesAndExprs[i+1].(logical.Expr))
	}
	return logical.NewProject(p, es, nm, nil)
}

// projectCols projects columns of p by name.
func projectCols(p logical.Plan, cols ...string) logical.Plan {
	var es []logical.Expr
	var nm []string
	for _, c := range cols {
		r := col(p, c)
		es = append(es, r)
		nm = append(nm, r.Name)
	}
	return logical.NewProject(p, es, nm, nil)
}

func cross(l, r logical.Plan) logical.Plan { return logical.NewJoin(l, r, logical.JoinCross, nil) }

func join(l, r logical.Plan, t logical.JoinType, on logical.Expr) *logical.Join {
	return logical.NewJoin(l, r, t, on)
}

func agg(fn string, t arrow.DataType, distinct bool, args ...logical.Expr) *logical.AggregateCall {
	return &logical.AggregateCall{Func: fn, Args: args, T: t, Distinct: distinct}
}

func sortBy(p logical.Plan, fetch int64, keys ...logical.Expr) logical.Plan {
	ks := make([]logical.SortKey, len(keys))
	for i, k := range keys {
		ks[i] = logical.SortKey{Expr: k}
	}
	return &logical.Sort{Input: p, Keys: ks, Fetch: fetch}
}

func limit(p logical.Plan, offset, count int64) logical.Plan {
	return &logical.Limit{Input: p, Offset: offset, Count: count}
}

// ruleCase is one table-driven test of a rule: the plan built by plan, once
// rewritten, must format as want.
type ruleCase struct {
	name string
	plan func() logical.Plan
	want string
}

// runRuleCases applies rule to every case, checks the result text, that
// input and output validate and that the output schema is unchanged, and
// that applying the rule again changes nothing.
func runRuleCases(t *testing.T, rule Rule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.plan()
			if err := Validate(in); err != nil {
				t.Fatalf("input plan invalid: %v\n%s", err, logical.Format(in))
			}
			out, err := rule.Apply(in)
			if err != nil {
				t.Fatalf("%s: %v", rule.Name(), err)
			}
			checkPlan(t, in, out)
			got := strings.TrimSpace(logical.Format(out))
			want := strings.TrimSpace(dedent(tc.want))
			if got != want {
				t.Errorf("%s:\ninput:\n%s\ngot:\n%s\nwant:\n%s", rule.Name(), logical.Format(in), got, want)
			}
			again, err := rule.Apply(out)
			if err != nil {
				t.Fatalf("%s second run: %v", rule.Name(), err)
			}
			if a := strings.TrimSpace(logical.Format(again)); a != got {
				t.Errorf("%s is not idempotent:\nfirst:\n%s\nsecond:\n%s", rule.Name(), got, a)
			}
		})
	}
}

// checkPlan fails when out is invalid or its output schema differs from in's.
func checkPlan(t *testing.T, in, out logical.Plan) {
	t.Helper()
	if err := Validate(out); err != nil {
		t.Fatalf("output plan invalid: %v\n%s", err, logical.Format(out))
	}
	if err := sameOutput(in.Schema(), out.Schema()); err != nil {
		t.Fatalf("output schema changed: %v\n%s", err, logical.Format(out))
	}
}

// dedent removes the common leading tabs of a raw-string plan.
func dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	minTabs := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if minTabs < 0 || n < minTabs {
			minTabs = n
		}
	}
	for i, l := range lines {
		if len(l) >= minTabs && minTabs > 0 {
			lines[i] = l[minTabs:]
		}
	}
	return strings.Join(lines, "\n")
}
