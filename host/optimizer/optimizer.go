// Package optimizer rewrites logical plans into cheaper equivalent ones:
// expression simplification, predicate and projection pushdown, join
// reordering from cardinality estimates, limit pushdown and removal of
// trivial nodes. Every rule is a small named Rule; Optimize runs them in
// order until the plan stops changing.
//
// Every rule preserves the output schema (names and types) of the plan it
// rewrites and produces a plan that passes Validate.
package optimizer

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// ErrInvalidPlan is wrapped by the errors Validate returns.
var ErrInvalidPlan = errors.New("invalid logical plan")

// Rule is one logical rewrite. Apply returns an equivalent plan with the same
// output schema; it returns its argument when nothing applies.
type Rule interface {
	// Name identifies the rule in errors and traces (snake_case).
	Name() string
	// Apply rewrites p.
	Apply(p logical.Plan) (logical.Plan, error)
}

// DefaultRules returns the rules Optimize runs, in order.
func DefaultRules() []Rule {
	return []Rule{
		SimplifyExpressions{},
		EliminateTrivialNodes{},
		PushDownFilter{},
		SimplifyExpressions{},
		PushDownSemiJoin{},
		ReorderJoins{},
		ChooseJoinSides{},
		RewriteDistinctAggregate{},
		PruneColumns{},
		PushDownLimit{},
		EliminateTrivialNodes{},
	}
}

// maxPasses bounds how often Optimize runs the whole rule list.
const maxPasses = 4

// Optimize runs DefaultRules over p in order, repeating the list until a pass
// leaves the plan unchanged (at most maxPasses times). The result has the
// same output column names and types as p and passes Validate.
func Optimize(p logical.Plan) (logical.Plan, error) {
	return Run(p, DefaultRules())
}

// Run applies rules to p in order, repeating the list until a pass leaves the
// plan unchanged (at most maxPasses times). It repairs column nullability
// (RepairNullability), validates the input and the result, and checks that
// the output schema kept its names and types.
func Run(p logical.Plan, rules []Rule) (logical.Plan, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil plan", ErrInvalidPlan)
	}
	p = RepairNullability(p)
	if err := Validate(p); err != nil {
		return nil, fmt.Errorf("optimizer input: %w", err)
	}
	want := p.Schema()
	prev := logical.Format(p)
	for pass := 0; pass < maxPasses; pass++ {
		for _, r := range rules {
			q, err := r.Apply(p)
			if err != nil {
				return nil, fmt.Errorf("optimizer rule %s: %w", r.Name(), err)
			}
			p = q
		}
		cur := logical.Format(p)
		if cur == prev {
			break
		}
		prev = cur
	}
	if err := Validate(p); err != nil {
		return nil, fmt.Errorf("internal: optimizer produced an invalid plan: %w", err)
	}
	if err := sameOutput(want, p.Schema()); err != nil {
		return nil, fmt.Errorf("internal: optimizer changed the output schema: %w", err)
	}
	return p, nil
}

// sameOutput checks that got has the column names and types of want.
func sameOutput(want, got *logical.Schema) error {
	if want.Len() != got.Len() {
		return fmt.Errorf("%d columns, want %d", got.Len(), want.Len())
	}
	for i, f := range want.Fields {
		g := got.Fields[i]
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("column %d is %s, want %s", i, g, f)
		}
	}
	return nil
}
