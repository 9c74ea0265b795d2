// Package scheduler is the cluster's scheduler: it plans queries into
// stages (host/stages), hands their tasks to executors over gRPC, follows
// their progress and failures, and tells clients where the results are.
//
// Scheduling is push-based: a task is launched into a free slot of a live
// executor as soon as every stage it reads is complete. A failed task is
// retried up to Config.TaskAttempts times; a task that could not read an
// input re-runs the map task that wrote it; an executor that misses its
// heartbeats for Config.ExecutorTimeout is lost, and its running tasks and
// the outputs it held are redone elsewhere. Every wait is bounded: a job
// with work and no executor to run it for Config.NoExecutorTimeout fails,
// and so does a job past Config.JobTimeout. A job always ends succeeded,
// failed with a reason, or cancelled.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/arbalest/arbalest/host/catalog"
	"log"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// Config tunes the scheduler. Zero values take the defaults.
type Config struct {
	// HeartbeatInterval is how often executors send heartbeats (2s).
	HeartbeatInterval time.Duration
	// ExecutorTimeout is how long an executor may go without a heartbeat
	// before it is lost (5 × HeartbeatInterval).
	ExecutorTimeout time.Duration
	// TaskAttempts bounds the attempts of one task (4).
	TaskAttempts int
	// FetchFailures bounds how often a job's tasks may fail to read their
	// inputs (and make the scheduler re-run the tasks that wrote them) (16).
	FetchFailures int
	// NoExecutorTimeout fails a job that has work to run and no executor
	// able to run it for this long (60s).
	NoExecutorTimeout time.Duration
	// JobTimeout fails a job that runs longer; 0 means no limit.
	JobTimeout time.Duration
	// LaunchTimeout bounds one LaunchTasks call (10s).
	LaunchTimeout time.Duration
	// ResultTTL is how long a finished job's result files are kept when
	// the client does not remove them (10m).
	ResultTTL time.Duration
	// Partitions is the number of hash partitions and of leaf tasks; 0
	// means the cluster's total slots when the job is planned.
	Partitions int
	// BroadcastRows is the largest estimated join side that is broadcast
	// (200000).
	BroadcastRows int64
	// Compression of shuffle files: lz4 (default) or zstd.
	Compression string
	// Logf logs scheduler events; nil uses the standard logger.
	Logf func(format string, args ...any)
	// Security is how executors and clients authenticate (token, TLS); the
	// scheduler's connections to executors use it too.
	Security clusterpb.Security
	// Store keeps jobs across restarts; nil keeps them in memory only.
	// The scheduler closes it.
	Store Store
	// Extensions are the plugins' data sources and functions, for
	// planning (the executors run their own instances of the plugins).
	Extensions catalog.Extensions
}

func (c *Config) defaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 2 * time.Second
	}
	if c.ExecutorTimeout <= 0 {
		c.ExecutorTimeout = 5 * c.HeartbeatInterval
	}
	if c.TaskAttempts <= 0 {
		c.TaskAttempts = 4
	}
	if c.FetchFailures <= 0 {
		c.FetchFailures = 16
	}
	if c.NoExecutorTimeout <= 0 {
		c.NoExecutorTimeout = time.Minute
	}
	if c.LaunchTimeout <= 0 {
		c.LaunchTimeout = 10 * time.Second
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 10 * time.Minute
	}
	if c.BroadcastRows <= 0 {
		c.BroadcastRows = 200_000
	}
	if c.Compression == "" {
		c.Compression = "lz4"
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
}

// executor is a registered executor.
type executor struct {
	meta     *clusterpb.ExecutorMetadata
	lastSeen time.Time
	// used counts the slots the scheduler filled.
	used   int
	client clusterpb.ExecutorServiceClient
	conn   *grpc.ClientConn
	// backoff keeps tasks away from an executor whose launch failed.
	backoff time.Time
}

func (e *executor) free() int { return int(e.meta.GetSlots()) - e.used }

// Scheduler is the scheduler's state and logic; Server exposes it over
// gRPC.
type Scheduler struct {
	cfg Config
	id  string

	mu        sync.Mutex
	executors map[string]*executor
	jobs      map[string]*job
	order     []*job // jobs in submission order (scheduling is FIFO)

	kick    chan struct{}
	stop    chan struct{}
	done    sync.WaitGroup
	closed  bool
	persist *persister
	counts  counters
}

