package scheduler

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc"

	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// fakeExecutor is an ExecutorService that records what it is asked and
// lets the test decide how tasks end (through Scheduler.Update).
type fakeExecutor struct {
	clusterpb.UnimplementedExecutorServiceServer
	id     string
	srv    *grpc.Server
	addr   string
	mu     sync.Mutex
	tasks  []*clusterpb.TaskDefinition
	cancel []*clusterpb.TaskId
	reject string
}

func newFake(t *testing.T, id string) *fakeExecutor {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeExecutor{id: id, srv: grpc.NewServer(), addr: lis.Addr().String()}
	clusterpb.RegisterExecutorServiceServer(f.srv, f)
	go f.srv.Serve(lis)
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeExecutor) LaunchTasks(_ context.Context, req *clusterpb.LaunchTasksRequest) (*clusterpb.LaunchTasksResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &clusterpb.LaunchTasksResponse{}
	for _, d := range req.GetTasks() {
		if f.reject != "" {
			resp.Rejected = append(resp.Rejected, &clusterpb.TaskRejection{Task: d.GetTask(), Reason: f.reject})
			continue
		}
		f.tasks = append(f.tasks, d)
	}
	return resp, nil
}

func (f *fakeExecutor) CancelTasks(_ context.Context, req *clusterpb.CancelTasksRequest) (*clusterpb.CancelTasksResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancel = append(f.cancel, req.GetTasks()...)
	return &clusterpb.CancelTasksResponse{}, nil
}

func (f *fakeExecutor) RemoveJobFiles(context.Context, *clusterpb.RemoveJobFilesRequest) (*clusterpb.RemoveJobFilesResponse, error) {
	return &clusterpb.RemoveJobFilesResponse{}, nil
}

