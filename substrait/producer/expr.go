package producer

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

func fieldRef(i int) *pb.Expression {
	return &pb.Expression{RexType: &pb.Expression_Selection{Selection: &pb.Expression_FieldReference{
		ReferenceType: &pb.Expression_FieldReference_DirectReference{DirectReference: &pb.Expression_ReferenceSegment{
			ReferenceType: &pb.Expression_ReferenceSegment_StructField_{StructField: &pb.Expression_ReferenceSegment_StructField{Field: int32(i)}},
		}},
		RootType: &pb.Expression_FieldReference_RootReference_{RootReference: &pb.Expression_FieldReference_RootReference{}},
	}}}
}

func valueArg(e *pb.Expression) *pb.FunctionArgument {
	return &pb.FunctionArgument{ArgType: &pb.FunctionArgument_Value{Value: e}}
}

func enumArg(v string) *pb.FunctionArgument {
	return &pb.FunctionArgument{ArgType: &pb.FunctionArgument_Enum{Enum: v}}
}

func i64Literal(v int64) *pb.Expression {
	return &pb.Expression{RexType: &pb.Expression_Literal_{Literal: &pb.Expression_Literal{LiteralType: &pb.Expression_Literal_I64{I64: v}}}}
}

// expr converts a bound expression evaluated over schema in.
func (pr *producer) expr(e logical.Expr, in *logical.Schema) (*pb.Expression, error) {
	switch x := e.(type) {
	case *logical.ColumnRef:
		if x.Index < 0 || x.Index >= in.Len() {
			return nil, fmt.Errorf("column reference %s out of range for %d input columns", x, in.Len())
		}
		return fieldRef(x.Index), nil
	case *logical.Literal:
		lit, err := literal(x)
		if err != nil {
			return nil, err
		}
		return &pb.Expression{RexType: &pb.Expression_Literal_{Literal: lit}}, nil
	case *logical.Call:
		if x.Func == "extract" && x.UDF == nil && pr.opts.Target == "datafusion" {
			return pr.datePart(x, in)
		}
		sf, err := pr.call(x, in)
		if err != nil {
			return nil, err
		}
		return &pb.Expression{RexType: &pb.Expression_ScalarFunction_{ScalarFunction: sf}}, nil
	case *logical.Cast:
		input, err := pr.expr(x.Input, in)
		if err != nil {
			return nil, err
		}
		t, err := extensions.ToProtoType(x.T, x.Nullable())
		if err != nil {
			return nil, err
		}
		fb := pb.Expression_Cast_FAILURE_BEHAVIOR_THROW_EXCEPTION
		if x.Try {
			fb = pb.Expression_Cast_FAILURE_BEHAVIOR_RETURN_NULL
		}
		return &pb.Expression{RexType: &pb.Expression_Cast_{Cast: &pb.Expression_Cast{Type: t, Input: input, FailureBehavior: fb}}}, nil
	case *logical.Case:
		ite := &pb.Expression_IfThen{}
		for _, w := range x.Whens {
			c, err := pr.expr(w.Cond, in)
			if err != nil {
				return nil, err
			}
			t, err := pr.expr(w.Then, in)
			if err != nil {
				return nil, err
			}
			ite.Ifs = append(ite.Ifs, &pb.Expression_IfThen_IfClause{If: c, Then: t})
		}
		if len(ite.Ifs) == 0 {
			return nil, fmt.Errorf("CASE without WHEN")
		}
		if x.Else != nil {
			el, err := pr.expr(x.Else, in)
			if err != nil {
				return nil, err
			}
			ite.Else = el
		}
		return &pb.Expression{RexType: &pb.Expression_IfThen_{IfThen: ite}}, nil
	case *logical.InList:
		v, err := pr.expr(x.Input, in)
		if err != nil {
			return nil, err
		}
		sol := &pb.Expression_SingularOrList{Value: v}
		for _, l := range x.List {
			o, err := pr.expr(l, in)
			if err != nil {
				return nil, err
			}
			sol.Options = append(sol.Options, o)
		}
		out := &pb.Expression{RexType: &pb.Expression_SingularOrList_{SingularOrList: sol}}
		if !x.Negated {
			return out, nil
		}
		ref, err := pr.function(extensions.Scalar, "not", []string{"bool"})
		if err != nil {
			return nil, err
		}
		t, _ := extensions.ToProtoType(logical.Bool, x.Nullable())
		return &pb.Expression{RexType: &pb.Expression_ScalarFunction_{ScalarFunction: &pb.Expression_ScalarFunction{
			FunctionReference: ref, Arguments: []*pb.FunctionArgument{valueArg(out)}, OutputType: t,
		}}}, nil
	case *logical.WindowCall:
		wf, err := pr.windowFunction(x, in)
		if err != nil {
			return nil, err
		}
		return &pb.Expression{RexType: &pb.Expression_WindowFunction_{WindowFunction: wf}}, nil
	case *logical.AggregateCall:
		return nil, fmt.Errorf("aggregate %s outside an Aggregate node", x)
	case *logical.OuterRef:
		if x.Steps < 1 {
			return nil, fmt.Errorf("outer reference %s with steps %d", x, x.Steps)
		}
		ref := fieldRef(x.Index)
		ref.GetSelection().RootType = &pb.Expression_FieldReference_OuterReference_{
			OuterReference: &pb.Expression_FieldReference_OuterReference{StepsOut: uint32(x.Steps)}}
		return ref, nil
	case *logical.Subquery:
		return pr.subquery(x, in)
	case nil:
		return nil, fmt.Errorf("nil expression")
	}
	return nil, fmt.Errorf("unsupported expression %T", e)
}

