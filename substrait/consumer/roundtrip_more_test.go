package consumer_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// TestRoundTripMoreFunctions carries the trigonometric, bitwise, float
// classification, string and regular-expression functions through the
// producer and consumer, under their standard extension URNs (pi under
// Arbalest's).
func TestRoundTripMoreFunctions(t *testing.T) {
	orders := logical.NewScan(ordersSrc, "o", nil)
	os := orders.Schema()
	key, comment := logical.Col(os, 0), logical.Col(os, 4)
	price := &logical.Cast{Input: logical.Col(os, 2), T: logical.Float64}
	i32 := arrow.PrimitiveTypes.Int32
	opts := func(c *logical.Call, kv ...string) *logical.Call {
		c.Options = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			c.Options[kv[i]] = kv[i+1]
		}
		return c
	}
	var exprs []logical.Expr
	for _, f := range []string{"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "radians", "degrees"} {
		exprs = append(exprs, call(f, logical.Float64, price))
	}
	exprs = append(exprs,
		opts(call("asin", logical.Float64, price), "on_domain_error", "NULL"),
		call("atan2", logical.Float64, price, price),
		call("logb", logical.Float64, lit(2.0, logical.Float64), price),
		call("pi", logical.Float64),
		call("is_nan", logical.Bool, price), call("is_finite", logical.Bool, price), call("is_infinite", logical.Bool, price),
		call("bitwise_and", logical.Int64, key, lit(int64(7), logical.Int64)),
		call("bitwise_or", logical.Int64, key, lit(int64(7), logical.Int64)),
		call("bitwise_xor", logical.Int64, key, lit(int64(7), logical.Int64)),
		call("bitwise_not", logical.Int64, key),
		call("shift_left", logical.Int64, key, lit(int32(3), i32)),
		call("shift_right", logical.Int64, key, lit(int32(3), i32)),
		call("shift_right_unsigned", logical.Int64, key, lit(int32(3), i32)),
		call("bit_length", logical.Int64, comment),
		call("concat_ws", logical.Utf8, lit(",", logical.Utf8), comment, comment),
		opts(call("regexp_replace", logical.Utf8, comment, lit("a+", logical.Utf8), lit("b", logical.Utf8),
			lit(int64(1), logical.Int64), lit(int64(0), logical.Int64)), "case_sensitivity", "CASE_INSENSITIVE"),
		call("regexp_replace", logical.Utf8, comment, lit("a+", logical.Utf8), lit("b", logical.Utf8)),
		call("regexp_match_substring", logical.Utf8, comment, lit("(a)b", logical.Utf8),
			lit(int64(1), logical.Int64), lit(int64(2), logical.Int64), lit(int64(1), logical.Int64)),
		call("regexp_count_substring", logical.Int64, comment, lit("a", logical.Utf8), lit(int64(1), logical.Int64)),
		call("and_not", logical.Bool, call("gt", logical.Bool, key, lit(int64(1), logical.Int64)), call("is_null", logical.Bool, comment)),
		call("factorial", logical.Int64, key),
		call("add_intervals", logical.Interval, lit(arrow.MonthDayNanoInterval{Days: 1}, logical.Interval),
			lit(arrow.MonthDayNanoInterval{Months: 2}, logical.Interval)),
		call("bitwise_and", logical.DecimalType(15, 0), &logical.Cast{Input: key, T: logical.DecimalType(15, 0)},
			lit(int64(3), logical.DecimalType(15, 0))),
	)
	names := make([]string, len(exprs))
	for i := range names {
		names[i] = "e" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	}
	p := logical.NewProject(orders, exprs, names, nil)
	want := logical.Format(p)
	js, err := producer.ToJSON(p)
	if err != nil {
		t.Fatalf("ToJSON: %v\n%s", err, want)
	}
	for _, u := range []string{"functions_arithmetic", "functions_comparison", "functions_logarithmic", "functions_string", "functions_arbalest", "functions_boolean", "functions_datetime", "functions_arithmetic_decimal"} {
		if !strings.Contains(string(js), u) {
			t.Errorf("plan does not reference %s:\n%s", u, js)
		}
	}
	got, err := consumer.FromBytes(js, testResolver)
	if err != nil {
		t.Fatalf("FromBytes: %v\n%s", err, js)
	}
	if g := logical.Format(got); g != want {
		t.Fatalf("round trip differs\nwant:\n%s\ngot:\n%s", want, g)
	}
}
