package worker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle/shuffleread"
)

// Task is one task of a stage fragment (see host/stages for the contract):
// task Partition of a stage with Tasks tasks.
type Task struct {
	JobID     string
	Stage     int
	Partition int
	Attempt   int
	Tasks     int
	// Plan is the fragment: a *logical.ShuffleWrite whose ShuffleRead
	// leaves are filled in for this task.
	Plan logical.Plan
}

// TaskEnv is what the executor gives every task.
type TaskEnv struct {
	// ExecutorID is this executor's id (a shuffle location with the same
	// id is read from the local disk).
	ExecutorID string
	// WorkDir is the root of the executor's shuffle files.
	WorkDir string
	// MemoryLimit bounds the task's operator state in bytes; 0 = none.
	MemoryLimit int64
	// Alloc is the allocator; nil = the Go allocator.
	Alloc memory.Allocator
	// Fetch configures remote shuffle reads.
	Fetch shuffle.ReaderConfig
}

// TaskResult is what a successful task wrote.
type TaskResult struct {
	Outputs    []shuffle.PartitionStats
	OutputRows int64
	PeakMemory int64
	Elapsed    time.Duration
	// Analyze is the fragment's plan with per-operator metrics.
	Analyze string
}

// OutputDir is where a task's output files are (the Path of its shuffle
// location).
func OutputDir(workDir, jobID string, stage, partition int) string {
	return shuffle.TaskDir(workDir, jobID, stage, partition)
}

// RunTask runs one task of a stage fragment to completion: it reads the
// task's split of the fragment's scans and its partitions of the earlier
// stages' outputs, runs the operators in this goroutine's pipeline, and
// writes the output partitions as Arrow IPC files under OutputDir. An
// input that cannot be fetched fails with a *shuffle.FetchError.
func RunTask(ctx context.Context, t Task, env TaskEnv) (*TaskResult, error) {
	start := time.Now()
	w, ok := t.Plan.(*logical.ShuffleWrite)
	if !ok {
		return nil, fmt.Errorf("task fragment root is %T, want a shuffle write", t.Plan)
	}
	if t.Tasks < 1 || t.Partition < 0 || t.Partition >= t.Tasks {
		return nil, fmt.Errorf("task %d of %d", t.Partition, t.Tasks)
	}
	pl := &planner{cfg: PlannerConfig{Partitions: 1}, alloc: memory.DefaultAllocator,
		task: &taskInfo{partition: t.Partition, tasks: t.Tasks, env: env}}
	node, err := pl.plan(w.Input)
	if err != nil {
		return nil, err
	}
	if node.Partitions() != 1 {
		return nil, fmt.Errorf("internal: task plan has %d partitions", node.Partitions())
	}
	node = exec.Instrument(node)
	// Spill files live under .spill (a name the shuffle sweep and job
	// removal never take for a job).
	spillRoot := filepath.Join(env.WorkDir, ".spill")
	if err := os.MkdirAll(spillRoot, 0o755); err != nil {
		return nil, fmt.Errorf("creating spill directory: %w", err)
	}
	spill, err := os.MkdirTemp(spillRoot, "task-")
	if err != nil {
		return nil, fmt.Errorf("creating spill directory: %w", err)
	}
	defer os.RemoveAll(spill)
	tc := exec.NewTaskContext()
	if env.Alloc != nil {
		tc.Alloc = env.Alloc
	}
	tc.Mem = exec.NewMemoryPool(env.MemoryLimit)
	tc.SpillDir = spill
	tc.Partitions = 1
	stream, err := node.Execute(ctx, 0, tc)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	dir := OutputDir(env.WorkDir, t.JobID, t.Stage, t.Partition)
	stats, err := shuffle.Write(ctx, stream, shuffle.WriteSpec{Kind: w.Kind, Keys: w.Keys, Partitions: w.Partitions, Compression: w.Compression}, dir, tc.Alloc)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", exec.ErrCanceled, ctx.Err())
		}
		return nil, err
	}
	res := &TaskResult{Outputs: stats, PeakMemory: tc.Mem.Peak(), Elapsed: time.Since(start), Analyze: exec.FormatAnalyze(node, tc.Metrics)}
	for _, s := range stats {
		res.OutputRows += s.Rows
	}
	return res, nil
}

// taskInfo makes the planner plan one task: scans read the task's split,
// VALUES rows come out of task 0 only, shuffle reads fetch the task's
// partitions.
type taskInfo struct {
	partition, tasks int
	env              TaskEnv
}

// onePartition runs partition p of a node with several partitions as a
// node with one.
type onePartition struct {
	exec.Node
	p int
}

func (o *onePartition) Partitions() int { return 1 }
func (o *onePartition) Children() []exec.Node {
	return []exec.Node{o.Node}
}
func (o *onePartition) String() string {
	return fmt.Sprintf("Split: %d of %d", o.p+1, o.Node.Partitions())
}
func (o *onePartition) Execute(ctx context.Context, _ int, tc *exec.TaskContext) (exec.Stream, error) {
	return o.Node.Execute(ctx, o.p, tc)
}

// split narrows a leaf planned for the task count (it may have fewer
// partitions: fewer files or row groups than tasks) to this task's
// partition, or to nothing.
func (ti *taskInfo) split(n exec.Node) (exec.Node, error) {
	np := n.Partitions()
	switch {
	case np > ti.tasks:
		return nil, fmt.Errorf("internal: leaf with %d partitions in a stage of %d tasks", np, ti.tasks)
	case ti.partition >= np:
		return emptyNode(n.Schema()), nil
	case np == 1:
		return n, nil
	}
	return &onePartition{Node: n, p: ti.partition}, nil
}

func emptyNode(s *arrow.Schema) exec.Node { return exec.NewValues(s, nil) }

// shuffleRead plans a ShuffleRead leaf.
func (ti *taskInfo) shuffleRead(r *logical.ShuffleRead) (exec.Node, error) {
	if r.JobID == "" || r.Locations == nil {
		return nil, fmt.Errorf("shuffle read of stage %d without locations", r.Stage)
	}
	cfg := ti.env.Fetch
	cfg.LocalExecutorID = ti.env.ExecutorID
	locs := make([]logical.ShuffleLocation, len(r.Locations))
	for i, l := range r.Locations {
		if l.ExecutorID == ti.env.ExecutorID && l.Path == "" {
			l.Path = OutputDir(ti.env.WorkDir, r.JobID, r.Stage, l.MapPartition)
		}
		locs[i] = l
	}
	return shuffleread.New(r.Schema().Arrow(), r.JobID, r.Stage, r.Partitions, locs, cfg), nil
}