// argShortName is the signature short name of an expression's type.
func argShortName(e logical.Expr) (string, error) {
	if l, ok := e.(*logical.Literal); ok && l.Value != nil {
		// Interval literals are written in the narrowest form (see literal).
		if iv, ok := l.Value.(arrow.MonthDayNanoInterval); ok {
			switch {
			case iv.Days == 0 && iv.Nanoseconds == 0:
				return "iyear", nil
			case iv.Months == 0:
				return "iday", nil
			}
		}
	}
	t, err := extensions.ToProtoType(e.Type(), true)
	if err != nil {
		return "", err
	}
	return extensions.TypeShortName(t), nil
}

// Extract components: ours → the standard's component and indexing.
var extractComponents = map[string][]string{
	"YEAR":        {"YEAR"},
	"QUARTER":     {"QUARTER", "ONE"},
	"MONTH":       {"MONTH", "ONE"},
	"DAY":         {"DAY", "ONE"},
	"DAY_OF_WEEK": {"SUNDAY_DAY_OF_WEEK", "ZERO"},
	"DAY_OF_YEAR": {"DAY_OF_YEAR", "ONE"},
	"WEEK":        {"ISO_WEEK", "ONE"},
	"HOUR":        {"HOUR"},
	"MINUTE":      {"MINUTE"},
	"SECOND":      {"SECOND"},
	"EPOCH":       {"UNIX_TIME"},
}

var dateTruncUnits = map[string]bool{"YEAR": true, "QUARTER": true, "MONTH": true, "WEEK": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}

// functionCall is the common shape of scalar, aggregate and window calls.
type functionCall struct {
	ref     uint32
	args    []*pb.FunctionArgument
	options []*pb.FunctionOption
}

// buildCall maps a logical function name, its arguments and options to the
// Substrait function (see the package comment for the special cases).
func (pr *producer) buildCall(kind extensions.Kind, name string, args []logical.Expr, opts map[string]string, in *logical.Schema, udf *logical.Function) (*functionCall, error) {
	if udf != nil {
		return pr.udfCall(udf, args, in)
	}
	var enums []string
	var skip []string
	fc := &functionCall{}
	sname := name
	switch name {
	case "ilike":
		sname = "like"
		fc.options = append(fc.options, &pb.FunctionOption{Name: "case_sensitivity", Preference: []string{"CASE_INSENSITIVE"}})
	case "extract":
		comp, ok := extractComponents[opts["component"]]
		if !ok {
			return nil, fmt.Errorf("extract: unsupported component %q", opts["component"])
		}
		enums = comp
		skip = append(skip, "component")
	case "date_trunc":
		u := opts["unit"]
		if !dateTruncUnits[u] {
			return nil, fmt.Errorf("date_trunc: unsupported unit %q", u)
		}
		enums = []string{u}
		skip = append(skip, "unit")
	case "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		sname = "std_dev"
		if name[0] == 'v' {
			sname = "variance"
		}
		dist := "SAMPLE"
		if name[len(name)-3:] == "pop" {
			dist = "POPULATION"
		}
		fc.options = append(fc.options, &pb.FunctionOption{Name: "distribution", Preference: []string{dist}})
	}
	short := make([]string, 0, len(enums)+len(args))
	for _, e := range enums {
		fc.args = append(fc.args, enumArg(e))
		short = append(short, "req")
	}
	for i, a := range args {
		v, err := pr.expr(a, in)
		if err != nil {
			return nil, fmt.Errorf("%s argument %d: %w", name, i+1, err)
		}
		s, err := argShortName(a)
		if err != nil {
			return nil, fmt.Errorf("%s argument %d: %w", name, i+1, err)
		}
		fc.args = append(fc.args, valueArg(v))
		short = append(short, s)
	}
	ref, err := pr.function(kind, sname, short)
	if err != nil {
		return nil, err
	}
	fc.ref = ref
	fc.options = append(fc.options, sortedOptions(opts, skip...)...)
	return fc, nil
}

