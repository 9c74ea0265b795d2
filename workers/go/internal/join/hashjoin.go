package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// ErrScalarSubquery is returned by a single join when a probe row matches
// more than one build row.
var ErrScalarSubquery = errors.New("scalar subquery returned more than one row")

// core is what the hash join and the nested loop join share: the inputs,
// the join type, the keys (none for the nested loop join), the residual
// condition and the build side shared by the partitions of a query.
type core struct {
	left, right         exec.Node
	jt                  logical.JoinType
	leftKeys, rightKeys []logical.Expr
	keyTypes            []arrow.DataType
	leftTypes           []arrow.DataType // the left keys' types
	residual            logical.Expr
	resid               *residualPlan
	// nullCond is the whole join condition (key equalities and residual)
	// for mark and null-aware anti joins whose NULL rules need it: with
	// several keys or a residual, whether the condition is NULL for some
	// build row depends on the other conjuncts of the pairs that involve
	// a NULL key (see resolveNulls). nil when one key and no residual.
	nullCond  *residualPlan
	nullAware bool
	mode      Mode
	schema    *arrow.Schema
	// nested is set for the nested loop join: every probe row is paired
	// with every build row.
	nested bool

	shared sharedStates[*hashBuild]
	// lefts is the left-first state of each query (see leftFirst).
	lefts leftFirstStates
}

// HashJoin is an equi-join: the right input (build side) is collected and
// indexed by its key expressions; each partition of the left input (probe
// side) streams through and looks its keys up. Rows with a NULL in any key
// never match. A residual condition, when set, filters the key-matched
// pairs. It is immutable, except for the build side that the partitions of
// one query share in CollectBuild mode.
type HashJoin struct {
	core
}

var _ exec.Node = (*HashJoin)(nil)

// NewHashJoin builds a hash join of left (probe side) and right (build
// side) on leftKeys[i] = rightKeys[i], each key bound to its own side's
// schema, each pair of KeyTypesCompatible types. residual, when not nil, is evaluated over the left fields
// followed by the right fields for every key-matched pair. nullAware turns
// an anti join into SQL NOT IN: when the build side has a NULL key no row
// qualifies, and a probe row with a NULL key qualifies only when the build
// side is empty. In Partitioned mode both inputs must have the same number
// of partitions.
func NewHashJoin(left, right exec.Node, jt logical.JoinType, leftKeys, rightKeys []logical.Expr,
	residual logical.Expr, nullAware bool, mode Mode) (exec.Node, error) {
	if left == nil || right == nil {
		return nil, errors.New("hash join: missing input")
	}
	switch jt {
	case logical.JoinInner, logical.JoinLeft, logical.JoinRight, logical.JoinFull, logical.JoinSemi,
		logical.JoinAnti, logical.JoinSingle, logical.JoinMark:
	default:
		return nil, fmt.Errorf("hash join: join type %s is not supported (use the nested loop join)", jt)
	}
	if len(leftKeys) == 0 || len(leftKeys) != len(rightKeys) {
		return nil, fmt.Errorf("hash join: needs equal, non-zero numbers of left and right keys, got %d and %d", len(leftKeys), len(rightKeys))
	}
	if nullAware && jt != logical.JoinAnti {
		return nil, fmt.Errorf("hash join: null-aware applies to anti joins only, not %s", jt)
	}
	switch mode {
	case CollectBuild:
	case Partitioned:
		if jt == logical.JoinMark || nullAware {
			// Their NULL rules depend on the whole build side: whether it is
			// empty and whether it has a NULL key.
			return nil, fmt.Errorf("hash join: %s joins need the whole build side; use CollectBuild mode", map[bool]string{true: "null-aware anti", false: "mark"}[nullAware])
		}
		if left.Partitions() != right.Partitions() {
			return nil, fmt.Errorf("hash join: partitioned mode needs equal partition counts, left has %d and right %d", left.Partitions(), right.Partitions())
		}
	default:
		return nil, fmt.Errorf("hash join: unknown mode %d", int(mode))
	}
	ls, rs := left.Schema(), right.Schema()
	le, err := compileAll(leftKeys, ls, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("hash join left key: %w", err)
	}
	re, err := compileAll(rightKeys, rs, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("hash join right key: %w", err)
	}
	types := make([]arrow.DataType, len(le))
	ltypes := make([]arrow.DataType, len(le))
	for i := range le {
		lt, rt := le[i].Type(), re[i].Type()
		if !KeyTypesCompatible(lt, rt) {
			return nil, fmt.Errorf("hash join: key %d compares %s (%s) with %s (%s); cast both to one type", i, leftKeys[i], lt, rightKeys[i], rt)
		}
		if err := hashkey.Supported(rt); err != nil {
			return nil, fmt.Errorf("hash join key %d (%s): %w", i, rightKeys[i], err)
		}
		types[i], ltypes[i] = rt, lt
	}
	rp, err := planResidual(residual, ls, rs)
	if err != nil {
		return nil, fmt.Errorf("hash join: %w", err)
	}
	var nc *residualPlan
	if (jt == logical.JoinMark || nullAware) && (len(leftKeys) > 1 || residual != nil) {
		if nc, err = planResidual(joinCondition(leftKeys, rightKeys, residual, ls.NumFields()), ls, rs); err != nil {
			return nil, fmt.Errorf("hash join: %w", err)
		}
	}
	return &HashJoin{core{left: left, right: right, jt: jt, leftKeys: leftKeys, rightKeys: rightKeys,
		keyTypes: types, leftTypes: ltypes, residual: residual, resid: rp, nullCond: nc, nullAware: nullAware, mode: mode,
		schema: outputSchema(ls, rs, jt)}}, nil
}

