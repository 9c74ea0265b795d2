package logical

import "github.com/apache/arrow-go/v18/arrow"

// Join-key helpers shared by the planners that split join conditions into
// hash keys (the executor's hash join and the stage planner's exchanges).

// Which input of a join an expression reads.
const (
	SideNone = iota
	SideLeft
	SideRight
	SideBoth
)

// JoinSide tells which join input the columns of e come from, for a join
// whose left input has nl columns.
func JoinSide(e Expr, nl int) int {
	s := SideNone
	for i := range ColumnsUsed(e, nil) {
		cur := SideLeft
		if i >= nl {
			cur = SideRight
		}
		if s == SideNone {
			s = cur
		} else if s != cur {
			return SideBoth
		}
	}
	return s
}

// KeyTypesCompatible reports whether a hash join compares keys of types a
// and b directly: equal types, or decimals of one storage width and scale.
func KeyTypesCompatible(a, b arrow.DataType) bool {
	if arrow.TypeEqual(a, b) {
		return true
	}
	if a.ID() != b.ID() {
		return false
	}
	da, ok1 := a.(arrow.DecimalType)
	db, ok2 := b.(arrow.DecimalType)
	return ok1 && ok2 && da.GetScale() == db.GetScale()
}

// JoinKeyTypes returns the operands of a join equality brought to types a
// hash join can compare: unchanged when KeyTypesCompatible; otherwise the
// narrower operand is cast to a common type that holds both exactly:
// integers of different widths to the wider type, decimals of different
// scales or storage to a decimal with the larger scale and enough integer
// digits for both. ok is false when no such type exists (the equality
// then stays a residual condition).
func JoinKeyTypes(a, b Expr) (Expr, Expr, bool) {
	at, bt := a.Type(), b.Type()
	if KeyTypesCompatible(at, bt) {
		return a, b, true
	}
	var common arrow.DataType
	if ap, as, ok := DecimalParams(at); ok {
		bp, bs, ok := DecimalParams(bt)
		if !ok {
			return nil, nil, false
		}
		scale := max(as, bs)
		prec := max(ap-as, bp-bs) + scale
		if prec > MaxDecimalPrecision {
			return nil, nil, false
		}
		common = DecimalType(prec, scale)
	} else if common = WiderInteger(at, bt); common == nil {
		return nil, nil, false
	}
	cast := func(e Expr) Expr {
		if KeyTypesCompatible(e.Type(), common) {
			return e
		}
		return &Cast{Input: e, T: common}
	}
	return cast(a), cast(b), true
}

// WiderInteger is the integer type that holds every value of the integer
// types a and b, or nil when they are not both integers or none does
// (64-bit unsigned with signed).
func WiderInteger(a, b arrow.DataType) arrow.DataType {
	aw, as, ok1 := intWidth(a)
	bw, bs, ok2 := intWidth(b)
	if !ok1 || !ok2 {
		return nil
	}
	if as == bs {
		if aw >= bw {
			return a
		}
		return b
	}
	// One is unsigned: the signed one must be wider.
	sw, sT, uw := aw, a, bw
	if bs {
		sw, sT, uw = bw, b, aw
	}
	switch {
	case sw > uw:
		return sT
	case uw < 64:
		return signedOfWidth(2 * uw)
	}
	return nil
}

// intWidth gives the bit width and signedness of an integer type.
func intWidth(t arrow.DataType) (width int, signed, ok bool) {
	switch t.ID() {
	case arrow.INT8:
		return 8, true, true
	case arrow.INT16:
		return 16, true, true
	case arrow.INT32:
		return 32, true, true
	case arrow.INT64:
		return 64, true, true
	case arrow.UINT8:
		return 8, false, true
	case arrow.UINT16:
		return 16, false, true
	case arrow.UINT32:
		return 32, false, true
	case arrow.UINT64:
		return 64, false, true
	}
	return 0, false, false
}

func signedOfWidth(w int) arrow.DataType {
	switch w {
	case 16:
		return arrow.PrimitiveTypes.Int16
	case 32:
		return arrow.PrimitiveTypes.Int32
	}
	return arrow.PrimitiveTypes.Int64
}
