package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/plugins"
	"github.com/arbalest/arbalest/plugins/internal/nulls"
	"github.com/arbalest/arbalest/plugins/pluginpb"
	"github.com/arbalest/arbalest/substrait/logical"
)

// watchdog cancels a call that makes no progress for d.
type watchdog struct {
	t       *time.Timer
	d       time.Duration
	mu      sync.Mutex
	tripped bool
	stopped bool
}

func newWatchdog(d time.Duration, cancel context.CancelFunc) *watchdog {
	w := &watchdog{d: d}
	w.t = time.AfterFunc(d, func() {
		w.mu.Lock()
		w.tripped = !w.stopped
		w.mu.Unlock()
		cancel()
	})
	return w
}

func (w *watchdog) progress() { w.t.Reset(w.d) }

// idle disarms the watchdog while a pooled stream waits for its next call.
func (w *watchdog) idle() { w.t.Stop() }

// fired reports whether the watchdog cancelled the stream.
func (w *watchdog) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tripped
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.t.Stop()
}

// err explains a failed call: a timeout when the watchdog fired.
func (w *watchdog) err(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tripped {
		return fmt.Errorf("no answer within %s (timed out): %w", w.d, notEOF(err))
	}
	return notEOF(err)
}

// exchange is one open DoExchange stream.
type exchange struct {
	cancel context.CancelFunc
	stream flight.FlightService_DoExchangeClient
	w      *flight.Writer
	r      *flight.Reader
	wd     *watchdog
}

func (e *exchange) close() {
	e.wd.stop()
	e.cancel()
	if e.r != nil {
		e.r.Release()
	}
}

// openExchange opens a DoExchange for a call of fn in phase, sending
// batches of schema in.
func (p *Plugin) openExchange(ctx context.Context, fn string, phase pluginpb.FunctionPhase, in *arrow.Schema) (*exchange, error) {
	conn, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	wd := newWatchdog(p.cfg.Timeout, cancel)
	stream, err := flight.NewClientFromConn(conn, nil).DoExchange(sctx)
	if err != nil {
		wd.stop()
		cancel()
		return nil, p.describe("opening a call of "+fn, err)
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(in))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: plugins.EncodeCall(fn, phase)})
	return &exchange{cancel: cancel, stream: stream, w: w, wd: wd}, nil
}

// send writes one batch. A stream the plugin ended reports io.EOF to its
// sender; the reason is what the receiving side gets.
func (e *exchange) send(b arrow.RecordBatch) error {
	e.wd.progress()
	err := e.w.Write(b)
	if errors.Is(err, io.EOF) {
		if _, rerr := e.stream.Recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		return errors.New("the plugin closed the call")
	}
	return err
}

// recv reads the next batch (borrowed until the next recv) or io.EOF.
func (e *exchange) recv() (arrow.RecordBatch, error) {
	e.wd.progress()
	if e.r == nil {
		r, err := flight.NewRecordReader(e.stream)
		if err != nil {
			return nil, err
		}
		e.r = r
	}
	if e.r.Next() {
		return e.r.RecordBatch(), nil
	}
	if err := e.r.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

type scalarImpl struct {
	p *Plugin
	f *logical.Function
}

func (s *scalarImpl) argSchema() *arrow.Schema { return arrow.NewSchema(s.f.Args, nil) }

// take returns a pooled stream of the function (reused true) or a new one.
func (s *scalarImpl) take(ctx context.Context) (e *exchange, reused bool, err error) {
	p := s.p
	p.mu.Lock()
	if n := len(p.pool[s.f.Name]); n > 0 {
		e := p.pool[s.f.Name][n-1]
		p.pool[s.f.Name] = p.pool[s.f.Name][:n-1]
		p.mu.Unlock()
		return e, true, nil
	}
	p.mu.Unlock()
	e, err = p.openExchange(ctx, s.f.Name, pluginpb.FunctionPhase_FUNCTION_PHASE_SCALAR, s.argSchema())
	return e, false, err
}

func (s *scalarImpl) give(e *exchange) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pool == nil {
		p.pool = map[string][]*exchange{}
	}
	if len(p.pool[s.f.Name]) >= 64 || e.wd.fired() {
		e.close()
		return
	}
	e.wd.idle()
	p.pool[s.f.Name] = append(p.pool[s.f.Name], e)
}

func (p *Plugin) closePoolLocked() {
	for _, es := range p.pool {
		for _, e := range es {
			e.close()
		}
	}
	p.pool = nil
}

