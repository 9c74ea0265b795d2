package dataframe

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Expr is an unbound column expression: column references by name,
// literals, operators, function calls and aggregates. It is bound (names
// resolved, types checked and coerced by the SQL binder's rules) when a
// DataFrame operation uses it, so building an Expr never fails; a bad one
// makes the operation's DataFrame carry the error.
//
// Methods that take an operand of type any accept an Expr or a Go value,
// which is converted with Lit.
type Expr struct{ n node }

// node is one node of an unbound expression.
type node interface {
	String() string
}

type (
	colNode struct{ name string }
	litNode struct {
		lit *logical.Literal
		err error
	}
	// opNode is a binary or unary operator or a comparison; op is the
	// logical function name (add, equal, and, not, is_null, ...).
	opNode struct {
		op   string
		args []Expr
	}
	fnNode struct {
		name string
		args []Expr
	}
	aggNode struct {
		name     string
		arg      *Expr // nil: count(*)
		distinct bool
	}
	castNode struct {
		e Expr
		t arrow.DataType
	}
	inNode struct {
		e       Expr
		list    []Expr
		negated bool
	}
	likeNode struct {
		e, pattern      Expr
		caseInsensitive bool
		negated         bool
		escape          string
	}
	caseNode struct {
		conds, thens []Expr
		els          *Expr
	}
	aliasNode struct {
		e    Expr
		name string
	}
	betweenNode struct {
		e, lo, hi Expr
		negated   bool
	}
)

// Col refers to a column by name. The name may be qualified with the
// table or alias it comes from ("l.l_orderkey"), which tells apart columns
// of the same name after a join. Names match exactly, or else ignoring
// case when that is unambiguous.
func Col(name string) Expr { return Expr{colNode{name}} }

// Lit is a constant. v is one of: nil (an untyped NULL, which takes its
// type from the other operand), bool, int (int32 when it fits, as SQL
// integer constants, else int64), int8/16/32/64, uint8/16/32 (as the next
// wider signed type), uint64 (int64 when it fits), float32, float64,
// string, []byte, time.Time (a timestamp, microseconds, UTC),
// arrow.Date32, or an Expr (returned as is). Use Date, Timestamp, Interval
// and Decimal for typed constants written as text and Null for a typed
// NULL.
func Lit(v any) Expr {
	switch x := v.(type) {
	case Expr:
		return x
	case CaseExpr:
		return Expr{litNode{err: fmt.Errorf("unfinished CASE: end it with Otherwise or End")}}
	case nil:
		return literal(logical.NullLiteral(arrow.Null))
	case bool:
		return literal(&logical.Literal{Value: x, T: logical.Bool})
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return literal(&logical.Literal{Value: int32(x), T: arrow.PrimitiveTypes.Int32})
		}
		return literal(&logical.Literal{Value: int64(x), T: logical.Int64})
	case int8:
		return literal(&logical.Literal{Value: x, T: arrow.PrimitiveTypes.Int8})
	case int16:
		return literal(&logical.Literal{Value: x, T: arrow.PrimitiveTypes.Int16})
	case int32:
		return literal(&logical.Literal{Value: x, T: arrow.PrimitiveTypes.Int32})
	case int64:
		return literal(&logical.Literal{Value: x, T: logical.Int64})
	case uint8:
		return literal(&logical.Literal{Value: int16(x), T: arrow.PrimitiveTypes.Int16})
	case uint16:
		return literal(&logical.Literal{Value: int32(x), T: arrow.PrimitiveTypes.Int32})
	case uint32:
		return literal(&logical.Literal{Value: int64(x), T: logical.Int64})
	case uint64:
		if x > math.MaxInt64 {
			return Expr{litNode{err: fmt.Errorf("constant %d is out of range for bigint", x)}}
		}
		return literal(&logical.Literal{Value: int64(x), T: logical.Int64})
	case float32:
		return literal(&logical.Literal{Value: x, T: arrow.PrimitiveTypes.Float32})
	case float64:
		return literal(&logical.Literal{Value: x, T: logical.Float64})
	case string:
		return literal(&logical.Literal{Value: x, T: logical.Utf8})
	case []byte:
		return literal(&logical.Literal{Value: append([]byte(nil), x...), T: arrow.BinaryTypes.Binary})
	case time.Time:
		return literal(&logical.Literal{Value: arrow.Timestamp(x.UnixMicro()), T: logical.TimestampUs})
	case arrow.Date32:
		return literal(&logical.Literal{Value: x, T: logical.Date32})
	}
	return Expr{litNode{err: fmt.Errorf("constant of Go type %T is not supported", v)}}
}

