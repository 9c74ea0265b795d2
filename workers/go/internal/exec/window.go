package exec

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
)

// Window computes window functions: its output is the input columns
// followed by one column per function, row for row in input order.
//
// Each output partition holds whole window partitions: NewWindow puts a
// hash repartition on the PARTITION BY keys that all functions share (or a
// coalesce when there are none) under the node when the input has several
// partitions. A partition's rows are buffered (reserved in the task's
// memory pool); for every distinct PARTITION BY + ORDER BY the rows are
// sorted once by normalised keys, partition and peer boundaries are found
// by comparing adjacent keys, and each function is computed over the
// sorted positions in O(n) (prefix sums, monotonic deques, frame pointers)
// or O(n log n) (float sums over sliding frames use a segment tree).
type Window struct {
	input  Node
	funcs  []*logical.WindowCall
	names  []string
	schema *arrow.Schema
	specs  []*windowSpec
	fns    []*windowFn
}

var _ Node = (*Window)(nil)

// windowSpec is one distinct PARTITION BY + ORDER BY; its functions share
// one sort.
type windowSpec struct {
	nPart  int
	keys   []logical.SortKey // PARTITION BY (ASC NULLS LAST), then ORDER BY
	frames []frameSpec
	fns    []int
	// rangeKey is set when a frame has RANGE offsets: the ORDER BY key's
	// values are then evaluated as a column.
	rangeKey bool
}

// fnKind is a window function.
type fnKind uint8

const (
	fnRowNumber fnKind = iota
	fnRank
	fnDenseRank
	fnPercentRank
	fnCumeDist
	fnNtile
	fnLag
	fnLead
	fnFirstValue
	fnLastValue
	fnNthValue
	fnCountStar
	fnCount
	fnSum
	fnAvg
	fnMin
	fnMax
	fnBoolAnd
	fnBoolOr
)

// numClass is how sum and avg treat their argument.
type numClass uint8

const (
	numInt numClass = iota
	numFloat
	numDecimal
)

// windowFn is one planned function.
type windowFn struct {
	kind  fnKind
	call  *logical.WindowCall
	spec  int
	frame int // index into the spec's frames; -1 when the frame is ignored
	argT  arrow.DataType
	class numClass
	scale int32 // decimal argument scale
}

