package expr

import (
	"context"
	"hash/maphash"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// smallInList is the list size up to which values are compared directly;
// larger constant lists probe a hash set built at compile time.
const smallInList = 8

func (c *compiler) compileInList(x *logical.InList) (node, error) {
	in, err := c.compile(x.Input)
	if err != nil {
		return nil, err
	}
	items := make([]node, len(x.List))
	allConst := true
	for i, e := range x.List {
		if items[i], err = c.compile(e); err != nil {
			return nil, err
		}
		if _, ok := asConst(items[i]); !ok {
			allConst = false
		}
	}
	if !allConst || len(items) == 0 {
		return c.inListAsOr(x, in, items)
	}
	// Common type of input and items.
	t := in.dtype()
	for _, it := range items {
		ct, ok := commonType(t, it.dtype())
		if !ok {
			return nil, unsupported(&logical.Call{Func: "in", Args: append([]logical.Expr{x.Input}, x.List...)}, nil)
		}
		t = ct
	}
	if in, err = c.castNode(in, t, false); err != nil {
		return nil, err
	}
	set := &valueSet{}
	hasNull := false
	for _, it := range items {
		k, err := c.castNode(it, t, false)
		if err != nil {
			return nil, err
		}
		kc, ok := asConst(k)
		if !ok { // a cast that fails at compile time: evaluate generally
			return c.inListAsOr(x, in, items)
		}
		if kc.isNull() {
			hasNull = true
			continue
		}
		if !set.add(kc.arr) {
			return c.inListAsOr(x, in, items)
		}
	}
	set.build()
	return &inListNode{in: in, set: set, hasNull: hasNull, negated: x.Negated, alloc: c.alloc}, nil
}

// inListAsOr compiles x IN (a, b, ...) as x = a OR x = b OR ... (three-valued).
func (c *compiler) inListAsOr(x *logical.InList, in node, items []node) (node, error) {
	if len(items) == 0 {
		k := c.constOf(boolConst(x.Negated))
		return k, nil
	}
	ors := make([]node, len(items))
	for i, it := range items {
		eq, err := compileCompare(c, &logical.Call{Func: "equal", Args: []logical.Expr{x.Input, x.List[i]}, T: logical.Bool},
			[]node{in, it})
		if err != nil {
			return nil, err
		}
		ors[i] = eq
	}
	var n node = &logicNode{and: false, args: ors, alloc: c.alloc}
	if len(ors) == 1 {
		n = ors[0]
	}
	if x.Negated {
		n = &mapBoolNode{arg: n, alloc: c.alloc, mode: mapNot}
	}
	return n, nil
}

func boolConst(v bool) arrow.Array {
	a, _ := literalArray(&logical.Literal{Value: v, T: logical.Bool})
	return a
}

// valueSet is a set of constant values of one type: int64-representable
// values (integers, dates, timestamps, Decimal64, float bit patterns),
// 128-bit values or strings. Small sets are scanned linearly; larger ones
// use open addressing with linear probing.
type valueSet struct {
	kind  setKind
	ints  []int64
	wides []i128
	strs  []string
	// hash table: slots hold index+1 into ints/wides/strs, 0 = empty.
	slots []int32
	mask  uint64
	seed  maphash.Seed
}

type setKind uint8

const (
	setUnknown setKind = iota
	setInt
	setFloat
	setWide
	setStr
	setBool
)

// add inserts row 0 of a one-row array; false if the type is unsupported.
func (s *valueSet) add(a arrow.Array) bool {
	var k setKind
	switch a.DataType().ID() {
	case arrow.INT8:
		s.ints = append(s.ints, int64(values[int8](a)[0]))
		k = setInt
	case arrow.INT16:
		s.ints = append(s.ints, int64(values[int16](a)[0]))
		k = setInt
	case arrow.INT32, arrow.DATE32:
		s.ints = append(s.ints, int64(values[int32](a)[0]))
		k = setInt
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		s.ints = append(s.ints, values[int64](a)[0])
		k = setInt
	case arrow.FLOAT32:
		s.ints = append(s.ints, floatKey(float64(values[float32](a)[0])))
		k = setFloat
	case arrow.FLOAT64:
		s.ints = append(s.ints, floatKey(values[float64](a)[0]))
		k = setFloat
	case arrow.DECIMAL128:
		s.wides = append(s.wides, values[i128](a)[0])
		k = setWide
	case arrow.STRING:
		s.strs = append(s.strs, newStrView(a).str(0)) // constAlloc memory: lives with the set
		k = setStr
	case arrow.BOOL:
		v := int64(0)
		if getBit(boolBitsOf(a), a.Data().Offset(), 0, false) {
			v = 1
		}
		s.ints = append(s.ints, v)
		k = setBool
	default:
		return false
	}
	if s.kind != setUnknown && s.kind != k {
		return false
	}
	s.kind = k
	return true
}

// floatKey maps floats to int64 keys where equal floats (0 and -0, every
// NaN) get equal keys.
func floatKey(f float64) int64 {
	switch {
	case f == 0:
		return 0
	case math.IsNaN(f):
		return 0x7ff8000000000001
	}
	return int64(math.Float64bits(f))
}

func (s *valueSet) size() int { return len(s.ints) + len(s.wides) + len(s.strs) }

func hashInt(v int64) uint64 {
	x := uint64(v) * 0x9E3779B97F4A7C15
	return x ^ (x >> 29)
}

func (s *valueSet) hashAt(i int) uint64 {
	switch s.kind {
	case setWide:
		return hashInt(int64(s.wides[i].lo) ^ int64(bits.RotateLeft64(uint64(s.wides[i].hi), 31)))
	case setStr:
		return maphash.String(s.seed, s.strs[i])
	}
	return hashInt(s.ints[i])
}

func (s *valueSet) build() {
	n := s.size()
	if n <= smallInList {
		return
	}
	s.seed = maphash.MakeSeed()
	size := 1
	for size < 2*n {
		size <<= 1
	}
	s.slots = make([]int32, size)
	s.mask = uint64(size - 1)
	for i := 0; i < n; i++ {
		h := s.hashAt(i) & s.mask
		for s.slots[h] != 0 {
			h = (h + 1) & s.mask
		}
		s.slots[h] = int32(i + 1)
	}
}

func (s *valueSet) hasInt(v int64) bool {
	if s.slots == nil {
		for _, x := range s.ints {
			if x == v {
				return true
			}
		}
		return false
	}
	for h := hashInt(v) & s.mask; ; h = (h + 1) & s.mask {
		k := s.slots[h]
		if k == 0 {
			return false
		}
		if s.ints[k-1] == v {
			return true
		}
	}
}

func (s *valueSet) hasWide(v i128) bool {
	if s.slots == nil {
		for _, x := range s.wides {
			if x == v {
				return true
			}
		}
		return false
	}
	for h := hashInt(int64(v.lo)^int64(bits.RotateLeft64(uint64(v.hi), 31))) & s.mask; ; h = (h + 1) & s.mask {
		k := s.slots[h]
		if k == 0 {
			return false
		}
		if s.wides[k-1] == v {
			return true
		}
	}
}

func (s *valueSet) hasStr(v []byte) bool {
	if s.slots == nil {
		for _, x := range s.strs {
			if x == string(v) {
				return true
			}
		}
		return false
	}
	for h := maphash.Bytes(s.seed, v) & s.mask; ; h = (h + 1) & s.mask {
		k := s.slots[h]
		if k == 0 {
			return false
		}
		if s.strs[k-1] == string(v) {
			return true
		}
	}
}

// inListNode tests membership in a constant set with SQL semantics: NULL
// input gives NULL; no match with a NULL in the list gives NULL.
type inListNode struct {
	in      node
	set     *valueSet
	hasNull bool
	negated bool
	alloc   memory.Allocator
}

func (l *inListNode) dtype() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (l *inListNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	a, err := l.in.eval(ctx, c)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := c.n
	buf, out := newBitmap(l.alloc, n)
	s := l.set
	switch s.kind {
	case setInt, setBool:
		switch a.DataType().ID() {
		case arrow.INT8:
			v := values[int8](a)
			packBools(out, n, func(i int) bool { return s.hasInt(int64(v[i])) })
		case arrow.INT16:
			v := values[int16](a)
			packBools(out, n, func(i int) bool { return s.hasInt(int64(v[i])) })
		case arrow.INT32, arrow.DATE32:
			v := values[int32](a)
			packBools(out, n, func(i int) bool { return s.hasInt(int64(v[i])) })
		case arrow.BOOL:
			bm, off := boolBits(a)
			packBools(out, n, func(i int) bool { return s.hasInt(int64(b2u(getBit(bm, off, i, false)))) })
		default:
			v := values[int64](a)
			packBools(out, n, func(i int) bool { return s.hasInt(v[i]) })
		}
	case setFloat:
		f := readFloats(a)
		packBools(out, n, func(i int) bool { return s.hasInt(floatKey(f(i))) })
	case setWide:
		v := values[i128](a)
		packBools(out, n, func(i int) bool { return s.hasWide(v[i]) })
	case setStr:
		sv := newStrView(a)
		packBools(out, n, func(i int) bool { return s.hasStr(sv.bytes(i)) })
	}
	valid := copyValidity(l.alloc, a)
	if l.hasNull {
		// Rows without a match are NULL.
		if valid == nil {
			valid, _ = allValidBitmap(l.alloc, n)
		}
		vb := valid.Bytes()
		for i := range vb {
			vb[i] &= out[i]
		}
	}
	if l.negated {
		for i := range out {
			out[i] = ^out[i]
		}
		if n%8 != 0 {
			out[len(out)-1] &= byte(1<<(n%8)) - 1
		}
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, valid, buf), nil
}