func literal(l *logical.Literal) Expr { return Expr{litNode{lit: l}} }

// typedLiteral converts text to a constant of type t with the SQL rules
// (DATE '...', TIMESTAMP '...', INTERVAL '...').
func typedLiteral(what, text string, t arrow.DataType) Expr {
	e, err := sql.Cast(&logical.Literal{Value: text, T: logical.Utf8}, t)
	if err != nil {
		return Expr{litNode{err: fmt.Errorf("%s(%q): %w", what, text, err)}}
	}
	l, ok := e.(*logical.Literal)
	if !ok {
		return Expr{litNode{err: fmt.Errorf("%s(%q): not a constant", what, text)}}
	}
	return literal(l)
}

// Null is a NULL of type t.
func Null(t arrow.DataType) Expr {
	if t == nil {
		return Expr{litNode{err: fmt.Errorf("Null: nil type")}}
	}
	return literal(logical.NullLiteral(t))
}

// Date is a date constant: "1998-09-02".
func Date(s string) Expr { return typedLiteral("Date", s, logical.Date32) }

// Timestamp is a timestamp constant (microseconds, no zone):
// "1998-09-02 12:30:00".
func Timestamp(s string) Expr { return typedLiteral("Timestamp", s, logical.TimestampUs) }

// Interval is an interval constant: "90 days", "3 months", "1 year 2
// months", "01:30:00".
func Interval(s string) Expr { return typedLiteral("Interval", s, logical.Interval) }

// Decimal is an exact decimal constant with the digits written:
// Decimal("0.06") is decimal(2,2), Decimal("100") decimal(3,0).
func Decimal(s string) Expr {
	text := strings.TrimSpace(s)
	bad := Expr{litNode{err: fmt.Errorf("Decimal(%q): not a decimal number", s)}}
	if text == "" || strings.ContainsAny(text, "eE") {
		return bad
	}
	l, err := sql.NumericLiteral(text)
	if err != nil {
		return bad
	}
	switch {
	case logical.IsDecimal(l.T):
		return literal(l)
	case logical.IsInteger(l.T):
		digits := int32(len(strings.TrimLeft(strings.TrimLeft(text, "+-"), "0")))
		e, err := sql.Cast(l, logical.DecimalType(max(digits, 1), 0))
		if err != nil {
			return Expr{litNode{err: fmt.Errorf("Decimal(%q): %w", s, err)}}
		}
		return literal(e.(*logical.Literal))
	}
	return Expr{litNode{err: fmt.Errorf("Decimal(%q): more than %d digits", s, logical.MaxDecimalPrecision)}}
}

// DecimalType is the engine's decimal(p, s) type (Decimal64 up to
// precision 18, else Decimal128), for Cast and Null.
func DecimalType(precision, scale int32) arrow.DataType { return logical.DecimalType(precision, scale) }

// Fn calls the scalar function name with the SQL binder's argument rules:
// abs, round, floor, ceil, sqrt, power, ln, exp, upper, lower, trim,
// substring, strpos, replace, concat, left, right, lpad, rpad,
// starts_with, ends_with, contains, coalesce, nullif, greatest, least,
// extract / date_part (Fn("extract", Lit("year"), Col("d"))), date_trunc,
// and the others SQL knows.
func Fn(name string, args ...any) Expr { return Expr{fnNode{name: name, args: exprs(args)}} }

