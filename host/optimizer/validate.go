package optimizer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// Validate checks that p is internally consistent: every column reference is
// in range of the schema it is evaluated against and has that column's type
// (and does not claim non-null for a nullable column), conditions are
// boolean, and every node's declared schema matches its inputs and
// expressions. Errors wrap ErrInvalidPlan and name the offending node.
func Validate(p logical.Plan) error {
	if p == nil {
		return fmt.Errorf("%w: nil plan node", ErrInvalidPlan)
	}
	for _, c := range p.Children() {
		if err := Validate(c); err != nil {
			return err
		}
	}
	if err := validateNode(p); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidPlan, p, err)
	}
	return nil
}

func validateNode(p logical.Plan) error {
	if p.Schema() == nil {
		return fmt.Errorf("no schema")
	}
	switch n := p.(type) {
	case *logical.Scan:
		return validateScan(n)
	case *logical.Values:
		for r, row := range n.Rows {
			if len(row) != n.Schema().Len() {
				return fmt.Errorf("row %d has %d values, want %d", r, len(row), n.Schema().Len())
			}
			for i, e := range row {
				if err := checkExpr(e, logical.NewSchema(), false); err != nil {
					return fmt.Errorf("row %d value %d: %v", r, i, err)
				}
				if !arrow.TypeEqual(e.Type(), n.Schema().Fields[i].Type) {
					return fmt.Errorf("row %d value %d has type %s, column is %s", r, i, e.Type(), n.Schema().Fields[i].Type)
				}
			}
		}
	case *logical.Filter:
		return checkPredicate(n.Cond, n.Input.Schema(), "condition")
	case *logical.Project:
		return validateProject(n)
	case *logical.Aggregate:
		return validateAggregate(n)
	case *logical.Join:
		return validateJoin(n)
	case *logical.Sort:
		for i, k := range n.Keys {
			if err := checkExpr(k.Expr, n.Input.Schema(), false); err != nil {
				return fmt.Errorf("sort key %d: %v", i, err)
			}
		}
	case *logical.Limit:
		if n.Offset < 0 {
			return fmt.Errorf("negative offset %d", n.Offset)
		}
	case *logical.SetOp:
		return validateSetOp(n)
	case *logical.Window:
		return validateWindow(n)
	}
	return nil
}

func validateScan(n *logical.Scan) error {
	if n.Source == nil || n.Source.Schema == nil {
		return fmt.Errorf("scan without a table schema")
	}
	full := n.Source.Schema.NumFields()
	want := full
	if n.Projection != nil {
		want = len(n.Projection)
		for _, i := range n.Projection {
			if i < 0 || i >= full {
				return fmt.Errorf("projection index %d out of range (table has %d columns)", i, full)
			}
		}
	}
	if n.Schema().Len() != want {
		return fmt.Errorf("schema has %d columns, projection gives %d", n.Schema().Len(), want)
	}
	for i, f := range n.Filters {
		if err := checkPredicate(f, n.Schema(), fmt.Sprintf("scan filter %d", i)); err != nil {
			return err
		}
	}
	return nil
}

func validateProject(n *logical.Project) error {
	if len(n.Exprs) != len(n.Names) || len(n.Exprs) != n.Schema().Len() {
		return fmt.Errorf("%d expressions, %d names, %d schema columns", len(n.Exprs), len(n.Names), n.Schema().Len())
	}
	for i, e := range n.Exprs {
		if err := checkExpr(e, n.Input.Schema(), false); err != nil {
			return fmt.Errorf("expression %d: %v", i, err)
		}
		if err := checkField(n.Schema().Fields[i], e); err != nil {
			return fmt.Errorf("output %d: %v", i, err)
		}
	}
	return nil
}

func validateAggregate(n *logical.Aggregate) error {
	in := n.Input.Schema()
	if len(n.GroupBy) != len(n.GroupNames) || len(n.Aggs) != len(n.AggNames) {
		return fmt.Errorf("expression and name counts differ")
	}
	want := len(n.GroupBy) + len(n.Aggs)
	if len(n.GroupingSets) > 0 {
		want++
	}
	if n.Schema().Len() != want {
		return fmt.Errorf("schema has %d columns, want %d", n.Schema().Len(), want)
	}
	for i, g := range n.GroupBy {
		if err := checkExpr(g, in, false); err != nil {
			return fmt.Errorf("group key %d: %v", i, err)
		}
		if !arrow.TypeEqual(n.Schema().Fields[i].Type, g.Type()) {
			return fmt.Errorf("group column %d has type %s, expression gives %s", i, n.Schema().Fields[i].Type, g.Type())
		}
	}
	for _, set := range n.GroupingSets {
		for _, i := range set {
			if i < 0 || i >= len(n.GroupBy) {
				return fmt.Errorf("grouping set index %d out of range", i)
			}
		}
	}
	for i, a := range n.Aggs {
		if a == nil {
			return fmt.Errorf("aggregate %d is nil", i)
		}
		for j, arg := range a.Args {
			if err := checkExpr(arg, in, false); err != nil {
				return fmt.Errorf("aggregate %d argument %d: %v", i, j, err)
			}
		}
		if a.Filter != nil {
			if err := checkPredicate(a.Filter, in, fmt.Sprintf("aggregate %d filter", i)); err != nil {
				return err
			}
		}
		if err := checkField(n.Schema().Fields[len(n.GroupBy)+i], a); err != nil {
			return fmt.Errorf("aggregate %d: %v", i, err)
		}
	}
	return nil
}

