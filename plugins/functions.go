package plugins

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/substrait-io/substrait-go/v8/expr"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/plugins/pluginpb"
	arbext "github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
)

// FunctionDecl declares one function of a plugin.
type FunctionDecl struct {
	Name        string
	Kind        pluginpb.FunctionKind
	Args        []arrow.DataType
	Result      arrow.DataType
	State       []arrow.Field
	Volatility  pluginpb.Volatility
	Description string
	NullOnNull  bool
}

// DeclareFunctions makes the Substrait extension YAML (with urn) and the
// protocol signatures of a plugin's functions.
func DeclareFunctions(urn string, decls []FunctionDecl) (string, []*pluginpb.FunctionSignature, error) {
	var scalars, aggs strings.Builder
	var sigs []*pluginpb.FunctionSignature
	seen := map[string]bool{}
	for _, d := range decls {
		if seen[d.Name] {
			return "", nil, fmt.Errorf("function %s is declared twice", d.Name)
		}
		seen[d.Name] = true
		if !validName(d.Name) {
			return "", nil, fmt.Errorf("function name %q: use letters, digits and underscores", d.Name)
		}
		b := &scalars
		if d.Kind == pluginpb.FunctionKind_FUNCTION_KIND_AGGREGATE {
			b = &aggs
		}
		ret, err := YAMLType(d.Result)
		if err != nil {
			return "", nil, fmt.Errorf("function %s result: %w", d.Name, err)
		}
		fmt.Fprintf(b, "  - name: %s\n", d.Name)
		if d.Description != "" {
			fmt.Fprintf(b, "    description: %q\n", d.Description)
		}
		fmt.Fprintf(b, "    impls:\n      - args:")
		if len(d.Args) == 0 {
			b.WriteString(" []")
		}
		b.WriteString("\n")
		for i, a := range d.Args {
			t, err := YAMLType(a)
			if err != nil {
				return "", nil, fmt.Errorf("function %s argument %d: %w", d.Name, i+1, err)
			}
			fmt.Fprintf(b, "          - name: arg%d\n            value: %s\n", i, t)
		}
		if d.Kind == pluginpb.FunctionKind_FUNCTION_KIND_SCALAR && d.Volatility == pluginpb.Volatility_VOLATILITY_VOLATILE {
			b.WriteString("        deterministic: false\n")
		}
		if d.NullOnNull {
			b.WriteString("        nullability: MIRROR\n")
		}
		fmt.Fprintf(b, "        return: %s?\n", ret)
		sig := &pluginpb.FunctionSignature{
			Name: d.Name, Kind: d.Kind, Volatility: d.Volatility, Description: d.Description, NullOnNull: d.NullOnNull,
			Arguments: EncodeSchema(FieldsSchema("arg", d.Args)),
			Result:    EncodeSchema(arrow.NewSchema([]arrow.Field{{Name: "result", Type: d.Result, Nullable: true}}, nil)),
		}
		if d.Kind == pluginpb.FunctionKind_FUNCTION_KIND_AGGREGATE {
			if len(d.State) == 0 {
				return "", nil, fmt.Errorf("aggregate function %s declares no state columns", d.Name)
			}
			sig.State = EncodeSchema(arrow.NewSchema(d.State, nil))
		}
		sigs = append(sigs, sig)
	}
	var y strings.Builder
	fmt.Fprintf(&y, "%%YAML 1.2\n---\nurn: %s\n", urn)
	if scalars.Len() > 0 {
		y.WriteString("scalar_functions:\n")
		y.WriteString(scalars.String())
	}
	if aggs.Len() > 0 {
		y.WriteString("aggregate_functions:\n")
		y.WriteString(aggs.String())
	}
	return y.String(), sigs, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// YAMLType is the Substrait extension YAML name of an Arrow type.
func YAMLType(t arrow.DataType) (string, error) {
	switch t := t.(type) {
	case *arrow.Decimal128Type:
		return fmt.Sprintf("decimal<%d,%d>", t.Precision, t.Scale), nil
	case *arrow.FixedSizeBinaryType:
		return fmt.Sprintf("fixedbinary<%d>", t.ByteWidth), nil
	case *arrow.TimestampType:
		p := map[arrow.TimeUnit]int{arrow.Second: 0, arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}[t.Unit]
		if t.TimeZone != "" {
			return fmt.Sprintf("precision_timestamp_tz<%d>", p), nil
		}
		return fmt.Sprintf("precision_timestamp<%d>", p), nil
	}
	names := map[arrow.Type]string{
		arrow.BOOL: "boolean", arrow.INT8: "i8", arrow.INT16: "i16", arrow.INT32: "i32", arrow.INT64: "i64",
		arrow.FLOAT32: "fp32", arrow.FLOAT64: "fp64", arrow.STRING: "string", arrow.LARGE_STRING: "string",
		arrow.BINARY: "binary", arrow.LARGE_BINARY: "binary", arrow.DATE32: "date",
	}
	if n, ok := names[t.ID()]; ok {
		return n, nil
	}
	return "", fmt.Errorf("type %s cannot be declared in a function extension", t)
}

// Functions turns a plugin's GetInfo answer into logical functions of
// provider (the plugin's configured name); impl makes each one's Impl.
func Functions(provider string, info *pluginpb.GetInfoResponse, impl func(*logical.Function) any) ([]*logical.Function, error) {
	var out []*logical.Function
	for _, s := range info.GetFunctions() {
		f := &logical.Function{Name: strings.ToLower(s.GetName()), URN: info.GetExtensionUrn(), Provider: provider, NullOnNull: s.GetNullOnNull()}
		switch s.GetKind() {
		case pluginpb.FunctionKind_FUNCTION_KIND_SCALAR:
			f.Kind = logical.ScalarFunction
		case pluginpb.FunctionKind_FUNCTION_KIND_AGGREGATE:
			f.Kind = logical.AggregateFunction
		default:
			return nil, fmt.Errorf("function %s has no kind", s.GetName())
		}
		switch s.GetVolatility() {
		case pluginpb.Volatility_VOLATILITY_STABLE:
			f.Volatility = logical.Stable
		case pluginpb.Volatility_VOLATILITY_VOLATILE:
			f.Volatility = logical.Volatile
		}
		args, err := DecodeSchema(s.GetArguments())
		if err != nil {
			return nil, fmt.Errorf("function %s arguments: %w", s.GetName(), err)
		}
		f.Args = args.Fields()
		res, err := DecodeSchema(s.GetResult())
		if err != nil {
			return nil, fmt.Errorf("function %s result: %w", s.GetName(), err)
		}
		if res.NumFields() != 1 {
			return nil, fmt.Errorf("function %s declares %d result columns, want 1", s.GetName(), res.NumFields())
		}
		f.Result = res.Field(0)
		if f.Kind == logical.AggregateFunction {
			st, err := DecodeSchema(s.GetState())
			if err != nil {
				return nil, fmt.Errorf("aggregate function %s state: %w", s.GetName(), err)
			}
			if st.NumFields() == 0 {
				return nil, fmt.Errorf("aggregate function %s declares no state columns", s.GetName())
			}
			f.State = st.Fields()
		}
		if impl != nil {
			f.Impl = impl(f)
		}
		out = append(out, f)
	}
	if len(out) > 0 && info.GetExtensionUrn() == "" {
		return nil, fmt.Errorf("the plugin declares functions but no extension URN")
	}
	return out, nil
}

// EncodeCall serializes a FunctionCall (the DoExchange descriptor's cmd).
func EncodeCall(fn string, phase pluginpb.FunctionPhase) []byte {
	b, _ := proto.Marshal(&pluginpb.FunctionCall{Function: fn, Phase: phase})
	return b
}

// DecodeCall reads a FunctionCall.
func DecodeCall(b []byte) (*pluginpb.FunctionCall, error) {
	var c pluginpb.FunctionCall
	if err := proto.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("reading the FunctionCall: %w", err)
	}
	if c.Function == "" || c.Phase == pluginpb.FunctionPhase_FUNCTION_PHASE_UNSPECIFIED {
		return nil, fmt.Errorf("the FunctionCall names no function or phase")
	}
	return &c, nil
}