// Coalesce is the first non-NULL argument.
func Coalesce(args ...any) Expr { return Fn("coalesce", args...) }

// When starts a searched CASE: When(cond, v).When(cond2, v2).Otherwise(v3).
func When(cond Expr, then any) CaseExpr {
	return CaseExpr{conds: []Expr{cond}, thens: []Expr{Lit(then)}}
}

// CaseExpr is a CASE being built; finish it with Otherwise or End.
type CaseExpr struct {
	conds, thens []Expr
}

// When adds an arm.
func (c CaseExpr) When(cond Expr, then any) CaseExpr {
	return CaseExpr{
		conds: append(append([]Expr(nil), c.conds...), cond),
		thens: append(append([]Expr(nil), c.thens...), Lit(then)),
	}
}

// Otherwise finishes the CASE with an ELSE value.
func (c CaseExpr) Otherwise(v any) Expr {
	e := Lit(v)
	return Expr{caseNode{conds: c.conds, thens: c.thens, els: &e}}
}

// End finishes the CASE without ELSE (NULL when no arm matches).
func (c CaseExpr) End() Expr { return Expr{caseNode{conds: c.conds, thens: c.thens}} }

// Aggregates.

// Sum is sum(e): int64 over integers, decimal(38, s) over decimals,
// float64 over floats.
func Sum(e Expr) Expr { return agg("sum", e, false) }

// Avg is avg(e): float64 over integers and floats, decimal(p+4, s+4) over
// decimals.
func Avg(e Expr) Expr { return agg("avg", e, false) }

// Min is min(e).
func Min(e Expr) Expr { return agg("min", e, false) }

// Max is max(e).
func Max(e Expr) Expr { return agg("max", e, false) }

// Count is count(*) without an argument and count(e), the number of
// non-NULL values of e, with one.
func Count(e ...Expr) Expr {
	switch len(e) {
	case 0:
		return Expr{aggNode{name: "count"}}
	case 1:
		return agg("count", e[0], false)
	}
	return Expr{litNode{err: fmt.Errorf("Count takes at most one argument, got %d", len(e))}}
}

// CountDistinct is count(DISTINCT e).
func CountDistinct(e Expr) Expr { return agg("count", e, true) }

// Aggregate calls the aggregate function name (count, sum, avg, min, max,
// stddev, stddev_pop, variance, var_pop, bool_and, bool_or, any_value)
// over e, with DISTINCT when distinct is set.
func Aggregate(name string, e Expr, distinct bool) Expr { return agg(name, e, distinct) }

func agg(name string, e Expr, distinct bool) Expr {
	return Expr{aggNode{name: name, arg: &e, distinct: distinct}}
}

func exprs(vs []any) []Expr {
	out := make([]Expr, len(vs))
	for i, v := range vs {
		out[i] = Lit(v)
	}
	return out
}

func (e Expr) op(op string, args ...any) Expr {
	all := append([]Expr{e}, exprs(args)...)
	return Expr{opNode{op: op, args: all}}
}

// Add is e + v.
func (e Expr) Add(v any) Expr { return e.op("add", v) }

// Sub is e - v.
func (e Expr) Sub(v any) Expr { return e.op("subtract", v) }

// Mul is e * v.
func (e Expr) Mul(v any) Expr { return e.op("multiply", v) }

// Div is e / v (integer division truncates, as in SQL).
func (e Expr) Div(v any) Expr { return e.op("divide", v) }

// Mod is e % v.
func (e Expr) Mod(v any) Expr { return e.op("modulus", v) }

// Neg is -e.
func (e Expr) Neg() Expr { return e.op("negate") }

// Eq is e = v.
func (e Expr) Eq(v any) Expr { return e.op("equal", v) }

// NotEq is e <> v.
func (e Expr) NotEq(v any) Expr { return e.op("not_equal", v) }

