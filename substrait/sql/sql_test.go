package sql

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestBindErrors(t *testing.T) {
	cases := []struct {
		sql, want    string
		notSupported bool
	}{
		{sql: "select l_shipdat from lineitem", want: `column "l_shipdat" not found; did you mean "l_shipdate"? (line 1, column 8)`},
		{sql: "select * from lineitm", want: `table "lineitm" not found; did you mean "lineitem"? (line 1, column 15)`},
		{sql: "select x.a from t", want: `missing FROM-clause entry for table "x"; did you mean "t"?`},
		{sql: "select a from t, u", want: `column reference "a" is ambiguous`},
		{sql: "select a from t where sum(b) > 1", want: "aggregate functions are not allowed in WHERE"},
		{sql: "select a, count(*) from t", want: `column "a" must appear in the GROUP BY clause`},
		{sql: "select sum(count(*)) from t", want: "aggregate function calls cannot be nested"},
		{sql: "select foo(a) from t", want: "function foo does not exist"},
		{sql: "select uper(s) from t", want: `function uper does not exist; did you mean "upper"?`},
		{sql: "select a from t where b in (select a, c from u)", want: "subquery must return only one column"},
		{sql: "select 1 +", want: "syntax error at end of input (line 1, column 11)"},
		{sql: "select a\nfrom t\nwhere b = = 1", want: `syntax error at or near "=" (line 3, column 11)`},
		{sql: "select 1; select a\n from t where", want: "(line 2, column 14)"},
		{sql: "select 'abc", want: "unterminated quoted string (line 1, column 8)"},
		{sql: "select a from t where dt > 'notadate'", want: `invalid input syntax for type date: "notadate"`},
		{sql: "select a from t where s = 1", want: "cannot compare text with integer"},
		{sql: "select a from t where b = 'x'", want: `invalid input syntax for type integer: "x"`},
		{sql: "select a from t where a + s > 1", want: "operator does not exist"},
		{sql: "select a from t where b", want: "argument of WHERE must be boolean"},
		{sql: "select row_number() from t", want: "requires an OVER clause"},
		{sql: "select a from t where row_number() over () > 1", want: "window functions are not allowed in WHERE"},
		{sql: "select a from t order by 5", want: "ORDER BY position 5 is not in select list"},
		{sql: "select distinct a from t order by b", want: "ORDER BY expressions must appear in select list"},
		{sql: "select a from t union select a, c from u", want: "same number of columns"},
		{sql: "select a from t join u using (zz)", want: `column "zz" specified in USING clause does not exist`},
		{sql: "select * from (select 1) as x(a, b)", want: "1 columns available but 2 columns specified"},
		{sql: "select a from t limit -1", want: "LIMIT must not be negative"},
		{sql: "select cast(a as frob) from t", want: `type "frob" does not exist`},
		{sql: "select 1::numeric(50, 2)", want: "decimal precision 50"},
		{sql: "create external table x stored as parquet", want: "LOCATION"},
		{sql: "create external table x location 'p'", want: "STORED AS"},
		{sql: "create external table x (a frob) stored as csv location 'p'", want: `type "frob" does not exist (line 1, column 28)`},
		{sql: "describe nosuch", want: `table "nosuch" not found`},
		{sql: "select $1", want: "query parameters", notSupported: true},
		{sql: "with recursive r as (select 1) select * from r", want: "WITH RECURSIVE", notSupported: true},
		{sql: "select * from generate_series(1, 3)", want: "table functions", notSupported: true},
		{sql: "select a from t where a in (select a from u where u.c = t.b limit 1)", want: "LIMIT/OFFSET in a correlated subquery", notSupported: true},
		{sql: "select (select count(*) from u where u.c > t.b group by u.s) from t", want: "correlated subquery with GROUP BY whose correlation is not an equality of an inner and an outer expression (line 1, column 38)", notSupported: true},
		{sql: "select (select sum(u.c * t.b) from u where u.a = t.a) from t", want: `correlated reference to "b" inside an aggregate function (line 1, column 26)`, notSupported: true},
		{sql: "select (select row_number() over (order by t.b) from u where u.a = t.a) from t", want: `correlated reference to "b" inside a window function`, notSupported: true},
		{sql: "select (select c from u where u.a = t.a order by t.b) from t", want: `correlated reference to "b" in ORDER BY`, notSupported: true},
		{sql: "select (select u.c, t.b from u where u.a = t.a) from t", want: "subquery must return only one column, not 2 (line 1, column 8)"},
		{sql: "select (select t.b - u.c from u order by 1 limit 1) from t", want: "DISTINCT or ORDER BY on a subquery's select-list expression that reads the enclosing query (line 1, column 16)", notSupported: true},
		{sql: "select a from t join u on t.a in (select a from u)", want: "subqueries in JOIN conditions", notSupported: true},
		{sql: "select distinct on (a) a, b from t order by b, a", want: "SELECT DISTINCT ON expressions must match initial ORDER BY expressions (line 1, column 45)"},
		{sql: "select a from t where a in (select distinct on (c) c from u where u.a = t.a)", want: "DISTINCT ON in a correlated subquery (line 1, column 49)", notSupported: true},
		{sql: "select a, count(*) from t group by 3", want: "GROUP BY position 3 is not in select list (line 1, column 36)"},
		{sql: "select a, count(*) from t group by 2", want: "GROUP BY position 2 refers to an aggregate (line 1, column 36)"},
		{sql: "select a, b, count(*) from t group by a", want: `column "b" must appear in the GROUP BY clause or be used in an aggregate function (line 1, column 11)`},
		{sql: "select a from t group by a having sum(b) > 1 and b > 1", want: `column "b" must appear in the GROUP BY clause or be used in an aggregate function (line 1, column 35)`},
		{sql: "select a from t group by a order by b", want: `column "b" must appear in the GROUP BY clause or be used in an aggregate function (line 1, column 37)`},
		{sql: "select a from t group by zz", want: `column "zz" not found; did you mean "a" or "b" or "d"? (line 1, column 26)`},
		{sql: "create view v as select a from t; select * from t, \n  v where v.zz = 1", want: `column "v.zz" not found`},
		{sql: "select 1 union select 1, 2", want: "same number of columns (1 and 2) (line 1, column 23)"},
		{sql: "select a from t limit 'x'", want: "(line 1, column 23)"},
		{sql: "values (1), (1, 2)", want: "VALUES lists must all be the same length (line 1, column 14)"},
		{sql: "select * from lateral (select 1) x", want: "LATERAL (line 1, column 31)", notSupported: true},
		{sql: "explain (format json) select 1", want: "EXPLAIN FORMAT JSON (use TEXT, LOGICAL, PHYSICAL or SUBSTRAIT) (line 1, column 17)", notSupported: true},
		{sql: "explain (analyze, frobnicate) select 1", want: `unrecognized EXPLAIN option "frobnicate" (line 1, column 19)`},
		{sql: "explain (analyze maybe) select 1", want: "expected a boolean value"},
		{sql: "explain (analyze, analyze) select 1", want: "EXPLAIN option ANALYZE given twice"},
		{sql: "explain (costs off) select 1", want: "EXPLAIN option COSTS", notSupported: true},
		{sql: "select current_timestamp(7)", want: "timestamp precision 7"},
		{sql: "select now(1)", want: "now"},
		{sql: "create table x (a int)", want: "CREATE TABLE", notSupported: true},
		{sql: "insert into t values (1)", want: "statement InsertStmt", notSupported: true},
		{sql: "select a from t where s similar to 'x'", want: "SIMILAR TO", notSupported: true},
		{sql: "select * from t where exists (select * from u where exists (select * from u u2 where u2.a = t.a))", want: "two or more query levels", notSupported: true},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			_, err := bindAll(t, tpchCatalog(), c.sql)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if c.notSupported != errors.Is(err, ErrNotSupported) {
				t.Errorf("errors.Is(err, ErrNotSupported) = %v, want %v (%v)", !c.notSupported, c.notSupported, err)
			}
			var se *Error
			if !errors.As(err, &se) || se.Line == 0 {
				t.Errorf("error %q has no position", err)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	cat := tpchCatalog()
	sts, err := bindAll(t, cat, `
		create external table foo (x int not null, y varchar, z decimal(10,2)) stored as PARQUET
			location '/tmp/x' options ('format.compression' 'zstd', delimiter = ';');
		CREATE OR REPLACE EXTERNAL TABLE IF NOT EXISTS bar STORED AS CSV WITH HEADER ROW LOCATION 'a.csv';
		show tables;
		describe lineitem;
		describe select 1 as x;
		explain analyze verbose select count(*) from t;
		explain substrait select 1;
		explain select 1;
		set memory_limit = '4GB';
		set target_partitions to 8;
		reset target_partitions;
		create or replace view v1 as select a, b from t where b > 1;
		select * from v1;
		drop view if exists v1;
		drop table t`)
	if err != nil {
		t.Fatal(err)
	}
	cet := sts[0].(*CreateExternalTable)
	wantCols := []arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Int32},
		{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "z", Type: &arrow.Decimal64Type{Precision: 10, Scale: 2}, Nullable: true},
	}
	if cet.Name != "foo" || cet.Format != "parquet" || cet.Location != "/tmp/x" || cet.IfNotExists || cet.OrReplace {
		t.Errorf("create external table: %+v", cet)
	}
	if len(cet.Columns) != len(wantCols) {
		t.Fatalf("columns %v", cet.Columns)
	}
	for i, f := range wantCols {
		if !f.Equal(cet.Columns[i]) {
			t.Errorf("column %d: got %v, want %v", i, cet.Columns[i], f)
		}
	}
	if cet.Options["format.compression"] != "zstd" || cet.Options["delimiter"] != ";" {
		t.Errorf("options %v", cet.Options)
	}
	bar := sts[1].(*CreateExternalTable)
	if bar.Name != "bar" || bar.Format != "csv" || !bar.IfNotExists || !bar.OrReplace || len(bar.Columns) != 0 || bar.Options["has_header"] != "true" {
		t.Errorf("create external table: %+v", bar)
	}
	if _, ok := sts[2].(*ShowTables); !ok {
		t.Errorf("show tables: %T", sts[2])
	}
	if d := sts[3].(*Describe); d.Table != "lineitem" || d.Query != nil {
		t.Errorf("describe: %+v", d)
	}
	if d := sts[4].(*Describe); d.Query == nil || d.Query.Schema().Fields[0].Name != "x" {
		t.Errorf("describe query: %+v", d)
	}
	if e := sts[5].(*Explain); !e.Analyze || !e.Verbose || e.Format != "" || e.Query == nil {
		t.Errorf("explain: %+v", e)
	}
	if e := sts[6].(*Explain); e.Analyze || e.Format != "substrait" {
		t.Errorf("explain substrait: %+v", e)
	}
	if e := sts[7].(*Explain); e.Analyze || e.Verbose || e.Format != "" {
		t.Errorf("explain: %+v", e)
	}
	if s := sts[8].(*Set); s.Name != "memory_limit" || s.Value != "4GB" {
		t.Errorf("set: %+v", s)
	}
	if s := sts[9].(*Set); s.Name != "target_partitions" || s.Value != "8" {
		t.Errorf("set: %+v", s)
	}
	if s := sts[10].(*Set); s.Name != "target_partitions" || s.Value != "" {
		t.Errorf("reset: %+v", s)
	}
	if v := sts[11].(*CreateView); v.Name != "v1" || !v.OrReplace || v.SQL != "select a, b from t where b > 1" {
		t.Errorf("create view: %+v", v)
	}
	if q := sts[12].(*Query); q.Plan.Schema().Len() != 2 {
		t.Errorf("select from view: %s", planString(q.Plan))
	}
	if d := sts[13].(*DropView); d.Name != "v1" || !d.IfExists {
		t.Errorf("drop view: %+v", d)
	}
	if d := sts[14].(*DropTable); d.Name != "t" || d.IfExists {
		t.Errorf("drop table: %+v", d)
	}
	if _, ok := cat.views["v1"]; ok {
		t.Errorf("view still registered")
	}
}

