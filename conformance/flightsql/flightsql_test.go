// Package flightsql_test checks the scheduler's Flight SQL server with
// real clients: arrow-go's flightsql client, the ADBC Flight SQL driver
// from Python, and the Arrow Flight SQL JDBC driver from Java. Each test
// starts a standalone cluster (scheduler and executors) in this process
// with the Flight SQL server on a loopback port.
//
// The TPC-H parts need $ARBALEST_TPCH_SF01 (the SF 0.1 Parquet files);
// they skip without it unless ARBALEST_FLIGHTSQL_REQUIRED=1.
package flightsql_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/host/flightsql"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/substrait/sql"
	"github.com/arbalest/arbalest/workers/go/executor"
)

const (
	testUser     = "analyst"
	testPassword = "s3cret:with colon"
)

// callTimeout bounds every call of the tests.
const callTimeout = 3 * time.Minute

// startServer starts a standalone cluster with a Flight SQL server; user
// and password may be empty (anonymous, loopback).
func startServer(t *testing.T, user, password string) string {
	t.Helper()
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(),
		scheduler.Config{Partitions: 3, Logf: t.Logf}, executor.Config{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	if err := st.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	srv, err := st.Scheduler.StartFlightSQL(flightsql.Config{Addr: "127.0.0.1:0", User: user, Password: password, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Addr()
}

func dial(t *testing.T, addr string) *fsql.Client {
	t.Helper()
	cl, err := fsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// login dials and logs in; the returned context carries the bearer token.
func login(t *testing.T, addr string) (*fsql.Client, context.Context) {
	t.Helper()
	cl := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	ctx, err := cl.Client.AuthenticateBasicToken(ctx, testUser, testPassword)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return cl, ctx
}

// tpchData is the SF 0.1 directory, or a skip.
func tpchData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARBALEST_TPCH_SF01")
	if dir == "" {
		if os.Getenv("ARBALEST_FLIGHTSQL_REQUIRED") == "1" {
			t.Fatal("ARBALEST_FLIGHTSQL_REQUIRED=1 but ARBALEST_TPCH_SF01 is not set")
		}
		t.Skip("set ARBALEST_TPCH_SF01 to the TPC-H SF 0.1 Parquet files (make test does)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// createTables registers the TPC-H tables over Flight SQL.
func createTables(t *testing.T, ctx context.Context, cl *fsql.Client, dir string) {
	t.Helper()
	for _, tb := range tpch.Tables {
		loc := filepath.Join(dir, tb+".parquet")
		if _, err := os.Stat(loc); err != nil {
			loc = filepath.Join(dir, tb)
		}
		n, err := cl.ExecuteUpdate(ctx, fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS PARQUET LOCATION '%s'", tb, strings.ReplaceAll(loc, "'", "''")))
		if err != nil {
			t.Fatalf("create %s: %v", tb, err)
		}
		if n != 0 && n != -1 {
			t.Fatalf("create %s: update count %d, want 0 or -1", tb, n)
		}
	}
}

// fetch reads every endpoint of info and renders the rows as text the
// way the embedded engine does, so tpch.Compare applies.
func fetch(ctx context.Context, cl *fsql.Client, info *flight.FlightInfo) (*arrow.Schema, [][]tpch.Value, error) {
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	var schema *arrow.Schema
	for _, ep := range info.GetEndpoint() {
		rd, err := cl.DoGet(ctx, ep.GetTicket())
		if err != nil {
			return nil, nil, err
		}
		schema = rd.Schema()
		for rd.Next() {
			b := rd.RecordBatch()
			b.Retain()
			batches = append(batches, b)
		}
		err = rd.Err()
		rd.Release()
		if err != nil {
			return nil, nil, err
		}
	}
	if schema == nil {
		return nil, nil, errors.New("no endpoints")
	}
	rows, err := engine.CollectText(ctx, engine.NewBatchStream(schema, batches))
	return schema, rows, err
}

func query(t *testing.T, ctx context.Context, cl *fsql.Client, sql string) (*arrow.Schema, [][]tpch.Value) {
	t.Helper()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	s, rows, err := fetch(ctx, cl, info)
	if err != nil {
		t.Fatalf("%s: fetching: %v", sql, err)
	}
	return s, rows
}

var (
	localOnce sync.Once
	local     *engine.Session
	localErr  error
)

// embedded is the embedded engine with the TPC-H tables: the answers to
// compare with.
func embedded(t *testing.T, dir string) *engine.Session {
	t.Helper()
	localOnce.Do(func() {
		local = standalone.NewSession(engine.ExecOptions{Partitions: 2})
		localErr = tpch.Register(context.Background(), local, dir)
	})
	if localErr != nil {
		t.Fatal(localErr)
	}
	return local
}

func TestAuthentication(t *testing.T) {
	addr := startServer(t, testUser, testPassword)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cl := dial(t, addr)

	if _, err := cl.Client.AuthenticateBasicToken(ctx, testUser, "wrong"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: got %v, want Unauthenticated", err)
	}
	if _, err := cl.Client.AuthenticateBasicToken(ctx, "someone", testPassword); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong user: got %v, want Unauthenticated", err)
	}
	if _, err := cl.Execute(ctx, "SELECT 1 AS one"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no credentials: got %v, want Unauthenticated", err)
	}
	if _, err := cl.GetCatalogs(ctx); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no credentials (catalogs): got %v, want Unauthenticated", err)
	}
	bad := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer not-a-token")
	if _, err := cl.Execute(bad, "SELECT 1 AS one"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("forged token: got %v, want Unauthenticated", err)
	}

	authed, err := cl.Client.AuthenticateBasicToken(ctx, testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, rows := query(t, authed, cl, "SELECT 1 + 2 AS three")
	if len(rows) != 1 || rows[0][0].Text != "3" {
		t.Fatalf("SELECT 1 + 2 = %v", rows)
	}
}

func TestAnonymousOnlyOnLoopback(t *testing.T) {
	_, err := flightsql.Start(nil, nil, flightsql.Config{Addr: "0.0.0.0:0"})
	if !errors.Is(err, flightsql.ErrConfig) || !strings.Contains(err.Error(), "without credentials") {
		t.Fatalf("anonymous on all interfaces: got %v, want a refusal", err)
	}
	_, err = flightsql.Start(nil, nil, flightsql.Config{Addr: "127.0.0.1:0", User: "u"})
	if !errors.Is(err, flightsql.ErrConfig) {
		t.Fatalf("user without password: got %v, want a refusal", err)
	}

	addr := startServer(t, "", "")
	cl := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, rows := query(t, ctx, cl, "SELECT 'anonymous' AS who")
	if len(rows) != 1 || rows[0][0].Text != "anonymous" {
		t.Fatalf("anonymous query: %v", rows)
	}
}

func TestErrors(t *testing.T) {
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	_, err := cl.Execute(ctx, "SELECT no_such_column FROM (VALUES (1)) AS t(x)")
	if err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Fatalf("bad column: got %v, want an error naming no_such_column", err)
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad column: code %s, want InvalidArgument", status.Code(err))
	}
	_, err = cl.Execute(ctx, "SELEC 1")
	if err == nil || status.Code(err) != codes.InvalidArgument || !strings.Contains(strings.ToLower(err.Error()), "syntax") {
		t.Fatalf("syntax error: got %v", err)
	}
	_, err = cl.Execute(ctx, "SELECT * FROM no_such_table")
	if err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("missing table: got %v", err)
	}
	// A ticket that is not ours.
	tk, err := fsql.CreateStatementQueryTicket([]byte("forged"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := cl.DoGet(ctx, &flight.Ticket{Ticket: tk})
	if err == nil {
		for rd.Next() {
		}
		err = rd.Err()
		rd.Release()
	}
	if status.Code(err) != codes.NotFound {
		t.Fatalf("forged ticket: got %v, want NotFound", err)
	}
}

func TestSessionsAndMetadata(t *testing.T) {
	dir := tpchData(t)
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	createTables(t, ctx, cl, dir)

	// Another login is another session: it does not see these tables.
	cl2, ctx2 := login(t, addr)
	if _, err := cl2.Execute(ctx2, "SELECT count(*) FROM lineitem"); err == nil || !strings.Contains(err.Error(), "lineitem") {
		t.Fatalf("second session sees the first one's table: %v", err)
	}

	info, err := cl.GetCatalogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, rows, err := fetch(ctx, cl, info); err != nil || len(rows) != 1 || rows[0][0].Text != flightsql.CatalogName {
		t.Fatalf("catalogs: %v %v", rows, err)
	}
	info, err = cl.GetDBSchemas(ctx, &fsql.GetDBSchemasOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if _, rows, err := fetch(ctx, cl, info); err != nil || len(rows) != 1 || rows[0][1].Text != flightsql.SchemaName {
		t.Fatalf("schemas: %v %v", rows, err)
	}
	info, err = cl.GetTableTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, rows, err := fetch(ctx, cl, info); err != nil || len(rows) != 2 {
		t.Fatalf("table types: %v %v", rows, err)
	}

	if _, err := cl.ExecuteUpdate(ctx, "CREATE VIEW cheap AS SELECT p_partkey, p_retailprice FROM part WHERE p_retailprice < 1000"); err != nil {
		t.Fatal(err)
	}
	pattern := "%e%"
	info, err = cl.GetTables(ctx, &fsql.GetTablesOpts{TableNameFilterPattern: &pattern, IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	got := map[string]*arrow.Schema{}
	kinds := map[string]string{}
	for rd.Next() {
		rec := rd.RecordBatch()
		names := rec.Column(2).(*array.String)
		types := rec.Column(3).(*array.String)
		schemas := rec.Column(4).(*array.Binary)
		for i := 0; i < int(rec.NumRows()); i++ {
			s, err := flight.DeserializeSchema(schemas.Value(i), memory.DefaultAllocator)
			if err != nil {
				t.Fatalf("table %s: schema: %v", names.Value(i), err)
			}
			got[names.Value(i)] = s
			kinds[names.Value(i)] = types.Value(i)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	// %e% matches these tables of TPC-H and the view.
	for _, want := range []string{"lineitem", "supplier", "customer", "orders", "region", "cheap"} {
		if _, ok := got[want]; !ok {
			t.Errorf("GetTables %%e%%: %s missing (got %v)", want, kinds)
		}
	}
	for _, no := range []string{"part", "partsupp", "nation"} {
		if _, ok := got[no]; ok {
			t.Errorf("GetTables %%e%%: %s does not match", no)
		}
	}
	if kinds["cheap"] != "VIEW" || kinds["lineitem"] != "TABLE" {
		t.Errorf("table types: %v", kinds)
	}
	if s := got["lineitem"]; s == nil || s.NumFields() != 16 || s.Field(0).Name != "l_orderkey" {
		t.Errorf("lineitem schema: %v", s)
	}
	if s := got["cheap"]; s == nil || s.NumFields() != 2 {
		t.Errorf("view schema: %v", s)
	}

	info, err = cl.GetSqlInfo(ctx, []fsql.SqlInfo{fsql.SqlInfoFlightSqlServerName, fsql.SqlInfoTransactionsSupported, fsql.SqlInfoIdentifierQuoteChar})
	if err != nil {
		t.Fatal(err)
	}
	rd2, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Release()
	seen := map[uint32]string{}
	for rd2.Next() {
		rec := rd2.RecordBatch()
		ids := rec.Column(0).(*array.Uint32)
		vals := rec.Column(1).(*array.DenseUnion)
		for i := 0; i < int(rec.NumRows()); i++ {
			child := vals.Field(vals.ChildID(i))
			seen[ids.Value(i)] = child.ValueStr(int(vals.ValueOffset(i)))
		}
	}
	if seen[uint32(fsql.SqlInfoFlightSqlServerName)] != "Arbalest" || seen[uint32(fsql.SqlInfoTransactionsSupported)] != "false" || seen[uint32(fsql.SqlInfoIdentifierQuoteChar)] != `"` {
		t.Fatalf("sql info: %v", seen)
	}
}

func TestTPCH(t *testing.T) {
	dir := tpchData(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	createTables(t, ctx, cl, dir)
	for q := 1; q <= 22; q++ {
		text, err := tpch.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatalf("q%02d on the embedded engine: %v", q, want.Err)
		}
		got := runScript(t, ctx, cl, text)
		if err := tpch.Compare(got, want.Rows); err != nil {
			t.Errorf("q%02d over Flight SQL: %v", q, err)
		}
	}
}

func TestPreparedStatements(t *testing.T) {
	dir := tpchData(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)
	cl, ctx := login(t, addr)
	createTables(t, ctx, cl, dir)

	const q = "SELECT count(*) AS n, sum(l_extendedprice) AS s FROM lineitem WHERE l_quantity < ? AND l_returnflag = ? AND l_shipdate <= ?"
	stmt, err := cl.Prepare(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close(ctx)
	if ps := stmt.ParameterSchema(); ps == nil || ps.NumFields() != 3 {
		t.Fatalf("parameter schema: %v", ps)
	}
	if ds := stmt.DatasetSchema(); ds == nil || ds.NumFields() != 2 || ds.Field(0).Name != "n" {
		t.Fatalf("dataset schema: %v", ds)
	}
	for _, c := range []struct {
		qty  int64
		flag string
		day  string
	}{{24, "R", "1995-06-17"}, {10, "A", "1993-01-01"}, {50, "N", "1998-12-01"}} {
		rec := params(t, c.qty, c.flag, c.day)
		stmt.SetParameters(rec)
		rec.Release()
		info, err := stmt.Execute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := fetch(ctx, cl, info)
		if err != nil {
			t.Fatal(err)
		}
		lit := fmt.Sprintf("SELECT count(*) AS n, sum(l_extendedprice) AS s FROM lineitem WHERE l_quantity < %d AND l_returnflag = '%s' AND l_shipdate <= DATE '%s'", c.qty, c.flag, c.day)
		want := runLocal(t, local, lit)
		if err := tpch.Compare(got, want); err != nil {
			t.Errorf("%+v: prepared and literal answers differ: %v", c, err)
		}
		if got[0][0].Text == "0" {
			t.Errorf("%+v: no rows matched; the test checks nothing", c)
		}
	}

	// Strings are bound as values, never as SQL.
	echo, err := cl.Prepare(ctx, "SELECT $1 AS s, $2 AS n, $1 || '!' AS t")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close(ctx)
	evil := `it's'); DROP TABLE lineitem; -- $2 ? \`
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil))
	b.Field(0).(*array.StringBuilder).Append(evil)
	b.Field(1).(*array.Float64Builder).Append(-2.5)
	rec := b.NewRecordBatch()
	b.Release()
	echo.SetParameters(rec)
	rec.Release()
	info, err := echo.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := fetch(ctx, cl, info)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][0].Text != evil || rows[0][1].Text != "-2.5" || rows[0][2].Text != evil+"!" {
		t.Fatalf("echo: %v", rows)
	}

	// Too few parameters is an error naming the count.
	short, err := cl.Prepare(ctx, "SELECT $1 AS a, $2 AS b")
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close(ctx)
	one := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32}}, nil))
	one.Field(0).(*array.Int32Builder).Append(1)
	r1 := one.NewRecordBatch()
	one.Release()
	short.SetParameters(r1)
	r1.Release()
	if _, err := short.Execute(ctx); err == nil || !strings.Contains(err.Error(), "2 parameters") {
		t.Fatalf("one parameter for two: got %v", err)
	}

	// Prepared DDL (no result schema) runs as an update.
	ddl, err := cl.Prepare(ctx, "CREATE VIEW big_orders AS SELECT * FROM orders WHERE o_totalprice > 400000")
	if err != nil {
		t.Fatal(err)
	}
	defer ddl.Close(ctx)
	if _, err := ddl.ExecuteUpdate(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows = query(t, ctx, cl, "SELECT count(*) FROM big_orders")
	want := runLocal(t, local, "SELECT count(*) FROM orders WHERE o_totalprice > 400000")
	if err := tpch.Compare(rows, want); err != nil {
		t.Fatalf("view made by a prepared statement: %v", err)
	}
}

// runScript runs the statements of a TPC-H query one by one (Q15 makes
// and drops a view) and returns the rows of its query.
func runScript(t *testing.T, ctx context.Context, cl *fsql.Client, script string) [][]tpch.Value {
	t.Helper()
	stmts, err := sql.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]tpch.Value
	for _, st := range stmts {
		text := st.SQL
		for strings.HasPrefix(strings.TrimSpace(text), "--") {
			_, text, _ = strings.Cut(strings.TrimSpace(text), "\n")
		}
		switch w := strings.ToLower(strings.Fields(text + " x")[0]); w {
		case "create", "drop":
			if _, err := cl.ExecuteUpdate(ctx, st.SQL); err != nil {
				t.Fatalf("%s: %v", st.SQL, err)
			}
		default:
			_, rows = query(t, ctx, cl, st.SQL)
		}
	}
	return rows
}

func params(t *testing.T, qty int64, flag, day string) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
		{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		{Name: "flag", Type: arrow.BinaryTypes.String},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
	}, nil))
	defer b.Release()
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		t.Fatal(err)
	}
	b.Field(0).(*array.Int64Builder).Append(qty)
	b.Field(1).(*array.StringBuilder).Append(flag)
	b.Field(2).(*array.Date32Builder).Append(arrow.Date32FromTime(d))
	return b.NewRecordBatch()
}

func runLocal(t *testing.T, s *engine.Session, sql string) [][]tpch.Value {
	t.Helper()
	var rows [][]tpch.Value
	err := s.Run(context.Background(), sql, func(r *engine.Result) error {
		var err error
		rows, err = engine.CollectText(context.Background(), r.Stream)
		return err
	})
	if err != nil {
		t.Fatalf("%s on the embedded engine: %v", sql, err)
	}
	return rows
}