// NewWindow builds the window operator computing funcs over input; names
// name the output columns that follow the input's.
func NewWindow(input Node, funcs []*logical.WindowCall, names []string) (Node, error) {
	w, err := newWindow(input, funcs, names)
	if err != nil {
		return nil, err
	}
	if input.Partitions() > 1 {
		if w.input, err = windowExchange(input, w.specs); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// windowExchange groups whole window partitions into each output
// partition: a hash repartition on the PARTITION BY expressions every spec
// shares, else a coalesce.
func windowExchange(input Node, specs []*windowSpec) (Node, error) {
	var common []logical.Expr
	for _, k := range specs[0].keys[:specs[0].nPart] {
		in := true
		for _, s := range specs[1:] {
			found := false
			for _, o := range s.keys[:s.nPart] {
				if o.Expr.String() == k.Expr.String() {
					found = true
					break
				}
			}
			in = in && found
		}
		if in {
			common = append(common, k.Expr)
		}
	}
	for _, k := range common {
		ev, err := expr.Compile(k, input.Schema(), memory.DefaultAllocator)
		if err != nil || shuffle.CheckKeyType(ev.Type()) != nil {
			common = nil
			break
		}
	}
	if len(common) == 0 {
		return NewCoalesce(input), nil
	}
	return NewRepartition(input, common, input.Partitions())
}

// newWindow validates and plans the functions over input, without an
// exchange.
func newWindow(input Node, funcs []*logical.WindowCall, names []string) (*Window, error) {
	if len(funcs) != len(names) {
		return nil, fmt.Errorf("window: %d functions but %d names", len(funcs), len(names))
	}
	if len(funcs) == 0 {
		return nil, fmt.Errorf("window: no window functions")
	}
	schema := input.Schema()
	w := &Window{input: input, funcs: funcs, names: names}
	fields := append([]arrow.Field(nil), schema.Fields()...)
	for i, c := range funcs {
		if c == nil {
			return nil, fmt.Errorf("window: function %d (%s) is nil", i, names[i])
		}
		if c.T == nil {
			return nil, fmt.Errorf("window: %s has no result type", c)
		}
		fn, err := w.planFunc(c, schema)
		if err != nil {
			return nil, fmt.Errorf("window: %s: %w", c, err)
		}
		w.fns = append(w.fns, fn)
		w.specs[fn.spec].fns = append(w.specs[fn.spec].fns, i)
		nullable := c.Nullable() || (fn.kind == fnNtile && c.Args[0].Nullable())
		fields = append(fields, arrow.Field{Name: names[i], Type: c.T, Nullable: nullable})
	}
	w.schema = arrow.NewSchema(fields, nil)
	return w, nil
}

// specFor returns the index of the spec of c, adding it.
func (w *Window) specFor(c *logical.WindowCall, schema *arrow.Schema) (int, error) {
	keys := make([]logical.SortKey, 0, len(c.PartitionBy)+len(c.OrderBy))
	for _, p := range c.PartitionBy {
		keys = append(keys, logical.SortKey{Expr: p})
	}
	keys = append(keys, c.OrderBy...)
	for i, s := range w.specs {
		if s.nPart != len(c.PartitionBy) || len(s.keys) != len(keys) {
			continue
		}
		same := true
		for j := range keys {
			if keys[j].String() != s.keys[j].String() {
				same = false
				break
			}
		}
		if same {
			return i, nil
		}
	}
	if len(keys) > 0 {
		if _, err := compileSortKeys(keys, schema, memory.DefaultAllocator); err != nil {
			return 0, err
		}
	}
	w.specs = append(w.specs, &windowSpec{nPart: len(c.PartitionBy), keys: keys})
	return len(w.specs) - 1, nil
}

// planFunc checks one function's arguments and result type.
func (w *Window) planFunc(c *logical.WindowCall, schema *arrow.Schema) (*windowFn, error) {
	spec, err := w.specFor(c, schema)
	if err != nil {
		return nil, err
	}
	fn := &windowFn{call: c, spec: spec, frame: -1}
	argTypes := make([]arrow.DataType, len(c.Args))
	for i, a := range c.Args {
		if a == nil {
			return nil, fmt.Errorf("argument %d is nil", i+1)
		}
		ev, err := expr.Compile(a, schema, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		argTypes[i] = ev.Type()
	}
	if len(argTypes) > 0 {
		fn.argT = argTypes[0]
	}
	nargs := func(lo, hi int) error {
		if len(argTypes) < lo || len(argTypes) > hi {
			if lo == hi {
				return fmt.Errorf("takes %d arguments, got %d", lo, len(argTypes))
			}
			return fmt.Errorf("takes %d to %d arguments, got %d", lo, hi, len(argTypes))
		}
		return nil
	}
	want := func(t arrow.DataType) error {
		if !arrow.TypeEqual(c.T, t) {
			return fmt.Errorf("result type %s is not supported (expected %s)", c.T, t)
		}
		return nil
	}
	intArg := func(i int) error {
		if !logical.IsInteger(argTypes[i]) {
			return fmt.Errorf("argument %d must be an integer, got %s", i+1, argTypes[i])
		}
		return nil
	}
	framed := false
	switch c.Func {
	case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		fn.kind = map[string]fnKind{"row_number": fnRowNumber, "rank": fnRank, "dense_rank": fnDenseRank,
			"percent_rank": fnPercentRank, "cume_dist": fnCumeDist}[c.Func]
		t := logical.Int64
		if fn.kind == fnPercentRank || fn.kind == fnCumeDist {
			t = logical.Float64
		}
		if err := want(t); err != nil {
			return nil, err
		}
	case "ntile":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if err := intArg(0); err != nil {
			return nil, err
		}
		fn.kind = fnNtile
		if err := want(logical.Int64); err != nil {
			return nil, err
		}
	case "lag", "lead":
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		fn.kind = fnLag
		if c.Func == "lead" {
			fn.kind = fnLead
		}
		if len(argTypes) >= 2 {
			if err := intArg(1); err != nil {
				return nil, err
			}
		}
		if len(argTypes) == 3 && !arrow.TypeEqual(argTypes[2], argTypes[0]) {
			return nil, fmt.Errorf("default value of type %s does not match the value type %s", argTypes[2], argTypes[0])
		}
		if err := want(argTypes[0]); err != nil {
			return nil, err
		}
	case "first_value", "last_value", "nth_value":
		fn.kind = map[string]fnKind{"first_value": fnFirstValue, "last_value": fnLastValue, "nth_value": fnNthValue}[c.Func]
		if fn.kind == fnNthValue {
			if err := nargs(2, 2); err != nil {
				return nil, err
			}
			if err := intArg(1); err != nil {
				return nil, err
			}
		} else if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if err := want(argTypes[0]); err != nil {
			return nil, err
		}
		framed = true
	case "count":
		if err := nargs(0, 1); err != nil {
			return nil, err
		}
		fn.kind = fnCountStar
		if len(argTypes) == 1 {
			fn.kind = fnCount
		}
		if err := want(logical.Int64); err != nil {
			return nil, err
		}
		framed = true
	case "sum", "avg":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		fn.kind = fnSum
		if c.Func == "avg" {
			fn.kind = fnAvg
		}
		if err := planSumAvg(fn, c); err != nil {
			return nil, err
		}
		framed = true
	case "min", "max":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		fn.kind = fnMin
		if c.Func == "max" {
			fn.kind = fnMax
		}
		if !orderableForMinMax(argTypes[0]) {
			return nil, fmt.Errorf("not supported: %s of %s", c.Func, argTypes[0])
		}
		if err := want(argTypes[0]); err != nil {
			return nil, err
		}
		framed = true
	case "bool_and", "bool_or":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if argTypes[0].ID() != arrow.BOOL {
			return nil, fmt.Errorf("argument must be boolean, got %s", argTypes[0])
		}
		fn.kind = fnBoolAnd
		if c.Func == "bool_or" {
			fn.kind = fnBoolOr
		}
		if err := want(logical.Bool); err != nil {
			return nil, err
		}
		framed = true
	default:
		return nil, fmt.Errorf("not supported: window function %s", c.Func)
	}
	if framed {
		fr, err := planFrame(c, schema)
		if err != nil {
			return nil, err
		}
		s := w.specs[spec]
		fn.frame = -1
		for i, f := range s.frames {
			if f == fr {
				fn.frame = i
			}
		}
		if fn.frame < 0 {
			s.frames = append(s.frames, fr)
			fn.frame = len(s.frames) - 1
		}
		if fr.mode != rangeNone {
			s.rangeKey = true
		}
	}
	return fn, nil
}

// planSumAvg checks the argument and result types of sum and avg.
func planSumAvg(fn *windowFn, c *logical.WindowCall) error {
	t := fn.argT
	switch {
	case logical.IsInteger(t):
		fn.class = numInt
		want := logical.Int64
		if fn.kind == fnAvg {
			want = logical.Float64
		}
		if !arrow.TypeEqual(c.T, want) {
			return fmt.Errorf("result type %s is not supported (expected %s)", c.T, want)
		}
	case logical.IsFloat(t):
		fn.class = numFloat
		if !arrow.TypeEqual(c.T, logical.Float64) {
			return fmt.Errorf("result type %s is not supported (expected %s)", c.T, logical.Float64)
		}
	case logical.IsDecimal(t):
		fn.class = numDecimal
		_, s, _ := logical.DecimalParams(t)
		fn.scale = s
		_, rs, ok := logical.DecimalParams(c.T)
		if !ok || rs < s {
			return fmt.Errorf("result type %s is not supported for a %s argument (expected a decimal with scale >= %d)", c.T, t, s)
		}
	default:
		return fmt.Errorf("%s does not accept an argument of type %s", c.Func, t)
	}
	return nil
}

func orderableForMinMax(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DATE32, arrow.DATE64,
		arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.BOOL, arrow.STRING, arrow.BINARY,
		arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return true
	}
	return false
}

// Schema implements Node.
func (w *Window) Schema() *arrow.Schema { return w.schema }

// Children implements Node.
func (w *Window) Children() []Node { return []Node{w.input} }

// Partitions implements Node.
func (w *Window) Partitions() int { return w.input.Partitions() }

// String implements Node.
func (w *Window) String() string {
	parts := make([]string, len(w.funcs))
	for i, f := range w.funcs {
		parts[i] = f.String() + " AS " + w.names[i]
	}
	return "Window: " + strings.Join(parts, ", ")
}

// WithNewChildren implements ChildReplacer. The new child must keep the
// partitioning of the old one (each partition holding whole window
// partitions).
func (w *Window) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(w, c, 1); err != nil {
		return nil, err
	}
	if c[0].Partitions() != w.input.Partitions() {
		return nil, fmt.Errorf("%s: new child has %d partitions, expected %d", w, c[0].Partitions(), w.input.Partitions())
	}
	return newWindow(c[0], w.funcs, w.names)
}

// Execute implements Node.
func (w *Window) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(w, p); err != nil {
		return nil, err
	}
	alloc := allocator(tc)
	schema := w.input.Schema()
	s := &windowStream{
		node:  w,
		tc:    tc,
		alloc: alloc,
		om:    metricsFor(tc, w),
		res:   tc.Mem.NewReservation(fmt.Sprintf("Window[partition %d]", p)),
		keys:  make([]*sortKeys, len(w.specs)),
		rkeys: make([]expr.Evaluator, len(w.specs)),
		args:  make([][]expr.Evaluator, len(w.fns)),
	}
	for g, sp := range w.specs {
		if len(sp.keys) > 0 {
			k, err := compileSortKeys(sp.keys, schema, alloc)
			if err != nil {
				return nil, err
			}
			s.keys[g] = k
		}
		if sp.rangeKey {
			ev, err := expr.Compile(sp.keys[sp.nPart].Expr, schema, alloc)
			if err != nil {
				return nil, err
			}
			s.rkeys[g] = ev
		}
	}
	for f, fn := range w.fns {
		for _, a := range fn.call.Args {
			ev, err := expr.Compile(a, schema, alloc)
			if err != nil {
				return nil, err
			}
			s.args[f] = append(s.args[f], ev)
		}
	}
	in, err := w.input.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	s.in = in
	return s, nil
}

