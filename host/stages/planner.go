package stages

import (
	"fmt"
	"slices"

	"github.com/arbalest/arbalest/substrait/logical"
)

// frag is the open (not yet written) top of a stage: the plan computed so
// far, how many tasks run it and how its output rows are spread over them.
type frag struct {
	plan logical.Plan
	// tasks is the task count of the stage the fragment belongs to. One
	// task means all rows are in it, which satisfies every distribution.
	tasks int
	// flexible: the fragment gives the same rows run with any task count.
	// Only fragments over Scans (split by task), Values (rows in task 0)
	// and broadcast reads are, and then only while nothing in them depends
	// on how rows are spread: with more than one task only row-local
	// operators; with one task (then every leaf is a Values) anything that
	// yields no rows from empty input.
	flexible bool
	// hash lists key lists (expressions over plan's output) the rows are
	// hash partitioned on, each on its own, with tasks partitions; nil when
	// unknown. Several lists arise from joins (both sides' keys).
	hash [][]logical.Expr
	// inputs are the stages the fragment reads.
	inputs []int
}

// planner builds the stages of one job.
type planner struct {
	cfg    Config
	stages []*Stage
	// hints holds, for an aggregate whose output another aggregate groups
	// by a subset of its group columns, those columns: partitioning the
	// inner aggregate on them lets the outer one run in place.
	hints map[*logical.Aggregate][]int
}

// plan plans p bottom-up, returning the open fragment computing it.
func (pl *planner) plan(p logical.Plan) (frag, error) {
	switch n := p.(type) {
	case *logical.Scan:
		tasks := pl.cfg.Partitions
		if n.Pushed != nil {
			// A plugin's scan: one task per split, at most.
			tasks = max(1, min(tasks, len(n.Pushed.Splits)))
		}
		return frag{plan: n, tasks: tasks, flexible: tasks > 1}, nil
	case *logical.Values:
		return frag{plan: n, tasks: 1, flexible: true}, nil
	case *logical.Filter:
		in, err := pl.plan(n.Input)
		if err != nil {
			return frag{}, err
		}
		return in.with(n.WithChildren([]logical.Plan{in.plan})), nil
	case *logical.Project:
		return pl.project(n)
	case *logical.Aggregate:
		return pl.aggregate(n)
	case *logical.Join:
		return pl.join(n)
	case *logical.Sort:
		return pl.sort(n)
	case *logical.Limit:
		return pl.limit(n)
	case *logical.Window:
		return pl.window(n)
	case *logical.SetOp:
		if len(n.Inputs) == 0 {
			return frag{}, fmt.Errorf("%s without inputs", n)
		}
		if n.Kind == logical.Union && n.All {
			return pl.unionAll(n)
		}
		return pl.setOp(n)
	case *logical.ShuffleRead, *logical.ShuffleWrite:
		return frag{}, fmt.Errorf("the plan is already cut into stages (%s)", n)
	case nil:
		return frag{}, fmt.Errorf("nil plan node")
	}
	return frag{}, fmt.Errorf("not supported in distributed plans: %T (%s)", p, p)
}

// keys returns the hash key lists of f's partitioning; none for one task,
// where every requirement holds anyway.
func (f frag) keys() [][]logical.Expr {
	if f.tasks <= 1 {
		return nil
	}
	return f.hash
}

// with returns f computing p (a node over f.plan that keeps its rows where
// they are and its columns' positions).
func (f frag) with(p logical.Plan) frag {
	f.plan = p
	return f
}

func (pl *planner) project(n *logical.Project) (frag, error) {
	in, err := pl.plan(n.Input)
	if err != nil {
		return frag{}, err
	}
	out := in.with(n.WithChildren([]logical.Plan{in.plan}))
	if inner, ok := in.plan.(*logical.Project); ok {
		if merged := mergeProjects(n, inner); merged != nil {
			out.plan = merged
		}
	}
	out.hash = projectHash(in.keys(), n.Exprs, n.Schema())
	return out, nil
}

// mergeProjects fuses outer over inner into one projection with outer's
// schema, or returns nil when that would compute an inner expression more
// than once.
func mergeProjects(outer, inner *logical.Project) *logical.Project {
	uses := map[int]int{}
	for _, e := range outer.Exprs {
		logical.WalkExpr(e, func(x logical.Expr) bool {
			if c, ok := x.(*logical.ColumnRef); ok {
				uses[c.Index]++
			}
			return true
		})
	}
	for i, n := range uses {
		if i < 0 || i >= len(inner.Exprs) {
			return nil
		}
		switch inner.Exprs[i].(type) {
		case *logical.ColumnRef, *logical.Literal:
		default:
			if n > 1 {
				return nil
			}
		}
	}
	exprs := make([]logical.Expr, len(outer.Exprs))
	for i, e := range outer.Exprs {
		m, err := logical.TransformExpr(e, func(x logical.Expr) (logical.Expr, error) {
			if c, ok := x.(*logical.ColumnRef); ok {
				return inner.Exprs[c.Index], nil
			}
			return x, nil
		})
		if err != nil {
			return nil
		}
		exprs[i] = m
	}
	quals := make([]string, len(exprs))
	for i, f := range outer.Schema().Fields {
		quals[i] = f.Qualifier
	}
	merged := logical.NewProject(inner.Input, exprs, outer.Names, quals)
	if sameSchema(outer.Schema(), merged.Schema()) != nil {
		return nil
	}
	return merged
}

