package flightsql

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// result is a finished statement waiting to be fetched with DoGet.
type result struct {
	session string
	job     string
	schema  *arrow.Schema
	// out is the schema sent to the client (see widenSchema).
	out *arrow.Schema
	// inline is a statement's result (SHOW, EXPLAIN, DDL) as an Arrow IPC
	// stream; parts are a query's result partitions on the executors.
	inline  []byte
	parts   []*clusterpb.ResultPartition
	rows    int64
	expires time.Time
}

// execute runs one statement in a session on the cluster and waits for
// its end.
func (s *Server) execute(ctx context.Context, session, query string) (*result, error) {
	return s.submit(ctx, &clusterpb.SubmitJobRequest{
		SessionId: session,
		Query:     &clusterpb.SubmitJobRequest_Sql{Sql: query},
	})
}

// submit runs a job (SQL or a Substrait plan) in req's session and waits
// for its end.
func (s *Server) submit(ctx context.Context, req *clusterpb.SubmitJobRequest) (*result, error) {
	session := req.GetSessionId()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	resp, err := s.srv.SubmitJob(ctx, req)
	if err != nil {
		return nil, err
	}
	id := resp.GetJobId()
	for {
		st, changed, err := s.sched.Status(id)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "job %s: %v", id, err)
		}
		switch st.GetState() {
		case clusterpb.JobState_JOB_STATE_SUCCEEDED:
			return s.resultOf(session, st)
		case clusterpb.JobState_JOB_STATE_FAILED:
			return nil, status.Error(codes.InvalidArgument, st.GetError())
		case clusterpb.JobState_JOB_STATE_CANCELLED:
			return nil, status.Errorf(codes.Canceled, "job %s was cancelled", id)
		}
		select {
		case <-ctx.Done():
			_ = s.sched.Cancel(id)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, status.Errorf(codes.DeadlineExceeded, "job %s: cancelled after the query timeout (%s) or the call's deadline", id, s.cfg.QueryTimeout)
			}
			return nil, status.Errorf(codes.Canceled, "job %s: cancelled by the client", id)
		case <-changed:
		}
	}
}

// resultOf reads the shape of a finished job's result.
func (s *Server) resultOf(session string, st *clusterpb.JobStatus) (*result, error) {
	r := &result{session: session, job: st.GetJobId()}
	if inline := st.GetInlineResult(); len(inline) > 0 {
		rd, err := ipc.NewReader(bytes.NewReader(inline), ipc.WithAllocator(s.alloc))
		if err != nil {
			return nil, status.Errorf(codes.Internal, "job %s: reading its result: %v", r.job, err)
		}
		r.schema = rd.Schema()
		for rd.Next() {
			r.rows += rd.RecordBatch().NumRows()
		}
		err = rd.Err()
		rd.Release()
		if err != nil {
			return nil, status.Errorf(codes.Internal, "job %s: reading its result: %v", r.job, err)
		}
		r.inline = inline
		r.out = widenSchema(r.schema)
		return r, nil
	}
	if len(st.GetSchema()) == 0 {
		// A statement without output (a DDL statement with nothing to
		// show) has an empty result.
		r.schema = arrow.NewSchema(nil, nil)
		r.out = r.schema
		return r, nil
	}
	schema, err := flight.DeserializeSchema(st.GetSchema(), s.alloc)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "job %s: result schema: %v", r.job, err)
	}
	r.schema, r.parts = schema, st.GetResults()
	for _, p := range r.parts {
		r.rows += int64(p.GetRows())
	}
	r.out = widenSchema(r.schema)
	return r, nil
}

// keep stores a result for DoGet and returns its FlightInfo.
func (s *Server) keep(r *result, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	handle := newHandle()
	ticket, err := fsql.CreateStatementQueryTicket([]byte(handle))
	if err != nil {
		s.drop(r)
		return nil, status.Errorf(codes.Internal, "making the ticket: %v", err)
	}
	r.expires = time.Now().Add(s.cfg.ResultTTL)
	s.mu.Lock()
	s.results[handle] = r
	s.mu.Unlock()
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(r.out, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		TotalRecords:     r.rows,
		TotalBytes:       -1,
	}, nil
}

// take removes a stored result for streaming it; only its session may.
func (s *Server) take(ctx context.Context, handle string) (*result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.results[handle]
	if !ok || r.session != sessionOf(ctx) {
		return nil, status.Error(codes.NotFound, "flight sql: no result for this ticket (it was fetched already, expired, or belongs to another session)")
	}
	delete(s.results, handle)
	return r, nil
}

// drop removes a result's files from the executors.
func (s *Server) drop(r *result) {
	if r.job != "" && len(r.parts) > 0 {
		if err := s.sched.RemoveResults(r.job); err != nil {
			s.cfg.Logf("flight sql: removing the result of job %s: %v", r.job, err)
		}
	}
}

