package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"
)

// exchange moves the batches of every partition of an input into nOut
// output queues, with one producer goroutine per input partition (the
// design of DataFusion's RepartitionExec). Coalesce is an exchange with one
// output.
//
// Backpressure: a producer waits while the queue it wants to append to
// holds queueCap batches, unless some consumer is blocked on an empty
// queue. That exception keeps consumers that drain their partitions one
// after another (or at different speeds) from deadlocking against a full
// queue nobody reads; the batches queued beyond queueCap are reserved in
// the memory pool, so a pathological skew fails with ErrMemoryLimit
// instead of exhausting memory.
type exchange struct {
	name     string
	node     Node // for metrics
	input    Node
	tc       *TaskContext
	queueCap int
	router   func(p int) router

	mu       sync.Mutex
	outs     []outQueue
	waiters  int           // consumers blocked on an empty queue
	space    chan struct{} // closed (and replaced) to wake blocked producers
	err      error         // first error; every output returns it
	running  int           // producers not yet finished
	open     int           // outputs executed and not closed
	closed   int           // outputs closed
	stopped  bool
	res      *Reservation
	cancel   context.CancelFunc
	g        errgroup.Group
	onFinish func() // called once when the exchange is torn down
	finished bool
}

// router sends one input batch to outputs. The batch passed to route is
// borrowed; emit takes ownership of the batches it is given.
type router interface {
	route(ctx context.Context, b arrow.RecordBatch, emit func(out int, b arrow.RecordBatch) error) error
}

type outQueue struct {
	batches  []arrow.RecordBatch
	sizes    []int64 // bytes reserved for each queued batch (0 within queueCap)
	head     int
	notify   chan struct{}
	executed bool
	closed   bool
}

func (q *outQueue) len() int { return len(q.batches) - q.head }

func (q *outQueue) push(b arrow.RecordBatch, size int64) {
	if q.head > 0 && q.head == len(q.batches) {
		q.batches, q.sizes, q.head = q.batches[:0], q.sizes[:0], 0
	}
	q.batches = append(q.batches, b)
	q.sizes = append(q.sizes, size)
}

func (q *outQueue) pop() (arrow.RecordBatch, int64) {
	b, s := q.batches[q.head], q.sizes[q.head]
	q.batches[q.head] = nil
	q.head++
	return b, s
}

// errExchangeStopped ends producers after the consumers went away or
// another producer failed; it never reaches a consumer.
var errExchangeStopped = errors.New("exchange stopped")

const defaultQueueCap = 2

func newExchange(node Node, input Node, nOut int, tc *TaskContext, r func(p int) router) *exchange {
	name := node.String()
	x := &exchange{
		name:     name,
		node:     node,
		input:    input,
		tc:       tc,
		queueCap: defaultQueueCap,
		router:   r,
		outs:     make([]outQueue, nOut),
		space:    make(chan struct{}),
		res:      tc.Mem.NewReservation(name),
	}
	for i := range x.outs {
		x.outs[i].notify = make(chan struct{}, 1)
	}
	return x
}

// start launches the producers under ctx.
func (x *exchange) start(ctx context.Context) {
	pctx, cancel := context.WithCancel(ctx)
	x.cancel = cancel
	n := x.input.Partitions()
	x.running = n
	if n == 0 {
		return
	}
	for p := range n {
		x.g.Go(func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = recovered(fmt.Sprintf("%s input partition %d", x.name, p), r)
				}
				x.producerDone(err)
			}()
			return x.produce(pctx, p)
		})
	}
}

func (x *exchange) produce(ctx context.Context, p int) error {
	in, err := x.input.Execute(ctx, p, x.tc)
	if err != nil {
		return err
	}
	defer in.Close()
	r := x.router(p)
	emit := func(out int, b arrow.RecordBatch) error { return x.push(ctx, out, b) }
	for {
		b, err := in.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			continue
		}
		if err := r.route(ctx, b, emit); err != nil {
			return err
		}
	}
}

// push appends an owned batch to output j, waiting for space.
func (x *exchange) push(ctx context.Context, j int, b arrow.RecordBatch) error {
	x.mu.Lock()
	for {
		if x.err != nil || x.stopped {
			x.mu.Unlock()
			b.Release()
			return errExchangeStopped
		}
		q := &x.outs[j]
		if q.closed {
			x.mu.Unlock()
			b.Release()
			return nil
		}
		if q.len() < x.queueCap || x.waiters > 0 {
			var size int64
			if q.len() >= x.queueCap {
				size = batchBytes(b)
				if err := x.res.Grow(size); err != nil {
					x.mu.Unlock()
					b.Release()
					return fmt.Errorf("%s: %w", x.name, err)
				}
				if om := metricsFor(x.tc, x.node); om != nil {
					om.RecordPeak(x.res.Size())
				}
			}
			q.push(b, size)
			select {
			case q.notify <- struct{}{}:
			default:
			}
			x.mu.Unlock()
			return nil
		}
		ch := x.space
		x.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			b.Release()
			return canceled(ctx)
		}
		x.mu.Lock()
	}
}

