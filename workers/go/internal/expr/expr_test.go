package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

var (
	tI8  = arrow.PrimitiveTypes.Int8
	tI16 = arrow.PrimitiveTypes.Int16
	tI32 = arrow.PrimitiveTypes.Int32
	tI64 = arrow.PrimitiveTypes.Int64
	tF64 = arrow.PrimitiveTypes.Float64
	tStr = arrow.BinaryTypes.String
	tB   = logical.Bool
	tD   = arrow.FixedWidthTypes.Date32
)

func TestIntegerArithmetic(t *testing.T) {
	runCases(t, []exprCase{
		{"add const", call("add", tI32, col("i32"), i32(-10)), rows("0", "-30", "-3", "NULL", "2147483637"), ""},
		{"add overflow", call("add", tI32, col("i32"), i32(1)), nil, "out of range"},
		{"add saturate", callOpt("add", tI32, map[string]string{"overflow": "SATURATE"}, col("i32"), i32(1)),
			rows("11", "-19", "8", "NULL", "2147483647"), ""},
		{"add columns overflow", call("add", tI64, col("i64"), col("i64")), nil, "out of range"},
		{"subtract const left", call("subtract", tI64, i64(0), col("i64")), rows("-10", "20", "-7", "NULL", "-9223372036854775807"), ""},
		{"subtract columns overflow", call("subtract", tI64, col("i64"), col("z64")), nil, "subtract(9223372036854775807, -1) overflows"},
		{"subtract columns", call("subtract", tI64, col("z64"), col("i64")), rows("-10", "23", "-7", "NULL", "-9223372036854775808"), ""},
		{"multiply int8 overflow", call("multiply", tI8, col("i8"), lit(int8(2), tI8)), nil, "out of range"},
		{"multiply int16", call("multiply", tI16, col("i16"), lit(int16(-1), tI16)), rows("-1", "2", "-300", "NULL", "-32767"), ""},
		{"multiply int64 overflow", call("multiply", tI64, col("i64"), i64(2)), nil, "out of range"},
		{"multiply int64", call("multiply", tI64, col("z64"), i64(-3074457345618258602)), rows("0", "-9223372036854775806", "0", "NULL", "3074457345618258602"), ""},
		{"divide const", call("divide", tI64, col("i64"), i64(3)), rows("3", "-6", "2", "NULL", "3074457345618258602"), ""},
		{"divide by zero", call("divide", tI64, col("i64"), col("z64")), nil, "division by zero"},
		{"divide by zero null", callOpt("divide", tI64, map[string]string{"on_division_by_zero": "NULL"}, col("i64"), col("z64")),
			rows("NULL", "-6", "NULL", "NULL", "-9223372036854775807"), ""},
		{"divide by zero constant", call("divide", tI64, col("i64"), i64(0)), nil, "division by zero"},
		{"modulus", call("modulus", tI64, col("i64"), i64(-3)), rows("1", "-2", "1", "NULL", "1"), ""},
		{"modulus min/-1", call("modulus", tI64, lit(int64(-9223372036854775808), tI64), col("z64")), nil, "division by zero"},
		{"negate", call("negate", tI8, col("i8")), rows("-1", "2", "-100", "NULL", "-127"), ""},
		{"abs overflow", call("abs", tI64, call("subtract", tI64, i64(-1), col("i64"))), nil, "out of range"},
		{"abs", call("abs", tI32, col("i32")), rows("10", "20", "7", "NULL", "2147483647"), ""},
		{"sign", call("sign", tI64, col("i64")), rows("1", "-1", "1", "NULL", "1"), ""},
		{"power int", call("power", tI64, col("z64"), i64(3)), rows("0", "27", "0", "NULL", "-1"), ""},
		{"mixed widths", call("add", tI64, col("i8"), col("i64")), rows("11", "-22", "107", "NULL", "overflow"), "out of range"},
		{"null literal", call("add", tI64, col("i64"), null(tI64)), rows("NULL", "NULL", "NULL", "NULL", "NULL"), ""},
	})
}

func TestFloatArithmetic(t *testing.T) {
	runCases(t, []exprCase{
		{"multiply", call("multiply", tF64, col("f64"), f64(2)), rows("3", "-4.5", "0", "NULL", "2e+300"), ""},
		{"overflow is infinity", call("multiply", tF64, col("f64"), f64(1e10)), rows("15000000000", "-22500000000", "0", "NULL", "Infinity"), ""},
		{"divide by zero", call("divide", tF64, col("f64"), f64(0)), nil, "division by zero"},
		{"divide by zero nan", callOpt("divide", tF64, map[string]string{"on_division_by_zero": "NAN"}, f64(1), col("f64")),
			rows("0.6666666666666666", "-0.4444444444444444", "NaN", "NULL", "1e-300"), ""},
		{"sqrt domain", call("sqrt", tF64, col("f64")), nil, "square root of a negative"},
		{"sqrt abs", call("sqrt", tF64, call("abs", tF64, col("f64"))), rows("1.224744871391589", "1.5", "0", "NULL", "1e+150"), ""},
		{"ln zero", call("ln", tF64, col("f64")), nil, "logarithm"},
		{"exp", call("exp", tF64, call("negate", tF64, call("abs", tF64, col("f64")))), rows("0.22313016014842982", "0.10539922456186433", "1", "NULL", "0"), ""},
		{"power", call("power", tF64, col("f64"), f64(2)), rows("2.25", "5.0625", "0", "NULL", "Infinity"), ""},
		{"power domain", call("power", tF64, col("f64"), f64(0.5)), nil, "complex"},
		{"floor", call("floor", tF64, col("f64")), rows("1", "-3", "0", "NULL", "1e+300"), ""},
		{"ceil", call("ceil", tF64, col("f64")), rows("2", "-2", "0", "NULL", "1e+300"), ""},
		{"round half away", call("round", tF64, col("f64")), rows("2", "-2", "0", "NULL", "1e+300"), ""},
		{"round digits", call("round", tF64, col("f64"), i32(1)), rows("1.5", "-2.3", "0", "NULL", "1e+300"), ""},
		{"int to float arithmetic", call("add", tF64, col("i32"), f64(0.5)), rows("10.5", "-19.5", "7.5", "NULL", "2147483647.5"), ""},
	})
}