// udfCall is a call of a user-defined function: declared in the
// extension its provider declares (udf.URN), compound-named by its
// argument types.
func (pr *producer) udfCall(udf *logical.Function, args []logical.Expr, in *logical.Schema) (*functionCall, error) {
	fc := &functionCall{}
	short := make([]string, len(args))
	for i, a := range args {
		v, err := pr.expr(a, in)
		if err != nil {
			return nil, fmt.Errorf("%s argument %d: %w", udf.Name, i+1, err)
		}
		if short[i], err = argShortName(a); err != nil {
			return nil, fmt.Errorf("%s argument %d: %w", udf.Name, i+1, err)
		}
		fc.args = append(fc.args, valueArg(v))
	}
	compound := udf.Name
	if len(short) > 0 {
		compound += ":" + strings.Join(short, "_")
	}
	fc.ref = pr.declare(udf.URN, compound)
	return fc, nil
}

func (pr *producer) call(c *logical.Call, in *logical.Schema) (*pb.Expression_ScalarFunction, error) {
	fc, err := pr.buildCall(extensions.Scalar, c.Func, c.Args, c.Options, in, c.UDF)
	if err != nil {
		return nil, err
	}
	t, err := extensions.ToProtoType(c.T, c.NullableOut)
	if err != nil {
		return nil, fmt.Errorf("%s result: %w", c.Func, err)
	}
	return &pb.Expression_ScalarFunction{FunctionReference: fc.ref, Arguments: fc.args, Options: fc.options, OutputType: t}, nil
}

func (pr *producer) measure(a *logical.AggregateCall, in *logical.Schema) (*pb.AggregateRel_Measure, error) {
	fc, err := pr.buildCall(extensions.Aggregate, a.Func, a.Args, nil, in, a.UDF)
	if err != nil {
		return nil, err
	}
	t, err := extensions.ToProtoType(a.T, a.Nullable())
	if err != nil {
		return nil, err
	}
	inv := pb.AggregateFunction_AGGREGATION_INVOCATION_ALL
	if a.Distinct {
		inv = pb.AggregateFunction_AGGREGATION_INVOCATION_DISTINCT
	}
	m := &pb.AggregateRel_Measure{Measure: &pb.AggregateFunction{
		FunctionReference: fc.ref, Arguments: fc.args, Options: fc.options, OutputType: t,
		Phase: pb.AggregationPhase_AGGREGATION_PHASE_INITIAL_TO_RESULT, Invocation: inv,
	}}
	if a.Filter != nil {
		if m.Filter, err = pr.expr(a.Filter, in); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
	}
	return m, nil
}

