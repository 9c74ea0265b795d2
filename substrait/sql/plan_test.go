package sql

import (
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

// planString renders a plan and its output schema.
func planString(p logical.Plan) string { return logical.Format(p) + p.Schema().String() }

// TestBindPlans checks the plans of representative queries. The plan
// strings were reviewed by hand against PostgreSQL semantics.
func TestBindPlans(t *testing.T) {
	cases := []struct{ name, sql, want string }{
		{"date interval folding", "select date '1998-12-01' - interval '90' day (3) as d, date '1996-01-01' + interval '3' month as e, date '2020-01-31' + interval '1' month as f", `
Project: DATE '1998-09-02' AS d, DATE '1996-04-01' AS e, DATE '2020-02-29' AS f
  Values: rows=1
[d:date32, e:date32, f:date32]`},
		{"decimal literals", "select l_extendedprice * (1 - l_discount) as v, l_quantity * 0.2, l_discount between 0.06 - 0.01 and 0.06 + 0.01 from lineitem", `
Project: multiply(l_extendedprice#5, subtract(1::decimal(1,0), l_discount#6)) AS v, multiply(l_quantity#4, 0.2::decimal(1,1)) AS ?column?, and(gte(l_discount#6, 0.05::decimal(15,2)), lte(l_discount#6, 0.07::decimal(15,2))) AS ?column?
  Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment]
[v:decimal(32, 4), ?column?:decimal64(17, 3), ?column?:bool]`},
		{"join using", "select * from t join u using (a)", `
Project: a#0, b#1, s#2, d#3, f#4, dt#5, c#7, s#8
  Join: type=Inner on=equal(a#0, a#6)
    Scan: t projection=[a, b, s, d, f, dt]
    Scan: u projection=[a, c, s]
[a:int64, b:int32, s:utf8, d:decimal64(15, 2), f:float64, dt:date32, c:int32, s:utf8]`},
		{"full join using", "select a, b, c from t full join u using (a)", `
Project: a#9, b#1, c#7
  Project: a#0, b#1, s#2, d#3, f#4, dt#5, a#6, c#7, s#8, coalesce(a#0, a#6) AS a
    Join: type=Full on=equal(a#0, a#6)
      Scan: t projection=[a, b, s, d, f, dt]
      Scan: u projection=[a, c, s]
[a:int64, b:int32, c:int32]`},
		{"natural join", "select * from t natural join u", `
Project: a#0, s#2, b#1, d#3, f#4, dt#5, c#7
  Join: type=Inner on=and(equal(a#0, a#6), equal(s#2, s#8))
    Scan: t projection=[a, b, s, d, f, dt]
    Scan: u projection=[a, c, s]
[a:int64, s:utf8, b:int32, d:decimal64(15, 2), f:float64, dt:date32, c:int32]`},
		{"left join on", "select t.a, u.c from t left join u on t.a = u.a and u.c > 1", `
Project: a#0, c#7
  Join: type=Left on=and(equal(a#0, a#6), gt(c#7, 1))
    Scan: t projection=[a, b, s, d, f, dt]
    Scan: u projection=[a, c, s]
[a:int64, c:int32]`},
		{"comma join", "select count(*) from t, u where t.a = u.a", `
Project: count#0
  Aggregate: groupBy=[], aggr=[count(*) AS count]
    Filter: equal(a#0, a#6)
      Join: type=Cross
        Scan: t projection=[a, b, s, d, f, dt]
        Scan: u projection=[a, c, s]
[count:int64]`},
		{"in subquery", "select a from t where a in (select a from u)", `
Project: a#0
  Join: type=Semi on=equal(a#0, a#6)
    Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0
      Scan: u projection=[a, c, s]
[a:int64]`},
		{"not in subquery", "select a from t where a not in (select a from u)", `
Project: a#0
  Join: type=Anti null_aware on=equal(a#0, a#6)
    Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0
      Scan: u projection=[a, c, s]
[a:int64]`},
		{"in under or", "select a from t where a in (select a from u) or b > 2", `
Project: a#0
  Filter: or(__mark#6, gt(b#1, 2))
    Join: type=Mark on=equal(a#0, a#6)
      Scan: t projection=[a, b, s, d, f, dt]
      Project: a#0
        Scan: u projection=[a, c, s]
[a:int64]`},
		{"exists and scalar in select", "select a, exists(select * from u where u.a = t.a) as e, (select max(c) from u where u.a = t.a) as m from t", `
Project: a#0, coalesce(__mark#6, false) AS e, max#7 AS m
  Join: type=Left on=equal(__corr_1#8, a#0)
    Join: type=Mark on=equal(__corr_1#6, a#0)
      Scan: t projection=[a, b, s, d, f, dt]
      Project: a#0 AS __corr_1
        Scan: u projection=[a, c, s]
    Project: max#1, __corr_key_1#0 AS __corr_1
      Aggregate: groupBy=[a#0], aggr=[max(c#1) AS max]
        Scan: u projection=[a, c, s]
[a:int64, e:bool, m:int32]`},
		{"count bug", "select a, (select count(*) from u where u.a = t.a) as cnt from t", `
Project: a#0, CASE WHEN is_null(__corr_1#7) THEN 0 ELSE count#6 END AS cnt
  Join: type=Left on=equal(__corr_1#7, a#0)
    Scan: t projection=[a, b, s, d, f, dt]
    Project: count#1, __corr_key_1#0 AS __corr_1
      Aggregate: groupBy=[a#0], aggr=[count(*) AS count]
        Scan: u projection=[a, c, s]
[a:int64, cnt:int64]`},
		{"correlated non-equi exists", "select a from t where exists (select * from u where u.a = t.a and u.c <> t.b) and not exists (select * from u where u.a = t.a and u.s > t.s)", `
Project: a#0
  Join: type=Anti on=and(equal(__corr_1#6, a#0), gt(__corr_2#7, s#2))
    Join: type=Semi on=and(equal(__corr_1#6, a#0), not_equal(__corr_2#7, b#1))
      Scan: t projection=[a, b, s, d, f, dt]
      Project: a#0 AS __corr_1, c#1 AS __corr_2
        Scan: u projection=[a, c, s]
    Project: a#0 AS __corr_1, s#2 AS __corr_2
      Scan: u projection=[a, c, s]
[a:int64]`},
		{"correlated scalar in where", "select a from t where d > (select avg(d) from t t2 where t2.b = t.b)", `
Project: a#0
  Filter: gt(CAST(d#3 AS decimal(19, 6)), avg#6)
    Join: type=Inner on=equal(__corr_1#7, b#1)
      Scan: t projection=[a, b, s, d, f, dt]
      Project: avg#1, __corr_key_1#0 AS __corr_1
        Aggregate: groupBy=[b#1], aggr=[avg(d#3) AS avg]
          Scan: t AS t2 projection=[a, b, s, d, f, dt]
[a:int64]`},
		{"uncorrelated scalar", "select a from t where d > (select avg(d) from t)", `
Project: a#0
  Filter: gt(CAST(d#3 AS decimal(19, 6)), avg#6)
    Join: type=Cross
      Scan: t projection=[a, b, s, d, f, dt]
      Project: avg#0
        Aggregate: groupBy=[], aggr=[avg(d#3) AS avg]
          Scan: t projection=[a, b, s, d, f, dt]
[a:int64]`},
		{"all subquery", "select a from t where a > all (select a from u)", `
Project: a#0
  Join: type=Anti on=is_not_true(gt(a#0, a#6))
    Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0
      Scan: u projection=[a, c, s]
[a:int64]`},
		{"cte twice", "with x as (select a, b from t where b > 1) select * from x join x y on x.a = y.a", `
Project: a#0, b#1, a#2, b#3
  Join: type=Inner on=equal(a#0, a#2)
    Project: a#0, b#1
      Filter: gt(b#1, 1)
        Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0, b#1
      Filter: gt(b#1, 1)
        Scan: t projection=[a, b, s, d, f, dt]
[a:int64, b:int32, a:int64, b:int32]`},
		{"union order limit", "select a, b from t union all select a, c from u order by 1 desc limit 5", `
Sort: a#0 DESC NULLS FIRST fetch=5
  Union all
    Project: a#0, b#1
      Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0, c#1 AS b
      Project: a#0, c#1
        Scan: u projection=[a, c, s]
[a:int64, b:int32]`},
		{"intersect except", "select a from t intersect select a from u except all select a from u", `
Except all
  Intersect
    Project: a#0
      Scan: t projection=[a, b, s, d, f, dt]
    Project: a#0
      Scan: u projection=[a, c, s]
  Project: a#0
    Scan: u projection=[a, c, s]
[a:int64]`},
		{"rollup grouping", "select a, b, grouping(a, b) as g, sum(d) from t group by rollup(a, b)", `
Project: a#0, b#1, add(multiply(modulus(divide(__grouping_id#3, 1), 2), 2), modulus(divide(__grouping_id#3, 2), 2)) AS g, sum#2
  Aggregate: groupBy=[a#0, b#1], aggr=[sum(d#3) AS sum], sets=[[0 1] [0] []]
    Scan: t projection=[a, b, s, d, f, dt]
[a:int64, b:int32, g:int64, sum:decimal(38, 2)]`},
		{"group by alias ordinal having", "select a as x, b + 1, count(*) from t group by x, 2 having count(*) > 1 order by 3 desc", `
Sort: count#2 DESC NULLS FIRST
  Project: x#0, ?column?#1, count#2
    Filter: gt(count#2, 1)
      Aggregate: groupBy=[a#0, add(b#1, 1)], aggr=[count(*) AS count]
        Scan: t projection=[a, b, s, d, f, dt]
[x:int64, ?column?:int32, count:int64]`},
		{"order by hidden", "select a from t order by b nulls first, s desc limit 10 offset 5", `
Project: a#0
  Limit: offset=5 count=10
    Sort: __sort_1#1 ASC NULLS FIRST, __sort_2#2 DESC NULLS FIRST fetch=15
      Project: a#0, b#1 AS __sort_1, s#2 AS __sort_2
        Scan: t projection=[a, b, s, d, f, dt]
[a:int64]`},
		{"distinct", "select distinct a, s from t order by s", `
Sort: s#1 ASC NULLS LAST
  Aggregate: groupBy=[a#0, s#1], aggr=[]
    Project: a#0, s#2
      Scan: t projection=[a, b, s, d, f, dt]
[a:int64, s:utf8]`},
		{"case cast", "select case b when 1 then 'one' else 'many' end, case when a > 1 then d else 0 end, cast(a as int), b::bigint, '2020-01-01'::date from t", `
Project: CASE WHEN equal(b#1, 1) THEN 'one' ELSE 'many' END AS case, CASE WHEN gt(a#0, 1) THEN d#3 ELSE 0.00::decimal(15,2) END AS case, CAST(a#0 AS int32) AS a, CAST(b#1 AS int64) AS b, DATE '2020-01-01' AS date
  Scan: t projection=[a, b, s, d, f, dt]
[case:utf8, case:decimal64(15, 2), a:int32, b:int64, date:date32]`},
		{"string functions", "select substring(s from 2 for 3), upper(s), length(s), trim(s), concat(s, 'x'), s || 'y', position('a' in s), replace(s, 'a', 'b'), starts_with(s, 'a'), left(s, 2), lpad(s, 5, '*') from t where s like 'a%' and s not ilike 'b%'", `
Project: substring(s#2, 2, 3) AS substring, upper(s#2) AS upper, char_length(s#2) AS length, trim(s#2) AS btrim, concat(coalesce(s#2, ''), 'x') AS concat, concat(s#2, 'y') AS ?column?, strpos(s#2, 'a') AS position, replace(s#2, 'a', 'b') AS replace, starts_with(s#2, 'a') AS starts_with, left(s#2, 2) AS left, lpad(s#2, 5, '*') AS lpad
  Filter: and(like(s#2, 'a%'), not(ilike(s#2, 'b%')))
    Scan: t projection=[a, b, s, d, f, dt]
[substring:utf8, upper:utf8, length:int64, btrim:utf8, concat:utf8, ?column?:utf8, position:int64, replace:utf8, starts_with:bool, left:utf8, lpad:utf8]`},
		{"date functions", "select extract(year from dt), date_part('month', dt), date_trunc('month', dt), dt + interval '1 day' from t", `
Project: extract(dt#5, component=YEAR) AS extract, extract(dt#5, component=MONTH) AS date_part, date_trunc(dt#5, unit=MONTH) AS date_trunc, add(dt#5, INTERVAL '0 months 1 days 0 ns') AS ?column?
  Scan: t projection=[a, b, s, d, f, dt]
[extract:int64, date_part:int64, date_trunc:date32, ?column?:date32]`},
		{"aggregates", "select count(*), count(distinct a), sum(b), avg(b), min(s), max(dt), stddev(f), var_pop(f), bool_and(b > 1), sum(d) filter (where a > 1) from t", `
Project: count#0, count#1, sum#2, avg#3, min#4, max#5, stddev_samp#6 AS stddev, var_pop#7, bool_and#8, sum#9
  Aggregate: groupBy=[], aggr=[count(*) AS count, count(DISTINCT a#0) AS count, sum(b#1) AS sum, avg(b#1) AS avg, min(s#2) AS min, max(dt#5) AS max, stddev_samp(f#4) AS stddev_samp, var_pop(f#4) AS var_pop, bool_and(gt(b#1, 1)) AS bool_and, sum(d#3) FILTER (WHERE gt(a#0, 1)) AS sum]
    Scan: t projection=[a, b, s, d, f, dt]
[count:int64, count:int64, sum:int64, avg:float64, min:utf8, max:date32, stddev:float64, var_pop:float64, bool_and:bool, sum:decimal(38, 2)]`},
		{"windows", "select a, row_number() over (partition by b order by a), rank() over w, lag(a, 2, 0) over w, sum(d) over (partition by b order by a rows between 1 preceding and current row), count(*) over () from t window w as (order by a desc)", `
Project: a#0, row_number#6, rank#7, lag#8, sum#9, count#10
  Window: row_number() OVER (PARTITION BY b#1 ORDER BY a#0 ASC NULLS LAST) AS row_number, rank() OVER (ORDER BY a#0 DESC NULLS FIRST) AS rank, lag(a#0, 2, 0) OVER (ORDER BY a#0 DESC NULLS FIRST) AS lag, sum(d#3) OVER (PARTITION BY b#1 ORDER BY a#0 ASC NULLS LAST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS sum, count() OVER () AS count
    Scan: t projection=[a, b, s, d, f, dt]
[a:int64, row_number:int64, rank:int64, lag:int64, sum:decimal(38, 2), count:int64]`},
		{"values", "select * from (values (1, 'a'), (2, null)) as v(x, y)", `
Project: column1#0 AS x, column2#1 AS y
  Values: rows=2
[x:int32, y:utf8]`},
		{"view with columns", "create view v2 (x, y) as select a, sum(d) from t group by a; select y from v2 where x = 1", `
Project: y#1
  Filter: equal(x#0, 1)
    Project: a#0 AS x, sum#1 AS y
      Project: a#0, sum#1
        Aggregate: groupBy=[a#0], aggr=[sum(d#3) AS sum]
          Scan: t projection=[a, b, s, d, f, dt]
[y:decimal(38, 2)]`},
		{"correlated select list", "select a, (select u.c + t.b from u where u.a = t.a) as v from t", `
Project: a#0, CASE WHEN is_null(__present#7) THEN NULL ELSE add(__value_1#6, b#1) END AS v
  Join: type=Single on=equal(__corr_1#8, a#0)
    Project: c#1 AS __value_1, true AS __present, a#0 AS __corr_1
[a:int64, v:int32]`},
		{"correlated select list outer only", "select (select t.b from u where u.a = t.a) from t", `
Project: CASE WHEN is_null(__present#6) THEN NULL ELSE b#1 END AS b
  Join: type=Single on=equal(__corr_1#7, a#0)
    Project: true AS __present, a#0 AS __corr_1
[b:int32]`},
		{"correlated aggregate with outer value", "select (select count(*) + t.b from u where u.a = t.a) as n from t", `
Project: CASE WHEN is_null(__corr_1#7) THEN add(0, CAST(b#1 AS int64)) ELSE add(__value_1#6, CAST(b#1 AS int64)) END AS n
  Join: type=Left on=equal(__corr_1#7, a#0)
    Project: count#1 AS __value_1, __corr_key_1#0 AS __corr_1
      Aggregate: groupBy=[a#0], aggr=[count(*) AS count]
[n:int64]`},
		{"non-equality correlated count", "select a, (select count(*) from u where u.c > t.b) as n from t", `
Project: a#0, CASE WHEN is_null(__corr_1#7) THEN 0 ELSE count#6 END AS n
  Join: type=Left on=equal(__corr_1#7, b#1)
    Project: count#1, __corr_key_1#0 AS __corr_1
      Aggregate: groupBy=[b#0], aggr=[count(__present#4) AS count]
        Join: type=Left on=gt(c#2, b#0)
          Aggregate: groupBy=[b#0], aggr=[]
            Project: b#1
          Project: a#0, c#1, s#2, true AS __present
[a:int64, n:int64]`},
		{"non-equality correlated avg in where", "select a from t where b > (select avg(c) from u where u.a = t.a and u.c <> t.b)", `
Project: a#0
  Filter: gt(CAST(b#1 AS float64), avg#6)
    Join: type=Inner on=and(equal(__corr_1#7, a#0), equal(__corr_2#8, b#1))
      Project: avg#2, __corr_key_1#0 AS __corr_1, __corr_key_2#1 AS __corr_2
        Aggregate: groupBy=[a#0, b#1], aggr=[avg(c#3) AS avg]
          Join: type=Left on=and(equal(a#2, a#0), not_equal(c#3, b#1))
            Aggregate: groupBy=[a#0, b#1], aggr=[]
              Project: a#0, b#1
            Project: a#0, c#1, s#2, true AS __present
[a:int64]`},
		{"correlated aggregate with having", "select a, (select count(*) from u where u.a = t.a having count(*) > 1) as n from t", `
Project: a#0, count#6 AS n
  Join: type=Single on=equal(__corr_1#7, a#0)
    Project: count#1, __corr_key_1#0 AS __corr_1
      Filter: gt(count#1, 1)
        Aggregate: groupBy=[a#0], aggr=[count(*) AS count]
[a:int64, n:int64]`},
		{"exists over an aggregate", "select a, exists(select count(*) from u where u.a = t.a) as e from t where not exists(select max(c) from u where u.c > t.b)", `
Project: a#0, true AS e
  Filter: false
[a:int64, e:bool]`},
		{"distinct on", "select distinct on (b) a, s from t order by b, a desc", `
Project: a#0, s#1
  Sort: __sort_1#2 ASC NULLS LAST, a#0 DESC NULLS FIRST
    Filter: equal(__distinct_on_row#3, 1)
      Window: row_number() OVER (PARTITION BY __sort_1#2 ORDER BY a#0 DESC NULLS FIRST) AS __distinct_on_row
        Project: a#0, s#2, b#1 AS __sort_1
[a:int64, s:utf8]`},
		{"distinct on without order by", "select distinct on (a, 2) a, b, s from t", `
Project: a#0, b#1, s#2
  Filter: equal(__distinct_on_row#3, 1)
    Window: row_number() OVER (PARTITION BY a#0, b#1) AS __distinct_on_row
      Project: a#0, b#1, s#2
[a:int64, b:int32, s:utf8]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sts, err := bindAll(t, tpchCatalog(), c.sql)
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			q, ok := sts[len(sts)-1].(*Query)
			if !ok {
				t.Fatalf("got %T, want *Query", sts[len(sts)-1])
			}
			checkRefs(t, q.Plan)
			got := dropScans(planString(q.Plan))
			if want := dropScans(strings.TrimPrefix(c.want, "\n")); got != want {
				t.Errorf("plan mismatch\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// dropScans removes the scans of the small tables t and u, which add
// nothing to the goldens.
func dropScans(plan string) string {
	var kept []string
	for _, l := range strings.Split(plan, "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "Scan: t ") || strings.HasPrefix(trimmed, "Scan: u ") {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}
