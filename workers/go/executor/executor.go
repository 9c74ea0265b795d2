// Package executor is the native Go executor process: it registers with
// the scheduler, heartbeats, runs the tasks it is given in its slots, and
// serves its shuffle and result files with Flight. Its ExecutorService
// and the Flight service share one gRPC server (one port).
package executor

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	worker "github.com/arbalest/arbalest/workers/go"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
)

// Config configures an executor.
type Config struct {
	// ID identifies the executor; empty makes a fresh one.
	ID string
	// Scheduler is the scheduler's host:port.
	Scheduler string
	// Listen is the address to serve on (host:port; port 0 picks one).
	Listen string
	// Advertise is the host:port others reach this executor at; empty
	// uses the listening address.
	Advertise string
	// Slots is how many tasks run at once (>= 1).
	Slots int
	// WorkDir holds the shuffle and result files.
	WorkDir string
	// MemoryLimit bounds each task's operator state; 0 takes 70% of the
	// memory the process may use, shared by the slots; < 0 means none.
	MemoryLimit int64
	// SweepAge removes job files older than this (left by crashes); 0
	// means 24h.
	SweepAge time.Duration
	// Logf logs; nil uses the standard logger.
	Logf func(format string, args ...any)
	// FlightOnly reads other executors' shuffle outputs over Flight even
	// when their files are on this machine.
	FlightOnly bool
	// Security is how the executor, the scheduler, the other executors and
	// clients authenticate (token, TLS): it guards the executor's services
	// (tasks and Flight) and is presented on its own calls.
	Security clusterpb.Security
	// Plugins are this executor's instances of the plugins that stage
	// fragments use (data sources and functions); nil when none.
	Plugins Plugins
}

// Plugins resolves what stage fragments name: data source plugins and
// user-defined functions (by extension URN and name).
type Plugins interface {
	Provider(name string) (logical.ScanProvider, bool)
	ResolveFunction(urn, name string) (*logical.Function, bool)
}

// fragmentResolver lets the consumer find plugins; fragments name no
// catalog tables (scans are inlined).
type fragmentResolver struct{ p Plugins }

func (r fragmentResolver) ResolveTable(names []string) (*logical.TableSource, error) {
	return nil, fmt.Errorf("stage fragments read no named tables (got %v)", names)
}

func (r fragmentResolver) Provider(name string) (logical.ScanProvider, bool) {
	if r.p == nil {
		return nil, false
	}
	return r.p.Provider(name)
}

func (r fragmentResolver) ResolveFunction(urn, name string) (*logical.Function, bool) {
	if r.p == nil {
		return nil, false
	}
	return r.p.ResolveFunction(urn, name)
}

const maxMsg = 256 << 20

