package exec

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
)

// Repartition redistributes the rows of its input's partitions into n
// output partitions: by the shuffle hash of key expressions (the same
// function the inter-process shuffle uses, so both agree on where a key
// lives) or, without keys, whole batches round-robin.
//
// The first Execute of a query (per TaskContext) starts one goroutine per
// input partition, shared by the n output streams; they run under that
// first call's context until every output stream is closed.
type Repartition struct {
	input Node
	keys  []logical.Expr
	n     int

	mu     sync.Mutex
	states map[*TaskContext]*exchange
}

var _ Node = (*Repartition)(nil)

// NewRepartition builds a repartition of input into n partitions, hashing
// keys, or round-robin when keys is empty.
func NewRepartition(input Node, keys []logical.Expr, n int) (Node, error) {
	if n <= 0 {
		return nil, fmt.Errorf("repartition: partition count %d must be positive", n)
	}
	for _, k := range keys {
		ev, err := expr.Compile(k, input.Schema(), memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("repartition: key %s: %w", k, err)
		}
		if err := shuffle.CheckKeyType(ev.Type()); err != nil {
			return nil, fmt.Errorf("repartition: key %s: %w", k, err)
		}
	}
	return &Repartition{input: input, keys: keys, n: n, states: map[*TaskContext]*exchange{}}, nil
}

// Schema implements Node.
func (r *Repartition) Schema() *arrow.Schema { return r.input.Schema() }

// Children implements Node.
func (r *Repartition) Children() []Node { return []Node{r.input} }

// Partitions implements Node.
func (r *Repartition) Partitions() int { return r.n }

// String implements Node.
func (r *Repartition) String() string {
	if len(r.keys) == 0 {
		return fmt.Sprintf("Repartition: round_robin(%d)", r.n)
	}
	ks := make([]string, len(r.keys))
	for i, k := range r.keys {
		ks[i] = k.String()
	}
	return fmt.Sprintf("Repartition: hash([%s], %d)", strings.Join(ks, ", "), r.n)
}

// WithNewChildren implements ChildReplacer.
func (r *Repartition) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(r, c, 1); err != nil {
		return nil, err
	}
	return NewRepartition(c[0], r.keys, r.n)
}

// Execute implements Node.
func (r *Repartition) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(r, p); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.states[tc]
	if x == nil {
		routers, err := r.newRouterFactory(tc)
		if err != nil {
			return nil, err
		}
		x = newExchange(r, r.input, r.n, tc, routers)
		x.onFinish = func() {
			r.mu.Lock()
			if r.states[tc] == x {
				delete(r.states, tc)
			}
			r.mu.Unlock()
		}
		r.states[tc] = x
		x.start(ctx)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.outs[p].executed {
		return nil, fmt.Errorf("%s: partition %d executed twice in one task", r, p)
	}
	x.outs[p].executed = true
	x.open++
	return &exchangeStream{x: x, j: p, schema: r.input.Schema()}, nil
}

func (r *Repartition) newRouterFactory(tc *TaskContext) (func(p int) router, error) {
	if len(r.keys) == 0 {
		return func(p int) router { return &roundRobinRouter{next: p % r.n, n: r.n} }, nil
	}
	// Compile per producer: evaluators need not be safe for concurrent use.
	alloc := allocator(tc)
	if _, err := r.compileKeys(alloc); err != nil {
		return nil, err
	}
	return func(int) router {
		evs, _ := r.compileKeys(alloc)
		return &hashRouter{evs: evs, n: r.n, alloc: alloc, schema: r.input.Schema(), counts: make([]int, r.n+1)}
	}, nil
}

func (r *Repartition) compileKeys(alloc memory.Allocator) ([]expr.Evaluator, error) {
	evs := make([]expr.Evaluator, len(r.keys))
	for i, k := range r.keys {
		ev, err := expr.Compile(k, r.input.Schema(), alloc)
		if err != nil {
			return nil, fmt.Errorf("repartition: key %s: %w", k, err)
		}
		evs[i] = ev
	}
	return evs, nil
}

// roundRobinRouter deals whole batches to the outputs in turn.
type roundRobinRouter struct{ next, n int }

func (rr *roundRobinRouter) route(_ context.Context, b arrow.RecordBatch, emit func(int, arrow.RecordBatch) error) error {
	j := rr.next
	rr.next = (rr.next + 1) % rr.n
	b.Retain()
	return emit(j, b)
}

// hashRouter splits each batch by the shuffle hash of its keys.
type hashRouter struct {
	evs    []expr.Evaluator
	n      int
	alloc  memory.Allocator
	schema *arrow.Schema
	cols   []arrow.Array
	ids    []int32
	counts []int
	order  []int32
}

func (h *hashRouter) route(ctx context.Context, b arrow.RecordBatch, emit func(int, arrow.RecordBatch) error) error {
	rows := int(b.NumRows())
	h.cols = h.cols[:0]
	defer func() {
		releaseAll(h.cols)
		clear(h.cols)
		h.cols = h.cols[:0]
	}()
	for _, ev := range h.evs {
		a, err := ev.Eval(ctx, b)
		if err != nil {
			return err
		}
		h.cols = append(h.cols, a)
	}
	if cap(h.ids) < rows {
		h.ids = make([]int32, rows)
		h.order = make([]int32, rows)
	}
	ids, order := h.ids[:rows], h.order[:rows]
	if err := shuffle.PartitionIDs(h.cols, h.n, ids); err != nil {
		return err
	}
	counts := h.counts
	shuffle.SortByPartition(ids, order, counts)
	// counts[j] is now the end of partition j; its start is counts[j-1].
	start := 0
	for j := 0; j < h.n; j++ {
		end := counts[j]
		switch {
		case end == start:
			continue
		case end-start == rows:
			b.Retain()
			if err := emit(j, b); err != nil {
				return err
			}
		default:
			out, err := takeBatch(h.alloc, h.schema, b, order[start:end])
			if err != nil {
				return err
			}
			if err := emit(j, out); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}
