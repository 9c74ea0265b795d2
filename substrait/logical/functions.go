package logical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Scalar functions of the logical plan, named as in the Substrait standard
// extensions (extension file in parentheses). The binder emits only these
// names, the native executor implements all of them, and the Substrait
// producer/consumer map each to its extension URN. Arguments are already
// coerced to the types listed; the binder inserts the casts.
//
// Arithmetic (functions_arithmetic[_decimal]): add, subtract, multiply,
// divide, modulus, negate, abs, sign, power, sqrt, exp, ln, log10, floor,
// ceil, round(x, digits int32). Operands share one type except for
// decimals, whose result type follows DecimalResultType. Integer division
// truncates; division by zero is an error for integers and decimals.
// Date arithmetic: add(date32, interval) and subtract(date32, interval)
// give date32 (timestamp for sub-day intervals); subtract(date32, date32)
// gives int32 days; add(timestamp, interval).
//
// More arithmetic (functions_arithmetic, functions_logarithmic), all
// float64 unless noted: sin, cos, tan, asin, acos, atan, atan2(y, x), sinh,
// cosh, tanh, asinh, acosh, atanh, radians, degrees, pi() (from
// functions_arbalest), logb(base, x); Options["on_domain_error"] (ERROR,
// NAN, NULL) and, for logb, Options["on_log_zero"]. Bitwise over one
// integer type: bitwise_and, bitwise_or, bitwise_xor, bitwise_not;
// shift_left, shift_right (arithmetic), shift_right_unsigned (x, count
// int32), result x's type; bitwise_and/or/xor also over decimals of
// scale 0. factorial(x) over integers (result x's type, overflow option).
// add_intervals(a, b) over intervals.
//
// Comparison (functions_comparison): equal, not_equal, lt, lte, gt, gte,
// is_null, is_not_null, is_distinct_from, is_not_distinct_from, between
// (x, low, high inclusive), coalesce (variadic), nullif, greatest, least,
// is_true, is_false, is_not_true, is_not_false, is_nan, is_finite,
// is_infinite (float64 → bool).
//
// Boolean (functions_boolean): and, or (variadic, Kleene logic), not, xor,
// and_not(a, b) (a AND NOT b).
//
// Strings (functions_string): concat (variadic; NULL if any argument is
// NULL, unless Options["null_handling"] is IGNORE_NULLS), like (x, pattern)
// and ilike (case-insensitive; Options["escape"] optional), substring(x,
// start int64 1-based, [length int64]), upper, lower, char_length,
// octet_length, trim, ltrim, rtrim (optional second argument: characters),
// strpos(x, needle) (1-based, 0 when absent), replace(x, from, to),
// starts_with, ends_with, contains (these three take
// Options["case_sensitivity"]), left, right, lpad, rpad, reverse, repeat,
// split_part, regexp_match (bool), bit_length (int64), concat_ws(sep, x...)
// (skips NULL x; NULL when sep is), regexp_match_substring(x, pattern [,
// position, occurrence, group int64]) (NULL when there is no such match),
// regexp_count_substring(x, pattern [, position int64]) (int64),
// regexp_replace(x, pattern, replacement [, position, occurrence int64])
// (occurrence 0, the default, replaces all; $n or \n in the replacement is
// group n). Regular expressions use RE2 syntax; Options case_sensitivity,
// multiline, dotall.
//
// Date/time (functions_datetime): extract with Options["component"] in
// YEAR, QUARTER, MONTH, DAY, DAY_OF_WEEK, DAY_OF_YEAR, WEEK, HOUR, MINUTE,
// SECOND, EPOCH (result int64; EPOCH float64), date_trunc with
// Options["unit"] in YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND
// (result: the argument's type), current_date.
//
// Casts are Cast nodes, not calls. IN lists are InList nodes.

// DecimalResultType gives the result type of a decimal arithmetic function
// under the Substrait rules (functions_arithmetic_decimal.yaml), capped at
// precision 38.
func DecimalResultType(fn string, p1, s1, p2, s2 int32) (p, s int32) {
	switch fn {
	case "add", "subtract":
		s = max(s1, s2)
		p = max(p1-s1, p2-s2) + s + 1
	case "multiply":
		s = s1 + s2
		p = p1 + p2 + 1
	case "divide":
		s = max(6, s1+p2+1)
		p = p1 - s1 + s2 + s
	case "modulus":
		s = max(s1, s2)
		p = min(p1-s1, p2-s2) + s
	default:
		p, s = max(p1, p2), max(s1, s2)
	}
	if p > MaxDecimalPrecision {
		// Keep at least 6 digits of scale but give up scale before integer digits.
		over := p - MaxDecimalPrecision
		keep := min(s, int32(6))
		s = max(s-over, keep)
		p = MaxDecimalPrecision
	}
	return p, s
}

// AggregateResultType is the result type of aggregate fn over an argument
// of type arg (arg is ignored for count). The binder declares it and the
// aggregate operator produces exactly it:
//
//	count, count(*)                  int64
//	sum(int*)                        int64
//	sum(decimal(p,s))                decimal(38,s)
//	sum(float*)                      float64
//	avg(int*), avg(float*)           float64
//	avg(decimal(p,s))                decimal(min(38,p+4), min(38,s+4))
//	min, max, any_value              the argument type
//	stddev_*, var_*                  float64
//	bool_and, bool_or                bool
func AggregateResultType(fn string, arg arrow.DataType) (arrow.DataType, error) {
	switch fn {
	case "count":
		return Int64, nil
	case "min", "max", "any_value":
		return arg, nil
	case "bool_and", "bool_or":
		if arg.ID() != arrow.BOOL {
			return nil, fmt.Errorf("%s expects a boolean argument, got %s", fn, arg)
		}
		return Bool, nil
	case "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		if !IsNumeric(arg) {
			return nil, fmt.Errorf("%s expects a numeric argument, got %s", fn, arg)
		}
		return Float64, nil
	case "sum":
		switch {
		case IsInteger(arg):
			return Int64, nil
		case IsFloat(arg):
			return Float64, nil
		case IsDecimal(arg):
			_, s, _ := DecimalParams(arg)
			return DecimalType(MaxDecimalPrecision, s), nil
		}
	case "avg":
		switch {
		case IsInteger(arg), IsFloat(arg):
			return Float64, nil
		case IsDecimal(arg):
			p, s, _ := DecimalParams(arg)
			return DecimalType(min(MaxDecimalPrecision, p+4), min(MaxDecimalPrecision, s+4)), nil
		}
	default:
		return nil, fmt.Errorf("not supported: aggregate function %s", fn)
	}
	return nil, fmt.Errorf("%s does not accept an argument of type %s", fn, arg)
}