// Executor is a running executor.
type Executor struct {
	cfg    Config
	id     string
	addr   string
	lis    net.Listener
	server *grpc.Server
	conn   *grpc.ClientConn
	sched  clusterpb.SchedulerServiceClient
	// flights are the Flight clients of shuffle reads, shared by tasks.
	flights *shuffle.ClientCache

	mu      sync.Mutex
	running map[taskKey]*runningTask
	// schedulerID is the scheduler instance it registered with.
	schedulerID string
	heartbeat   time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type taskKey struct {
	job              string
	stage, partition uint32
}

type runningTask struct {
	id     *clusterpb.TaskId
	cancel context.CancelFunc
}

// Start serves the executor and registers it with the scheduler (in the
// background: the scheduler may come up later).
func Start(cfg Config) (*Executor, error) {
	if cfg.Slots < 1 {
		return nil, fmt.Errorf("executor needs at least one slot, got %d", cfg.Slots)
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("executor needs a work directory")
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.SweepAge <= 0 {
		cfg.SweepAge = 24 * time.Hour
	}
	switch {
	case cfg.MemoryLimit == 0:
		cfg.MemoryLimit = defaultTaskMemory(cfg.Slots)
	case cfg.MemoryLimit < 0:
		cfg.MemoryLimit = 0
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("executor listen on %s: %w", cfg.Listen, err)
	}
	e := &Executor{cfg: cfg, id: cfg.ID, lis: lis, running: map[taskKey]*runningTask{}, heartbeat: 2 * time.Second}
	if e.id == "" {
		e.id = newID()
	}
	e.addr = cfg.Advertise
	if e.addr == "" {
		e.addr = lis.Addr().String()
	}
	dialSec, err := cfg.Security.DialOptions()
	if err != nil {
		lis.Close()
		return nil, err
	}
	serveSec, err := cfg.Security.ServerOptions()
	if err != nil {
		lis.Close()
		return nil, err
	}
	// Reconnect to a scheduler that went away within a couple of seconds
	// of its return (gRPC's default backoff grows to two minutes).
	bo := backoff.DefaultConfig
	bo.MaxDelay = 2 * time.Second
	conn, err := grpc.NewClient(cfg.Scheduler, append([]grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second})}, dialSec...)...)
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("scheduler %s: %w", cfg.Scheduler, err)
	}
	e.conn, e.sched = conn, clusterpb.NewSchedulerServiceClient(conn)
	// Shuffle reads from other executors present the same credentials.
	flightOpts := append(shuffle.DialOptions(shuffle.DefaultConnectTimeout), dialSec...)
	e.flights = shuffle.NewClientCache(func(ctx context.Context, addr string) (flight.Client, error) {
		return flight.NewClientWithMiddlewareCtx(ctx, addr, nil, nil, flightOpts...)
	})
	e.server = grpc.NewServer(append([]grpc.ServerOption{grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg)}, serveSec...)...)
	clusterpb.RegisterExecutorServiceServer(e.server, &service{e: e})
	flight.RegisterFlightServiceServer(e.server, shuffle.NewFlightService(cfg.WorkDir, nil))
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(3)
	go func() {
		defer e.wg.Done()
		if err := e.server.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			cfg.Logf("executor %s: serve: %v", e.id, err)
		}
	}()
	go e.heartbeatLoop()
	go e.sweepLoop()
	return e, nil
}

// MemoryLimitText describes the memory limit of each task.
func (e *Executor) MemoryLimitText() string {
	if e.cfg.MemoryLimit <= 0 {
		return "no memory limit"
	}
	return fmt.Sprintf("%.1f GiB", float64(e.cfg.MemoryLimit)/(1<<30))
}

// ID is the executor's id.
func (e *Executor) ID() string { return e.id }

// Addr is the address it serves at.
func (e *Executor) Addr() string { return e.addr }

// Stop cancels the running tasks and stops serving.
func (e *Executor) Stop() {
	e.cancel()
	e.mu.Lock()
	for _, t := range e.running {
		t.cancel()
	}
	e.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		e.server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		e.server.Stop()
	}
	e.wg.Wait()
	e.flights.Close()
	e.conn.Close()
}

func newID() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("exec-%s-%d-%d", h, os.Getpid(), time.Now().UnixNano()%1_000_000_000)
}

func (e *Executor) metadata() *clusterpb.ExecutorMetadata {
	return &clusterpb.ExecutorMetadata{Id: e.id, GrpcAddress: e.addr, FlightAddress: e.addr, Slots: uint32(e.cfg.Slots),
		Capabilities: &clusterpb.Capabilities{Engine: "go"}, Version: "arbalest"}
}

