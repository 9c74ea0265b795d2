// Package join holds the native executor's join operators: the hash join
// for equi-joins of every join type (inner, outer, semi, anti, null-aware
// anti, single and mark) and the nested loop join for cross joins and join
// conditions without equalities.
//
// The right input is the build side: it is collected into memory,
// accounted in the query's memory pool, and indexed by its join keys. The
// left input is the probe side and streams; the join has as many output
// partitions as its left input. Semi, anti and mark joins whose left side
// turns out small at run time index the left side instead and stream the
// right side through it (see leftfirst.go).
package join

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// Mode says how the build side is distributed over the probe partitions.
type Mode int

const (
	// CollectBuild collects the build side (right input) once from all its
	// partitions and shares it by every probe partition. Unmatched build
	// rows of right and full joins are emitted once, by the probe partition
	// that finishes last.
	CollectBuild Mode = iota
	// Partitioned joins partition i of the left input with partition i of
	// the right input; both must be hash-partitioned on the join keys with
	// the same partition count.
	Partitioned
)

func (m Mode) String() string {
	switch m {
	case CollectBuild:
		return "CollectBuild"
	case Partitioned:
		return "Partitioned"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// outputSchema is the schema of a join of left and right per logical.Join:
// left fields then right fields, the left ones only for semi and anti
// joins, the left ones plus a nullable boolean "__mark" for mark joins.
// Fields an outer join may pad with NULL are made nullable.
func outputSchema(left, right *arrow.Schema, jt logical.JoinType) *arrow.Schema {
	fields := make([]arrow.Field, 0, left.NumFields()+right.NumFields())
	padLeft := jt == logical.JoinRight || jt == logical.JoinFull
	padRight := jt == logical.JoinLeft || jt == logical.JoinFull || jt == logical.JoinSingle
	for _, f := range left.Fields() {
		f.Nullable = f.Nullable || padLeft
		fields = append(fields, f)
	}
	switch jt {
	case logical.JoinSemi, logical.JoinAnti:
	case logical.JoinMark:
		fields = append(fields, arrow.Field{Name: "__mark", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	default:
		for _, f := range right.Fields() {
			f.Nullable = f.Nullable || padRight
			fields = append(fields, f)
		}
	}
	return arrow.NewSchema(fields, nil)
}

// residualPlan is a join filter compiled over only the columns it reads:
// the candidate pairs gather those columns alone before evaluating it.
type residualPlan struct {
	expr      logical.Expr  // remapped to schema
	schema    *arrow.Schema // the columns read, left ones first
	leftCols  []int         // left input columns, in schema order
	rightCols []int         // right input columns, following leftCols
}

// planResidual narrows cond (over left fields followed by right fields) to
// the columns it reads and checks that it compiles to a boolean.
func planResidual(cond logical.Expr, left, right *arrow.Schema) (*residualPlan, error) {
	if cond == nil {
		return nil, nil
	}
	nl := left.NumFields()
	used := logical.ColumnsUsed(cond, nil)
	idx := make([]int, 0, len(used))
	for c := range used {
		if c < 0 || c >= nl+right.NumFields() {
			return nil, fmt.Errorf("join condition %s reads column %d; the joined inputs have %d columns", cond, c, nl+right.NumFields())
		}
		idx = append(idx, c)
	}
	slices.Sort(idx)
	rp := &residualPlan{}
	mapping := make(map[int]int, len(idx))
	fields := make([]arrow.Field, len(idx))
	for i, c := range idx {
		mapping[c] = i
		if c < nl {
			rp.leftCols = append(rp.leftCols, c)
			fields[i] = left.Field(c)
		} else {
			rp.rightCols = append(rp.rightCols, c-nl)
			fields[i] = right.Field(c - nl)
		}
	}
	e, err := logical.RemapColumns(cond, mapping)
	if err != nil {
		return nil, err
	}
	rp.expr = e
	rp.schema = arrow.NewSchema(fields, nil)
	ev, err := expr.Compile(e, rp.schema, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("join condition %s: %w", cond, err)
	}
	if ev.Type().ID() != arrow.BOOL {
		return nil, fmt.Errorf("join condition %s has type %s, want boolean", cond, ev.Type())
	}
	return rp, nil
}

// compileAll compiles exprs over schema.
func compileAll(exprs []logical.Expr, schema *arrow.Schema, alloc memory.Allocator) ([]expr.Evaluator, error) {
	out := make([]expr.Evaluator, len(exprs))
	for i, e := range exprs {
		ev, err := expr.Compile(e, schema, alloc)
		if err != nil {
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

// checkPartition validates a partition number passed to Execute.
func checkPartition(name string, p, n int, tc *exec.TaskContext) error {
	if p < 0 || p >= n {
		return fmt.Errorf("%s: partition %d out of range [0, %d)", name, p, n)
	}
	if tc == nil || tc.Alloc == nil || tc.Mem == nil || tc.Metrics == nil {
		return fmt.Errorf("%s: incomplete task context (allocator, memory pool and metrics are required)", name)
	}
	return nil
}

// batchSize is the target output batch size of tc.
func batchSize(tc *exec.TaskContext) int {
	if tc.BatchSize > 0 {
		return tc.BatchSize
	}
	return exec.DefaultBatchSize
}

// sharedStates coordinates the partitions of a join that share one build
// side (CollectBuild mode): one state per query (TaskContext).
type sharedStates[T any] struct {
	mu     sync.Mutex
	states map[*exec.TaskContext]*sharedBuild[T]
}

// sharedBuild is the build side shared by the probe partitions of one
// query. The first partition that needs it builds it; the others wait. It
// is freed when every probe partition has closed its stream.
type sharedBuild[T any] struct {
	parts int
	done  chan struct{}
	value T
	err   error

	// The cooperative read of the build input (see acquire), under mu.
	claimed, running int
	finalized        bool
	read             []*partPieces
	readErr          error

	mu sync.Mutex
	// finished and closed record, per probe partition, whether it finished
	// probing and whether its stream closed.
	finished []bool
	closed   []bool
	nFin     int
	nClosed  int
	// visited is the union of the build rows that the finished partitions
	// matched (right and full joins).
	visited []uint64
}

// get returns the shared state of tc, creating it.
func (s *sharedStates[T]) get(tc *exec.TaskContext, parts int) *sharedBuild[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		s.states = map[*exec.TaskContext]*sharedBuild[T]{}
	}
	st := s.states[tc]
	if st == nil {
		st = &sharedBuild[T]{parts: parts, done: make(chan struct{}),
			finished: make([]bool, parts), closed: make([]bool, parts)}
		s.states[tc] = st
	}
	return st
}

// release records that partition p closed its stream; when it is the last
// one, the state is forgotten and free is called with the built value.
func (s *sharedStates[T]) release(tc *exec.TaskContext, st *sharedBuild[T], p int, free func(T)) {
	st.mu.Lock()
	if st.closed[p] {
		st.mu.Unlock()
		return
	}
	st.closed[p] = true
	st.nClosed++
	last := st.nClosed == st.parts
	st.mu.Unlock()
	if !last {
		return
	}
	s.mu.Lock()
	if s.states[tc] == st {
		delete(s.states, tc)
	}
	s.mu.Unlock()
	// Every partition closed, so no one waits on done any more; a build
	// still running belongs to a closed stream and frees its own result.
	select {
	case <-st.done:
		if st.err == nil {
			free(st.value)
		}
	default:
	}
}

// acquire returns the shared value. The partitions of the build input
// are read cooperatively: every caller claims unread partitions one at a
// time and reads them with read, so the probe partitions that start
// together read the build side in parallel; the caller that completes the
// last one builds the value from all of them (in partition order) with
// build. Callers with nothing left to read wait for the value (or for ctx
// to end). A caller only ever waits for partitions that running callers
// are reading, so partitions executed one after another do not deadlock.
func (st *sharedBuild[T]) acquire(ctx context.Context, nparts int, read func(context.Context, int) (*partPieces, error),
	build func([]*partPieces) (T, error)) (T, error) {
	for {
		st.mu.Lock()
		if st.readErr != nil || st.claimed == nparts {
			if st.running == 0 && !st.finalized {
				// Nothing to read (no partitions): build here.
				st.finalized = true
				st.mu.Unlock()
				return st.finalize(build)
			}
			st.mu.Unlock()
			select {
			case <-st.done:
				return st.value, st.err
			case <-ctx.Done():
				var zero T
				return zero, canceled(ctx)
			}
		}
		if st.read == nil {
			st.read = make([]*partPieces, nparts)
		}
		p := st.claimed
		st.claimed++
		st.running++
		st.mu.Unlock()

		pp, err := read(ctx, p)

		st.mu.Lock()
		st.running--
		if err != nil && st.readErr == nil {
			st.readErr = err
		}
		st.read[p] = pp
		last := st.running == 0 && (st.readErr != nil || st.claimed == nparts) && !st.finalized
		if last {
			st.finalized = true
		}
		st.mu.Unlock()
		if last {
			return st.finalize(build)
		}
	}
}

// finalize builds the value from the partitions read, or releases them
// when reading failed, and wakes the waiting callers. It runs once, after
// every read has ended.
func (st *sharedBuild[T]) finalize(build func([]*partPieces) (T, error)) (T, error) {
	parts := st.read
	st.read = nil
	if st.readErr != nil {
		for _, pp := range parts {
			if pp != nil {
				pp.release()
			}
		}
		st.err = st.readErr
	} else {
		st.value, st.err = build(parts)
	}
	close(st.done)
	return st.value, st.err
}

// finish records that partition p finished probing with the given matched
// build rows (nil when not tracked) and reports whether every partition has
// now finished; the caller that gets true emits the unmatched build rows
// from the merged visited bitmap.
func (st *sharedBuild[T]) finish(p int, visited []uint64) ([]uint64, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished[p] {
		return nil, false
	}
	st.finished[p] = true
	st.nFin++
	if visited != nil {
		if st.visited == nil {
			st.visited = make([]uint64, len(visited))
		}
		for i, w := range visited {
			st.visited[i] |= w
		}
	}
	return st.visited, st.nFin == st.parts
}

// keyString renders equi-join keys for EXPLAIN.
func keyString(l, r []logical.Expr) string {
	parts := make([]string, len(l))
	for i := range l {
		parts[i] = fmt.Sprintf("%s = %s", l[i], r[i])
	}
	return strings.Join(parts, ", ")
}
