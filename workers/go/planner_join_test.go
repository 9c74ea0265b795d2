package worker

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestSplitEquiKeys(t *testing.T) {
	dec := func(p, s int32) arrow.DataType { return logical.DecimalType(p, s) }
	i32, i64, u32, u64 := arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64
	ref := func(i int, t arrow.DataType, null bool) *logical.ColumnRef {
		return &logical.ColumnRef{Index: i, T: t, CanBeNull: null}
	}
	eq := func(a, b logical.Expr) logical.Expr {
		return &logical.Call{Func: "equal", Args: []logical.Expr{a, b}, T: arrow.FixedWidthTypes.Boolean}
	}
	// The left input has 2 columns; column 2 is the right input's first.
	cases := []struct {
		name   string
		lt, rt arrow.DataType
		swap   bool
		key    bool
		wantL  string
		wantR  string
	}{
		{name: "equal types", lt: i64, rt: i64, key: true, wantL: "#0", wantR: "#0"},
		{name: "right operand first", lt: i64, rt: i64, swap: true, key: true, wantL: "#0", wantR: "#0"},
		{name: "decimal precision", lt: dec(12, 2), rt: dec(15, 2), key: true, wantL: "#0", wantR: "#0"},
		{name: "decimal scale", lt: dec(15, 2), rt: dec(15, 3), key: true, wantL: "CAST(#0 AS decimal64(16, 3))", wantR: "#0"},
		{name: "decimal storage", lt: dec(15, 2), rt: dec(30, 2), key: true, wantL: "CAST(#0 AS decimal(30, 2))", wantR: "#0"},
		{name: "decimal too wide", lt: dec(38, 0), rt: dec(38, 10), key: false},
		{name: "integer widths", lt: i32, rt: i64, key: true, wantL: "CAST(#0 AS int64)", wantR: "#0"},
		{name: "unsigned and wider signed", lt: u32, rt: i64, key: true, wantL: "CAST(#0 AS int64)", wantR: "#0"},
		{name: "unsigned and narrower signed", lt: u32, rt: i32, key: true, wantL: "CAST(#0 AS int64)", wantR: "CAST(#0 AS int64)"},
		{name: "uint64 and int64", lt: u64, rt: i64, key: false},
		{name: "string and integer", lt: arrow.BinaryTypes.String, rt: i64, key: false},
		{name: "integer and decimal", lt: i64, rt: dec(15, 2), key: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Nullability differs between the sides; it never matters.
			l, r := logical.Expr(ref(0, c.lt, true)), logical.Expr(ref(2, c.rt, false))
			cond := eq(l, r)
			if c.swap {
				cond = eq(r, l)
			}
			other := eq(ref(1, i64, true), &logical.Literal{Value: int64(3), T: i64})
			lk, rk, residual := splitEquiKeys(logical.And(cond, other), 2)
			if !c.key {
				if len(lk) != 0 {
					t.Fatalf("got keys %v = %v, want none", lk, rk)
				}
				if got := len(logical.SplitConjunction(residual)); got != 2 {
					t.Fatalf("residual %s has %d conjuncts, want 2", residual, got)
				}
				return
			}
			if len(lk) != 1 || len(rk) != 1 {
				t.Fatalf("got %d and %d keys, want 1", len(lk), len(rk))
			}
			if got := exprRefString(lk[0]); got != c.wantL {
				t.Errorf("left key %s, want %s", got, c.wantL)
			}
			if got := exprRefString(rk[0]); got != c.wantR {
				t.Errorf("right key %s, want %s", got, c.wantR)
			}
			if residual == nil || len(logical.SplitConjunction(residual)) != 1 {
				t.Errorf("residual %v, want the non-equality conjunct", residual)
			}
			if lt, rt := lk[0].Type(), rk[0].Type(); !arrow.TypeEqual(lt, rt) && lt.ID() != rt.ID() {
				t.Errorf("key types %s and %s cannot be compared", lt, rt)
			}
		})
	}
}

// exprRefString renders a key with column references as #index.
func exprRefString(e logical.Expr) string {
	switch e := e.(type) {
	case *logical.ColumnRef:
		return "#" + strconv.Itoa(e.Index)
	case *logical.Cast:
		return "CAST(" + exprRefString(e.Input) + " AS " + e.T.String() + ")"
	}
	return e.String()
}
