// Package logical holds Arbalest's logical plan: relational operators over
// named, typed columns and bound scalar expressions that refer to their
// input's columns by position. The SQL binder produces it, the Substrait
// producer and consumer translate it to and from Substrait, the optimizer
// rewrites it and the native executor turns it into physical operators.
//
// Types are Arrow types. Decimals of precision 18 or less are
// arrow.Decimal64Type and wider ones arrow.Decimal128Type (see DecimalType);
// dates are date32, timestamps timestamp[us], strings utf8, intervals
// month_day_nano.
package logical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Expr is a bound scalar expression. Every column reference in it is an
// index into the schema of the plan node that evaluates it (for a Join
// condition: the left schema followed by the right schema).
type Expr interface {
	// Type is the Arrow type of the value the expression produces.
	Type() arrow.DataType
	// Nullable reports whether the expression may produce nulls.
	Nullable() bool
	// String renders the expression for EXPLAIN.
	String() string
}

// ColumnRef reads column Index of the input. Name is for display only.
type ColumnRef struct {
	Index     int
	Name      string
	T         arrow.DataType
	CanBeNull bool
}

func (c *ColumnRef) Type() arrow.DataType { return c.T }
func (c *ColumnRef) Nullable() bool       { return c.CanBeNull }
func (c *ColumnRef) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s#%d", c.Name, c.Index)
	}
	return fmt.Sprintf("#%d", c.Index)
}

// Literal is a constant. Value holds, by type: nil (a typed NULL), bool,
// int8/int16/int32/int64, float32/float64, string, []byte, int64 unscaled
// (Decimal64), decimal128.Num (Decimal128), arrow.Date32,
// arrow.Timestamp (microseconds), arrow.MonthDayNanoInterval.
type Literal struct {
	Value any
	T     arrow.DataType
}

func (l *Literal) Type() arrow.DataType { return l.T }
func (l *Literal) Nullable() bool       { return l.Value == nil }
func (l *Literal) String() string       { return FormatLiteral(l) }

// IsNull reports whether the literal is a NULL.
func (l *Literal) IsNull() bool { return l.Value == nil }

// Call applies a scalar function, named as in the Substrait standard
// extensions (see functions.go for the list the engine implements).
type Call struct {
	Func string
	Args []Expr
	T    arrow.DataType
	// NullableOut is whether the result may be null.
	NullableOut bool
	// Options holds function options (Substrait enum arguments), for example
	// "component" for extract ("YEAR", "MONTH", ...) or "unit" for date_trunc.
	Options map[string]string
	// UDF is set for a user-defined function (Func is then its name).
	UDF *Function
}

func (c *Call) Type() arrow.DataType { return c.T }
func (c *Call) Nullable() bool       { return c.NullableOut }
func (c *Call) String() string {
	var b strings.Builder
	b.WriteString(c.Func)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	if len(c.Options) > 0 {
		keys := sortedKeys(c.Options)
		for _, k := range keys {
			if b.Len() > len(c.Func)+1 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s=%s", k, c.Options[k])
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Cast converts Input to T. A failed conversion is an error at run time
// (SQL CAST semantics), unless Try is set, in which case it yields NULL.
type Cast struct {
	Input Expr
	T     arrow.DataType
	Try   bool
}

func (c *Cast) Type() arrow.DataType { return c.T }
func (c *Cast) Nullable() bool       { return c.Input.Nullable() || c.Try }
func (c *Cast) String() string       { return fmt.Sprintf("CAST(%s AS %s)", c.Input, c.T) }

// When is one WHEN cond THEN value arm of a Case.
type When struct {
	Cond, Then Expr
}

// Case is the searched CASE: the first arm whose Cond is true gives the
// value, otherwise Else (a NULL literal when the SQL had no ELSE).
type Case struct {
	Whens []When
	Else  Expr
	T     arrow.DataType
}

func (c *Case) Type() arrow.DataType { return c.T }
func (c *Case) Nullable() bool {
	if c.Else == nil || c.Else.Nullable() {
		return true
	}
	for _, w := range c.Whens {
		if w.Then.Nullable() {
			return true
		}
	}
	return false
}
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range c.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", w.Cond, w.Then)
	}
	if c.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", c.Else)
	}
	b.WriteString(" END")
	return b.String()
}

