package scheduler

import (
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/logical"
)

// Read-only views of the scheduler's state for the REST API, the web UI
// and metrics. They are snapshots: copies taken under the lock.

// JobSummary is one line of the job list.
type JobSummary struct {
	ID         string    `json:"id"`
	Session    string    `json:"session"`
	Query      string    `json:"query"`
	State      string    `json:"state"`
	Error      string    `json:"error,omitempty"`
	Created    time.Time `json:"created"`
	Ended      time.Time `json:"ended,omitzero"`
	DurationMs int64     `json:"duration_ms"`
	Stages     int       `json:"stages"`
	TasksTotal int       `json:"tasks_total"`
	TasksDone  int       `json:"tasks_done"`
}

// JobInfo is a job with its stages and tasks.
type JobInfo struct {
	JobSummary
	Stages []StageInfo `json:"stage_list"`
}

// StageInfo is one stage of a job.
type StageInfo struct {
	ID int `json:"id"`
	// Inputs are the stages it reads.
	Inputs []int `json:"inputs"`
	// Output is how it partitions its output: hash(keys) N, broadcast,
	// single.
	Output  string     `json:"output"`
	Tasks   int        `json:"tasks"`
	Done    int        `json:"done"`
	Running int        `json:"running"`
	Plan    string     `json:"plan"`
	Rows    uint64     `json:"output_rows"`
	Bytes   uint64     `json:"output_bytes"`
	Task    []TaskInfo `json:"task_list"`
}

// TaskInfo is one task of a stage.
type TaskInfo struct {
	Partition int       `json:"partition"`
	State     string    `json:"state"`
	Attempt   int       `json:"attempt"`
	Failures  int       `json:"failures"`
	Executor  string    `json:"executor,omitempty"`
	Started   time.Time `json:"started,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Rows      uint64    `json:"output_rows"`
	Bytes     uint64    `json:"output_bytes"`
	ElapsedMs uint64    `json:"elapsed_ms"`
	PeakMem   uint64    `json:"peak_memory_bytes"`
	// Operators is the fragment's plan with per-operator metrics.
	Operators string `json:"operators,omitempty"`
}

// ExecutorInfo is one live executor.
type ExecutorInfo struct {
	ID            string    `json:"id"`
	GRPCAddress   string    `json:"grpc_address"`
	FlightAddress string    `json:"flight_address"`
	Engine        string    `json:"engine"`
	Slots         int       `json:"slots"`
	Used          int       `json:"used_slots"`
	LastSeen      time.Time `json:"last_seen"`
}

// Counters are the scheduler's cumulative counts since it started.
type Counters struct {
	JobsSubmitted  int64 `json:"jobs_submitted"`
	JobsSucceeded  int64 `json:"jobs_succeeded"`
	JobsFailed     int64 `json:"jobs_failed"`
	JobsCancelled  int64 `json:"jobs_cancelled"`
	TasksLaunched  int64 `json:"tasks_launched"`
	TasksSucceeded int64 `json:"tasks_succeeded"`
	TasksFailed    int64 `json:"tasks_failed"`
	FetchFailures  int64 `json:"fetch_failures"`
	ExecutorsLost  int64 `json:"executors_lost"`
}

// counters is the live form of Counters.
type counters struct {
	jobsSubmitted, jobsSucceeded, jobsFailed, jobsCancelled atomic.Int64
	tasksLaunched, tasksSucceeded, tasksFailed              atomic.Int64
	fetchFailures, executorsLost                            atomic.Int64
}

// Counters returns the cumulative counts.
func (s *Scheduler) Counters() Counters {
	c := &s.counts
	return Counters{JobsSubmitted: c.jobsSubmitted.Load(), JobsSucceeded: c.jobsSucceeded.Load(), JobsFailed: c.jobsFailed.Load(),
		JobsCancelled: c.jobsCancelled.Load(), TasksLaunched: c.tasksLaunched.Load(), TasksSucceeded: c.tasksSucceeded.Load(),
		TasksFailed: c.tasksFailed.Load(), FetchFailures: c.fetchFailures.Load(), ExecutorsLost: c.executorsLost.Load()}
}

func stateName(st clusterpb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "JOB_STATE_"))
}

func (j *job) summary(now time.Time) JobSummary {
	total, done := j.tasksTotal()
	end := j.ended
	if end.IsZero() {
		end = now
	}
	return JobSummary{ID: j.id, Session: j.session, Query: j.query, State: stateName(j.state), Error: j.err, Created: j.created,
		Ended: j.ended, DurationMs: end.Sub(j.started).Milliseconds(), Stages: len(j.stages), TasksTotal: total, TasksDone: done}
}

// Jobs lists the jobs the scheduler knows, newest first.
func (s *Scheduler) Jobs() []JobSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	out := make([]JobSummary, 0, len(s.order))
	for i := len(s.order) - 1; i >= 0; i-- {
		out = append(out, s.order[i].summary(now))
	}
	return out
}

// Job describes one job with its stages and tasks.
func (s *Scheduler) Job(id string) (*JobInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, false
	}
	info := &JobInfo{JobSummary: j.summary(time.Now())}
	for _, st := range j.stages {
		si := StageInfo{ID: st.def.ID, Inputs: append([]int{}, st.def.Inputs...), Output: outputName(st.def.Plan),
			Tasks: len(st.tasks), Done: st.done, Plan: logical.Format(st.def.Plan.Input)}
		for _, t := range st.tasks {
			ti := TaskInfo{Partition: t.partition, Attempt: t.attempt, Failures: t.failures, Executor: t.executor,
				Started: t.started, Ended: t.ended, LastError: t.lastErr}
			switch t.phase {
			case taskPending:
				ti.State = "pending"
			case taskRunning:
				ti.State = "running"
				si.Running++
			case taskDone:
				ti.State = "done"
			}
			for _, o := range t.outputs {
				ti.Rows += o.GetRows()
				ti.Bytes += o.GetBytes()
			}
			if m := t.metrics; m != nil {
				ti.ElapsedMs, ti.PeakMem, ti.Operators = m.GetElapsedMs(), m.GetPeakMemoryBytes(), m.GetOperators()
			}
			si.Rows += ti.Rows
			si.Bytes += ti.Bytes
			si.Task = append(si.Task, ti)
		}
		info.Stages = append(info.Stages, si)
	}
	return info, true
}

func outputName(w *logical.ShuffleWrite) string {
	s := w.String()
	return strings.TrimPrefix(s, "ShuffleWrite: ")
}

// ExecutorList lists the live executors by id.
func (s *Scheduler) ExecutorList() []ExecutorInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ExecutorInfo, 0, len(s.executors))
	for _, e := range s.executors {
		out = append(out, ExecutorInfo{ID: e.meta.GetId(), GRPCAddress: e.meta.GetGrpcAddress(), FlightAddress: e.meta.GetFlightAddress(),
			Engine: e.meta.GetCapabilities().GetEngine(), Slots: int(e.meta.GetSlots()), Used: e.used, LastSeen: e.lastSeen})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}
