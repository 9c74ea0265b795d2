// Package client is the Go client of an Arbalest cluster: it submits SQL
// or Substrait plans to the scheduler, follows the job, and streams the
// result from the executors with Arrow Flight.
//
//	c, err := client.Dial(ctx, "127.0.0.1:50050")
//	res, err := c.SQL(ctx, "SELECT count(*) FROM lineitem")
//	defer res.Close()
//	for res.Next() { rec := res.RecordBatch(); ... }
//	if err := res.Err(); err != nil { ... }
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/substrait/clusterpb"
)

const maxMsg = 256 << 20

// Client talks to one scheduler.
type Client struct {
	conn     *grpc.ClientConn
	sched    clusterpb.SchedulerServiceClient
	session  string
	opts     []grpc.DialOption
	security clusterpb.Security
	alloc    memory.Allocator

	mu      sync.Mutex
	flights map[string]flight.Client
}

// Option configures a client.
type Option func(*Client)

// WithSession names the client's session. Tables, views and settings
// belong to a session; clients that give the same id share them. By
// default every client has a session of its own.
func WithSession(id string) Option { return func(c *Client) { c.session = id } }

// WithDialOptions adds gRPC dial options (credentials, interceptors).
func WithDialOptions(o ...grpc.DialOption) Option {
	return func(c *Client) { c.opts = append(c.opts, o...) }
}

// WithSecurity authenticates the client to a cluster that requires a
// token or TLS (see clusterpb.Security).
func WithSecurity(sec clusterpb.Security) Option { return func(c *Client) { c.security = sec } }

// WithToken is WithSecurity with only a bearer token.
func WithToken(token string) Option { return func(c *Client) { c.security.Token = token } }

// WithAllocator sets the allocator of the result batches.
func WithAllocator(a memory.Allocator) Option { return func(c *Client) { c.alloc = a } }

// Dial connects to the scheduler at addr (host:port). The connection is
// made lazily; the first call reports an unreachable scheduler.
func Dial(_ context.Context, addr string, opts ...Option) (*Client, error) {
	c := &Client{flights: map[string]flight.Client{}, alloc: memory.DefaultAllocator, session: newSessionID()}
	for _, o := range opts {
		o(c)
	}
	sec, err := c.security.DialOptions()
	if err != nil {
		return nil, err
	}
	c.opts = append(sec, c.opts...)
	dial := append([]grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
	}, c.opts...)
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("scheduler %s: %w", addr, err)
	}
	c.conn, c.sched = conn, clusterpb.NewSchedulerServiceClient(conn)
	return c, nil
}

// Close closes the connections.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.flights {
		f.Close()
	}
	c.flights = map[string]flight.Client{}
	return c.conn.Close()
}

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "s-" + hex.EncodeToString(b[:])
}

// Session is the client's session id.
func (c *Client) Session() string { return c.session }

// SQL runs one statement and returns its result.
func (c *Client) SQL(ctx context.Context, query string) (*Result, error) {
	return c.run(ctx, &clusterpb.SubmitJobRequest{Query: &clusterpb.SubmitJobRequest_Sql{Sql: query}})
}

// Substrait runs a Substrait plan (binary protobuf or JSON).
func (c *Client) Substrait(ctx context.Context, plan []byte) (*Result, error) {
	return c.run(ctx, &clusterpb.SubmitJobRequest{Query: &clusterpb.SubmitJobRequest_Substrait{Substrait: plan}})
}