// New starts a scheduler's background loops (after loading the jobs of
// cfg.Store); Close stops them.
func New(cfg Config) (*Scheduler, error) {
	cfg.defaults()
	s := &Scheduler{cfg: cfg, id: newID("sched"), executors: map[string]*executor{}, jobs: map[string]*job{},
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	if cfg.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := s.restore(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("loading the scheduler's state: %w", err)
		}
		s.persist = newPersister(cfg.Store, cfg.Logf)
	}
	s.done.Add(2)
	go s.scheduleLoop()
	go s.monitorLoop()
	return s, nil
}

// ID identifies this scheduler instance.
func (s *Scheduler) ID() string { return s.id }

// Close stops the scheduler's loops and closes its executor connections.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	s.done.Wait()
	if s.persist != nil {
		s.persist.close()
	}
	if s.cfg.Store != nil {
		if err := s.cfg.Store.Close(); err != nil {
			s.cfg.Logf("scheduler: closing the state store: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.executors {
		if e.conn != nil {
			e.conn.Close()
		}
	}
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (s *Scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Executors is the number of live executors.
func (s *Scheduler) Executors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.executors)
}

// TotalSlots is the number of task slots of the live executors.
func (s *Scheduler) TotalSlots() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.executors {
		n += int(e.meta.GetSlots())
	}
	return n
}

// StageConfig is the stage planner's configuration for a new job.
func (s *Scheduler) StageConfig() stages.Config {
	p := s.cfg.Partitions
	if p <= 0 {
		p = s.TotalSlots()
	}
	if p <= 0 {
		p = 1
	}
	return stages.Config{Partitions: p, BroadcastRows: s.cfg.BroadcastRows, Compression: s.cfg.Compression}
}

// ---- executors ----

// Register adds (or refreshes) an executor.
func (s *Scheduler) Register(meta *clusterpb.ExecutorMetadata) error {
	if meta.GetId() == "" || meta.GetGrpcAddress() == "" || meta.GetFlightAddress() == "" || meta.GetSlots() == 0 {
		return fmt.Errorf("executor registration needs an id, both addresses and at least one slot: %v", meta)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.executors[meta.GetId()]; ok {
		if e.meta.GetGrpcAddress() == meta.GetGrpcAddress() {
			e.meta = meta
			e.lastSeen = time.Now()
			return nil
		}
		e.conn.Close()
	}
	sec, err := s.cfg.Security.DialOptions()
	if err != nil {
		return err
	}
	opts := append([]grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg))}, sec...)
	conn, err := grpc.NewClient(meta.GetGrpcAddress(), opts...)
	if err != nil {
		return fmt.Errorf("executor %s at %s: %w", meta.GetId(), meta.GetGrpcAddress(), err)
	}
	s.executors[meta.GetId()] = &executor{meta: meta, lastSeen: time.Now(), conn: conn, client: clusterpb.NewExecutorServiceClient(conn)}
	s.cfg.Logf("scheduler: executor %s registered (%s, %d slots)", meta.GetId(), meta.GetGrpcAddress(), meta.GetSlots())
	s.wake()
	return nil
}

// maxMsg is the gRPC message limit on every connection (plans and batches
// grow beyond the 4 MiB default).
const maxMsg = 256 << 20

// Heartbeat records that an executor is alive. It reports false when the
// executor is unknown (it must register again).
func (s *Scheduler) Heartbeat(req *clusterpb.HeartbeatRequest) (*clusterpb.HeartbeatResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.executors[req.GetExecutorId()]
	if !ok {
		return &clusterpb.HeartbeatResponse{Reregister: true}, nil
	}
	e.lastSeen = time.Now()
	resp := &clusterpb.HeartbeatResponse{}
	// Tasks the executor runs that the scheduler no longer expects there
	// (their job ended, or they were given to someone else) are cancelled.
	for _, id := range req.GetRunning() {
		j := s.jobs[id.GetJobId()]
		if j == nil || j.terminal() {
			resp.Cancel = append(resp.Cancel, id)
			continue
		}
		st := j.byID[int(id.GetStageId())]
		if st == nil || int(id.GetPartition()) >= len(st.tasks) {
			resp.Cancel = append(resp.Cancel, id)
			continue
		}
		t := st.tasks[id.GetPartition()]
		if t.phase == taskPending && !j.restored.IsZero() && int(id.GetAttempt()) >= t.attempt {
			// A restarted scheduler adopts the tasks its executors kept
			// running.
			t.phase, t.executor, t.attempt, t.started = taskRunning, e.meta.GetId(), int(id.GetAttempt()), time.Now()
			e.used++
			continue
		}
		if t.phase != taskRunning || t.executor != e.meta.GetId() || uint32(t.attempt) != id.GetAttempt() {
			resp.Cancel = append(resp.Cancel, id)
		}
	}
	s.checkMissingLocked(e, req.GetRunning())
	return resp, nil
}