func TestDecimalArithmetic(t *testing.T) {
	d16 := logical.DecimalType(16, 2)
	oneMinus := call("subtract", d16, dec(1, 1, 0), col("dec2"))
	runCases(t, []exprCase{
		{"1 - x", oneMinus, rows("0.00", "0.97", "4.00", "NULL", "1.00"), ""},
		{"price * (1 - disc)", call("multiply", logical.DecimalType(32, 4), col("dec"), oneMinus),
			rows("0.0000", "-0.0485", "400.0000", "NULL", "9999999999999.9900"), ""},
		{"q1 charge", call("multiply", logical.DecimalType(38, 6),
			call("multiply", logical.DecimalType(32, 4), col("dec"), oneMinus),
			call("add", d16, dec(1, 1, 0), col("dec2"))),
			rows("0.000000", "-0.049955", "-800.000000", "NULL", "9999999999999.990000"), ""},
		{"add", call("add", d16, col("dec"), col("dec2")), rows("13.34", "-0.02", "97.00", "NULL", "9999999999999.99"), ""},
		{"add overflow", call("add", tDec, col("dec"), col("dec")), nil, "does not fit decimal(15, 2)"},
		{"add rescale", call("add", logical.DecimalType(17, 3), col("dec"), dec(5, 3, 3)), rows("12.345", "-0.045", "100.005", "NULL", "9999999999999.995"), ""},
		{"multiply decimal64", call("multiply", logical.DecimalType(17, 2), col("dec2"), dec(3, 1, 0)), rows("3.00", "0.09", "-9.00", "NULL", "0.00"), ""},
		{"divide", call("divide", logical.DecimalType(20, 3), col("dec2"), dec(7, 15, 2)), rows("14.286", "0.429", "-42.857", "NULL", "0.000"), ""},
		{"divide half away", call("divide", logical.DecimalType(10, 2), col("dec2"), dec(800, 15, 2)), rows("0.13", "0.00", "-0.38", "NULL", "0.00"), ""},
		{"divide by zero", call("divide", logical.DecimalType(33, 18), col("dec"), col("dec2")), nil, "division by zero"},
		{"divide full scale", callOpt("divide", logical.DecimalType(33, 18), map[string]string{"on_division_by_zero": "NULL"}, col("dec"), col("dec2")),
			rows("12.340000000000000000", "-1.666666666666666667", "-33.333333333333333333", "NULL", "NULL"), ""},
		{"modulus", callOpt("modulus", tDec, map[string]string{"on_division_by_zero": "NULL"}, col("dec"), col("dec2")),
			rows("0.34", "-0.02", "1.00", "NULL", "NULL"), ""},
		{"decimal128 add", call("add", logical.DecimalType(26, 4), col("d128"), col("dec")),
			rows("24.6800", "-0.1000", "200.0000", "NULL", "1000000009999999999999.9899"), ""},
		{"decimal128 multiply", call("multiply", logical.DecimalType(38, 6), col("d128"), col("dec2")),
			rows("12.340000", "-0.001500", "-300.000000", "NULL", "0.000000"), ""},
		{"decimal128 multiply overflow", call("multiply", logical.DecimalType(38, 6), col("d128"), col("dec")), nil, "does not fit"},
		{"decimal128 multiply rounding", call("multiply", logical.DecimalType(38, 2), col("d128"), col("dec2")),
			rows("12.34", "0.00", "-300.00", "NULL", "0.00"), ""},
		{"negate", call("negate", tDec, col("dec")), rows("-12.34", "0.05", "-100.00", "NULL", "-9999999999999.99"), ""},
		{"abs decimal128", call("abs", tDec128, col("d128")), rows("12.3400", "0.0500", "100.0000", "NULL", "999999999999999999999.9999"), ""},
		{"round", call("round", logical.DecimalType(16, 2), col("dec"), i32(1)), rows("12.30", "-0.10", "100.00", "NULL", "10000000000000.00"), ""},
		{"round overflow", call("round", logical.DecimalType(15, 2), col("dec"), i32(1)), nil, "does not fit decimal(15, 2)"},
		{"round to int", call("round", logical.DecimalType(14, 0), col("dec")), rows("12", "0", "100", "NULL", "10000000000000"), ""},
		{"floor", call("floor", logical.DecimalType(14, 0), col("dec")), rows("12", "-1", "100", "NULL", "9999999999999"), ""},
		{"ceil", call("ceil", logical.DecimalType(14, 0), col("dec")), rows("13", "0", "100", "NULL", "10000000000000"), ""},
		{"sign", call("sign", tDec, col("dec")), rows("1.00", "-1.00", "1.00", "NULL", "1.00"), ""},
		{"decimal with integer", call("add", logical.DecimalType(21, 2), col("dec"), col("i64")), rows("22.34", "-20.05", "107.00", "NULL", "9223382036854775806.99"), ""},
		{"decimal with integer overflow", call("add", logical.DecimalType(20, 2), col("dec"), col("i64")), nil, "does not fit"},
		{"decimal times integer", call("multiply", logical.DecimalType(20, 2), col("dec2"), col("i32")),
			rows("10.00", "-0.60", "-21.00", "NULL", "0.00"), ""},
		{"decimal to float math", call("sqrt", tF64, col("dec2")), nil, "square root"},
		{"power decimal", call("power", tF64, col("dec2"), dec(2, 1, 0)), rows("1", "0.0009", "9", "NULL", "0"), ""},
	})
}

