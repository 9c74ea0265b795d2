// Package aggregate is the native executor's hash aggregation operator.
//
// One node type, HashAggregate, runs in three modes. Single groups raw
// input rows and produces the final result. Partial groups raw input rows
// and produces intermediate states; Final merges those states into the
// final result. The physical planner builds
//
//	partial := NewHashAggregate(scan, Partial, groupBy, names, sets, aggs, aggNames)
//	shuffle := exec.NewRepartition(partial, hash of partial.KeyColumns(), n)
//	final   := NewFinalAggregate(shuffle, partial)
//
// where the Final node's input may be the Partial node itself or anything
// that passes its rows through unchanged (repartition, coalesce, an
// exchange). With no group keys, the Final node must see all partial rows
// in one partition (coalesce first).
//
// The Partial output is: the group columns (named and typed as in the final
// output), then, when grouping sets are given, "__grouping_id" int64, then
// the state columns of each aggregate in order (see PartialSchema). State
// columns are named "<aggName>.<part>":
//
//	count                    count int64
//	sum(int), sum(float)     sum int64 / float64 (NULL: no rows)
//	sum(decimal(p,s))        sum decimal(38,s), all 128 bits kept
//	avg(float)               sum float64, count int64
//	avg(int)                 sum decimal(38,0) (exact), count int64
//	avg(decimal(p,s))        sum decimal(38,s), count int64
//	avg_merge(s, c)          as avg of the original argument
//	min, max, any_value      value (the argument type)
//	var_*, stddev_*          count int64, mean float64, m2 float64
//	bool_and, bool_or        value bool
//	f(DISTINCT x)            distinct list<x>: the distinct values of the group
//
// (DISTINCT is ignored for min, max, any_value, bool_and and bool_or.)
//
// avg_merge(s, c) completes an avg(x) split into a stage computing
// s = sum(x) and c = count(x) per group and a stage merging them: it is
// (Σ s) / (Σ c) computed exactly as avg(x) computes and rounds its result,
// so that it equals avg(x) over the union of the partial inputs. s has the
// type of sum(x) (int64, float64 or decimal(38,s)), or that of avg's own
// partial sum (decimal(38,0) for an integer x); c is int64; the declared
// result type is avg(x)'s (see avgMergeTypes). A row where s or c is NULL,
// or c is 0, contributes nothing; the result is NULL when Σ c is 0.
//
// A grouping set given more than once (GROUPING SETS ((a), (a))) is
// aggregated once, and the Partial output holds its groups once; the
// Single and Final output repeat each of its rows once per occurrence, all
// copies with the same "__grouping_id" (the GROUPING() bitmask).
//
// Memory: the hash table and the states are reserved in the task's memory
// pool. Past the limit a Partial node emits what it holds and starts over;
// Single and Final nodes spill their states, partitioned by key hash, to
// Arrow IPC files under TaskContext.SpillDir and merge each partition at
// the end (recursively, with other hash bits, if a partition is still too
// large).
package aggregate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// Mode says what a HashAggregate consumes and produces.
type Mode int

const (
	// Partial consumes input rows and produces partial states per group.
	Partial Mode = iota
	// Final consumes the output of a Partial node and produces results.
	Final
	// Single consumes input rows and produces results.
	Single
)

