package join

import (
	"fmt"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// WithNewChildren implements exec.ChildReplacer (EXPLAIN ANALYZE rebuilds
// the plan over instrumented inputs): the same join over new left and
// right inputs with the schemas of the old ones. The result is a new node
// with its own build-side state.
func (j *HashJoin) WithNewChildren(children []exec.Node) (exec.Node, error) {
	if err := j.checkNewChildren(children); err != nil {
		return nil, err
	}
	return NewHashJoin(children[0], children[1], j.jt, j.leftKeys, j.rightKeys, j.residual, j.nullAware, j.mode)
}

// WithNewChildren implements exec.ChildReplacer, like HashJoin's.
func (j *NestedLoopJoin) WithNewChildren(children []exec.Node) (exec.Node, error) {
	if err := j.checkNewChildren(children); err != nil {
		return nil, err
	}
	return NewNestedLoopJoin(children[0], children[1], j.jt, j.residual)
}

// checkNewChildren validates the inputs given to WithNewChildren: two of
// them, with the old inputs' schemas (the keys and condition are bound to
// those).
func (j *core) checkNewChildren(children []exec.Node) error {
	if len(children) != 2 || children[0] == nil || children[1] == nil {
		return fmt.Errorf("%s: WithNewChildren needs a left and a right input, got %d inputs", j.name(), len(children))
	}
	for i, old := range []exec.Node{j.left, j.right} {
		if !children[i].Schema().Equal(old.Schema()) {
			return fmt.Errorf("%s: new input %d has schema %s, want %s", j.name(), i, children[i].Schema(), old.Schema())
		}
	}
	return nil
}
