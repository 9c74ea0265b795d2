package shuffle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Defaults of ReaderConfig.
const (
	DefaultFetchConcurrency = 4
	DefaultConnectTimeout   = 10 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
)

// ReadRequest names the shuffle output one task reads: the Partitions of
// Stage's output in JobID, from every map task in Locations.
type ReadRequest struct {
	// Schema is the schema the producing stage writes.
	Schema     *arrow.Schema
	JobID      string
	Stage      int
	Partitions []int
	Locations  []logical.ShuffleLocation
}

// ReaderConfig says how a Reader fetches.
type ReaderConfig struct {
	// LocalExecutorID is this executor's id. Every location whose Path
	// holds its files on this machine (this executor's own, or another's
	// on the same host or a shared file system) is read from disk; the
	// others over Flight.
	LocalExecutorID string
	// FlightOnly reads the other executors' outputs over Flight even when
	// their files are on this machine (to run a one-machine cluster as if
	// it had several).
	FlightOnly bool
	// Clients supplies Flight clients; nil gives the reader a private
	// cache dialled with DialFlight, closed with the reader. An executor
	// shares one cache between its tasks.
	Clients *ClientCache
	// Concurrency is how many sources are fetched at once
	// (0 = DefaultFetchConcurrency).
	Concurrency int
	// ConnectTimeout bounds the wait for a remote source's first message,
	// connection included (0 = DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// IdleTimeout bounds the wait for each further message of a remote
	// source (0 = DefaultIdleTimeout). Time the consumer spends between
	// batches does not count.
	IdleTimeout time.Duration
}

func (c *ReaderConfig) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultFetchConcurrency
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
}