func frameBound(b logical.FrameBound) (*pb.Expression_WindowFunction_Bound, error) {
	offset := func() (int64, error) {
		l, ok := b.Offset.(*logical.Literal)
		if !ok || l.Value == nil {
			return 0, fmt.Errorf("window frame offset %v is not an integer constant", b.Offset)
		}
		switch v := l.Value.(type) {
		case int8:
			return int64(v), nil
		case int16:
			return int64(v), nil
		case int32:
			return int64(v), nil
		case int64:
			if !logical.IsDecimal(l.T) {
				return v, nil
			}
		}
		return 0, fmt.Errorf("window frame offset %s is not an integer (Substrait bounds are row or value counts)", l)
	}
	switch b.Kind {
	case logical.UnboundedPreceding, logical.UnboundedFollowing:
		return &pb.Expression_WindowFunction_Bound{Kind: &pb.Expression_WindowFunction_Bound_Unbounded_{Unbounded: &pb.Expression_WindowFunction_Bound_Unbounded{}}}, nil
	case logical.CurrentRow:
		return &pb.Expression_WindowFunction_Bound{Kind: &pb.Expression_WindowFunction_Bound_CurrentRow_{CurrentRow: &pb.Expression_WindowFunction_Bound_CurrentRow{}}}, nil
	case logical.Preceding:
		o, err := offset()
		if err != nil {
			return nil, err
		}
		return &pb.Expression_WindowFunction_Bound{Kind: &pb.Expression_WindowFunction_Bound_Preceding_{Preceding: &pb.Expression_WindowFunction_Bound_Preceding{Offset: o}}}, nil
	case logical.Following:
		o, err := offset()
		if err != nil {
			return nil, err
		}
		return &pb.Expression_WindowFunction_Bound{Kind: &pb.Expression_WindowFunction_Bound_Following_{Following: &pb.Expression_WindowFunction_Bound_Following{Offset: o}}}, nil
	}
	return nil, fmt.Errorf("unknown frame bound kind %d", b.Kind)
}

func (pr *producer) windowFunction(w *logical.WindowCall, in *logical.Schema) (*pb.Expression_WindowFunction, error) {
	fc, err := pr.buildCall(extensions.Window, w.Func, w.Args, nil, in, nil)
	if err != nil {
		return nil, err
	}
	t, err := extensions.ToProtoType(w.T, w.Nullable())
	if err != nil {
		return nil, err
	}
	wf := &pb.Expression_WindowFunction{
		FunctionReference: fc.ref, Arguments: fc.args, Options: fc.options, OutputType: t,
		Phase:      pb.AggregationPhase_AGGREGATION_PHASE_INITIAL_TO_RESULT,
		Invocation: pb.AggregateFunction_AGGREGATION_INVOCATION_ALL,
	}
	for i, p := range w.PartitionBy {
		e, err := pr.expr(p, in)
		if err != nil {
			return nil, fmt.Errorf("partition key %d: %w", i, err)
		}
		wf.Partitions = append(wf.Partitions, e)
	}
	if wf.Sorts, err = pr.sortFields(w.OrderBy, in); err != nil {
		return nil, err
	}
	if w.Frame != nil {
		wf.BoundsType = pb.Expression_WindowFunction_BOUNDS_TYPE_ROWS
		if w.Frame.Type == logical.FrameRange {
			wf.BoundsType = pb.Expression_WindowFunction_BOUNDS_TYPE_RANGE
		}
		if wf.LowerBound, err = frameBound(w.Frame.Start); err != nil {
			return nil, err
		}
		if wf.UpperBound, err = frameBound(w.Frame.End); err != nil {
			return nil, err
		}
	}
	return wf, nil
}

// decimalBytes encodes a 128-bit two's complement value as 16 bytes,
// little-endian.
func decimalBytes(n decimal128.Num) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b[:8], n.LowBits())
	binary.LittleEndian.PutUint64(b[8:], uint64(n.HighBits()))
	return b
}