// joinCondition is the condition a hash join implements, over the left
// fields followed by the right fields (nl of them): every
// leftKeys[i] = rightKeys[i], and the residual.
func joinCondition(leftKeys, rightKeys []logical.Expr, residual logical.Expr, nl int) logical.Expr {
	conj := make([]logical.Expr, 0, len(leftKeys)+1)
	for i, l := range leftKeys {
		conj = append(conj, &logical.Call{Func: "equal", Args: []logical.Expr{l, logical.ShiftColumns(rightKeys[i], nl)},
			T: arrow.FixedWidthTypes.Boolean, NullableOut: true})
	}
	return logical.And(append(conj, residual)...)
}

// KeyTypesCompatible reports whether a hash join may compare keys of types
// a and b directly (logical.KeyTypesCompatible: the planners' rule).
func KeyTypesCompatible(a, b arrow.DataType) bool { return logical.KeyTypesCompatible(a, b) }

// name names the operator in errors.
func (j *core) name() string {
	if j.nested {
		return "nested loop join"
	}
	return "hash join"
}

// Schema is the join's output schema (see logical.Join).
func (j *core) Schema() *arrow.Schema { return j.schema }

// Children are the probe (left) and build (right) inputs.
func (j *core) Children() []exec.Node { return []exec.Node{j.left, j.right} }

// Partitions equals the probe side's partition count.
func (j *core) Partitions() int { return j.left.Partitions() }

// String describes the join for EXPLAIN.
func (j *HashJoin) String() string {
	s := fmt.Sprintf("HashJoin: type=%s mode=%s on=[%s]", j.jt, j.mode, keyString(j.leftKeys, j.rightKeys))
	if j.nullAware {
		s += " null_aware"
	}
	if j.residual != nil {
		s += " filter=" + j.residual.String()
	}
	return s
}

// Execute starts probe partition p. The build side is collected on the
// first call to Next.
func (j *HashJoin) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	return j.execute(p, tc, j)
}

// execute starts probe partition p of the join node self.
func (j *core) execute(p int, tc *exec.TaskContext, self exec.Node) (exec.Stream, error) {
	if err := checkPartition(j.name(), p, j.Partitions(), tc); err != nil {
		return nil, err
	}
	lk, err := compileAll(j.leftKeys, j.left.Schema(), tc.Alloc)
	if err != nil {
		return nil, fmt.Errorf("hash join left key: %w", err)
	}
	s := &hashStream{j: j, p: p, tc: tc, om: tc.Metrics.For(self), bs: batchSize(tc),
		keys: keyProbe{evals: lk}}
	if j.resid != nil {
		if s.resid, err = expr.Compile(j.resid.expr, j.resid.schema, tc.Alloc); err != nil {
			return nil, fmt.Errorf("%s condition: %w", j.name(), err)
		}
	}
	if j.nullCond != nil {
		if s.nullEval, err = expr.Compile(j.nullCond.expr, j.nullCond.schema, tc.Alloc); err != nil {
			return nil, fmt.Errorf("%s condition: %w", j.name(), err)
		}
	}
	switch j.jt {
	case logical.JoinSemi, logical.JoinAnti, logical.JoinMark:
		s.exists = true
	case logical.JoinLeft, logical.JoinFull, logical.JoinSingle:
		s.outerLeft = true
	}
	s.trackBuild = j.jt == logical.JoinRight || j.jt == logical.JoinFull
	if j.mode == CollectBuild {
		s.shared = j.shared.get(tc, j.Partitions())
	}
	if j.leftFirstEligible() {
		s.lf = j.lefts.get(tc, j.Partitions(), j.right.Partitions())
	}
	return s, nil
}

