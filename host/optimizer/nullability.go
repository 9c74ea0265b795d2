package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// RepairNullability makes every column reference's nullability match the
// column it reads (and widens the nullability of calls over it), rebuilding
// node schemas bottom-up. A reference that claims non-null for a column an
// outer join made nullable would let simplification fold `x IS NULL` to
// false; Run applies this before validating its input.
func RepairNullability(p logical.Plan) logical.Plan {
	out, _ := logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		var in *logical.Schema
		switch x := n.(type) {
		case *logical.Scan:
			in = x.Schema()
		case *logical.Values:
			in = logical.NewSchema()
		case *logical.Join:
			in = logical.Concat(x.Left.Schema(), x.Right.Schema())
		default:
			kids := n.Children()
			if len(kids) != 1 {
				return n, nil
			}
			in = kids[0].Schema()
		}
		if !needsRepair(n, in) {
			return n, nil
		}
		return mapNodeExprs(n, func(e logical.Expr) logical.Expr { return repairExpr(e, in) }), nil
	})
	return out
}

// needsRepair reports whether a reference of n claims non-null for a
// nullable input column, or n's declared schema is narrower than its
// expressions.
func needsRepair(n logical.Plan, in *logical.Schema) bool {
	bad := false
	check := func(e logical.Expr) {
		logical.WalkExpr(e, func(x logical.Expr) bool {
			if c, ok := x.(*logical.ColumnRef); ok && c.Index >= 0 && c.Index < in.Len() &&
				!c.CanBeNull && in.Fields[c.Index].Nullable {
				bad = true
			}
			return !bad
		})
	}
	switch x := n.(type) {
	case *logical.Filter:
		check(x.Cond)
	case *logical.Project:
		for i, e := range x.Exprs {
			check(e)
			bad = bad || (e.Nullable() && !x.Schema().Fields[i].Nullable)
		}
	case *logical.Aggregate:
		for i, e := range x.GroupBy {
			check(e)
			bad = bad || (e.Nullable() && !x.Schema().Fields[i].Nullable)
		}
		for _, a := range x.Aggs {
			check(a)
		}
	case *logical.Join:
		check(x.On)
	case *logical.Sort:
		for _, k := range x.Keys {
			check(k.Expr)
		}
	case *logical.Window:
		for _, f := range x.Funcs {
			check(f)
		}
	case *logical.Scan:
		for _, f := range x.Filters {
			check(f)
		}
	}
	return bad
}

// notNullFuncs never return NULL.
var notNullFuncs = map[string]bool{
	"is_null": true, "is_not_null": true, "is_distinct_from": true, "is_not_distinct_from": true,
	"is_true": true, "is_false": true, "is_not_true": true, "is_not_false": true,
}

func repairExpr(e logical.Expr, in *logical.Schema) logical.Expr {
	out, _ := logical.TransformExpr(e, func(x logical.Expr) (logical.Expr, error) {
		switch n := x.(type) {
		case *logical.ColumnRef:
			if n.Index >= 0 && n.Index < in.Len() && in.Fields[n.Index].Nullable && !n.CanBeNull {
				c := *n
				c.CanBeNull = true
				return &c, nil
			}
		case *logical.Call:
			if n.NullableOut || notNullFuncs[n.Func] {
				return n, nil
			}
			nullable := false
			if n.Func == "coalesce" {
				nullable = len(n.Args) > 0
				for _, a := range n.Args {
					nullable = nullable && a.Nullable()
				}
			} else {
				for _, a := range n.Args {
					nullable = nullable || a.Nullable()
				}
			}
			if nullable {
				c := *n
				c.NullableOut = true
				return &c, nil
			}
		}
		return x, nil
	})
	return out
}
