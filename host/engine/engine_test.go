package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/producer"
)

// rows runs a script and returns the rows of its last statement as text.
func rows(t *testing.T, s *engine.Session, script string) [][]string {
	t.Helper()
	out, err := tryRows(s, script)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return out
}

func tryRows(s *engine.Session, script string) ([][]string, error) {
	var out [][]string
	err := s.Run(context.Background(), script, func(r *engine.Result) error {
		cells, err := engine.CollectText(context.Background(), r.Stream)
		out = textRows(cells)
		return err
	})
	return out, err
}

// textRows renders cells as text, NULL for nulls.
func textRows(cells [][]engine.Cell) [][]string {
	var out [][]string
	for _, cr := range cells {
		row := make([]string, len(cr))
		for c, v := range cr {
			row[c] = v.Text
			if v.Null {
				row[c] = "NULL"
			}
		}
		out = append(out, row)
	}
	return out
}

// runSubstrait runs a Substrait plan and returns its rows as text.
func runSubstrait(t *testing.T, s *engine.Session, p *pb.Plan) [][]string {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := s.RunSubstrait(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	cells, err := engine.CollectText(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return textRows(cells)
}

func newSession(t *testing.T) (*engine.Session, string) {
	t.Helper()
	dir := t.TempDir()
	csv := "id,name,price,day\n1,apple,1.50,2024-01-03\n2,pear,,2024-02-29\n3,fig,3.25,2023-12-31\n"
	if err := os.WriteFile(filepath.Join(dir, "fruit.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	s := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	rows(t, s, "CREATE EXTERNAL TABLE fruit (id BIGINT, name VARCHAR, price DECIMAL(10,2), day DATE) STORED AS CSV LOCATION '"+filepath.Join(dir, "fruit.csv")+"'")
	return s, dir
}

func TestStatements(t *testing.T) {
	s, _ := newSession(t)
	if got := rows(t, s, "SHOW TABLES"); len(got) != 1 || got[0][0] != "fruit" {
		t.Fatalf("SHOW TABLES = %v", got)
	}
	desc := rows(t, s, "DESCRIBE fruit")
	if len(desc) != 4 || desc[2][0] != "price" || !strings.Contains(desc[2][1], "decimal") {
		t.Fatalf("DESCRIBE = %v", desc)
	}
	got := rows(t, s, "SELECT name, price * 2 AS p2 FROM fruit WHERE day < DATE '2024-02-01' ORDER BY id")
	want := [][]string{{"apple", "3.00"}, {"fig", "6.50"}}
	if strings.Join(flat(got), "|") != strings.Join(flat(want), "|") {
		t.Fatalf("SELECT = %v, want %v", got, want)
	}
	if got := rows(t, s, "SELECT count(*), count(price), sum(price) FROM fruit"); got[0][0] != "3" || got[0][1] != "2" || got[0][2] != "4.75" {
		t.Fatalf("aggregates = %v", got)
	}
	// A script: statements run in order and see each other's effects.
	got = rows(t, s, "CREATE VIEW cheap AS SELECT * FROM fruit WHERE price < 2; SELECT name FROM cheap; DROP VIEW cheap")
	if len(got) != 0 { // the last statement is DROP VIEW
		t.Fatalf("script result = %v", got)
	}
	rows(t, s, "DROP TABLE fruit")
	if _, err := tryRows(s, "SELECT * FROM fruit"); err == nil {
		t.Fatal("query on a dropped table must fail")
	}
	if _, err := tryRows(s, "DROP TABLE fruit"); err == nil {
		t.Fatal("dropping a missing table must fail")
	}
	rows(t, s, "DROP TABLE IF EXISTS fruit")
}

func flat(r [][]string) []string {
	var out []string
	for _, x := range r {
		out = append(out, strings.Join(x, ","))
	}
	return out
}

func TestExplain(t *testing.T) {
	s, _ := newSession(t)
	q := "SELECT name, count(*) FROM fruit WHERE id > 1 GROUP BY name"
	got := rows(t, s, "EXPLAIN "+q)
	if len(got) != 2 || got[0][0] != "logical_plan" || got[1][0] != "physical_plan" {
		t.Fatalf("EXPLAIN = %v", got)
	}
	if !strings.Contains(got[0][1], "Aggregate") || !strings.Contains(got[1][1], "HashAggregate") {
		t.Fatalf("EXPLAIN text:\n%s\n%s", got[0][1], got[1][1])
	}
	sub := rows(t, s, "EXPLAIN SUBSTRAIT "+q)
	if len(sub) != 1 || !strings.Contains(sub[0][1], "\"relations\"") {
		t.Fatalf("EXPLAIN SUBSTRAIT = %v", sub)
	}
	an := rows(t, s, "EXPLAIN ANALYZE "+q)
	if len(an) != 1 || !strings.Contains(an[0][1], "rows=") {
		t.Fatalf("EXPLAIN ANALYZE = %v", an)
	}
}

func TestSet(t *testing.T) {
	s, _ := newSession(t)
	rows(t, s, "SET memory_limit = '64MB'")
	if s.Options.MemoryLimit != 64<<20 {
		t.Fatalf("memory_limit = %d", s.Options.MemoryLimit)
	}
	rows(t, s, "SET target_partitions = 3")
	if s.Options.Partitions != 3 {
		t.Fatalf("target_partitions = %d", s.Options.Partitions)
	}
	if _, err := tryRows(s, "SET no_such_setting = 1"); err == nil || !strings.Contains(err.Error(), "no_such_setting") {
		t.Fatalf("unknown setting: %v", err)
	}
}

func TestSubstraitRoundTrip(t *testing.T) {
	s, _ := newSession(t)
	p, err := s.PlanSQL("SELECT upper(name) AS n FROM fruit WHERE price IS NOT NULL ORDER BY n DESC")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := producer.ToProto(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runSubstrait(t, s, plan) {
		names = append(names, r[0])
	}
	if strings.Join(names, ",") != "FIG,APPLE" {
		t.Fatalf("Substrait plan result = %v", names)
	}
	if _, err := s.RunSubstrait(context.Background(), []byte("not a plan")); err == nil {
		t.Fatal("garbage must be refused")
	}
}

func TestMemoryLimitNamed(t *testing.T) {
	s, _ := newSession(t)
	s.Options.MemoryLimit = 1 // one byte: a join build cannot fit and cannot spill
	_, err := tryRows(s, "SELECT count(*) FROM fruit a JOIN fruit b ON a.id = b.id")
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("expected a memory limit error, got %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"512MB": 512 << 20, "2GiB": 2 << 30, "1g": 1 << 30, "1048576": 1 << 20, "1.5k": 1536} {
		got, err := engine.ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := engine.ParseBytes("lots"); err == nil {
		t.Error("ParseBytes(lots) must fail")
	}
}