func TestParseSplit(t *testing.T) {
	script := "select 'it''s;' as \"semi;colon\"; -- comment ; here\n/* block ; /* nested ; */ comment */ select $$a;b$$;;\nselect E'x\\';y'"
	ps, err := Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`select 'it''s;' as "semi;colon"`, "select $$a;b$$", `select E'x\';y'`}
	if len(ps) != len(want) {
		t.Fatalf("got %d statements, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p.SQL != want[i] {
			t.Errorf("statement %d: %q, want %q", i, p.SQL, want[i])
		}
		if _, err := Bind(p, tpchCatalog()); err != nil {
			t.Errorf("statement %d: %v", i, err)
		}
	}
	ps, err = Parse(" ; -- nothing\n")
	if err != nil || len(ps) != 0 {
		t.Errorf("empty script: %v %v", ps, err)
	}
}

func TestOutputNames(t *testing.T) {
	sts, err := bindAll(t, tpchCatalog(), `select a, t.b, a + 1, count(*) over (), sum(d) as total, cast(a as int), 1::int, date '2020-01-01',
		case when a > 0 then 1 end, coalesce(a, 0), upper(s), exists(select 1 from u), (select max(c) from u), trim(s), extract(year from dt)
		from t group by a, b, d, s, dt`)
	if err != nil {
		t.Fatal(err)
	}
	q := sts[0].(*Query)
	var got []string
	for _, f := range q.Plan.Schema().Fields {
		got = append(got, f.Name)
	}
	want := "a b ?column? count total a int4 date case coalesce upper exists max btrim extract"
	if strings.Join(got, " ") != want {
		t.Errorf("names %q, want %q", strings.Join(got, " "), want)
	}
}

