package optimizer

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// runRulesChecked applies DefaultRules one at a time (twice over, as
// Optimize may), validating the plan and its output schema after each.
func runRulesChecked(t *testing.T, in logical.Plan) {
	t.Helper()
	p := RepairNullability(in)
	for pass := 0; pass < 2; pass++ {
		for _, r := range DefaultRules() {
			q, err := r.Apply(p)
			if err != nil {
				t.Fatalf("%s: %v", r.Name(), err)
			}
			if err := Validate(q); err != nil {
				t.Fatalf("after %s: %v\nbefore:\n%s\nafter:\n%s", r.Name(), err, logical.Format(p), logical.Format(q))
			}
			if err := sameOutput(in.Schema(), q.Schema()); err != nil {
				t.Fatalf("after %s: output schema changed: %v", r.Name(), err)
			}
			p = q
		}
	}
}

func TestEveryRuleKeepsHandBuiltPlansValid(t *testing.T) {
	for name, q := range map[string]func() logical.Plan{"q3": q3, "q5": q5, "q8": q8, "q9": q9, "q13": q13, "q21": q21} {
		t.Run(name, func(t *testing.T) {
			runRulesChecked(t, q())
			out, err := Optimize(q())
			if err != nil {
				t.Fatal(err)
			}
			again, err := Optimize(out)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := logical.Format(again), logical.Format(out); a != b {
				t.Errorf("Optimize is not idempotent:\nfirst:\n%s\nsecond:\n%s", b, a)
			}
		})
	}
}

func TestOptimizeRejectsInvalidPlans(t *testing.T) {
	n := scan("nation")
	cases := map[string]logical.Plan{
		"nil plan":            nil,
		"column out of range": filter(n, eq(&logical.ColumnRef{Index: 9, Name: "x", T: tInt64}, i64(1))),
		"wrong column type":   filter(n, eq(&logical.ColumnRef{Index: 1, Name: "n_name", T: tInt64}, i64(1))),
		"non-boolean filter":  filter(n, col(n, "n_nationkey")),
		"join condition out of range": join(n, scan("region"), logical.JoinInner,
			eq(&logical.ColumnRef{Index: 40, Name: "x", T: tInt64}, i64(1))),
		"union of different types": &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{
			projectCols(n, "n_name"), projectCols(scan("region"), "r_regionkey")}},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Optimize(p)
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("Optimize error = %v, want ErrInvalidPlan", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	n := scan("nation")
	nullable := logical.NewJoin(scan("region"), n, logical.JoinLeft,
		eq(jcol(scan("region"), n, "r_regionkey"), jcol(scan("region"), n, "n_regionkey")))
	cases := []struct {
		name string
		plan logical.Plan
		want string // substring of the error; "" for valid
	}{
		{"valid", filter(n, gt(col(n, "n_nationkey"), i64(1))), ""},
		{"project type mismatch", &logical.Project{Input: n, Exprs: []logical.Expr{col(n, "n_name")}, Names: []string{"x"}}, "schema"},
		{"non-null reference to a nullable column",
			filter(nullable, call("is_null", logical.Bool, &logical.ColumnRef{Index: 3, Name: "n_nationkey", T: tInt64})),
			"marked non-null"},
		{"aggregate call outside an aggregate", filter(n, agg("count", tInt64, false)), "outside its node"},
		{"filter over a scan's schema", logical.NewScan(tpch["region"], "", []int{1}).WithProjection([]int{1},
			[]logical.Expr{eq(&logical.ColumnRef{Index: 1, Name: "r_name", T: tStr}, str("x"))}), "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.plan)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRepairNullability(t *testing.T) {
	r, n := scan("region"), scan("nation")
	j := logical.NewJoin(r, n, logical.JoinLeft, eq(jcol(r, n, "r_regionkey"), jcol(r, n, "n_regionkey")))
	// A binder bug: the reference claims n_nationkey cannot be NULL.
	bad := &logical.ColumnRef{Index: 3, Name: "n_nationkey", T: tInt64}
	p := project(filter(j, call("is_null", logical.Bool, bad)), "k", call("add", tInt64, bad, i64(1)))
	if Validate(p) == nil {
		t.Fatal("want the unrepaired plan to fail validation")
	}
	out, err := Optimize(p)
	if err != nil {
		t.Fatal(err)
	}
	// The IS NULL test must survive (folding it to false would be wrong).
	if !strings.Contains(logical.Format(out), "is_null(") {
		t.Fatalf("is_null was folded away:\n%s", logical.Format(out))
	}
	if !out.Schema().Fields[0].Nullable {
		t.Fatalf("k must be nullable after repair")
	}
}

func TestEstimate(t *testing.T) {
	li, o, c := scan("lineitem"), scan("orders"), scan("customer")
	unknown := logical.NewScan(&logical.TableSource{Name: "t", Schema: arrow.NewSchema(
		[]arrow.Field{{Name: "a", Type: tInt64}}, nil), RowCount: -1}, "", nil)
	fk := join(li, o, logical.JoinInner, eq(jcol(li, o, "l_orderkey"), jcol(li, o, "o_orderkey")))
	of := filter(o, eq(col(o, "o_orderstatus"), str("F")))
	fkFiltered := join(li, of, logical.JoinInner, eq(jcol(li, of, "l_orderkey"), jcol(li, of, "o_orderkey")))
	ps := scan("partsupp")
	composite := join(li, ps, logical.JoinInner, and(eq(jcol(li, ps, "l_partkey"), jcol(li, ps, "ps_partkey")),
		eq(jcol(li, ps, "l_suppkey"), jcol(li, ps, "ps_suppkey"))))
	grouped := logical.NewAggregate(li, []logical.Expr{col(li, "l_orderkey")}, []string{"k"}, nil, nil, nil)
	cases := []struct {
		name     string
		plan     logical.Plan
		min, max float64
	}{
		{"scan", c, 150000, 150000},
		{"unknown row count is large", unknown, UnknownRowCount, UnknownRowCount},
		{"equality filter", of, 150000, 150000},
		{"range filter", filter(c, gt(col(c, "c_acctbal"), dec("0", 15, 2))), 45000, 45000},
		{"primary key equality", filter(c, eq(col(c, "c_custkey"), i64(7))), 1, 1},
		{"foreign key join keeps the fact side", fk, 6001215, 6001215},
		{"filtered dimension scales the fact side", fkFiltered, 600121, 600122},
		{"composite key of a link table", composite, 6001214, 6001216},
		{"group by a column without statistics: a tenth of the rows", grouped, 600121, 600122},
		{"global aggregate", logical.NewAggregate(li, nil, nil, nil, nil, nil), 1, 1},
		{"limit", limit(li, 0, 10), 10, 10},
		{"semi join", join(c, o, logical.JoinSemi, eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey"))), 150000, 150000},
		{"cross join", cross(scan("nation"), scan("region")), 125, 125},
	}
	// With orders in the plan, l_orderkey has as many values as orders rows.
	if got := newEstimator(cross(grouped, o)).rows(grouped); got != 1500000 {
		t.Errorf("group by a foreign key: %g rows, want 1500000", got)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Estimate(tc.plan)
			if got < tc.min || got > tc.max {
				t.Fatalf("Estimate = %g, want in [%g, %g]", got, tc.min, tc.max)
			}
		})
	}
}