// Lt is e < v.
func (e Expr) Lt(v any) Expr { return e.op("lt", v) }

// Lte is e <= v.
func (e Expr) Lte(v any) Expr { return e.op("lte", v) }

// Gt is e > v.
func (e Expr) Gt(v any) Expr { return e.op("gt", v) }

// Gte is e >= v.
func (e Expr) Gte(v any) Expr { return e.op("gte", v) }

// IsDistinctFrom is e IS DISTINCT FROM v (NULLs compare equal).
func (e Expr) IsDistinctFrom(v any) Expr { return e.op("is_distinct_from", v) }

// Between is e BETWEEN lo AND hi (inclusive).
func (e Expr) Between(lo, hi any) Expr { return Expr{betweenNode{e: e, lo: Lit(lo), hi: Lit(hi)}} }

// NotBetween is e NOT BETWEEN lo AND hi.
func (e Expr) NotBetween(lo, hi any) Expr {
	return Expr{betweenNode{e: e, lo: Lit(lo), hi: Lit(hi), negated: true}}
}

// And is e AND v (SQL three-valued logic).
func (e Expr) And(v ...any) Expr { return e.op("and", v...) }

// Or is e OR v.
func (e Expr) Or(v ...any) Expr { return e.op("or", v...) }

// Not is NOT e.
func (e Expr) Not() Expr { return e.op("not") }

// Not is NOT e.
func Not(e Expr) Expr { return e.Not() }

// And is the conjunction of its arguments.
func And(e Expr, more ...any) Expr { return e.And(more...) }

// Or is the disjunction of its arguments.
func Or(e Expr, more ...any) Expr { return e.Or(more...) }

// IsNull is e IS NULL.
func (e Expr) IsNull() Expr { return e.op("is_null") }

// IsNotNull is e IS NOT NULL.
func (e Expr) IsNotNull() Expr { return e.op("is_not_null") }

// Like is e LIKE pattern (% and _ wildcards, backslash escapes).
func (e Expr) Like(pattern any) Expr { return Expr{likeNode{e: e, pattern: Lit(pattern)}} }

// NotLike is e NOT LIKE pattern.
func (e Expr) NotLike(pattern any) Expr {
	return Expr{likeNode{e: e, pattern: Lit(pattern), negated: true}}
}

// ILike is e ILIKE pattern (case-insensitive).
func (e Expr) ILike(pattern any) Expr {
	return Expr{likeNode{e: e, pattern: Lit(pattern), caseInsensitive: true}}
}

// LikeEscape is e LIKE pattern ESCAPE escape.
func (e Expr) LikeEscape(pattern any, escape string) Expr {
	if escape == "" {
		escape = "none"
	}
	return Expr{likeNode{e: e, pattern: Lit(pattern), escape: escape}}
}

// In is e IN (values...).
func (e Expr) In(values ...any) Expr { return Expr{inNode{e: e, list: exprs(values)}} }

// NotIn is e NOT IN (values...).
func (e Expr) NotIn(values ...any) Expr {
	return Expr{inNode{e: e, list: exprs(values), negated: true}}
}

// Cast is CAST(e AS t). Use DecimalType for decimals.
func (e Expr) Cast(t arrow.DataType) Expr { return Expr{castNode{e: e, t: t}} }

// As names the column the expression produces.
func (e Expr) As(name string) Expr { return Expr{aliasNode{e: e, name: name}} }

// Asc sorts by e ascending, NULLs last.
func (e Expr) Asc() SortKey { return SortKey{e: e, nullsFirst: false} }

// Desc sorts by e descending, NULLs first.
func (e Expr) Desc() SortKey { return SortKey{e: e, desc: true, nullsFirst: true} }

// SortKey is one key of Sort. The defaults are SQL's: ascending keys put
// NULLs last, descending keys first.
type SortKey struct {
	e          Expr
	desc       bool
	nullsFirst bool
}