// windowStream runs one partition: it buffers the input, computes every
// function into a full-length column, then emits the input rows with the
// function columns in batches.
type windowStream struct {
	node  *Window
	tc    *TaskContext
	alloc memory.Allocator
	om    *OperatorMetrics
	in    Stream
	res   *Reservation

	keys  []*sortKeys        // per spec; nil without keys
	rkeys []expr.Evaluator   // per spec; the RANGE order key or nil
	args  [][]expr.Evaluator // per function

	batches []arrow.RecordBatch
	starts  []int32         // global row number of each batch's first row
	total   int             // rows buffered
	blocks  [][]*keyBlock   // per spec, per batch
	rparts  [][]arrow.Array // per spec, per batch: RANGE key values
	aparts  [][][]arrow.Array
	// Bytes reserved for the keys and argument values of each spec and
	// function, given back as they are released.
	blockBytes, rpartBytes, apartBytes []int64
	results                            []arrow.Array // per function, in input order

	started, done bool
	pos, bi       int // next row to emit, the batch holding it
	out           arrow.RecordBatch
}

func (s *windowStream) Schema() *arrow.Schema { return s.node.schema }

func (s *windowStream) grow(n int64) error {
	if err := s.res.Grow(n); err != nil {
		return fmt.Errorf("window: %w", err)
	}
	if s.om != nil {
		s.om.RecordPeak(s.res.Size())
	}
	return nil
}

