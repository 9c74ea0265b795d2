package stages

import (
	"errors"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

var cfg4 = Config{Partitions: 4, BroadcastRows: 1000}

// stageOf returns the stage whose plan holds node n.
func stageOf(job *Job, n logical.Plan) int {
	for _, s := range job.Stages {
		found := false
		var walk func(p logical.Plan)
		walk = func(p logical.Plan) {
			found = found || p == n
			for _, c := range p.Children() {
				walk(c)
			}
		}
		walk(s.Plan)
		if found {
			return s.ID
		}
	}
	return -1
}

func joinsOf(job *Job, t logical.JoinType) []*logical.Join {
	all, _ := nodes[*logical.Join](job)
	var out []*logical.Join
	for _, j := range all {
		if j.Type == t {
			out = append(out, j)
		}
	}
	return out
}

// readKind is the kind of the stage a ShuffleRead reads.
func readKind(job *Job, r *logical.ShuffleRead) logical.ShuffleKind {
	return job.Stages[r.Stage].Plan.Kind
}

// sideRead returns the ShuffleRead under p through Projects, nil if p is
// not such a read.
func sideRead(p logical.Plan) *logical.ShuffleRead {
	for {
		switch n := p.(type) {
		case *logical.ShuffleRead:
			return n
		case *logical.Project:
			p = n.Input
		default:
			return nil
		}
	}
}

func TestBroadcastChoice(t *testing.T) {
	const q = "select big.v, small.name from big join small on big.k = small.k"
	// small (100 rows) fits under 1000 rows: broadcast into big's stage.
	_, job := planSQL(t, testCatalog(), q, cfg4)
	joins := joinsOf(job, logical.JoinInner)
	if len(joins) != 1 {
		t.Fatalf("%d inner joins\n%s", len(joins), job)
	}
	r := sideRead(joins[0].Right)
	if r == nil || readKind(job, r) != logical.ShuffleBroadcast {
		t.Fatalf("right side is not a broadcast read\n%s", job)
	}
	if _, ok := joins[0].Left.(*logical.Scan); !ok {
		t.Fatalf("left side moved out of the scan's stage\n%s", job)
	}
	if len(job.Stages) != 2 || job.Final().Tasks != 4 {
		t.Fatalf("want 2 stages, the join in a 4-task final stage\n%s", job)
	}

	// Above the threshold: both sides hash partitioned on the key.
	_, job = planSQL(t, testCatalog(), q, Config{Partitions: 4, BroadcastRows: 10})
	joins = joinsOf(job, logical.JoinInner)
	for _, side := range []logical.Plan{joins[0].Left, joins[0].Right} {
		r := sideRead(side)
		if r == nil || readKind(job, r) != logical.ShuffleHash {
			t.Fatalf("join side is not a hash read\n%s", job)
		}
		w := job.Stages[r.Stage].Plan
		if len(w.Keys) != 1 || w.Schema().Fields[w.Keys[0]].Name != "k" || w.Partitions != 4 {
			t.Fatalf("stage %d does not hash on k into 4 partitions\n%s", r.Stage, job)
		}
	}
	if got := writes(job); got[logical.ShuffleHash] != 2 || got[logical.ShuffleBroadcast] != 0 {
		t.Fatalf("writes %v\n%s", got, job)
	}
}

func TestFullJoinNeverBroadcast(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select big.v, small.name from big full join small on big.k = small.k",
		Config{Partitions: 4, BroadcastRows: 1 << 40})
	if got := writes(job); got[logical.ShuffleBroadcast] != 0 || got[logical.ShuffleHash] != 2 {
		t.Fatalf("writes %v, want two hash exchanges\n%s", got, job)
	}
	// Without an equality key there is no partitioning: gather both sides.
	_, job = planSQL(t, testCatalog(), "select big.v, small.name from big full join small on big.k < small.k",
		Config{Partitions: 4, BroadcastRows: 1 << 40})
	j := joinsOf(job, logical.JoinFull)[0]
	if job.Stages[stageOf(job, j)].Tasks != 1 || writes(job)[logical.ShuffleBroadcast] != 0 {
		t.Fatalf("full join without keys is not gathered into one task\n%s", job)
	}
}

