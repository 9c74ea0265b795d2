package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// PushDownLimit moves row limits towards the data: LIMIT over ORDER BY
// becomes a top-k sort (Sort.Fetch, dropping the Limit when it has no
// offset), a Limit moves below Projects, adjacent Limits merge, a Limit
// over a Scan bounds the scan (Scan.Limit), and a Limit over UNION ALL or
// over the preserved side of an outer join bounds those inputs too (the
// outer Limit stays).
type PushDownLimit struct{}

// Name implements Rule.
func (PushDownLimit) Name() string { return "push_down_limit" }

// Apply implements Rule.
func (PushDownLimit) Apply(p logical.Plan) (logical.Plan, error) {
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		if l, ok := n.(*logical.Limit); ok {
			return pushLimit(l), nil
		}
		return n, nil
	})
}

func pushLimit(n *logical.Limit) logical.Plan {
	if n.Count < 0 {
		if n.Offset == 0 {
			return n.Input
		}
		return n
	}
	bound := n.Offset + n.Count // rows the input must produce
	switch c := n.Input.(type) {
	case *logical.Limit:
		// Outer skips n.Offset of the inner's output and passes n.Count.
		count := n.Count
		if c.Count >= 0 {
			count = min(count, max(c.Count-n.Offset, 0))
		}
		return pushLimit(&logical.Limit{Input: c.Input, Offset: c.Offset + n.Offset, Count: count})
	case *logical.Sort:
		s := *c
		if s.Fetch < 0 || bound < s.Fetch {
			s.Fetch = bound
		}
		if n.Offset == 0 {
			return &s
		}
		return &logical.Limit{Input: &s, Offset: n.Offset, Count: n.Count}
	case *logical.Project:
		inner := pushLimit(&logical.Limit{Input: c.Input, Offset: n.Offset, Count: n.Count})
		return c.WithChildren([]logical.Plan{inner})
	case *logical.Scan:
		if c.Limit >= 0 && c.Limit <= bound {
			return n
		}
		s := c.WithProjection(c.Projection, c.Filters)
		s.Limit = bound
		return n.WithChildren([]logical.Plan{s})
	case *logical.SetOp:
		if c.Kind != logical.Union || !c.All {
			return n
		}
		inputs := make([]logical.Plan, len(c.Inputs))
		for i, in := range c.Inputs {
			inputs[i] = boundRows(in, bound)
		}
		return n.WithChildren([]logical.Plan{c.WithChildren(inputs)})
	case *logical.Join:
		// Every row of the preserved side yields at least one output row.
		switch c.Type {
		case logical.JoinLeft:
			return n.WithChildren([]logical.Plan{c.WithChildren([]logical.Plan{boundRows(c.Left, bound), c.Right})})
		case logical.JoinRight:
			return n.WithChildren([]logical.Plan{c.WithChildren([]logical.Plan{c.Left, boundRows(c.Right, bound)})})
		}
	}
	return n
}

// boundRows limits p to at most k rows unless it is already bounded so.
func boundRows(p logical.Plan, k int64) logical.Plan {
	switch x := p.(type) {
	case *logical.Limit:
		if x.Count >= 0 && x.Count <= k {
			return p
		}
	case *logical.Sort:
		if x.Fetch >= 0 && x.Fetch <= k {
			return p
		}
	case *logical.Scan:
		if x.Limit >= 0 && x.Limit <= k {
			// A scan limit is only a hint: the rows still need a bound.
			break
		}
	}
	return pushLimit(&logical.Limit{Input: p, Count: k})
}