// wakeProducersLocked wakes every producer waiting for space.
func (x *exchange) wakeProducersLocked() {
	close(x.space)
	x.space = make(chan struct{})
}

// wakeConsumersLocked wakes every consumer.
func (x *exchange) wakeConsumersLocked() {
	for i := range x.outs {
		select {
		case x.outs[i].notify <- struct{}{}:
		default:
		}
	}
}

// dropQueuedLocked releases every queued batch.
func (x *exchange) dropQueuedLocked(q *outQueue) {
	for q.len() > 0 {
		b, size := q.pop()
		b.Release()
		x.res.Shrink(size)
	}
}

func (x *exchange) producerDone(err error) {
	x.mu.Lock()
	x.running--
	if err != nil && !errors.Is(err, errExchangeStopped) && x.err == nil && !x.stopped {
		x.err = err
		for i := range x.outs {
			x.dropQueuedLocked(&x.outs[i])
		}
		x.cancel()
	}
	x.wakeConsumersLocked()
	x.wakeProducersLocked()
	// A failed or canceled exchange whose outputs are all closed (or were
	// never executed) has nobody left to tear it down: do it here. The
	// other producers have been canceled, so nothing waits on them.
	abandoned := x.running == 0 && x.err != nil && x.open == 0 && !x.finished
	if abandoned {
		x.finished = true
		x.stopped = true
	}
	x.mu.Unlock()
	if abandoned {
		x.res.Free()
		if x.onFinish != nil {
			x.onFinish()
		}
	}
}

// next returns the next batch of output j (owned by the caller).
func (x *exchange) next(ctx context.Context, j int) (arrow.RecordBatch, error) {
	x.mu.Lock()
	for {
		if x.err != nil {
			err := x.err
			x.mu.Unlock()
			return nil, err
		}
		q := &x.outs[j]
		if q.len() > 0 {
			full := q.len() >= x.queueCap
			b, size := q.pop()
			x.res.Shrink(size)
			if full && q.len() < x.queueCap {
				x.wakeProducersLocked()
			}
			x.mu.Unlock()
			return b, nil
		}
		if x.running == 0 {
			x.mu.Unlock()
			return nil, io.EOF
		}
		x.waiters++
		if x.waiters == 1 {
			x.wakeProducersLocked()
		}
		ch := q.notify
		x.mu.Unlock()
		var done bool
		select {
		case <-ch:
		case <-ctx.Done():
			done = true
		}
		x.mu.Lock()
		x.waiters--
		if done {
			x.mu.Unlock()
			return nil, canceled(ctx)
		}
	}
}

// closeOutput drops output j; the last close stops the producers and
// waits for them.
func (x *exchange) closeOutput(j int) {
	x.mu.Lock()
	q := &x.outs[j]
	if q.closed {
		x.mu.Unlock()
		return
	}
	q.closed = true
	x.open--
	x.closed++
	x.dropQueuedLocked(q)
	x.wakeProducersLocked()
	last := x.closed == len(x.outs) || (x.open == 0 && x.err != nil)
	x.mu.Unlock()
	if last {
		x.stop()
	}
}

// stop cancels the producers, waits for them and releases what is queued.
func (x *exchange) stop() {
	x.mu.Lock()
	if x.finished {
		x.mu.Unlock()
		return
	}
	x.finished = true
	x.stopped = true
	x.wakeProducersLocked()
	x.mu.Unlock()
	if x.cancel != nil {
		x.cancel()
	}
	_ = x.g.Wait() // errors were recorded by producerDone
	x.mu.Lock()
	for i := range x.outs {
		x.dropQueuedLocked(&x.outs[i])
	}
	x.mu.Unlock()
	x.res.Free()
	if x.onFinish != nil {
		x.onFinish()
	}
}

// exchangeStream is one output partition of an exchange.
type exchangeStream struct {
	x      *exchange
	j      int
	schema *arrow.Schema
	last   arrow.RecordBatch
	closed bool
}

func (s *exchangeStream) Schema() *arrow.Schema { return s.schema }

func (s *exchangeStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.last != nil {
		s.last.Release()
		s.last = nil
	}
	if s.closed {
		return nil, io.EOF
	}
	b, err := s.x.next(ctx, s.j)
	if err != nil {
		return nil, err
	}
	s.last = b
	return b, nil
}

func (s *exchangeStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.last != nil {
		s.last.Release()
		s.last = nil
	}
	s.x.closeOutput(s.j)
	return nil
}