func (m Mode) String() string {
	switch m {
	case Partial:
		return "Partial"
	case Final:
		return "Final"
	case Single:
		return "Single"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// GroupingIDName is the name of the grouping-id column.
const GroupingIDName = "__grouping_id"

type aggFunc int

const (
	fnCount aggFunc = iota
	fnSum
	fnAvg
	fnMin
	fnMax
	fnAnyValue
	fnVarSamp
	fnVarPop
	fnStddevSamp
	fnStddevPop
	fnBoolAnd
	fnBoolOr
	fnAvgMerge
	// fnUDF is a user-defined aggregate (AggregateCall.UDF).
	fnUDF
)

var funcNames = map[string]aggFunc{
	"count": fnCount, "sum": fnSum, "avg": fnAvg, "min": fnMin, "max": fnMax,
	"any_value": fnAnyValue, "var_samp": fnVarSamp, "var_pop": fnVarPop,
	"stddev_samp": fnStddevSamp, "stddev_pop": fnStddevPop,
	"bool_and": fnBoolAnd, "bool_or": fnBoolOr, "avg_merge": fnAvgMerge,
}

// aggSpec is one aggregate, resolved.
type aggSpec struct {
	call     *logical.AggregateCall
	name     string
	fn       aggFunc
	distinct bool
	argTypes []arrow.DataType // of each argument
	argType  arrow.DataType   // of the first argument; nil for count(*)
	// avgArg is, for avg and avg_merge, the type of the argument of the
	// avg being computed (for avg_merge one that gives its sum and result
	// types; its accumulator and state depend on nothing else).
	avgArg arrow.DataType
	result arrow.DataType
	states []arrow.Field
}

// HashAggregate is the hash aggregation plan node. Build it with
// NewHashAggregate or NewFinalAggregate.
type HashAggregate struct {
	input      exec.Node
	mode       Mode
	groupBy    []logical.Expr
	groupNames []string
	sets       [][]int
	aggs       []*logical.AggregateCall
	aggNames   []string

	specs      []aggSpec
	groupTypes []arrow.DataType
	keyTypes   []arrow.DataType // groupTypes, then int64 grouping id with sets
	setIDs     []int64          // grouping id of each set
	// Repeated grouping sets (equal as sets of keys, hence with equal
	// grouping ids) are aggregated once and their rows emitted once per
	// occurrence. uniqueSets are the ordinals of each set's first
	// occurrence; setIDsSorted holds the distinct grouping ids, ascending,
	// and setMult how many times each occurs; hasDupSets says whether any
	// occurs more than once.
	uniqueSets   []int
	setIDsSorted []int64
	setMult      []int32
	hasDupSets   bool
	partial      *arrow.Schema
	final        *arrow.Schema
}

var _ exec.Node = (*HashAggregate)(nil)

// NewHashAggregate builds an aggregation of input. groupBy, groupNames,
// sets, aggs and aggNames are those of logical.Aggregate (expressions bound
// to the schema of the rows being aggregated); the output is the group
// columns, one column per aggregate with exactly its logical result type,
// and "__grouping_id" when sets are given. With no group keys the result is
// one row, even for empty input.
//
// In Final mode the same arguments as for the Partial node are passed
// (still bound to the Partial node's input) and input must produce the
// Partial node's output schema; NewFinalAggregate does this.
func NewHashAggregate(input exec.Node, mode Mode, groupBy []logical.Expr, groupNames []string, sets [][]int,
	aggs []*logical.AggregateCall, aggNames []string) (*HashAggregate, error) {
	if mode != Partial && mode != Final && mode != Single {
		return nil, fmt.Errorf("aggregate: unknown mode %d", int(mode))
	}
	if input == nil {
		return nil, fmt.Errorf("aggregate: nil input")
	}
	if len(groupNames) != len(groupBy) {
		return nil, fmt.Errorf("aggregate: %d group names for %d group keys", len(groupNames), len(groupBy))
	}
	if len(aggNames) != len(aggs) {
		return nil, fmt.Errorf("aggregate: %d aggregate names for %d aggregates", len(aggNames), len(aggs))
	}
	n := &HashAggregate{input: input, mode: mode, groupBy: groupBy, groupNames: groupNames, sets: sets,
		aggs: aggs, aggNames: aggNames}
	if len(sets) > 0 {
		if len(groupBy) > 62 {
			return nil, fmt.Errorf("aggregate: grouping sets over %d keys (at most 62)", len(groupBy))
		}
		for si, s := range sets {
			var id int64 = 1<<len(groupBy) - 1
			for _, k := range s {
				if k < 0 || k >= len(groupBy) {
					return nil, fmt.Errorf("aggregate: grouping set %d refers to key %d of %d", si, k, len(groupBy))
				}
				id &^= 1 << k
			}
			n.setIDs = append(n.setIDs, id)
		}
		for si, id := range n.setIDs {
			pos, found := slices.BinarySearch(n.setIDsSorted, id)
			if found {
				n.setMult[pos]++
				n.hasDupSets = true
				continue
			}
			n.uniqueSets = append(n.uniqueSets, si)
			n.setIDsSorted = slices.Insert(n.setIDsSorted, pos, id)
			n.setMult = slices.Insert(n.setMult, pos, 1)
		}
	}
	var pf, ff []arrow.Field
	for i, g := range groupBy {
		if g == nil {
			return nil, fmt.Errorf("aggregate: group key %d is nil", i)
		}
		t := g.Type()
		if err := hashkey.Supported(t); err != nil {
			return nil, fmt.Errorf("aggregate: group key %s: %w", groupNames[i], err)
		}
		n.groupTypes = append(n.groupTypes, t)
		f := arrow.Field{Name: groupNames[i], Type: t, Nullable: g.Nullable() || len(sets) > 0}
		pf = append(pf, f)
		ff = append(ff, f)
	}
	n.keyTypes = append([]arrow.DataType(nil), n.groupTypes...)
	gidField := arrow.Field{Name: GroupingIDName, Type: arrow.PrimitiveTypes.Int64}
	if len(sets) > 0 {
		n.keyTypes = append(n.keyTypes, arrow.PrimitiveTypes.Int64)
		pf = append(pf, gidField)
	}
	for i, a := range aggs {
		s, err := resolve(a, aggNames[i])
		if err != nil {
			return nil, fmt.Errorf("aggregate %s: %w", aggNames[i], err)
		}
		n.specs = append(n.specs, s)
		pf = append(pf, s.states...)
		ff = append(ff, arrow.Field{Name: aggNames[i], Type: s.result, Nullable: a.Nullable()})
	}
	if len(sets) > 0 {
		ff = append(ff, gidField)
	}
	n.partial = arrow.NewSchema(pf, nil)
	n.final = arrow.NewSchema(ff, nil)

	in := input.Schema()
	if mode == Final {
		if err := sameTypes(in, n.partial); err != nil {
			return nil, fmt.Errorf("aggregate: Final input does not match the partial layout: %w", err)
		}
	} else {
		// Check that the expressions compile against the input.
		if err := checkExprs(n, in); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// multOfID is how many times the grouping set with grouping id id is
// listed, 0 if none has it.
func (n *HashAggregate) multOfID(id int64) int32 {
	if pos, found := slices.BinarySearch(n.setIDsSorted, id); found {
		return n.setMult[pos]
	}
	return 0
}

// NewFinalAggregate builds the Final node that merges the output of
// partial (a Partial-mode node), read through input (partial itself or a
// node passing its rows through, such as a repartition on KeyColumns).
func NewFinalAggregate(input exec.Node, partial *HashAggregate) (*HashAggregate, error) {
	if partial == nil || partial.mode != Partial {
		return nil, fmt.Errorf("aggregate: NewFinalAggregate needs a Partial node")
	}
	return NewHashAggregate(input, Final, partial.groupBy, partial.groupNames, partial.sets, partial.aggs, partial.aggNames)
}

func sameTypes(got, want *arrow.Schema) error {
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("%d columns, want %d (%s)", got.NumFields(), want.NumFields(), want)
	}
	for i := range want.Fields() {
		if !arrow.TypeEqual(got.Field(i).Type, want.Field(i).Type) {
			return fmt.Errorf("column %d (%s) is %s, want %s", i, want.Field(i).Name, got.Field(i).Type, want.Field(i).Type)
		}
	}
	return nil
}

// resolveUDF checks a call of a user-defined aggregate: its state layout
// is the one the function declares.
func resolveUDF(a *logical.AggregateCall, name string) (aggSpec, error) {
	f := a.UDF
	s := aggSpec{call: a, name: name, fn: fnUDF, distinct: a.Distinct, result: f.Result.Type}
	if len(a.Args) != len(f.Args) {
		return s, fmt.Errorf("%s takes %d arguments, got %d", f.Signature(), len(f.Args), len(a.Args))
	}
	for i, x := range a.Args {
		if x == nil || !arrow.TypeEqual(x.Type(), f.Args[i].Type) {
			return s, fmt.Errorf("%s: argument %d is not of the declared type", f.Signature(), i+1)
		}
		s.argTypes = append(s.argTypes, x.Type())
	}
	if len(s.argTypes) > 0 {
		s.argType = s.argTypes[0]
	}
	if s.distinct && len(s.argTypes) != 1 {
		return s, fmt.Errorf("DISTINCT %s: only aggregates of one argument take DISTINCT", f.Name)
	}
	if s.distinct {
		if err := hashkey.Supported(s.argType); err != nil {
			return s, fmt.Errorf("DISTINCT argument: %w", err)
		}
		s.states = []arrow.Field{{Name: name + ".distinct", Type: arrow.ListOf(s.argType), Nullable: false}}
	} else {
		for _, st := range f.State {
			s.states = append(s.states, arrow.Field{Name: name + "." + st.Name, Type: st.Type, Nullable: true})
		}
	}
	if _, err := s.newAcc(); err != nil {
		return s, err
	}
	return s, nil
}

// resolve checks an aggregate call and works out its state layout.
func resolve(a *logical.AggregateCall, name string) (aggSpec, error) {
	if a == nil {
		return aggSpec{}, fmt.Errorf("nil aggregate call")
	}
	if a.UDF != nil {
		return resolveUDF(a, name)
	}
	fn, ok := funcNames[a.Func]
	if !ok {
		return aggSpec{}, fmt.Errorf("not supported: aggregate function %s", a.Func)
	}
	s := aggSpec{call: a, name: name, fn: fn, distinct: a.Distinct}
	nargs, nargsText := 1, "one argument"
	if fn == fnAvgMerge {
		nargs, nargsText = 2, "two arguments"
	}
	switch {
	case fn == fnCount && len(a.Args) == 0:
		if a.Distinct {
			return s, fmt.Errorf("count(DISTINCT *) is not valid")
		}
	case len(a.Args) == nargs:
		for i, x := range a.Args {
			if x == nil {
				return s, fmt.Errorf("argument %d is nil", i)
			}
			s.argTypes = append(s.argTypes, x.Type())
		}
		s.argType = s.argTypes[0]
	default:
		return s, fmt.Errorf("%s takes %s, got %d", a.Func, nargsText, len(a.Args))
	}
	var res arrow.DataType
	var err error
	switch fn {
	case fnAvgMerge:
		if a.Distinct {
			return s, fmt.Errorf("avg_merge does not take DISTINCT")
		}
		if res, s.avgArg, err = avgMergeTypes(s.argTypes[0], s.argTypes[1], a.T); err != nil {
			return s, err
		}
	default:
		if res, err = logical.AggregateResultType(a.Func, s.argType); err != nil {
			return s, err
		}
		if a.T != nil && !arrow.TypeEqual(a.T, res) {
			return s, fmt.Errorf("declared type %s, but %s(%s) gives %s", a.T, a.Func, s.argType, res)
		}
		s.avgArg = s.argType
	}
	s.result = res
	if a.Filter != nil && a.Filter.Type().ID() != arrow.BOOL {
		return s, fmt.Errorf("FILTER condition has type %s, want boolean", a.Filter.Type())
	}
	switch fn {
	case fnMin, fnMax, fnAnyValue, fnBoolAnd, fnBoolOr:
		s.distinct = false
	}
	if s.distinct {
		if err := hashkey.Supported(s.argType); err != nil {
			return s, fmt.Errorf("DISTINCT argument: %w", err)
		}
	}
	// Validate the argument types by building an accumulator once.
	acc, err := s.newAcc()
	if err != nil {
		return s, err
	}
	if _, ok := acc.(multiArgAcc); len(s.argTypes) > 1 && !ok {
		return s, fmt.Errorf("%s has no accumulator of %d arguments", a.Func, len(s.argTypes))
	}
	field := func(part string, t arrow.DataType, nullable bool) arrow.Field {
		return arrow.Field{Name: name + "." + part, Type: t, Nullable: nullable}
	}
	i64, f64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	switch {
	case s.distinct:
		s.states = []arrow.Field{field("distinct", arrow.ListOf(s.argType), false)}
	case fn == fnCount:
		s.states = []arrow.Field{field("count", i64, false)}
	case fn == fnSum:
		s.states = []arrow.Field{field("sum", res, true)}
	case fn == fnAvg || fn == fnAvgMerge:
		s.states = []arrow.Field{field("sum", avgSumType(s.avgArg), true), field("count", i64, false)}
	case fn == fnVarSamp || fn == fnVarPop || fn == fnStddevSamp || fn == fnStddevPop:
		s.states = []arrow.Field{field("count", i64, false), field("mean", f64, false), field("m2", f64, false)}
	default:
		s.states = []arrow.Field{field("value", res, true)}
	}
	return s, nil
}

func avgSumType(arg arrow.DataType) arrow.DataType {
	switch {
	case logical.IsFloat(arg):
		return arrow.PrimitiveTypes.Float64
	case logical.IsDecimal(arg):
		_, s, _ := logical.DecimalParams(arg)
		return &arrow.Decimal128Type{Precision: logical.MaxDecimalPrecision, Scale: s}
	}
	return &arrow.Decimal128Type{Precision: logical.MaxDecimalPrecision, Scale: 0}
}

// newAcc builds an empty accumulator for the aggregate.
func (s *aggSpec) newAcc() (accumulator, error) {
	base, err := s.baseAcc()
	if err != nil || !s.distinct {
		return base, err
	}
	return newDistinctAcc(base, s.argType)
}

func (s *aggSpec) baseAcc() (accumulator, error) {
	arg := s.argType
	switch s.fn {
	case fnUDF:
		return newUDAFAcc(s.call.UDF)
	case fnCount:
		return &countAcc{}, nil
	case fnSum:
		switch {
		case logical.IsInteger(arg):
			return &sumIntAcc{}, nil
		case logical.IsFloat(arg):
			return &sumFloatAcc{}, nil
		case logical.IsDecimal(arg):
			return &sumWideAcc{typ: s.result.(*arrow.Decimal128Type)}, nil
		}
	case fnAvg, fnAvgMerge:
		arg = s.avgArg
		switch {
		case logical.IsFloat(arg):
			return &avgAcc{sumF: &sumFloatAcc{}, kind: avgFloat, result: s.result}, nil
		case logical.IsInteger(arg):
			return &avgAcc{sumW: &sumWideAcc{typ: avgSumType(arg).(*arrow.Decimal128Type)}, kind: avgInt, result: s.result}, nil
		case logical.IsDecimal(arg):
			_, as, _ := logical.DecimalParams(arg)
			_, rs, _ := logical.DecimalParams(s.result)
			return &avgAcc{sumW: &sumWideAcc{typ: avgSumType(arg).(*arrow.Decimal128Type)}, kind: avgDecimal,
				result: s.result, shift: rs - as}, nil
		}
	case fnMin, fnMax, fnAnyValue:
		op := map[aggFunc]pickOp{fnMin: pickMin, fnMax: pickMax, fnAnyValue: pickAny}[s.fn]
		return pickAcc(arg, op)
	case fnVarSamp, fnVarPop, fnStddevSamp, fnStddevPop:
		if logical.IsNumeric(arg) {
			return &varAcc{fn: s.fn}, nil
		}
	case fnBoolAnd:
		return &boolAcc{op: boolAnd}, nil
	case fnBoolOr:
		return &boolAcc{op: boolOr}, nil
	}
	return nil, fmt.Errorf("%s does not accept an argument of type %s", s.call.Func, arg)
}

// pickAcc builds min/max/any_value for a type.
func pickAcc(t arrow.DataType, op pickOp) (accumulator, error) {
	switch t.ID() {
	case arrow.BOOL:
		bop := map[pickOp]boolOp{pickMin: boolAnd, pickMax: boolOr, pickAny: boolAny}[op]
		return &boolAcc{op: bop}, nil
	case arrow.INT8:
		return &minMaxAcc[int8]{op: op, typ: t}, nil
	case arrow.INT16:
		return &minMaxAcc[int16]{op: op, typ: t}, nil
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return &minMaxAcc[int32]{op: op, typ: t}, nil
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION, arrow.DECIMAL64:
		return &minMaxAcc[int64]{op: op, typ: t}, nil
	case arrow.UINT8:
		return &minMaxAcc[uint8]{op: op, typ: t}, nil
	case arrow.UINT16:
		return &minMaxAcc[uint16]{op: op, typ: t}, nil
	case arrow.UINT32:
		return &minMaxAcc[uint32]{op: op, typ: t}, nil
	case arrow.UINT64:
		return &minMaxAcc[uint64]{op: op, typ: t}, nil
	case arrow.FLOAT32:
		return &minMaxAcc[float32]{op: op, typ: t}, nil
	case arrow.FLOAT64:
		return &minMaxAcc[float64]{op: op, typ: t}, nil
	case arrow.DECIMAL128:
		return &minMaxWideAcc{op: op, typ: t}, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		if op == pickAny {
			return &minMaxWideAcc{op: op, typ: t}, nil
		}
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return &minMaxBytesAcc{op: op, typ: t}, nil
	}
	return nil, fmt.Errorf("%s does not accept an argument of type %s", [...]string{"min", "max", "any_value"}[op], t)
}

// Schema is the output schema (the partial layout in Partial mode).
func (n *HashAggregate) Schema() *arrow.Schema {
	if n.mode == Partial {
		return n.partial
	}
	return n.final
}

// PartialSchema is the layout of the Partial node's output and the Final
// node's input.
func (n *HashAggregate) PartialSchema() *arrow.Schema { return n.partial }

// KeyColumns are the positions, in the partial layout, of the columns that
// identify a group: the group columns and, with grouping sets, the grouping
// id. Rows with equal values there must reach the same Final partition.
func (n *HashAggregate) KeyColumns() []int {
	out := make([]int, len(n.keyTypes))
	for i := range out {
		out[i] = i
	}
	return out
}

// Mode is the node's mode.
func (n *HashAggregate) Mode() Mode { return n.mode }

// Children is the input.
func (n *HashAggregate) Children() []exec.Node { return []exec.Node{n.input} }

// WithNewChildren implements exec.ChildReplacer: the same aggregation, in
// the same mode, over another input of the same schema. A Final node
// holds no reference to its Partial node, only the layout it produces, so
// its new input (typically the Partial node rebuilt over its own new
// input, possibly behind an exchange) must still produce that layout;
// NewHashAggregate checks it, as it checks that a Partial or Single node's
// expressions still bind to the new input.
func (n *HashAggregate) WithNewChildren(children []exec.Node) (exec.Node, error) {
	if len(children) != 1 || children[0] == nil {
		return nil, fmt.Errorf("aggregate: WithNewChildren needs exactly one input, got %d", len(children))
	}
	return NewHashAggregate(children[0], n.mode, n.groupBy, n.groupNames, n.sets, n.aggs, n.aggNames)
}

// Partitions equals the input's partition count.
func (n *HashAggregate) Partitions() int { return n.input.Partitions() }

// String is the EXPLAIN line.
func (n *HashAggregate) String() string {
	gs := make([]string, len(n.groupBy))
	for i, g := range n.groupBy {
		gs[i] = g.String()
	}
	as := make([]string, len(n.aggs))
	for i, a := range n.aggs {
		as[i] = a.String() + " AS " + n.aggNames[i]
	}
	s := fmt.Sprintf("HashAggregate: mode=%s, groupBy=[%s], aggr=[%s]", n.mode, strings.Join(gs, ", "), strings.Join(as, ", "))
	if len(n.sets) > 0 {
		s += fmt.Sprintf(", sets=%v", n.sets)
	}
	return s
}

// compiled holds the expressions of a raw-input aggregation as one
// expr.Program (sub-expressions the group keys, arguments and filters
// share are evaluated once per batch) and where each one's result is.
type compiled struct {
	prog    *expr.Program
	groups  []int   // result index of each group key
	args    [][]int // result indexes of each aggregate's arguments (none for count(*))
	filters []int   // result index of each aggregate's filter, -1 without FILTER
}

// checkExprs compiles every expression on its own, so that an error names
// the group key or aggregate it belongs to, and checks the result types.
func checkExprs(n *HashAggregate, in *arrow.Schema) error {
	for i, g := range n.groupBy {
		e, err := expr.Compile(g, in, memory.DefaultAllocator)
		if err != nil {
			return fmt.Errorf("aggregate: group key %s: %w", n.groupNames[i], err)
		}
		if !arrow.TypeEqual(e.Type(), n.groupTypes[i]) {
			return fmt.Errorf("aggregate: group key %s evaluates to %s, declared %s", n.groupNames[i], e.Type(), n.groupTypes[i])
		}
	}
	for i, s := range n.specs {
		for k, x := range s.call.Args {
			arg, err := expr.Compile(x, in, memory.DefaultAllocator)
			if err != nil {
				return fmt.Errorf("aggregate %s: argument %d: %w", n.aggNames[i], k+1, err)
			}
			if !arrow.TypeEqual(arg.Type(), s.argTypes[k]) {
				return fmt.Errorf("aggregate %s: argument %d evaluates to %s, declared %s", n.aggNames[i], k+1, arg.Type(), s.argTypes[k])
			}
		}
		if s.call.Filter != nil {
			if _, err := expr.Compile(s.call.Filter, in, memory.DefaultAllocator); err != nil {
				return fmt.Errorf("aggregate %s: filter: %w", n.aggNames[i], err)
			}
		}
	}
	return nil
}

// compileAll compiles the expressions of a raw-input aggregation together
// (they were checked one by one by checkExprs).
func compileAll(n *HashAggregate, in *arrow.Schema, alloc memory.Allocator) (*compiled, error) {
	c := &compiled{}
	var exprs []logical.Expr
	add := func(e logical.Expr) int {
		exprs = append(exprs, e)
		return len(exprs) - 1
	}
	for _, g := range n.groupBy {
		c.groups = append(c.groups, add(g))
	}
	for _, s := range n.specs {
		var args []int
		for _, x := range s.call.Args {
			args = append(args, add(x))
		}
		filter := -1
		if s.call.Filter != nil {
			filter = add(s.call.Filter)
		}
		c.args = append(c.args, args)
		c.filters = append(c.filters, filter)
	}
	prog, err := expr.CompileProgram(exprs, in, alloc)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	c.prog = prog
	return c, nil
}

// Execute starts partition p.
func (n *HashAggregate) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	if tc == nil {
		tc = exec.NewTaskContext()
	}
	var comp *compiled
	if n.mode != Final {
		var err error
		if comp, err = compileAll(n, n.input.Schema(), allocOf(tc)); err != nil {
			return nil, err
		}
	}
	in, err := n.input.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	return newStream(n, in, comp, tc), nil
}

func allocOf(tc *exec.TaskContext) memory.Allocator {
	if tc.Alloc == nil {
		return memory.DefaultAllocator
	}
	return tc.Alloc
}
