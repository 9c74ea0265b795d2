package expr

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func init() {
	register("and", false, compileLogic)
	register("or", false, compileLogic)
	register("xor", true, compileXor)
	register("not", true, compileNot)
	for _, f := range []string{"is_null", "is_not_null", "is_true", "is_false", "is_not_true", "is_not_false"} {
		register(f, false, compileIsTest)
	}
}

func checkBoolArgs(call *logical.Call, args []node, n int) error {
	if n >= 0 && len(args) != n {
		return unsupported(call, args)
	}
	if len(args) == 0 {
		return unsupported(call, args)
	}
	for _, a := range args {
		if id := a.dtype().ID(); id != arrow.BOOL && id != arrow.NULL {
			return unsupported(call, args)
		}
	}
	return nil
}

func compileLogic(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkBoolArgs(call, args, -1); err != nil {
		return nil, err
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return &logicNode{and: call.Func == "and", args: args, alloc: c.alloc}, nil
}

// logicNode is a variadic Kleene AND or OR. It stops evaluating arguments
// once every row is decided (all false for AND, all true for OR).
type logicNode struct {
	and   bool
	args  []node
	alloc memory.Allocator
}

func (l *logicNode) dtype() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

// operandBits returns the aligned value bits of a boolean operand (a
// constant is broadcast into scratch).
func operandBits(o operand, n int, scratch *[]byte) []byte {
	nb := (n + 7) / 8
	if o.isConst || o.arr.DataType().ID() == arrow.NULL {
		if cap(*scratch) < nb {
			*scratch = make([]byte, nb)
		}
		s := (*scratch)[:nb]
		v := byte(0)
		if o.arr.DataType().ID() == arrow.BOOL && !o.arr.IsNull(0) && getBit(boolBitsOf(o.arr), o.arr.Data().Offset(), 0, false) {
			v = 0xff
		}
		for i := range s {
			s[i] = v
		}
		return s
	}
	bm, off := boolBits(o.arr)
	return alignedBits(bm, off, n, scratch)
}

func boolBitsOf(a arrow.Array) []byte { b, _ := boolBits(a); return b }

func (l *logicNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	n := c.n
	nb := (n + 7) / 8
	vbuf, accT := newBitmap(l.alloc, n) // known true
	accF := make([]byte, nb)            // known false
	var s1, s2 []byte
	for k, a := range l.args {
		o, err := evalOperand(ctx, a, c)
		if err != nil {
			vbuf.Release()
			return nil, err
		}
		vals := operandBits(o, n, &s1)
		valid := operandValidity(o, n, &s2)
		done := true
		for i := 0; i < nb; i += 8 {
			v, m := word(vals, i), word(valid, i)
			t, f := v&m, ^v&m
			if k == 0 {
				putWord(accT, i, t)
				putWord(accF, i, f)
			} else if l.and {
				putWord(accT, i, word(accT, i)&t)
				putWord(accF, i, word(accF, i)|f)
			} else {
				putWord(accT, i, word(accT, i)|t)
				putWord(accF, i, word(accF, i)&f)
			}
			decided := word(accF, i)
			if !l.and {
				decided = word(accT, i)
			}
			if rem := n - i*8; rem < 64 {
				decided |= ^uint64(0) << uint(rem)
			}
			if decided != ^uint64(0) {
				done = false
			}
		}
		o.release()
		if done {
			break
		}
	}
	// validity = known true | known false
	var validBuf *memory.Buffer
	allValid := true
	for i := 0; i < nb; i++ {
		m := accT[i] | accF[i]
		if i == nb-1 && n%8 != 0 {
			m |= ^byte(0) << (n % 8)
		}
		if m != 0xff {
			allValid = false
			break
		}
	}
	if !allValid {
		var vb []byte
		validBuf, vb = newBitmap(l.alloc, n)
		for i := 0; i < nb; i++ {
			vb[i] = accT[i] | accF[i]
		}
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, validBuf, vbuf), nil
}

func compileNot(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkBoolArgs(call, args, 1); err != nil {
		return nil, err
	}
	return &mapBoolNode{arg: args[0], alloc: c.alloc, mode: mapNot}, nil
}

func compileXor(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkBoolArgs(call, args, 2); err != nil {
		return nil, err
	}
	return &binaryNode{name: "xor", l: args[0], r: args[1], t: arrow.FixedWidthTypes.Boolean, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			buf, out := newBitmap(alloc, n)
			var s1, s2 []byte
			x, y := operandBits(a, n, &s1), operandBits(b, n, &s2)
			for i := range out {
				out[i] = x[i] ^ y[i]
			}
			return makeArray(arrow.FixedWidthTypes.Boolean, n, valid, buf), nil
		}}, nil
}

type mapBoolMode uint8

const (
	mapNot mapBoolMode = iota
	mapIsNull
	mapIsNotNull
	mapIsTrue
	mapIsFalse
	mapIsNotTrue
	mapIsNotFalse
)

func compileIsTest(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	var m mapBoolMode
	switch call.Func {
	case "is_null":
		m = mapIsNull
	case "is_not_null":
		m = mapIsNotNull
	case "is_true":
		m = mapIsTrue
	case "is_false":
		m = mapIsFalse
	case "is_not_true":
		m = mapIsNotTrue
	case "is_not_false":
		m = mapIsNotFalse
	}
	if m >= mapIsTrue {
		if err := checkBoolArgs(call, args, 1); err != nil {
			return nil, err
		}
	}
	return &mapBoolNode{arg: args[0], alloc: c.alloc, mode: m}, nil
}

// mapBoolNode computes NOT and the IS [NOT] NULL/TRUE/FALSE tests word by word.
type mapBoolNode struct {
	arg   node
	alloc memory.Allocator
	mode  mapBoolMode
}

func (m *mapBoolNode) dtype() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (m *mapBoolNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	o, err := evalOperand(ctx, m.arg, c)
	if err != nil {
		return nil, err
	}
	defer o.release()
	n := c.n
	var s1, s2 []byte
	valid := operandValidity(o, n, &s2)
	var vals []byte
	if m.mode != mapIsNull && m.mode != mapIsNotNull {
		vals = operandBits(o, n, &s1)
	}
	buf, out := newBitmap(m.alloc, n)
	var validBuf *memory.Buffer
	switch m.mode {
	case mapNot:
		for i := range out {
			out[i] = ^vals[i]
		}
		if o.isConst || o.arr.NullN() > 0 {
			var vb []byte
			validBuf, vb = newBitmap(m.alloc, n)
			copy(vb, valid)
		}
	case mapIsNull:
		for i := range out {
			out[i] = ^valid[i]
		}
	case mapIsNotNull:
		copy(out, valid)
	case mapIsTrue:
		for i := range out {
			out[i] = vals[i] & valid[i]
		}
	case mapIsFalse:
		for i := range out {
			out[i] = ^vals[i] & valid[i]
		}
	case mapIsNotTrue:
		for i := range out {
			out[i] = ^(vals[i] & valid[i])
		}
	case mapIsNotFalse:
		for i := range out {
			out[i] = ^(^vals[i] & valid[i])
		}
	}
	if n%8 != 0 {
		out[len(out)-1] &= byte(1<<(n%8)) - 1
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, validBuf, buf), nil
}
