package postgres

// Integration tests against a real PostgreSQL server:
//
//	.ci/postgres.sh start
//	ARBALEST_PG_DSN=$(.ci/postgres.sh dsn) ARBALEST_PG_REQUIRED=1 go test ./plugins/postgres/
//
// They skip only when ARBALEST_PG_DSN is unset (and ARBALEST_PG_REQUIRED is
// not 1); a set DSN whose server cannot be reached fails them.

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	plugin "github.com/arbalest/arbalest/plugins/author"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/jackc/pgx/v5"
	"github.com/substrait-io/substrait-go/v8/expr"
	"go.uber.org/goleak"
)

// pgEnv is a connection to the test server and a schema of test tables
// that is dropped at the end.
type pgEnv struct {
	dsn    string
	schema string
	admin  *pgx.Conn
}

var (
	envOnce sync.Once
	envVal  *pgEnv
	envErr  error
)

// testPG returns the shared test environment (set up once per process).
func testPG(t *testing.T) *pgEnv {
	t.Helper()
	dsn := os.Getenv("ARBALEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("ARBALEST_PG_REQUIRED") == "1" {
			t.Fatal("ARBALEST_PG_REQUIRED=1 but ARBALEST_PG_DSN is not set (run .ci/postgres.sh start and export ARBALEST_PG_DSN=$(.ci/postgres.sh dsn))")
		}
		t.Skip("ARBALEST_PG_DSN is not set (run .ci/postgres.sh start and export ARBALEST_PG_DSN=$(.ci/postgres.sh dsn))")
	}
	envOnce.Do(func() { envVal, envErr = setupPG(dsn) })
	if envErr != nil {
		t.Fatalf("PostgreSQL test server at %s: %v", describeDSN(dsn), newRedactor(dsn).text(envErr.Error()))
	}
	return envVal
}

// TestMain drops the test schema and then checks that no goroutine was
// left behind (every Source is closed by its test's cleanup).
func TestMain(m *testing.M) {
	code := m.Run()
	if envVal != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = envVal.admin.Exec(ctx, "DROP SCHEMA "+quoteIdent(envVal.schema)+" CASCADE")
		_ = envVal.admin.Close(ctx)
		cancel()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "leaked goroutines: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

const allRows = 3000

func setupPG(dsn string) (*pgEnv, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect: %w", err)
	}
	env := &pgEnv{dsn: dsn, schema: fmt.Sprintf("arbalest_test_%d_%d", os.Getpid(), rand.IntN(1_000_000)), admin: admin}
	s := quoteIdent(env.schema)
	stmts := []string{
		"CREATE SCHEMA " + s,
		`CREATE TABLE ` + s + `.allt (
			id int8 PRIMARY KEY, i2 int2, i4 int4, f4 float4, f8 float8,
			num numeric(12,2), numu numeric, t text, vc varchar(20), ch char(5),
			b bool, d date, ts timestamp, tstz timestamptz, by bytea,
			tc text COLLATE "und-x-icu", "Mixed ""Case""" int4)`,
		`INSERT INTO ` + s + `.allt SELECT g, (g % 300)::int2, CASE WHEN g % 10 = 0 THEN NULL ELSE g * 7 END, g / 3.0, g * 1.5,
			(g * 1.25)::numeric(12,2), g / 7.0, 'name ' || g, 'v' || (g % 50), chr(65 + g % 26),
			g % 2 = 0, DATE '2000-01-01' + g, TIMESTAMP '2020-01-01' + g * interval '1 minute 0.000001 second',
			TIMESTAMPTZ '2020-01-01 00:00:00+00' + g * interval '1 second', decode(lpad(to_hex(g), 8, '0'), 'hex'),
			CASE WHEN g % 2 = 0 THEN 'a' ELSE 'B' END || g, g % 5
			FROM generate_series(1, ` + strconv.Itoa(allRows) + `) g`,
		`INSERT INTO ` + s + `.allt (id) VALUES (10001)`,
		`INSERT INTO ` + s + `.allt VALUES
			(10002, -32768, -2147483648, 'NaN', 'NaN', -9999999999.99, 1234567890.01234567891, 'żółw 🐢', 'Ünïcödé', 'ab   ',
			 false, '0044-03-15 BC', '0001-01-01 00:00:00 BC', '1969-12-31 23:59:59.999999+00', '\x', 'zzz', -1),
			(10003, 32767, 2147483647, '-Infinity', 'Infinity', 9999999999.99, -0.00000000005, '', 'a\_b%c', '',
			 true, '9999-12-31', '2262-04-11 23:47:16.854775', '2000-06-30 12:00:00-07', '\x00ff', 'ÅB', 0),
			(10004, 0, 0, -0.0, '-0', 0, 0, 'a%b_c\d', 'x', 'Z', NULL, '1970-01-01', '1970-01-01', '1970-01-01 00:00:00+00', '\xdeadbeef', 'b', NULL)`,
		`CREATE TABLE ` + s + `.odd (id int4, u uuid, j jsonb, iv interval)`,
		`INSERT INTO ` + s + `.odd VALUES (1, '6ba7b810-9dad-11d1-80b4-00c04fd430c8', '{"a": 1}', '1 day'), (2, NULL, NULL, NULL)`,
		`CREATE TABLE ` + s + `.inf (id int4, d date)`,
		`INSERT INTO ` + s + `.inf VALUES (1, '2020-01-01'), (2, 'infinity')`,
		`CREATE TABLE ` + s + `.big AS SELECT g AS id FROM generate_series(1, 2000000) g`,
		`CREATE DOMAIN ` + s + `.money2 AS numeric(10,2)`,
		`CREATE TABLE ` + s + `."Quoted Table" (k ` + s + `.money2, "select" text)`,
		`INSERT INTO ` + s + `."Quoted Table" VALUES (1.5, 'x'), (NULL, NULL)`,
		`CREATE TABLE ` + s + `.wide (n numeric(50, 2))`,
		`CREATE VIEW ` + s + `.v AS SELECT id, t FROM ` + s + `.allt WHERE id <= 10`,
		`ANALYZE ` + s + `.allt`,
	}
	// A nondeterministic collation: equal ignores case (PostgreSQL 12+ with ICU).
	var icu bool
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int >= 120000 AND EXISTS (SELECT FROM pg_collation WHERE collprovider = 'i')`).Scan(&icu); err != nil {
		return nil, err
	}
	if icu {
		stmts = append(stmts,
			`CREATE COLLATION `+s+`.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
			`CREATE TABLE `+s+`.nd (id int4, v text COLLATE `+s+`.ci)`,
			`INSERT INTO `+s+`.nd VALUES (1, 'abc'), (2, 'ABC'), (3, 'abd')`)
	}
	for _, st := range stmts {
		if _, err := admin.Exec(ctx, st); err != nil {
			return nil, fmt.Errorf("setting up (%.60s...): %w", st, err)
		}
	}
	return env, nil
}

