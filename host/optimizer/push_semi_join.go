package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// PushDownSemiJoin moves a semi or anti join below an inner join when its
// condition reads, on its left side, only the columns of one input of that
// inner join, and that input is estimated no larger than the inner join's
// output: the filtering then happens on fewer rows, before the join (TPC-H
// Q18 filters orders by the IN subquery before joining lineitem). A semi or
// anti join only removes rows of its left input according to their own
// values, so this is always valid.
type PushDownSemiJoin struct{}

// Name implements Rule.
func (PushDownSemiJoin) Name() string { return "push_down_semi_join" }

// Apply implements Rule.
func (PushDownSemiJoin) Apply(p logical.Plan) (logical.Plan, error) {
	est := newEstimator(p)
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		if j, ok := n.(*logical.Join); ok {
			return sinkSemiJoin(j, est), nil
		}
		return n, nil
	})
}

func sinkSemiJoin(j *logical.Join, est *estimator) logical.Plan {
	if j.Type != logical.JoinSemi && j.Type != logical.JoinAnti {
		return j
	}
	in, ok := j.Left.(*logical.Join)
	if !ok || !isInnerJoin(in) {
		return j
	}
	total := in.Schema().Len()
	nl := in.Left.Schema().Len()
	nr := in.Right.Schema().Len()
	var onLeft, onRight bool
	for _, c := range colsOf(j.On) {
		switch {
		case c < nl:
			onLeft = true
		case c < total:
			onRight = true
		}
	}
	switch {
	case onLeft && !onRight && est.rows(in.Left) <= est.rows(in):
		on := mapColumns(j.On, func(c int) int {
			if c >= total {
				return c - nr
			}
			return c
		})
		s := newJoin(in.Left, j.Right, j.Type, logical.SplitConjunction(on), j.NullAware)
		return in.WithChildren([]logical.Plan{sinkSemiJoin(s, est), in.Right})
	case onRight && !onLeft && est.rows(in.Right) <= est.rows(in):
		on := mapColumns(j.On, func(c int) int { return c - nl })
		s := newJoin(in.Right, j.Right, j.Type, logical.SplitConjunction(on), j.NullAware)
		return in.WithChildren([]logical.Plan{in.Left, sinkSemiJoin(s, est)})
	}
	return j
}