// Submit starts a job without waiting for it. It gives the request an id
// (unless it has one) and retries while the scheduler is unreachable, for
// up to ReconnectWindow: the id makes the retries safe.
func (c *Client) Submit(ctx context.Context, req *clusterpb.SubmitJobRequest) (string, error) {
	if req.GetSessionId() == "" {
		req.SessionId = c.session
	}
	if req.GetRequestId() == "" {
		req.RequestId = newRequestID()
	}
	var lostSince time.Time
	backoff := 100 * time.Millisecond
	for {
		resp, err := c.sched.SubmitJob(ctx, req)
		if err == nil {
			return resp.GetJobId(), nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if !retryable(err) {
			return "", statusError(err)
		}
		if lostSince.IsZero() {
			lostSince = time.Now()
		}
		if time.Since(lostSince) > ReconnectWindow {
			return "", statusError(err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// retryable reports whether a call failed because the scheduler could not
// be reached (it may be restarting), not because the connection itself is
// refused for good (a TLS handshake or certificate failure).
func retryable(err error) bool {
	if status.Code(err) != codes.Unavailable {
		return false
	}
	msg := strings.ToLower(status.Convert(err).Message())
	for _, s := range []string{"tls:", "handshake", "certificate", "x509"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Wait follows a job until it ends and returns its last status. progress,
// when not nil, sees every status on the way. If the scheduler goes away
// (a restart), Wait keeps asking for up to ReconnectWindow: a scheduler
// with a state store carries on with the job.
func (c *Client) Wait(ctx context.Context, jobID string, progress func(*clusterpb.JobStatus)) (*clusterpb.JobStatus, error) {
	var lostSince time.Time
	backoff := 100 * time.Millisecond
	for {
		st, err := c.watch(ctx, jobID, progress)
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !retryable(err) && status.Code(err) != codes.Canceled {
			return nil, statusError(err)
		}
		if lostSince.IsZero() {
			lostSince = time.Now()
		}
		if time.Since(lostSince) > ReconnectWindow {
			return nil, fmt.Errorf("job %s: lost the scheduler for %s: %w", jobID, ReconnectWindow, statusError(err))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// ReconnectWindow is how long Wait keeps trying to reach a scheduler that
// went away.
var ReconnectWindow = 2 * time.Minute

// watch streams a job's statuses until it ends.
func (c *Client) watch(ctx context.Context, jobID string, progress func(*clusterpb.JobStatus)) (*clusterpb.JobStatus, error) {
	stream, err := c.sched.WatchJob(ctx, &clusterpb.WatchJobRequest{JobId: jobID})
	if err != nil {
		return nil, err
	}
	var last *clusterpb.JobStatus
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		last = m.GetStatus()
		if progress != nil {
			progress(last)
		}
	}
	if last == nil {
		return nil, fmt.Errorf("job %s: the scheduler sent no status", jobID)
	}
	switch last.GetState() {
	case clusterpb.JobState_JOB_STATE_SUCCEEDED, clusterpb.JobState_JOB_STATE_FAILED, clusterpb.JobState_JOB_STATE_CANCELLED:
		return last, nil
	}
	return nil, status.Error(codes.Unavailable, "the job's status stream ended early")
}

// Cancel cancels a job.
func (c *Client) Cancel(ctx context.Context, jobID string) error {
	_, err := c.sched.CancelJob(ctx, &clusterpb.CancelJobRequest{JobId: jobID})
	return statusError(err)
}

func (c *Client) run(ctx context.Context, req *clusterpb.SubmitJobRequest) (*Result, error) {
	id, err := c.Submit(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := c.Wait(ctx, id, nil)
	if err != nil {
		if ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.Background(), timeoutCancel)
			_ = c.Cancel(cctx, id)
			cancel()
		}
		return nil, err
	}
	r, err := c.Open(ctx, st)
	if err != nil {
		return nil, err
	}
	r.req = req
	return r, nil
}

// resultRetries bounds how often a query whose result became unreadable
// before any of it was read (its executor went away) runs again.
const resultRetries = 2

// rerun runs the result's query again (its result could not be read) and
// continues with the new job's result.
func (r *Result) rerun(ctx context.Context, cause error) error {
	r.retries++
	old := r.JobID()
	again := proto.Clone(r.req).(*clusterpb.SubmitJobRequest)
	again.RequestId = ""
	nr, err := r.c.run(ctx, again)
	if err != nil {
		return fmt.Errorf("%w (running the query again failed: %v)", cause, err)
	}
	if !nr.schema.Equal(r.schema) || nr.Statement {
		nr.Close()
		return fmt.Errorf("%w (the query ran again with another result schema)", cause)
	}
	rctx, cancel := context.WithTimeout(context.Background(), timeoutCancel)
	_, _ = r.c.sched.RemoveJobData(rctx, &clusterpb.RemoveJobDataRequest{JobId: old})
	cancel()
	r.status, r.parts, r.next = nr.status, nr.parts, 0
	return nil
}

// Open reads the result of a finished job.
func (c *Client) Open(ctx context.Context, st *clusterpb.JobStatus) (*Result, error) {
	switch st.GetState() {
	case clusterpb.JobState_JOB_STATE_SUCCEEDED:
	case clusterpb.JobState_JOB_STATE_FAILED:
		return nil, &JobError{JobID: st.GetJobId(), Message: st.GetError()}
	default:
		return nil, &JobError{JobID: st.GetJobId(), Message: "job " + st.GetState().String()}
	}
	r := &Result{c: c, ctx: ctx, status: st}
	if inline := st.GetInlineResult(); len(inline) > 0 {
		rd, err := ipc.NewReader(bytes.NewReader(inline), ipc.WithAllocator(c.alloc))
		if err != nil {
			return nil, fmt.Errorf("job %s: reading its result: %w", st.GetJobId(), err)
		}
		r.schema, r.cur = rd.Schema(), rd
		r.Statement = true
		return r, nil
	}
	if len(st.GetSchema()) == 0 {
		return nil, fmt.Errorf("job %s: no result schema", st.GetJobId())
	}
	schema, err := flight.DeserializeSchema(st.GetSchema(), c.alloc)
	if err != nil {
		return nil, fmt.Errorf("job %s: result schema: %w", st.GetJobId(), err)
	}
	r.schema, r.parts = schema, st.GetResults()
	return r, nil
}

func (c *Client) flight(addr string) (flight.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[addr]; ok {
		return f, nil
	}
	dial := append([]grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg)),
	}, c.opts...)
	f, err := flight.NewClientWithMiddleware(addr, nil, nil, dial...)
	if err != nil {
		return nil, err
	}
	c.flights[addr] = f
	return f, nil
}

// JobError is a job that failed or was cancelled.
type JobError struct {
	JobID   string
	Message string
}

func (e *JobError) Error() string { return e.Message }

// Result streams a job's result. It implements array.RecordReader (Next,
// RecordBatch, Err) and a context-aware NextBatch.
type Result struct {
	c      *Client
	ctx    context.Context
	status *clusterpb.JobStatus
	schema *arrow.Schema
	parts  []*clusterpb.ResultPartition
	next   int
	cur    recordSource
	stream flight.FlightService_DoGetClient
	cancel context.CancelFunc
	rec    arrow.RecordBatch
	err    error
	closed bool
	refs   int64
	// req is the query, to run again if its result cannot be read;
	// delivered counts the batches returned, retries the runs again.
	req       *clusterpb.SubmitJobRequest
	delivered int64
	retries   int
	// Statement is true when the result is a statement's (not a query's).
	Statement bool
}

type recordSource interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
	Release()
}

// JobID is the job's id.
func (r *Result) JobID() string { return r.status.GetJobId() }

// Schema is the result schema.
func (r *Result) Schema() *arrow.Schema { return r.schema }

// Rows is the number of rows, when the scheduler knows it (-1 otherwise).
func (r *Result) Rows() int64 {
	if r.Statement {
		return -1
	}
	var n int64
	for _, p := range r.parts {
		n += int64(p.GetRows())
	}
	return n
}

// Next advances to the next batch (array.RecordReader).
func (r *Result) Next() bool {
	b, err := r.NextBatch(r.ctx)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		return false
	}
	r.rec = b
	return true
}

// RecordBatch is the current batch, valid until the next call to Next.
func (r *Result) RecordBatch() arrow.RecordBatch { return r.rec }

// Record is RecordBatch (older array.RecordReader name).
func (r *Result) Record() arrow.RecordBatch { return r.rec }

// Err is the error that ended Next, if any.
func (r *Result) Err() error { return r.err }

// Retain and Release count references (array.RecordReader); the last
// Release closes the result.
func (r *Result) Retain() { r.refs++ }

// Release drops a reference.
func (r *Result) Release() {
	r.refs--
	if r.refs < 0 {
		r.Close()
	}
}

// NextBatch returns the next batch (valid until the next call) or io.EOF.
func (r *Result) NextBatch(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if r.closed {
			return nil, io.EOF
		}
		if r.cur != nil {
			if r.cur.Next() {
				r.delivered++
				return r.cur.RecordBatch(), nil
			}
			err := r.cur.Err()
			r.closeCurrent()
			if err != nil {
				return nil, fmt.Errorf("job %s: reading result partition %d: %w", r.JobID(), r.next-1, err)
			}
			if r.Statement {
				return nil, io.EOF
			}
			continue
		}
		if r.next >= len(r.parts) {
			return nil, io.EOF
		}
		p := r.parts[r.next]
		r.next++
		if p.GetRows() == 0 {
			continue
		}
		if err := r.open(ctx, p); err != nil {
			// The executor holding the result went away after the job
			// ended: when nothing was read yet, the query runs again.
			if r.req != nil && r.delivered == 0 && r.retries < resultRetries && status.Code(err) == codes.Unavailable && ctx.Err() == nil {
				if rerr := r.rerun(ctx, err); rerr != nil {
					return nil, rerr
				}
				continue
			}
			return nil, err
		}
	}
}

func (r *Result) open(ctx context.Context, p *clusterpb.ResultPartition) error {
	f, err := r.c.flight(p.GetFlightAddress())
	if err != nil {
		return fmt.Errorf("job %s: result partition %d at %s: %w", r.JobID(), r.next-1, p.GetFlightAddress(), err)
	}
	sctx, cancel := context.WithCancel(ctx)
	stream, err := f.DoGet(sctx, &flight.Ticket{Ticket: p.GetTicket()})
	if err != nil {
		cancel()
		return fmt.Errorf("job %s: result partition %d at %s: %w", r.JobID(), r.next-1, p.GetFlightAddress(), err)
	}
	rd, err := flight.NewRecordReader(stream, ipc.WithAllocator(r.c.alloc))
	if err != nil {
		cancel()
		return fmt.Errorf("job %s: result partition %d at %s: %w", r.JobID(), r.next-1, p.GetFlightAddress(), err)
	}
	if !rd.Schema().Equal(r.schema) {
		rd.Release()
		cancel()
		return fmt.Errorf("job %s: result partition %d has schema %s, want %s", r.JobID(), r.next-1, rd.Schema(), r.schema)
	}
	r.cur, r.cancel = rd, cancel
	return nil
}

func (r *Result) closeCurrent() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
}

// Close stops reading and removes the job's result files from the
// cluster.
func (r *Result) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.closeCurrent()
	if r.Statement {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeoutCancel)
	defer cancel()
	backoff := 50 * time.Millisecond
	for {
		_, err := r.c.sched.RemoveJobData(ctx, &clusterpb.RemoveJobDataRequest{JobId: r.JobID()})
		if err == nil || !retryable(err) {
			return statusError(err)
		}
		// The scheduler is away (restarting): the rows were all read, and
		// a scheduler removes results nobody removed after its result TTL,
		// so giving up here loses nothing.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}