// take waits for n launched tasks and returns them.
func (f *fakeExecutor) take(t *testing.T, n int) []*clusterpb.TaskDefinition {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		if len(f.tasks) >= n {
			out := f.tasks[:n]
			f.tasks = f.tasks[n:]
			f.mu.Unlock()
			return out
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("executor %s: %d tasks launched, want %d", f.id, len(f.tasks), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fakeExecutor) meta(slots uint32) *clusterpb.ExecutorMetadata {
	return &clusterpb.ExecutorMetadata{Id: f.id, GrpcAddress: f.addr, FlightAddress: f.addr, Slots: slots}
}

// twoStages is a job of a 2-task map stage hashed into a 2-task final
// stage.
func twoStages() *stages.Job {
	src := &logical.TableSource{Name: "t", Format: "parquet", Location: "/nowhere/t.parquet", RowCount: -1,
		Schema: arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)}
	scan := logical.NewScan(src, "", nil)
	s0 := &stages.Stage{ID: 0, Tasks: 2, Plan: &logical.ShuffleWrite{Input: scan, Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 2}}
	read := logical.NewShuffleRead(0, scan.Schema())
	s1 := &stages.Stage{ID: 1, Tasks: 2, Inputs: []int{0}, Plan: &logical.ShuffleWrite{Input: read, Kind: logical.ShuffleSingle, Partitions: 1}}
	return &stages.Job{Stages: []*stages.Stage{s0, s1}, Schema: scan.Schema()}
}

func quiet(string, ...any) {}

func newTestScheduler(t *testing.T, cfg Config) *Scheduler {
	t.Helper()
	cfg.Logf = quiet
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func succeed(s *Scheduler, ex string, d *clusterpb.TaskDefinition) {
	s.Update(ex, []*clusterpb.TaskStatus{{Task: d.GetTask(), ExecutorId: ex, State: clusterpb.TaskState_TASK_STATE_SUCCEEDED,
		Outputs: []*clusterpb.PartitionOutput{{Partition: 0, Rows: 1, Ticket: []byte("t")}}}})
}

func fail(s *Scheduler, ex string, d *clusterpb.TaskDefinition, msg string) {
	s.Update(ex, []*clusterpb.TaskStatus{{Task: d.GetTask(), ExecutorId: ex, State: clusterpb.TaskState_TASK_STATE_FAILED, Error: msg}})
}

func waitState(t *testing.T, s *Scheduler, id string, want clusterpb.JobState) *clusterpb.JobStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, changed, err := s.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.GetState() == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s (%s), want %s", id, st.GetState(), st.GetError(), want)
		}
		select {
		case <-changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestStagesRunInOrder(t *testing.T) {
	s := newTestScheduler(t, Config{})
	f := newFake(t, "e1")
	if err := s.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	id, err := s.Submit(twoStages(), "", "", "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	maps := f.take(t, 2)
	for _, d := range maps {
		if d.GetTask().GetStageId() != 0 || d.GetTaskCount() != 2 {
			t.Fatalf("first launch %v, want stage 0 of 2 tasks", d.GetTask())
		}
	}
	succeed(s, "e1", maps[0])
	time.Sleep(100 * time.Millisecond)
	f.mu.Lock()
	early := len(f.tasks)
	f.mu.Unlock()
	if early != 0 {
		t.Fatalf("stage 1 started before stage 0 was complete")
	}
	succeed(s, "e1", maps[1])
	finals := f.take(t, 2)
	for _, d := range finals {
		succeed(s, "e1", d)
	}
	st := waitState(t, s, id, clusterpb.JobState_JOB_STATE_SUCCEEDED)
	if len(st.GetResults()) != 2 || string(st.GetResults()[0].GetTicket()) != "t" || st.GetResults()[0].GetFlightAddress() != f.addr {
		t.Fatalf("results %v", st.GetResults())
	}
}

func TestRetriesAreBounded(t *testing.T) {
	s := newTestScheduler(t, Config{TaskAttempts: 3})
	f := newFake(t, "e1")
	if err := s.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	first := f.take(t, 2)
	succeed(s, "e1", first[1])
	d := first[0]
	for i := 0; i < 3; i++ {
		fail(s, "e1", d, fmt.Sprintf("boom %d", i))
		if i < 2 {
			d = f.take(t, 1)[0]
			if d.GetTask().GetAttempt() != uint32(i+2) {
				t.Fatalf("attempt %d, want %d", d.GetTask().GetAttempt(), i+2)
			}
		}
	}
	st := waitState(t, s, id, clusterpb.JobState_JOB_STATE_FAILED)
	if !strings.Contains(st.GetError(), "failed 3 times") || !strings.Contains(st.GetError(), "boom 2") {
		t.Fatalf("error %q", st.GetError())
	}
}

func TestLostExecutorRedoesItsWork(t *testing.T) {
	s := newTestScheduler(t, Config{HeartbeatInterval: 50 * time.Millisecond, ExecutorTimeout: 300 * time.Millisecond})
	a, b := newFake(t, "a"), newFake(t, "b")
	if err := s.Register(a.meta(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(b.meta(1)); err != nil {
		t.Fatal(err)
	}
	// Keep b alive; a stops sending heartbeats.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
				s.Heartbeat(&clusterpb.HeartbeatRequest{ExecutorId: "b"})
			}
		}
	}()
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	da, db := a.take(t, 1)[0], b.take(t, 1)[0]
	succeed(s, "a", da) // a's output is then lost with a
	succeed(s, "b", db)
	// Stage 1 starts on the free slots; then a is lost: its finished map
	// output and anything running on it are redone on b.
	time.Sleep(400 * time.Millisecond)
	waitState(t, s, id, clusterpb.JobState_JOB_STATE_RUNNING)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		var redo *clusterpb.TaskDefinition
		for _, d := range b.tasks {
			if d.GetTask().GetStageId() == 0 && d.GetTask().GetPartition() == da.GetTask().GetPartition() {
				redo = d
			}
		}
		b.mu.Unlock()
		if redo != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the map task that ran on the lost executor was not run again")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFetchFailureRemakesOutputs(t *testing.T) {
	s := newTestScheduler(t, Config{})
	f := newFake(t, "e1")
	if err := s.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	for _, d := range f.take(t, 2) {
		succeed(s, "e1", d)
	}
	finals := f.take(t, 2)
	s.Update("e1", []*clusterpb.TaskStatus{{Task: finals[0].GetTask(), ExecutorId: "e1", State: clusterpb.TaskState_TASK_STATE_FAILED,
		Error: "fetch", FetchFailure: &clusterpb.FetchFailure{ExecutorId: "e1", StageId: 0, MapPartition: 1}}})
	// Every output on e1 that stage 1 still needs is made again: both map
	// tasks (they were on the same executor).
	remade := f.take(t, 2)
	for _, d := range remade {
		if d.GetTask().GetStageId() != 0 || d.GetTask().GetAttempt() != 2 {
			t.Fatalf("re-made %v", d.GetTask())
		}
		succeed(s, "e1", d)
	}
	for _, d := range append(f.take(t, 1), finals[1]) {
		succeed(s, "e1", d)
	}
	waitState(t, s, id, clusterpb.JobState_JOB_STATE_SUCCEEDED)
}

func TestNoExecutorFailsTheJob(t *testing.T) {
	s := newTestScheduler(t, Config{NoExecutorTimeout: 300 * time.Millisecond})
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	st := waitState(t, s, id, clusterpb.JobState_JOB_STATE_FAILED)
	if !strings.Contains(st.GetError(), "no executor registered") {
		t.Fatalf("error %q", st.GetError())
	}
	// An executor that refuses the tasks: the job fails with its reason.
	f := newFake(t, "picky")
	f.reject = "relation window is not implemented"
	if err := s.Register(f.meta(2)); err != nil {
		t.Fatal(err)
	}
	id, _ = s.Submit(twoStages(), "", "", "q", nil)
	st = waitState(t, s, id, clusterpb.JobState_JOB_STATE_FAILED)
	if !strings.Contains(st.GetError(), "relation window is not implemented") {
		t.Fatalf("error %q", st.GetError())
	}
}

func TestCancelStopsTasks(t *testing.T) {
	s := newTestScheduler(t, Config{})
	f := newFake(t, "e1")
	if err := s.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	running := f.take(t, 2)
	if err := s.Cancel(id); err != nil {
		t.Fatal(err)
	}
	waitState(t, s, id, clusterpb.JobState_JOB_STATE_CANCELLED)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.cancel)
		f.mu.Unlock()
		if n == len(running) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks cancelled", n, len(running))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A late success of a cancelled job changes nothing.
	succeed(s, "e1", running[0])
	if st, _, _ := s.Status(id); st.GetState() != clusterpb.JobState_JOB_STATE_CANCELLED {
		t.Fatalf("state %s", st.GetState())
	}
}

func TestRestartResumesJobs(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileStore(dir); err == nil {
		t.Fatal("a second scheduler opened the same state directory")
	}
	s, err := New(Config{Store: store, Logf: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, "e1")
	if err := s.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "req-1", "", "q", nil)
	maps := f.take(t, 2)
	succeed(s, "e1", maps[0])
	succeed(s, "e1", maps[1])
	f.take(t, 2) // stage 1 running when the scheduler stops
	s.Close()

	store, err = OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(Config{Store: store, Logf: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok := s2.JobOfRequest("req-1"); !ok || got != id {
		t.Fatalf("request id maps to %q, %v", got, ok)
	}
	if err := s2.Register(f.meta(4)); err != nil {
		t.Fatal(err)
	}
	// The map outputs survived: only stage 1 runs again.
	for _, d := range f.take(t, 2) {
		if d.GetTask().GetStageId() != 1 {
			t.Fatalf("after the restart, %v ran again", d.GetTask())
		}
		succeed(s2, "e1", d)
	}
	waitState(t, s2, id, clusterpb.JobState_JOB_STATE_SUCCEEDED)
}

// TestCapabilities: tasks go only to executors whose capabilities cover
// their fragment; a stage no executor can run fails with the reason.
func TestCapabilities(t *testing.T) {
	req := fragmentRequirementsOf(t, twoStages().Stages[0].Plan)
	if strings.Join(req.relations, ",") != "read_local_files,write_shuffle" || strings.Join(req.formats, ",") != "parquet" {
		t.Fatalf("stage 0 needs %+v", req)
	}
	if req1 := fragmentRequirementsOf(t, twoStages().Stages[1].Plan); strings.Join(req1.relations, ",") != "read_shuffle,write_shuffle" {
		t.Fatalf("stage 1 needs %+v", req1)
	}
	s := newTestScheduler(t, Config{NoExecutorTimeout: 500 * time.Millisecond})
	py := newFake(t, "py")
	m := py.meta(4)
	m.Capabilities = &clusterpb.Capabilities{Engine: "python", Relations: []string{"read_shuffle", "write_shuffle"}}
	if err := s.Register(m); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	st := waitState(t, s, id, clusterpb.JobState_JOB_STATE_FAILED)
	if !strings.Contains(st.GetError(), "cannot run relations read_local_files") {
		t.Fatalf("error %q", st.GetError())
	}
	// With a Go executor too: the scans go to it, and the shuffle reads may
	// go to either.
	goex := newFake(t, "go")
	if err := s.Register(goex.meta(2)); err != nil {
		t.Fatal(err)
	}
	id, _ = s.Submit(twoStages(), "", "", "q", nil)
	for _, d := range goex.take(t, 2) {
		if d.GetTask().GetStageId() != 0 {
			t.Fatalf("go executor got %v first", d.GetTask())
		}
		succeed(s, "go", d)
	}
	py.mu.Lock()
	if len(py.tasks) != 0 {
		t.Errorf("the python executor got a scan task: %v", py.tasks[0].GetTask())
	}
	py.mu.Unlock()
	for _, d := range py.take(t, 2) {
		if d.GetTask().GetStageId() != 1 {
			t.Fatalf("python executor got %v", d.GetTask())
		}
		succeed(s, "py", d)
	}
	waitState(t, s, id, clusterpb.JobState_JOB_STATE_SUCCEEDED)
}

func fragmentRequirementsOf(t *testing.T, p logical.Plan) requirements {
	t.Helper()
	pp, err := producer.ToProtoWith(p, producer.Options{InlineTables: true})
	if err != nil {
		t.Fatal(err)
	}
	return fragmentRequirements(pp)
}

// TestRetryOnAnotherExecutor: a task that failed on an executor is retried
// on another one when there is one.
func TestRetryOnAnotherExecutor(t *testing.T) {
	s := newTestScheduler(t, Config{TaskAttempts: 2})
	a, b := newFake(t, "a"), newFake(t, "b")
	if err := s.Register(a.meta(8)); err != nil {
		t.Fatal(err)
	}
	id, _ := s.Submit(twoStages(), "", "", "q", nil)
	maps := a.take(t, 2)
	if err := s.Register(b.meta(1)); err != nil {
		t.Fatal(err)
	}
	fail(s, "a", maps[0], "a bug of executor a")
	// a has more free slots, but the retry goes to b.
	retry := b.take(t, 1)[0]
	if retry.GetTask().GetPartition() != maps[0].GetTask().GetPartition() {
		t.Fatalf("b got %v", retry.GetTask())
	}
	succeed(s, "b", retry)
	succeed(s, "a", maps[1])
	for _, f := range []*fakeExecutor{a, b} {
		f.mu.Lock()
		ds := append([]*clusterpb.TaskDefinition(nil), f.tasks...)
		f.tasks = nil
		f.mu.Unlock()
		for _, d := range ds {
			succeed(s, f.id, d)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _, _ := s.Status(id)
		if st.GetState() == clusterpb.JobState_JOB_STATE_SUCCEEDED {
			break
		}
		for _, f := range []*fakeExecutor{a, b} {
			f.mu.Lock()
			ds := append([]*clusterpb.TaskDefinition(nil), f.tasks...)
			f.tasks = nil
			f.mu.Unlock()
			for _, d := range ds {
				succeed(s, f.id, d)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job is %s", st.GetState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