// literal converts a constant. Decimals are 16-byte little-endian two's
// complement; timestamps precision_timestamp in the type's unit;
// month_day_nano intervals interval_year_to_month (months only),
// interval_day_to_second with precision 9 (days and nanoseconds only) or
// interval_compound (both).
func literal(l *logical.Literal) (*pb.Expression_Literal, error) {
	if l.T == nil {
		return nil, fmt.Errorf("literal without type")
	}
	if l.Value == nil {
		t, err := extensions.ToProtoType(l.T, true)
		if err != nil {
			return nil, err
		}
		return &pb.Expression_Literal{LiteralType: &pb.Expression_Literal_Null{Null: t}, Nullable: true}, nil
	}
	out := &pb.Expression_Literal{}
	mismatch := func() error {
		return fmt.Errorf("literal %v of Go type %T does not match its type %s", l.Value, l.Value, l.T)
	}
	switch v := l.Value.(type) {
	case bool:
		out.LiteralType = &pb.Expression_Literal_Boolean{Boolean: v}
	case int8:
		out.LiteralType = &pb.Expression_Literal_I8{I8: int32(v)}
	case int16:
		out.LiteralType = &pb.Expression_Literal_I16{I16: int32(v)}
	case int32:
		out.LiteralType = &pb.Expression_Literal_I32{I32: v}
	case int64:
		if p, s, ok := logical.DecimalParams(l.T); ok {
			out.LiteralType = &pb.Expression_Literal_Decimal_{Decimal: &pb.Expression_Literal_Decimal{
				Value: decimalBytes(decimal128.FromI64(v)), Precision: p, Scale: s}}
		} else {
			out.LiteralType = &pb.Expression_Literal_I64{I64: v}
		}
	case float32:
		out.LiteralType = &pb.Expression_Literal_Fp32{Fp32: v}
	case float64:
		out.LiteralType = &pb.Expression_Literal_Fp64{Fp64: v}
	case string:
		out.LiteralType = &pb.Expression_Literal_String_{String_: v}
	case []byte:
		if fb, ok := l.T.(*arrow.FixedSizeBinaryType); ok {
			if len(v) != fb.ByteWidth {
				return nil, mismatch()
			}
			out.LiteralType = &pb.Expression_Literal_FixedBinary{FixedBinary: v}
		} else {
			out.LiteralType = &pb.Expression_Literal_Binary{Binary: v}
		}
	case decimal128.Num:
		p, s, ok := logical.DecimalParams(l.T)
		if !ok {
			return nil, mismatch()
		}
		out.LiteralType = &pb.Expression_Literal_Decimal_{Decimal: &pb.Expression_Literal_Decimal{Value: decimalBytes(v), Precision: p, Scale: s}}
	case arrow.Date32:
		out.LiteralType = &pb.Expression_Literal_Date{Date: int32(v)}
	case arrow.Timestamp:
		ts, ok := l.T.(*arrow.TimestampType)
		if !ok {
			return nil, mismatch()
		}
		p := map[arrow.TimeUnit]int32{arrow.Second: 0, arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}[ts.Unit]
		pt := &pb.Expression_Literal_PrecisionTimestamp{Precision: p, Value: int64(v)}
		if ts.TimeZone != "" {
			out.LiteralType = &pb.Expression_Literal_PrecisionTimestampTz{PrecisionTimestampTz: pt}
		} else {
			out.LiteralType = &pb.Expression_Literal_PrecisionTimestamp_{PrecisionTimestamp: pt}
		}
	case arrow.MonthDayNanoInterval:
		ym := &pb.Expression_Literal_IntervalYearToMonth{Months: v.Months}
		ds := &pb.Expression_Literal_IntervalDayToSecond{
			Days:          v.Days,
			Seconds:       int32(v.Nanoseconds / 1e9),
			Subseconds:    v.Nanoseconds % 1e9,
			PrecisionMode: &pb.Expression_Literal_IntervalDayToSecond_Precision{Precision: 9},
		}
		if v.Nanoseconds/1e9 > 1<<31-1 || v.Nanoseconds/1e9 < -(1<<31) {
			return nil, fmt.Errorf("interval %s: seconds overflow int32", logical.FormatLiteral(l))
		}
		switch {
		case v.Days == 0 && v.Nanoseconds == 0:
			out.LiteralType = &pb.Expression_Literal_IntervalYearToMonth_{IntervalYearToMonth: ym}
		case v.Months == 0:
			out.LiteralType = &pb.Expression_Literal_IntervalDayToSecond_{IntervalDayToSecond: ds}
		default:
			out.LiteralType = &pb.Expression_Literal_IntervalCompound_{IntervalCompound: &pb.Expression_Literal_IntervalCompound{
				IntervalYearToMonth: ym, IntervalDayToSecond: ds}}
		}
	default:
		return nil, fmt.Errorf("unsupported literal %v of Go type %T (type %s)", l.Value, l.Value, l.T)
	}
	return out, nil
}