type streamState int

const (
	stateInit streamState = iota
	stateProbe
	stateProbeDone
	stateUnmatched
	stateEmitLeft // left-first: emitting this partition's left rows
	stateDone
)

// hashStream runs one probe partition of a hash join.
type hashStream struct {
	j     *core
	p     int
	tc    *exec.TaskContext
	om    *exec.OperatorMetrics
	bs    int
	keys  keyProbe
	resid expr.Evaluator
	// nullEval evaluates core.nullCond.
	nullEval expr.Evaluator

	// exists is set for semi, anti and mark joins (one output row per probe
	// row at most); outerLeft for joins that keep unmatched probe rows;
	// trackBuild for joins that emit unmatched build rows.
	exists, outerLeft, trackBuild bool

	shared *sharedBuild[*hashBuild]
	build  *hashBuild
	probe  exec.Stream
	state  streamState
	out    arrow.RecordBatch
	closed bool

	// The probe batch being joined and where its output stands.
	cur      arrow.RecordBatch
	groups   []int32
	anyNull  bool // some key of cur is NULL (then keys.nulls is its mask)
	row      int  // next probe row to produce pairs for
	k        int32
	tail     bool // emitting the unmatched probe rows of cur
	matches  []int32
	matched  []bool
	nullSeen []bool
	active   []int32
	kpos     []int32

	// Candidate pairs: probe row and build row (-1 = no row, NULL padding).
	pIdx, bIdx []int32

	// visited marks the build rows this partition matched (right and full
	// joins); unmatched is the merged bitmap the unmatched rows come from.
	visited   []uint64
	unmatched []uint64
	cursor    int

	// The left-first strategy (see leftFirst): the query's state, this
	// stream's right key probe and marks, and the left rows to emit.
	lf        *leftFirst
	rkeys     keyProbe
	groupHit  []uint64
	rowHit    []uint64
	rightRows bool
	rightNull bool
	lIdx      []int32
	emitPos   int
	emitEnd   int
}

// Schema is the join's output schema.
func (s *hashStream) Schema() *arrow.Schema { return s.j.schema }

// Next returns the next output batch, io.EOF after the last.
func (s *hashStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.closed {
		return nil, fmt.Errorf("%s: Next called after Close", s.j.name())
	}
	start := time.Now()
	b, err := s.next(ctx)
	s.om.Nanos.Add(int64(time.Since(start)))
	if err != nil {
		return nil, err
	}
	s.out = b
	s.om.Rows.Add(b.NumRows())
	s.om.Batches.Add(1)
	return b, nil
}

func (s *hashStream) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := canceled(ctx); err != nil {
			return nil, err
		}
		switch s.state {
		case stateInit:
			if err := s.init(ctx); err != nil {
				return nil, err
			}
		case stateProbe:
			if s.cur == nil {
				b, err := s.probe.Next(ctx)
				if errors.Is(err, io.EOF) {
					s.state = stateProbeDone
					continue
				}
				if err != nil {
					return nil, err
				}
				if b.NumRows() == 0 {
					continue
				}
				if err := s.startBatch(ctx, b); err != nil {
					return nil, err
				}
			}
			var out arrow.RecordBatch
			var err error
			if s.exists {
				out, err = s.produceExists(ctx)
			} else {
				out, err = s.producePairs(ctx)
			}
			if err != nil || out != nil {
				return out, err
			}
		case stateProbeDone:
			if err := s.probe.Close(); err != nil {
				return nil, err
			}
			s.state = stateDone
			if !s.trackBuild {
				continue
			}
			if s.shared != nil {
				merged, last := s.shared.finish(s.p, s.visited)
				if !last {
					continue
				}
				s.unmatched = merged
			} else {
				s.unmatched = s.visited
			}
			s.state = stateUnmatched
		case stateUnmatched:
			if out, err := s.produceUnmatchedBuild(); err != nil || out != nil {
				return out, err
			}
			s.state = stateDone
		case stateEmitLeft:
			if out, err := s.emitLeft(); err != nil || out != nil {
				return out, err
			}
			s.state = stateDone
		case stateDone:
			return nil, io.EOF
		}
	}
}