// checkMissingLocked finds tasks the scheduler believes run on e that e
// no longer reports (it ended them and the report was lost): after five
// heartbeats without them, and at least 5s (or 10 heartbeat intervals)
// after their launch, they run again.
func (s *Scheduler) checkMissingLocked(e *executor, running []*clusterpb.TaskId) {
	now := time.Now()
	type key struct {
		job              string
		stage, partition uint32
		attempt          uint32
	}
	set := make(map[key]bool, len(running))
	for _, id := range running {
		set[key{id.GetJobId(), id.GetStageId(), id.GetPartition(), id.GetAttempt()}] = true
	}
	for _, j := range s.order {
		if j.terminal() {
			continue
		}
		changed := false
		for _, st := range j.stages {
			for _, t := range st.tasks {
				if t.phase != taskRunning || t.executor != e.meta.GetId() {
					continue
				}
				if set[key{j.id, uint32(st.def.ID), uint32(t.partition), uint32(t.attempt)}] || now.Sub(t.started) < s.cfg.HeartbeatInterval {
					t.missed = 0
					continue
				}
				t.missed++
				if t.missed >= 5 && now.Sub(t.started) > max(5*time.Second, 10*s.cfg.HeartbeatInterval) {
					t.missed = 0
					t.failures++
					t.lastErr = fmt.Sprintf("executor %s stopped reporting the task", e.meta.GetId())
					s.cfg.Logf("scheduler: %s: %s", t, t.lastErr)
					s.resetTaskLocked(t)
					changed = true
				}
			}
		}
		if changed {
			s.tasksResetLocked(j)
			s.wake()
		}
	}
}

// monitorLoop finds lost executors and jobs that waited too long.
func (s *Scheduler) monitorLoop() {
	defer s.done.Done()
	tick := time.NewTicker(min(s.cfg.HeartbeatInterval, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			s.checkExecutors(now)
			s.checkJobs(now)
		}
	}
}

func (s *Scheduler) checkExecutors(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.executors {
		if now.Sub(e.lastSeen) > s.cfg.ExecutorTimeout {
			s.loseExecutorLocked(id, fmt.Sprintf("no heartbeat for %s", now.Sub(e.lastSeen).Round(time.Millisecond)))
		}
	}
	// Outputs of a resumed job on executors that did not come back are
	// made again.
	for _, j := range s.order {
		if j.terminal() || j.restored.IsZero() || now.Sub(j.restored) <= s.cfg.ExecutorTimeout {
			continue
		}
		changed := s.resetOutputsLocked(j, func(ex string) bool { return s.executors[ex] == nil }) > 0
		j.restored = time.Time{}
		if changed {
			s.saveLocked(j)
			j.notify()
		}
	}
}

// loseExecutorLocked forgets an executor: its running tasks run again
// elsewhere, and so do the finished tasks whose outputs it held while a
// stage still needs them.
func (s *Scheduler) loseExecutorLocked(id, why string) {
	e := s.executors[id]
	if e == nil {
		return
	}
	delete(s.executors, id)
	if e.conn != nil {
		e.conn.Close()
	}
	s.counts.executorsLost.Add(1)
	s.cfg.Logf("scheduler: executor %s lost: %s", id, why)
	for _, j := range s.order {
		if j.terminal() {
			continue
		}
		changed := false
		for _, st := range j.stages {
			for _, t := range st.tasks {
				if t.executor == id && t.phase == taskRunning {
					t.failures++
					t.lastErr = fmt.Sprintf("executor %s lost (%s)", id, why)
					s.resetTaskLocked(t)
					changed = true
				}
			}
		}
		if s.resetOutputsLocked(j, func(ex string) bool { return ex == id }) > 0 {
			changed = true
		}
		if changed {
			s.tasksResetLocked(j)
		}
	}
	s.wake()
}