func TestCrossJoinBroadcasts(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select big.v, small.name from big, small where big.k < small.k", Config{Partitions: 4})
	joins, _ := nodes[*logical.Join](job)
	if len(joins) != 1 {
		t.Fatalf("%d joins\n%s", len(joins), job)
	}
	if r := sideRead(joins[0].Right); r == nil || readKind(job, r) != logical.ShuffleBroadcast {
		t.Fatalf("the right side of a keyless join is not broadcast\n%s", job)
	}
}

func TestNullAwareAntiAndMarkBroadcast(t *testing.T) {
	// BroadcastRows 0 would partition, but NOT IN needs all right rows.
	_, job := planSQL(t, testCatalog(), "select k from big where k not in (select k from big2)", Config{Partitions: 4})
	anti := joinsOf(job, logical.JoinAnti)
	if len(anti) != 1 || !anti[0].NullAware {
		t.Fatalf("want one null-aware anti join\n%s", job)
	}
	if r := sideRead(anti[0].Right); r == nil || readKind(job, r) != logical.ShuffleBroadcast {
		t.Fatalf("null-aware anti join does not broadcast its right side\n%s", job)
	}
	_, job = planSQL(t, testCatalog(), "select k, k in (select k from big2) or v > 3 from big", Config{Partitions: 4})
	mark := joinsOf(job, logical.JoinMark)
	if len(mark) != 1 {
		t.Fatalf("want one mark join\n%s", job)
	}
	if r := sideRead(mark[0].Right); r == nil || readKind(job, r) != logical.ShuffleBroadcast {
		t.Fatalf("mark join does not broadcast its right side\n%s", job)
	}
}

func TestPartitionedInputSkipsExchange(t *testing.T) {
	cfg := Config{Partitions: 4}
	// The join partitions on k; the aggregate by k runs in the join's
	// stage without a partial phase.
	_, job := planSQL(t, testCatalog(),
		"select big.k, count(*) from big join big2 on big.k = big2.k group by big.k", cfg)
	aggs, aggStages := nodes[*logical.Aggregate](job)
	joins, joinStages := nodes[*logical.Join](job)
	if len(aggs) != 1 || len(joins) != 1 || aggStages[0] != joinStages[0] {
		t.Fatalf("aggregate not in place above the join\n%s", job)
	}
	if len(job.Stages) != 3 {
		t.Fatalf("%d stages, want 3\n%s", len(job.Stages), job)
	}

	// Two aggregates by k are co-partitioned: their join needs no exchange.
	_, job = planSQL(t, testCatalog(), `select a.k, a.s, b.s from
		(select k, sum(v) s from big group by k) a join (select k, sum(v) s from big2 group by k) b on a.k = b.k`, cfg)
	joins, joinStages = nodes[*logical.Join](job)
	if len(job.Stages) != 3 || writes(job)[logical.ShuffleHash] != 2 {
		t.Fatalf("want the two partial aggregates' exchanges only\n%s", job)
	}
	for _, side := range []logical.Plan{joins[0].Left, joins[0].Right} {
		if _, ok := side.(*logical.ShuffleRead); ok {
			t.Fatalf("join side read directly, without its final aggregate\n%s", job)
		}
	}
	if joinStages[0] != len(job.Stages)-1 {
		t.Fatalf("join not in the final stage\n%s", job)
	}

	// A join on k then on k again: the second reuses the partitioning.
	_, job = planSQL(t, testCatalog(), `select big.v from big join big2 on big.k = big2.k
		join (select k, max(v) m from big group by k) c on big.k = c.k`, cfg)
	if got := writes(job)[logical.ShuffleHash]; got != 3 {
		t.Fatalf("%d hash exchanges, want 3\n%s", got, job)
	}
}