// InList is `Input [NOT] IN (List...)` with SQL three-valued semantics: the
// result is NULL when Input is NULL, or when no element matches and some
// element is NULL.
type InList struct {
	Input   Expr
	List    []Expr
	Negated bool
}

func (e *InList) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e *InList) Nullable() bool {
	if e.Input.Nullable() {
		return true
	}
	for _, l := range e.List {
		if l.Nullable() {
			return true
		}
	}
	return false
}
func (e *InList) String() string {
	parts := make([]string, len(e.List))
	for i, l := range e.List {
		parts[i] = l.String()
	}
	not := ""
	if e.Negated {
		not = "NOT "
	}
	return fmt.Sprintf("%s %sIN (%s)", e.Input, not, strings.Join(parts, ", "))
}

// AggregateCall is an aggregate function inside an Aggregate node. Func is
// one of: count (no Args means count(*)), sum, avg, min, max, stddev_samp,
// stddev_pop, var_samp, var_pop, bool_and, bool_or, any_value.
type AggregateCall struct {
	Func     string
	Args     []Expr
	Distinct bool
	// Filter, when set, restricts the rows the aggregate sees (FILTER (WHERE ...)).
	Filter Expr
	T      arrow.DataType
	// UDF is set for a user-defined aggregate (Func is then its name).
	UDF *Function
}

func (a *AggregateCall) Type() arrow.DataType { return a.T }
func (a *AggregateCall) Nullable() bool       { return a.Func != "count" }
func (a *AggregateCall) String() string {
	var b strings.Builder
	b.WriteString(a.Func)
	b.WriteByte('(')
	if a.Distinct {
		b.WriteString("DISTINCT ")
	}
	if len(a.Args) == 0 && a.Func == "count" {
		b.WriteByte('*')
	}
	for i, x := range a.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.String())
	}
	b.WriteByte(')')
	if a.Filter != nil {
		fmt.Fprintf(&b, " FILTER (WHERE %s)", a.Filter)
	}
	return b.String()
}

// SortKey orders by Expr.
type SortKey struct {
	Expr       Expr
	Descending bool
	NullsFirst bool
}

func (k SortKey) String() string {
	s := k.Expr.String()
	if k.Descending {
		s += " DESC"
	} else {
		s += " ASC"
	}
	if k.NullsFirst {
		s += " NULLS FIRST"
	} else {
		s += " NULLS LAST"
	}
	return s
}

// FrameType is ROWS or RANGE.
type FrameType int

const (
	FrameRows FrameType = iota
	FrameRange
)

// BoundKind is the kind of one end of a window frame.
type BoundKind int