func (s *windowStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, canceled(ctx)
	}
	if !s.started {
		s.started = true
		if err := s.compute(ctx); err != nil {
			s.done = true
			s.free()
			return nil, err
		}
	}
	if s.pos >= s.total {
		s.done = true
		s.free()
		return nil, io.EOF
	}
	b, err := s.emit()
	if err != nil {
		s.done = true
		s.free()
		return nil, err
	}
	s.out = b
	return b, nil
}

// compute buffers the input and computes every function.
func (s *windowStream) compute(ctx context.Context) error {
	if err := s.consume(ctx); err != nil {
		return err
	}
	if s.total == 0 {
		return nil
	}
	s.starts = append(s.starts, int32(s.total))
	s.results = make([]arrow.Array, len(s.node.fns))
	for g := range s.node.specs {
		if err := ctx.Err(); err != nil {
			return canceled(ctx)
		}
		if err := s.computeSpec(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// arrayBytes is the memory a computed array adds beyond the batch it was
// computed from (a plain column reference shares the batch's buffers).
func arrayBytes(a arrow.Array, b arrow.RecordBatch) int64 {
	for _, c := range b.Columns() {
		if c.Data() == a.Data() {
			return 0
		}
	}
	return totalArrayBytes(a)
}

func totalArrayBytes(a arrow.Array) int64 {
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
	}
	walk(a.Data())
	return n
}

// consume buffers the whole input partition with its sort keys and the
// functions' argument values.
func (s *windowStream) consume(ctx context.Context) error {
	w := s.node
	s.blocks = make([][]*keyBlock, len(w.specs))
	s.rparts = make([][]arrow.Array, len(w.specs))
	s.aparts = make([][][]arrow.Array, len(w.fns))
	s.blockBytes, s.rpartBytes = make([]int64, len(w.specs)), make([]int64, len(w.specs))
	s.apartBytes = make([]int64, len(w.fns))
	for f, evs := range s.args {
		s.aparts[f] = make([][]arrow.Array, len(evs))
	}
	for {
		b, err := s.in.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n := b.NumRows()
		if n == 0 {
			continue
		}
		if int64(s.total)+n > math.MaxInt32 {
			return fmt.Errorf("window: a partition of more than %d rows is not supported", math.MaxInt32)
		}
		if err := s.grow(batchBytes(b) + 4); err != nil {
			return err
		}
		b.Retain()
		s.batches = append(s.batches, b)
		s.starts = append(s.starts, int32(s.total))
		s.total += int(n)
		for g, k := range s.keys {
			if k == nil {
				continue
			}
			blk := &keyBlock{}
			if err := k.encodeBatch(ctx, s.alloc, b, blk); err != nil {
				return err
			}
			if err := s.grow(blk.bytes()); err != nil {
				return err
			}
			s.blockBytes[g] += blk.bytes()
			s.blocks[g] = append(s.blocks[g], blk)
		}
		for g, ev := range s.rkeys {
			if ev == nil {
				continue
			}
			a, err := s.evalArg(ctx, ev, b, &s.rpartBytes[g])
			if err != nil {
				return err
			}
			s.rparts[g] = append(s.rparts[g], a)
		}
		for f, evs := range s.args {
			for i, ev := range evs {
				a, err := s.evalArg(ctx, ev, b, &s.apartBytes[f])
				if err != nil {
					return err
				}
				s.aparts[f][i] = append(s.aparts[f][i], a)
			}
		}
	}
}

// evalArg evaluates ev over b, reserving (and adding to *held) the memory
// the result adds.
func (s *windowStream) evalArg(ctx context.Context, ev expr.Evaluator, b arrow.RecordBatch, held *int64) (arrow.Array, error) {
	a, err := ev.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	if int64(a.Len()) != b.NumRows() {
		a.Release()
		return nil, fmt.Errorf("window: argument has %d rows for a batch of %d", a.Len(), b.NumRows())
	}
	size := arrayBytes(a, b)
	if err := s.grow(size); err != nil {
		a.Release()
		return nil, err
	}
	*held += size
	return a, nil
}

// concat joins per-batch arrays into one column of every buffered row;
// the bytes it reserves are added to *held.
func (s *windowStream) concat(parts []arrow.Array, held *int64) (arrow.Array, error) {
	if len(parts) == 1 {
		parts[0].Retain()
		return parts[0], nil
	}
	a, err := array.Concatenate(parts, s.alloc)
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	size := totalArrayBytes(a)
	if err := s.grow(size); err != nil {
		a.Release()
		return nil, err
	}
	*held += size
	return a, nil
}

// emit returns the next output batch: a zero-copy slice of one input
// batch when enough of it remains, else rows of several input batches
// concatenated up to the batch size.
func (s *windowStream) emit() (arrow.RecordBatch, error) {
	size := batchSize(s.tc)
	for int(s.starts[s.bi+1]) <= s.pos {
		s.bi++
	}
	bEnd := int(s.starts[s.bi+1])
	end := min(s.pos+size, s.total)
	if bEnd-s.pos >= size/2 || bEnd == s.total {
		end = min(end, bEnd)
	}
	cols := make([]arrow.Array, 0, s.node.schema.NumFields())
	defer func() { releaseAll(cols) }()
	nIn := s.node.input.Schema().NumFields()
	if end <= bEnd {
		b := s.batches[s.bi]
		lo := int64(s.pos - int(s.starts[s.bi]))
		for c := range nIn {
			cols = append(cols, array.NewSlice(b.Column(c), lo, lo+int64(end-s.pos)))
		}
	} else {
		for c := range nIn {
			var parts []arrow.Array
			for bi := s.bi; bi < len(s.batches) && int(s.starts[bi]) < end; bi++ {
				lo := max(s.pos, int(s.starts[bi])) - int(s.starts[bi])
				hi := min(end, int(s.starts[bi+1])) - int(s.starts[bi])
				parts = append(parts, array.NewSlice(s.batches[bi].Column(c), int64(lo), int64(hi)))
			}
			a, err := array.Concatenate(parts, s.alloc)
			releaseAll(parts)
			if err != nil {
				return nil, fmt.Errorf("window: %w", err)
			}
			cols = append(cols, a)
		}
	}
	for _, r := range s.results {
		cols = append(cols, array.NewSlice(r, int64(s.pos), int64(end)))
	}
	out := array.NewRecordBatch(s.node.schema, cols, int64(end-s.pos))
	s.pos = end
	return out, nil
}

// free releases the buffered input and computed columns.
func (s *windowStream) free() {
	releaseAll(s.batches)
	s.batches = nil
	s.freeInputs()
	releaseAll(s.results)
	s.results = nil
	s.res.Free()
}

// freeInputs releases the sort keys and argument values.
func (s *windowStream) freeInputs() {
	s.blocks = nil
	for _, p := range s.rparts {
		releaseAll(p)
	}
	s.rparts = nil
	for _, f := range s.aparts {
		for _, p := range f {
			releaseAll(p)
		}
	}
	s.aparts = nil
}

func (s *windowStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	s.done = true
	s.free()
	if s.in != nil {
		err := s.in.Close()
		s.in = nil
		return err
	}
	return nil
}