// table is a table definition of the test schema.
func (e *pgEnv) table(name string, opts ...string) plugin.Table {
	o := map[string]string{"dsn": e.dsn, "table": quoteIdent(e.schema) + "." + name}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
		if opts[i] == "query" {
			delete(o, "table")
		}
	}
	return plugin.Table{Options: o}
}

// withPassword returns the DSN with another password.
func withPassword(t *testing.T, dsn, pw string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skipf("the test DSN is not a URL; cannot change its password")
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// cell renders one Arrow value the way canonical() renders it in SQL.
func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch x := a.(type) {
	case *array.Int16:
		return strconv.FormatInt(int64(x.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(x.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(x.Value(i), 10)
	case *array.Float32:
		return hex.EncodeToString(binary.BigEndian.AppendUint32(nil, math.Float32bits(x.Value(i))))
	case *array.Float64:
		return hex.EncodeToString(binary.BigEndian.AppendUint64(nil, math.Float64bits(x.Value(i))))
	case *array.Decimal128:
		return x.Value(i).ToString(x.DataType().(*arrow.Decimal128Type).Scale)
	case *array.String:
		return x.Value(i)
	case *array.Binary:
		return hex.EncodeToString(x.Value(i))
	case *array.Boolean:
		return strconv.FormatBool(x.Value(i))
	case *array.Date32:
		return strconv.FormatInt(int64(x.Value(i)), 10)
	case *array.Timestamp:
		return strconv.FormatInt(int64(x.Value(i)), 10)
	}
	return fmt.Sprintf("?%T", a)
}

// canonical is SQL rendering column c as cell renders its Arrow value:
// exact forms (float bits, epoch days and microseconds) so no formatting
// rule can hide a difference.
func canonical(c *column) string {
	e := c.expr
	switch c.oid {
	case oidFloat4:
		return "encode(float4send(" + e + "), 'hex')"
	case oidFloat8:
		return "encode(float8send(" + e + "), 'hex')"
	case oidDate:
		return "(" + e + " - DATE '1970-01-01')::text"
	case oidTimestamp, oidTimestamptz:
		return "(EXTRACT(EPOCH FROM " + e + ") * 1000000)::int8::text"
	case oidBytea:
		return "encode(" + e + ", 'hex')"
	}
	return e + "::text"
}

// directRows runs SELECT of the canonical forms of cols with where, the
// expected answer of a scan.
func (e *pgEnv) directRows(t *testing.T, from string, cols []column, where string) []string {
	t.Helper()
	sel := make([]string, len(cols))
	for i := range cols {
		sel[i] = "COALESCE(" + canonical(&cols[i]) + ", 'NULL')"
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + from
	if len(cols) == 0 {
		q = "SELECT FROM " + from
	}
	if where != "" {
		q += " WHERE " + where
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := e.admin.Query(ctx, q, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		raw := rows.RawValues()
		r := make([]string, len(raw))
		for i, v := range raw {
			r[i] = string(v)
		}
		out = append(out, strings.Join(r, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	slices.Sort(out)
	return out
}

// readPlan reads every split of a plan (in parallel, as executors would)
// and returns the rows rendered by cell, sorted, and the rows per split.
func readPlan(t *testing.T, src *Source, plan *plugin.ScanPlan, schema *arrow.Schema) ([]string, []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	per := make([][]string, len(plan.Splits))
	errs := make([]error, len(plan.Splits))
	var wg sync.WaitGroup
	for i, sp := range plan.Splits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = src.ReadSplit(ctx, sp.Ticket, func(rec arrow.RecordBatch) error {
				if schema != nil && !rec.Schema().Equal(schema) {
					return fmt.Errorf("batch schema %s, want %s", rec.Schema(), schema)
				}
				for r := range int(rec.NumRows()) {
					cells := make([]string, rec.NumCols())
					for c := range cells {
						cells[c] = cell(rec.Column(c), r)
					}
					per[i] = append(per[i], strings.Join(cells, "|"))
				}
				return nil
			})
		}()
	}
	wg.Wait()
	var all []string
	counts := make([]int, len(per))
	for i, rows := range per {
		if errs[i] != nil {
			t.Fatalf("split %d: %v", i, errs[i])
		}
		counts[i] = len(rows)
		all = append(all, rows...)
	}
	slices.Sort(all)
	return all, counts
}

func sameRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d\nfirst got:  %q\nfirst want: %q", len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d differs\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 3)] }

func ctx60(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestSource is a Source whose batches are checked for leaks.
func newTestSource(t *testing.T) *Source {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	src := NewWithAllocator(mem)
	t.Cleanup(func() {
		src.Close()
		mem.AssertSize(t, 0)
	})
	return src
}

func TestPluginInfo(t *testing.T) {
	p := Plugin()
	if p.Name != "postgres" || p.Source == nil || p.Version == "" {
		t.Fatalf("plugin %+v", p)
	}
}

func TestSchemaAndStats(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	schema, stats, err := src.Schema(ctx60(t), env.table("allt"))
	if err != nil {
		t.Fatal(err)
	}
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	want := []arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i2", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i4", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f4", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f8", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "num", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "numu", Type: &arrow.Decimal128Type{Precision: 38, Scale: 10}, Nullable: true},
		{Name: "t", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "vc", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ch", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: ts, Nullable: true},
		{Name: "tstz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "by", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "tc", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: `Mixed "Case"`, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}
	if !schema.Equal(arrow.NewSchema(want, nil)) {
		t.Fatalf("schema\n%s\nwant\n%s", schema, arrow.NewSchema(want, nil))
	}
	if stats.RowCount != allRows+4 {
		t.Errorf("row count estimate %d, want %d (after ANALYZE)", stats.RowCount, allRows+4)
	}
	if stats.TotalBytes <= 0 {
		t.Errorf("total bytes %d", stats.TotalBytes)
	}
	// A view has no estimate.
	schema, stats, err = src.Schema(ctx60(t), env.table("v"))
	if err != nil || schema.NumFields() != 2 || stats.RowCount != -1 {
		t.Errorf("view: %v %v %v", schema, stats, err)
	}
	// A domain reads as its base type; a quoted table name resolves.
	schema, _, err = src.Schema(ctx60(t), env.table(`"Quoted Table"`))
	if err != nil {
		t.Fatal(err)
	}
	if got := schema.Field(0).Type; !arrow.TypeEqual(got, &arrow.Decimal128Type{Precision: 10, Scale: 2}) || schema.Field(1).Name != "select" {
		t.Errorf("domain table schema %s", schema)
	}
}

// scan plans a scan of table tb with the given filters and returns the plan
// and the source description (for expected rows).
func scan(t *testing.T, env *pgEnv, src *Source, tb plugin.Table, proj []int, limit int64, par int, filters ...logical.Expr) (*plugin.ScanPlan, *arrow.Schema, []column) {
	t.Helper()
	ctx := ctx60(t)
	schema, _, err := src.Schema(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	ls := logical.FromArrow(schema, "t")
	var fs []expr.Expression
	if len(filters) > 0 {
		fs = toSubstrait(t, ls, filters...)
	}
	plan, err := src.PlanScan(ctx, &plugin.ScanRequest{Table: tb, Schema: schema, Projection: proj, Filters: fs, Limit: limit, Parallelism: par})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseTable(tb)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := describe(ctx, env.admin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cols := desc.columns
	outSchema := schema
	if proj != nil {
		cols = nil
		fields := []arrow.Field{}
		for _, i := range proj {
			cols = append(cols, desc.columns[i])
			fields = append(fields, schema.Field(i))
		}
		outSchema = arrow.NewSchema(fields, nil)
	}
	return plan, outSchema, cols
}

func TestScanAllTypes(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	tb := env.table("allt", "batch_rows", "500")
	plan, schema, cols := scan(t, env, src, tb, nil, -1, 1)
	if len(plan.Splits) != 1 {
		t.Fatalf("%d splits for a table of %d rows with parallelism 1", len(plan.Splits), allRows)
	}
	got, _ := readPlan(t, src, plan, schema)
	sameRows(t, got, env.directRows(t, quoteIdent(env.schema)+".allt", cols, ""))
	// Spot checks of values that the canonical forms could share with a
	// wrong decoder: extremes, NaN, signed zero (the float4 column got
	// numeric -0.0, which is plain 0), 44 BC, an empty bytea, char padding.
	want := map[string]bool{
		"10002|-32768|-2147483648|7fc00000|7ff8000000000000|-9999999999.99|1234567890.0123456789|żółw 🐢|Ünïcödé|ab|false|-735160|-62167219200000000|-1||zzz|-1": true,
		"10004|0|0|00000000|8000000000000000|0.00|0.0000000000|a%b_c\\d|x|Z|NULL|0|0|0|deadbeef|b|NULL":                                                         true,
		"10003|32767|2147483647|ff800000|7ff0000000000000|9999999999.99|-0.0000000001||a\\_b%c||true|2932896|9223372036854775|962391600000000|00ff|ÅB|0":        true,
	}
	for _, r := range got {
		delete(want, r)
	}
	if len(want) > 0 {
		for _, r := range got {
			if strings.HasPrefix(r, "1000") {
				t.Logf("read: %s", r)
			}
		}
		t.Errorf("rows not read as expected: %v", want)
	}
}

func TestPushdown(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	tb := env.table("allt")
	schema, _, err := src.Schema(ctx60(t), tb)
	if err != nil {
		t.Fatal(err)
	}
	ls := logical.FromArrow(schema, "t")
	idx := func(name string) int {
		i := schema.FieldIndices(name)
		if len(i) != 1 {
			t.Fatalf("no column %s", name)
		}
		return i[0]
	}
	col := func(name string) *logical.ColumnRef { return logical.Col(ls, idx(name)) }
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	dec := &arrow.Decimal128Type{Precision: 12, Scale: 2}
	cases := []struct {
		name   string
		proj   []string
		filter logical.Expr
		where  string // the same condition in PostgreSQL, with Arbalest's semantics
	}{
		{"int range", []string{"id", "t"}, logical.And(call("gte", col("id"), i64(100)), call("lt", col("id"), i64(120))), "id >= 100 AND id < 120"},
		{"byte-order strings under ICU", []string{"id", "tc"}, call("lt", col("tc"), str("a")), `tc COLLATE "C" < 'a'`},
		{"unicode equality", []string{"id"}, call("equal", col("t"), str("żółw 🐢")), "t = 'żółw 🐢'"},
		{"char padding", []string{"id", "ch"}, call("equal", col("ch"), str("ab")), "rtrim(ch) = 'ab'"},
		{"like without escape", []string{"id", "t"}, call("like", col("t"), str(`a%b_c\d`)), `t LIKE 'a%b_c\d' ESCAPE ''`},
		{"like underscore", []string{"id", "vc"}, call("like", col("vc"), str("v_")), "vc LIKE 'v_' ESCAPE ''"},
		{"nulls", []string{"id"}, call("is_null", col("i4")), "i4 IS NULL"},
		{"in list", []string{"id", "vc"}, &logical.InList{Input: col("vc"), List: []logical.Expr{str("v1"), str("v7"), str("Ünïcödé")}}, "vc IN ('v1', 'v7', 'Ünïcödé')"},
		{"in with null", []string{"id"}, &logical.InList{Input: col("i2"), List: []logical.Expr{lit(int16(1), arrow.PrimitiveTypes.Int16), logical.NullLiteral(arrow.PrimitiveTypes.Int16)}}, "i2 IN (1, NULL)"},
		{"not in", []string{"id"}, &logical.InList{Input: col("i2"), List: []logical.Expr{lit(int16(1), arrow.PrimitiveTypes.Int16), lit(int16(2), arrow.PrimitiveTypes.Int16)}, Negated: true}, "i2 NOT IN (1, 2)"},
		{"decimal", []string{"id", "num"}, call("gt", col("num"), lit(decimal128.FromI64(370000), dec)), "num > 3700.00"},
		{"unconstrained numeric rounded", []string{"id", "numu"}, call("lt", col("numu"), lit(decimal128.FromI64(0), &arrow.Decimal128Type{Precision: 38, Scale: 10})), "numu::numeric(38,10) < 0"},
		{"float NaN sorts high", []string{"id", "f8"}, call("gt", col("f8"), lit(4000.0, arrow.PrimitiveTypes.Float64)), "f8 > 4000"},
		{"date BC", []string{"id", "d"}, call("lt", col("d"), lit(arrow.Date32(-700000), arrow.FixedWidthTypes.Date32)), "d < DATE '1970-01-01' - 700000"},
		{"timestamp", []string{"id", "ts"}, call("between", col("ts"), lit(arrow.Timestamp(1577836800000000+60_000_000*10), ts), lit(arrow.Timestamp(1577836800000000+60_000_000*20+20), ts)),
			"ts BETWEEN TIMESTAMP '2020-01-01 00:10:00' AND TIMESTAMP '2020-01-01 00:20:00.00002'"},
		{"timestamptz", []string{"id", "tstz"}, call("lt", col("tstz"), lit(arrow.Timestamp(962391600000000), &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})), "tstz < '2000-06-30 19:00:00+00'"},
		{"bool", []string{"id", "b"}, call("not", col("b")), "NOT b"},
		{"bytea", []string{"id", "by"}, call("equal", col("by"), lit([]byte{0xde, 0xad, 0xbe, 0xef}, arrow.BinaryTypes.Binary)), `by = '\xdeadbeef'`},
		{"quoted column", []string{"id", `Mixed "Case"`}, call("equal", col(`Mixed "Case"`), lit(int32(3), arrow.PrimitiveTypes.Int32)), `"Mixed ""Case""" = 3`},
		{"cast", []string{"id"}, call("gt", &logical.Cast{Input: col("i2"), T: arrow.PrimitiveTypes.Int64}, i64(298)), "i2 > 298"},
		{"or", []string{"id"}, call("or", call("equal", col("id"), i64(5)), call("is_distinct_from", col("i4"), lit(int32(7), arrow.PrimitiveTypes.Int32))), "id = 5 OR i4 IS DISTINCT FROM 7"},
		{"no columns", []string{}, call("lt", col("id"), i64(11)), "id < 11"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proj := []int{}
			for _, n := range tc.proj {
				proj = append(proj, idx(n))
			}
			plan, outSchema, cols := scan(t, env, src, tb, proj, -1, 1, tc.filter)
			if len(plan.Verdicts) != 1 || plan.Verdicts[0] != plugin.Exact {
				t.Fatalf("verdicts %v (explain: %s)", plan.Verdicts, plan.Explain)
			}
			got, _ := readPlan(t, src, plan, outSchema)
			want := env.directRows(t, quoteIdent(env.schema)+".allt", cols, tc.where)
			if len(want) == 0 {
				t.Fatalf("the case selects no rows: it tests nothing")
			}
			sameRows(t, got, want)
		})
	}
}

func TestNondeterministicCollation(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	var exists bool
	if err := env.admin.QueryRow(ctx60(t), "SELECT to_regclass($1) IS NOT NULL", env.schema+".nd").Scan(&exists); err != nil || !exists {
		t.Skip("the server has no ICU collations (PostgreSQL built without ICU)")
	}
	tb := env.table("nd")
	schema, _, err := src.Schema(ctx60(t), tb)
	if err != nil {
		t.Fatal(err)
	}
	ls := logical.FromArrow(schema, "t")
	plan, _, _ := scan(t, env, src, tb, nil, -1, 1, call("equal", logical.Col(ls, 1), str("abc")))
	got, _ := readPlan(t, src, plan, nil)
	// Arbalest compares bytes: 'ABC' is not 'abc', though the column's
	// collation says it is.
	sameRows(t, got, []string{"1|abc"})
}

func TestLimitAndUnsupported(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	tb := env.table("allt")
	schema, _, _ := src.Schema(ctx60(t), tb)
	ls := logical.FromArrow(schema, "t")
	// Exact filters: the limit is pushed.
	plan, _, _ := scan(t, env, src, tb, []int{0}, 7, 8, call("gt", logical.Col(ls, 0), i64(10)))
	if len(plan.Splits) != 1 || !strings.Contains(plan.Explain, "LIMIT 7") {
		t.Fatalf("limit not pushed: %d splits, %s", len(plan.Splits), plan.Explain)
	}
	got, _ := readPlan(t, src, plan, nil)
	if len(got) != 7 {
		t.Fatalf("%d rows with LIMIT 7", len(got))
	}
	// An unsupported filter: the limit is not pushed, and the supported
	// part of a conjunction is (Inexact).
	f := logical.And(call("lt", logical.Col(ls, 0), i64(50)), call("ilike", logical.Col(ls, 7), str("NAME%")))
	plan, _, _ = scan(t, env, src, tb, []int{0}, 7, 1, f, call("like", logical.Col(ls, 7), str("name 1%")))
	if plan.Verdicts[0] != plugin.Inexact || plan.Verdicts[1] != plugin.Exact {
		t.Fatalf("verdicts %v", plan.Verdicts)
	}
	if strings.Contains(plan.Explain, "LIMIT") || !strings.Contains(plan.Explain, "left to the engine") {
		t.Fatalf("explain %s", plan.Explain)
	}
	got, _ = readPlan(t, src, plan, nil)
	sameRows(t, got, env.directRows(t, quoteIdent(env.schema)+".allt", testColumnsOf(t, env, src, tb)[:1], `id < 50 AND t LIKE 'name 1%'`))
	// Limit with explicit partitions: LIMIT in every split.
	plan, _, _ = scan(t, env, src, env.table("allt", "partitions", "3"), []int{0}, 5, 8)
	if len(plan.Splits) != 3 {
		t.Fatalf("%d splits, want 3", len(plan.Splits))
	}
	got, counts := readPlan(t, src, plan, nil)
	for _, c := range counts {
		if c > 5 {
			t.Fatalf("split counts %v over the limit", counts)
		}
	}
	if len(got) < 5 {
		t.Fatalf("%d rows", len(got))
	}
}

func testColumnsOf(t *testing.T, env *pgEnv, _ *Source, tb plugin.Table) []column {
	cfg, err := parseTable(tb)
	if err != nil {
		t.Fatal(err)
	}
	d, err := describe(ctx60(t), env.admin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d.columns
}

func TestSplits(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	from := quoteIdent(env.schema) + ".allt"
	t.Run("primary key", func(t *testing.T) {
		tb := env.table("allt", "partitions", "4")
		plan, schema, cols := scan(t, env, src, tb, nil, -1, 1)
		if len(plan.Splits) != 4 {
			t.Fatalf("%d splits, want 4 (id is NOT NULL: no NULL split): %s", len(plan.Splits), plan.Explain)
		}
		if !strings.Contains(plan.Explain, `4 splits on "id"`) {
			t.Errorf("explain %s", plan.Explain)
		}
		got, counts := readPlan(t, src, plan, schema)
		sameRows(t, got, env.directRows(t, from, cols, ""))
		// ids 1..3000 and 10001..10004: min 1, max 10004, bounds 2502,
		// 5003 and 7504.
		if !slices.Equal(counts, []int{2501, 499, 0, 4}) {
			t.Errorf("rows per split %v, want [2501 499 0 4]", counts)
		}
	})
	t.Run("nullable column with filters", func(t *testing.T) {
		tb := env.table("allt", "partitions", "3", "partition_column", "I4")
		schema, _, _ := src.Schema(ctx60(t), tb)
		ls := logical.FromArrow(schema, "t")
		plan, out, cols := scan(t, env, src, tb, []int{0, 2}, -1, 1, call("gt", logical.Col(ls, 0), i64(1000)))
		if len(plan.Splits) != 4 || !strings.Contains(plan.Explain, "| NULL") {
			t.Fatalf("%d splits, want 3 ranges and NULL: %s", len(plan.Splits), plan.Explain)
		}
		got, counts := readPlan(t, src, plan, out)
		sameRows(t, got, env.directRows(t, from, cols, "id > 1000"))
		if counts[3] == 0 {
			t.Errorf("the NULL split read nothing: %v", counts)
		}
	})
	t.Run("parallelism decides", func(t *testing.T) {
		// Two million rows and parallelism 6: six ranges, and a NULL
		// split (id is nullable in a CREATE TABLE AS).
		plan, _, _ := scan(t, env, src, env.table("big", "partition_column", "id"), nil, -1, 6)
		if len(plan.Splits) != 7 {
			t.Fatalf("%d splits: %s", len(plan.Splits), plan.Explain)
		}
		// A small table is one split whatever the parallelism.
		plan, _, _ = scan(t, env, src, env.table("allt"), nil, -1, 6)
		if len(plan.Splits) != 1 {
			t.Fatalf("%d splits for %d rows: %s", len(plan.Splits), allRows, plan.Explain)
		}
	})
	t.Run("date key", func(t *testing.T) {
		tb := env.table("allt", "partition_column", "d", "partitions", "5")
		plan, out, cols := scan(t, env, src, tb, []int{0, 11}, -1, 1)
		if len(plan.Splits) != 6 {
			t.Fatalf("%d splits: %s", len(plan.Splits), plan.Explain)
		}
		got, _ := readPlan(t, src, plan, out)
		sameRows(t, got, env.directRows(t, from, cols, ""))
	})
	t.Run("timestamp key", func(t *testing.T) {
		tb := env.table("allt", "partition_column", "tstz", "partitions", "3")
		plan, out, cols := scan(t, env, src, tb, []int{0, 13}, -1, 1)
		got, _ := readPlan(t, src, plan, out)
		sameRows(t, got, env.directRows(t, from, cols, ""))
	})
	t.Run("bad partition column", func(t *testing.T) {
		for col, want := range map[string]string{"t": "must be an integer, date or timestamp", "nope": "not a column"} {
			tb := env.table("allt", "partition_column", col, "partitions", "2")
			schema, _, _ := src.Schema(ctx60(t), tb)
			_, err := src.PlanScan(ctx60(t), &plugin.ScanRequest{Table: tb, Schema: schema, Limit: -1, Parallelism: 2})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v", col, err)
			}
		}
	})
}

func TestQueryOption(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	q := fmt.Sprintf("SELECT id AS key, t AS name, num * 2 AS twice FROM %s.allt WHERE id <= 100 -- the first hundred", quoteIdent(env.schema))
	tb := env.table("", "query", q, "partition_column", "key", "partitions", "2")
	schema, _, err := src.Schema(ctx60(t), tb)
	if err != nil {
		t.Fatal(err)
	}
	if schema.NumFields() != 3 || schema.Field(2).Type.ID() != arrow.DECIMAL128 {
		t.Fatalf("schema %s", schema)
	}
	ls := logical.FromArrow(schema, "t")
	plan, out, cols := scan(t, env, src, tb, nil, -1, 1, call("like", logical.Col(ls, 1), str("name 1%")))
	if len(plan.Splits) != 3 {
		t.Fatalf("splits %d: %s", len(plan.Splits), plan.Explain)
	}
	got, _ := readPlan(t, src, plan, out)
	sameRows(t, got, env.directRows(t, "("+q+"\n) AS "+queryAlias, cols, "name LIKE 'name 1%'"))
	for _, bad := range []struct{ q, want string }{
		{"SELECT 1 AS a, 2 AS a", "two columns named"},
		{"SELECT $1::int AS a", "parameters"},
		{"SELECT 1; DROP TABLE x", "does not describe"},
		{"SELECT nope FROM nowhere", "does not describe"},
	} {
		_, _, err := src.Schema(ctx60(t), env.table("", "query", bad.q))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v", bad.q, err)
		}
	}
}

func TestExplainHasNoPassword(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	tb := env.table("allt", "partitions", "2")
	schema, _, _ := src.Schema(ctx60(t), tb)
	ls := logical.FromArrow(schema, "t")
	plan, _, _ := scan(t, env, src, tb, []int{0, 7}, -1, 1, call("equal", logical.Col(ls, 7), str("name 5")))
	cfg, _ := pgx.ParseConfig(env.dsn)
	if cfg.Password != "" && strings.Contains(plan.Explain, ":"+cfg.Password+"@") || strings.Contains(plan.Explain, "password") {
		t.Fatalf("password in explain: %s", plan.Explain)
	}
	for _, want := range []string{`SELECT "id", "t" FROM`, `WHERE ("t" = $1::text)`, `$1='name 5'`, `2 splits on "id"`, "postgres://"} {
		if !strings.Contains(plan.Explain, want) {
			t.Errorf("explain lacks %q: %s", want, plan.Explain)
		}
	}
	t.Logf("explain: %s", plan.Explain)
}

func TestBadInputs(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	cfg, _ := pgx.ParseConfig(env.dsn)
	check := func(t *testing.T, err error, wants ...string) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		t.Logf("error: %s", msg)
		for _, w := range wants {
			if !strings.Contains(msg, w) {
				t.Errorf("error lacks %q: %s", w, msg)
			}
		}
		if cfg.Password != "" && strings.Contains(msg, ":"+cfg.Password+"@") {
			t.Errorf("password in %s", msg)
		}
	}
	t.Run("wrong password", func(t *testing.T) {
		const pw = "Wrong-Secret-4711"
		tb := env.table("allt")
		tb.Options["dsn"] = withPassword(t, env.dsn, pw)
		start := time.Now()
		_, _, err := src.Schema(ctx60(t), tb)
		check(t, err, "password authentication failed", "postgres://")
		if strings.Contains(err.Error(), pw) {
			t.Errorf("password in %s", err)
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("took %s", time.Since(start))
		}
	})
	t.Run("unreachable server", func(t *testing.T) {
		tb := env.table("allt", "connect_timeout", "3")
		tb.Options["dsn"] = "postgres://arbalest:Secret-Unreachable-99@127.0.0.1:1/arbalest?sslmode=disable"
		_, _, err := src.Schema(ctx60(t), tb)
		check(t, err, "127.0.0.1")
		if strings.Contains(err.Error(), "Secret-Unreachable-99") {
			t.Errorf("password in %s", err)
		}
	})
	t.Run("missing table", func(t *testing.T) {
		_, _, err := src.Schema(ctx60(t), env.table("no_such_table"))
		check(t, err, "table not found", "no_such_table")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("not ErrNotFound: %v", err)
		}
	})
	t.Run("unknown column types", func(t *testing.T) {
		_, _, err := src.Schema(ctx60(t), env.table("odd"))
		check(t, err, `column "u"`, "uuid", "unsupported_types")
		if !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("not ErrUnsupportedType: %v", err)
		}
		_, _, err = src.Schema(ctx60(t), env.table("wide"))
		check(t, err, "numeric(50,2)")
		// As text, they read.
		tb := env.table("odd", "unsupported_types", "text")
		plan, out, _ := scan(t, env, src, tb, nil, -1, 1)
		got, _ := readPlan(t, src, plan, out)
		sameRows(t, got, []string{`1|6ba7b810-9dad-11d1-80b4-00c04fd430c8|{"a": 1}|1 day`, "2|NULL|NULL|NULL"})
	})
	t.Run("infinite date", func(t *testing.T) {
		plan, _, _ := scan(t, env, src, env.table("inf"), nil, -1, 1)
		err := src.ReadSplit(ctx60(t), plan.Splits[0].Ticket, func(arrow.RecordBatch) error { return nil })
		check(t, err, `column "d"`, "infinite date")
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("not ErrBadValue: %v", err)
		}
	})
	t.Run("table changed since planning", func(t *testing.T) {
		_, err := src.PlanScan(ctx60(t), &plugin.ScanRequest{Table: env.table("inf"), Limit: -1, Parallelism: 1,
			Schema: arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "d", Type: arrow.FixedWidthTypes.Date32}}, nil)})
		check(t, err, "recreate the external table")
	})
	t.Run("bad ticket", func(t *testing.T) {
		err := src.ReadSplit(ctx60(t), []byte("{not json"), func(arrow.RecordBatch) error { return nil })
		check(t, err, "invalid postgres split ticket")
	})
}

