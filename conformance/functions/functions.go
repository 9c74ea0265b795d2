// Package functions runs the Substrait specification's scalar function
// test cases (tests/cases/**/*.test, shipped in the
// github.com/substrait-io/substrait module) against an expression engine.
// The native executor's kernels live in an internal package, so the test
// that runs them is workers/go/internal/expr's conformance_test.go, which
// calls Run with expr.Compile.
//
// Each case becomes a logical.Call that is evaluated twice on a one-row
// batch: once with literal arguments (constant folding) and once with the
// arguments as columns (the vectorised kernels). A wrong result fails the
// test; a case the engine cannot express is skipped with a reason, and
// the summary lists every reason with its count.
package functions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/substrait-io/substrait"
	"github.com/substrait-io/substrait-go/v8/testcases/parser"
	"github.com/substrait-io/substrait-go/v8/types"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Evaluator is a compiled expression (expr.Evaluator satisfies it).
type Evaluator interface {
	Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error)
}

// Engine is the expression engine under test.
type Engine struct {
	// Compile compiles e bound to input.
	Compile func(e logical.Expr, input *arrow.Schema, alloc memory.Allocator) (Evaluator, error)
	// NotSupported reports whether an error means a missing feature (the
	// case is skipped) rather than a failed evaluation.
	NotSupported func(error) bool
}

// errNoColumn marks literal types the harness cannot put in a column.
var errNoColumn = errors.New("not supported: column type")

type outcome int

const (
	pass outcome = iota
	skip
	fail
)

type result struct {
	outcome outcome
	reason  string // skip reason or failure detail
}

func skipped(format string, args ...any) result {
	return result{outcome: skip, reason: fmt.Sprintf(format, args...)}
}

// skipFiles lists test files the parser in substrait-go cannot read yet.
var skipFiles = map[string]string{
	"tests/cases/arithmetic/std_dev.test":  "aggregate test file uses a format substrait-go v8.1.1 cannot parse",
	"tests/cases/arithmetic/variance.test": "aggregate test file uses a format substrait-go v8.1.1 cannot parse",
	"tests/cases/list/all_match.test":      "lambda arguments are not supported by the parser",
	"tests/cases/list/any_match.test":      "lambda arguments are not supported by the parser",
	"tests/cases/list/filter.test":         "lambda arguments are not supported by the parser",
	"tests/cases/list/transform.test":      "lambda arguments are not supported by the parser",
}

// Summary is the outcome of a Run.
type Summary struct {
	Pass, Skip, Fail int
	// SkipReasons counts skipped cases by reason.
	SkipReasons map[string]int
	// Failures describes each wrong result.
	Failures []string
}

// Run evaluates every scalar case of the corpus with eng, logs the
// pass/skip/fail counts and the skip reasons, and reports each wrong
// result as a test error.
func Run(t *testing.T, eng Engine) Summary {
	t.Helper()
	sum := runAll(t, eng)
	keys := make([]string, 0, len(sum.SkipReasons))
	for k := range sum.SkipReasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if sum.SkipReasons[keys[i]] != sum.SkipReasons[keys[j]] {
			return sum.SkipReasons[keys[i]] > sum.SkipReasons[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "Substrait function cases: %d pass, %d skip, %d fail\nSkip reasons:\n", sum.Pass, sum.Skip, sum.Fail)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %4d  %s\n", sum.SkipReasons[k], k)
	}
	t.Log(b.String())
	for _, f := range sum.Failures {
		t.Error(f)
	}
	if sum.Pass == 0 {
		t.Error("no case passed")
	}
	return sum
}

