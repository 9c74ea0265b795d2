package expr

import (
	"bytes"
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func init() {
	strFuncs["bit_length"] = &strFunc{kinds: []argKind{kStr}, minArgs: 1, out: arrow.PrimitiveTypes.Int64,
		kernel: func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x := sargOf(ops[0])
			return buildInt64(alloc, n, valid, func(i int) int64 { return 8 * int64(len(x.at(i))) }), nil
		}}
	register("bit_length", true, compileStrFunc)
	register("concat_ws", false, compileConcatWs)
}

// concatWsNode evaluates concat_ws(sep, s1, ...): the non-NULL strings
// joined by sep; NULL when sep is NULL.
type concatWsNode struct {
	args  []node
	alloc memory.Allocator
}

func compileConcatWs(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkOptions(call, nil); err != nil {
		return nil, err
	}
	if len(args) < 2 {
		return nil, unsupported(call, args)
	}
	conv := make([]node, len(args))
	for i, a := range args {
		if t := a.dtype(); !logical.IsString(t) && t.ID() != arrow.NULL {
			return nil, unsupported(call, args)
		}
		var err error
		if conv[i], err = c.castNode(a, arrow.BinaryTypes.String, false); err != nil {
			return nil, err
		}
	}
	if k, ok := asConst(conv[0]); ok && k.isNull() {
		return c.nullConst(arrow.BinaryTypes.String), nil
	}
	return &concatWsNode{args: conv, alloc: c.alloc}, nil
}

func (n *concatWsNode) dtype() arrow.DataType { return arrow.BinaryTypes.String }

func (n *concatWsNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	ops := make([]operand, 0, len(n.args))
	defer func() {
		for _, o := range ops {
			o.release()
		}
	}()
	est := 0
	for _, a := range n.args {
		o, err := evalOperand(ctx, a, c)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
		est += dataSize(o)
	}
	if ops[0].constNull() {
		return nullArray(n.alloc, arrow.BinaryTypes.String, c.n), nil
	}
	// Per-argument views and validity; NULL constants are dropped.
	type part struct {
		s     sarg
		bits  []byte
		off   int
		nulls bool
	}
	parts := make([]part, 0, len(ops)-1)
	for _, o := range ops[1:] {
		if o.constNull() {
			continue
		}
		p := part{s: sargOf(o)}
		if !o.isConst && o.arr.NullN() > 0 {
			p.bits, p.off = o.arr.NullBitmapBytes(), o.arr.Data().Offset()
			p.nulls = true
		}
		parts = append(parts, p)
	}
	sep := sargOf(ops[0])
	valid := validityOf(n.alloc, c.n, ops[0])
	return buildStr(n.alloc, c.n, est, valid, func(i int, b *strBuilder) error {
		first := true
		for _, p := range parts {
			if p.nulls && !bitutil.BitIsSet(p.bits, p.off+i) {
				continue
			}
			if !first {
				b.appendBytes(sep.at(i))
			}
			b.appendBytes(p.s.at(i))
			first = false
		}
		return nil
	})
}

// strOptions are the options string functions accept (besides
// substring's negative_start and concat's null_handling).
var strOptions = map[string]map[string][]string{
	"trim":        {"spaces_only": {"FALSE"}},
	"ltrim":       {"spaces_only": {"FALSE"}},
	"rtrim":       {"spaces_only": {"FALSE"}},
	"btrim":       {"spaces_only": {"FALSE"}},
	"starts_with": {"case_sensitivity": {"CASE_SENSITIVE", "CASE_INSENSITIVE", "CASE_INSENSITIVE_ASCII"}},
	"ends_with":   {"case_sensitivity": {"CASE_SENSITIVE", "CASE_INSENSITIVE", "CASE_INSENSITIVE_ASCII"}},
	"contains":    {"case_sensitivity": {"CASE_SENSITIVE", "CASE_INSENSITIVE", "CASE_INSENSITIVE_ASCII"}},
}

// foldedBoolFn is the case-insensitive kernel of starts_with, ends_with
// or contains: both sides are lower-cased (ASCII letters only when ascii)
// into reused scratch buffers.
func foldedBoolFn(fn string, ascii bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
	f := map[string]func(s, t []byte) bool{"starts_with": bytes.HasPrefix, "ends_with": bytes.HasSuffix, "contains": bytes.Contains}[fn]
	lower := lowerBytes
	if ascii {
		lower = lowerASCII
	}
	return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x, y := sargOf(ops[0]), sargOf(ops[1])
		var xs, ys []byte
		if ops[1].isConst {
			ys = lower(nil, y.at(0))
		}
		vb := bitsOf(valid)
		return buildBool(alloc, n, valid, func(i int) bool {
			if !isValid(vb, 0, i) {
				return false
			}
			xs = lower(xs[:0], x.at(i))
			if !ops[1].isConst {
				ys = lower(ys[:0], y.at(i))
			}
			return f(xs, ys)
		}), nil
	}
}

// lowerASCII appends s to dst with ASCII letters lower-cased.
func lowerASCII(dst, s []byte) []byte {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// compileConcat compiles concat: NULL when any argument is NULL, or with
// Options["null_handling"] = IGNORE_NULLS the concatenation of the
// non-NULL arguments (as concat_ws with an empty separator).
func compileConcat(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkOptions(call, map[string][]string{"null_handling": {"ACCEPT_NULLS", "IGNORE_NULLS"}}); err != nil {
		return nil, err
	}
	plain := &logical.Call{Func: call.Func, Args: call.Args, T: call.T, NullableOut: call.NullableOut}
	if option(call, "null_handling", "ACCEPT_NULLS") == "IGNORE_NULLS" {
		if len(args) == 0 {
			return nil, unsupported(call, args)
		}
		empty, err := c.compile(&logical.Literal{Value: "", T: arrow.BinaryTypes.String})
		if err != nil {
			return nil, err
		}
		return compileConcatWs(c, plain, append([]node{empty}, args...))
	}
	return compileStrFunc(c, plain, args)
}