// heartbeatLoop registers and then heartbeats; it registers again when
// the scheduler does not know it (after a scheduler restart).
func (e *Executor) heartbeatLoop() {
	defer e.wg.Done()
	registered := false
	backoff := 100 * time.Millisecond
	for {
		var wait time.Duration
		if !registered {
			ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
			resp, err := e.sched.RegisterExecutor(ctx, &clusterpb.RegisterExecutorRequest{Executor: e.metadata()})
			cancel()
			if err == nil {
				registered = true
				backoff = 100 * time.Millisecond
				e.mu.Lock()
				e.schedulerID = resp.GetSchedulerId()
				if ms := resp.GetHeartbeatIntervalMs(); ms > 0 {
					e.heartbeat = time.Duration(ms) * time.Millisecond
				}
				wait = e.heartbeat
				e.mu.Unlock()
			} else {
				if e.ctx.Err() != nil {
					return
				}
				wait = backoff
				backoff = min(2*backoff, 2*time.Second)
			}
		} else {
			e.mu.Lock()
			req := &clusterpb.HeartbeatRequest{ExecutorId: e.id, Load: &clusterpb.ExecutorLoad{FreeSlots: uint32(e.cfg.Slots - len(e.running))}}
			for _, t := range e.running {
				req.Running = append(req.Running, t.id)
			}
			wait = e.heartbeat
			e.mu.Unlock()
			ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
			resp, err := e.sched.Heartbeat(ctx, req)
			cancel()
			switch {
			case err != nil:
				if e.ctx.Err() != nil {
					return
				}
				e.cfg.Logf("executor %s: heartbeat: %v", e.id, err)
			case resp.GetReregister():
				registered = false
				wait = 0
			default:
				for _, id := range resp.GetCancel() {
					e.cancelTask(id)
				}
			}
		}
		select {
		case <-e.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (e *Executor) sweepLoop() {
	defer e.wg.Done()
	every := min(e.cfg.SweepAge/4, time.Hour)
	for {
		if removed, err := shuffle.Sweep(e.cfg.WorkDir, e.cfg.SweepAge, time.Now()); err != nil {
			e.cfg.Logf("executor %s: sweep: %v", e.id, err)
		} else if len(removed) > 0 {
			e.cfg.Logf("executor %s: swept %d old job directories", e.id, len(removed))
		}
		select {
		case <-e.ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (e *Executor) cancelTask(id *clusterpb.TaskId) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.running[taskKey{id.GetJobId(), id.GetStageId(), id.GetPartition()}]; ok && t.id.GetAttempt() == id.GetAttempt() {
		t.cancel()
	}
}

// launch starts the tasks it has slots for and rejects the others.
func (e *Executor) launch(req *clusterpb.LaunchTasksRequest) *clusterpb.LaunchTasksResponse {
	resp := &clusterpb.LaunchTasksResponse{}
	for _, def := range req.GetTasks() {
		id := def.GetTask()
		plan, err := consumer.FromBytes(def.GetPlan(), fragmentResolver{e.cfg.Plugins})
		if err != nil {
			resp.Rejected = append(resp.Rejected, &clusterpb.TaskRejection{Task: id, Reason: "cannot read the fragment: " + err.Error()})
			continue
		}
		memLimit := e.cfg.MemoryLimit
		if v, ok := def.GetSettings()["memory_limit"]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				resp.Rejected = append(resp.Rejected, &clusterpb.TaskRejection{Task: id, Reason: fmt.Sprintf("memory_limit %q is not a byte count", v)})
				continue
			}
			memLimit = n
		}
		key := taskKey{id.GetJobId(), id.GetStageId(), id.GetPartition()}
		e.mu.Lock()
		if len(e.running) >= e.cfg.Slots {
			e.mu.Unlock()
			resp.Rejected = append(resp.Rejected, &clusterpb.TaskRejection{Task: id, Reason: "no free slot"})
			continue
		}
		if old, dup := e.running[key]; dup {
			old.cancel()
		}
		ctx, cancel := context.WithCancel(e.ctx)
		e.running[key] = &runningTask{id: id, cancel: cancel}
		e.mu.Unlock()
		task := worker.Task{JobID: id.GetJobId(), Stage: int(id.GetStageId()), Partition: int(id.GetPartition()),
			Attempt: int(id.GetAttempt()), Tasks: int(def.GetTaskCount()), Plan: plan}
		e.wg.Add(1)
		go e.run(ctx, cancel, key, task, id, memLimit)
	}
	return resp
}

// run runs one task and reports how it ended.
func (e *Executor) run(ctx context.Context, cancel context.CancelFunc, key taskKey, task worker.Task, id *clusterpb.TaskId, memLimit int64) {
	defer e.wg.Done()
	defer cancel()
	env := worker.TaskEnv{ExecutorID: e.id, WorkDir: e.cfg.WorkDir, MemoryLimit: memLimit, Fetch: shuffle.ReaderConfig{Clients: e.flights, FlightOnly: e.cfg.FlightOnly}}
	res, err := runGuarded(ctx, task, env)
	st := &clusterpb.TaskStatus{Task: id, ExecutorId: e.id}
	switch {
	case err == nil:
		st.State = clusterpb.TaskState_TASK_STATE_SUCCEEDED
		for _, o := range res.Outputs {
			tk, err := shuffle.EncodeTicket(shuffle.Ticket{Job: task.JobID, Stage: task.Stage, Map: task.Partition, Partition: o.Partition})
			if err != nil {
				st.State, st.Error, st.Outputs = clusterpb.TaskState_TASK_STATE_FAILED, err.Error(), nil
				break
			}
			st.Outputs = append(st.Outputs, &clusterpb.PartitionOutput{Partition: uint32(o.Partition), Rows: uint64(o.Rows), Bytes: uint64(o.Bytes), Ticket: tk})
		}
		st.Metrics = &clusterpb.TaskMetrics{ElapsedMs: uint64(res.Elapsed.Milliseconds()), OutputRows: uint64(res.OutputRows),
			PeakMemoryBytes: uint64(res.PeakMemory), Operators: res.Analyze}
		if dir, err := filepath.Abs(worker.OutputDir(e.cfg.WorkDir, task.JobID, task.Stage, task.Partition)); err == nil {
			st.OutputDir = dir
		}
	case ctx.Err() != nil || errors.Is(err, exec.ErrCanceled):
		st.State = clusterpb.TaskState_TASK_STATE_CANCELLED
		st.Error = err.Error()
	default:
		st.State = clusterpb.TaskState_TASK_STATE_FAILED
		st.Error = err.Error()
		var fe *shuffle.FetchError
		if errors.As(err, &fe) {
			st.FetchFailure = &clusterpb.FetchFailure{ExecutorId: fe.ExecutorID, StageId: uint32(fe.Stage), MapPartition: uint32(fe.MapPartition)}
		}
	}
	if st.State == clusterpb.TaskState_TASK_STATE_FAILED {
		e.cfg.Logf("executor %s: job %s stage %d task %d attempt %d failed: %s", e.id, id.GetJobId(), id.GetStageId(), id.GetPartition(), id.GetAttempt(), st.Error)
	}
	e.mu.Lock()
	if cur, ok := e.running[key]; ok && cur.id.GetAttempt() == id.GetAttempt() {
		delete(e.running, key)
	}
	e.mu.Unlock()
	e.report(st)
}

// runGuarded runs a task, turning a panic into an error so one bad task
// never takes the executor down.
func runGuarded(ctx context.Context, task worker.Task, env worker.TaskEnv) (res *worker.TaskResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("internal error in task %d of stage %d: %v", task.Partition, task.Stage, r)
		}
	}()
	return worker.RunTask(ctx, task, env)
}

// report sends a task status, retrying for a while: the scheduler may be
// restarting. If it never answers, the task is lost to it and it runs the
// task again.
func (e *Executor) report(st *clusterpb.TaskStatus) {
	deadline := time.Now().Add(time.Minute)
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := e.sched.UpdateTaskStatus(ctx, &clusterpb.UpdateTaskStatusRequest{ExecutorId: e.id, Statuses: []*clusterpb.TaskStatus{st}})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || (e.ctx.Err() != nil && time.Now().After(deadline.Add(-55*time.Second))) {
			e.cfg.Logf("executor %s: giving up reporting task %v: %v", e.id, st.GetTask(), err)
			return
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// service is the ExecutorService.
type service struct {
	clusterpb.UnimplementedExecutorServiceServer
	e *Executor
}

func (s *service) LaunchTasks(_ context.Context, req *clusterpb.LaunchTasksRequest) (*clusterpb.LaunchTasksResponse, error) {
	return s.e.launch(req), nil
}

func (s *service) CancelTasks(_ context.Context, req *clusterpb.CancelTasksRequest) (*clusterpb.CancelTasksResponse, error) {
	for _, id := range req.GetTasks() {
		s.e.cancelTask(id)
	}
	if j := req.GetJobId(); j != "" {
		s.e.mu.Lock()
		for k, t := range s.e.running {
			if k.job == j {
				t.cancel()
			}
		}
		s.e.mu.Unlock()
	}
	return &clusterpb.CancelTasksResponse{}, nil
}

func (s *service) RemoveJobFiles(_ context.Context, req *clusterpb.RemoveJobFilesRequest) (*clusterpb.RemoveJobFilesResponse, error) {
	var err error
	if len(req.GetStages()) == 0 {
		s.e.mu.Lock()
		for k, t := range s.e.running {
			if k.job == req.GetJobId() {
				t.cancel()
			}
		}
		s.e.mu.Unlock()
		err = shuffle.RemoveJob(s.e.cfg.WorkDir, req.GetJobId())
	} else {
		for _, st := range req.GetStages() {
			if e := shuffle.RemoveStage(s.e.cfg.WorkDir, req.GetJobId(), int(st)); e != nil && err == nil {
				err = e
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return &clusterpb.RemoveJobFilesResponse{}, nil
}
