package scheduler

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/host/catalog"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Server serves the SchedulerService: executors register and report to
// it, clients submit jobs and follow them.
type Server struct {
	clusterpb.UnimplementedSchedulerServiceServer
	sched *Scheduler
	infer catalog.Inferrer

	mu       sync.Mutex
	sessions map[string]*engine.Session
	// seq numbers the statements saved per session.
	seq map[string]int
	// inflight serialises submissions per request id.
	inflight map[string]*sync.Mutex
}

// NewServer serves sched; infer reads the schema of tables that clients
// create (CREATE EXTERNAL TABLE). With a store, the sessions saved in it
// are rebuilt by replaying their statements.
func NewServer(ctx context.Context, sched *Scheduler, infer catalog.Inferrer) (*Server, error) {
	s := &Server{sched: sched, infer: infer, sessions: map[string]*engine.Session{}, seq: map[string]int{}}
	if sched.cfg.Store == nil {
		return s, nil
	}
	recs, err := sched.cfg.Store.List(ctx, "sessions/")
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(recs) {
		parts := strings.Split(k, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("state %s: not a session statement", k)
		}
		id, err := hex.DecodeString(parts[1])
		if err != nil {
			return nil, fmt.Errorf("state %s: %w", k, err)
		}
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			return nil, fmt.Errorf("state %s: %w", k, err)
		}
		sess := s.Session(string(id))
		if err := sess.Run(ctx, string(recs[k]), func(r *engine.Result) error { return nil }); err != nil {
			// A table whose files are gone stays gone; the rest of the
			// session is rebuilt.
			sched.cfg.Logf("scheduler: replaying %q of session %q: %v", sql.RedactSecrets(string(recs[k])), id, err)
		}
		s.seq[string(id)] = max(s.seq[string(id)], n+1)
	}
	return s, nil
}

// remember saves a statement that changed a session.
func (s *Server) remember(ctx context.Context, session, stmt string) error {
	st := s.sched.cfg.Store
	if st == nil {
		return nil
	}
	s.mu.Lock()
	n := s.seq[session]
	s.seq[session] = n + 1
	s.mu.Unlock()
	return st.Put(ctx, fmt.Sprintf("sessions/%s/%010d", hex.EncodeToString([]byte(session)), n), []byte(stmt))
}

// Register adds the service to a gRPC server.
func (s *Server) Register(g *grpc.Server) { clusterpb.RegisterSchedulerServiceServer(g, s) }

// ServerOptions are the gRPC options of the scheduler's server: raised
// message limits and the security of sec.
func ServerOptions(sec clusterpb.Security) ([]grpc.ServerOption, error) {
	opts, err := sec.ServerOptions()
	if err != nil {
		return nil, err
	}
	return append([]grpc.ServerOption{grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg)}, opts...), nil
}

// Session returns the session with the given id, creating it.
func (s *Server) Session(id string) *engine.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.sessions[id]; ok {
		return ss
	}
	cat := catalog.New(s.infer)
	if e := s.sched.cfg.Extensions; e != nil {
		cat.SetExtensions(e)
	}
	ss := engine.NewSession(cat, &clusterExec{s.sched}, engine.ExecOptions{})
	ss.PluginParallelism = func() int { return s.sched.StageConfig().Partitions }
	s.sessions[id] = ss
	return ss
}