func runAll(t *testing.T, eng Engine) Summary {
	fsys := substrait.GetSubstraitTestsFS()
	var files []string
	if err := fs.WalkDir(fsys, "tests/cases", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".test") {
			files = append(files, path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d test files", len(files))
	}
	counts := map[outcome]int{}
	reasons := map[string]int{}
	var failures []string
	for _, f := range files {
		if why, ok := skipFiles[f]; ok {
			counts[skip]++
			reasons["file: "+why]++
			continue
		}
		tf, err := parser.ParseTestCaseFileFromFS(fsys, f)
		if err != nil {
			counts[skip]++
			reasons["file does not parse: "+firstLine(err.Error())]++
			continue
		}
		for _, tc := range tf.TestCases {
			var r result
			if tc.FuncType != parser.ScalarFuncType {
				r = skipped("%s function tests exercise aggregate operators, not scalar kernels", tc.FuncType)
			} else {
				r = runCase(eng, tc)
			}
			counts[r.outcome]++
			switch r.outcome {
			case skip:
				reasons[r.reason]++
			case fail:
				failures = append(failures, fmt.Sprintf("%s: %s\n    %s", f, tc.String(), r.reason))
			}
		}
	}
	return Summary{Pass: counts[pass], Skip: counts[skip], Fail: counts[fail], SkipReasons: reasons, Failures: failures}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// runCase evaluates one scalar case with literal arguments and with column
// arguments.
// knownDisagreements are corpus cases whose expected result contradicts
// the function's own definition; they are skipped with the reason.
var knownDisagreements = map[string]string{
	"multiply(-13::i8, -10::i8) [overflow:SATURATE] = -128::i8": "spec case wrong: 130 saturates to 127, not -128",
	"sqrt(-1::i64) [on_domain_error:NAN] = null::fp64?": "spec expects NULL where on_domain_error:NAN asks for NaN " +
		"(ln(-inf) [on_domain_error:NAN] = nan elsewhere in the corpus)",
	"sqrt(-9223372036854775800::i64) [on_domain_error:NAN] = null::fp64?": "spec expects NULL where on_domain_error:NAN asks for NaN " +
		"(ln(-inf) [on_domain_error:NAN] = nan elsewhere in the corpus)",
	"ln(0::fp64) [on_log_zero:NAN] = null::fp64?":            "spec expects NULL where on_log_zero:NAN asks for NaN",
	"log10(0::fp64) [on_log_zero:NAN] = null::fp64?":         "spec expects NULL where on_log_zero:NAN asks for NaN",
	"log2(0::fp64) [on_log_zero:NAN] = null::fp64?":          "spec expects NULL where on_log_zero:NAN asks for NaN",
	"logb(2::fp64, 0::fp64) [on_log_zero:NAN] = null::fp64?": "spec expects NULL where on_log_zero:NAN asks for NaN",
	"shift_left(301989888::i64, 8::i32) = 19791209299968::i64": "spec case is wrong: 301989888 << 8 is 77309411328 " +
		"(19791209299968 is the shift by 16)",
	`regexp_replace('a bcdef'::string, '\S'::string, ','::string, 1::i64, 0::i64) = ', bcdef'::string`:         "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_replace(' abcdef'::string, '\w'::string, '1'::string, 1::i64, 0::i64) = ' 1bcdef'::string`:         "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_replace('a bcdef'::string, '\S'::string, ','::string) = ', bcdef'::string`:                         "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_replace(' abcdef'::string, '\w'::string, '1'::string) = ' 1bcdef'::string`:                         "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_replace('abcabcabc'::string, '[bc]'::string, 'dd'::string, 1::i64, 0::i64) = 'addcabcabc'::string`: "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_replace('abcabcabc'::string, '[bc]'::string, 'dd'::string) = 'addcabcabc'::string`:                 "spec case replaces only the first match where the definition says occurrence 0 (and the 3-argument form) replace all",
	`regexp_count_substring('abcdefc'::string, '(.*)c?'::string, 1::i64) = 2::i64`:                             "RE2 ignores an empty match abutting the previous match (ICU counts it)",
	`regexp_count_substring('abcdefc'::string, '(.*)c?'::string) = 2::i64`:                                     "RE2 ignores an empty match abutting the previous match (ICU counts it)",
	"extract(SUNDAY_DAY_OF_WEEK::enum, '2016-12-25T13:30:15'::timestamp) = 7::i64": "spec case contradicts the definition " +
		"(Sunday is the first day of a Sunday-based week)",
	"extract(MONDAY_DAY_OF_WEEK::enum, '2016-12-25T13:30:15'::timestamp) = 0::i64": "spec case contradicts the definition " +
		"(Sunday is the seventh day of a Monday-based week)",
}

func runCase(eng Engine, tc *parser.TestCase) result {
	if why, ok := knownDisagreements[tc.String()]; ok {
		return skipped("%s", why)
	}
	call := &logical.Call{Func: tc.FuncName, NullableOut: true, Options: map[string]string{}}
	for k, v := range tc.Options {
		call.Options[k] = v
	}
	var lits []*logical.Literal
	enums := 0
	for _, a := range tc.Args {
		if _, ok := a.Value.(types.Enum); ok {
			switch {
			case tc.FuncName == "extract" && enums == 0:
				call.Options["component"] = a.ValueText
			case tc.FuncName == "extract" && enums == 1:
				call.Options["indexing"] = a.ValueText
			default:
				return skipped("enum argument of %s", tc.FuncName)
			}
			enums++
			continue
		}
		lit, why := toLiteral(a)
		if why != "" {
			return skipped("%s", why)
		}
		lits = append(lits, lit)
	}
	if tc.Result.SubstraitError != nil && tc.Result.SubstraitError.Error == "UNDEFINED" {
		return skipped("result undefined by the specification")
	}
	wantErr := tc.Result.SubstraitError != nil
	var want *logical.Literal
	if !wantErr {
		var why string
		if want, why = toLiteral(tc.Result); why != "" {
			return skipped("%s", why)
		}
		call.T = want.T
	} else {
		// The result type is not given for error cases: use the first
		// argument's (every error case in the corpus is of that kind).
		if len(lits) == 0 {
			return skipped("error case without arguments")
		}
		call.T = lits[0].T
	}
	for _, variant := range []string{"literals", "columns"} {
		got, err := evaluate(eng, call, lits, variant == "columns")
		if err != nil {
			if errors.Is(err, errNoColumn) || eng.NotSupported(err) {
				return skipped("%s", err.Error())
			}
			if wantErr {
				continue
			}
			return result{outcome: fail, reason: fmt.Sprintf("%s: unexpected error: %v", variant, err)}
		}
		if wantErr {
			return result{outcome: fail, reason: fmt.Sprintf("%s: want an error, got %s", variant, got)}
		}
		if msg := compare(got, want); msg != "" {
			return result{outcome: fail, reason: fmt.Sprintf("%s: %s", variant, msg)}
		}
	}
	return result{outcome: pass}
}

// evaluate compiles call over lits (as literals or as the columns of a
// one-row batch) and returns the single result value formatted.
func evaluate(eng Engine, call *logical.Call, lits []*logical.Literal, asColumns bool) (string, error) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	got, err := evalIn(eng, mem, call, lits, asColumns)
	if n := mem.CurrentAlloc(); n != 0 {
		return "", fmt.Errorf("evaluation leaked %d bytes of Arrow memory", n)
	}
	return got, err
}

func evalIn(eng Engine, mem memory.Allocator, call *logical.Call, lits []*logical.Literal, asColumns bool) (string, error) {
	c := *call
	c.Args = make([]logical.Expr, len(lits))
	var fields []arrow.Field
	var cols []arrow.Array
	for i, l := range lits {
		if !asColumns {
			c.Args[i] = l
			continue
		}
		a, err := literalColumn(mem, l)
		if err != nil {
			return "", err
		}
		defer a.Release()
		name := fmt.Sprintf("c%d", i)
		fields = append(fields, arrow.Field{Name: name, Type: l.T, Nullable: true})
		cols = append(cols, a)
		c.Args[i] = &logical.ColumnRef{Index: i, Name: name, T: l.T, CanBeNull: true}
	}
	schema := arrow.NewSchema(fields, nil)
	batch := array.NewRecordBatch(schema, cols, 1)
	defer batch.Release()
	ev, err := eng.Compile(&c, schema, mem)
	if err != nil {
		return "", err
	}
	out, err := ev.Eval(context.Background(), batch)
	if err != nil {
		return "", err
	}
	defer out.Release()
	if out.Len() != 1 {
		return "", fmt.Errorf("result has %d rows", out.Len())
	}
	return formatValue(out, 0), nil
}

// literalColumn builds a one-row column holding a literal's value.
func literalColumn(mem memory.Allocator, l *logical.Literal) (arrow.Array, error) {
	b := array.NewBuilder(mem, l.T)
	defer b.Release()
	if l.Value == nil {
		b.AppendNull()
		return b.NewArray(), nil
	}
	switch bb := b.(type) {
	case *array.Int8Builder:
		bb.Append(l.Value.(int8))
	case *array.Int16Builder:
		bb.Append(l.Value.(int16))
	case *array.Int32Builder:
		bb.Append(l.Value.(int32))
	case *array.Int64Builder:
		bb.Append(l.Value.(int64))
	case *array.Float32Builder:
		bb.Append(l.Value.(float32))
	case *array.Float64Builder:
		bb.Append(l.Value.(float64))
	case *array.BooleanBuilder:
		bb.Append(l.Value.(bool))
	case *array.StringBuilder:
		bb.Append(l.Value.(string))
	case *array.Decimal64Builder:
		bb.Append(decimal.Decimal64(l.Value.(int64)))
	case *array.Decimal128Builder:
		bb.Append(l.Value.(decimal128.Num))
	case *array.Date32Builder:
		bb.Append(l.Value.(arrow.Date32))
	case *array.TimestampBuilder:
		bb.Append(l.Value.(arrow.Timestamp))
	case *array.MonthDayNanoIntervalBuilder:
		bb.Append(l.Value.(arrow.MonthDayNanoInterval))
	default:
		return nil, fmt.Errorf("%w %s", errNoColumn, l.T)
	}
	return b.NewArray(), nil
}

// mapType converts a Substrait test type to the engine's Arrow type.
func mapType(t types.Type) (arrow.DataType, string) {
	s := strings.ReplaceAll(t.String(), "?", "")
	name, params, _ := strings.Cut(s, "<")
	params = strings.TrimSuffix(params, ">")
	switch name {
	case "i8":
		return arrow.PrimitiveTypes.Int8, ""
	case "i16":
		return arrow.PrimitiveTypes.Int16, ""
	case "i32":
		return arrow.PrimitiveTypes.Int32, ""
	case "i64":
		return arrow.PrimitiveTypes.Int64, ""
	case "fp32":
		return arrow.PrimitiveTypes.Float32, ""
	case "fp64":
		return arrow.PrimitiveTypes.Float64, ""
	case "boolean":
		return logical.Bool, ""
	case "string", "varchar", "fixedchar":
		return logical.Utf8, ""
	case "date":
		return logical.Date32, ""
	case "timestamp":
		return logical.TimestampUs, ""
	case "precision_timestamp":
		return logical.TimestampUs, ""
	case "interval_day", "interval_year":
		return logical.Interval, ""
	case "decimal":
		ps := strings.Split(params, ",")
		if len(ps) != 2 {
			return nil, "type " + s + " not supported"
		}
		p, err1 := strconv.Atoi(strings.TrimSpace(ps[0]))
		sc, err2 := strconv.Atoi(strings.TrimSpace(ps[1]))
		if err1 != nil || err2 != nil {
			return nil, "type " + s + " not supported"
		}
		return logical.DecimalType(int32(p), int32(sc)), ""
	}
	return nil, "type " + name + " not supported"
}

// toLiteral converts a test-case literal to a logical literal, or gives
// the reason it cannot be expressed.
func toLiteral(c *parser.CaseLiteral) (*logical.Literal, string) {
	t, why := mapType(c.Type)
	if why != "" {
		return nil, why
	}
	text := strings.TrimSpace(c.ValueText)
	if strings.EqualFold(text, "null") {
		return logical.NullLiteral(t), ""
	}
	unq := strings.Trim(text, "'")
	bad := func(err error) (*logical.Literal, string) {
		return nil, fmt.Sprintf("literal %s of type %s not readable: %v", text, c.Type, err)
	}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad(err)
		}
		switch t.ID() {
		case arrow.INT8:
			return &logical.Literal{Value: int8(v), T: t}, ""
		case arrow.INT16:
			return &logical.Literal{Value: int16(v), T: t}, ""
		case arrow.INT32:
			return &logical.Literal{Value: int32(v), T: t}, ""
		}
		return &logical.Literal{Value: v, T: t}, ""
	case arrow.FLOAT32, arrow.FLOAT64:
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return bad(err)
		}
		if t.ID() == arrow.FLOAT32 {
			return &logical.Literal{Value: float32(v), T: t}, ""
		}
		return &logical.Literal{Value: v, T: t}, ""
	case arrow.BOOL:
		v, err := strconv.ParseBool(text)
		if err != nil {
			return bad(err)
		}
		return &logical.Literal{Value: v, T: t}, ""
	case arrow.STRING:
		return &logical.Literal{Value: unq, T: t}, ""
	case arrow.DECIMAL64, arrow.DECIMAL128:
		p, s, _ := logical.DecimalParams(t)
		r, ok := new(big.Rat).SetString(unq)
		if !ok {
			return bad(errors.New("not a number"))
		}
		v := roundRat(r, s)
		if v.BitLen() > 127 || v.CmpAbs(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)) >= 0 {
			return nil, fmt.Sprintf("decimal literal %s out of range for its type", text)
		}
		if t.ID() == arrow.DECIMAL64 {
			return &logical.Literal{Value: v.Int64(), T: t}, ""
		}
		return &logical.Literal{Value: decimal128.FromBigInt(v), T: t}, ""
	case arrow.DATE32:
		d, err := time.Parse("2006-01-02", unq)
		if err != nil {
			return bad(err)
		}
		return &logical.Literal{Value: arrow.Date32(d.Unix() / 86400), T: t}, ""
	case arrow.TIMESTAMP:
		ts, err := time.Parse("2006-01-02T15:04:05.999999999", unq)
		if err != nil {
			if ts, err = time.Parse("2006-01-02 15:04:05.999999999", unq); err != nil {
				return bad(err)
			}
		}
		if ts.Nanosecond()%1000 != 0 {
			return nil, "timestamps finer than microseconds not supported"
		}
		return &logical.Literal{Value: arrow.Timestamp(ts.UnixMicro()), T: t}, ""
	case arrow.INTERVAL_MONTH_DAY_NANO:
		v, err := parseISODuration(unq)
		if err != nil {
			return bad(err)
		}
		return &logical.Literal{Value: v, T: t}, ""
	}
	return nil, "type " + t.String() + " not supported"
}

// roundRat returns r * 10^s rounded half away from zero.
func roundRat(r *big.Rat, s int32) *big.Int {
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)))
	num, den := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(new(big.Int).Abs(num), den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if num.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// parseISODuration parses ISO 8601 durations such as P1Y2M, P5D, PT5H,
// P1DT2H3M4.5S.
func parseISODuration(s string) (arrow.MonthDayNanoInterval, error) {
	var v arrow.MonthDayNanoInterval
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(s, "P") {
		return v, fmt.Errorf("duration %q does not start with P", s)
	}
	s = s[1:]
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] == '.' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i == 0 || i >= len(s) {
			return v, fmt.Errorf("bad duration %q", s)
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return v, err
		}
		switch unit := s[i]; {
		case unit == 'Y' && !inTime:
			v.Months += int32(n * 12)
		case unit == 'M' && !inTime:
			v.Months += int32(n)
		case unit == 'W' && !inTime:
			v.Days += int32(n * 7)
		case unit == 'D' && !inTime:
			v.Days += int32(n)
		case unit == 'H' && inTime:
			v.Nanoseconds += int64(math.Round(n * 3600e9))
		case unit == 'M' && inTime:
			v.Nanoseconds += int64(math.Round(n * 60e9))
		case unit == 'S' && inTime:
			v.Nanoseconds += int64(math.Round(n * 1e9))
		default:
			return v, fmt.Errorf("bad duration unit %q", unit)
		}
		s = s[i+1:]
	}
	if neg {
		v = arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
	}
	return v, nil
}

// formatValue renders row i of a canonically: decimals as exact rationals,
// dates and timestamps in ISO form.
func formatValue(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch x := a.(type) {
	case *array.Decimal64:
		_, s, _ := logical.DecimalParams(a.DataType())
		return new(big.Rat).SetFrac(big.NewInt(int64(x.Value(i))), pow10(s)).RatString()
	case *array.Decimal128:
		_, s, _ := logical.DecimalParams(a.DataType())
		return new(big.Rat).SetFrac(x.Value(i).BigInt(), pow10(s)).RatString()
	case *array.Date32:
		return time.Unix(int64(x.Value(i))*86400, 0).UTC().Format("2006-01-02")
	case *array.Timestamp:
		return time.UnixMicro(int64(x.Value(i))).UTC().Format("2006-01-02T15:04:05.999999")
	case *array.Float64:
		return strconv.FormatFloat(x.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(x.Value(i)), 'g', -1, 32)
	case *array.MonthDayNanoInterval:
		v := x.Value(i)
		return fmt.Sprintf("%dmon%dd%dns", v.Months, v.Days, v.Nanoseconds)
	}
	return a.ValueStr(i)
}

func pow10(s int32) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil) }

// compare checks a formatted result against the expected literal; floats
// compare with a relative tolerance of a few units in the last place.
func compare(got string, want *logical.Literal) string {
	mem := memory.NewGoAllocator()
	col, err := literalColumn(mem, want)
	if err != nil {
		return err.Error()
	}
	defer col.Release()
	w := formatValue(col, 0)
	if got == w {
		return ""
	}
	if logical.IsFloat(want.T) && got != "NULL" && w != "NULL" {
		g, err1 := strconv.ParseFloat(got, 64)
		e, err2 := strconv.ParseFloat(w, 64)
		if err1 == nil && err2 == nil {
			tol := 1e-15
			if want.T.ID() == arrow.FLOAT32 {
				tol = 1e-6
			}
			if (math.IsNaN(g) && math.IsNaN(e)) || g == e || math.Abs(g-e) <= tol*math.Max(math.Abs(g), math.Abs(e)) {
				return ""
			}
		}
	}
	return fmt.Sprintf("got %s, want %s", got, w)
}
