// Package worker is the native Go executor: it turns logical plans (from
// SQL or Substrait fragments) into vectorised physical operators on Arrow
// and runs them.
package worker

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/aggregate"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/scan"
)

// PlannerConfig tunes physical planning.
type PlannerConfig struct {
	// Partitions is the target parallelism.
	Partitions int
}

// planner converts a logical plan into a physical one.
type planner struct {
	cfg   PlannerConfig
	alloc memory.Allocator
	// task, when set, plans one task of a stage fragment (RunTask).
	task *taskInfo
}

// Plan builds the physical plan of p.
func Plan(p logical.Plan, cfg PlannerConfig) (exec.Node, error) {
	if cfg.Partitions < 1 {
		cfg.Partitions = 1
	}
	pl := &planner{cfg: cfg, alloc: memory.DefaultAllocator}
	return pl.plan(p)
}

func (pl *planner) plan(p logical.Plan) (exec.Node, error) {
	switch n := p.(type) {
	case *logical.Scan:
		if n.Source.Provider != nil {
			parts := pl.cfg.Partitions
			if pl.task != nil {
				parts = pl.task.tasks
			}
			s, err := scan.NewPluginScan(context.Background(), n.Source, n.Projection, n.Limit, n.Pushed, parts)
			if err != nil || pl.task == nil {
				return s, err
			}
			return pl.task.split(s)
		}
		if pl.task != nil {
			s, err := scan.NewTaskScan(n.Source, n.Projection, n.Filters, n.Limit, pl.task.tasks)
			if err != nil {
				return nil, err
			}
			return pl.task.split(s)
		}
		return scan.NewScan(n.Source, n.Projection, n.Filters, n.Limit, pl.cfg.Partitions)
	case *logical.Values:
		v, err := pl.values(n)
		if err != nil || pl.task == nil {
			return v, err
		}
		return pl.task.split(v)
	case *logical.ShuffleRead:
		if pl.task == nil {
			return nil, fmt.Errorf("shuffle read of stage %d outside a task", n.Stage)
		}
		return pl.task.shuffleRead(n)
	case *logical.ShuffleWrite:
		return nil, fmt.Errorf("shuffle write below the root of a fragment")
	case *logical.Filter:
		in, err := pl.plan(n.Input)
		if err != nil {
			return nil, err
		}
		return exec.NewFilter(in, n.Cond)
	case *logical.Project:
		in, err := pl.plan(n.Input)
		if err != nil {
			return nil, err
		}
		return exec.NewProject(in, n.Exprs, n.Names)
	case *logical.Aggregate:
		return pl.aggregate(n)
	case *logical.Join:
		return pl.join(n)
	case *logical.Sort:
		in, err := pl.plan(n.Input)
		if err != nil {
			return nil, err
		}
		return exec.NewSort(in, n.Keys, n.Fetch)
	case *logical.Limit:
		in, err := pl.plan(n.Input)
		if err != nil {
			return nil, err
		}
		return exec.NewLimit(in, n.Offset, n.Count), nil
	case *logical.SetOp:
		return pl.setOp(n)
	case *logical.Window:
		in, err := pl.plan(n.Input)
		if err != nil {
			return nil, err
		}
		return exec.NewWindow(in, n.Funcs, n.Names)
	}
	return nil, fmt.Errorf("not supported: logical node %T", p)
}

// values evaluates the constant rows of an inline table into one batch.
func (pl *planner) values(v *logical.Values) (exec.Node, error) {
	schema := v.Schema().Arrow()
	one := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer one.Release()
	b := array.NewRecordBuilder(pl.alloc, schema)
	defer b.Release()
	cols := make([][]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			for _, a := range c {
				a.Release()
			}
		}
	}()
	for r, row := range v.Rows {
		if len(row) != schema.NumFields() {
			return nil, fmt.Errorf("VALUES row %d has %d values, expected %d", r+1, len(row), schema.NumFields())
		}
		for i, e := range row {
			ev, err := expr.Compile(e, one.Schema(), pl.alloc)
			if err != nil {
				return nil, err
			}
			a, err := ev.Eval(context.Background(), one)
			if err != nil {
				return nil, err
			}
			cols[i] = append(cols[i], a)
		}
	}
	arrays := make([]arrow.Array, len(cols))
	for i, parts := range cols {
		var col arrow.Array
		if len(parts) == 0 {
			col = array.MakeArrayOfNull(pl.alloc, schema.Field(i).Type, 0)
		} else {
			c, err := array.Concatenate(parts, pl.alloc)
			if err != nil {
				return nil, err
			}
			col = c
		}
		if !arrow.TypeEqual(col.DataType(), schema.Field(i).Type) {
			col.Release()
			return nil, fmt.Errorf("VALUES column %d has type %s, expected %s", i+1, col.DataType(), schema.Field(i).Type)
		}
		arrays[i] = col
	}
	rec := array.NewRecordBatch(schema, arrays, int64(len(v.Rows)))
	for _, a := range arrays {
		a.Release()
	}
	return exec.NewValues(schema, []arrow.RecordBatch{rec}), nil
}

func (pl *planner) aggregate(a *logical.Aggregate) (exec.Node, error) {
	in, err := pl.plan(a.Input)
	if err != nil {
		return nil, err
	}
	if in.Partitions() == 1 || hasDistinct(a) {
		if in.Partitions() > 1 {
			in = exec.NewCoalesce(in)
		}
		return aggregate.NewHashAggregate(in, aggregate.Single, a.GroupBy, a.GroupNames, a.GroupingSets, a.Aggs, a.AggNames)
	}
	partial, err := aggregate.NewHashAggregate(in, aggregate.Partial, a.GroupBy, a.GroupNames, a.GroupingSets, a.Aggs, a.AggNames)
	if err != nil {
		return nil, err
	}
	var mid exec.Node
	if keyCols := partial.KeyColumns(); len(keyCols) == 0 {
		mid = exec.NewCoalesce(partial)
	} else {
		ps := logical.FromArrow(partial.Schema(), "")
		keys := make([]logical.Expr, len(keyCols))
		for i, c := range keyCols {
			keys[i] = logical.Col(ps, c)
		}
		if mid, err = exec.NewRepartition(partial, keys, pl.cfg.Partitions); err != nil {
			return nil, err
		}
	}
	return aggregate.NewFinalAggregate(mid, partial)
}

func hasDistinct(a *logical.Aggregate) bool {
	for _, c := range a.Aggs {
		if c.Distinct {
			return true
		}
	}
	return false
}

func (pl *planner) setOp(s *logical.SetOp) (exec.Node, error) {
	inputs := make([]exec.Node, len(s.Inputs))
	for i, in := range s.Inputs {
		n, err := pl.plan(in)
		if err != nil {
			return nil, err
		}
		inputs[i] = n
	}
	if s.Kind == logical.Union {
		u, err := exec.NewUnion(inputs...)
		if err != nil {
			return nil, err
		}
		if s.All {
			return u, nil
		}
		return pl.distinct(u)
	}
	return pl.intersectExcept(s, inputs)
}

// distinct groups by every column.
func (pl *planner) distinct(in exec.Node) (exec.Node, error) {
	ls := logical.FromArrow(in.Schema(), "")
	keys := make([]logical.Expr, ls.Len())
	names := make([]string, ls.Len())
	for i := range keys {
		keys[i] = logical.Col(ls, i)
		names[i] = ls.Fields[i].Name
	}
	if in.Partitions() > 1 {
		in = exec.NewCoalesce(in)
	}
	return aggregate.NewHashAggregate(in, aggregate.Single, keys, names, nil, nil, nil)
}
