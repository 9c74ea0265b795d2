package plugins

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/plugins/runtime"
)

// pgEnv is what the PostgreSQL test needs from `make test`: a server
// (.ci/postgres.sh) and TPC-H SF 0.1.
func pgEnv(t *testing.T) (dsn, data string) {
	t.Helper()
	dsn, data = os.Getenv("ARBALEST_PG_DSN"), os.Getenv("ARBALEST_TPCH_SF01")
	if dsn == "" || data == "" {
		if os.Getenv("ARBALEST_PG_REQUIRED") == "1" {
			t.Fatal("ARBALEST_PG_REQUIRED=1 but ARBALEST_PG_DSN or ARBALEST_TPCH_SF01 is not set")
		}
		t.Skip("set ARBALEST_PG_DSN ($(.ci/postgres.sh dsn)) and ARBALEST_TPCH_SF01 (make test does)")
	}
	return dsn, data
}

// arbalestBin is the binary that serves builtin plugins.
func arbalestBin(t *testing.T) string {
	for _, v := range []string{"ARBALEST_PLUGIN_BIN", "ARBALEST_BIN"} {
		if b := os.Getenv(v); b != "" {
			return b
		}
	}
	bin := filepath.Join(t.TempDir(), "arbalest")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/arbalest").CombinedOutput(); err != nil {
		t.Fatalf("building arbalest: %v\n%s", err, out)
	}
	return bin
}

func pgType(t arrow.DataType) (string, error) {
	if x, ok := t.(arrow.DecimalType); ok {
		return fmt.Sprintf("numeric(%d,%d)", x.GetPrecision(), x.GetScale()), nil
	}
	switch t.ID() {
	case arrow.INT32:
		return "integer", nil
	case arrow.INT64:
		return "bigint", nil
	case arrow.STRING, arrow.LARGE_STRING:
		return "text", nil
	case arrow.DATE32:
		return "date", nil
	case arrow.FLOAT64:
		return "double precision", nil
	}
	return "", fmt.Errorf("no PostgreSQL type for %s", t)
}

// loadTable copies a table of s into PostgreSQL as schema.name, with the
// same column types, through COPY ... FROM STDIN (FORMAT csv).
func loadTable(ctx context.Context, t *testing.T, conn *pgx.Conn, s *engine.Session, schema, name string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	var cols []string
	err := s.Run(ctx, "SELECT * FROM "+name, func(r *engine.Result) error {
		for _, f := range r.Stream.Schema().Fields() {
			pt, err := pgType(f.Type)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", name, f.Name, err)
			}
			cols = append(cols, fmt.Sprintf("%q %s", f.Name, pt))
		}
		for {
			b, err := r.Stream.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			for i := range int(b.NumRows()) {
				rec := make([]string, b.NumCols())
				for j := range rec {
					rec[j] = b.Column(j).ValueStr(i)
				}
				if err := w.Write(rec); err != nil {
					return err
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s (%s, PRIMARY KEY (%s))", schema, name, strings.Join(cols, ", "), strings.Fields(cols[0])[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, &buf, fmt.Sprintf("COPY %s.%s FROM STDIN (FORMAT csv)", schema, name)); err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ANALYZE %s.%s", schema, name)); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresJoinsParquet puts TPC-H's customer and nation tables in
// PostgreSQL (through the bundled plugin) and leaves the others in
// Parquet: every TPC-H query that reads them gives the same answer as
// with all tables in Parquet, and EXPLAIN shows what went to PostgreSQL.
func TestPostgresJoinsParquet(t *testing.T) {
	dsn, data := pgEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(context.Background())
	schema := fmt.Sprintf("arbalest_conf_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")

	parquet := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	if err := tpch.Register(ctx, parquet, data); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"customer", "nation"} {
		loadTable(ctx, t, conn, parquet, schema, tbl)
	}

	m, err := runtime.New([]runtime.Config{{Name: "pg", Path: "builtin:postgres"}}, runtime.Options{Self: arbalestBin(t), Log: io.Discard, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mixed := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	mixed.Catalog.SetExtensions(m)
	if err := tpch.Register(ctx, mixed, data); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"customer", "nation"} {
		ddl := fmt.Sprintf("CREATE OR REPLACE EXTERNAL TABLE %s STORED AS pg OPTIONS (dsn '%s', table '%s.%s', partitions '3')", tbl, dsn, schema, tbl)
		if _, err := query(mixed, ddl); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []int{2, 3, 5, 7, 8, 9, 10, 11, 13, 18, 20, 21, 22} {
		want := tpch.Run(ctx, parquet, q)
		got := tpch.Run(ctx, mixed, q)
		if want.Err != nil || got.Err != nil {
			t.Errorf("q%02d: parquet %v, mixed %v", q, want.Err, got.Err)
			continue
		}
		if err := tpch.Compare(got.Rows, want.Rows); err != nil {
			t.Errorf("q%02d with customer and nation in PostgreSQL: %v", q, err)
		}
	}
	// What went to PostgreSQL: the projection, the exact filter, the splits.
	q := "SELECT c_mktsegment, count(*), sum(o_totalprice) FROM customer JOIN orders ON c_custkey = o_custkey " +
		"WHERE c_acctbal > 9000 AND c_mktsegment <> 'AUTOMOBILE' GROUP BY 1 ORDER BY 1"
	want := mustQuery(t, parquet, q)
	expect(t, mixed, q, want...)
	ex := explain(t, mixed, q)
	for _, s := range []string{"plugin=pg", "splits=3", "exact_filters=[gt(c_acctbal#", "c_acctbal", "c_mktsegment",
		"Scan: customer projection=[c_custkey, c_mktsegment] "} {
		if !strings.Contains(ex, s) {
			t.Errorf("EXPLAIN lacks %q:\n%s", s, ex)
		}
	}
	if strings.Contains(ex, "Filter:") {
		t.Errorf("EXPLAIN still filters above the PostgreSQL scan:\n%s", ex)
	}
	if strings.Contains(ex, ":arbalest@") || strings.Contains(ex, "password") {
		t.Errorf("EXPLAIN shows the password:\n%s", ex)
	}
	t.Logf("EXPLAIN:\n%s", ex)
}