func TestLiteralTypes(t *testing.T) {
	cases := []struct {
		text string
		want arrow.DataType
		str  string
	}{
		{"1", arrow.PrimitiveTypes.Int32, "1"},
		{"12345678901", arrow.PrimitiveTypes.Int64, "12345678901"},
		{"0.2", &arrow.Decimal64Type{Precision: 1, Scale: 1}, "0.2::decimal(1,1)"},
		{"0.00", &arrow.Decimal64Type{Precision: 2, Scale: 2}, "0.00::decimal(2,2)"},
		{"123.450", &arrow.Decimal64Type{Precision: 6, Scale: 3}, "123.450::decimal(6,3)"},
		{"123456789012345678901234", &arrow.Decimal128Type{Precision: 24, Scale: 0}, "123456789012345678901234"},
		{"1e3", arrow.PrimitiveTypes.Float64, "1000"},
	}
	for _, c := range cases {
		l, err := numericLiteral(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if !arrow.TypeEqual(l.T, c.want) || l.String() != c.str {
			t.Errorf("%s: got %s %s, want %s %s", c.text, l.T, l, c.want, c.str)
		}
	}
}

func TestIntervals(t *testing.T) {
	cases := []struct {
		s    string
		mask int32
		want arrow.MonthDayNanoInterval
	}{
		{"90", maskDay, arrow.MonthDayNanoInterval{Days: 90}},
		{"3", maskMonth, arrow.MonthDayNanoInterval{Months: 3}},
		{"1", maskYear, arrow.MonthDayNanoInterval{Months: 12}},
		{"2 days 3 hours", 0, arrow.MonthDayNanoInterval{Days: 2, Nanoseconds: 3 * 3600e9}},
		{"1 year 2 mons", 0, arrow.MonthDayNanoInterval{Months: 14}},
		{"01:30:00", 0, arrow.MonthDayNanoInterval{Nanoseconds: 90 * 60e9}},
	}
	for _, c := range cases {
		got, err := parseInterval(c.s, c.mask)
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v %v, want %+v", c.s, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x days", "1 fortnight", "1.5 months"} {
		if _, err := parseInterval(bad, 0); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestNullAwareAndJoinTypes checks decorrelation details that the plan
// strings show only indirectly.
func TestDecorrelation(t *testing.T) {
	bind := func(sql string) logical.Plan {
		t.Helper()
		sts, err := bindAll(t, tpchCatalog(), sql)
		if err != nil {
			t.Fatal(err)
		}
		checkRefs(t, sts[0].(*Query).Plan)
		return sts[0].(*Query).Plan
	}
	joins := func(p logical.Plan) []*logical.Join {
		var out []*logical.Join
		var walk func(logical.Plan)
		walk = func(p logical.Plan) {
			if j, ok := p.(*logical.Join); ok {
				out = append(out, j)
			}
			for _, c := range p.Children() {
				walk(c)
			}
		}
		walk(p)
		return out
	}
	// NOT IN under OR: a mark join negated, not a null-aware anti join.
	p := bind("select a from t where a not in (select a from u) or b = 1")
	if j := joins(p); len(j) != 1 || j[0].Type != logical.JoinMark {
		t.Errorf("NOT IN under OR:\n%s", logical.Format(p))
	}
	if !strings.Contains(logical.Format(p), "or(not(__mark#6)") {
		t.Errorf("NOT IN under OR:\n%s", logical.Format(p))
	}
	// <> ALL is NOT IN.
	p = bind("select a from t where a <> all (select a from u)")
	if j := joins(p); len(j) != 1 || j[0].Type != logical.JoinAnti || !j[0].NullAware {
		t.Errorf("<> ALL:\n%s", logical.Format(p))
	}
	// A correlated scalar subquery that is not an aggregate: single join.
	p = bind("select (select c from u where u.a = t.a) from t")
	if j := joins(p); len(j) != 1 || j[0].Type != logical.JoinSingle {
		t.Errorf("scalar subquery:\n%s", logical.Format(p))
	}
	// Correlated count in WHERE keeps the left join (COUNT bug).
	p = bind("select a from t where b = (select count(*) from u where u.a = t.a)")
	if j := joins(p); len(j) != 1 || j[0].Type != logical.JoinLeft {
		t.Errorf("count bug:\n%s", logical.Format(p))
	}
	// Subqueries in HAVING see the aggregate's output.
	p = bind("select b, sum(d) from t group by b having sum(d) > (select avg(d) from t t2 where t2.b = t.b)")
	if !strings.Contains(logical.Format(p), "Join: type=Inner on=equal(__corr_1#3, b#0)") {
		t.Errorf("having subquery:\n%s", logical.Format(p))
	}
	// Outer columns used by a subquery must be grouped.
	if _, err := bindAll(t, tpchCatalog(), "select b, (select max(c) from u where u.a = t.a) from t group by b"); err == nil ||
		!strings.Contains(err.Error(), `ungrouped column "a"`) {
		t.Errorf("ungrouped outer column: %v", err)
	}
}

// TestTPCH binds the 22 TPC-H queries (with Q15's view) and checks their
// output columns.
func TestTPCH(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/tpch/queries/q*.sql")
	if len(files) == 0 {
		t.Skip("TPC-H queries not present")
	}
	if len(files) != 22 {
		t.Fatalf("found %d TPC-H queries", len(files))
	}
	wantCols := map[string]string{
		"q01.sql": "l_returnflag l_linestatus sum_qty sum_base_price sum_disc_price sum_charge avg_qty avg_price avg_disc count_order",
		"q02.sql": "s_acctbal s_name n_name p_partkey p_mfgr s_address s_phone s_comment",
		"q13.sql": "c_count custdist",
		"q15.sql": "s_suppkey s_name s_address s_phone total_revenue",
		"q18.sql": "c_name c_custkey o_orderkey o_orderdate o_totalprice sum",
		"q22.sql": "cntrycode numcust totacctbal",
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cat := tpchCatalog()
			sts, err := bindAll(t, cat, string(text))
			if err != nil {
				t.Fatal(err)
			}
			var q *Query
			for _, st := range sts {
				if x, ok := st.(*Query); ok {
					q = x
				}
			}
			if q == nil {
				t.Fatal("no query")
			}
			if want, ok := wantCols[name]; ok {
				var got []string
				for _, f := range q.Plan.Schema().Fields {
					got = append(got, f.Name)
				}
				if strings.Join(got, " ") != want {
					t.Errorf("columns %q, want %q", strings.Join(got, " "), want)
				}
			}
			// No binder-internal expression may leak into the plan.
			checkPlan(t, q.Plan)
			checkRefs(t, q.Plan)
			if name == "q15.sql" && len(cat.views) != 0 {
				t.Errorf("view revenue0 not dropped")
			}
		})
	}
}

// checkPlan verifies that every expression of p is a logical expression
// whose column references are within the input schema.
func checkPlan(t *testing.T, p logical.Plan) {
	t.Helper()
	var inWidth int
	for _, c := range p.Children() {
		inWidth += c.Schema().Len()
	}
	check := func(e logical.Expr) {
		walk(e, func(n logical.Expr) bool {
			switch x := n.(type) {
			case *outerRef, *subqueryExpr, *groupingExpr:
				t.Errorf("binder expression %s left in plan node %s", n, p)
			case *logical.ColumnRef:
				if x.Index < 0 || x.Index >= inWidth {
					t.Errorf("column %s out of range %d in %s", x, inWidth, p)
				}
			}
			return true
		})
	}
	switch n := p.(type) {
	case *logical.Filter:
		check(n.Cond)
	case *logical.Project:
		for _, e := range n.Exprs {
			check(e)
		}
	case *logical.Aggregate:
		for _, e := range n.GroupBy {
			check(e)
		}
		for _, a := range n.Aggs {
			check(a)
		}
	case *logical.Join:
		if n.On != nil {
			check(n.On)
		}
	case *logical.Sort:
		for _, k := range n.Keys {
			check(k.Expr)
		}
	case *logical.Window:
		for _, w := range n.Funcs {
			check(w)
		}
	}
	for _, c := range p.Children() {
		checkPlan(t, c)
	}
}

// FuzzParseBind feeds arbitrary SQL text through Parse and Bind: errors
// are fine, panics are not.
func FuzzParseBind(f *testing.F) {
	seeds := []string{
		"select 1", "select a, sum(d) from t group by rollup(a, b) having count(*) > 1 order by 2 desc limit 3",
		"select * from t where a in (select a from u where u.c = t.b) or exists (select 1)",
		"select date '1998-12-01' - interval '90' day (3)", "create external table x (a int) stored as csv location 'p' options (a 'b')",
		"explain analyze select 1", "describe t", "with x as (select 1) select * from x, x y", "select 'unterminated",
		"select (select count(*) from u where u.a = t.a) from t", "values (1), (2) union select a from t",
		"select row_number() over (partition by a order by b rows between 1 preceding and 1 following) from t",
		"/* nested /* comment */ */ select $$x$$;;", "select a from t natural full join u",
		"explain (analyze, format substrait) select 1", "select distinct on (b) a from t order by b, a desc",
		"select (select u.c + t.b from u where u.a = t.a) from t", "select (select count(*) from u where u.c > t.b) from t",
		"select now(), current_timestamp(2), current_date",
	}
	files, _ := filepath.Glob("../../../shared/tpch/queries/q*.sql")
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		ps, err := Parse(sql)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("parse %q: %v", sql, err)
			}
			return
		}
		cat := tpchCatalog()
		for _, p := range ps {
			st, err := Bind(p, cat)
			if err != nil {
				if strings.Contains(err.Error(), "internal error") {
					t.Fatalf("bind %q: %v", p.SQL, err)
				}
				continue
			}
			cat.apply(st)
		}
	})
}