const (
	UnboundedPreceding BoundKind = iota
	Preceding                    // Offset rows (ROWS) or value distance (RANGE) before
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame. Offset is a constant expression
// for Preceding/Following.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// Frame is a window frame. The SQL default (with ORDER BY) is RANGE BETWEEN
// UNBOUNDED PRECEDING AND CURRENT ROW; without ORDER BY the whole partition.
type Frame struct {
	Type       FrameType
	Start, End FrameBound
}

// WindowCall is a window function: row_number, rank, dense_rank,
// percent_rank, cume_dist, ntile, lag, lead, first_value, last_value,
// nth_value, or any aggregate function name over a frame.
type WindowCall struct {
	Func        string
	Args        []Expr
	PartitionBy []Expr
	OrderBy     []SortKey
	Frame       *Frame
	T           arrow.DataType
}

func (w *WindowCall) Type() arrow.DataType { return w.T }
func (w *WindowCall) Nullable() bool {
	switch w.Func {
	case "row_number", "rank", "dense_rank", "count", "percent_rank", "cume_dist", "ntile":
		return false
	}
	return true
}
func (w *WindowCall) String() string {
	var b strings.Builder
	b.WriteString(w.Func)
	b.WriteByte('(')
	for i, x := range w.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.String())
	}
	b.WriteString(") OVER (")
	if len(w.PartitionBy) > 0 {
		b.WriteString("PARTITION BY ")
		for i, x := range w.PartitionBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x.String())
		}
	}
	if len(w.OrderBy) > 0 {
		if len(w.PartitionBy) > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("ORDER BY ")
		for i, k := range w.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.String())
		}
	}
	if w.Frame != nil {
		b.WriteByte(' ')
		b.WriteString(w.Frame.String())
	}
	b.WriteByte(')')
	return b.String()
}

func (f *Frame) String() string {
	t := "ROWS"
	if f.Type == FrameRange {
		t = "RANGE"
	}
	return fmt.Sprintf("%s BETWEEN %s AND %s", t, f.Start, f.End)
}

func (b FrameBound) String() string {
	switch b.Kind {
	case UnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case Preceding:
		return fmt.Sprintf("%s PRECEDING", b.Offset)
	case CurrentRow:
		return "CURRENT ROW"
	case Following:
		return fmt.Sprintf("%s FOLLOWING", b.Offset)
	default:
		return "UNBOUNDED FOLLOWING"
	}
}

// Col is a shorthand for a column reference to field i of s.
func Col(s *Schema, i int) *ColumnRef {
	f := s.Fields[i]
	return &ColumnRef{Index: i, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}
}

// Cols returns references to the fields idx of s, in that order.
func Cols(s *Schema, idx []int) []Expr {
	out := make([]Expr, len(idx))
	for i, j := range idx {
		out[i] = Col(s, j)
	}
	return out
}

// WalkExpr calls fn for e and every sub-expression, parents first. It stops
// descending below a node for which fn returns false.
func WalkExpr(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range ExprChildren(e) {
		WalkExpr(c, fn)
	}
}

// ExprChildren lists the direct sub-expressions of e.
func ExprChildren(e Expr) []Expr {
	switch x := e.(type) {
	case *Call:
		return x.Args
	case *Cast:
		return []Expr{x.Input}
	case *Case:
		out := make([]Expr, 0, 2*len(x.Whens)+1)
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Then)
		}
		if x.Else != nil {
			out = append(out, x.Else)
		}
		return out
	case *InList:
		return append([]Expr{x.Input}, x.List...)
	case *AggregateCall:
		out := append([]Expr(nil), x.Args...)
		if x.Filter != nil {
			out = append(out, x.Filter)
		}
		return out
	case *Subquery:
		if x.Test != nil {
			return []Expr{x.Test}
		}
	case *WindowCall:
		out := append([]Expr(nil), x.Args...)
		out = append(out, x.PartitionBy...)
		for _, k := range x.OrderBy {
			out = append(out, k.Expr)
		}
		return out
	}
	return nil
}

