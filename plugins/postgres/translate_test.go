package postgres

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/substrait-io/substrait-go/v8/expr"
)

// testColumns is a source with one column of every mapped type, as the
// catalog code would build it.
func testColumns(t *testing.T) []column {
	t.Helper()
	mk := func(name string, base uint32, typmod int32, nondet bool) column {
		c, err := mapColumn(rawColumn{name: name, typeName: "t", baseOID: base, baseTypmod: typmod, nondeterministic: nondet}, quoteIdent(name), false, "test")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return []column{
		mk("id", oidInt8, -1, false),                 // 0
		mk("name", oidText, -1, false),               // 1
		mk("price", oidNumeric, (12<<16|2)+4, false), // 2
		mk("d", oidDate, -1, false),                  // 3
		mk("ts", oidTimestamp, -1, false),            // 4
		mk("tstz", oidTimestamptz, -1, false),        // 5
		mk("f", oidFloat8, -1, false),                // 6
		mk("b", oidBool, -1, false),                  // 7
		mk("bin", oidBytea, -1, false),               // 8
		mk("code", oidBPChar, 14, false),             // 9
		mk("i2", oidInt2, -1, false),                 // 10
		mk("i4", oidInt4, -1, false),                 // 11
		mk("f4", oidFloat4, -1, false),               // 12
		mk("n", oidNumeric, -1, false),               // 13
		mk("ci", oidText, -1, true),                  // 14 nondeterministic collation
		mk("Mixed \"Case\"", oidInt4, -1, false),     // 15
	}
}

func testSchema(cols []column) *logical.Schema {
	fs := make([]logical.Field, len(cols))
	for i, c := range cols {
		fs[i] = logical.Field{Name: c.name, Type: c.arrow, Nullable: true}
	}
	return logical.NewSchema(fs...)
}

// toSubstrait sends logical filters through Arbalest's producer and
// substrait-go's reader: the path filters take to a plugin.
func toSubstrait(t *testing.T, s *logical.Schema, es ...logical.Expr) []expr.Expression {
	t.Helper()
	p, err := producer.ToExtendedExpression(es, s, nil)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	ext, err := expr.ExtendedFromProto(p, extensions.Collection())
	if err != nil {
		t.Fatalf("substrait-go: %v", err)
	}
	out := make([]expr.Expression, len(ext.ReferredExpr))
	for i, r := range ext.ReferredExpr {
		out[i] = r.GetExpr()
	}
	return out
}

func call(fn string, args ...logical.Expr) *logical.Call {
	return &logical.Call{Func: fn, Args: args, T: logical.Bool, NullableOut: true}
}

func lit(v any, t arrow.DataType) *logical.Literal { return &logical.Literal{Value: v, T: t} }

func str(s string) *logical.Literal { return lit(s, arrow.BinaryTypes.String) }

func i64(v int64) *logical.Literal { return lit(v, arrow.PrimitiveTypes.Int64) }

func TestTranslate(t *testing.T) {
	cols := testColumns(t)
	s := testSchema(cols)
	col := func(i int) *logical.ColumnRef { return logical.Col(s, i) }
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	tstz := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	dec := &arrow.Decimal128Type{Precision: 12, Scale: 2}
	tests := []struct {
		name   string
		e      logical.Expr
		sql    string
		params []string // type=value
	}{
		{"eq int", call("equal", col(0), i64(42)), `("id" = $1::int8)`, []string{"int8=42"}},
		{"ne", call("not_equal", col(0), i64(-7)), `("id" <> $1::int8)`, []string{"int8=-7"}},
		{"lt string collates C", call("lt", col(1), str("b")), `("name" COLLATE "C" < $1::text)`, []string{"text=b"}},
		{"eq string keeps collation", call("equal", col(1), str("O'Brien; DROP TABLE x")), `("name" = $1::text)`, []string{"text=O'Brien; DROP TABLE x"}},
		{"unicode", call("gte", col(1), str("żółw 🐢")), `("name" COLLATE "C" >= $1::text)`, []string{"text=żółw 🐢"}},
		{"decimal", call("gt", col(2), lit(decimal128.FromI64(-12345), dec)), `("price" > $1::numeric)`, []string{"numeric=-123.45"}},
		{"date", call("lte", col(3), lit(arrow.Date32(19000), arrow.FixedWidthTypes.Date32)), `("d" <= $1::date)`, []string{"date=2022-01-08"}},
		{"date BC", call("gt", col(3), lit(arrow.Date32(-719163), arrow.FixedWidthTypes.Date32)), `("d" > $1::date)`, []string{"date=0001-12-31 BC"}},
		{"timestamp", call("gt", col(4), lit(arrow.Timestamp(1_600_000_000_123_456), ts)), `("ts" > $1::timestamp)`, []string{"timestamp=2020-09-13 12:26:40.123456"}},
		{"timestamptz", call("lt", col(5), lit(arrow.Timestamp(0), tstz)), `("tstz" < $1::timestamptz)`, []string{"timestamptz=1970-01-01 00:00:00.000000+00"}},
		{"float", call("gt", col(6), lit(0.1, arrow.PrimitiveTypes.Float64)), `("f" > $1::float8)`, []string{"float8=0.1"}},
		{"bool column", col(7), `"b"`, nil},
		{"not bool", call("not", col(7)), `(NOT "b")`, nil},
		{"bytea", call("equal", col(8), lit([]byte{0, 1, 0xff}, arrow.BinaryTypes.Binary)), `("bin" = $1::bytea)`, []string{`bytea=\x0001ff`}},
		{"bpchar is trimmed text", call("equal", col(9), str("AB")), `("code"::text = $1::text)`, []string{"text=AB"}},
		{"unconstrained numeric rounds like the read", call("equal", col(13), lit(decimal128.FromI64(5), &arrow.Decimal128Type{Precision: 38, Scale: 10})),
			`("n"::numeric(38,10) = $1::numeric)`, []string{"numeric=0.0000000005"}},
		{"nondeterministic collation", call("equal", col(14), str("x")), `(("ci" COLLATE "C") = $1::text)`, []string{"text=x"}},
		{"quoted identifier", call("equal", col(15), lit(int32(3), arrow.PrimitiveTypes.Int32)), `("Mixed ""Case""" = $1::int4)`, []string{"int4=3"}},
		{"and or", logical.And(call("gt", col(0), i64(1)), call("or", call("is_null", col(1)), call("equal", col(1), str("x")))),
			`(("id" > $1::int8) AND (("name" IS NULL) OR ("name" = $2::text)))`, []string{"int8=1", "text=x"}},
		{"is not null", call("is_not_null", col(4)), `("ts" IS NOT NULL)`, nil},
		{"between", call("between", col(1), str("a"), str("m")), `("name" COLLATE "C" BETWEEN $1::text AND $2::text)`, []string{"text=a", "text=m"}},
		{"like has no escape by default", call("like", col(1), str(`a\_%`)), `("name" LIKE $1::text ESCAPE '')`, []string{`text=a\_%`}},
		{"like with escape", &logical.Call{Func: "like", Args: []logical.Expr{col(1), str("a!%%")}, T: logical.Bool, Options: map[string]string{"escape": "!"}},
			`("name" LIKE $1::text ESCAPE $2::text)`, []string{"text=a!%%", "text=!"}},
		{"in list", &logical.InList{Input: col(0), List: []logical.Expr{i64(1), i64(2), logical.NullLiteral(arrow.PrimitiveTypes.Int64)}},
			`("id" IN ($1::int8, $2::int8, $3::int8))`, []string{"int8=1", "int8=2", "int8=NULL"}},
		{"not in", &logical.InList{Input: col(1), List: []logical.Expr{str("a")}, Negated: true},
			`(NOT ("name" IN ($1::text)))`, []string{"text=a"}},
		{"widening cast", call("gt", &logical.Cast{Input: col(11), T: arrow.PrimitiveTypes.Int64}, i64(5)),
			`(CAST("i4" AS int8) > $1::int8)`, []string{"int8=5"}},
		{"int to decimal", call("equal", &logical.Cast{Input: col(11), T: dec}, lit(decimal128.FromI64(150), dec)),
			`(CAST("i4" AS numeric) = $1::numeric)`, []string{"numeric=1.50"}},
		{"date to timestamp", call("lt", &logical.Cast{Input: col(3), T: ts}, lit(arrow.Timestamp(86_400_000_000), ts)),
			`(CAST("d" AS timestamp) < $1::timestamp)`, []string{"timestamp=1970-01-02 00:00:00.000000"}},
		{"float4", call("gt", col(12), lit(float32(1.5), arrow.PrimitiveTypes.Float32)), `("f4" > $1::float4)`, []string{"float4=1.5"}},
		{"int2", call("equal", col(10), lit(int16(7), arrow.PrimitiveTypes.Int16)), `("i2" = $1::int2)`, []string{"int2=7"}},
		{"distinct", call("is_distinct_from", col(0), i64(3)), `("id" IS DISTINCT FROM $1::int8)`, []string{"int8=3"}},
		{"null literal compare", call("equal", col(0), logical.NullLiteral(arrow.PrimitiveTypes.Int64)), `("id" = $1::int8)`, []string{"int8=NULL"}},
		{"is_true", call("is_not_true", col(7)), `("b" IS NOT TRUE)`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := toSubstrait(t, s, tc.e)
			tr := &translator{cols: cols}
			got, err := tr.filter(fs[0])
			if err != nil {
				t.Fatalf("not translated: %v (substrait: %s)", err, fs[0])
			}
			if got != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", got, tc.sql)
			}
			var ps []string
			for _, p := range tr.params {
				v := "NULL"
				if p.Value != nil {
					v = *p.Value
				}
				ps = append(ps, p.Type+"="+v)
			}
			if strings.Join(ps, "|") != strings.Join(tc.params, "|") {
				t.Errorf("params\n got %q\nwant %q", ps, tc.params)
			}
		})
	}
}