// TestViewErrors checks that an error in a view's body names the view and
// gives both the place in the view's definition and the place of the
// reference in the statement.
func TestViewErrors(t *testing.T) {
	cat := tpchCatalog()
	cat.views["v"] = "select a,\n  zz from t"
	cat.views["w"] = "select * from v"
	cat.views["n"] = "select distinct on (a) a from t order by b"
	cases := []struct{ sql, want string }{
		{"select * from\n  v", `in view "v" (line 2, column 3 of its definition): column "zz" not found; did you mean "a" or "b" or "d"? (line 2, column 3)`},
		{"select 1 from t, w", `in view "w" (line 1, column 15 of its definition): in view "v" (line 2, column 3 of its definition): column "zz" not found; did you mean "a" or "b" or "d"? (line 1, column 18)`},
		{"select * from n", `in view "n" (line 1, column 42 of its definition): SELECT DISTINCT ON expressions must match initial ORDER BY expressions (line 1, column 15)`},
	}
	for _, c := range cases {
		_, err := bindAll(t, cat, c.sql)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v\nwant %s", c.sql, err, c.want)
		}
	}
}

// TestStatementTime checks now(), current_timestamp, localtimestamp and
// current_date: constants of the statement's time (UTC), the same instant
// everywhere in the statement, views included.
func TestStatementTime(t *testing.T) {
	calls := 0
	old := clock
	clock = func() time.Time {
		calls++
		// 23:59:59.987654 in UTC+2 is 21:59:59.987654 UTC.
		return time.Date(2024, 2, 29, 23, 59, 59, 987654321, time.FixedZone("", 2*3600))
	}
	defer func() { clock = old }()
	cat := tpchCatalog()
	cat.views["vt"] = "select now() as n, current_date as d"
	sts, err := bindAll(t, cat, "select now(), current_timestamp, localtimestamp, current_timestamp(0), current_timestamp(2), current_date, "+
		"transaction_timestamp(), n, d from vt")
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("clock read %d times, want once per statement", calls)
	}
	p := sts[0].(*Query).Plan
	checkRefs(t, p)
	want := "Project: TIMESTAMP '2024-02-29 21:59:59.987654' AS now, TIMESTAMP '2024-02-29 21:59:59.987654' AS current_timestamp, " +
		"TIMESTAMP '2024-02-29 21:59:59.987654' AS localtimestamp, TIMESTAMP '2024-02-29 21:59:59' AS current_timestamp, " +
		"TIMESTAMP '2024-02-29 21:59:59.98' AS current_timestamp, DATE '2024-02-29' AS current_date, " +
		"TIMESTAMP '2024-02-29 21:59:59.987654' AS transaction_timestamp, n#0, d#1"
	if got := strings.Split(logical.Format(p), "\n")[0]; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !strings.Contains(logical.Format(p), "Project: TIMESTAMP '2024-02-29 21:59:59.987654' AS n, DATE '2024-02-29' AS d") {
		t.Errorf("view does not see the statement time:\n%s", logical.Format(p))
	}
	for i, typ := range []arrow.DataType{logical.TimestampUs, logical.TimestampUs, logical.TimestampUs, logical.TimestampUs, logical.TimestampUs, logical.Date32} {
		if f := p.Schema().Fields[i]; !arrow.TypeEqual(f.Type, typ) || f.Nullable {
			t.Errorf("column %d: %s nullable=%v, want %s not null", i, f.Type, f.Nullable, typ)
		}
	}
}

// TestExplainOptions checks both EXPLAIN forms.
func TestExplainOptions(t *testing.T) {
	cases := []struct {
		sql              string
		analyze, verbose bool
		format           string
	}{
		{"explain (analyze, format substrait) select 1", true, false, "substrait"},
		{"explain (ANALYZE true, VERBOSE on, FORMAT 'physical') select 1", true, true, "physical"},
		{"explain (analyze off, format text) (select 1)", false, false, ""},
		{"explain (verbose) with x as (select 1) select * from x", false, true, ""},
		{"explain (format logical, analyse 1) values (1)", true, false, "logical"},
		{"explain analyze verbose logical select 1", true, true, "logical"},
		{"explain (select 1)", false, false, ""},
	}
	for _, c := range cases {
		sts, err := bindAll(t, tpchCatalog(), c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		e, ok := sts[0].(*Explain)
		if !ok || e.Analyze != c.analyze || e.Verbose != c.verbose || e.Format != c.format || e.Query == nil {
			t.Errorf("%s: got %+v", c.sql, sts[0])
		}
	}
}