// DecodeFilters reads the filters of a PlanScan request (a serialized
// ExtendedExpression) with substrait-go, one expression per filter.
func DecodeFilters(b []byte, schema *arrow.Schema) (out []expr.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("reading the filters: %v", r)
		}
	}()
	var ee pb.ExtendedExpression
	if err := proto.Unmarshal(b, &ee); err != nil {
		return nil, fmt.Errorf("reading the filters: %w", err)
	}
	coll := arbext.Collection()
	ext, err := expr.ExtendedFromProto(&ee, coll)
	if err != nil {
		return nil, fmt.Errorf("reading the filters: %w", err)
	}
	for i, r := range ext.ReferredExpr {
		e := r.GetExpr()
		if e == nil {
			return nil, fmt.Errorf("filter %d is not an expression", i)
		}
		out = append(out, e)
	}
	_ = schema
	return out, nil
}

// GroupColumn reads the "group" column (uint32, first) of an aggregate
// exchange batch.
func GroupColumn(b arrow.RecordBatch) ([]uint32, error) {
	if b.NumCols() < 1 || b.Column(0).DataType().ID() != arrow.UINT32 {
		return nil, fmt.Errorf("batch's first column must be the uint32 group, got %s", b.Schema())
	}
	g := b.Column(0).(*array.Uint32)
	if g.NullN() > 0 {
		return nil, fmt.Errorf("group column has NULLs")
	}
	return g.Uint32Values(), nil
}

// GroupedBatch makes a batch of group 0..n-1 followed by cols (n rows each).
func GroupedBatch(mem memory.Allocator, fields []arrow.Field, cols []arrow.Array, n int) (arrow.RecordBatch, error) {
	if len(fields) != len(cols) {
		return nil, fmt.Errorf("%d columns for %d fields", len(cols), len(fields))
	}
	gb := array.NewUint32Builder(mem)
	defer gb.Release()
	gb.Reserve(n)
	for i := range n {
		gb.UnsafeAppend(uint32(i))
	}
	g := gb.NewArray()
	defer g.Release()
	fs := append([]arrow.Field{{Name: "group", Type: arrow.PrimitiveTypes.Uint32}}, fields...)
	all := append([]arrow.Array{g}, cols...)
	for i, c := range cols {
		if c.Len() != n {
			return nil, fmt.Errorf("column %s has %d rows for %d groups", fields[i].Name, c.Len(), n)
		}
		if !arrow.TypeEqual(c.DataType(), fields[i].Type) {
			return nil, fmt.Errorf("column %s is %s, declared %s", fields[i].Name, c.DataType(), fields[i].Type)
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fs, nil), all, int64(n)), nil
}