func TestComparison(t *testing.T) {
	runCases(t, []exprCase{
		{"gt const", call("gt", tB, col("i32"), i32(7)), rows("true", "false", "false", "NULL", "true"), ""},
		{"lte const left", call("lte", tB, i32(7), col("i32")), rows("true", "false", "true", "NULL", "true"), ""},
		{"equal string", call("equal", tB, col("s"), str("hello")), rows("true", "false", "false", "NULL", "false"), ""},
		{"lt string", call("lt", tB, col("s"), str("b")), rows("false", "true", "true", "NULL", "true"), ""},
		{"not_equal strings", call("not_equal", tB, col("s"), col("ls")), rows("true", "true", "NULL", "NULL", "true"), ""},
		{"equal date", call("equal", tB, col("date"), date(2020, 2, 1)), rows("false", "true", "false", "NULL", "false"), ""},
		{"date vs timestamp", call("lt", tB, col("date"), col("ts")), rows("false", "false", "true", "NULL", "false"), ""},
		{"gte decimals", call("gte", tB, col("dec"), col("dec2")), rows("true", "false", "true", "NULL", "true"), ""},
		{"decimal vs int", call("gt", tB, col("dec"), col("i64")), rows("true", "true", "true", "NULL", "false"), ""},
		{"decimal different scale", call("equal", tB, col("dec"), dec(123400, 10, 4)), rows("true", "false", "false", "NULL", "false"), ""},
		{"decimal128", call("lt", tB, col("d128"), dec(1, 1, 0)), rows("false", "true", "false", "NULL", "false"), ""},
		{"float", call("lt", tB, col("f64"), f64(0)), rows("false", "true", "false", "NULL", "false"), ""},
		{"float nan equal", call("equal", tB, lit(nan(), tF64), col("f64")), rows("false", "false", "false", "NULL", "false"), ""},
		{"float nan greatest", call("gt", tB, lit(nan(), tF64), col("f64")), rows("true", "true", "true", "NULL", "true"), ""},
		{"bool", call("equal", tB, col("b"), col("b2")), rows("true", "false", "NULL", "NULL", "true"), ""},
		{"bool lt", call("lt", tB, col("b"), col("b2")), rows("false", "true", "NULL", "NULL", "false"), ""},
		{"distinct", call("is_distinct_from", tB, col("b"), col("b2")), rows("false", "true", "true", "false", "false"), ""},
		{"not distinct null", call("is_not_distinct_from", tB, col("i8"), null(tI8)), rows("false", "false", "false", "true", "false"), ""},
		{"not distinct strings", call("is_not_distinct_from", tB, col("s"), col("ls")), rows("false", "false", "false", "false", "false"), ""},
		{"between", call("between", tB, col("i32"), i32(0), i32(10)), rows("true", "false", "true", "NULL", "false"), ""},
		{"interval", call("lt", tB, interval(0, 30, 0), interval(1, 0, 1)), rows("true", "true", "true", "true", "true"), ""},
		{"large string", call("equal", tB, col("ls"), str("yy")), rows("false", "true", "NULL", "false", "false"), ""},
	})
}

func TestBoolean(t *testing.T) {
	runCases(t, []exprCase{
		{"and", call("and", tB, col("b"), col("b2")), rows("true", "false", "NULL", "NULL", "false"), ""},
		{"or", call("or", tB, col("b"), col("b2")), rows("true", "true", "true", "NULL", "false"), ""},
		{"and null", call("and", tB, col("b"), null(tB)), rows("NULL", "false", "NULL", "NULL", "false"), ""},
		{"or null", call("or", tB, col("b"), null(tB)), rows("true", "NULL", "true", "NULL", "NULL"), ""},
		{"or true", call("or", tB, col("b2"), boolLit(true)), rows("true", "true", "true", "true", "true"), ""},
		{"and variadic", call("and", tB, col("b"), col("b2"), call("gt", tB, col("i32"), i32(0))), rows("true", "false", "NULL", "NULL", "false"), ""},
		{"not", call("not", tB, col("b2")), rows("false", "false", "NULL", "NULL", "true"), ""},
		{"xor", call("xor", tB, col("b"), col("b2")), rows("false", "true", "NULL", "NULL", "false"), ""},
		{"is_true", call("is_true", tB, col("b2")), rows("true", "true", "false", "false", "false"), ""},
		{"is_false", call("is_false", tB, col("b")), rows("false", "true", "false", "false", "true"), ""},
		{"is_not_true", call("is_not_true", tB, col("b")), rows("false", "true", "false", "true", "true"), ""},
		{"is_not_false", call("is_not_false", tB, col("b2")), rows("true", "true", "true", "true", "false"), ""},
		{"is_null", call("is_null", tB, col("s")), rows("false", "false", "false", "true", "false"), ""},
		{"is_not_null", call("is_not_null", tB, col("ls")), rows("true", "true", "false", "true", "true"), ""},
		{"and short circuit skips error", call("and", tB, boolLit(false), call("gt", tB, call("divide", tI64, col("i64"), i64(0)), i64(0))),
			rows("false", "false", "false", "false", "false"), ""},
		{"and of non-bool", call("and", tB, col("i32"), col("b")), nil, "not supported: function and(int32, bool)"},
	})
}