func TestKeyCast(t *testing.T) {
	// k32 is int32, k int64: both sides must hash int64 values.
	_, job := planSQL(t, testCatalog(), "select big.v from big join big2 on big.k32 = big2.k", Config{Partitions: 4})
	var keyTypes []arrow.DataType
	casts := 0
	for _, s := range job.Stages {
		w := s.Plan
		if w.Kind != logical.ShuffleHash {
			continue
		}
		for _, k := range w.Keys {
			keyTypes = append(keyTypes, w.Schema().Fields[k].Type)
		}
		if p, ok := w.Input.(*logical.Project); ok {
			for _, e := range p.Exprs {
				if c, ok := e.(*logical.Cast); ok && c.T.ID() == arrow.INT64 && c.Input.Type().ID() == arrow.INT32 {
					casts++
				}
			}
		}
	}
	if len(keyTypes) != 2 || !arrow.TypeEqual(keyTypes[0], keyTypes[1]) || keyTypes[0].ID() != arrow.INT64 || casts != 1 {
		t.Fatalf("hash key types %v, %d casts; want int64 twice and one cast\n%s", keyTypes, casts, job)
	}
	// The join sees its original inputs: the extra key column is dropped.
	j := joinsOf(job, logical.JoinInner)[0]
	if j.Left.Schema().Len() != 2 || j.Right.Schema().Len() != 1 {
		t.Fatalf("join inputs have extra columns\n%s", job)
	}
}

func TestHashKeyTypes(t *testing.T) {
	col := func(i int, t arrow.DataType) logical.Expr { return &logical.ColumnRef{Index: i, T: t, CanBeNull: true} }
	for _, tc := range []struct {
		a, b arrow.DataType
		want arrow.DataType // the left key's type; nil: no key
	}{
		{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int64},
		{arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int32},
		{arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64},
		{arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Int64, nil},                       // no common type
		{logical.DecimalType(15, 2), logical.DecimalType(12, 2), logical.DecimalType(15, 2)}, // same encoding: no cast
		{logical.DecimalType(15, 2), logical.DecimalType(12, 3), logical.DecimalType(16, 3)},
		{logical.DecimalType(15, 2), logical.DecimalType(30, 2), logical.DecimalType(30, 2)},
		{logical.Utf8, logical.Date32, nil},
		// One storage width, but the hash encodes precision <= 18 as a long.
		{&arrow.Decimal128Type{Precision: 10, Scale: 2}, logical.DecimalType(30, 2), logical.DecimalType(30, 2)},
		{logical.DecimalType(30, 2), &arrow.Decimal128Type{Precision: 10, Scale: 2}, logical.DecimalType(30, 2)},
	} {
		a, b, ok := hashKeyTypes(col(0, tc.a), col(1, tc.b))
		if !ok {
			if tc.want != nil {
				t.Errorf("%s = %s: no key", tc.a, tc.b)
			}
			continue
		}
		if tc.want == nil {
			t.Errorf("%s = %s: keys %s and %s, want none", tc.a, tc.b, a.Type(), b.Type())
			continue
		}
		if hashEncoding(a.Type()) != hashEncoding(b.Type()) {
			t.Errorf("%s = %s: keys %s and %s hash differently", tc.a, tc.b, a.Type(), b.Type())
		}
		if !arrow.TypeEqual(a.Type(), tc.want) {
			t.Errorf("%s = %s: left key %s, want %s", tc.a, tc.b, a.Type(), tc.want)
		}
	}
}

// aggregate plans are checked by checkJob (same result schema) and here
// for their shape.
func TestSplitAggregate(t *testing.T) {
	p, job := planSQL(t, testCatalog(), `select g, count(*) c, count(v) cv, sum(v) s, sum(x) sx, min(g) mi, max(f) ma,
		avg(k32) a1, avg(x) a2, avg(f) a3, bool_and(b) ba, bool_or(b) bo, sum(v) filter (where k > 3) sf
		from big group by g`, cfg4)
	aggs, stages := nodes[*logical.Aggregate](job)
	if len(aggs) != 2 || stages[0] == stages[1] {
		t.Fatalf("want a partial and a final aggregate in two stages\n%s", job)
	}
	partial, final := aggs[0], aggs[1]
	if stages[0] > stages[1] {
		partial, final = final, partial
	}
	var funcs []string
	for _, a := range partial.Aggs {
		funcs = append(funcs, a.String())
	}
	got := strings.Join(funcs, " | ")
	for _, want := range []string{"count(*)", "sum(CAST(k32#1 AS decimal(38, 0)))", "count(k32#1)", "FILTER (WHERE gt(k#"} {
		if !strings.Contains(got, want) {
			t.Errorf("partial aggregates %q lack %q", got, want)
		}
	}
	funcs = funcs[:0]
	for _, a := range final.Aggs {
		funcs = append(funcs, a.Func)
		if a.Filter != nil {
			t.Errorf("final aggregate %s has a filter", a)
		}
	}
	if want := "sum sum sum sum min max avg_merge avg_merge avg_merge bool_and bool_or sum"; strings.Join(funcs, " ") != want {
		t.Errorf("final aggregates %s, want %s", strings.Join(funcs, " "), want)
	}
	for i, a := range final.Aggs {
		if a.Func == "avg_merge" && !arrow.TypeEqual(a.T, p.Schema().Fields[1+i].Type) {
			t.Errorf("avg_merge %s has type %s, want %s", a, a.T, p.Schema().Fields[1+i].Type)
		}
	}
	w := job.Stages[stages[0]].Plan
	if w.Kind != logical.ShuffleHash || len(w.Keys) != 1 || w.Keys[0] != 0 {
		t.Fatalf("partial stage does not hash on the group column\n%s", job)
	}
}

