package join

import (
	"context"
	"errors"
	"fmt"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// NestedLoopJoin pairs every probe (left) row with every build (right) row
// and keeps the pairs its condition accepts: cross joins and joins whose
// condition has no equality to hash on. The right input is collected once
// from all its partitions and shared by the left partitions; the pairs are
// evaluated about one batch at a time.
type NestedLoopJoin struct {
	core
}

var _ exec.Node = (*NestedLoopJoin)(nil)

// NewNestedLoopJoin builds a nested loop join of left (streamed) and right
// (collected) for any join type; on, evaluated over the left fields
// followed by the right fields, may be nil (always true). A cross join is
// an inner join whose condition is nil.
func NewNestedLoopJoin(left, right exec.Node, jt logical.JoinType, on logical.Expr) (exec.Node, error) {
	if left == nil || right == nil {
		return nil, errors.New("nested loop join: missing input")
	}
	if jt < logical.JoinInner || jt > logical.JoinCross {
		return nil, fmt.Errorf("nested loop join: unknown join type %d", int(jt))
	}
	ls, rs := left.Schema(), right.Schema()
	rp, err := planResidual(on, ls, rs)
	if err != nil {
		return nil, fmt.Errorf("nested loop join: %w", err)
	}
	return &NestedLoopJoin{core{left: left, right: right, jt: jt, residual: on, resid: rp,
		mode: CollectBuild, nested: true, schema: outputSchema(ls, rs, jt)}}, nil
}

// String describes the join for EXPLAIN.
func (j *NestedLoopJoin) String() string {
	s := fmt.Sprintf("NestedLoopJoin: type=%s", j.jt)
	if j.residual != nil {
		s += " on=" + j.residual.String()
	}
	return s
}

// Execute starts left partition p. The right side is collected on the
// first call to Next.
func (j *NestedLoopJoin) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	return j.execute(p, tc, j)
}
