package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Coalesce merges the partitions of its input into one, running the input
// partitions concurrently (one goroutine each) and yielding their batches
// in arrival order. An input with one partition is passed through.
type Coalesce struct {
	input Node
}

var _ Node = (*Coalesce)(nil)

// NewCoalesce builds a coalesce of input's partitions into one.
func NewCoalesce(input Node) Node { return &Coalesce{input: input} }

// Schema implements Node.
func (c *Coalesce) Schema() *arrow.Schema { return c.input.Schema() }

// Children implements Node.
func (c *Coalesce) Children() []Node { return []Node{c.input} }

// Partitions implements Node.
func (c *Coalesce) Partitions() int { return 1 }

// String implements Node.
func (c *Coalesce) String() string { return "Coalesce" }

// WithNewChildren implements ChildReplacer.
func (c *Coalesce) WithNewChildren(ch []Node) (Node, error) {
	if err := expectChildren(c, ch, 1); err != nil {
		return nil, err
	}
	return NewCoalesce(ch[0]), nil
}

// Execute implements Node. The producers run under ctx until the stream
// is closed.
func (c *Coalesce) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(c, p); err != nil {
		return nil, err
	}
	if c.input.Partitions() == 1 {
		return c.input.Execute(ctx, 0, tc)
	}
	x := newExchange(c, c.input, 1, tc, func(int) router { return passRouter{} })
	x.outs[0].executed = true
	x.open = 1
	x.start(ctx)
	return &exchangeStream{x: x, j: 0, schema: c.input.Schema()}, nil
}

// passRouter sends every batch to output 0.
type passRouter struct{}

func (passRouter) route(_ context.Context, b arrow.RecordBatch, emit func(int, arrow.RecordBatch) error) error {
	b.Retain()
	return emit(0, b)
}
