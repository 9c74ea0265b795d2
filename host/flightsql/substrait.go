package flightsql

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// substraitVersion is the Substrait version of the protobuf definitions
// Arbalest reads and writes; GetSqlInfo reports it as the highest served.
const substraitVersion = "0.85.0"

// maxPlan bounds a Substrait plan's size (gRPC already bounds the
// message; this names the problem when a plan is absurdly large).
const maxPlan = 64 << 20

// checkPlan refuses an empty or oversized plan before it reaches the
// consumer, with a message that says which.
func checkPlan(plan fsql.SubstraitPlan) error {
	switch n := len(plan.Plan); {
	case n == 0:
		return status.Error(codes.InvalidArgument, "flight sql: the Substrait command carries no plan")
	case n > maxPlan:
		return status.Errorf(codes.InvalidArgument, "flight sql: the Substrait plan is %d bytes; at most %d are accepted", n, maxPlan)
	}
	return nil
}

// runPlan runs a Substrait plan (binary protobuf or JSON) in a session the
// way a SQL query runs: as a job on the cluster, its result left on the
// executors for DoGet.
func (s *Server) runPlan(ctx context.Context, session string, plan []byte) (*result, error) {
	return s.submit(ctx, &clusterpb.SubmitJobRequest{
		SessionId: session,
		Query:     &clusterpb.SubmitJobRequest_Substrait{Substrait: plan},
	})
}

// GetFlightInfoSubstraitPlan runs a Substrait plan; its result is fetched
// with DoGet like a statement's.
func (s *Server) GetFlightInfoSubstraitPlan(ctx context.Context, cmd fsql.StatementSubstraitPlan, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if err := checkPlan(cmd.GetPlan()); err != nil {
		return nil, err
	}
	r, err := s.runPlan(ctx, sessionOf(ctx), cmd.GetPlan().Plan)
	if err != nil {
		return nil, err
	}
	return s.keep(r, desc)
}

// GetSchemaSubstraitPlan reads and plans a Substrait plan without running
// it, for its result schema.
func (s *Server) GetSchemaSubstraitPlan(ctx context.Context, cmd fsql.StatementSubstraitPlan, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	if err := checkPlan(cmd.GetPlan()); err != nil {
		return nil, err
	}
	p, err := s.planSubstrait(sessionOf(ctx), cmd.GetPlan().Plan)
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(widenSchema(p), s.alloc)}, nil
}

// DoPutCommandSubstraitPlan runs a Substrait plan as an update: the count
// is its result's rows (a plan is always a query), which are then removed.
func (s *Server) DoPutCommandSubstraitPlan(ctx context.Context, cmd fsql.StatementSubstraitPlan) (int64, error) {
	if err := checkPlan(cmd.GetPlan()); err != nil {
		return 0, err
	}
	r, err := s.runPlan(ctx, sessionOf(ctx), cmd.GetPlan().Plan)
	if err != nil {
		return 0, err
	}
	s.drop(r)
	return r.rows, nil
}

// CreatePreparedSubstraitPlan reads and plans a Substrait plan for its
// result schema, and keeps it to run on each execution. Substrait plans
// have no parameters.
func (s *Server) CreatePreparedSubstraitPlan(ctx context.Context, req fsql.ActionCreatePreparedSubstraitPlanRequest) (fsql.ActionCreatePreparedStatementResult, error) {
	var res fsql.ActionCreatePreparedStatementResult
	if req.GetTransactionId() != nil {
		return res, status.Error(codes.Unimplemented, "flight sql: transactions are not supported")
	}
	if err := checkPlan(req.GetPlan()); err != nil {
		return res, err
	}
	session := sessionOf(ctx)
	schema, err := s.planSubstrait(session, req.GetPlan().Plan)
	if err != nil {
		return res, err
	}
	// A copy: the request's buffer is not ours to keep.
	plan := append([]byte(nil), req.GetPlan().Plan...)
	p := &prepared{session: session, plan: plan, tmpl: &template{}, dataset: widenSchema(schema), used: time.Now()}
	handle := newHandle()
	s.mu.Lock()
	s.prepared[handle] = p
	s.mu.Unlock()
	res.Handle = []byte(handle)
	res.DatasetSchema = p.dataset
	return res, nil
}

// planSubstrait reads and optimizes a plan in a session, for its result
// schema. The consumer turns a malformed plan into an error; the recover
// is a last guard so that a bug there fails the call, not the scheduler.
func (s *Server) planSubstrait(session string, plan []byte) (schema *arrow.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			schema, err = nil, status.Errorf(codes.Internal, "flight sql: reading the Substrait plan: %v (please report this)", r)
		}
	}()
	p, err := s.srv.Session(session).PlanSubstrait(plan)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return p.Schema().Arrow(), nil
}