// resetOutputsLocked makes the finished tasks whose outputs are on the
// executors gone(executor) run again where a stage still needs them. It
// repeats until nothing changes: running a task again makes its stage
// incomplete, so the outputs it reads are needed again too. It returns
// how many tasks it reset.
func (s *Scheduler) resetOutputsLocked(j *job, gone func(string) bool) int {
	n := 0
	for {
		changed := false
		for _, st := range j.stages {
			if !st.needed() {
				continue
			}
			for _, t := range st.tasks {
				if t.phase == taskDone && gone(t.executor) {
					st.done--
					s.resetTaskLocked(t)
					changed = true
					n++
				}
			}
		}
		if !changed {
			return n
		}
	}
}

// needed reports whether a stage's outputs are still to be read: it is
// the final stage (the client reads it) or a consumer is not complete.
func (st *stage) needed() bool {
	if len(st.consumers) == 0 {
		return true
	}
	for _, c := range st.consumers {
		if !c.complete() {
			return true
		}
	}
	return false
}

// resetTaskLocked puts a task back to pending.
func (s *Scheduler) resetTaskLocked(t *task) {
	if t.phase == taskRunning {
		if e := s.executors[t.executor]; e != nil {
			e.used--
		}
	}
	t.phase = taskPending
	t.executor = ""
	t.outputs = nil
	t.outputDir = ""
}

// tasksResetLocked follows tasks of j put back to pending: the job fails
// if one used all its attempts, and is saved and its watchers woken.
func (s *Scheduler) tasksResetLocked(j *job) {
	s.failIfExhaustedLocked(j)
	s.saveLocked(j)
	j.notify()
}

// failIfExhaustedLocked fails the job when a task used all its attempts.
func (s *Scheduler) failIfExhaustedLocked(j *job) {
	for _, st := range j.stages {
		for _, t := range st.tasks {
			if t.failures >= s.cfg.TaskAttempts {
				s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("%s failed %d times; last error: %s", t, t.failures, t.lastErr))
				return
			}
		}
	}
}

func (s *Scheduler) checkJobs(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.order {
		if j.terminal() {
			if j.state == clusterpb.JobState_JOB_STATE_SUCCEEDED && !j.resultsRemoved && now.Sub(j.ended) > s.cfg.ResultTTL {
				s.removeFilesLocked(j, nil)
				j.resultsRemoved = true
				s.saveLocked(j)
			}
			continue
		}
		if s.cfg.JobTimeout > 0 && now.Sub(j.started) > s.cfg.JobTimeout {
			s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("job timed out after %s", s.cfg.JobTimeout))
			continue
		}
		if !j.waitingSince.IsZero() && now.Sub(j.waitingSince) > s.cfg.NoExecutorTimeout {
			why := "no executor registered"
			if len(s.executors) > 0 {
				why = "no executor can run its tasks"
				if r := excludedReasons(j); r != "" {
					why += ": " + r
				} else {
					why += " (internal error: no runnable task)"
				}
			}
			s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("waited %s for an executor: %s", s.cfg.NoExecutorTimeout, why))
		}
	}
	s.forgetOldJobsLocked(now)
}

func excludedReasons(j *job) string {
	for _, st := range j.stages {
		for _, t := range st.tasks {
			for ex, why := range t.excluded {
				return fmt.Sprintf("%s refused %s: %s", ex, t, why)
			}
		}
	}
	return ""
}

// forgetOldJobsLocked drops the records of jobs that ended long ago.
func (s *Scheduler) forgetOldJobsLocked(now time.Time) {
	keep := s.order[:0]
	for _, j := range s.order {
		if j.terminal() && j.resultsRemoved && now.Sub(j.ended) > time.Hour {
			delete(s.jobs, j.id)
			if s.persist != nil {
				s.persist.put("jobs/"+j.id, nil)
			}
			continue
		}
		keep = append(keep, j)
	}
	s.order = keep
}

// ---- jobs ----

