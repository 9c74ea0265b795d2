package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// Substrait plans from other producers (isthmus, Calcite) keep subqueries
// as subquery expressions with outer references. The consumer decorrelates
// them into the joins the SQL binder builds; each plan here is checked
// against the same query written in SQL, over data with NULLs and
// duplicate keys.
func TestSubstraitSubqueries(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tp := write("t.csv", "a,b\n1,10\n2,20\n3,\n4,40\n,50\n6,60\n")
	up := write("u.csv", "a,c\n1,5\n1,15\n2,\n2,20\n3,7\n5,100\n6,61\n")
	s := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	rows(t, s, "CREATE EXTERNAL TABLE t (a BIGINT, b BIGINT) STORED AS CSV LOCATION '"+tp+"'")
	rows(t, s, "CREATE EXTERNAL TABLE u (a BIGINT, c BIGINT) STORED AS CSV LOCATION '"+up+"'")
	plan := func(q string) logical.Plan {
		p, err := s.PlanSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	T := plan("SELECT a, b FROM t")
	U := plan("SELECT a, c FROM u")
	col := func(p logical.Plan, i int) logical.Expr { return logical.Col(p.Schema(), i) }
	outer := func(i int) logical.Expr {
		f := T.Schema().Fields[i]
		return &logical.OuterRef{Steps: 1, Index: i, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}
	}
	call := func(fn string, args ...logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: args, T: logical.Bool, NullableOut: true}
	}
	// u rows of the outer row's a
	corrU := &logical.Filter{Input: U, Cond: logical.Equal(col(U, 0), outer(0))}
	cOf := func(p logical.Plan) logical.Plan {
		return logical.NewProject(p, []logical.Expr{col(p, 1)}, []string{"c"}, nil)
	}
	agg := func(fn string) logical.Plan {
		var args []logical.Expr
		if fn != "count" {
			args = []logical.Expr{col(corrU, 1)}
		}
		typ, err := logical.AggregateResultType(fn, logical.Int64)
		if err != nil {
			t.Fatal(err)
		}
		return logical.NewAggregate(corrU, []logical.Expr{}, nil, nil, []*logical.AggregateCall{{Func: fn, Args: args, T: typ}}, []string{fn})
	}
	filterT := func(cond logical.Expr) logical.Plan { return &logical.Filter{Input: T, Cond: cond} }
	sub := func(kind logical.SubqueryKind, p logical.Plan) *logical.Subquery {
		return &logical.Subquery{Kind: kind, Plan: p}
	}
	cmp := func(kind logical.SubqueryKind, op string, p logical.Plan) *logical.Subquery {
		return &logical.Subquery{Kind: kind, Op: op, Test: col(T, 1), Plan: p}
	}
	withCol := func(name string, e logical.Expr) logical.Plan {
		return logical.NewProject(T, []logical.Expr{col(T, 0), e}, []string{"a", name}, nil)
	}
	cases := []struct {
		name string
		plan logical.Plan
		sql  string
	}{
		{"exists", filterT(sub(logical.SubqueryExists, corrU)),
			"SELECT a, b FROM t WHERE EXISTS (SELECT * FROM u WHERE u.a = t.a)"},
		{"not exists", filterT(call("not", sub(logical.SubqueryExists, corrU))),
			"SELECT a, b FROM t WHERE NOT EXISTS (SELECT * FROM u WHERE u.a = t.a)"},
		{"exists or", filterT(call("or", sub(logical.SubqueryExists, corrU), call("gt", col(T, 1), &logical.Literal{Value: int64(45), T: logical.Int64}))),
			"SELECT a, b FROM t WHERE EXISTS (SELECT * FROM u WHERE u.a = t.a) OR b > 45"},
		{"correlated count (the COUNT bug)", withCol("n", sub(logical.SubqueryScalar, agg("count"))),
			"SELECT a, (SELECT count(*) FROM u WHERE u.a = t.a) AS n FROM t"},
		{"correlated sum in a filter", filterT(call("lt", col(T, 1), sub(logical.SubqueryScalar, agg("sum")))),
			"SELECT a, b FROM t WHERE b < (SELECT sum(c) FROM u WHERE u.a = t.a)"},
		{"correlated scalar without aggregate", withCol("c",
			sub(logical.SubqueryScalar, cOf(&logical.Filter{Input: corrU, Cond: call("gt", col(corrU, 1), &logical.Literal{Value: int64(10), T: logical.Int64})}))),
			"SELECT a, (SELECT c FROM u WHERE u.a = t.a AND c > 10) AS c FROM t"},
		{"uncorrelated scalar", filterT(call("gt", col(T, 1), sub(logical.SubqueryScalar,
			logical.NewAggregate(U, []logical.Expr{}, nil, nil, []*logical.AggregateCall{{Func: "min", Args: []logical.Expr{col(U, 1)}, T: logical.Int64}}, []string{"m"})))),
			"SELECT a, b FROM t WHERE b > (SELECT min(c) FROM u)"},
		{"correlated IN", filterT(cmp(logical.SubqueryAny, "equal", cOf(corrU))),
			"SELECT a, b FROM t WHERE b IN (SELECT c FROM u WHERE u.a = t.a)"},
		{"correlated IN as a value", withCol("in", cmp(logical.SubqueryAny, "equal", cOf(corrU))),
			"SELECT a, b IN (SELECT c FROM u WHERE u.a = t.a) AS in FROM t"},
		{"NOT IN with NULLs", filterT(call("not", cmp(logical.SubqueryAny, "equal", cOf(U)))),
			"SELECT a, b FROM t WHERE b NOT IN (SELECT c FROM u)"},
		{"NOT IN without NULLs", filterT(call("not", cmp(logical.SubqueryAny, "equal",
			cOf(&logical.Filter{Input: U, Cond: call("is_not_null", col(U, 1))})))),
			"SELECT a, b FROM t WHERE b NOT IN (SELECT c FROM u WHERE c IS NOT NULL)"},
		{"correlated > ALL", filterT(cmp(logical.SubqueryAll, "gt", cOf(corrU))),
			"SELECT a, b FROM t WHERE b > ALL (SELECT c FROM u WHERE u.a = t.a)"},
		{"correlated < ANY", filterT(cmp(logical.SubqueryAny, "lt", cOf(corrU))),
			"SELECT a, b FROM t WHERE b < ANY (SELECT c FROM u WHERE u.a = t.a)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runPlan(t, s, c.plan)
			want := rows(t, s, c.sql)
			if g, w := sortedRows(got), sortedRows(want); g != w {
				t.Fatalf("Substrait plan gives\n%s\nSQL gives\n%s\nplan:\n%s", g, w, logical.Format(c.plan))
			}
		})
	}

	// Correlation the consumer cannot decorrelate is refused by name.
	limited := &logical.Limit{Input: corrU, Count: 1}
	p, err := producer.ToProto(filterT(sub(logical.SubqueryExists, limited)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(p)
	if _, err := s.RunSubstrait(context.Background(), b); err == nil || !strings.Contains(err.Error(), "not supported") || !strings.Contains(err.Error(), "Limit") {
		t.Fatalf("correlation below a LIMIT: err = %v", err)
	}
}

func runPlan(t *testing.T, s *engine.Session, p logical.Plan) [][]string {
	t.Helper()
	plan, err := producer.ToProto(p)
	if err != nil {
		t.Fatal(err)
	}
	return runSubstrait(t, s, plan)
}

func sortedRows(r [][]string) string {
	lines := make([]string, len(r))
	for i, row := range r {
		lines[i] = strings.Join(row, "|")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Physical join relations (hash, merge, nested loop) and local files with
// several items, as other producers send them, give the answers of the
// plans Arbalest makes for the same SQL.
func TestSubstraitPhysicalRelations(t *testing.T) {
	dir := t.TempDir()
	tp := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(tp, []byte("a,b\n1,10\n2,20\n3,\n,40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(dir, "u.csv")
	if err := os.WriteFile(up, []byte("a,c\n1,5\n1,15\n2,\n,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	rows(t, s, "CREATE EXTERNAL TABLE t (a BIGINT, b BIGINT) STORED AS CSV LOCATION '"+tp+"'")
	rows(t, s, "CREATE EXTERNAL TABLE u (a BIGINT, c BIGINT) STORED AS CSV LOCATION '"+up+"'")
	planOf := func(q string) *pb.Plan {
		p, err := s.PlanSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		out, err := producer.ToProto(p)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run := func(p *pb.Plan) string { return sortedRows(runSubstrait(t, s, p)) }
	for _, q := range []string{
		"SELECT t.a, b, c FROM t JOIN u ON t.a = u.a",
		"SELECT t.a, b, c FROM t LEFT JOIN u ON t.a = u.a AND c > 6",
		"SELECT t.a, b FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
		"SELECT t.a, b FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
	} {
		want := run(planOf(q))
		for _, kind := range []string{"hash", "merge", "nested_loop"} {
			p := planOf(q)
			n := rewriteJoins(t, p, kind)
			if n == 0 {
				t.Fatalf("%s: no join to rewrite", q)
			}
			if got := run(p); got != want {
				t.Errorf("%s as %s join:\n%s\nwant\n%s", q, kind, got, want)
			}
		}
	}

	// Two items of local files: the rows of both.
	p := planOf("SELECT a, b FROM t")
	n := 0
	walkRels(p.GetRelations()[0].GetRoot().GetInput(), func(r *pb.Rel) {
		rd := r.GetRead()
		if rd == nil || rd.GetNamedTable() == nil {
			return
		}
		n++
		item := func() *pb.ReadRel_LocalFiles_FileOrFiles {
			return &pb.ReadRel_LocalFiles_FileOrFiles{PathType: &pb.ReadRel_LocalFiles_FileOrFiles_UriFile{UriFile: "file://" + tp},
				FileFormat: &pb.ReadRel_LocalFiles_FileOrFiles_Text{Text: &pb.ReadRel_LocalFiles_FileOrFiles_DelimiterSeparatedTextReadOptions{FieldDelimiter: ",", HeaderLinesToSkip: 1, MaxLineSize: 1 << 20}}}
		}
		rd.ReadType = &pb.ReadRel_LocalFiles_{LocalFiles: &pb.ReadRel_LocalFiles{Items: []*pb.ReadRel_LocalFiles_FileOrFiles{item(), item()}}}
	})
	if n != 1 {
		t.Fatalf("%d named tables", n)
	}
	got := run(p)
	if want := "1|10\n1|10\n2|20\n2|20\n3|NULL\n3|NULL\nNULL|40\nNULL|40"; got != want {
		t.Fatalf("two local files:\n%s\nwant\n%s", got, want)
	}
}