// subquery converts a subquery expression (plans that arrived as Substrait
// and were not decorrelated yet; the binder never makes them).
func (pr *producer) subquery(x *logical.Subquery, in *logical.Schema) (*pb.Expression, error) {
	r, err := pr.rel(x.Plan)
	if err != nil {
		return nil, err
	}
	sq := &pb.Expression_Subquery{}
	switch x.Kind {
	case logical.SubqueryScalar:
		sq.SubqueryType = &pb.Expression_Subquery_Scalar_{Scalar: &pb.Expression_Subquery_Scalar{Input: r}}
	case logical.SubqueryExists:
		sq.SubqueryType = &pb.Expression_Subquery_SetPredicate_{SetPredicate: &pb.Expression_Subquery_SetPredicate{
			PredicateOp: pb.Expression_Subquery_SetPredicate_PREDICATE_OP_EXISTS, Tuples: r}}
	case logical.SubqueryAny, logical.SubqueryAll:
		test, err := pr.expr(x.Test, in)
		if err != nil {
			return nil, err
		}
		if x.Kind == logical.SubqueryAny && x.Op == "equal" {
			sq.SubqueryType = &pb.Expression_Subquery_InPredicate_{InPredicate: &pb.Expression_Subquery_InPredicate{
				Needles: []*pb.Expression{test}, Haystack: r}}
			break
		}
		op, ok := map[string]pb.Expression_Subquery_SetComparison_ComparisonOp{
			"equal": pb.Expression_Subquery_SetComparison_COMPARISON_OP_EQ, "not_equal": pb.Expression_Subquery_SetComparison_COMPARISON_OP_NE,
			"lt": pb.Expression_Subquery_SetComparison_COMPARISON_OP_LT, "lte": pb.Expression_Subquery_SetComparison_COMPARISON_OP_LE,
			"gt": pb.Expression_Subquery_SetComparison_COMPARISON_OP_GT, "gte": pb.Expression_Subquery_SetComparison_COMPARISON_OP_GE,
		}[x.Op]
		if !ok {
			return nil, fmt.Errorf("subquery comparison %q", x.Op)
		}
		red := pb.Expression_Subquery_SetComparison_REDUCTION_OP_ANY
		if x.Kind == logical.SubqueryAll {
			red = pb.Expression_Subquery_SetComparison_REDUCTION_OP_ALL
		}
		sq.SubqueryType = &pb.Expression_Subquery_SetComparison_{SetComparison: &pb.Expression_Subquery_SetComparison{
			ReductionOp: red, ComparisonOp: op, Left: test, Right: r}}
	default:
		return nil, fmt.Errorf("subquery kind %s", x.Kind)
	}
	return &pb.Expression{RexType: &pb.Expression_Subquery_{Subquery: sq}}, nil
}

// datafusionParts names extract's components as DataFusion's date_part.
var datafusionParts = map[string]string{
	"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "DAY": "day", "DAY_OF_WEEK": "dow",
	"DAY_OF_YEAR": "doy", "WEEK": "week", "HOUR": "hour", "MINUTE": "minute", "SECOND": "second", "EPOCH": "epoch",
}

// datePart writes extract for DataFusion (Options.Target): CAST(date_part(
// 'component', x) AS <the call's type>).
func (pr *producer) datePart(c *logical.Call, in *logical.Schema) (*pb.Expression, error) {
	part, ok := datafusionParts[c.Options["component"]]
	if !ok || len(c.Args) != 1 {
		return nil, fmt.Errorf("extract: component %q has no DataFusion date_part", c.Options["component"])
	}
	x, err := pr.expr(c.Args[0], in)
	if err != nil {
		return nil, fmt.Errorf("extract argument: %w", err)
	}
	at, err := argShortName(c.Args[0])
	if err != nil {
		return nil, err
	}
	ref := pr.declare(extensions.StandardURNPrefix+"functions_datetime", "date_part:str_"+at)
	lit := &pb.Expression{RexType: &pb.Expression_Literal_{Literal: &pb.Expression_Literal{
		LiteralType: &pb.Expression_Literal_String_{String_: part}}}}
	t, err := extensions.ToProtoType(c.T, c.NullableOut)
	if err != nil {
		return nil, err
	}
	call := &pb.Expression{RexType: &pb.Expression_ScalarFunction_{ScalarFunction: &pb.Expression_ScalarFunction{
		FunctionReference: ref, Arguments: []*pb.FunctionArgument{valueArg(lit), valueArg(x)}, OutputType: t}}}
	return &pb.Expression{RexType: &pb.Expression_Cast_{Cast: &pb.Expression_Cast{Type: t, Input: call,
		FailureBehavior: pb.Expression_Cast_FAILURE_BEHAVIOR_THROW_EXCEPTION}}}, nil
}