// JobOfRequest returns the job a request id was given.
func (s *Scheduler) JobOfRequest(rid string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.order {
		if j.request == rid {
			return j.id, true
		}
	}
	return "", false
}

// Submit starts a planned job and returns its id.
func (s *Scheduler) Submit(plan *stages.Job, request, session, query string, settings map[string]string) (string, error) {
	id := newID("job")
	j, err := newJob(id, plan, time.Now())
	if err != nil {
		return "", err
	}
	j.request, j.session, j.query, j.settings = request, session, query, settings
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errors.New("scheduler is shutting down")
	}
	s.jobs[id] = j
	s.order = append(s.order, j)
	s.saveLocked(j)
	s.mu.Unlock()
	if s.persist != nil {
		s.persist.sync()
	}
	s.counts.jobsSubmitted.Add(1)
	s.cfg.Logf("scheduler: job %s submitted: %d stages", id, len(j.stages))
	s.wake()
	return id, nil
}

// AddFinished records a job that the scheduler completed by itself (a
// statement with a small inline result).
func (s *Scheduler) AddFinished(request, session, query string, inline []byte, jobErr error) string {
	now := time.Now()
	j := &job{id: newID("job"), request: request, session: session, query: query, created: now, started: now, ended: now,
		state: clusterpb.JobState_JOB_STATE_SUCCEEDED, inline: inline, changed: make(chan struct{}), byID: map[int]*stage{}, resultsRemoved: true}
	if jobErr != nil {
		j.state, j.err = clusterpb.JobState_JOB_STATE_FAILED, jobErr.Error()
	}
	s.mu.Lock()
	s.jobs[j.id] = j
	s.order = append(s.order, j)
	s.saveLocked(j)
	s.mu.Unlock()
	if s.persist != nil {
		s.persist.sync()
	}
	return j.id
}

// endJobLocked ends a job; failed and cancelled jobs have their tasks
// stopped and their files removed.
func (s *Scheduler) endJobLocked(j *job, state clusterpb.JobState, why string) {
	if j.terminal() {
		return
	}
	j.state, j.err, j.ended = state, why, time.Now()
	switch state {
	case clusterpb.JobState_JOB_STATE_SUCCEEDED:
		s.counts.jobsSucceeded.Add(1)
	case clusterpb.JobState_JOB_STATE_FAILED:
		s.counts.jobsFailed.Add(1)
	case clusterpb.JobState_JOB_STATE_CANCELLED:
		s.counts.jobsCancelled.Add(1)
	}
	if state != clusterpb.JobState_JOB_STATE_SUCCEEDED {
		s.cfg.Logf("scheduler: job %s %s: %s", j.id, state, why)
		s.cancelRunningLocked(j)
		s.removeFilesLocked(j, nil)
		j.resultsRemoved = true
	} else if j.removeOnEnd {
		s.removeFilesLocked(j, nil)
		j.resultsRemoved = true
	} else {
		// Only the final stage's files are still needed.
		var inter []uint32
		for _, st := range j.stages[:len(j.stages)-1] {
			inter = append(inter, uint32(st.def.ID))
		}
		if len(inter) > 0 {
			s.removeFilesLocked(j, inter)
		}
	}
	s.saveLocked(j)
	j.notify()
}

// cancelRunningLocked asks executors to stop the job's running tasks.
func (s *Scheduler) cancelRunningLocked(j *job) {
	by := map[string][]*clusterpb.TaskId{}
	for _, st := range j.stages {
		for _, t := range st.tasks {
			if t.phase == taskRunning {
				by[t.executor] = append(by[t.executor], t.id())
				if e := s.executors[t.executor]; e != nil {
					e.used--
				}
				t.phase = taskPending
			}
		}
	}
	for ex, ids := range by {
		e := s.executors[ex]
		if e == nil {
			continue
		}
		client := e.client
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LaunchTimeout)
			defer cancel()
			if _, err := client.CancelTasks(ctx, &clusterpb.CancelTasksRequest{Tasks: ids, JobId: j.id}); err != nil {
				s.cfg.Logf("scheduler: cancelling tasks of job %s on %s: %v", j.id, ex, err)
			}
		}()
	}
}

