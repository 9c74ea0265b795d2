package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// ChooseJoinSides puts the smaller estimated input of every outer join on
// its right (build) side: LEFT JOIN with a larger right input becomes a
// RIGHT JOIN with the inputs swapped, and the other way round; FULL joins
// swap inputs. A Project above restores the original column order. (Inner
// joins get their sides from ReorderJoins; semi, anti, mark and single
// joins have a fixed build side.)
type ChooseJoinSides struct{}

// Name implements Rule.
func (ChooseJoinSides) Name() string { return "choose_join_sides" }

// Apply implements Rule.
func (ChooseJoinSides) Apply(p logical.Plan) (logical.Plan, error) {
	est := newEstimator(p)
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		j, ok := n.(*logical.Join)
		if !ok {
			return n, nil
		}
		l, r := est.rows(j.Left), est.rows(j.Right)
		var t logical.JoinType
		switch {
		case j.Type == logical.JoinLeft && r > l:
			t = logical.JoinRight
		case j.Type == logical.JoinRight && r > l:
			t = logical.JoinLeft
		case j.Type == logical.JoinFull && r > l:
			t = logical.JoinFull
		default:
			return n, nil
		}
		return swapJoin(j, t), nil
	})
}

// swapJoin rebuilds j with its inputs exchanged as join type t, under a
// Project restoring j's column order.
func swapJoin(j *logical.Join, t logical.JoinType) logical.Plan {
	nl, nr := j.Left.Schema().Len(), j.Right.Schema().Len()
	var on logical.Expr
	if j.On != nil {
		on = mapColumns(j.On, func(i int) int {
			if i < nl {
				return i + nr
			}
			return i - nl
		})
		on = orientAll(on, nr)
	}
	s := logical.NewJoin(j.Right, j.Left, t, on)
	s.NullAware = j.NullAware
	idx := make([]int, nl+nr)
	for i := range idx {
		if i < nl {
			idx[i] = nr + i
		} else {
			idx[i] = i - nl
		}
	}
	out := j.Schema()
	return logical.NewProject(s, logical.Cols(s.Schema(), idx), names(out), qualifiers(out))
}

// orientAll orients every equality conjunct of on left operand first.
func orientAll(on logical.Expr, nl int) logical.Expr {
	conj := logical.SplitConjunction(on)
	for i, c := range conj {
		conj[i] = orientEquality(c, nl)
	}
	return logical.And(conj...)
}
