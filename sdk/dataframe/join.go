package dataframe

import (
	"errors"
	"fmt"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// JoinType is the kind of a join.
type JoinType int

const (
	// Inner keeps the pairs of rows that match.
	Inner JoinType = iota
	// Left keeps every left row, with NULLs for the right columns when
	// nothing matches.
	Left
	// Right keeps every right row.
	Right
	// Full keeps every row of both sides.
	Full
	// Semi keeps the left rows that have a match (EXISTS); the output has
	// the left columns only.
	Semi
	// Anti keeps the left rows that have no match (NOT EXISTS); the output
	// has the left columns only.
	Anti
)

var joinTypes = map[JoinType]logical.JoinType{
	Inner: logical.JoinInner, Left: logical.JoinLeft, Right: logical.JoinRight,
	Full: logical.JoinFull, Semi: logical.JoinSemi, Anti: logical.JoinAnti,
}

func (t JoinType) String() string {
	if lt, ok := joinTypes[t]; ok {
		return lt.String()
	}
	return fmt.Sprintf("JoinType(%d)", int(t))
}

// Join joins df (left) with right on a boolean condition over the columns
// of both. Columns of the same name on the two sides are told apart by
// their qualifiers: Col("o.o_custkey").Eq(Col("c.c_custkey")); an
// unqualified name that both sides have is ambiguous. The output is the
// left columns followed by the right ones (only the left ones for Semi and
// Anti); result columns whose names clash are named qualifier.name.
func (df *DataFrame) Join(right *DataFrame, how JoinType, on Expr) *DataFrame {
	const op = "Join"
	l, r, sess, err := joinInputs(df, right, how)
	if err != nil {
		return failed(df.session(), fmt.Errorf("%s: %w", op, err))
	}
	both := logical.Concat(l.Schema(), r.Schema())
	c, err := (&binder{in: both, clause: "the join condition"}).top(on)
	if err == nil {
		c, err = sql.Boolean(c, "the join condition")
	}
	if err != nil {
		return failed(df.session(), fmt.Errorf("%s: %s: %w", op, on, err))
	}
	return &DataFrame{sess: sess, plan: logical.NewJoin(l, r, joinTypes[how], c)}
}

// JoinOn joins df with right where every leftKeys[i] equals rightKeys[i]
// (each name resolved on its own side, so the names may be the same). The
// keys are compared with the SQL rules (an int key matches a bigint or
// decimal one); NULL keys match nothing.
func (df *DataFrame) JoinOn(right *DataFrame, how JoinType, leftKeys, rightKeys []string) *DataFrame {
	const op = "JoinOn"
	l, r, sess, err := joinInputs(df, right, how)
	if err != nil {
		return failed(df.session(), fmt.Errorf("%s: %w", op, err))
	}
	if len(leftKeys) == 0 || len(leftKeys) != len(rightKeys) {
		return failed(df.session(), fmt.Errorf("%s: %d left keys and %d right keys", op, len(leftKeys), len(rightKeys)))
	}
	ls, rs := l.Schema(), r.Schema()
	var conds []logical.Expr
	for i := range leftKeys {
		li, err := resolve(ls, leftKeys[i])
		if err != nil {
			return failed(df.session(), fmt.Errorf("%s: left key: %w", op, err))
		}
		ri, err := resolve(rs, rightKeys[i])
		if err != nil {
			return failed(df.session(), fmt.Errorf("%s: right key: %w", op, err))
		}
		rc := logical.Col(rs, ri)
		rc.Index += ls.Len()
		eq, err := sql.Compare("equal", logical.Col(ls, li), rc)
		if err != nil {
			return failed(df.session(), fmt.Errorf("%s: %s = %s: %w", op, leftKeys[i], rightKeys[i], err))
		}
		conds = append(conds, eq)
	}
	return &DataFrame{sess: sess, plan: logical.NewJoin(l, r, joinTypes[how], logical.And(conds...))}
}

// CrossJoin pairs every row of df with every row of right.
func (df *DataFrame) CrossJoin(right *DataFrame) *DataFrame {
	l, r, sess, err := joinInputs(df, right, Inner)
	if err != nil {
		return failed(df.session(), fmt.Errorf("CrossJoin: %w", err))
	}
	return &DataFrame{sess: sess, plan: logical.NewJoin(l, r, logical.JoinCross, nil)}
}

func joinInputs(df, right *DataFrame, how JoinType) (logical.Plan, logical.Plan, *Context, error) {
	if err := df.check(); err != nil {
		return nil, nil, nil, err
	}
	if right == nil {
		return nil, nil, nil, errors.New("nil right DataFrame")
	}
	if err := right.check(); err != nil {
		return nil, nil, nil, fmt.Errorf("the right DataFrame: %w", err)
	}
	if _, ok := joinTypes[how]; !ok {
		return nil, nil, nil, fmt.Errorf("unknown join type %d", int(how))
	}
	sess, err := joinSessions(df.sess, right.sess)
	if err != nil {
		return nil, nil, nil, err
	}
	return df.plan, right.plan, sess, nil
}