func TestGlobalAggregate(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select count(*), sum(v), avg(x) from big", cfg4)
	if len(job.Stages) != 2 || job.Stages[0].Plan.Kind != logical.ShuffleSingle || job.Final().Tasks != 1 {
		t.Fatalf("want partial (single write) and final in one task\n%s", job)
	}
	// count's final sum is restored to a non-null count.
	proj, ok := job.Final().Plan.Input.(*logical.Project)
	if !ok || !strings.Contains(proj.Exprs[0].String(), "coalesce(") || proj.Schema().Fields[0].Nullable {
		t.Fatalf("count not restored with coalesce\n%s", job)
	}

	// Non-decomposable: gather the raw rows.
	_, job = planSQL(t, testCatalog(), "select stddev_samp(f) from big", cfg4)
	aggs, _ := nodes[*logical.Aggregate](job)
	if len(aggs) != 1 || job.Stages[0].Plan.Kind != logical.ShuffleSingle || job.Final().Tasks != 1 {
		t.Fatalf("stddev not aggregated once over gathered rows\n%s", job)
	}
}

func TestNonDecomposableAggregate(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select g, count(distinct v), sum(distinct k), stddev_pop(f) from big group by g", cfg4)
	aggs, _ := nodes[*logical.Aggregate](job)
	if len(aggs) != 1 || len(job.Stages) != 2 {
		t.Fatalf("want one aggregate over a raw hash exchange\n%s", job)
	}
	w := job.Stages[0].Plan
	if w.Kind != logical.ShuffleHash || w.Schema().Fields[w.Keys[0]].Name != "g" {
		t.Fatalf("raw rows not hashed on g\n%s", job)
	}

	// An expression key is computed into a column for the hash and dropped
	// after the read.
	_, job = planSQL(t, testCatalog(), "select substring(g, 1, 2) p, stddev_pop(f) from big group by substring(g, 1, 2)", cfg4)
	w = job.Stages[0].Plan
	proj, ok := w.Input.(*logical.Project)
	if !ok || w.Kind != logical.ShuffleHash || !strings.HasPrefix(w.Schema().Fields[w.Keys[0]].Name, "__hash_key") {
		t.Fatalf("expression key not projected for the hash\n%s", job)
	}
	if _, ok := proj.Exprs[len(proj.Exprs)-1].(*logical.Call); !ok {
		t.Fatalf("hash key column is not the expression\n%s", job)
	}
	aggs, _ = nodes[*logical.Aggregate](job)
	if aggs[0].Input.Schema().Len() != w.Schema().Len()-1 {
		t.Fatalf("aggregate input keeps the hash key column\n%s", job)
	}
}

func TestDistinctAggregateReusesPartitioning(t *testing.T) {
	// count(DISTINCT v) becomes two aggregates; the inner one partitions on
	// g only, so the outer one runs in place.
	_, job := planSQL(t, testCatalog(), "select g, count(distinct v) from big group by g", cfg4)
	if len(job.Stages) != 2 {
		t.Fatalf("%d stages, want 2\n%s", len(job.Stages), job)
	}
	w := job.Stages[0].Plan
	if len(w.Keys) != 1 || w.Schema().Fields[w.Keys[0]].Name != "g" {
		t.Fatalf("inner aggregate not partitioned on g\n%s", job)
	}
}