// removeFilesLocked asks every executor to delete the job's files (of the
// given stages, or all).
func (s *Scheduler) removeFilesLocked(j *job, stageIDs []uint32) {
	for id, e := range s.executors {
		client := e.client
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LaunchTimeout)
			defer cancel()
			if _, err := client.RemoveJobFiles(ctx, &clusterpb.RemoveJobFilesRequest{JobId: j.id, Stages: stageIDs}); err != nil {
				s.cfg.Logf("scheduler: removing files of job %s on %s: %v", j.id, id, err)
			}
		}()
	}
}

// Cancel cancels a job.
func (s *Scheduler) Cancel(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return fmt.Errorf("job %q not found", id)
	}
	s.endJobLocked(j, clusterpb.JobState_JOB_STATE_CANCELLED, "cancelled")
	s.wake()
	return nil
}

// RemoveResults deletes a finished job's result files.
func (s *Scheduler) RemoveResults(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return fmt.Errorf("job %q not found", id)
	}
	if !j.terminal() {
		// A client removes a result after reading it; a job still running
		// here was resumed by a restarted scheduler after that client got
		// its rows. Its results go when it ends.
		j.removeOnEnd = true
		return nil
	}
	if !j.resultsRemoved {
		s.removeFilesLocked(j, nil)
		j.resultsRemoved = true
		s.saveLocked(j)
	}
	return nil
}

// Status is a snapshot of a job and a channel closed at its next change.
func (s *Scheduler) Status(id string) (*clusterpb.JobStatus, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, nil, fmt.Errorf("job %q not found", id)
	}
	st := &clusterpb.JobStatus{JobId: j.id, State: j.state, Error: j.err, InlineResult: j.inline}
	if j.schema != nil {
		st.Schema = schemaBytes(j.schema)
	}
	total, done := j.tasksTotal()
	st.TasksTotal, st.TasksDone = uint32(total), uint32(done)
	if j.state == clusterpb.JobState_JOB_STATE_SUCCEEDED && len(j.stages) > 0 {
		fin := j.final()
		for _, t := range fin.tasks {
			rp := &clusterpb.ResultPartition{ExecutorId: t.executor}
			if e := s.executors[t.executor]; e != nil {
				rp.FlightAddress = e.meta.GetFlightAddress()
			}
			for _, o := range t.outputs {
				rp.Rows += o.GetRows()
				if o.GetPartition() == 0 {
					rp.Ticket = o.GetTicket()
				}
			}
			st.Results = append(st.Results, rp)
		}
	}
	return st, j.changed, nil
}

// ---- scheduling ----

// launch is a batch of tasks for one executor.
type launch struct {
	ex    *executor
	tasks []*task
	defs  []*clusterpb.TaskDefinition
}

func (s *Scheduler) scheduleLoop() {
	defer s.done.Done()
	retry := time.NewTicker(250 * time.Millisecond)
	defer retry.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-retry.C:
		}
		for _, l := range s.assign(time.Now()) {
			go s.send(l)
		}
	}
}

// assign gives pending tasks of runnable stages to free slots, FIFO over
// jobs.
func (s *Scheduler) assign(now time.Time) []*launch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var exs []*executor
	for _, e := range s.executors {
		exs = append(exs, e)
	}
	sort.Slice(exs, func(a, b int) bool { return exs[a].meta.GetId() < exs[b].meta.GetId() })
	batches := map[string]*launch{}
	for _, j := range s.order {
		if j.terminal() {
			continue
		}
		known := func(id string) bool { return s.executors[id] != nil }
		for _, st := range j.stages {
			if st.complete() || !st.runnable() || !st.inputsAvailable(known) {
				continue
			}
			req, err := st.requirements()
			if err != nil {
				s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("planning stage %d: %v", st.def.ID, err))
				break
			}
			for _, t := range st.tasks {
				if t.phase != taskPending {
					continue
				}
				ex := pick(exs, t, now, req)
				if ex == nil {
					break
				}
				plan, err := s.fragment(t)
				if err != nil {
					s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("planning %s: %v", t, err))
					break
				}
				t.attempt++
				t.phase, t.executor, t.started = taskRunning, ex.meta.GetId(), now
				s.counts.tasksLaunched.Add(1)
				ex.used++
				b := batches[ex.meta.GetId()]
				if b == nil {
					b = &launch{ex: ex}
					batches[ex.meta.GetId()] = b
				}
				b.tasks = append(b.tasks, t)
				b.defs = append(b.defs, &clusterpb.TaskDefinition{Task: t.id(), Plan: plan, TaskCount: uint32(len(st.tasks)), Settings: j.settings})
			}
			if j.terminal() {
				break
			}
		}
	}
	// A job waits (and fails after NoExecutorTimeout, in checkJobs) only
	// when it cannot move while the cluster is idle: no executor, or none
	// that accepts its tasks. Waiting for slots that other work holds is
	// ordinary queueing.
	busy := false
	for _, e := range exs {
		busy = busy || e.used > 0
	}
	for _, j := range s.order {
		if j.terminal() {
			continue
		}
		if busy || jobHasRunning(j) {
			j.waitingSince = time.Time{}
		} else if j.waitingSince.IsZero() {
			j.waitingSince = now
		}
	}
	out := make([]*launch, 0, len(batches))
	for _, b := range batches {
		out = append(out, b)
	}
	return out
}