func validateJoin(n *logical.Join) error {
	l, r := n.Left.Schema(), n.Right.Schema()
	want := l.Len() + r.Len()
	switch n.Type {
	case logical.JoinSemi, logical.JoinAnti:
		want = l.Len()
	case logical.JoinMark:
		want = l.Len() + 1
	case logical.JoinCross:
		if n.On != nil {
			return fmt.Errorf("cross join with a condition")
		}
	}
	if n.Schema().Len() != want {
		return fmt.Errorf("schema has %d columns, want %d", n.Schema().Len(), want)
	}
	if n.On != nil {
		return checkPredicate(n.On, logical.Concat(l, r), "join condition")
	}
	return nil
}

func validateSetOp(n *logical.SetOp) error {
	if len(n.Inputs) == 0 {
		return fmt.Errorf("set operation without inputs")
	}
	base := n.Inputs[0].Schema()
	for k, in := range n.Inputs[1:] {
		s := in.Schema()
		if s.Len() != base.Len() {
			return fmt.Errorf("input %d has %d columns, input 0 has %d", k+1, s.Len(), base.Len())
		}
		for i := range s.Fields {
			if !arrow.TypeEqual(s.Fields[i].Type, base.Fields[i].Type) {
				return fmt.Errorf("input %d column %d has type %s, input 0 has %s", k+1, i, s.Fields[i].Type, base.Fields[i].Type)
			}
		}
	}
	return nil
}

func validateWindow(n *logical.Window) error {
	in := n.Input.Schema()
	if len(n.Funcs) != len(n.Names) || n.Schema().Len() != in.Len()+len(n.Funcs) {
		return fmt.Errorf("function, name and schema column counts differ")
	}
	for i, f := range n.Funcs {
		if f == nil {
			return fmt.Errorf("window function %d is nil", i)
		}
		for _, e := range logical.ExprChildren(f) {
			if err := checkExpr(e, in, false); err != nil {
				return fmt.Errorf("window function %d: %v", i, err)
			}
		}
		if !arrow.TypeEqual(n.Schema().Fields[in.Len()+i].Type, f.Type()) {
			return fmt.Errorf("window column %d type differs from its function", i)
		}
	}
	for i := range in.Fields {
		if !arrow.TypeEqual(n.Schema().Fields[i].Type, in.Fields[i].Type) {
			return fmt.Errorf("window passes input column %d with another type", i)
		}
	}
	return nil
}

// checkField checks that an output field matches the expression computing it.
func checkField(f logical.Field, e logical.Expr) error {
	if !arrow.TypeEqual(f.Type, e.Type()) {
		return fmt.Errorf("field %s has type %s, expression %s gives %s", f.Name, f.Type, e, e.Type())
	}
	if !f.Nullable && e.Nullable() {
		return fmt.Errorf("field %s is declared non-null but %s may be null", f.Name, e)
	}
	return nil
}

func checkPredicate(e logical.Expr, in *logical.Schema, what string) error {
	if err := checkExpr(e, in, false); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if e.Type().ID() != arrow.BOOL && e.Type().ID() != arrow.NULL {
		return fmt.Errorf("%s %s has type %s, want boolean", what, e, e.Type())
	}
	return nil
}

// checkExpr checks e against the input schema in. Aggregate and window calls
// are allowed only at the top (allowAgg).
func checkExpr(e logical.Expr, in *logical.Schema, allowAgg bool) error {
	if e == nil {
		return fmt.Errorf("nil expression")
	}
	if e.Type() == nil {
		return fmt.Errorf("expression %s has no type", e)
	}
	switch x := e.(type) {
	case *logical.ColumnRef:
		if x.Index < 0 || x.Index >= in.Len() {
			return fmt.Errorf("column %s out of range (input has %d columns)", x, in.Len())
		}
		f := in.Fields[x.Index]
		if !arrow.TypeEqual(x.T, f.Type) {
			return fmt.Errorf("column %s has type %s but input column %d (%s) is %s", x, x.T, x.Index, f.Name, f.Type)
		}
		if !x.CanBeNull && f.Nullable {
			return fmt.Errorf("column %s is marked non-null but input column %d (%s) is nullable", x, x.Index, f.Name)
		}
		return nil
	case *logical.Literal:
		return nil
	case *logical.Case:
		for _, w := range x.Whens {
			if w.Cond == nil || w.Then == nil {
				return fmt.Errorf("CASE arm without condition or value")
			}
			if w.Cond.Type() != nil && w.Cond.Type().ID() != arrow.BOOL && w.Cond.Type().ID() != arrow.NULL {
				return fmt.Errorf("CASE condition %s is not boolean", w.Cond)
			}
		}
	case *logical.AggregateCall, *logical.WindowCall:
		if !allowAgg {
			return fmt.Errorf("aggregate or window call %s outside its node", e)
		}
	}
	for _, c := range logical.ExprChildren(e) {
		if err := checkExpr(c, in, false); err != nil {
			return err
		}
	}
	return nil
}