// FetchError is a failure to read one map task's output: the scheduler
// re-runs that task (on MapPartition of Stage) when the data is lost.
type FetchError struct {
	Stage        int
	MapPartition int
	Partition    int
	ExecutorID   string
	// Addr is the Flight address, or the file path of a local read.
	Addr string
	Err  error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("shuffle fetch of stage %d map %d partition %d from executor %s (%s): %v",
		e.Stage, e.MapPartition, e.Partition, e.ExecutorID, e.Addr, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Errors wrapped in a FetchError.
var (
	// ErrFetchTimeout: a remote source sent nothing within the connect or
	// idle timeout.
	ErrFetchTimeout = errors.New("timed out")
	// ErrSchemaMismatch: a source's columns are not the expected ones.
	ErrSchemaMismatch = errors.New("schema mismatch")
	// ErrNoSource: a location has neither a local file nor an address.
	ErrNoSource = errors.New("no local file and no Flight address")
)

// source is one (map task, partition) file.
type source struct {
	loc       logical.ShuffleLocation
	partition int
}

// Reader streams the batches of every source of a ReadRequest, fetching
// up to Concurrency sources at once, in arrival order. It has the method
// set of exec.Stream: a batch from Next is borrowed until the next call
// to Next or Close.
type Reader struct {
	req    ReadRequest
	cfg    ReaderConfig
	alloc  memory.Allocator
	ticket func(source) ([]byte, error)

	out    chan arrow.RecordBatch
	done   chan struct{} // closed when every fetcher returned
	ctx    context.Context
	cancel context.CancelFunc
	ownCC  bool

	mu  sync.Mutex
	err error

	last   arrow.RecordBatch
	closed bool
}

// OpenReader starts fetching req's sources under ctx. The caller must Close
// the reader.
func OpenReader(ctx context.Context, req ReadRequest, cfg ReaderConfig, alloc memory.Allocator) (*Reader, error) {
	if req.Schema == nil {
		return nil, errors.New("shuffle read: no schema")
	}
	if err := ValidateJobID(req.JobID); err != nil {
		return nil, fmt.Errorf("shuffle read: %w", err)
	}
	for _, p := range req.Partitions {
		if p < 0 {
			return nil, fmt.Errorf("shuffle read: negative partition %d", p)
		}
	}
	cfg.defaults()
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	srcs := make([]source, 0, len(req.Locations)*len(req.Partitions))
	// Partition-major order: consumers of several partitions see one
	// partition's sources close together.
	for _, p := range req.Partitions {
		for _, loc := range req.Locations {
			srcs = append(srcs, source{loc: loc, partition: p})
		}
	}
	r := &Reader{
		req:   req,
		cfg:   cfg,
		alloc: alloc,
		out:   make(chan arrow.RecordBatch, cfg.Concurrency),
		done:  make(chan struct{}),
	}
	if r.cfg.Clients == nil {
		r.cfg.Clients = NewClientCache(nil)
		r.ownCC = true
	}
	fctx, cancel := context.WithCancel(ctx)
	r.ctx, r.cancel = fctx, cancel
	queue := make(chan source, len(srcs))
	for _, s := range srcs {
		queue <- s
	}
	close(queue)
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, len(srcs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range queue {
				if fctx.Err() != nil {
					return
				}
				if err := r.fetchSafe(fctx, s); err != nil {
					r.fail(err)
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r, nil
}

// Schema is the request's schema.
func (r *Reader) Schema() *arrow.Schema { return r.req.Schema }

// Next returns the next batch, or io.EOF after the last one.
func (r *Reader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.last != nil {
		r.last.Release()
		r.last = nil
	}
	if r.closed {
		return nil, io.EOF
	}
	if err := r.failure(); err != nil {
		return nil, err
	}
	select {
	case b := <-r.out:
		r.last = b
		return b, nil
	case <-r.done:
		// Every fetcher returned: what is queued is all there is.
		select {
		case b := <-r.out:
			r.last = b
			return b, nil
		default:
		}
		if err := r.failure(); err != nil {
			return nil, err
		}
		if r.ctx.Err() != nil {
			// The fetchers stopped because the context of OpenReader
			// ended, not because they finished.
			return nil, fmt.Errorf("shuffle read: %w", context.Cause(r.ctx))
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, fmt.Errorf("shuffle read: %w", context.Cause(ctx))
	}
}

// Close stops the fetchers, waits for them and releases every batch.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	<-r.done
	for len(r.out) > 0 {
		(<-r.out).Release()
	}
	if r.last != nil {
		r.last.Release()
		r.last = nil
	}
	if r.ownCC {
		return r.cfg.Clients.Close()
	}
	return nil
}

func (r *Reader) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.cancel()
}

func (r *Reader) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// fetchSafe is fetch with panics (from IPC decoding of bad input) turned
// into errors.
func (r *Reader) fetchSafe(ctx context.Context, s source) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = r.fetchErr(s, s.loc.FlightAddress, fmt.Errorf("panic: %v", p))
		}
	}()
	return r.fetch(ctx, s)
}

func (r *Reader) fetchErr(s source, addr string, err error) *FetchError {
	return &FetchError{Stage: r.req.Stage, MapPartition: s.loc.MapPartition, Partition: s.partition,
		ExecutorID: s.loc.ExecutorID, Addr: addr, Err: err}
}

// fetch streams one source into r.out.
func (r *Reader) fetch(ctx context.Context, s source) error {
	// A map task's directory that is on this machine (this executor's, or
	// another executor's on the same host or a shared file system) is read
	// from disk.
	if s.loc.Path != "" && (!r.cfg.FlightOnly || s.loc.ExecutorID == r.cfg.LocalExecutorID) {
		path := PartitionPath(s.loc.Path, s.partition)
		f, err := os.Open(path)
		switch {
		case err == nil:
			defer f.Close()
			return r.fetchLocal(ctx, s, path, f)
		case !errors.Is(err, fs.ErrNotExist):
			return r.fetchErr(s, path, err)
		}
		// Not on this disk (another executor on the same id, a moved
		// directory): ask the Flight service.
	}
	if s.loc.FlightAddress == "" {
		return r.fetchErr(s, PartitionPath(s.loc.Path, s.partition), ErrNoSource)
	}
	return r.fetchRemote(ctx, s)
}

func (r *Reader) fetchLocal(ctx context.Context, s source, path string, f *os.File) error {
	rdr, err := ipc.NewReader(bufio.NewReaderSize(f, 1<<20), ipc.WithAllocator(r.alloc))
	if err != nil {
		return r.fetchErr(s, path, err)
	}
	defer rdr.Release()
	if err := r.drain(ctx, rdr); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("shuffle read: %w", context.Cause(ctx))
		}
		return r.fetchErr(s, path, err)
	}
	return nil
}