// init gets the build side and opens the probe partition, unless the
// build side shows that the probe side cannot produce output.
func (s *hashStream) init(ctx context.Context) error {
	j := s.j
	if s.lf != nil {
		swapped, err := s.initLeftFirst(ctx)
		if err != nil || swapped {
			return err
		}
	}
	switch {
	case s.build != nil:
		// The left-first strategy indexed the right side.
	case s.shared != nil:
		b, err := s.shared.acquire(ctx, j.right.Partitions(),
			func(ctx context.Context, p int) (*partPieces, error) { return j.readBuildPart(ctx, p, s.tc) },
			func(parts []*partPieces) (*hashBuild, error) { return j.finishBuild(parts, s.tc) })
		if err != nil {
			return err
		}
		s.build = b
	default:
		pp, err := j.readBuildPart(ctx, s.p, s.tc)
		if err != nil {
			return err
		}
		b, err := j.finishBuild([]*partPieces{pp}, s.tc)
		if err != nil {
			return err
		}
		s.build = b
	}
	s.om.RecordPeak(s.build.res.Size())
	n := s.build.rows()
	if s.trackBuild {
		s.visited = make([]uint64, (n+63)/64)
	}
	empty := n == 0 && (j.jt == logical.JoinInner || j.jt == logical.JoinSemi || j.jt == logical.JoinRight || j.jt == logical.JoinCross)
	if empty || (j.nullAware && s.build.hasNullKey && j.nullCond == nil) {
		// No probe row can produce output. A right join with an empty
		// build side has no unmatched build rows either.
		s.state = stateDone
		if s.shared != nil && s.trackBuild {
			s.shared.finish(s.p, nil)
		}
		return nil
	}
	if s.probe == nil {
		probe, err := j.left.Execute(ctx, s.p, s.tc)
		if err != nil {
			return err
		}
		s.probe = probe
	}
	s.state = stateProbe
	return nil
}

// startBatch takes b as the current probe batch and looks its keys up.
func (s *hashStream) startBatch(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if int(b.NumCols()) != s.j.left.Schema().NumFields() {
		return fmt.Errorf("%s: probe input produced a batch with %d columns, its schema has %d", s.j.name(), b.NumCols(), s.j.left.Schema().NumFields())
	}
	s.groups = grow(s.groups, n)
	anyNull := false
	if s.build.all {
		// Nested loop: every probe row pairs with every build row.
		g := int32(0)
		if s.build.rows() == 0 {
			g = -1
		}
		for i := range s.groups {
			s.groups[i] = g
		}
	} else {
		var err error
		if anyNull, err = s.keys.find(ctx, b, s.build, s.groups); err != nil {
			return fmt.Errorf("%s probe keys: %w", s.j.name(), err)
		}
	}
	b.Retain()
	s.cur = b
	s.anyNull = anyNull
	s.row, s.k, s.tail = 0, 0, false
	if s.outerLeft && s.resid != nil || s.j.jt == logical.JoinSingle {
		s.matches = grow(s.matches, n)
		clear(s.matches)
	}
	return nil
}

func (s *hashStream) endBatch() {
	s.cur.Release()
	s.cur = nil
}