// NullsFirst puts NULLs before the other values.
func (k SortKey) NullsFirst() SortKey { k.nullsFirst = true; return k }

// NullsLast puts NULLs after the other values.
func (k SortKey) NullsLast() SortKey { k.nullsFirst = false; return k }

// String renders the key.
func (k SortKey) String() string {
	s := k.e.String()
	if k.desc {
		s += " DESC"
	} else {
		s += " ASC"
	}
	if k.nullsFirst {
		return s + " NULLS FIRST"
	}
	return s + " NULLS LAST"
}

// String renders the expression as SQL-like text; it is also the default
// name of a computed column.
func (e Expr) String() string {
	if e.n == nil {
		return "<empty>"
	}
	return e.n.String()
}

func (n colNode) String() string { return n.name }

func (n litNode) String() string {
	if n.err != nil {
		return "<invalid>"
	}
	return logical.FormatLiteral(n.lit)
}

var infix = map[string]string{
	"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "modulus": "%",
	"equal": "=", "not_equal": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
	"and": "AND", "or": "OR", "is_distinct_from": "IS DISTINCT FROM",
}

// operand renders a sub-expression, parenthesised when it is itself an
// operator expression.
func operand(e Expr) string {
	switch x := e.n.(type) {
	case opNode:
		if _, ok := infix[x.op]; ok {
			return "(" + e.String() + ")"
		}
	case betweenNode, likeNode, inNode:
		return "(" + e.String() + ")"
	}
	return e.String()
}

func (n opNode) String() string {
	switch n.op {
	case "negate":
		return "-" + operand(n.args[0])
	case "not":
		return "NOT " + operand(n.args[0])
	case "is_null":
		return operand(n.args[0]) + " IS NULL"
	case "is_not_null":
		return operand(n.args[0]) + " IS NOT NULL"
	}
	parts := make([]string, len(n.args))
	for i, a := range n.args {
		parts[i] = operand(a)
	}
	return strings.Join(parts, " "+infix[n.op]+" ")
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, a := range es {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func (n fnNode) String() string { return n.name + "(" + joinExprs(n.args) + ")" }

func (n aggNode) String() string {
	if n.arg == nil {
		return n.name + "(*)"
	}
	if n.distinct {
		return n.name + "(DISTINCT " + n.arg.String() + ")"
	}
	return n.name + "(" + n.arg.String() + ")"
}

func (n castNode) String() string {
	t := "<nil>"
	if n.t != nil {
		t = sql.TypeName(n.t)
		if p, s, ok := logical.DecimalParams(n.t); ok {
			t = fmt.Sprintf("decimal(%d,%d)", p, s)
		}
	}
	return "CAST(" + n.e.String() + " AS " + t + ")"
}

func (n inNode) String() string {
	not := ""
	if n.negated {
		not = "NOT "
	}
	return operand(n.e) + " " + not + "IN (" + joinExprs(n.list) + ")"
}

func (n likeNode) String() string {
	op := "LIKE"
	if n.caseInsensitive {
		op = "ILIKE"
	}
	if n.negated {
		op = "NOT " + op
	}
	s := operand(n.e) + " " + op + " " + operand(n.pattern)
	if n.escape != "" && n.escape != "none" {
		s += " ESCAPE '" + n.escape + "'"
	}
	return s
}

func (n betweenNode) String() string {
	op := "BETWEEN"
	if n.negated {
		op = "NOT BETWEEN"
	}
	return operand(n.e) + " " + op + " " + operand(n.lo) + " AND " + operand(n.hi)
}

func (n caseNode) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range n.conds {
		fmt.Fprintf(&b, " WHEN %s THEN %s", n.conds[i], n.thens[i])
	}
	if n.els != nil {
		fmt.Fprintf(&b, " ELSE %s", n.els)
	}
	b.WriteString(" END")
	return b.String()
}

func (n aliasNode) String() string { return n.e.String() + " AS " + n.name }
