package sql

import (
	"strings"
	"testing"
)

// TestBindMoreFunctions checks the bindings of the trigonometric, bitwise,
// float classification and regular-expression functions.
func TestBindMoreFunctions(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"select sin(f), atan2(b, f), pi(), degrees(d) from t",
			`sin(f#4) AS sin, atan2(CAST(b#1 AS float64), f#4) AS atan2, pi() AS pi, degrees(CAST(d#3 AS float64)) AS degrees`},
		{"select log(2, f), log(f) from t",
			`logb(2, f#4) AS log, log10(f#4) AS log`},
		{"select isnan(f), isinf(b), isfinite(d) from t",
			`is_nan(f#4) AS isnan, is_infinite(CAST(b#1 AS float64)) AS isinf, is_finite(CAST(d#3 AS float64)) AS isfinite`},
		{"select a & b, b | 3, a # a, ~b, a << 2, b >> a from t",
			`bitwise_and(a#0, CAST(b#1 AS int64)) AS ?column?, bitwise_or(b#1, 3) AS ?column?, bitwise_xor(a#0, a#0) AS ?column?, bitwise_not(b#1) AS ?column?, shift_left(a#0, 2) AS ?column?, shift_right(b#1, CAST(a#0 AS int32)) AS ?column?`},
		{"select bit_length(s), concat_ws('-', s, a, null) from t",
			`bit_length(s#2) AS bit_length, concat_ws('-', s#2, CAST(a#0 AS utf8), NULL) AS concat_ws`},
		{`select regexp_replace(s, 'a(b)', '$\1\&'), regexp_replace(s, 'x', 'y', 'gi') from t`,
			`regexp_replace(s#2, 'a(b)', '\$\1\0', 1, 1) AS regexp_replace, regexp_replace(s#2, 'x', 'y', 1, 0, case_sensitivity=CASE_INSENSITIVE) AS regexp_replace`},
		{"select regexp_substr(s, 'a+'), regexp_substr(s, '(a)(b)', 2, 3, 'i', 2), regexp_count(s, 'a', 3) from t",
			`regexp_match_substring(s#2, 'a+', 1, 1, 0) AS regexp_substr, regexp_match_substring(s#2, '(a)(b)', 2, 3, 2, case_sensitivity=CASE_INSENSITIVE) AS regexp_substr, regexp_count_substring(s#2, 'a', 3) AS regexp_count`},
		{"select factorial(b), case when a > 0 then interval '1 day' end + interval '2' hour - interval '1' month from t",
			`factorial(CAST(b#1 AS int64)) AS factorial, add_intervals(add_intervals(CASE WHEN gt(a#0, 0) THEN INTERVAL '0 months 1 days 0 ns' ELSE NULL END, INTERVAL '0 months 0 days 7200000000000 ns'), INTERVAL '-1 months 0 days 0 ns') AS ?column?`},
	}
	for _, c := range cases {
		sts, err := bindAll(t, tpchCatalog(), c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		got := planString(sts[len(sts)-1].(*Query).Plan)
		line, _, _ := strings.Cut(got, "\n")
		line = strings.TrimPrefix(line, "Project: ")
		if g := line; g != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, g, c.want)
		}
	}
	errs := []struct{ sql, want string }{
		{"select f & 1 from t", "operator does not exist: double precision & integer"},
		{"select ~s from t", "operator does not exist: ~text"},
		{"select regexp_replace(s, 'a', 'b', 'q') from t", `unsupported regular expression flag 'q'`},
		{"select regexp_replace(s, 'a', 'b', s) from t", "must be a string constant"},
		{"select regexp_count(s, 'a', 1, 'g') from t", "does not accept the g flag"},
		{"select pi(1)", "function pi takes 0 arguments, got 1"},
		{"select concat_ws(',')", "needs a separator and at least one argument"},
		{"select sin('x'::text)", "expects numeric arguments"},
	}
	for _, c := range errs {
		_, err := bindAll(t, tpchCatalog(), c.sql)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want %q", c.sql, err, c.want)
		}
	}
}