func TestStrings(t *testing.T) {
	runCases(t, []exprCase{
		{"upper", call("upper", tStr, col("s")), rows("HELLO", "WÖRLD", "", "NULL", "A_B%C"), ""},
		{"lower", call("lower", tStr, col("s")), rows("hello", "wörld", "", "NULL", "a_b%c"), ""},
		{"upper large", call("upper", tStr, col("ls")), rows("X", "YY", "NULL", "ZZZ", ""), ""},
		{"char_length", call("char_length", tI64, col("s")), rows("5", "5", "0", "NULL", "5"), ""},
		{"octet_length", call("octet_length", tI64, col("s")), rows("5", "6", "0", "NULL", "5"), ""},
		{"substring", call("substring", tStr, col("s"), i64(2), i64(3)), rows("ell", "örl", "", "NULL", "_b%"), ""},
		{"substring from 0", call("substring", tStr, col("s"), i64(0), i64(3)), rows("he", "Wö", "", "NULL", "a_"), ""},
		{"substring negative start", call("substring", tStr, col("s"), i64(-1), i64(3)), rows("h", "W", "", "NULL", "a"), ""},
		{"substring no length", call("substring", tStr, col("s"), i32(3)), rows("llo", "rld", "", "NULL", "b%c"), ""},
		{"substring past end", call("substring", tStr, col("s"), i64(10), i64(3)), rows("", "", "", "NULL", ""), ""},
		{"substring negative length", call("substring", tStr, col("s"), i64(1), i64(-1)), nil, "negative substring length"},
		{"substring wrap", callOpt("substring", tStr, map[string]string{"negative_start": "WRAP_FROM_END"}, col("s"), i64(-2), i64(1)),
			rows("l", "l", "", "NULL", "%"), ""},
		{"trim", call("trim", tStr, call("concat", tStr, str("  "), col("s"), str(" "))), rows("hello", "Wörld", "", "NULL", "a_b%c"), ""},
		{"ltrim chars", call("ltrim", tStr, col("s"), str("eh")), rows("llo", "Wörld", "", "NULL", "a_b%c"), ""},
		{"rtrim chars", call("rtrim", tStr, col("s"), str("old")), rows("he", "Wör", "", "NULL", "a_b%c"), ""},
		{"strpos", call("strpos", tI64, col("s"), str("l")), rows("3", "4", "0", "NULL", "0"), ""},
		{"replace", call("replace", tStr, col("s"), str("l"), str("LL")), rows("heLLLLo", "WörLLd", "", "NULL", "a_b%c"), ""},
		{"starts_with", call("starts_with", tB, col("s"), str("he")), rows("true", "false", "false", "NULL", "false"), ""},
		{"ends_with", call("ends_with", tB, col("s"), str("c")), rows("false", "false", "false", "NULL", "true"), ""},
		{"contains", call("contains", tB, col("s"), str("b%")), rows("false", "false", "false", "NULL", "true"), ""},
		{"concat null", call("concat", tStr, col("s"), str("-"), col("ls")), rows("hello-x", "Wörld-yy", "NULL", "NULL", "a_b%c-"), ""},
		{"left", call("left", tStr, col("s"), i64(2)), rows("he", "Wö", "", "NULL", "a_"), ""},
		{"left negative", call("left", tStr, col("s"), i64(-2)), rows("hel", "Wör", "", "NULL", "a_b"), ""},
		{"right", call("right", tStr, col("s"), i64(2)), rows("lo", "ld", "", "NULL", "%c"), ""},
		{"right negative", call("right", tStr, col("s"), i64(-2)), rows("llo", "rld", "", "NULL", "b%c"), ""},
		{"lpad", call("lpad", tStr, col("s"), i64(7), str("xy")), rows("xyhello", "xyWörld", "xyxyxyx", "NULL", "xya_b%c"), ""},
		{"rpad truncates", call("rpad", tStr, col("s"), i64(3)), rows("hel", "Wör", "   ", "NULL", "a_b"), ""},
		{"reverse", call("reverse", tStr, col("s")), rows("olleh", "dlröW", "", "NULL", "c%b_a"), ""},
		{"repeat", call("repeat", tStr, col("ls"), i64(2)), rows("xx", "yyyy", "NULL", "zzzzzz", ""), ""},
		{"split_part", call("split_part", tStr, col("s"), str("l"), i64(2)), rows("", "d", "", "NULL", ""), ""},
		{"split_part negative", call("split_part", tStr, col("s"), str("l"), i64(-1)), rows("o", "d", "", "NULL", "a_b%c"), ""},
		{"split_part zero", call("split_part", tStr, col("s"), str("l"), i64(0)), nil, "must not be zero"},
		{"regexp_match", call("regexp_match", tB, col("s"), str("^[a-z]+$")), rows("true", "false", "false", "NULL", "false"), ""},
		{"regexp_match bad", call("regexp_match", tB, col("s"), str("(")), nil, "invalid regular expression"},
		{"string view input", call("char_length", tI64, col("sv")), rows("11", "3", "NULL", "10", "5"), ""},
		{"unsupported args", call("upper", tStr, col("i64")), nil, "not supported: function upper(int64)"},
	})
}