func jobHasRunning(j *job) bool {
	for _, st := range j.stages {
		for _, t := range st.tasks {
			if t.phase == taskRunning {
				return true
			}
		}
	}
	return false
}

// pick chooses the executor with the most free slots that may run t: one
// that did not refuse it and whose capabilities cover req (an executor
// that cannot is noted as refusing, with the reason). A retry goes to an
// executor it has not failed on when one is free (in a mixed cluster
// another kind of executor may well succeed).
func pick(exs []*executor, t *task, now time.Time, req requirements) *executor {
	if len(t.failedOn) > 0 {
		var fresh []*executor
		for _, e := range exs {
			if !t.failedOn[e.meta.GetId()] {
				fresh = append(fresh, e)
			}
		}
		if len(fresh) > 0 && len(fresh) < len(exs) {
			if e := pickFrom(fresh, t, now, req); e != nil {
				return e
			}
		}
	}
	return pickFrom(exs, t, now, req)
}

func pickFrom(exs []*executor, t *task, now time.Time, req requirements) *executor {
	var best *executor
	for _, e := range exs {
		if _, no := t.excluded[e.meta.GetId()]; no {
			continue
		}
		if why := req.missing(e.meta.GetCapabilities()); why != "" {
			if t.excluded == nil {
				t.excluded = map[string]string{}
			}
			t.excluded[e.meta.GetId()] = why
			continue
		}
		if e.free() <= 0 || now.Before(e.backoff) {
			continue
		}
		if best == nil || e.free() > best.free() {
			best = e
		}
	}
	return best
}

// send launches a batch; tasks the executor refuses or cannot be reached
// for go back to pending.
func (s *Scheduler) send(l *launch) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LaunchTimeout)
	defer cancel()
	resp, err := l.ex.client.LaunchTasks(ctx, &clusterpb.LaunchTasksRequest{SchedulerId: s.id, Tasks: l.defs})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.cfg.Logf("scheduler: launching %d tasks on executor %s: %v", len(l.tasks), l.ex.meta.GetId(), err)
		l.ex.backoff = time.Now().Add(time.Second)
		for _, t := range l.tasks {
			if t.phase == taskRunning && t.executor == l.ex.meta.GetId() {
				s.resetTaskLocked(t)
			}
		}
		s.wake()
		return
	}
	for _, r := range resp.GetRejected() {
		for _, t := range l.tasks {
			if t.phase != taskRunning || t.executor != l.ex.meta.GetId() || !sameTask(t.id(), r.GetTask()) {
				continue
			}
			if t.excluded == nil {
				t.excluded = map[string]string{}
			}
			if !isBusy(r.GetReason()) {
				t.excluded[l.ex.meta.GetId()] = r.GetReason()
			}
			s.resetTaskLocked(t)
		}
	}
	if len(resp.GetRejected()) > 0 {
		s.wake()
	}
}

// busyReason is the rejection reason of an executor without a free slot
// (the task may come back later).
const busyReason = "no free slot"

func isBusy(reason string) bool { return reason == busyReason }

func sameTask(a, b *clusterpb.TaskId) bool {
	return a.GetJobId() == b.GetJobId() && a.GetStageId() == b.GetStageId() && a.GetPartition() == b.GetPartition() && a.GetAttempt() == b.GetAttempt()
}

// ---- task status ----