func TestGroupingSets(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select g, b, sum(v), count(*), grouping(g) from big group by rollup(g, b)", cfg4)
	aggs, stages := nodes[*logical.Aggregate](job)
	if len(aggs) != 2 || stages[0] == stages[1] {
		t.Fatalf("want partial and final aggregates\n%s", job)
	}
	partial := aggs[slices.Index(stages, slices.Min(stages))]
	if len(partial.GroupingSets) != 3 {
		t.Fatalf("partial aggregate lost its grouping sets\n%s", job)
	}
	w := job.Stages[slices.Min(stages)].Plan
	var keys []string
	for _, k := range w.Keys {
		keys = append(keys, w.Schema().Fields[k].Name)
	}
	if strings.Join(keys, ",") != "g,b,__grouping_id" {
		t.Fatalf("partial hashes on %v, want g, b, __grouping_id\n%s", keys, job)
	}

	// A repeated set: rows are repeated, so aggregate once over all rows.
	_, job = planSQL(t, testCatalog(), "select g, sum(v) from big group by grouping sets ((g), (g), ())", cfg4)
	aggs, stages = nodes[*logical.Aggregate](job)
	if len(aggs) != 1 || job.Stages[stages[0]].Tasks != 1 || len(aggs[0].GroupingSets) != 3 {
		t.Fatalf("repeated grouping set not aggregated once in one task\n%s", job)
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		query string
		keys  string // hash key names of the exchange below the window; "" single
	}{
		{"select k, row_number() over (partition by g order by v) from big", "g"},
		{"select k, sum(v) over () from big", ""},
		{"select k, sum(v) over (partition by g, b), count(*) over (partition by b, g order by k) from big", "g,b"},
		{"select k, sum(v) over (partition by g), count(*) over (partition by b) from big", ""},
		{"select k, rank() over (partition by substring(g, 1, 1) order by v) from big", "__hash_key0"},
	} {
		_, job := planSQL(t, testCatalog(), tc.query, cfg4)
		wins, stages := nodes[*logical.Window](job)
		if len(wins) != 1 {
			t.Fatalf("%s: %d windows\n%s", tc.query, len(wins), job)
		}
		st := job.Stages[stages[0]]
		if len(st.Inputs) != 1 {
			t.Fatalf("%s: window stage reads %v\n%s", tc.query, st.Inputs, job)
		}
		w := job.Stages[st.Inputs[0]].Plan
		var keys []string
		for _, k := range w.Keys {
			keys = append(keys, w.Schema().Fields[k].Name)
		}
		if got := strings.Join(keys, ","); got != tc.keys || (tc.keys == "" && st.Tasks != 1) {
			t.Errorf("%s: window input hashed on %q in %d tasks, want %q\n%s", tc.query, got, st.Tasks, tc.keys, job)
		}
	}
}