func TestTranslateUnsupported(t *testing.T) {
	cols := testColumns(t)
	s := testSchema(cols)
	col := func(i int) *logical.ColumnRef { return logical.Col(s, i) }
	tests := []struct {
		name string
		e    logical.Expr
	}{
		{"ilike", call("ilike", col(1), str("a%"))},
		{"function", call("equal", &logical.Call{Func: "lower", Args: []logical.Expr{col(1)}, T: arrow.BinaryTypes.String, NullableOut: true}, str("a"))},
		{"arithmetic", call("gt", &logical.Call{Func: "add", Args: []logical.Expr{col(0), i64(1)}, T: arrow.PrimitiveTypes.Int64, NullableOut: true}, i64(5))},
		{"narrowing cast", call("equal", &logical.Cast{Input: col(0), T: arrow.PrimitiveTypes.Int32}, lit(int32(1), arrow.PrimitiveTypes.Int32))},
		{"cast to string", call("equal", &logical.Cast{Input: col(0), T: arrow.BinaryTypes.String}, str("1"))},
		{"float to int cast", call("equal", &logical.Cast{Input: col(6), T: arrow.PrimitiveTypes.Int64}, i64(1))},
		{"string with NUL", call("equal", col(1), str("a\x00b"))},
		{"nanosecond literal", call("gt", &logical.Cast{Input: col(4), T: &arrow.TimestampType{Unit: arrow.Nanosecond}},
			lit(arrow.Timestamp(1), &arrow.TimestampType{Unit: arrow.Nanosecond}))},
		{"interval", call("gt", col(4), lit(arrow.MonthDayNanoInterval{Months: 1}, arrow.FixedWidthTypes.MonthDayNanoInterval))},
		{"or with one unsupported side", call("or", call("equal", col(0), i64(1)), call("ilike", col(1), str("x")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := func() (fs []expr.Expression, err error) {
				p, err := producer.ToExtendedExpression([]logical.Expr{tc.e}, s, nil)
				if err != nil {
					return nil, err
				}
				ext, err := expr.ExtendedFromProto(p, extensions.Collection())
				if err != nil {
					return nil, err
				}
				return []expr.Expression{ext.ReferredExpr[0].GetExpr()}, nil
			}()
			if err != nil {
				t.Fatalf("the producer cannot write it: %v", err)
			}
			tr := &translator{cols: cols}
			if got, err := tr.filter(fs[0]); err == nil {
				t.Fatalf("translated to %s, want not pushed", got)
			}
			if len(tr.params) != 0 {
				t.Errorf("a failed filter left %d parameters", len(tr.params))
			}
		})
	}
}

// TestConjuncts: an AND with an untranslatable part pushes the rest.
func TestConjuncts(t *testing.T) {
	cols := testColumns(t)
	s := testSchema(cols)
	col := func(i int) *logical.ColumnRef { return logical.Col(s, i) }
	e := logical.And(call("gt", col(0), i64(1)), call("ilike", col(1), str("x")), call("is_not_null", col(3)))
	fs := toSubstrait(t, s, e)
	tr := &translator{cols: cols}
	if _, err := tr.filter(fs[0]); err == nil {
		t.Fatal("the whole AND translated")
	}
	parts := tr.conjuncts(fs[0])
	want := []string{`("id" > $1::int8)`, `("d" IS NOT NULL)`}
	if strings.Join(parts, "|") != strings.Join(want, "|") {
		t.Fatalf("parts %q, want %q", parts, want)
	}
	if len(tr.params) != 1 || *tr.params[0].Value != "1" {
		t.Fatalf("params %+v", tr.params)
	}
}

func TestStatement(t *testing.T) {
	cols := testColumns(t)
	src := &source{from: `"public"."t"`, label: "public.t", columns: cols}
	q := &scanSQL{src: src, projection: []int{1, 9, 13}, where: []string{`("id" > $1::int8)`}, limit: 10}
	got := q.statement(`"id" >= $2::int8`)
	want := `SELECT "name", "code"::text AS "code", "n"::numeric(38,10) AS "n" FROM "public"."t" WHERE ("id" > $1::int8) AND "id" >= $2::int8 LIMIT 10`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	q = &scanSQL{src: src, projection: []int{}, limit: -1}
	if got, want := q.statement(""), `SELECT FROM "public"."t"`; got != want {
		t.Fatalf("no columns: got %q want %q", got, want)
	}
}