func (s *Server) dropLocked(handle string, r *result) {
	delete(s.results, handle)
	s.drop(r)
}

// stream sends a result to a DoGet batch by batch: it reads one result
// partition at a time from its executor, so the server holds a couple of
// batches, never the whole result. The result's files are removed at the
// end.
func (s *Server) stream(ctx context.Context, r *result) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 2)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer s.drop(r)
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					err = status.Errorf(codes.Internal, "flight sql: streaming job %s: %v", r.job, p)
				}
			}()
			err = s.pump(ctx, r, ch)
		}()
		if err != nil {
			select {
			case ch <- flight.StreamChunk{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return r.out, ch, nil
}

// send hands a batch (in the client's schema) to the DoGet writer,
// which releases it.
func (s *Server) send(ctx context.Context, r *result, ch chan<- flight.StreamChunk, b arrow.RecordBatch) error {
	b = widenBatch(s.alloc, b, r.out)
	select {
	case ch <- flight.StreamChunk{Data: b}:
		return nil
	case <-ctx.Done():
		b.Release()
		return ctx.Err()
	}
}

func (s *Server) pump(ctx context.Context, r *result, ch chan<- flight.StreamChunk) error {
	if r.inline != nil {
		rd, err := ipc.NewReader(bytes.NewReader(r.inline), ipc.WithAllocator(s.alloc))
		if err != nil {
			return status.Errorf(codes.Internal, "job %s: reading its result: %v", r.job, err)
		}
		defer rd.Release()
		for rd.Next() {
			if err := s.send(ctx, r, ch, rd.RecordBatch()); err != nil {
				return err
			}
		}
		return rd.Err()
	}
	for i, p := range r.parts {
		if p.GetRows() == 0 {
			continue
		}
		if err := s.pumpPartition(ctx, r, i, p, ch); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) pumpPartition(ctx context.Context, r *result, i int, p *clusterpb.ResultPartition, ch chan<- flight.StreamChunk) error {
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return status.Errorf(codes.Unavailable, "job %s: result partition %d at %s: %v", r.job, i, p.GetFlightAddress(), err)
	}
	f, err := s.flight(p.GetFlightAddress())
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := f.DoGet(ctx, &flight.Ticket{Ticket: p.GetTicket()})
	if err != nil {
		return fail(err)
	}
	rd, err := flight.NewRecordReader(st, ipc.WithAllocator(s.alloc))
	if err != nil {
		return fail(err)
	}
	defer rd.Release()
	if !rd.Schema().Equal(r.schema) {
		return status.Errorf(codes.Internal, "job %s: result partition %d has schema %s, want %s", r.job, i, rd.Schema(), r.schema)
	}
	for rd.Next() {
		if err := s.send(ctx, r, ch, rd.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rd.Err(); err != nil {
		return fail(err)
	}
	return nil
}

// flight is a Flight client of the executor at addr.
func (s *Server) flight(addr string) (flight.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.flights[addr]; ok {
		return f, nil
	}
	f, err := flight.NewClientWithMiddleware(addr, nil, nil, s.dial...)
	if err != nil {
		return nil, err
	}
	s.flights[addr] = f
	return f, nil
}

// GetFlightInfoStatement runs a statement: the result waits on the
// executors until DoGet fetches it through this server.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd fsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	r, err := s.execute(ctx, sessionOf(ctx), cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	return s.keep(r, desc)
}

// DoGetStatement streams a result stored by GetFlightInfoStatement or
// GetFlightInfoPreparedStatement.
func (s *Server) DoGetStatement(ctx context.Context, ticket fsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	r, err := s.take(ctx, string(ticket.GetStatementHandle()))
	if err != nil {
		return nil, nil, err
	}
	return s.stream(ctx, r)
}

// DoPutCommandStatementUpdate runs a statement that returns no rows (DDL,
// SET): the count is 0; a query run this way counts its rows.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd fsql.StatementUpdate) (int64, error) {
	return s.update(ctx, sessionOf(ctx), cmd.GetQuery())
}

func (s *Server) update(ctx context.Context, session, query string) (int64, error) {
	r, err := s.execute(ctx, session, query)
	if err != nil {
		return 0, err
	}
	defer s.drop(r)
	if r.inline != nil {
		return 0, nil
	}
	return r.rows, nil
}

// CancelFlightInfo cancels nothing: statements run to their end in
// GetFlightInfo, and a result not fetched is removed after its TTL.
func (s *Server) CancelFlightInfo(ctx context.Context, req *flight.CancelFlightInfoRequest) (flight.CancelFlightInfoResult, error) {
	for _, ep := range req.GetInfo().GetEndpoint() {
		t, err := fsql.GetStatementQueryTicket(ep.GetTicket())
		if err != nil {
			continue
		}
		if r, err := s.take(ctx, string(t.GetStatementHandle())); err == nil {
			s.drop(r)
		}
	}
	return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
}