// fillPairs appends the candidate pairs of the current batch, from the
// cursor on, until limit pairs are buffered or the batch is exhausted.
// Probe rows without a key match pair with -1 when outer is set.
func (s *hashStream) fillPairs(limit int, outer bool) error {
	b := s.build
	groups := s.groups
	n := len(groups)
	pIdx, bIdx := grow(s.pIdx, limit), grow(s.bIdx, limit)
	m := 0
	row := s.row
	if b.groupStart == nil && !b.all {
		// Unique build keys: group g is build row g, or perm[g].
		perm := b.groupRows
		if outer {
			for ; row < n && m < limit; row++ {
				g := groups[row]
				if perm != nil && g >= 0 {
					g = perm[g]
				}
				pIdx[m], bIdx[m] = int32(row), g
				m++
			}
		} else if perm == nil {
			for ; row < n && m < limit; row++ {
				if g := groups[row]; g >= 0 {
					pIdx[m], bIdx[m] = int32(row), g
					m++
				}
			}
		} else {
			for ; row < n && m < limit; row++ {
				if g := groups[row]; g >= 0 {
					pIdx[m], bIdx[m] = int32(row), perm[g]
					m++
				}
			}
		}
	} else {
		start, rows := b.groupStart, b.groupRows
		single := s.j.jt == logical.JoinSingle && s.resid == nil
		for row < n && m < limit {
			g := groups[row]
			if g < 0 {
				if outer {
					pIdx[m], bIdx[m] = int32(row), -1
					m++
				}
				row++
				continue
			}
			size := b.groupSize(g)
			if single && size > 1 {
				return ErrScalarSubquery
			}
			take := min(size-s.k, int32(limit-m))
			if b.all || rows == nil {
				lo := s.k
				if !b.all {
					lo += start[g]
				}
				for r := lo; r < lo+take; r++ {
					pIdx[m], bIdx[m] = int32(row), r
					m++
				}
			} else {
				lo := start[g] + s.k
				for _, r := range rows[lo : lo+take] {
					pIdx[m], bIdx[m] = int32(row), r
					m++
				}
			}
			if s.k+take == size {
				row++
				s.k = 0
			} else {
				s.k += take
			}
		}
	}
	s.row = row
	s.pIdx, s.bIdx = pIdx[:m], bIdx[:m]
	return nil
}

// producePairs returns the next output batch of the current probe batch
// for inner, left, right, full and single joins, or nil when the batch is
// exhausted.
func (s *hashStream) producePairs(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := canceled(ctx); err != nil {
			return nil, err
		}
		if s.tail {
			// The probe rows that no pair passed the residual for.
			n := len(s.groups)
			pIdx, bIdx := grow(s.pIdx, s.bs), grow(s.bIdx, s.bs)
			m := 0
			for ; s.row < n && m < s.bs; s.row++ {
				if s.matches[s.row] == 0 {
					pIdx[m], bIdx[m] = int32(s.row), -1
					m++
				}
			}
			s.pIdx, s.bIdx = pIdx[:m], bIdx[:m]
			if m == 0 {
				s.endBatch()
				return nil, nil
			}
			return s.assemble(s.pIdx, s.bIdx)
		}
		outer := s.outerLeft && s.resid == nil
		if err := s.fillPairs(s.bs, outer); err != nil {
			return nil, err
		}
		if len(s.pIdx) == 0 {
			if s.outerLeft && s.resid != nil {
				s.tail = true
				s.row = 0
				continue
			}
			s.endBatch()
			return nil, nil
		}
		if s.resid != nil {
			if err := s.filterPairs(ctx); err != nil {
				return nil, err
			}
			if s.matches != nil {
				for _, r := range s.pIdx {
					s.matches[r]++
					if s.matches[r] > 1 && s.j.jt == logical.JoinSingle {
						return nil, ErrScalarSubquery
					}
				}
			}
		}
		if s.trackBuild {
			for _, r := range s.bIdx {
				if r >= 0 {
					s.visited[r>>6] |= 1 << (uint(r) & 63)
				}
			}
		}
		if len(s.pIdx) > 0 {
			return s.assemble(s.pIdx, s.bIdx)
		}
	}
}

// evalResidual evaluates the residual over the pairs (pIdx[i], bIdx[i]).
func (s *hashStream) evalResidual(ctx context.Context, pIdx, bIdx []int32) (*array.Boolean, error) {
	return s.evalPairs(ctx, s.j.resid, s.resid, pIdx, bIdx)
}