func (pl *planner) sort(n *logical.Sort) (frag, error) {
	in, err := pl.plan(n.Input)
	if err != nil {
		return frag{}, err
	}
	if in.tasks > 1 {
		// A local top-k cuts what is gathered; a full local sort would only
		// be sorted again.
		if n.Fetch >= 0 {
			in = in.with(&logical.Sort{Input: in.plan, Keys: n.Keys, Fetch: n.Fetch})
		}
		in = pl.gather(in)
	}
	return in.with(&logical.Sort{Input: in.plan, Keys: n.Keys, Fetch: n.Fetch}), nil
}

func (pl *planner) limit(n *logical.Limit) (frag, error) {
	in, err := pl.plan(n.Input)
	if err != nil {
		return frag{}, err
	}
	if in.tasks > 1 {
		if n.Count >= 0 {
			in = in.with(&logical.Limit{Input: in.plan, Count: n.Offset + n.Count})
		}
		in = pl.gather(in)
	}
	return in.with(&logical.Limit{Input: in.plan, Offset: n.Offset, Count: n.Count}), nil
}

// window partitions the input on the PARTITION BY keys every function
// shares, or gathers it into one task when they share none.
func (pl *planner) window(n *logical.Window) (frag, error) {
	in, err := pl.plan(n.Input)
	if err != nil {
		return frag{}, err
	}
	if in.tasks > 1 {
		keys := hashable(commonPartitionKeys(n.Funcs))
		switch {
		case len(keys) == 0:
			in = pl.gather(in)
		case partitionedWithin(in.keys(), keys) == nil:
			in = pl.repartition(in, keys, pl.cfg.Partitions)
		}
	}
	// The window keeps its input columns in place, and with them the
	// partitioning.
	return in.with(n.WithChildren([]logical.Plan{in.plan})), nil
}

// commonPartitionKeys returns the PARTITION BY expressions that every
// window function has (in the first function's order).
func commonPartitionKeys(funcs []*logical.WindowCall) []logical.Expr {
	if len(funcs) == 0 {
		return nil
	}
	var out []logical.Expr
	for _, k := range funcs[0].PartitionBy {
		c := canon(k)
		inAll := true
		for _, f := range funcs[1:] {
			if !slices.ContainsFunc(f.PartitionBy, func(e logical.Expr) bool { return canon(e) == c }) {
				inAll = false
				break
			}
		}
		if inAll {
			out = append(out, k)
		}
	}
	return dedupe(out)
}

// unionAll runs the inputs of a UNION ALL in one stage. Inputs whose task
// count is fixed and differs from the largest one are hash exchanged into
// that many partitions (or, when no column can be hashed, everything is
// gathered into one task).
func (pl *planner) unionAll(n *logical.SetOp) (frag, error) {
	ins := make([]frag, len(n.Inputs))
	target := 1
	for i, c := range n.Inputs {
		f, err := pl.plan(c)
		if err != nil {
			return frag{}, err
		}
		ins[i] = f
		target = max(target, f.tasks)
	}
	cols := hashableColumns(n.Inputs[0].Schema())
	if len(cols) == 0 {
		target = 1
	}
	for i, f := range ins {
		switch {
		case f.tasks == target:
		case f.flexible:
			ins[i].tasks = target
			ins[i].hash = nil
		case target == 1:
			ins[i] = pl.gather(f)
		default:
			ins[i] = pl.repartition(f, logical.Cols(f.plan.Schema(), cols), target)
		}
	}
	out := frag{tasks: target, flexible: true}
	plans := make([]logical.Plan, len(ins))
	for i, f := range ins {
		plans[i] = f.plan
		out.flexible = out.flexible && f.flexible
		out.inputs = append(out.inputs, f.inputs...)
	}
	out.plan = n.WithChildren(plans)
	out.hash = commonColumnHash(ins, out.plan.Schema())
	return out, nil
}

// setOp plans UNION, INTERSECT and EXCEPT [ALL]: equal rows must meet in
// one task, so every input is hash partitioned on the same columns (all
// hashable ones, unless an input already is on some of them).
func (pl *planner) setOp(n *logical.SetOp) (frag, error) {
	ins := make([]frag, len(n.Inputs))
	allSingle := true
	for i, c := range n.Inputs {
		f, err := pl.plan(c)
		if err != nil {
			return frag{}, err
		}
		ins[i] = f
		allSingle = allSingle && f.tasks == 1
	}
	out := frag{tasks: 1, flexible: true}
	switch cols := hashableColumns(n.Inputs[0].Schema()); {
	case allSingle:
	case len(cols) == 0:
		for i, f := range ins {
			if f.tasks > 1 {
				ins[i] = pl.gather(f)
			}
		}
	default:
		// Reuse an input's partitioning on plain columns when it has one.
		tasks := pl.cfg.Partitions
		for _, f := range ins {
			if p := columnKeys(f.keys()); p != nil {
				cols, tasks = p, f.tasks
				break
			}
		}
		for i, f := range ins {
			if f.tasks != tasks || !hasColumnKeys(f.keys(), cols) {
				ins[i] = pl.repartition(f, logical.Cols(f.plan.Schema(), cols), tasks)
			}
		}
		out.tasks = tasks
	}
	plans := make([]logical.Plan, len(ins))
	for i, f := range ins {
		plans[i] = f.plan
		out.flexible = out.flexible && f.flexible && f.tasks == 1
		out.inputs = append(out.inputs, f.inputs...)
	}
	out.plan = n.WithChildren(plans)
	if out.tasks > 1 {
		out.hash = commonColumnHash(ins, out.plan.Schema())
	}
	return out, nil
}