func TestSetOps(t *testing.T) {
	// UNION ALL of two scans runs in one stage.
	_, job := planSQL(t, testCatalog(), "select k from big union all select k from big2", cfg4)
	if len(job.Stages) != 1 || job.Final().Tasks != 4 {
		t.Fatalf("UNION ALL of scans not in one 4-task stage\n%s", job)
	}
	// A hash-partitioned input (4 tasks) and a scan agree too.
	_, job = planSQL(t, testCatalog(), "select k, v from big union all select k, sum(v) from big2 group by k", cfg4)
	if len(job.Stages) != 2 {
		t.Fatalf("%d stages, want 2\n%s", len(job.Stages), job)
	}
	// A one-task input (a global aggregate) is spread over 4 partitions.
	_, job = planSQL(t, testCatalog(), "select count(*) from big union all select v from big2", cfg4)
	u, stages := nodes[*logical.SetOp](job)
	if len(u) != 1 || job.Stages[stages[0]].Tasks != 4 {
		t.Fatalf("union not in a 4-task stage\n%s", job)
	}

	for _, q := range []string{
		"select k, g from big union select k, g from big2",
		"select k, g from big intersect select k, g from big2",
		"select k, g from big except all select k, g from big2",
	} {
		_, job := planSQL(t, testCatalog(), q, cfg4)
		ops, stages := nodes[*logical.SetOp](job)
		if len(ops) != 1 {
			t.Fatalf("%s: %d set operations\n%s", q, len(ops), job)
		}
		st := job.Stages[stages[0]]
		if len(st.Inputs) != 2 {
			t.Fatalf("%s: set operation reads %v\n%s", q, st.Inputs, job)
		}
		for _, in := range st.Inputs {
			w := job.Stages[in].Plan
			if w.Kind != logical.ShuffleHash || !slices.Equal(w.Keys, []int{0, 1}) {
				t.Fatalf("%s: input stage %d not hashed on all columns\n%s", q, in, job)
			}
		}
	}
	// An input already partitioned on some of the columns stays; the other
	// input is partitioned on the same columns.
	_, job = planSQL(t, testCatalog(), "select k, c from (select k, count(*) c from big group by k) a union select k, v from big2", cfg4)
	if len(job.Stages) != 3 || writes(job)[logical.ShuffleHash] != 2 {
		t.Fatalf("want the aggregate's exchange and one for big2\n%s", job)
	}
	for _, s := range job.Stages[:2] {
		if !slices.Equal(s.Plan.Keys, []int{0}) {
			t.Fatalf("stage %d hashes on %v, want [0]\n%s", s.ID, s.Plan.Keys, job)
		}
	}
	// An interval column cannot be hashed: hash on the others.
	_, job = planSQL(t, testCatalog(), "select k, iv from big union select k, iv from big2", cfg4)
	if w := job.Stages[0].Plan; w.Kind != logical.ShuffleHash || !slices.Equal(w.Keys, []int{0}) {
		t.Fatalf("want a hash on column k only\n%s", job)
	}
	_, job = planSQL(t, testCatalog(), "select iv from big union select iv from big2", cfg4)
	if job.Final().Tasks != 1 || writes(job)[logical.ShuffleHash] != 0 {
		t.Fatalf("unhashable union not gathered\n%s", job)
	}
}

func TestSortAndLimit(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select k from big order by v limit 10", cfg4)
	sorts, stages := nodes[*logical.Sort](job)
	if len(job.Stages) != 2 || len(sorts) != 2 || stages[0] != 0 || sorts[0].Fetch != 10 || sorts[1].Fetch != 10 {
		t.Fatalf("want a local top-10 and a final top-10\n%s", job)
	}
	_, job = planSQL(t, testCatalog(), "select k from big order by v", cfg4)
	if sorts, _ := nodes[*logical.Sort](job); len(sorts) != 1 || job.Final().Tasks != 1 {
		t.Fatalf("want one sort in the one-task final stage\n%s", job)
	}
	_, job = planSQL(t, testCatalog(), "select k from big limit 10 offset 5", cfg4)
	limits, stages := nodes[*logical.Limit](job)
	if len(limits) != 2 || stages[0] != 0 || limits[0].Count != 15 || limits[0].Offset != 0 ||
		limits[1].Offset != 5 || limits[1].Count != 10 || job.Final().Tasks != 1 {
		t.Fatalf("want Limit(15) per task and Limit(5, 10) in one task\n%s", job)
	}
}

func TestValues(t *testing.T) {
	_, job := planSQL(t, testCatalog(), "select a + 1 from (values (1), (2)) t(a)", cfg4)
	if len(job.Stages) != 1 || job.Final().Tasks != 1 {
		t.Fatalf("VALUES not in one 1-task stage\n%s", job)
	}
	// VALUES rows appear in task 0 only, so a union with a scan runs in
	// the scan's 4 tasks without an exchange.
	_, job = planSQL(t, testCatalog(), "select k from big union all select * from (values (cast(1 as bigint))) t(a)", cfg4)
	if len(job.Stages) != 1 || job.Final().Tasks != 4 {
		t.Fatalf("UNION ALL with VALUES not in one 4-task stage\n%s", job)
	}
	// A global aggregate over VALUES yields a row per task: it must stay in
	// one task.
	_, job = planSQL(t, testCatalog(), "select k from big union all select count(*) from (values (1), (2)) t(a)", cfg4)
	aggs, stages := nodes[*logical.Aggregate](job)
	if len(aggs) != 1 || job.Stages[stages[0]].Tasks != 1 {
		t.Fatalf("global aggregate over VALUES not in one task\n%s", job)
	}
}

