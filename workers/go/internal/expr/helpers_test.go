package expr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Test fixtures: a batch with one column per type, built from JSON.

var (
	tDec    = logical.DecimalType(15, 2)
	tDec128 = logical.DecimalType(25, 4)
	tTS     = logical.TimestampUs
)

type colSpec struct {
	name string
	t    arrow.DataType
	json string
}

// testColumns has 5 rows per column; row 3 is NULL in most columns.
var testColumns = []colSpec{
	{"i8", arrow.PrimitiveTypes.Int8, `[1, -2, 100, null, 127]`},
	{"i16", arrow.PrimitiveTypes.Int16, `[1, -2, 300, null, 32767]`},
	{"i32", arrow.PrimitiveTypes.Int32, `[10, -20, 7, null, 2147483647]`},
	{"i64", arrow.PrimitiveTypes.Int64, `[10, -20, 7, null, 9223372036854775807]`},
	{"z64", arrow.PrimitiveTypes.Int64, `[0, 3, 0, null, -1]`},
	{"f64", arrow.PrimitiveTypes.Float64, `[1.5, -2.25, 0, null, 1e300]`},
	{"dec", tDec, `["12.34", "-0.05", "100.00", null, "9999999999999.99"]`},
	{"dec2", tDec, `["1.00", "0.03", "-3.00", null, "0.00"]`},
	{"d128", tDec128, `["12.3400", "-0.0500", "100.0000", null, "999999999999999999999.9999"]`},
	{"date", arrow.FixedWidthTypes.Date32, `[18262, 18293, -1, null, 0]`}, // 2020-01-01, 2020-02-01, 1969-12-31, 1970-01-01
	{"ts", tTS, `[1577836800000000, 1577923323500000, -1, null, 0]`},      // 2020-01-01 00:00, 2020-01-02 00:02:03.5
	{"s", arrow.BinaryTypes.String, `["hello", "Wörld", "", null, "a_b%c"]`},
	{"b", arrow.FixedWidthTypes.Boolean, `[true, false, true, null, false]`},
	{"b2", arrow.FixedWidthTypes.Boolean, `[true, true, null, null, false]`},
	{"ls", arrow.BinaryTypes.LargeString, `["x", "yy", null, "zzz", ""]`},
	{"sv", arrow.BinaryTypes.StringView, `["green apple", "red", null, "dark green", "Green"]`},
}

func testSchema() *arrow.Schema {
	fs := make([]arrow.Field, len(testColumns))
	for i, c := range testColumns {
		fs[i] = arrow.Field{Name: c.name, Type: c.t, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

func testBatch(t testing.TB, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, len(testColumns))
	for i, c := range testColumns {
		a, _, err := array.FromJSON(mem, c.t, strings.NewReader(c.json))
		if err != nil {
			t.Fatalf("column %s: %v", c.name, err)
		}
		cols[i] = a
	}
	b := array.NewRecordBatch(testSchema(), cols, 5)
	for _, c := range cols {
		c.Release()
	}
	return b
}

func col(name string) *logical.ColumnRef {
	for i, c := range testColumns {
		if c.name == name {
			return &logical.ColumnRef{Index: i, Name: name, T: c.t, CanBeNull: true}
		}
	}
	panic("no test column " + name)
}

func lit(v any, t arrow.DataType) *logical.Literal { return &logical.Literal{Value: v, T: t} }
func i64(v int64) *logical.Literal                 { return lit(v, arrow.PrimitiveTypes.Int64) }
func i32(v int32) *logical.Literal                 { return lit(v, arrow.PrimitiveTypes.Int32) }
func str(v string) *logical.Literal                { return lit(v, arrow.BinaryTypes.String) }
func f64(v float64) *logical.Literal               { return lit(v, arrow.PrimitiveTypes.Float64) }
func dec(v int64, p, s int32) *logical.Literal     { return lit(v, logical.DecimalType(p, s)) }
func boolLit(v bool) *logical.Literal              { return lit(v, logical.Bool) }
func null(t arrow.DataType) *logical.Literal       { return logical.NullLiteral(t) }
func date(y, m, d int64) *logical.Literal {
	return lit(arrow.Date32(daysFromCivil(y, m, d)), arrow.FixedWidthTypes.Date32)
}
func interval(months, days int32, ns int64) *logical.Literal {
	return lit(arrow.MonthDayNanoInterval{Months: months, Days: days, Nanoseconds: ns}, logical.Interval)
}

func call(fn string, t arrow.DataType, args ...logical.Expr) *logical.Call {
	return &logical.Call{Func: fn, Args: args, T: t, NullableOut: true}
}

func callOpt(fn string, t arrow.DataType, opts map[string]string, args ...logical.Expr) *logical.Call {
	c := call(fn, t, args...)
	c.Options = opts
	return c
}

// format renders row i of a for comparisons.
func format(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch x := a.(type) {
	case *array.Decimal64:
		_, s, _ := logical.DecimalParams(a.DataType())
		return logical.FormatDecimal64(int64(x.Value(i)), s)
	case *array.Decimal128:
		_, s, _ := logical.DecimalParams(a.DataType())
		return formatDecimal(i128FromNum(decimal128.Num(x.Value(i))), s)
	case *array.Date32:
		return string(appendDate(nil, int64(x.Value(i))))
	case *array.Timestamp:
		return string(appendTimestamp(nil, int64(x.Value(i))))
	case *array.Float64:
		return formatFloat(x.Value(i), 64)
	case *array.Float32:
		return formatFloat(float64(x.Value(i)), 32)
	case *array.MonthDayNanoInterval:
		return formatInterval(x.Value(i))
	}
	return a.ValueStr(i)
}

func formatAll(a arrow.Array) []string {
	out := make([]string, a.Len())
	for i := range out {
		out[i] = format(a, i)
	}
	return out
}

// exprCase is one table-driven expression test over the test batch.
type exprCase struct {
	name string
	e    logical.Expr
	want []string // per row; nil when an error is expected
	err  string   // substring of the expected error (compile or eval)
}

func runCases(t *testing.T, cases []exprCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			b := testBatch(t, mem)
			defer b.Release()
			got, err := evalExpr(mem, tc.e, b)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("%s: want error %q, got %v", tc.e, tc.err, got)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s: want error containing %q, got %v", tc.e, tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.e, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("%s:\n got %q\nwant %q", tc.e, got, tc.want)
			}
		})
	}
}

// evalExpr compiles and evaluates e over b, also checking the evaluator's
// declared type against the result.
func evalExpr(mem memory.Allocator, e logical.Expr, b arrow.RecordBatch) ([]string, error) {
	ev, err := Compile(e, b.Schema(), mem)
	if err != nil {
		return nil, err
	}
	out, err := ev.Eval(context.Background(), b)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	if out.Len() != int(b.NumRows()) {
		return nil, fmt.Errorf("result has %d rows, want %d", out.Len(), b.NumRows())
	}
	if !arrow.TypeEqual(out.DataType(), ev.Type()) {
		return nil, fmt.Errorf("result type %s, evaluator type %s", out.DataType(), ev.Type())
	}
	if v, ok := out.(interface{ ValidateFull() error }); ok {
		if err := v.ValidateFull(); err != nil {
			return nil, fmt.Errorf("invalid result array: %w", err)
		}
	}
	if out.NullN() > out.Len() {
		return nil, errors.New("null count exceeds length")
	}
	return formatAll(out), nil
}

func rows(v ...string) []string { return v }

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }
