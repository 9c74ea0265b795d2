package stages

import (
	"fmt"
	"slices"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
)

// Validate checks the job against the execution contract (see the package
// documentation): stages numbered by position and topologically ordered,
// every stage a valid plan with exactly one ShuffleWrite, at its root,
// every ShuffleRead of an earlier stage with that stage's output schema,
// Inputs listing exactly the stages read, hash inputs with as many
// partitions as the reader has tasks, single inputs read by one-task
// stages, every stage but the last read by a later one, and a final stage
// that writes single. Errors wrap ErrInvalidJob.
func (j *Job) Validate() error {
	if j == nil || len(j.Stages) == 0 {
		return fmt.Errorf("%w: no stages", ErrInvalidJob)
	}
	read := make([]bool, len(j.Stages))
	for i, s := range j.Stages {
		if err := j.validateStage(i, s, read); err != nil {
			return fmt.Errorf("%w: stage %d: %v", ErrInvalidJob, i, err)
		}
	}
	for i := range len(j.Stages) - 1 {
		if !read[i] {
			return fmt.Errorf("%w: stage %d is read by no stage", ErrInvalidJob, i)
		}
	}
	final := j.Final()
	if final.Plan.Kind != logical.ShuffleSingle {
		return fmt.Errorf("%w: final stage %d writes %s, want single", ErrInvalidJob, final.ID, final.Plan.Kind)
	}
	if j.Schema != nil {
		if err := sameSchema(j.Schema, final.Schema()); err != nil {
			return fmt.Errorf("%w: final stage output differs from the job schema: %v", ErrInvalidJob, err)
		}
	}
	return nil
}

func (j *Job) validateStage(i int, s *Stage, read []bool) error {
	if s == nil || s.Plan == nil || s.Plan.Input == nil {
		return fmt.Errorf("no plan")
	}
	if s.ID != i {
		return fmt.Errorf("has ID %d", s.ID)
	}
	if s.Tasks < 1 {
		return fmt.Errorf("%d tasks", s.Tasks)
	}
	w := s.Plan
	switch w.Compression {
	case "lz4", "zstd":
	default:
		return fmt.Errorf("unknown compression %q", w.Compression)
	}
	switch w.Kind {
	case logical.ShuffleHash:
		if w.Partitions < 1 || len(w.Keys) == 0 {
			return fmt.Errorf("hash write with %d partitions and %d keys", w.Partitions, len(w.Keys))
		}
		out := w.Schema()
		for _, k := range w.Keys {
			if k < 0 || k >= out.Len() {
				return fmt.Errorf("hash key column %d out of range (%d columns)", k, out.Len())
			}
			if !logical.ShuffleHashable(out.Fields[k].Type) {
				return fmt.Errorf("hash key column %s cannot be hashed", out.Fields[k])
			}
		}
	case logical.ShuffleBroadcast, logical.ShuffleSingle:
		if w.Partitions != 1 || len(w.Keys) != 0 {
			return fmt.Errorf("%s write with %d partitions and keys %v", w.Kind, w.Partitions, w.Keys)
		}
	default:
		return fmt.Errorf("unknown shuffle kind %d", w.Kind)
	}
	var inputs []int
	var walk func(p logical.Plan) error
	walk = func(p logical.Plan) error {
		switch n := p.(type) {
		case *logical.ShuffleWrite:
			return fmt.Errorf("ShuffleWrite inside the plan")
		case *logical.ShuffleRead:
			if err := j.checkRead(n, s); err != nil {
				return err
			}
			inputs = append(inputs, n.Stage)
			read[n.Stage] = true
		}
		for _, c := range p.Children() {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(w.Input); err != nil {
		return err
	}
	slices.Sort(inputs)
	if inputs = slices.Compact(inputs); !slices.Equal(inputs, s.Inputs) {
		return fmt.Errorf("reads stages %v but lists inputs %v", inputs, s.Inputs)
	}
	return optimizer.Validate(w.Input)
}

// checkRead checks a ShuffleRead of stage s.
func (j *Job) checkRead(r *logical.ShuffleRead, s *Stage) error {
	if r.Stage < 0 || r.Stage >= s.ID {
		return fmt.Errorf("reads stage %d, which does not come before it", r.Stage)
	}
	src := j.Stages[r.Stage]
	if err := sameSchema(src.Schema(), r.Schema()); err != nil {
		return fmt.Errorf("read of stage %d: schema differs from the stage's output: %v", r.Stage, err)
	}
	switch src.Plan.Kind {
	case logical.ShuffleHash:
		if src.Plan.Partitions != s.Tasks {
			return fmt.Errorf("reads hash stage %d of %d partitions with %d tasks", r.Stage, src.Plan.Partitions, s.Tasks)
		}
	case logical.ShuffleSingle:
		if s.Tasks != 1 {
			return fmt.Errorf("reads single stage %d with %d tasks", r.Stage, s.Tasks)
		}
	}
	return nil
}
