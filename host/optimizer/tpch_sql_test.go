package optimizer

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// sqlCatalog serves the TPC-H tables of this package's tests to the binder.
type sqlCatalog struct{ views map[string]string }

func (c *sqlCatalog) LookupTable(name string) (*logical.TableSource, bool) {
	t, ok := tpch[strings.ToLower(name)]
	return t, ok
}

func (c *sqlCatalog) LookupView(name string) (string, bool) {
	v, ok := c.views[strings.ToLower(name)]
	return v, ok
}

func (c *sqlCatalog) TableNames() []string {
	var out []string
	for k := range tpch {
		out = append(out, k)
	}
	for k := range c.views {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

const tpchQueries = "../../../shared/tpch/queries"

// bindTPCH binds every query of TPC-H query file name and returns the
// query plans (Q15 creates and drops a view around its query).
func bindTPCH(t *testing.T, name string) []logical.Plan {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(tpchQueries, name))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sql.Parse(string(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	cat := &sqlCatalog{views: map[string]string{}}
	var plans []logical.Plan
	for _, p := range parsed {
		st, err := sql.Bind(p, cat)
		if err != nil {
			t.Fatalf("bind %q: %v", p.SQL, err)
		}
		switch s := st.(type) {
		case *sql.CreateView:
			cat.views[strings.ToLower(s.Name)] = s.SQL
		case *sql.DropView:
			delete(cat.views, strings.ToLower(s.Name))
		case *sql.Query:
			plans = append(plans, s.Plan)
		}
	}
	return plans
}

// TestTPCHQueriesFromSQL binds the 22 TPC-H queries, optimizes them and
// checks the plans: valid, same output schema, idempotent, no cross join
// between two multi-row inputs (every TPC-H join has an equi-join predicate
// except those against single-row scalar subqueries), and every inner
// equi-join has its smaller estimated input on the build (right) side.
func TestTPCHQueriesFromSQL(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(tpchQueries, "q*.sql"))
	if len(files) == 0 {
		t.Skip("TPC-H queries not found at " + tpchQueries)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".sql"), func(t *testing.T) {
			for _, in := range bindTPCH(t, name) {
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