// bigScan plans a read of the two-million-row table in one split, marked
// so that its backend can be found in pg_stat_activity.
func bigScan(t *testing.T, env *pgEnv, src *Source, marker string) []byte {
	q := fmt.Sprintf("SELECT id, '%s' AS marker FROM %s.big", marker, quoteIdent(env.schema))
	plan, _, _ := scan(t, env, src, env.table("", "query", q, "batch_rows", "1000"), nil, -1, 1)
	return plan.Splits[0].Ticket
}

func backendsRunning(t *testing.T, env *pgEnv, marker string) int {
	var n int
	err := env.admin.QueryRow(ctx60(t), `SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid() AND state = 'active'`, marker).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestServerClosesMidRead(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	marker := fmt.Sprintf("terminate-me-%d", rand.IntN(1e9))
	tk := bigScan(t, env, src, marker)
	batches := 0
	start := time.Now()
	err := src.ReadSplit(ctx60(t), tk, func(rec arrow.RecordBatch) error {
		batches++
		if batches == 1 {
			var n int
			err := env.admin.QueryRow(context.Background(),
				`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()) x`, marker).Scan(&n)
			if err != nil || n != 1 {
				return fmt.Errorf("terminating the reader: %d backends, %v", n, err)
			}
		}
		return nil
	})
	if err == nil {
		t.Fatalf("read %d batches and no error after the backend was terminated", batches)
	}
	if !strings.Contains(err.Error(), "terminating connection") && !strings.Contains(err.Error(), "unexpected EOF") && !strings.Contains(err.Error(), "closed") {
		t.Errorf("unclear error: %v", err)
	}
	if !strings.Contains(err.Error(), "postgres: reading query") {
		t.Errorf("error does not say what was read: %v", err)
	}
	cfg, _ := pgx.ParseConfig(env.dsn)
	if cfg.Password != "" && strings.Contains(err.Error(), ":"+cfg.Password+"@") {
		t.Errorf("password in %v", err)
	}
	t.Logf("after %d batches in %s: %v", batches, time.Since(start), err)
	// The broken connection was not pooled: the next read works.
	plan, _, _ := scan(t, env, src, env.table("inf"), []int{0}, -1, 1)
	if got, _ := readPlan(t, src, plan, nil); len(got) != 2 {
		t.Fatalf("next read: %v", got)
	}
}

func TestCancelMidRead(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	marker := fmt.Sprintf("cancel-me-%d", rand.IntN(1e9))
	tk := bigScan(t, env, src, marker)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	err := src.ReadSplit(ctx, tk, func(rec arrow.RecordBatch) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*cancelDeadline+5*time.Second {
		t.Errorf("cancellation took %s", d)
	}
	// The server stops the statement too.
	deadline := time.Now().Add(10 * time.Second)
	for backendsRunning(t, env, marker) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the statement still runs on the server 10s after cancellation")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// emit failing stops the read too, and the statement.
	marker2 := marker + "-emit"
	tk = bigScan(t, env, src, marker2)
	stop := errors.New("enough")
	err = src.ReadSplit(context.Background(), tk, func(arrow.RecordBatch) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("got %v, want the emit error", err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for backendsRunning(t, env, marker2) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the statement still runs on the server 10s after emit failed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConcurrentReads reads many splits at once through one Source (one
// pool), as an executor with several tasks does.
func TestConcurrentReads(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	tb := env.table("allt", "partitions", "12", "batch_rows", "97")
	plan, out, cols := scan(t, env, src, tb, []int{0, 7, 5}, -1, 1)
	for range 3 {
		got, _ := readPlan(t, src, plan, out)
		sameRows(t, got, env.directRows(t, quoteIdent(env.schema)+".allt", cols, ""))
	}
}

// TestPooledConnectionDied: the server drops the pool's idle connections;
// the next read (too soon for the idle ping) retries on a new one.
func TestPooledConnectionDied(t *testing.T) {
	env := testPG(t)
	src := newTestSource(t)
	// A name of its own, so that only this test's connections are
	// terminated (other tests may share the server).
	app := fmt.Sprintf("arbalest-pooltest-%d", rand.IntN(1e9))
	u, err := url.Parse(env.dsn)
	if err != nil || u.Scheme == "" {
		t.Skip("the test DSN is not a URL; cannot set application_name")
	}
	qv := u.Query()
	qv.Set("application_name", app)
	u.RawQuery = qv.Encode()
	tb := env.table("inf", "batch_rows", "1")
	tb.Options["dsn"] = u.String()
	plan, _, _ := scan(t, env, src, tb, []int{0}, -1, 1)
	for round := range 3 {
		got, _ := readPlan(t, src, plan, nil)
		if len(got) != 2 {
			t.Fatalf("round %d: %v", round, got)
		}
		var n int
		err := env.admin.QueryRow(ctx60(t), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND state = 'idle'`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("round %d: no idle pooled connection to terminate", round)
		}
	}
	// Planning pings a reused connection instead.
	if _, _, err := src.Schema(ctx60(t), tb); err != nil {
		t.Fatalf("schema after the pool's connections died: %v", err)
	}
}
