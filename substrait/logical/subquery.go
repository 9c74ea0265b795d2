package logical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// SubqueryKind is the form of a subquery expression.
type SubqueryKind int

const (
	// SubqueryScalar yields the single value of a one-column subquery
	// (NULL without rows; more than one row is an error).
	SubqueryScalar SubqueryKind = iota
	// SubqueryExists is true when the subquery has a row.
	SubqueryExists
	// SubqueryAny is Test Op ANY (subquery); IN is Op "equal".
	SubqueryAny
	// SubqueryAll is Test Op ALL (subquery).
	SubqueryAll
)

var subqueryKindNames = [...]string{"scalar", "exists", "any", "all"}

func (k SubqueryKind) String() string { return subqueryKindNames[k] }

// Subquery is a subquery expression of a plan that arrived as Substrait.
// Expressions inside Plan may read the row of the relation that holds the
// subquery through OuterRef. It never reaches the optimizer or an
// executor: the consumer rewrites it into joins (sql.Decorrelate), the
// same joins the SQL binder builds for subqueries.
type Subquery struct {
	Kind SubqueryKind
	Plan Plan
	// Test is the left operand of ANY / ALL.
	Test Expr
	// Op is the comparison function of ANY / ALL (equal, not_equal, lt,
	// lte, gt, gte).
	Op string
}

func (s *Subquery) Type() arrow.DataType {
	if s.Kind == SubqueryScalar {
		return s.Plan.Schema().Fields[0].Type
	}
	return Bool
}

func (s *Subquery) Nullable() bool { return s.Kind != SubqueryExists }

func (s *Subquery) String() string {
	switch s.Kind {
	case SubqueryAny, SubqueryAll:
		return fmt.Sprintf("%s %s %s(subquery)", s.Test, s.Op, s.Kind)
	}
	return fmt.Sprintf("%s(subquery)", s.Kind)
}

// OuterRef reads column Index of the input of the relation Steps subquery
// levels out (Substrait's outer_reference).
type OuterRef struct {
	Steps     int
	Index     int
	Name      string
	T         arrow.DataType
	CanBeNull bool
}

func (o *OuterRef) Type() arrow.DataType { return o.T }
func (o *OuterRef) Nullable() bool       { return o.CanBeNull }
func (o *OuterRef) String() string       { return fmt.Sprintf("outer%d(%s#%d)", o.Steps, o.Name, o.Index) }

// ContainsSubquery reports whether e holds a subquery expression.
func ContainsSubquery(e Expr) bool {
	found := false
	WalkExpr(e, func(n Expr) bool {
		if _, ok := n.(*Subquery); ok {
			found = true
		}
		return !found
	})
	return found
}

// NodeExprs lists the expressions a plan node evaluates itself (not those
// of its inputs).
func NodeExprs(p Plan) []Expr {
	switch n := p.(type) {
	case *Filter:
		return []Expr{n.Cond}
	case *Project:
		return n.Exprs
	case *Aggregate:
		out := append([]Expr(nil), n.GroupBy...)
		for _, a := range n.Aggs {
			out = append(out, a)
		}
		return out
	case *Join:
		if n.On != nil {
			return []Expr{n.On}
		}
	case *Sort:
		out := make([]Expr, len(n.Keys))
		for i, k := range n.Keys {
			out[i] = k.Expr
		}
		return out
	case *Window:
		out := make([]Expr, len(n.Funcs))
		for i, f := range n.Funcs {
			out[i] = f
		}
		return out
	case *Values:
		var out []Expr
		for _, r := range n.Rows {
			out = append(out, r...)
		}
		return out
	case *Scan:
		return n.Filters
	}
	return nil
}