// CloseSession forgets a session: its tables, views and settings, and its
// saved statements (a Flight SQL login that expired). Its running jobs
// are not affected.
func (s *Server) CloseSession(ctx context.Context, id string) error {
	s.mu.Lock()
	delete(s.sessions, id)
	delete(s.seq, id)
	s.mu.Unlock()
	st := s.sched.cfg.Store
	if st == nil {
		return nil
	}
	recs, err := st.List(ctx, "sessions/"+hex.EncodeToString([]byte(id))+"/")
	if err != nil {
		return err
	}
	for k := range recs {
		if err := st.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) RegisterExecutor(_ context.Context, req *clusterpb.RegisterExecutorRequest) (*clusterpb.RegisterExecutorResponse, error) {
	if err := s.sched.Register(req.GetExecutor()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &clusterpb.RegisterExecutorResponse{SchedulerId: s.sched.ID(), HeartbeatIntervalMs: uint32(s.sched.cfg.HeartbeatInterval.Milliseconds())}, nil
}

func (s *Server) Heartbeat(_ context.Context, req *clusterpb.HeartbeatRequest) (*clusterpb.HeartbeatResponse, error) {
	return s.sched.Heartbeat(req)
}

func (s *Server) UpdateTaskStatus(_ context.Context, req *clusterpb.UpdateTaskStatusRequest) (*clusterpb.UpdateTaskStatusResponse, error) {
	s.sched.Update(req.GetExecutorId(), req.GetStatuses())
	return &clusterpb.UpdateTaskStatusResponse{}, nil
}

func (s *Server) SubmitJob(ctx context.Context, req *clusterpb.SubmitJobRequest) (*clusterpb.SubmitJobResponse, error) {
	if rid := req.GetRequestId(); rid != "" {
		// One submission at a time per request id, so a retry that races
		// the first attempt waits for it.
		unlock := s.lockRequest(rid)
		defer unlock()
		if id, ok := s.sched.JobOfRequest(rid); ok {
			return &clusterpb.SubmitJobResponse{JobId: id}, nil
		}
	}
	id, err := s.submit(ctx, req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &clusterpb.SubmitJobResponse{JobId: id}, nil
}

// submit plans a request: a query becomes a job; any other statement runs
// here and becomes a finished job with its result inline.
func (s *Server) submit(ctx context.Context, req *clusterpb.SubmitJobRequest) (string, error) {
	sess := s.Session(req.GetSessionId())
	var plan logical.Plan
	query := "Substrait plan"
	switch q := req.GetQuery().(type) {
	case *clusterpb.SubmitJobRequest_Sql:
		// Job records (REST API, web UI) show the statement without secrets.
		query = sql.RedactSecrets(q.Sql)
		stmts, err := sql.Parse(q.Sql)
		if err != nil {
			return "", err
		}
		if len(stmts) != 1 {
			return "", fmt.Errorf("submit one statement at a time (got %d)", len(stmts))
		}
		p, res, err := sess.Prepare(ctx, stmts[0])
		if err != nil {
			return "", err
		}
		if p == nil {
			if res.Changed {
				if err := s.remember(ctx, req.GetSessionId(), q.Sql); err != nil {
					res.Stream.Close()
					return "", fmt.Errorf("saving the statement: %w", err)
				}
			}
			inline, err := streamBytes(ctx, res.Stream)
			return s.sched.AddFinished(req.GetRequestId(), req.GetSessionId(), query, inline, err), nil
		}
		plan = p
	case *clusterpb.SubmitJobRequest_Substrait:
		p, err := sess.PlanSubstrait(q.Substrait)
		if err != nil {
			return "", err
		}
		plan = p
	default:
		return "", errors.New("submit: neither SQL nor a Substrait plan")
	}
	settings, err := jobSettings(sess.Options, req.GetSettings())
	if err != nil {
		return "", err
	}
	cfg := s.sched.StageConfig()
	if v, ok := settings["partitions"]; ok {
		cfg.Partitions, _ = strconv.Atoi(v)
	}
	job, err := stages.Plan(plan, cfg)
	if err != nil {
		return "", err
	}
	return s.sched.Submit(job, req.GetRequestId(), req.GetSessionId(), query, settings)
}

// jobSettings merges a session's settings (SET memory_limit,
// target_partitions) with the request's: partitions and memory_limit (in
// bytes, or with a unit such as 2GB). Unknown settings are refused.
func jobSettings(o engine.ExecOptions, req map[string]string) (map[string]string, error) {
	out := map[string]string{}
	if o.Partitions > 0 {
		out["partitions"] = strconv.Itoa(o.Partitions)
	}
	if o.MemoryLimit > 0 {
		out["memory_limit"] = strconv.FormatInt(o.MemoryLimit, 10)
	}
	for k, v := range req {
		switch k {
		case "partitions":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1<<14 {
				return nil, fmt.Errorf("setting partitions: %q is not a partition count", v)
			}
			out[k] = strconv.Itoa(n)
		case "memory_limit":
			n, err := engine.ParseBytes(v)
			if err != nil {
				return nil, fmt.Errorf("setting memory_limit: %w", err)
			}
			out[k] = strconv.FormatInt(n, 10)
		default:
			return nil, fmt.Errorf("not supported: setting %q (known: partitions, memory_limit)", k)
		}
	}
	return out, nil
}

// lockRequest serialises submissions with the same request id.
func (s *Server) lockRequest(rid string) func() {
	s.mu.Lock()
	if s.inflight == nil {
		s.inflight = map[string]*sync.Mutex{}
	}
	m, ok := s.inflight[rid]
	if !ok {
		m = &sync.Mutex{}
		s.inflight[rid] = m
	}
	s.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		s.mu.Lock()
		delete(s.inflight, rid)
		s.mu.Unlock()
	}
}

func (s *Server) GetJob(_ context.Context, req *clusterpb.GetJobRequest) (*clusterpb.GetJobResponse, error) {
	st, _, err := s.sched.Status(req.GetJobId())
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &clusterpb.GetJobResponse{Status: st}, nil
}

func (s *Server) WatchJob(req *clusterpb.WatchJobRequest, stream grpc.ServerStreamingServer[clusterpb.WatchJobResponse]) error {
	ctx := stream.Context()
	for {
		st, changed, err := s.sched.Status(req.GetJobId())
		if err != nil {
			return status.Error(codes.NotFound, err.Error())
		}
		if err := stream.Send(&clusterpb.WatchJobResponse{Status: st}); err != nil {
			return err
		}
		switch st.GetState() {
		case clusterpb.JobState_JOB_STATE_SUCCEEDED, clusterpb.JobState_JOB_STATE_FAILED, clusterpb.JobState_JOB_STATE_CANCELLED:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (s *Server) CancelJob(_ context.Context, req *clusterpb.CancelJobRequest) (*clusterpb.CancelJobResponse, error) {
	if err := s.sched.Cancel(req.GetJobId()); err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &clusterpb.CancelJobResponse{}, nil
}

func (s *Server) RemoveJobData(_ context.Context, req *clusterpb.RemoveJobDataRequest) (*clusterpb.RemoveJobDataResponse, error) {
	if err := s.sched.RemoveResults(req.GetJobId()); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &clusterpb.RemoveJobDataResponse{}, nil
}

// streamBytes drains a statement's result into an Arrow IPC stream.
func streamBytes(ctx context.Context, st engine.Stream) ([]byte, error) {
	defer st.Close()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(st.Schema()), ipc.WithAllocator(memory.DefaultAllocator))
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := w.Write(b); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// schemaBytes is an Arrow schema as an IPC schema message.
func schemaBytes(s *arrow.Schema) []byte {
	return flight.SerializeSchema(s, memory.DefaultAllocator)
}

// clusterExec is the sessions' executor on the scheduler: EXPLAIN shows
// the stage plan, EXPLAIN ANALYZE runs the job and shows each stage's
// tasks with their operators' metrics.
type clusterExec struct{ s *Scheduler }

func (c *clusterExec) stageConfig(o engine.ExecOptions) stages.Config {
	cfg := c.s.StageConfig()
	if o.Partitions > 0 {
		cfg.Partitions = o.Partitions
	}
	return cfg
}

// Execute runs a job to its end (EXPLAIN ANALYZE); the stream it returns
// is empty and carries the job for Analyze.
func (c *clusterExec) Execute(ctx context.Context, p logical.Plan, o engine.ExecOptions) (engine.Stream, error) {
	job, err := stages.Plan(p, c.stageConfig(o))
	if err != nil {
		return nil, err
	}
	settings := map[string]string{}
	if o.MemoryLimit > 0 {
		settings["memory_limit"] = strconv.FormatInt(o.MemoryLimit, 10)
	}
	id, err := c.s.Submit(job, "", "", "EXPLAIN ANALYZE", settings)
	if err != nil {
		return nil, err
	}
	for {
		st, changed, err := c.s.Status(id)
		if err != nil {
			return nil, err
		}
		switch st.GetState() {
		case clusterpb.JobState_JOB_STATE_SUCCEEDED:
			_ = c.s.RemoveResults(id)
			return &analyzed{BatchStream: engine.NewBatchStream(arrow.NewSchema(nil, nil), nil), job: id}, nil
		case clusterpb.JobState_JOB_STATE_FAILED, clusterpb.JobState_JOB_STATE_CANCELLED:
			return nil, fmt.Errorf("job %s: %s", id, st.GetError())
		}
		select {
		case <-ctx.Done():
			_ = c.s.Cancel(id)
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// analyzed is the (empty) result of an EXPLAIN ANALYZE job.
type analyzed struct {
	*engine.BatchStream
	job string
}

func (c *clusterExec) ExplainPhysical(p logical.Plan, o engine.ExecOptions) (string, error) {
	job, err := stages.Plan(p, c.stageConfig(o))
	if err != nil {
		return "", err
	}
	return job.String(), nil
}

// Analyze renders each stage of an EXPLAIN ANALYZE job: its tasks' times
// and output, and the operators' metrics of its slowest task.
func (c *clusterExec) Analyze(st engine.Stream) string {
	a, ok := st.(*analyzed)
	if !ok {
		return ""
	}
	info, ok := c.s.Job(a.job)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "job %s: %d stages, %d ms\n", info.ID, len(info.Stages), info.DurationMs)
	for _, sg := range info.Stages {
		var slowest *TaskInfo
		var total uint64
		for i := range sg.Task {
			t := &sg.Task[i]
			total += t.ElapsedMs
			if slowest == nil || t.ElapsedMs > slowest.ElapsedMs {
				slowest = t
			}
		}
		fmt.Fprintf(&b, "Stage %d: tasks=%d inputs=%v output=%s rows=%d bytes=%d task time total=%d ms\n",
			sg.ID, sg.Tasks, sg.Inputs, sg.Output, sg.Rows, sg.Bytes, total)
		if slowest != nil {
			fmt.Fprintf(&b, "  slowest task %d on %s: %d ms, peak memory %d bytes\n", slowest.Partition, slowest.Executor, slowest.ElapsedMs, slowest.PeakMem)
			for _, line := range strings.Split(strings.TrimRight(slowest.Operators, "\n"), "\n") {
				b.WriteString("    " + line + "\n")
			}
		}
	}
	return b.String()
}