func (r *Reader) fetchRemote(ctx context.Context, s source) error {
	addr := s.loc.FlightAddress
	tkt, err := EncodeTicket(Ticket{Job: r.req.JobID, Stage: r.req.Stage, Map: s.loc.MapPartition, Partition: s.partition})
	if err != nil {
		return r.fetchErr(s, addr, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := &watchdog{cancel: cancel, wait: r.cfg.ConnectTimeout}
	defer wd.stop()
	err = func() error {
		wd.arm()
		client, err := r.cfg.Clients.Get(sctx, addr)
		if err != nil {
			return err
		}
		stream, err := client.DoGet(sctx, &flight.Ticket{Ticket: tkt})
		wd.disarm()
		if err != nil {
			return err
		}
		rdr, err := flight.NewRecordReader(&watchedStream{s: stream, wd: wd, idle: r.cfg.IdleTimeout}, ipc.WithAllocator(r.alloc))
		if err != nil {
			return err
		}
		defer rdr.Release()
		return r.drain(sctx, rdr.Reader)
	}()
	if err == nil {
		return nil
	}
	if wd.fired.Load() {
		phase := "connect timeout " + r.cfg.ConnectTimeout.String()
		if wd.started.Load() {
			phase = "idle timeout " + r.cfg.IdleTimeout.String()
		}
		return r.fetchErr(s, addr, fmt.Errorf("%w (%s)", ErrFetchTimeout, phase))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("shuffle read: %w", context.Cause(ctx))
	}
	return r.fetchErr(s, addr, err)
}

// drain checks rdr's schema and sends its batches to r.out.
func (r *Reader) drain(ctx context.Context, rdr *ipc.Reader) error {
	if err := checkSchema(r.req.Schema, rdr.Schema()); err != nil {
		return err
	}
	for rdr.Next() {
		b := rdr.RecordBatch()
		if b.NumRows() == 0 {
			continue
		}
		out := array.NewRecordBatch(r.req.Schema, b.Columns(), b.NumRows())
		select {
		case r.out <- out:
		case <-ctx.Done():
			out.Release()
			return context.Cause(ctx)
		}
	}
	return rdr.Err()
}

// checkSchema requires got to have want's column count and types. Names,
// nullability and metadata may differ: columns are positional, and the
// batches are re-labelled with want.
func checkSchema(want, got *arrow.Schema) error {
	if got == nil {
		return fmt.Errorf("%w: source has no schema", ErrSchemaMismatch)
	}
	if want.NumFields() != got.NumFields() {
		return fmt.Errorf("%w: source has %d columns %s, expected %d %s", ErrSchemaMismatch,
			got.NumFields(), typeList(got), want.NumFields(), typeList(want))
	}
	for i := range want.NumFields() {
		if !arrow.TypeEqual(want.Field(i).Type, got.Field(i).Type) {
			return fmt.Errorf("%w: column %d (%s) is %s, expected %s", ErrSchemaMismatch,
				i, want.Field(i).Name, got.Field(i).Type, want.Field(i).Type)
		}
	}
	return nil
}

func typeList(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// watchdog cancels a remote fetch when a wait outlasts its deadline: the
// connect timeout before the first message, the idle timeout after.
type watchdog struct {
	cancel  context.CancelFunc
	wait    time.Duration
	mu      sync.Mutex
	t       *time.Timer
	fired   atomic.Bool
	started atomic.Bool // a first message arrived
}

func (w *watchdog) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t == nil {
		w.t = time.AfterFunc(w.wait, func() { w.fired.Store(true); w.cancel() })
		return
	}
	w.t.Reset(w.wait)
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t != nil {
		w.t.Stop()
	}
}

func (w *watchdog) stop() { w.disarm() }

// watchedStream times each Recv of a DoGet stream.
type watchedStream struct {
	s    flight.FlightService_DoGetClient
	wd   *watchdog
	idle time.Duration
}

func (w *watchedStream) Recv() (*flight.FlightData, error) {
	w.wd.arm()
	fd, err := w.s.Recv()
	w.wd.disarm()
	if err == nil && !w.wd.started.Load() {
		w.wd.started.Store(true)
		w.wd.mu.Lock()
		w.wd.wait = w.idle
		w.wd.mu.Unlock()
	}
	return fd, err
}