// evalPairs evaluates ev, compiled from rp, over the pairs (pIdx[i],
// bIdx[i]) of the current probe batch and the build side.
func (s *hashStream) evalPairs(ctx context.Context, rp *residualPlan, ev expr.Evaluator, pIdx, bIdx []int32) (*array.Boolean, error) {
	cols := make([]arrow.Array, 0, len(rp.leftCols)+len(rp.rightCols))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range rp.leftCols {
		a, err := gather(s.tc.Alloc, s.cur.Column(c), pIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	for _, c := range rp.rightCols {
		a, err := gather(s.tc.Alloc, s.build.data.cols[c], bIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	return evalCondition(ctx, ev, rp.schema, cols, len(pIdx))
}

// evalCondition evaluates a boolean condition over columns of n rows.
func evalCondition(ctx context.Context, ev expr.Evaluator, schema *arrow.Schema, cols []arrow.Array, n int) (*array.Boolean, error) {
	batch := array.NewRecordBatch(schema, cols, int64(n))
	defer batch.Release()
	res, err := ev.Eval(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("join condition: %w", err)
	}
	bools, ok := res.(*array.Boolean)
	if !ok || bools.Len() != n {
		res.Release()
		return nil, fmt.Errorf("join condition produced %s of %d rows, want boolean of %d", res.DataType(), res.Len(), n)
	}
	return bools, nil
}

// filterPairs keeps the candidate pairs the residual is true for.
func (s *hashStream) filterPairs(ctx context.Context) error {
	res, err := s.evalResidual(ctx, s.pIdx, s.bIdx)
	if err != nil {
		return err
	}
	defer res.Release()
	m := 0
	for i := range s.pIdx {
		if res.IsValid(i) && res.Value(i) {
			s.pIdx[m], s.bIdx[m] = s.pIdx[i], s.bIdx[i]
			m++
		}
	}
	s.pIdx, s.bIdx = s.pIdx[:m], s.bIdx[:m]
	return nil
}

// assemble builds an output batch from pairs: probe columns gathered by
// pIdx (all NULL when there is no probe batch), build columns by bIdx.
func (s *hashStream) assemble(pIdx, bIdx []int32) (arrow.RecordBatch, error) {
	return assemblePairs(s.tc.Alloc, s.j.schema, s.j.left.Schema(), s.cur, s.build.data.cols, pIdx, bIdx)
}

func assemblePairs(alloc memory.Allocator, schema, leftSchema *arrow.Schema, cur arrow.RecordBatch,
	buildCols []arrow.Array, pIdx, bIdx []int32) (arrow.RecordBatch, error) {
	n := len(pIdx)
	cols := make([]arrow.Array, 0, schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for c := range leftSchema.NumFields() {
		if cur == nil {
			cols = append(cols, array.MakeArrayOfNull(alloc, leftSchema.Field(c).Type, n))
			continue
		}
		a, err := gather(alloc, cur.Column(c), pIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	for _, bc := range buildCols {
		a, err := gather(alloc, bc, bIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(schema, cols, int64(n)), nil
}

// produceUnmatchedBuild emits the next batch of build rows that no probe
// row matched, padded with NULL probe columns; nil when none remain.
func (s *hashStream) produceUnmatchedBuild() (arrow.RecordBatch, error) {
	n := s.build.rows()
	pIdx, bIdx := grow(s.pIdx, s.bs), grow(s.bIdx, s.bs)
	m := 0
	for ; s.cursor < n && m < s.bs; s.cursor++ {
		if s.unmatched == nil || s.unmatched[s.cursor>>6]&(1<<(uint(s.cursor)&63)) == 0 {
			pIdx[m], bIdx[m] = -1, int32(s.cursor)
			m++
		}
	}
	s.pIdx, s.bIdx = pIdx[:m], bIdx[:m]
	if m == 0 {
		return nil, nil
	}
	return assemblePairs(s.tc.Alloc, s.j.schema, s.j.left.Schema(), nil, s.build.data.cols, s.pIdx, s.bIdx)
}

// produceExists decides every row of the current probe batch for semi,
// anti and mark joins and returns the output batch, or nil when no row
// qualifies. With a residual the build rows of a key are tried in rounds,
// and a probe row leaves the rounds at its first passing match.
func (s *hashStream) produceExists(ctx context.Context) (arrow.RecordBatch, error) {
	defer s.endBatch()
	n := len(s.groups)
	matched := grow(s.matched, n)
	s.matched = matched
	track := s.j.jt == logical.JoinMark || s.j.nullAware
	if s.resid == nil {
		for i, g := range s.groups {
			matched[i] = g >= 0
		}
	} else {
		clear(matched)
		if track {
			s.nullSeen = grow(s.nullSeen, n)
			clear(s.nullSeen)
		}
		active := s.active[:0]
		for i, g := range s.groups {
			if g >= 0 {
				active = append(active, int32(i))
			}
		}
		kpos := grow(s.kpos, n)
		clear(kpos)
		s.kpos = kpos
		pIdx, bIdx := grow(s.pIdx, s.bs)[:0], grow(s.bIdx, s.bs)[:0]
		// flush evaluates the buffered pairs and records the outcomes.
		flush := func() error {
			if len(pIdx) == 0 {
				return nil
			}
			res, err := s.evalResidual(ctx, pIdx, bIdx)
			if err != nil {
				return err
			}
			for c, i := range pIdx {
				if !res.IsValid(c) {
					if track {
						s.nullSeen[i] = true
					}
				} else if res.Value(c) {
					matched[i] = true
				}
			}
			res.Release()
			pIdx, bIdx = pIdx[:0], bIdx[:0]
			return nil
		}
		for len(active) > 0 {
			if err := canceled(ctx); err != nil {
				return nil, err
			}
			// Each round tries the next few build rows of every active
			// probe row, about one batch of pairs in all.
			per := int32(max(1, s.bs/len(active)))
			for _, i := range active {
				g := s.groups[i]
				end := min(s.build.groupSize(g), kpos[i]+per)
				for k := kpos[i]; k < end; k++ {
					pIdx = append(pIdx, i)
					bIdx = append(bIdx, s.build.groupRow(g, k))
					if len(pIdx) == s.bs {
						if err := flush(); err != nil {
							return nil, err
						}
					}
				}
				kpos[i] = end
			}
			if err := flush(); err != nil {
				return nil, err
			}
			w := 0
			for _, i := range active {
				if !matched[i] && kpos[i] < s.build.groupSize(s.groups[i]) {
					active[w] = i
					w++
				}
			}
			active = active[:w]
		}
		s.pIdx, s.bIdx = pIdx, bIdx
		s.active = active
	}

	if track {
		if err := s.resolveNulls(ctx); err != nil {
			return nil, err
		}
	}
	switch s.j.jt {
	case logical.JoinMark:
		return s.markBatch()
	case logical.JoinSemi:
		return s.selectRows(func(i int) bool { return matched[i] })
	}
	if !s.j.nullAware {
		return s.selectRows(func(i int) bool { return !matched[i] })
	}
	// NOT IN: a row qualifies when its mark would be false.
	return s.selectRows(func(i int) bool { return !matched[i] && !s.nullSeen[i] })
}

// resolveNulls completes nullSeen for mark and null-aware anti joins:
// for every unmatched row of the current batch, whether the join
// condition is NULL for some build row (its mark is then NULL, not
// false). The residual rounds recorded the key matches whose residual was
// NULL. What remains are the pairs with a NULL key on either side: their
// condition is NULL unless another conjunct (key or residual) is false.
// With one key and no residual no other conjunct exists, so a NULL probe
// key and a non-empty build side, or any NULL build key, decide it.
// Otherwise the whole condition is evaluated over those pairs: an
// unmatched row with a NULL key against every build row, the other
// unmatched rows against the build rows with a NULL key, each row until
// its first NULL.
func (s *hashStream) resolveNulls(ctx context.Context) error {
	n := len(s.groups)
	if s.resid == nil {
		s.nullSeen = grow(s.nullSeen, n)
		clear(s.nullSeen)
	}
	matched, nullSeen := s.matched, s.nullSeen
	b := s.build
	nonEmpty := b.rows() > 0
	probeNull := s.keys.nulls
	if !s.anyNull {
		probeNull = nil
	}
	if s.nullEval == nil {
		for i := range n {
			if !matched[i] && ((probeNull != nil && probeNull[i] && nonEmpty) || b.hasNullKey) {
				nullSeen[i] = true
			}
		}
		return nil
	}
	active := s.active[:0]
	for i := range n {
		if matched[i] || nullSeen[i] {
			continue
		}
		if (probeNull != nil && probeNull[i] && nonEmpty) || len(b.nullRows) > 0 {
			active = append(active, int32(i))
		}
	}
	kpos := grow(s.kpos, n)
	clear(kpos)
	s.kpos = kpos
	all, nullRows := int32(b.rows()), b.nullRows
	pIdx, bIdx := grow(s.pIdx, s.bs)[:0], grow(s.bIdx, s.bs)[:0]
	flush := func() error {
		if len(pIdx) == 0 {
			return nil
		}
		res, err := s.evalPairs(ctx, s.j.nullCond, s.nullEval, pIdx, bIdx)
		if err != nil {
			return err
		}
		if res.NullN() > 0 {
			for c, i := range pIdx {
				if res.IsNull(c) {
					nullSeen[i] = true
				}
			}
		}
		res.Release()
		pIdx, bIdx = pIdx[:0], bIdx[:0]
		return nil
	}
	for len(active) > 0 {
		if err := canceled(ctx); err != nil {
			return err
		}
		// Each round tries the next few candidates of every active row,
		// about one batch of pairs in all.
		per := int32(max(1, s.bs/len(active)))
		for _, i := range active {
			if probeNull != nil && probeNull[i] {
				end := min(all, kpos[i]+per)
				for k := kpos[i]; k < end; k++ {
					pIdx = append(pIdx, i)
					bIdx = append(bIdx, k)
					if len(pIdx) == s.bs {
						if err := flush(); err != nil {
							return err
						}
					}
				}
				kpos[i] = end
				continue
			}
			end := min(int32(len(nullRows)), kpos[i]+per)
			for _, r := range nullRows[kpos[i]:end] {
				pIdx = append(pIdx, i)
				bIdx = append(bIdx, r)
				if len(pIdx) == s.bs {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			kpos[i] = end
		}
		if err := flush(); err != nil {
			return err
		}
		w := 0
		for _, i := range active {
			size := int32(len(nullRows))
			if probeNull != nil && probeNull[i] {
				size = all
			}
			if !nullSeen[i] && kpos[i] < size {
				active[w] = i
				w++
			}
		}
		active = active[:w]
	}
	s.pIdx, s.bIdx = pIdx, bIdx
	s.active = active
	return nil
}

// selectRows outputs the rows of the current batch that keep accepts.
func (s *hashStream) selectRows(keep func(i int) bool) (arrow.RecordBatch, error) {
	n := len(s.groups)
	sel := grow(s.pIdx, n)[:0]
	for i := range n {
		if keep(i) {
			sel = append(sel, int32(i))
		}
	}
	s.pIdx = sel
	if len(sel) == 0 {
		return nil, nil
	}
	return assemblePairs(s.tc.Alloc, s.j.schema, s.j.left.Schema(), s.cur, nil, sel, nil)
}

// markBatch outputs every row of the current batch with its __mark: true
// when matched; NULL when unmatched but the join condition was NULL for
// some build row (see resolveNulls); false otherwise.
func (s *hashStream) markBatch() (arrow.RecordBatch, error) {
	n := len(s.groups)
	alloc := s.tc.Alloc
	vals := memory.NewResizableBuffer(alloc)
	vals.Resize(int(bitutil.BytesForBits(int64(n))))
	vb := vals.Bytes()
	clear(vb)
	valid := memory.NewResizableBuffer(alloc)
	valid.Resize(len(vb))
	nb := valid.Bytes()
	clear(nb)
	nulls := 0
	for i := range n {
		switch {
		case s.matched[i]:
			bitutil.SetBit(vb, i)
			bitutil.SetBit(nb, i)
		case s.nullSeen[i]:
			nulls++
		default:
			bitutil.SetBit(nb, i)
		}
	}
	if nulls == 0 {
		valid.Release()
		valid = nil
	}
	mark := finish(arrow.FixedWidthTypes.Boolean, n, nulls, valid, vals)
	defer mark.Release()
	cols := make([]arrow.Array, 0, s.j.schema.NumFields())
	cols = append(cols, s.cur.Columns()...)
	cols = append(cols, mark)
	return array.NewRecordBatch(s.j.schema, cols, int64(n)), nil
}

// Close releases the stream's batches, closes the probe input and, when
// this is the last partition of the query to close, frees the build side.
func (s *hashStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.cur != nil {
		s.endBatch()
	}
	s.keys.done()
	var err error
	if s.probe != nil {
		err = s.probe.Close()
	}
	if s.lf != nil {
		s.j.lefts.release(s.tc, s.lf, s.p)
		s.lf = nil
	}
	if s.shared != nil {
		s.j.shared.release(s.tc, s.shared, s.p, (*hashBuild).free)
	} else {
		s.build.free()
	}
	s.build = nil
	return err
}
