package optimizer

import (
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

// pushed applies predicate pushdown, giving the join trees ReorderJoins
// works on.
func pushed(p logical.Plan) logical.Plan { return pushFilters(p, nil) }

func TestReorderJoins(t *testing.T) {
	runRuleCases(t, ReorderJoins{}, []ruleCase{
		{
			name: "smaller input becomes the build side",
			plan: func() logical.Plan {
				n, li := scan("nation"), scan("supplier")
				return join(n, li, logical.JoinInner, eq(jcol(n, li, "n_nationkey"), jcol(n, li, "s_nationkey")))
			},
			want: `
				Project: n_nationkey#7, n_name#8, n_regionkey#9, n_comment#10, s_suppkey#0, s_name#1, s_address#2, s_nationkey#3, s_phone#4, s_acctbal#5, s_comment#6
				  Join: type=Inner on=equal(s_nationkey#3, n_nationkey#7)
				    Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment]
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "no cross join where the FROM order would need one",
			plan: func() logical.Plan {
				// region, customer, nation: region and customer share no condition.
				f := where(crossAll(scan("region"), scan("customer"), scan("nation")),
					colEq("c_nationkey", "n_nationkey"), colEq("n_regionkey", "r_regionkey"))
				return pushed(f)
			},
			want: `
				Project: r_regionkey#12, r_name#13, r_comment#14, c_custkey#0, c_name#1, c_address#2, c_nationkey#3, c_phone#4, c_acctbal#5, c_mktsegment#6, c_comment#7, n_nationkey#8, n_name#9, n_regionkey#10, n_comment#11
				  Join: type=Inner on=equal(c_nationkey#3, n_nationkey#8)
				    Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				    Join: type=Inner on=equal(n_regionkey#2, r_regionkey#4)
				      Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				      Scan: region projection=[r_regionkey, r_name, r_comment]`,
		},
		{
			name: "disconnected inputs are cross joined last, smallest first",
			plan: func() logical.Plan {
				f := where(crossAll(scan("region"), scan("orders"), scan("customer")), colEq("c_custkey", "o_custkey"))
				return pushed(f)
			},
			want: `
				Project: r_regionkey#17, r_name#18, r_comment#19, o_orderkey#0, o_custkey#1, o_orderstatus#2, o_totalprice#3, o_orderdate#4, o_orderpriority#5, o_clerk#6, o_shippriority#7, o_comment#8, c_custkey#9, c_name#10, c_address#11, c_nationkey#12, c_phone#13, c_acctbal#14, c_mktsegment#15, c_comment#16
				  Join: type=Cross
				    Join: type=Inner on=equal(o_custkey#1, c_custkey#9)
				      Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				      Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				    Scan: region projection=[r_regionkey, r_name, r_comment]`,
		},
	})
}

// TestReorderJoinsTPCH checks the join trees chosen for hand-built TPC-H
// plans after the whole optimizer ran.
func TestReorderJoinsTPCH(t *testing.T) {
	cases := []struct {
		name string
		plan func() logical.Plan
		// probeOf lists "probe > build" table pairs: some join must have
		// the probe table on its left and the build table on its right.
		probeOf []string
	}{
		{"q3", q3, []string{"lineitem > orders", "orders > customer"}},
		{"q5", q5, []string{"lineitem > orders", "nation > region", "supplier > nation"}},
		{"q8", q8, []string{"lineitem > orders", "lineitem > part", "customer > nation"}},
		{"q9", q9, []string{"lineitem > part", "lineitem > partsupp", "supplier > nation"}},
		{"q21", q21, []string{"lineitem > supplier", "supplier > nation"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.plan()
			out, err := Optimize(in)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, in, out)
			checkJoins(t, out)
			for _, rel := range tc.probeOf {
				probe, build, _ := strings.Cut(rel, " > ")
				if !probesAgainst(out, probe, build) {
					t.Errorf("want %s on the probe side of the join with %s:\n%s", probe, build, logical.Format(out))
				}
			}
		})
	}
}

// probesAgainst reports whether some join has a scan of probe in its left
// input and a scan of build in its right input.
func probesAgainst(p logical.Plan, probe, build string) bool {
	if j, ok := p.(*logical.Join); ok && hasScan(j.Left, probe) && hasScan(j.Right, build) && !hasScan(j.Right, probe) {
		return true
	}
	for _, c := range p.Children() {
		if probesAgainst(c, probe, build) {
			return true
		}
	}
	return false
}

func hasScan(p logical.Plan, table string) bool {
	if s, ok := p.(*logical.Scan); ok {
		return s.Source.Name == table
	}
	for _, c := range p.Children() {
		if hasScan(c, table) {
			return true
		}
	}
	return false
}

func TestChooseJoinSides(t *testing.T) {
	runRuleCases(t, ChooseJoinSides{}, []ruleCase{
		{
			name: "left join with the larger right input becomes a right join",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				return join(c, o, logical.JoinLeft, eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")))
			},
			want: `
				Project: c_custkey#9, c_name#10, c_address#11, c_nationkey#12, c_phone#13, c_acctbal#14, c_mktsegment#15, c_comment#16, o_orderkey#0, o_custkey#1, o_orderstatus#2, o_totalprice#3, o_orderdate#4, o_orderpriority#5, o_clerk#6, o_shippriority#7, o_comment#8
				  Join: type=Right on=equal(o_custkey#1, c_custkey#9)
				    Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				    Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]`,
		},
		{
			name: "left join with the smaller right input stays",
			plan: func() logical.Plan {
				o, c := scan("orders"), scan("customer")
				return join(o, c, logical.JoinLeft, eq(jcol(o, c, "c_custkey"), jcol(o, c, "o_custkey")))
			},
			want: `
				Join: type=Left on=equal(c_custkey#9, o_custkey#1)
				  Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				  Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]`,
		},
		{
			name: "semi join keeps its sides",
			plan: func() logical.Plan {
				n, s := scan("nation"), scan("supplier")
				return join(n, s, logical.JoinSemi, eq(jcol(n, s, "n_nationkey"), jcol(n, s, "s_nationkey")))
			},
			want: `
				Join: type=Semi on=equal(n_nationkey#0, s_nationkey#7)
				  Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				  Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment]`,
		},
	})
}

func TestPushDownSemiJoin(t *testing.T) {
	runRuleCases(t, PushDownSemiJoin{}, []ruleCase{
		{
			name: "semi join over orders' columns moves below the join with lineitem",
			plan: func() logical.Plan {
				o, li := scan("orders"), scan("lineitem")
				j := join(li, o, logical.JoinInner, eq(jcol(li, o, "l_orderkey"), jcol(li, o, "o_orderkey")))
				n := scan("nation")
				return join(j, n, logical.JoinSemi, eq(jcol(j, n, "o_custkey"), jcol(j, n, "n_nationkey")))
			},
			want: `
				Join: type=Inner on=equal(l_orderkey#0, o_orderkey#16)
				  Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment]
				  Join: type=Semi on=equal(o_custkey#1, n_nationkey#9)
				    Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "not into an input larger than the join",
			plan: func() logical.Plan {
				s, n := scan("supplier"), scan("nation")
				nf := filter(n, eq(col(n, "n_name"), str("X")))
				j := join(s, nf, logical.JoinInner, eq(jcol(s, nf, "s_nationkey"), jcol(s, nf, "n_nationkey")))
				ps := scan("partsupp")
				return join(j, ps, logical.JoinAnti, eq(jcol(j, ps, "s_suppkey"), jcol(j, ps, "ps_suppkey")))
			},
			want: `
				Join: type=Anti on=equal(s_suppkey#0, ps_suppkey#12)
				  Join: type=Inner on=equal(s_nationkey#3, n_nationkey#7)
				    Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment]
				    Filter: equal(n_name#1, 'X')
				      Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				  Scan: partsupp projection=[ps_partkey, ps_suppkey, ps_availqty, ps_supplycost, ps_comment]`,
		},
	})
}
