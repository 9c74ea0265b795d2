package scheduler

import (
	"fmt"
	"github.com/arbalest/arbalest/substrait/producer"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/logical"
)

// taskPhase is where a task is in its life.
type taskPhase int

const (
	taskPending taskPhase = iota
	taskRunning
	taskDone
)

// task is one partition of a stage.
type task struct {
	stage     *stage
	partition int
	phase     taskPhase
	// attempt numbers launches; failures counts failed attempts.
	attempt  int
	failures int
	lastErr  string
	executor string // running or done on
	// outputs of the successful attempt; rows per output partition.
	outputs []*clusterpb.PartitionOutput
	// outputDir is where the outputs are on their executor's machine.
	outputDir string
	metrics   *clusterpb.TaskMetrics
	// excluded are executors that refused the task, with the reason.
	excluded map[string]string
	// failedOn are executors an attempt failed on: a retry prefers others.
	failedOn map[string]bool
	// missed counts heartbeats of its executor that did not list it.
	missed  int
	started time.Time
	ended   time.Time
}

func (t *task) id() *clusterpb.TaskId {
	return &clusterpb.TaskId{JobId: t.stage.job.id, StageId: uint32(t.stage.def.ID), Partition: uint32(t.partition), Attempt: uint32(t.attempt)}
}

func (t *task) String() string {
	return fmt.Sprintf("job %s stage %d task %d", t.stage.job.id, t.stage.def.ID, t.partition)
}

// stage is one stage of a job.
type stage struct {
	job  *job
	def  *stages.Stage
	kind logical.ShuffleKind
	// inputs and consumers are the stages this one reads and that read it.
	inputs    []*stage
	consumers []*stage
	tasks     []*task
	done      int
	// fragment caches the stage plan as Substrait (for the store).
	fragment []byte
	// req is what an executor must be able to run to take its tasks.
	req *requirements
}

// requirements works out (once) what the stage's fragment needs of an
// executor.
func (s *stage) requirements() (requirements, error) {
	if s.req == nil {
		p, err := producer.ToProtoWith(s.def.Plan, producer.Options{InlineTables: true})
		if err != nil {
			return requirements{}, err
		}
		r := fragmentRequirements(p)
		s.req = &r
	}
	return *s.req, nil
}

func (s *stage) complete() bool { return s.done == len(s.tasks) }

// runnable reports whether every input of s is complete.
func (s *stage) runnable() bool {
	for _, in := range s.inputs {
		if !in.complete() {
			return false
		}
	}
	return true
}

// job is one query.
type job struct {
	id       string
	request  string // the client's request id (idempotent submission)
	session  string
	query    string // SQL text or "substrait plan", for display
	state    clusterpb.JobState
	err      string
	created  time.Time
	started  time.Time
	ended    time.Time
	plan     *stages.Job
	stages   []*stage
	byID     map[int]*stage
	schema   *arrow.Schema
	inline   []byte // IPC stream of a statement's result
	settings map[string]string
	// fetchFailures counts input re-runs, bounded by the config.
	fetchFailures int
	// removeOnEnd: the client removed the result while the job ran (it
	// read the result before a scheduler restart resumed the job).
	removeOnEnd bool
	// waitingSince is when the job last had runnable work and no
	// executor to run it (zero when it has one).
	waitingSince time.Time
	// changed is closed and replaced on every change (watchers wait on it).
	changed chan struct{}
	// resultsRemoved is set once the result files are gone.
	resultsRemoved bool
	// restored is when a restarted scheduler loaded the job (zero for
	// jobs it planned itself).
	restored time.Time
}

// sortJobs orders jobs by submission time.
func sortJobs(js []*job) {
	sort.SliceStable(js, func(a, b int) bool { return js[a].created.Before(js[b].created) })
}

// inputsAvailable reports whether every task output st reads is on a
// registered executor (after a restart, executors register again).
func (st *stage) inputsAvailable(known func(string) bool) bool {
	for _, in := range st.inputs {
		for _, t := range in.tasks {
			if t.phase == taskDone && !known(t.executor) {
				return false
			}
		}
	}
	return true
}

func (j *job) terminal() bool {
	switch j.state {
	case clusterpb.JobState_JOB_STATE_SUCCEEDED, clusterpb.JobState_JOB_STATE_FAILED, clusterpb.JobState_JOB_STATE_CANCELLED:
		return true
	}
	return false
}

func (j *job) final() *stage { return j.stages[len(j.stages)-1] }

// notify wakes the job's watchers.
func (j *job) notify() {
	close(j.changed)
	j.changed = make(chan struct{})
}

func (j *job) tasksTotal() (total, done int) {
	for _, s := range j.stages {
		total += len(s.tasks)
		done += s.done
	}
	return total, done
}

// newJob builds the run state of a planned job.
func newJob(id string, plan *stages.Job, now time.Time) (*job, error) {
	j := &job{id: id, plan: plan, state: clusterpb.JobState_JOB_STATE_RUNNING, created: now, started: now,
		byID: map[int]*stage{}, changed: make(chan struct{}), schema: plan.Schema.Arrow()}
	for _, def := range plan.Stages {
		if def.Tasks < 1 {
			return nil, fmt.Errorf("stage %d has %d tasks", def.ID, def.Tasks)
		}
		if _, dup := j.byID[def.ID]; dup {
			return nil, fmt.Errorf("stage %d planned twice", def.ID)
		}
		s := &stage{job: j, def: def, kind: def.Plan.Kind}
		for p := 0; p < def.Tasks; p++ {
			s.tasks = append(s.tasks, &task{stage: s, partition: p})
		}
		for _, in := range def.Inputs {
			src, ok := j.byID[in]
			if !ok {
				return nil, fmt.Errorf("stage %d reads stage %d, which is not planned before it", def.ID, in)
			}
			s.inputs = append(s.inputs, src)
			src.consumers = append(src.consumers, s)
		}
		j.byID[def.ID] = s
		j.stages = append(j.stages, s)
	}
	if len(j.stages) == 0 {
		return nil, fmt.Errorf("job without stages")
	}
	return j, nil
}