func TestExplain(t *testing.T) {
	src := sqltest.Table("t", 1000, true, "k:i64 v:i64")
	scan := logical.NewScan(src, "", nil)
	s := scan.Schema()
	agg := logical.NewAggregate(scan, []logical.Expr{logical.Col(s, 0)}, []string{"k"}, nil,
		[]*logical.AggregateCall{{Func: "count", T: logical.Int64}}, []string{"n"})
	sort := &logical.Sort{Input: agg, Keys: []logical.SortKey{{Expr: logical.Col(agg.Schema(), 1), Descending: true}}, Fetch: 3}
	job, err := Plan(sort, Config{Partitions: 2, Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	want := `Job: 3 stages, result [t.k:int64, n:int64]
Stage 0: tasks=2 output=[t.k:int64, n:int64]
  ShuffleWrite: hash(k) partitions=2 compression=zstd
    Aggregate: groupBy=[k#0], aggr=[count(*) AS n]
      Scan: t projection=[k, v]
Stage 1: tasks=2 inputs=[0:hash] output=[t.k:int64, n:int64]
  ShuffleWrite: single compression=zstd
    Sort: n#1 DESC NULLS LAST fetch=3
      Project: k#0, coalesce(n#1, 0) AS n
        Aggregate: groupBy=[k#0], aggr=[sum(n#1) AS n]
          ShuffleRead: stage=0
Stage 2: tasks=1 inputs=[1:single] final output=[t.k:int64, n:int64]
  ShuffleWrite: single compression=zstd
    Sort: n#1 DESC NULLS LAST fetch=3
      ShuffleRead: stage=1
`
	if got := job.String(); got != want {
		t.Fatalf("EXPLAIN:\n%s\nwant:\n%s", got, want)
	}
	checkJob(t, sort, job, Config{Partitions: 2, Compression: "zstd"})
}

func TestPlanErrors(t *testing.T) {
	scan := logical.NewScan(sqltest.Table("t", 10, true, "k:i64"), "", nil)
	for _, tc := range []struct {
		name string
		p    logical.Plan
		cfg  Config
		want string
	}{
		{"nil plan", nil, Config{Partitions: 1}, "nil plan"},
		{"no partitions", scan, Config{}, "Partitions is 0"},
		{"compression", scan, Config{Partitions: 2, Compression: "gzip"}, `unknown shuffle compression "gzip"`},
		{"invalid plan", &logical.Filter{Input: scan, Cond: &logical.ColumnRef{Index: 3, T: logical.Bool}},
			Config{Partitions: 2}, "invalid input plan"},
		{"nil child", &logical.Filter{Cond: &logical.Literal{Value: true, T: logical.Bool}}, Config{Partitions: 2}, "nil plan node"},
		{"empty union", &logical.SetOp{Kind: logical.Union}, Config{Partitions: 2}, "Union without inputs"},
		{"already cut", &logical.Filter{Input: logical.NewShuffleRead(0, scan.Schema()),
			Cond: &logical.Literal{Value: true, T: logical.Bool}}, Config{Partitions: 2}, "already cut into stages"},
	} {
		_, err := Plan(tc.p, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	build := func() *Job {
		_, job := planSQL(t, testCatalog(), "select g, sum(v) from big group by g order by g", cfg4)
		if len(job.Stages) != 3 {
			t.Fatalf("want 3 stages\n%s", job)
		}
		return job
	}
	for _, tc := range []struct {
		name    string
		corrupt func(j *Job)
		want    string
	}{
		{"read schema", func(j *Job) {
			var r *logical.ShuffleRead
			logical.Transform(j.Stages[1].Plan, func(p logical.Plan) (logical.Plan, error) {
				if x, ok := p.(*logical.ShuffleRead); ok {
					r = x
				}
				return p, nil
			})
			f := r.Schema().Fields
			f[1].Type = logical.Float64
		}, "schema differs"},
		{"hash tasks", func(j *Job) { j.Stages[1].Tasks = 3 }, "of 4 partitions with 3 tasks"},
		{"single reader tasks", func(j *Job) { j.Stages[2].Tasks = 2 }, "reads single stage 1 with 2 tasks"},
		{"final kind", func(j *Job) { j.Stages[2].Plan.Kind = logical.ShuffleBroadcast }, "want single"},
		{"inputs", func(j *Job) { j.Stages[1].Inputs = nil }, "lists inputs"},
		{"order", func(j *Job) { j.Stages[0], j.Stages[1] = j.Stages[1], j.Stages[0] }, "has ID"},
		{"unread", func(j *Job) {
			j.Stages = append(j.Stages[:2:2], &Stage{ID: 2, Plan: &logical.ShuffleWrite{Input: j.Stages[0].Plan.Input,
				Kind: logical.ShuffleSingle, Partitions: 1, Compression: "lz4"}, Tasks: 4}, j.Stages[2])
			j.Stages[3].ID = 3
		}, "read by no stage"},
		{"hash key", func(j *Job) { j.Stages[0].Plan.Keys = []int{7} }, "out of range"},
		{"compression", func(j *Job) { j.Stages[0].Plan.Compression = "" }, "unknown compression"},
	} {
		job := build()
		tc.corrupt(job)
		err := job.Validate()
		if err == nil || !errors.Is(err, ErrInvalidJob) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestVariety plans assorted queries under several configurations and
// checks the contract on each.
func TestVariety(t *testing.T) {
	queries := []string{
		"select * from big",
		"select k, v from big where v > 3 limit 5",
		"select g, count(*) from big group by g having count(*) > 2 order by g",
		"select distinct g from big",
		"select distinct g, b from big order by g limit 3",
		"select count(distinct g) from big",
		"select g, count(distinct v) c, max(distinct k) from big group by g",
		"select g, b, count(*) from big group by cube(g, b) order by g, b",
		"select g, count(*) from big group by grouping sets ((g), ())",
		"select big.g, sum(big2.v) from big join big2 on big.k = big2.k and big.g = big2.g group by big.g",
		"select * from big left join small on big.k32 = small.k32",
		"select * from small right join big on big.k = small.k",
		"select * from big where exists (select 1 from big2 where big2.k = big.k and big2.v > big.v)",
		"select * from big where not exists (select 1 from small where small.k = big.k)",
		"select k, (select max(v) from big2 where big2.k = big.k) from big",
		"select k, (select count(*) from small) from big",
		"select * from big where k in (select k from small) and g not in (select name from small)",
		"select k, sum(v) over (partition by g order by k rows between 2 preceding and current row) from big order by k limit 7",
		"select k, lag(v) over (order by k) from big",
		"select g, max(v) from (select g, v from big union all select g, v from big2) u group by g",
		"select k from big intersect select k from small",
		"select k from big except select k from small order by k",
		"select a.k, b.k from big a join big2 b on a.k + 1 = b.k",
		"select a.k from big a join big2 b on a.x = b.w",
		"select a.k from big a join big2 b on a.k = b.k join small c on b.k32 = c.k32 join big d on d.g = c.name",
		"select * from (select g, sum(v) s from big group by g) a full join (select g, sum(v) s from big2 group by g) b on a.g = b.g",
		"select avg(k32), avg(x), avg(f), sum(x), count(iv) from big",
		"select g, avg(k32) filter (where b), count(*) filter (where v > 0) from big group by g",
		"select * from (values (1, 'a'), (2, 'b')) t(a, s) join small on small.k32 = t.a",
		"select substring(g, 1, 1), count(*) from big group by 1 order by 2 desc limit 3",
		"select k from big order by v limit 10 offset 20",
		"select * from (select k from big limit 5) t join small on t.k = small.k",
	}
	cfgs := []Config{
		{Partitions: 1},
		{Partitions: 2},
		{Partitions: 4, BroadcastRows: 1000},
		{Partitions: 5, BroadcastRows: 1 << 40, Compression: "zstd"},
	}
	for _, q := range queries {
		for _, cfg := range cfgs {
			_, job := planSQL(t, testCatalog(), q, cfg)
			if cfg.Partitions == 1 && len(job.Stages) != 1 {
				t.Errorf("%s: %d stages with one partition\n%s", q, len(job.Stages), job)
			}
		}
	}
}
