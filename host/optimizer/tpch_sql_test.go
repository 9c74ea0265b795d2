package optimizer

import (
	"fmt"
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
)

// TestTPCHQueriesFromSQL binds the 22 TPC-H queries, optimizes them and
// checks the plans: valid, same output schema, idempotent, no cross join
// between two multi-row inputs (every TPC-H join has an equi-join predicate
// except those against single-row scalar subqueries), and every inner
// equi-join has its smaller estimated input on the build (right) side.
func TestTPCHQueriesFromSQL(t *testing.T) {
	for q := 1; q <= 22; q++ {
		t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
			text, err := sqltest.TPCHQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			plans, err := sqltest.TPCH(false, true).Bind(text)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range plans {
				runRulesChecked(t, in)
				out, err := Optimize(in)
				if err != nil {
					t.Fatalf("optimize: %v\n%s", err, logical.Format(in))
				}
				checkPlan(t, in, out)
				checkJoins(t, out)
				again, err := Optimize(out)
				if err != nil {
					t.Fatalf("second optimize: %v", err)
				}
				if a, b := logical.Format(again), logical.Format(out); a != b {
					t.Errorf("not idempotent:\nfirst:\n%s\nsecond:\n%s", b, a)
				}
				if testing.Verbose() {
					t.Logf("\n%s", logical.Format(out))
				}
			}
		})
	}
}

// checkJoins fails on a join without an equi-join condition between inputs
// that may both have several rows, and on an inner equi-join whose build
// side is estimated larger than its probe side.
func checkJoins(t *testing.T, p logical.Plan) {
	t.Helper()
	est := newEstimator(p)
	var walk func(p logical.Plan)
	walk = func(p logical.Plan) {
		if j, ok := p.(*logical.Join); ok {
			nl := j.Left.Schema().Len()
			if len(equiConditions(j.On, nl)) == 0 && j.Type != logical.JoinSemi && j.Type != logical.JoinAnti {
				if !singleRow(j.Left) && !singleRow(j.Right) {
					t.Errorf("join without equi-join condition between multi-row inputs:\n%s", logical.Format(j))
				}
			}
			if j.Type == logical.JoinInner && est.rows(j.Right) > est.rows(j.Left)*1.0000001 {
				t.Errorf("build side estimated larger (%g) than probe side (%g):\n%s",
					est.rows(j.Right), est.rows(j.Left), logical.Format(j))
			}
		}
		for _, c := range p.Children() {
			walk(c)
		}
	}
	walk(p)
}

// equiConditions returns the conjuncts of on equating a left-side
// expression with a right-side one.
func equiConditions(on logical.Expr, nl int) []logical.Expr {
	var out []logical.Expr
	for _, c := range logical.SplitConjunction(on) {
		call, ok := c.(*logical.Call)
		if !ok || call.Func != "equal" || len(call.Args) != 2 {
			continue
		}
		a, b := sideOf(call.Args[0], nl), sideOf(call.Args[1], nl)
		if (a == sideLeft && b == sideRight) || (a == sideRight && b == sideLeft) {
			out = append(out, c)
		}
	}
	return out
}

// singleRow reports whether p yields at most one row by construction (an
// aggregate without group keys, possibly under row-preserving nodes).
func singleRow(p logical.Plan) bool {
	switch n := p.(type) {
	case *logical.Aggregate:
		return len(n.GroupBy) == 0
	case *logical.Project, *logical.Filter, *logical.Sort:
		return singleRow(n.Children()[0])
	case *logical.Limit:
		return n.Count == 1 || singleRow(n.Input)
	case *logical.Values:
		return len(n.Rows) <= 1
	}
	return false
}