// Update applies task status reports from an executor.
func (s *Scheduler) Update(executorID string, statuses []*clusterpb.TaskStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.executors[executorID]; e != nil {
		e.lastSeen = time.Now()
	}
	for _, st := range statuses {
		s.updateLocked(executorID, st)
	}
	s.wake()
}

func (s *Scheduler) updateLocked(executorID string, st *clusterpb.TaskStatus) {
	id := st.GetTask()
	j := s.jobs[id.GetJobId()]
	if j == nil || j.terminal() {
		return
	}
	sg := j.byID[int(id.GetStageId())]
	if sg == nil || int(id.GetPartition()) >= len(sg.tasks) {
		return
	}
	t := sg.tasks[id.GetPartition()]
	current := t.phase == taskRunning && t.executor == executorID && uint32(t.attempt) == id.GetAttempt()
	switch st.GetState() {
	case clusterpb.TaskState_TASK_STATE_SUCCEEDED:
		if t.phase == taskDone {
			return
		}
		if !current {
			// A late success of an earlier attempt (or of an attempt
			// moved to another executor) is as good as any: take it
			// if its executor is still alive.
			if s.executors[executorID] == nil {
				return
			}
			if t.phase == taskRunning {
				s.resetTaskLocked(t)
			}
		} else if e := s.executors[executorID]; e != nil {
			e.used--
		}
		t.phase, t.executor, t.outputs, t.metrics, t.ended = taskDone, executorID, st.GetOutputs(), st.GetMetrics(), time.Now()
		t.outputDir = st.GetOutputDir()
		s.counts.tasksSucceeded.Add(1)
		sg.done++
		if sg == j.final() && sg.complete() {
			s.endJobLocked(j, clusterpb.JobState_JOB_STATE_SUCCEEDED, "")
			s.cfg.Logf("scheduler: job %s succeeded in %s", j.id, j.ended.Sub(j.started).Round(time.Millisecond))
			return
		}
	case clusterpb.TaskState_TASK_STATE_FAILED:
		if !current {
			return
		}
		s.counts.tasksFailed.Add(1)
		if ff := st.GetFetchFailure(); ff != nil {
			s.counts.fetchFailures.Add(1)
			s.resetTaskLocked(t)
			if s.rerunMapLocked(j, ff) {
				j.fetchFailures++
				if j.fetchFailures > s.cfg.FetchFailures {
					s.endJobLocked(j, clusterpb.JobState_JOB_STATE_FAILED, fmt.Sprintf("inputs had to be made again %d times; last: %s", j.fetchFailures, st.GetError()))
					return
				}
			}
			break
		}
		t.failures++
		t.lastErr = st.GetError()
		if t.failedOn == nil {
			t.failedOn = map[string]bool{}
		}
		t.failedOn[executorID] = true
		s.cfg.Logf("scheduler: %s attempt %d failed on %s: %s", t, t.attempt, executorID, t.lastErr)
		s.resetTaskLocked(t)
		s.failIfExhaustedLocked(j)
	case clusterpb.TaskState_TASK_STATE_CANCELLED:
		if current {
			s.resetTaskLocked(t)
		}
	default:
		return
	}
	s.saveLocked(j)
	j.notify()
}

// rerunMapLocked handles an output that could not be read: the map task
// that wrote it runs again, and so does every other finished task whose
// outputs are on the same executor and still needed (the executor is
// likely gone; its heartbeats will tell). It reports whether anything
// was reset.
func (s *Scheduler) rerunMapLocked(j *job, ff *clusterpb.FetchFailure) bool {
	src := j.byID[int(ff.GetStageId())]
	if src == nil || int(ff.GetMapPartition()) >= len(src.tasks) {
		return false
	}
	m := src.tasks[ff.GetMapPartition()]
	if m.phase != taskDone || (ff.GetExecutorId() != "" && m.executor != ff.GetExecutorId()) {
		return false
	}
	ex := m.executor
	n := s.resetOutputsLocked(j, func(e string) bool { return e == ex })
	s.cfg.Logf("scheduler: job %s: outputs on executor %s could not be read; %d tasks run again", j.id, ex, n)
	return true
}

// Logf logs through the scheduler's configured logger.
func (s *Scheduler) Logf(format string, args ...any) { s.cfg.Logf(format, args...) }
