package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// What the store holds:
//
//	jobs/<job id>                 a job: its query, stage fragments (Substrait) and finished tasks
//	sessions/<session>/<seq>      the statements that changed a session, in order
//
// A restarted scheduler rebuilds its jobs from these records: finished
// tasks keep their outputs (their executors register again), everything
// else runs again.

type jobRecord struct {
	ID             string            `json:"id"`
	Request        string            `json:"request,omitempty"`
	Session        string            `json:"session"`
	Query          string            `json:"query"`
	Settings       map[string]string `json:"settings,omitempty"`
	State          int32             `json:"state"`
	Error          string            `json:"error,omitempty"`
	Created        time.Time         `json:"created"`
	Started        time.Time         `json:"started"`
	Ended          time.Time         `json:"ended"`
	Inline         []byte            `json:"inline,omitempty"`
	Stages         []stageRecord     `json:"stages,omitempty"`
	FetchFailures  int               `json:"fetch_failures,omitempty"`
	ResultsRemoved bool              `json:"results_removed,omitempty"`
}

type stageRecord struct {
	ID       int          `json:"id"`
	Inputs   []int        `json:"inputs,omitempty"`
	Fragment []byte       `json:"fragment"`
	Tasks    []taskRecord `json:"tasks"`
}

type taskRecord struct {
	Done     bool                         `json:"done,omitempty"`
	Attempt  int                          `json:"attempt,omitempty"`
	Failures int                          `json:"failures,omitempty"`
	LastErr  string                       `json:"last_error,omitempty"`
	Executor string                       `json:"executor,omitempty"`
	Dir      string                       `json:"dir,omitempty"`
	Outputs  []*clusterpb.PartitionOutput `json:"outputs,omitempty"`
}

// record snapshots a job (under the scheduler's lock).
func (j *job) record() (*jobRecord, error) {
	r := &jobRecord{ID: j.id, Request: j.request, Session: j.session, Query: j.query, Settings: j.settings, State: int32(j.state), Error: j.err,
		Created: j.created, Started: j.started, Ended: j.ended, Inline: j.inline, FetchFailures: j.fetchFailures, ResultsRemoved: j.resultsRemoved}
	for _, st := range j.stages {
		if st.fragment == nil {
			p, err := producer.ToProtoWith(st.def.Plan, producer.Options{InlineTables: true})
			if err != nil {
				return nil, fmt.Errorf("stage %d: %w", st.def.ID, err)
			}
			if st.fragment, err = proto.Marshal(p); err != nil {
				return nil, err
			}
		}
		sr := stageRecord{ID: st.def.ID, Inputs: st.def.Inputs, Fragment: st.fragment}
		for _, t := range st.tasks {
			tr := taskRecord{Attempt: t.attempt, Failures: t.failures, LastErr: t.lastErr}
			if t.phase == taskDone {
				tr.Done, tr.Executor, tr.Outputs, tr.Dir = true, t.executor, t.outputs, t.outputDir
			}
			sr.Tasks = append(sr.Tasks, tr)
		}
		r.Stages = append(r.Stages, sr)
	}
	return r, nil
}