// TransformExpr rebuilds e bottom-up, replacing each node n by fn(n) after
// its children were transformed. fn returns its argument to keep a node.
func TransformExpr(e Expr, fn func(Expr) (Expr, error)) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	var err error
	switch x := e.(type) {
	case *Call:
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = TransformExpr(a, fn); err != nil {
				return nil, err
			}
		}
		e = &c
	case *Cast:
		c := *x
		if c.Input, err = TransformExpr(x.Input, fn); err != nil {
			return nil, err
		}
		e = &c
	case *Case:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			if c.Whens[i].Cond, err = TransformExpr(w.Cond, fn); err != nil {
				return nil, err
			}
			if c.Whens[i].Then, err = TransformExpr(w.Then, fn); err != nil {
				return nil, err
			}
		}
		if c.Else, err = TransformExpr(x.Else, fn); err != nil {
			return nil, err
		}
		e = &c
	case *InList:
		c := *x
		if c.Input, err = TransformExpr(x.Input, fn); err != nil {
			return nil, err
		}
		c.List = make([]Expr, len(x.List))
		for i, a := range x.List {
			if c.List[i], err = TransformExpr(a, fn); err != nil {
				return nil, err
			}
		}
		e = &c
	case *AggregateCall:
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = TransformExpr(a, fn); err != nil {
				return nil, err
			}
		}
		if c.Filter, err = TransformExpr(x.Filter, fn); err != nil {
			return nil, err
		}
		e = &c
	case *WindowCall:
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			if c.Args[i], err = TransformExpr(a, fn); err != nil {
				return nil, err
			}
		}
		c.PartitionBy = make([]Expr, len(x.PartitionBy))
		for i, a := range x.PartitionBy {
			if c.PartitionBy[i], err = TransformExpr(a, fn); err != nil {
				return nil, err
			}
		}
		c.OrderBy = make([]SortKey, len(x.OrderBy))
		for i, k := range x.OrderBy {
			c.OrderBy[i] = k
			if c.OrderBy[i].Expr, err = TransformExpr(k.Expr, fn); err != nil {
				return nil, err
			}
		}
		e = &c
	case *Subquery:
		c := *x
		if c.Test, err = TransformExpr(x.Test, fn); err != nil {
			return nil, err
		}
		e = &c
	}
	return fn(e)
}

// ColumnsUsed returns the set of input column indexes e reads.
func ColumnsUsed(e Expr, into map[int]bool) map[int]bool {
	if into == nil {
		into = map[int]bool{}
	}
	WalkExpr(e, func(n Expr) bool {
		if c, ok := n.(*ColumnRef); ok {
			into[c.Index] = true
		}
		return true
	})
	return into
}

// RemapColumns rewrites every column index i in e to mapping[i]. Indexes
// missing from mapping are an error (a bug in the caller).
func RemapColumns(e Expr, mapping map[int]int) (Expr, error) {
	return TransformExpr(e, func(n Expr) (Expr, error) {
		c, ok := n.(*ColumnRef)
		if !ok {
			return n, nil
		}
		j, ok := mapping[c.Index]
		if !ok {
			return nil, fmt.Errorf("internal: column %s has no mapping", c)
		}
		cc := *c
		cc.Index = j
		return &cc, nil
	})
}

// ShiftColumns adds delta to every column index in e.
func ShiftColumns(e Expr, delta int) Expr {
	out, _ := TransformExpr(e, func(n Expr) (Expr, error) {
		c, ok := n.(*ColumnRef)
		if !ok {
			return n, nil
		}
		cc := *c
		cc.Index += delta
		return &cc, nil
	})
	return out
}

// SplitConjunction flattens nested `and` calls into their conjuncts.
func SplitConjunction(e Expr) []Expr {
	if c, ok := e.(*Call); ok && c.Func == "and" {
		var out []Expr
		for _, a := range c.Args {
			out = append(out, SplitConjunction(a)...)
		}
		return out
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}

// And combines conjuncts with `and`; nil for none.
func And(conj ...Expr) Expr {
	var parts []Expr
	for _, c := range conj {
		if c != nil {
			parts = append(parts, c)
		}
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	nullable := false
	for _, p := range parts {
		nullable = nullable || p.Nullable()
	}
	return &Call{Func: "and", Args: parts, T: arrow.FixedWidthTypes.Boolean, NullableOut: nullable}
}

// Equal builds `a = b` (operands must already have a common type).
func Equal(a, b Expr) Expr {
	return &Call{Func: "equal", Args: []Expr{a, b}, T: arrow.FixedWidthTypes.Boolean,
		NullableOut: a.Nullable() || b.Nullable()}
}