func TestLike(t *testing.T) {
	esc := map[string]string{"escape": `\`}
	runCases(t, []exprCase{
		{"prefix", call("like", tB, col("s"), str("h%")), rows("true", "false", "false", "NULL", "false"), ""},
		{"suffix", call("like", tB, col("s"), str("%c")), rows("false", "false", "false", "NULL", "true"), ""},
		{"exact", call("like", tB, col("s"), str("hello")), rows("true", "false", "false", "NULL", "false"), ""},
		{"empty", call("like", tB, col("s"), str("")), rows("false", "false", "true", "NULL", "false"), ""},
		{"all", call("like", tB, col("s"), str("%%")), rows("true", "true", "true", "NULL", "true"), ""},
		{"underscore", call("like", tB, col("s"), str("%l_")), rows("true", "true", "false", "NULL", "false"), ""},
		{"multibyte underscore", call("like", tB, col("s"), str("_ö%")), rows("false", "true", "false", "NULL", "false"), ""},
		{"general", call("like", tB, col("s"), str("h%l%o")), rows("true", "false", "false", "NULL", "false"), ""},
		{"general anchored both", call("like", tB, col("s"), str("%e%l_")), rows("true", "false", "false", "NULL", "false"), ""},
		{"escape", callOpt("like", tB, esc, col("s"), str(`a\_b\%c`)), rows("false", "false", "false", "NULL", "true"), ""},
		{"escaped wildcard no match", callOpt("like", tB, esc, col("s"), str(`h\%`)), rows("false", "false", "false", "NULL", "false"), ""},
		{"bad escape", callOpt("like", tB, esc, col("s"), str(`a\`)), nil, "escape"},
		{"ilike", call("ilike", tB, col("s"), str("w%")), rows("false", "true", "false", "NULL", "false"), ""},
		{"ilike unicode", call("ilike", tB, col("s"), str("%ÖR%")), rows("false", "true", "false", "NULL", "false"), ""},
		{"contains view", call("like", tB, col("sv"), str("%green%")), rows("true", "false", "NULL", "true", "false"), ""},
		{"ilike contains view", call("ilike", tB, col("sv"), str("%green%")), rows("true", "false", "NULL", "true", "true"), ""},
		{"pattern column", call("like", tB, col("s"), col("s")), rows("true", "true", "true", "NULL", "true"), ""},
		{"pattern null", call("like", tB, col("s"), null(tStr)), rows("NULL", "NULL", "NULL", "NULL", "NULL"), ""},
	})
}

func TestDateTime(t *testing.T) {
	ext := func(comp, c string) *logical.Call {
		return callOpt("extract", tI64, map[string]string{"component": comp}, col(c))
	}
	trunc := func(unit, c string, typ arrow.DataType) *logical.Call {
		return callOpt("date_trunc", typ, map[string]string{"unit": unit}, col(c))
	}
	runCases(t, []exprCase{
		{"year", ext("YEAR", "date"), rows("2020", "2020", "1969", "NULL", "1970"), ""},
		{"year ts", ext("YEAR", "ts"), rows("2020", "2020", "1969", "NULL", "1970"), ""},
		{"month ts", ext("MONTH", "ts"), rows("1", "1", "12", "NULL", "1"), ""},
		{"day", ext("DAY", "date"), rows("1", "1", "31", "NULL", "1"), ""},
		{"quarter", ext("QUARTER", "date"), rows("1", "1", "4", "NULL", "1"), ""},
		{"day of week", ext("DAY_OF_WEEK", "date"), rows("3", "6", "3", "NULL", "4"), ""},
		{"day of year", ext("DAY_OF_YEAR", "date"), rows("1", "32", "365", "NULL", "1"), ""},
		{"week", ext("WEEK", "date"), rows("1", "5", "1", "NULL", "1"), ""},
		{"hour", ext("HOUR", "ts"), rows("0", "0", "23", "NULL", "0"), ""},
		{"minute", ext("MINUTE", "ts"), rows("0", "2", "59", "NULL", "0"), ""},
		{"second", ext("SECOND", "ts"), rows("0", "3", "59", "NULL", "0"), ""},
		{"epoch", callOpt("extract", tF64, map[string]string{"component": "EPOCH"}, col("ts")),
			rows("1577836800", "1577923323.5", "-1e-06", "NULL", "0"), ""},
		{"epoch date", callOpt("extract", tF64, map[string]string{"component": "EPOCH"}, col("date")),
			rows("1577836800", "1580515200", "-86400", "NULL", "0"), ""},
		{"bad component", ext("FORTNIGHT", "date"), nil, "not supported: extract component FORTNIGHT"},
		{"trunc month", trunc("MONTH", "date", tD), rows("2020-01-01", "2020-02-01", "1969-12-01", "NULL", "1970-01-01"), ""},
		{"trunc week", trunc("WEEK", "date", tD), rows("2019-12-30", "2020-01-27", "1969-12-29", "NULL", "1969-12-29"), ""},
		{"trunc year", trunc("YEAR", "date", tD), rows("2020-01-01", "2020-01-01", "1969-01-01", "NULL", "1970-01-01"), ""},
		{"trunc quarter ts", trunc("QUARTER", "ts", tTS), rows("2020-01-01 00:00:00", "2020-01-01 00:00:00", "1969-10-01 00:00:00", "NULL", "1970-01-01 00:00:00"), ""},
		{"trunc hour", trunc("HOUR", "ts", tTS), rows("2020-01-01 00:00:00", "2020-01-02 00:00:00", "1969-12-31 23:00:00", "NULL", "1970-01-01 00:00:00"), ""},
		{"add month", call("add", tD, col("date"), interval(1, 0, 0)), rows("2020-02-01", "2020-03-01", "1970-01-31", "NULL", "1970-02-01"), ""},
		{"subtract month and day", call("subtract", tD, col("date"), interval(1, 1, 0)), rows("2019-11-30", "2019-12-31", "1969-11-29", "NULL", "1969-11-30"), ""},
		{"month end clamp", call("add", tD, call("add", tD, col("date"), interval(0, 30, 0)), interval(1, 0, 0)),
			rows("2020-02-29", "2020-04-02", "1970-02-28", "NULL", "1970-02-28"), ""},
		{"interval first", call("add", tD, interval(12, 0, 0), col("date")), rows("2021-01-01", "2021-02-01", "1970-12-31", "NULL", "1971-01-01"), ""},
		{"date minus date", call("subtract", tI32, col("date"), date(2020, 1, 1)), rows("0", "31", "-18263", "NULL", "-18262"), ""},
		{"date plus days", call("add", tD, col("date"), i32(31)), rows("2020-02-01", "2020-03-03", "1970-01-31", "NULL", "1970-02-01"), ""},
		{"timestamp plus interval", call("add", tTS, col("ts"), interval(0, 1, 3600e9)),
			rows("2020-01-02 01:00:00", "2020-01-03 01:02:03.5", "1970-01-02 00:59:59.999999", "NULL", "1970-01-02 01:00:00"), ""},
		{"date plus hours", call("add", tTS, col("date"), interval(0, 0, 7200e9)),
			rows("2020-01-01 02:00:00", "2020-02-01 02:00:00", "1969-12-31 02:00:00", "NULL", "1970-01-01 02:00:00"), ""},
		{"date filter", call("and", tB, call("gte", tB, col("date"), date(1970, 1, 1)), call("lt", tB, col("date"), date(2020, 2, 1))),
			rows("true", "false", "false", "NULL", "true"), ""},
		{"timestamp difference", call("subtract", logical.Interval, col("ts"), lit(arrow.Timestamp(0), tTS)),
			rows("18262 days", "18263 days 00:02:03.5", "-00:00:00.000001", "NULL", "00:00:00"), ""},
	})
}

func TestCasts(t *testing.T) {
	cast := func(e logical.Expr, to arrow.DataType) *logical.Cast { return &logical.Cast{Input: e, T: to} }
	try := func(e logical.Expr, to arrow.DataType) *logical.Cast {
		return &logical.Cast{Input: e, T: to, Try: true}
	}
	runCases(t, []exprCase{
		{"int narrowing error", cast(col("i64"), tI8), nil, "out of range for int8"},
		{"int narrowing try", try(col("i64"), tI8), rows("10", "-20", "7", "NULL", "NULL"), ""},
		{"int widening", cast(col("i8"), tI64), rows("1", "-2", "100", "NULL", "127"), ""},
		{"string to int error", cast(col("s"), tI64), nil, `invalid input syntax for type int64: "hello"`},
		{"string int roundtrip", cast(cast(col("i32"), tStr), tI64), rows("10", "-20", "7", "NULL", "2147483647"), ""},
		{"string with spaces", cast(str(" 42 "), tI32), rows("42", "42", "42", "42", "42"), ""},
		{"decimal to int rounds", cast(col("dec"), tI64), rows("12", "0", "100", "NULL", "10000000000000"), ""},
		{"decimal rescale down", cast(col("dec"), logical.DecimalType(15, 1)), rows("12.3", "-0.1", "100.0", "NULL", "10000000000000.0"), ""},
		{"decimal rescale up", cast(col("dec"), logical.DecimalType(18, 4)), rows("12.3400", "-0.0500", "100.0000", "NULL", "9999999999999.9900"), ""},
		{"decimal narrowing error", cast(col("dec"), logical.DecimalType(4, 2)), nil, "value 100.00 does not fit decimal(4, 2)"},
		{"decimal narrowing try", try(col("dec"), logical.DecimalType(4, 2)), rows("12.34", "-0.05", "NULL", "NULL", "NULL"), ""},
		{"decimal widen 128", cast(col("dec"), logical.DecimalType(30, 2)), rows("12.34", "-0.05", "100.00", "NULL", "9999999999999.99"), ""},
		{"decimal128 to 64", cast(col("d128"), tDec), nil, "does not fit"},
		{"decimal to double", cast(col("dec"), tF64), rows("12.34", "-0.05", "100", "NULL", "9999999999999.99"), ""},
		{"double to decimal", try(col("f64"), logical.DecimalType(10, 2)), rows("1.50", "-2.25", "0.00", "NULL", "NULL"), ""},
		{"double to int half even", cast(col("f64"), tI32), nil, "out of range for int32"},
		{"double to int", try(col("f64"), tI32), rows("2", "-2", "0", "NULL", "NULL"), ""},
		{"int to decimal", cast(col("i32"), logical.DecimalType(12, 2)), rows("10.00", "-20.00", "7.00", "NULL", "2147483647.00"), ""},
		{"int to decimal overflow", cast(col("i32"), logical.DecimalType(5, 2)), nil, "does not fit decimal(5, 2)"},
		{"int to string", cast(col("i32"), tStr), rows("10", "-20", "7", "NULL", "2147483647"), ""},
		{"decimal to string", cast(col("dec"), tStr), rows("12.34", "-0.05", "100.00", "NULL", "9999999999999.99"), ""},
		{"decimal128 to string", cast(col("d128"), tStr), rows("12.3400", "-0.0500", "100.0000", "NULL", "999999999999999999999.9999"), ""},
		{"date to string", cast(col("date"), tStr), rows("2020-01-01", "2020-02-01", "1969-12-31", "NULL", "1970-01-01"), ""},
		{"timestamp to string", cast(col("ts"), tStr), rows("2020-01-01 00:00:00", "2020-01-02 00:02:03.5", "1969-12-31 23:59:59.999999", "NULL", "1970-01-01 00:00:00"), ""},
		{"bool to string", cast(col("b"), tStr), rows("true", "false", "true", "NULL", "false"), ""},
		{"float to string", cast(col("f64"), tStr), rows("1.5", "-2.25", "0", "NULL", "1e+300"), ""},
		{"interval to string", cast(interval(14, 3, 3661e9), tStr), rows("1 year 2 mons 3 days 01:01:01", "1 year 2 mons 3 days 01:01:01", "1 year 2 mons 3 days 01:01:01", "1 year 2 mons 3 days 01:01:01", "1 year 2 mons 3 days 01:01:01"), ""},
		{"string to date error", cast(col("s"), tD), nil, `invalid input syntax for type date32: "hello"`},
		{"bad date", cast(str("2020-02-30"), tD), nil, "invalid input syntax"},
		{"try string to date", try(col("s"), tD), rows("NULL", "NULL", "NULL", "NULL", "NULL"), ""},
		{"date roundtrip", cast(cast(col("date"), tStr), tD), rows("2020-01-01", "2020-02-01", "1969-12-31", "NULL", "1970-01-01"), ""},
		{"timestamp roundtrip", cast(cast(col("ts"), tStr), tTS), rows("2020-01-01 00:00:00", "2020-01-02 00:02:03.5", "1969-12-31 23:59:59.999999", "NULL", "1970-01-01 00:00:00"), ""},
		{"date to timestamp", cast(col("date"), tTS), rows("2020-01-01 00:00:00", "2020-02-01 00:00:00", "1969-12-31 00:00:00", "NULL", "1970-01-01 00:00:00"), ""},
		{"timestamp to date", cast(col("ts"), tD), rows("2020-01-01", "2020-01-02", "1969-12-31", "NULL", "1970-01-01"), ""},
		{"large string to utf8", cast(col("ls"), tStr), rows("x", "yy", "NULL", "zzz", ""), ""},
		{"string view to utf8", cast(col("sv"), tStr), rows("green apple", "red", "NULL", "dark green", "Green"), ""},
		{"string to decimal rounds", cast(str("12.345"), logical.DecimalType(5, 2)), rows("12.35", "12.35", "12.35", "12.35", "12.35"), ""},
		{"string to decimal exponent", cast(str("-1.5e2"), logical.DecimalType(6, 1)), rows("-150.0", "-150.0", "-150.0", "-150.0", "-150.0"), ""},
		{"string to bool", cast(str("yes"), tB), rows("true", "true", "true", "true", "true"), ""},
		{"string to double", cast(str("1e3"), tF64), rows("1000", "1000", "1000", "1000", "1000"), ""},
		{"string to interval", cast(str("1 year 2 days 03:00:00"), logical.Interval), rows("1 year 2 days 03:00:00", "1 year 2 days 03:00:00", "1 year 2 days 03:00:00", "1 year 2 days 03:00:00", "1 year 2 days 03:00:00"), ""},
		{"null cast", cast(null(tI64), tStr), rows("NULL", "NULL", "NULL", "NULL", "NULL"), ""},
		{"bool to int", cast(col("b"), tI32), rows("1", "0", "1", "NULL", "0"), ""},
		{"unsupported", cast(col("date"), tI8), nil, "not supported: cast from date32 to int8"},
	})
}

func TestConditionals(t *testing.T) {
	caseOf := func(els logical.Expr, typ arrow.DataType, whens ...logical.When) *logical.Case {
		return &logical.Case{Whens: whens, Else: els, T: typ}
	}
	runCases(t, []exprCase{
		{"case strings", caseOf(nil, tStr,
			logical.When{Cond: call("gt", tB, col("i32"), i32(5)), Then: str("big")},
			logical.When{Cond: call("lt", tB, col("i32"), i32(0)), Then: str("neg")}),
			rows("big", "neg", "big", "NULL", "big"), ""},
		{"case columns", caseOf(col("z64"), tI64, logical.When{Cond: col("b"), Then: col("i64")}),
			rows("10", "3", "7", "NULL", "-1"), ""},
		{"case guards division", caseOf(call("divide", tI64, col("i64"), col("z64")), tI64,
			logical.When{Cond: call("equal", tB, col("z64"), i64(0)), Then: i64(0)}),
			rows("0", "-6", "0", "NULL", "-9223372036854775807"), ""},
		{"case all first arm", caseOf(str("no"), tStr, logical.When{Cond: boolLit(true), Then: col("s")}),
			rows("hello", "Wörld", "", "NULL", "a_b%c"), ""},
		{"case decimals", caseOf(dec(0, 15, 2), tDec, logical.When{Cond: call("gt", tB, col("dec"), dec(0, 15, 2)), Then: col("dec")}),
			rows("12.34", "0.00", "100.00", "0.00", "9999999999999.99"), ""},
		{"case bool", caseOf(boolLit(false), tB, logical.When{Cond: col("b2"), Then: col("b")}),
			rows("true", "false", "false", "false", "false"), ""},
		{"case cast arms", caseOf(col("i8"), tI64, logical.When{Cond: col("b"), Then: col("i32")}),
			rows("10", "-2", "7", "NULL", "127"), ""},
		{"coalesce", call("coalesce", tB, col("b2"), col("b")), rows("true", "true", "true", "NULL", "false"), ""},
		{"coalesce strings", call("coalesce", tStr, col("ls"), col("s"), str("zz")), rows("x", "yy", "", "zzz", ""), ""},
		{"coalesce constant", call("coalesce", tI64, col("i64"), col("z64"), i64(99)), rows("10", "-20", "7", "99", "9223372036854775807"), ""},
		{"nullif", call("nullif", tI32, col("i32"), i32(7)), rows("10", "-20", "NULL", "NULL", "2147483647"), ""},
		{"nullif null", call("nullif", tI32, col("i32"), null(tI32)), rows("10", "-20", "7", "NULL", "2147483647"), ""},
		{"nullif strings", call("nullif", tStr, col("s"), str("")), rows("hello", "Wörld", "NULL", "NULL", "a_b%c"), ""},
		{"greatest", call("greatest", tI64, col("i64"), col("z64")), rows("10", "3", "7", "NULL", "9223372036854775807"), ""},
		{"least", call("least", tI64, col("i64"), col("z64"), i64(5)), rows("0", "-20", "0", "5", "-1"), ""},
		{"greatest strings", call("greatest", tStr, col("s"), col("ls")), rows("x", "yy", "", "zzz", "a_b%c"), ""},
	})
}

func TestInList(t *testing.T) {
	in := func(x logical.Expr, neg bool, list ...logical.Expr) *logical.InList {
		return &logical.InList{Input: x, List: list, Negated: neg}
	}
	many := []logical.Expr{str("hello"), str(""), str("x"), str("y"), str("z"), str("w"), str("v"), str("u"), str("t"), str("q")}
	manyInts := []logical.Expr{}
	for i := int32(0); i < 20; i++ {
		manyInts = append(manyInts, i32(i*i))
	}
	runCases(t, []exprCase{
		{"small", in(col("i32"), false, i32(7), i32(10)), rows("true", "false", "true", "NULL", "false"), ""},
		{"not in with null", in(col("i32"), true, i32(7), null(tI32)), rows("NULL", "NULL", "false", "NULL", "NULL"), ""},
		{"in with null match", in(col("i32"), false, i32(10), null(tI32)), rows("true", "NULL", "NULL", "NULL", "NULL"), ""},
		{"strings hashed", in(col("s"), false, many...), rows("true", "false", "true", "NULL", "false"), ""},
		{"strings hashed not", in(col("s"), true, many...), rows("false", "true", "false", "NULL", "true"), ""},
		{"ints hashed", in(col("z64"), false, manyInts...), rows("true", "false", "true", "NULL", "false"), ""},
		{"columns", in(col("i64"), false, col("z64"), i64(7)), rows("false", "false", "true", "NULL", "false"), ""},
		{"dates", in(col("date"), false, date(2020, 2, 1), date(1970, 1, 1)), rows("false", "true", "false", "NULL", "true"), ""},
		{"decimals widened", in(col("dec"), false, dec(1234, 4, 2), dec(1000, 4, 1)), rows("true", "false", "true", "NULL", "false"), ""},
		{"string view", in(col("sv"), false, str("red"), str("Green")), rows("false", "true", "NULL", "false", "true"), ""},
	})
}

func TestCompileErrors(t *testing.T) {
	runCases(t, []exprCase{
		{"unknown function", call("foo", tI64, col("s"), col("i64")), nil, "not supported: function foo(utf8, int64)"},
		{"bad arithmetic types", call("add", tI64, col("s"), col("i64")), nil, "not supported: function add(utf8, int64)"},
		{"unknown option", callOpt("add", tI64, map[string]string{"frobnicate": "YES"}, col("i64"), col("i64")), nil, "not supported: option frobnicate"},
		{"column out of range", &logical.ColumnRef{Index: 99, T: tI64}, nil, "out of range"},
	})
}