// EvalScalar implements logical.ScalarImpl: one batch out, one back, on a
// pooled DoExchange stream of the function.
func (s *scalarImpl) EvalScalar(ctx context.Context, args []arrow.Array, rows int) (arrow.Array, error) {
	if len(args) != len(s.f.Args) {
		return nil, fmt.Errorf("%s takes %d arguments, got %d", s.f.Signature(), len(s.f.Args), len(args))
	}
	if rows == 0 {
		return array.MakeArrayOfNull(memory.DefaultAllocator, s.f.Result.Type, 0), nil
	}
	var out arrow.Array
	for attempt := 0; ; attempt++ {
		e, reused, err := s.take(ctx)
		if err != nil {
			return nil, err
		}
		out, err = s.call(ctx, e, args, rows)
		if err == nil {
			s.give(e)
			break
		}
		e.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A pooled stream may have broken while it waited (the plugin
		// restarted, the connection dropped): one fresh try.
		if !reused || e.wd.fired() || attempt > 0 {
			return nil, s.p.describe("calling "+s.f.Name, e.wd.err(err))
		}
	}
	if s.f.NullOnNull {
		return nulls.Mask(memory.DefaultAllocator, out, args, rows), nil
	}
	return out, nil
}

func (s *scalarImpl) call(ctx context.Context, e *exchange, args []arrow.Array, rows int) (arrow.Array, error) {
	stop := context.AfterFunc(ctx, e.cancel)
	defer stop()
	b := array.NewRecordBatch(s.argSchema(), args, int64(rows))
	err := e.send(b)
	b.Release()
	if err != nil {
		return nil, err
	}
	res, err := e.recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the plugin ended the call without a result")
		}
		return nil, err
	}
	if res.NumCols() != 1 || int(res.NumRows()) != rows || !arrow.TypeEqual(res.Column(0).DataType(), s.f.Result.Type) {
		return nil, fmt.Errorf("%s returned %d columns and %d rows (%s) for %d rows, want one %s column", s.f.Name, res.NumCols(), res.NumRows(), res.Schema(), rows, s.f.Result.Type)
	}
	col := res.Column(0)
	col.Retain()
	return col, nil
}

type aggregateImpl struct {
	p *Plugin
	f *logical.Function
}

// OpenAggregate implements logical.AggregateImpl.
func (a *aggregateImpl) OpenAggregate(ctx context.Context, phase logical.AggregatePhase) (logical.AggregateSession, error) {
	fields := a.f.Args
	pp := pluginpb.FunctionPhase_FUNCTION_PHASE_COMPLETE
	switch phase {
	case logical.AggregatePartial:
		pp = pluginpb.FunctionPhase_FUNCTION_PHASE_PARTIAL
	case logical.AggregateFinal:
		pp = pluginpb.FunctionPhase_FUNCTION_PHASE_FINAL
		fields = a.f.State
	}
	in := arrow.NewSchema(append([]arrow.Field{{Name: "group", Type: arrow.PrimitiveTypes.Uint32}}, fields...), nil)
	e, err := a.p.openExchange(ctx, a.f.Name, pp, in)
	if err != nil {
		return nil, err
	}
	out := []arrow.Field{a.f.Result}
	if phase == logical.AggregatePartial {
		out = a.f.State
	}
	return &aggSession{a: a, e: e, in: in, out: out}, nil
}

type aggSession struct {
	a   *aggregateImpl
	e   *exchange
	in  *arrow.Schema
	out []arrow.Field
}

func (s *aggSession) fail(err error) error {
	return s.a.p.describe("calling "+s.a.f.Name, s.e.wd.err(err))
}

func (s *aggSession) Update(ctx context.Context, groups arrow.Array, cols []arrow.Array) error {
	stop := context.AfterFunc(ctx, s.e.cancel)
	defer stop()
	all := append([]arrow.Array{groups}, cols...)
	b := array.NewRecordBatch(s.in, all, int64(groups.Len()))
	defer b.Release()
	if err := s.e.send(b); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail(err)
	}
	return nil
}

func (s *aggSession) Finish(ctx context.Context, emit func(arrow.RecordBatch) error) error {
	stop := context.AfterFunc(ctx, s.e.cancel)
	defer stop()
	s.e.wd.progress()
	if err := s.e.stream.CloseSend(); err != nil {
		return s.fail(err)
	}
	for {
		b, err := s.e.recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.fail(err)
		}
		if int(b.NumCols()) != 1+len(s.out) || b.Column(0).DataType().ID() != arrow.UINT32 {
			return s.a.p.describe("calling "+s.a.f.Name, fmt.Errorf("%s returned %s, want a uint32 group column and %d more", s.a.f.Name, b.Schema(), len(s.out)))
		}
		for i, f := range s.out {
			if !arrow.TypeEqual(b.Column(i+1).DataType(), f.Type) {
				return s.a.p.describe("calling "+s.a.f.Name, fmt.Errorf("%s returned column %d as %s, want %s", s.a.f.Name, i+1, b.Column(i+1).DataType(), f.Type))
			}
		}
		if err := emit(b); err != nil {
			return err
		}
	}
}

func (s *aggSession) Close() error {
	s.e.close()
	return nil
}