// restoreJob rebuilds a job from its record.
func restoreJob(r *jobRecord) (*job, error) {
	if len(r.Stages) == 0 {
		j := &job{id: r.ID, request: r.Request, session: r.Session, query: r.Query, settings: r.Settings, state: clusterpb.JobState(r.State), err: r.Error,
			created: r.Created, started: r.Started, ended: r.Ended, inline: r.Inline, changed: make(chan struct{}), byID: map[int]*stage{},
			resultsRemoved: true}
		return j, nil
	}
	plan := &stages.Job{}
	for _, sr := range r.Stages {
		p, err := consumer.FromBytes(sr.Fragment, nil)
		if err != nil {
			return nil, fmt.Errorf("stage %d: %w", sr.ID, err)
		}
		w, ok := p.(*logical.ShuffleWrite)
		if !ok {
			return nil, fmt.Errorf("stage %d: fragment root is %T", sr.ID, p)
		}
		plan.Stages = append(plan.Stages, &stages.Stage{ID: sr.ID, Plan: w, Tasks: len(sr.Tasks), Inputs: sr.Inputs})
	}
	plan.Schema = plan.Stages[len(plan.Stages)-1].Plan.Schema()
	j, err := newJob(r.ID, plan, r.Created)
	if err != nil {
		return nil, err
	}
	j.request, j.session, j.query, j.settings, j.state, j.err = r.Request, r.Session, r.Query, r.Settings, clusterpb.JobState(r.State), r.Error
	j.started, j.ended, j.fetchFailures, j.resultsRemoved = r.Started, r.Ended, r.FetchFailures, r.ResultsRemoved
	for i, sr := range r.Stages {
		st := j.stages[i]
		st.fragment = sr.Fragment
		for k, tr := range sr.Tasks {
			t := st.tasks[k]
			t.attempt, t.failures, t.lastErr = tr.Attempt, tr.Failures, tr.LastErr
			if tr.Done {
				t.phase, t.executor, t.outputs, t.outputDir = taskDone, tr.Executor, tr.Outputs, tr.Dir
				st.done++
			}
		}
	}
	return j, nil
}

// persister writes job records in the background, the latest snapshot
// of each job winning, so the scheduler's lock never waits for the
// store. Submit writes synchronously: a job the client was told about is
// never lost.
type persister struct {
	store Store
	logf  func(string, ...any)

	mu      sync.Mutex
	pending map[string][]byte
	wake    chan struct{}
	idle    *sync.Cond
	busy    bool
	stop    chan struct{}
	done    chan struct{}
}

func newPersister(store Store, logf func(string, ...any)) *persister {
	p := &persister{store: store, logf: logf, pending: map[string][]byte{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	p.idle = sync.NewCond(&p.mu)
	go p.loop()
	return p
}

func (p *persister) put(key string, value []byte) {
	p.mu.Lock()
	p.pending[key] = value
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *persister) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			p.flush()
			return
		}
		p.flush()
	}
}

func (p *persister) flush() {
	for {
		p.mu.Lock()
		if len(p.pending) == 0 {
			p.busy = false
			p.idle.Broadcast()
			p.mu.Unlock()
			return
		}
		batch := p.pending
		p.pending = map[string][]byte{}
		p.busy = true
		p.mu.Unlock()
		for _, k := range sortedKeys(batch) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var err error
			if batch[k] == nil {
				err = p.store.Delete(ctx, k)
			} else {
				err = p.store.Put(ctx, k, batch[k])
			}
			cancel()
			if err != nil {
				p.logf("scheduler: saving %s: %v", k, err)
			}
		}
	}
}

// sync waits until everything queued is written.
func (p *persister) sync() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
	p.mu.Lock()
	for len(p.pending) > 0 || p.busy {
		p.idle.Wait()
	}
	p.mu.Unlock()
}

func (p *persister) close() {
	close(p.stop)
	<-p.done
}

// saveLocked queues a job's record.
func (s *Scheduler) saveLocked(j *job) {
	if s.persist == nil {
		return
	}
	r, err := j.record()
	if err != nil {
		s.cfg.Logf("scheduler: recording job %s: %v", j.id, err)
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		s.cfg.Logf("scheduler: recording job %s: %v", j.id, err)
		return
	}
	s.persist.put("jobs/"+j.id, b)
}

// restore loads the jobs of the store.
func (s *Scheduler) restore(ctx context.Context) error {
	recs, err := s.cfg.Store.List(ctx, "jobs/")
	if err != nil {
		return err
	}
	now := time.Now()
	for _, k := range sortedKeys(recs) {
		var r jobRecord
		if err := json.Unmarshal(recs[k], &r); err != nil {
			return fmt.Errorf("state %s: %w", k, err)
		}
		j, err := restoreJob(&r)
		if err != nil {
			return fmt.Errorf("state %s: %w", k, err)
		}
		if !j.terminal() {
			j.restored = now
			s.cfg.Logf("scheduler: job %s resumed", j.id)
		}
		s.jobs[j.id] = j
		s.order = append(s.order, j)
	}
	sortJobs(s.order)
	return nil
}
