package stages

import (
	"errors"
	"fmt"
	"strings"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
)

// DefaultBroadcastRows is a sensible Config.BroadcastRows: join build sides
// estimated at up to this many rows are broadcast.
const DefaultBroadcastRows = 128 << 10

// ErrInvalidJob is wrapped by the errors of Job.Validate.
var ErrInvalidJob = errors.New("invalid stage plan")

// Config controls stage planning.
type Config struct {
	// Partitions is the number of hash-exchange partitions and the task
	// count of stages that scan tables (>= 1).
	Partitions int
	// BroadcastRows: a join's right side estimated at no more than this
	// many rows is broadcast to the left side's tasks (0: never, except
	// where correctness requires it).
	BroadcastRows int64
	// Compression of the shuffle files: "lz4" (the default when empty) or
	// "zstd". It is copied into every ShuffleWrite.
	Compression string
}

// Stage is one stage of a job: a plan fragment run by Tasks tasks.
type Stage struct {
	// ID is the stage's index in Job.Stages.
	ID int
	// Plan is the stage's fragment; its leaves read earlier stages through
	// ShuffleRead and its root writes the stage's output.
	Plan *logical.ShuffleWrite
	// Tasks is the number of tasks (partitions) the stage runs.
	Tasks int
	// Inputs are the IDs of the stages it reads, ascending.
	Inputs []int
}

// Schema is the schema of the rows the stage writes.
func (s *Stage) Schema() *logical.Schema { return s.Plan.Schema() }

// Job is a plan cut into stages.
type Job struct {
	// Stages are topologically ordered, producers first; the last one is
	// the final stage, whose output the client reads.
	Stages []*Stage
	// Schema is the result schema (the final stage's output).
	Schema *logical.Schema
}

// Final returns the final stage.
func (j *Job) Final() *Stage { return j.Stages[len(j.Stages)-1] }

// Plan cuts p, an optimized logical plan, into stages.
func Plan(p logical.Plan, cfg Config) (*Job, error) {
	if p == nil {
		return nil, errors.New("stages: nil plan")
	}
	if cfg.Partitions < 1 {
		return nil, fmt.Errorf("stages: Partitions is %d, want at least 1", cfg.Partitions)
	}
	switch cfg.Compression {
	case "":
		cfg.Compression = "lz4"
	case "lz4", "zstd":
	default:
		return nil, fmt.Errorf("stages: unknown shuffle compression %q (want lz4 or zstd)", cfg.Compression)
	}
	if err := checkTree(p); err != nil {
		return nil, fmt.Errorf("stages: invalid input plan: %w", err)
	}
	if err := optimizer.Validate(p); err != nil {
		return nil, fmt.Errorf("stages: invalid input plan: %w", err)
	}
	pl := &planner{cfg: cfg, hints: map[*logical.Aggregate][]int{}}
	root, err := pl.plan(p)
	if err != nil {
		return nil, fmt.Errorf("stages: %w", err)
	}
	pl.close(root, logical.ShuffleSingle, nil, 1)
	job := &Job{Stages: pl.stages, Schema: p.Schema()}
	if err := job.Validate(); err != nil {
		return nil, fmt.Errorf("internal: stage planner produced an invalid job: %w", err)
	}
	if err := sameSchema(p.Schema(), job.Final().Schema()); err != nil {
		return nil, fmt.Errorf("internal: stage planner changed the result schema: %w", err)
	}
	return job, nil
}

// checkTree rejects plan trees whose nodes cannot even report their
// schema: nil nodes and set operations without inputs.
func checkTree(p logical.Plan) error {
	if p == nil {
		return errors.New("nil plan node")
	}
	if s, ok := p.(*logical.SetOp); ok && len(s.Inputs) == 0 {
		return fmt.Errorf("%s without inputs", s.Kind)
	}
	for _, c := range p.Children() {
		if err := checkTree(c); err != nil {
			return err
		}
	}
	return nil
}

// String renders the job for EXPLAIN: every stage with its task count, the
// stages it reads and its plan.
func (j *Job) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Job: %d stages, result %s\n", len(j.Stages), j.Schema)
	for _, s := range j.Stages {
		fmt.Fprintf(&b, "Stage %d: tasks=%d", s.ID, s.Tasks)
		if len(s.Inputs) > 0 {
			parts := make([]string, len(s.Inputs))
			for i, in := range s.Inputs {
				parts[i] = fmt.Sprint(in)
				if in >= 0 && in < len(j.Stages) && j.Stages[in] != nil && j.Stages[in].Plan != nil {
					parts[i] += ":" + j.Stages[in].Plan.Kind.String()
				}
			}
			fmt.Fprintf(&b, " inputs=[%s]", strings.Join(parts, ", "))
		}
		if s.ID == len(j.Stages)-1 {
			b.WriteString(" final")
		}
		fmt.Fprintf(&b, " output=%s\n", s.Schema())
		for _, line := range strings.SplitAfter(strings.TrimRight(logical.Format(s.Plan), "\n"), "\n") {
			b.WriteString("  ")
			b.WriteString(strings.TrimRight(line, "\n"))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// sameSchema checks that got has want's column names, types and
// nullability.
func sameSchema(want, got *logical.Schema) error {
	if want.Len() != got.Len() {
		return fmt.Errorf("%d columns, want %d", got.Len(), want.Len())
	}
	for i, f := range want.Fields {
		g := got.Fields[i]
		if g.Name != f.Name || !typeEqual(g.Type, f.Type) || g.Nullable != f.Nullable {
			return fmt.Errorf("column %d is %s (nullable %t), want %s (nullable %t)", i, g, g.Nullable, f, f.Nullable)
		}
	}
	return nil
}
