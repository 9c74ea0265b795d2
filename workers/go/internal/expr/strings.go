package expr

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// sarg reads a string operand (a constant reads row 0).
type sarg struct {
	sv strView
	c  bool
}

func (a sarg) at(i int) []byte {
	if a.c {
		i = 0
	}
	return a.sv.data[a.sv.offs[i]:a.sv.offs[i+1]]
}

// iarg reads an int64 operand.
type iarg struct {
	v []int64
	c bool
}

func (a iarg) at(i int) int64 {
	if a.c {
		return a.v[0]
	}
	return a.v[i]
}

// argKind is what a string function expects of an argument.
type argKind uint8

const (
	kStr argKind = iota
	kInt
)

// strFunc describes a string function: its argument kinds (the last ones
// optional down to minArgs), result type and kernel.
type strFunc struct {
	kinds   []argKind
	minArgs int
	out     arrow.DataType
	// variadic functions accept any number (>= minArgs) of kinds[0].
	variadic bool
	// kernel computes the result for n rows given the combined validity.
	kernel func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error)
}

// strNode evaluates a string function over its operands.
type strNode struct {
	args  []node
	f     *strFunc
	alloc memory.Allocator
}

func (s *strNode) dtype() arrow.DataType { return s.f.out }

func (s *strNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	ops := make([]operand, len(s.args))
	defer func() {
		for _, o := range ops {
			o.release()
		}
	}()
	for i, a := range s.args {
		o, err := evalOperand(ctx, a, c)
		if err != nil {
			return nil, err
		}
		ops[i] = o
		if o.constNull() {
			return nullArray(s.alloc, s.f.out, c.n), nil
		}
	}
	valid := validityOf(s.alloc, c.n, ops...)
	return s.f.kernel(s.alloc, ops, c.n, valid)
}

func sargOf(o operand) sarg { return sarg{sv: newStrView(o.arr), c: o.isConst} }
func iargOf(o operand) iarg { return iarg{v: values[int64](o.arr), c: o.isConst} }

// buildStr assembles a utf8 result, calling f for each valid row.
func buildStr(alloc memory.Allocator, n, est int, valid *memory.Buffer, f func(i int, b *strBuilder) error) (arrow.Array, error) {
	b := newStrBuilder(alloc, n, est)
	vb := bitsOf(valid)
	for i := 0; i < n; i++ {
		if isValid(vb, 0, i) {
			if err := f(i, b); err != nil {
				b.release()
				releaseBuf(valid)
				return nil, err
			}
		}
		b.endRow()
	}
	return b.finish(valid)
}

func buildInt64(alloc memory.Allocator, n int, valid *memory.Buffer, f func(i int) int64) arrow.Array {
	buf, out := newValues[int64](alloc, n)
	vb := bitsOf(valid)
	for i := range out {
		if isValid(vb, 0, i) {
			out[i] = f(i)
		}
	}
	return makeArray(arrow.PrimitiveTypes.Int64, n, valid, buf)
}

func buildBool(alloc memory.Allocator, n int, valid *memory.Buffer, f func(i int) bool) arrow.Array {
	buf, out := newBitmap(alloc, n)
	packBools(out, n, f)
	return makeArray(arrow.FixedWidthTypes.Boolean, n, valid, buf)
}

// dataSize is the total byte size of a string operand's rows.
func dataSize(o operand) int {
	if o.isConst {
		return 0
	}
	sv := newStrView(o.arr)
	return int(sv.offs[len(sv.offs)-1] - sv.offs[0])
}

func isASCII(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if word(s, i)&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// charSlice returns the characters [from, to) of s (0-based, clipped).
func charSlice(s []byte, from, to int64) []byte {
	if from < 0 {
		from = 0
	}
	if to <= from {
		return s[:0]
	}
	if isASCII(s) {
		l := int64(len(s))
		return s[min(from, l):min(to, l)]
	}
	start, k := -1, int64(0)
	for pos := range string(s) {
		if k == from {
			start = pos
		}
		if k == to {
			return s[start:pos]
		}
		k++
	}
	if start < 0 {
		return s[:0]
	}
	return s[start:]
}

func charLen(s []byte) int64 {
	if isASCII(s) {
		return int64(len(s))
	}
	return int64(utf8.RuneCount(s))
}

func appendUpperUnicode(dst, s []byte) []byte {
	for len(s) > 0 {
		r, w := utf8.DecodeRune(s)
		dst = utf8.AppendRune(dst, unicode.ToUpper(r))
		s = s[w:]
	}
	return dst
}

func appendLowerUnicode(dst, s []byte) []byte {
	for len(s) > 0 {
		r, w := utf8.DecodeRune(s)
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		s = s[w:]
	}
	return dst
}

func upperBytes(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendUpperUnicode(dst, s[i:])
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

var strFuncs = map[string]*strFunc{}

func init() {
	s := arrow.BinaryTypes.String
	def := func(name string, kinds []argKind, minArgs int, out arrow.DataType,
		k func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error)) {
		strFuncs[name] = &strFunc{kinds: kinds, minArgs: minArgs, out: out, kernel: k}
		register(name, true, compileStrFunc)
	}
	caseMap := func(upper bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x := sargOf(ops[0])
			return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
				v := x.at(i)
				b.grow(len(v))
				if upper {
					b.data = upperBytes(b.data, v)
				} else {
					b.data = lowerBytes(b.data, v)
				}
				return nil
			})
		}
	}
	def("upper", []argKind{kStr}, 1, s, caseMap(true))
	def("lower", []argKind{kStr}, 1, s, caseMap(false))
	def("char_length", []argKind{kStr}, 1, arrow.PrimitiveTypes.Int64,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x := sargOf(ops[0])
			return buildInt64(alloc, n, valid, func(i int) int64 { return charLen(x.at(i)) }), nil
		})
	strFuncs["character_length"] = strFuncs["char_length"]
	register("character_length", true, compileStrFunc)
	strFuncs["length"] = strFuncs["char_length"]
	register("length", true, compileStrFunc)
	def("octet_length", []argKind{kStr}, 1, arrow.PrimitiveTypes.Int64,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x := sargOf(ops[0])
			return buildInt64(alloc, n, valid, func(i int) int64 { return int64(len(x.at(i))) }), nil
		})
	def("substring", []argKind{kStr, kInt, kInt}, 2, s, substringKernel(false))
	def("left", []argKind{kStr, kInt}, 2, s, leftRight(true))
	def("right", []argKind{kStr, kInt}, 2, s, leftRight(false))
	for _, name := range []string{"trim", "ltrim", "rtrim", "btrim"} {
		left, right := name != "rtrim", name != "ltrim"
		def(name, []argKind{kStr, kStr}, 1, s, trimKernel(left, right))
	}
	def("strpos", []argKind{kStr, kStr}, 2, arrow.PrimitiveTypes.Int64,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x, sub := sargOf(ops[0]), sargOf(ops[1])
			return buildInt64(alloc, n, valid, func(i int) int64 {
				s := x.at(i)
				j := bytes.Index(s, sub.at(i))
				if j < 0 {
					return 0
				}
				return charLen(s[:j]) + 1
			}), nil
		})
	def("replace", []argKind{kStr, kStr, kStr}, 3, s,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x, from, to := sargOf(ops[0]), sargOf(ops[1]), sargOf(ops[2])
			return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
				s, f, t := x.at(i), from.at(i), to.at(i)
				if len(f) == 0 {
					b.appendBytes(s)
					return nil
				}
				for {
					j := bytes.Index(s, f)
					if j < 0 {
						break
					}
					b.appendBytes(s[:j])
					b.appendBytes(t)
					s = s[j+len(f):]
				}
				b.appendBytes(s)
				return nil
			})
		})
	boolFn := func(f func(s, t []byte) bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x, y := sargOf(ops[0]), sargOf(ops[1])
			return buildBool(alloc, n, valid, func(i int) bool { return f(x.at(i), y.at(i)) }), nil
		}
	}
	def("starts_with", []argKind{kStr, kStr}, 2, arrow.FixedWidthTypes.Boolean, boolFn(bytes.HasPrefix))
	def("ends_with", []argKind{kStr, kStr}, 2, arrow.FixedWidthTypes.Boolean, boolFn(bytes.HasSuffix))
	def("contains", []argKind{kStr, kStr}, 2, arrow.FixedWidthTypes.Boolean, boolFn(bytes.Contains))
	def("concat", []argKind{kStr}, 1, s,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			args := make([]sarg, len(ops))
			est := 0
			for i, o := range ops {
				args[i] = sargOf(o)
				est += dataSize(o)
			}
			return buildStr(alloc, n, est, valid, func(i int, b *strBuilder) error {
				for _, a := range args {
					b.appendBytes(a.at(i))
				}
				return nil
			})
		})
	strFuncs["concat"].variadic = true
	// concat's strictness depends on its null_handling option.
	register("concat", false, compileConcat)
	def("lpad", []argKind{kStr, kInt, kStr}, 2, s, padKernel(true))
	def("rpad", []argKind{kStr, kInt, kStr}, 2, s, padKernel(false))
	def("reverse", []argKind{kStr}, 1, s,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x := sargOf(ops[0])
			return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
				v := x.at(i)
				b.grow(len(v))
				for len(v) > 0 {
					_, w := utf8.DecodeLastRune(v)
					b.data = append(b.data, v[len(v)-w:]...)
					v = v[:len(v)-w]
				}
				return nil
			})
		})
	def("repeat", []argKind{kStr, kInt}, 2, s,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x, k := sargOf(ops[0]), iargOf(ops[1])
			return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
				v, cnt := x.at(i), k.at(i)
				if cnt <= 0 || len(v) == 0 {
					return nil
				}
				if cnt > (1<<30)/int64(len(v)) {
					return fmt.Errorf("%w: repeat result exceeds 1 GiB", ErrOverflow)
				}
				b.grow(len(v) * int(cnt))
				for ; cnt > 0; cnt-- {
					b.data = append(b.data, v...)
				}
				return nil
			})
		})
	def("split_part", []argKind{kStr, kStr, kInt}, 3, s,
		func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
			x, d, k := sargOf(ops[0]), sargOf(ops[1]), iargOf(ops[2])
			return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
				part, err := splitPart(x.at(i), d.at(i), k.at(i))
				if err != nil {
					return err
				}
				b.appendBytes(part)
				return nil
			})
		})
	register("regexp_match", true, compileRegexpMatch)
}

// splitPart implements PostgreSQL's split_part (negative n counts from the end).
func splitPart(s, delim []byte, k int64) ([]byte, error) {
	if k == 0 {
		return nil, fmt.Errorf("%w: split_part field position must not be zero", ErrInvalidValue)
	}
	if len(delim) == 0 {
		if k == 1 || k == -1 {
			return s, nil
		}
		return nil, nil
	}
	parts := bytes.Count(s, delim) + 1
	if k < 0 {
		k = int64(parts) + k + 1
		if k < 1 {
			return nil, nil
		}
	}
	if k > int64(parts) {
		return nil, nil
	}
	for ; k > 1; k-- {
		j := bytes.Index(s, delim)
		s = s[j+len(delim):]
	}
	if j := bytes.Index(s, delim); j >= 0 {
		s = s[:j]
	}
	return s, nil
}

func substringKernel(wrap bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
	return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x, st := sargOf(ops[0]), iargOf(ops[1])
		var ln iarg
		hasLen := len(ops) > 2
		if hasLen {
			ln = iargOf(ops[2])
		}
		return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
			s, start := x.at(i), st.at(i)
			if wrap && start < 0 {
				start = charLen(s) + start + 1
				if start < 1 {
					start = 1
				}
			}
			from := start - 1
			to := int64(1<<62 - 1)
			if hasLen {
				l := ln.at(i)
				if l < 0 {
					return fmt.Errorf("%w: negative substring length not allowed", ErrInvalidValue)
				}
				if from > 1<<62-l {
					to = 1<<62 - 1
				} else {
					to = from + l
				}
			}
			b.appendBytes(charSlice(s, from, to))
			return nil
		})
	}
}

func leftRight(left bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
	return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x, k := sargOf(ops[0]), iargOf(ops[1])
		return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
			s, c := x.at(i), k.at(i)
			l := charLen(s)
			var from, to int64
			switch {
			case left && c >= 0:
				from, to = 0, c
			case left:
				from, to = 0, l+c
			case c >= 0:
				from, to = l-c, l
			default:
				from, to = -c, l
			}
			b.appendBytes(charSlice(s, from, to))
			return nil
		})
	}
}

func trimKernel(left, right bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
	return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x := sargOf(ops[0])
		var set sarg
		hasSet := len(ops) > 1
		if hasSet {
			set = sargOf(ops[1])
		}
		return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
			s := x.at(i)
			chars := " "
			if hasSet {
				chars = string(set.at(i))
			}
			if left {
				s = bytes.TrimLeft(s, chars)
			}
			if right {
				s = bytes.TrimRight(s, chars)
			}
			b.appendBytes(s)
			return nil
		})
	}
}

func padKernel(left bool) func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
	return func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x, k := sargOf(ops[0]), iargOf(ops[1])
		var fill sarg
		hasFill := len(ops) > 2
		if hasFill {
			fill = sargOf(ops[2])
		}
		return buildStr(alloc, n, dataSize(ops[0]), valid, func(i int, b *strBuilder) error {
			s, target := x.at(i), k.at(i)
			f := []byte(" ")
			if hasFill {
				f = fill.at(i)
			}
			if target <= 0 {
				return nil
			}
			if target > 1<<28 {
				return fmt.Errorf("%w: requested length %d too large", ErrOverflow, target)
			}
			l := charLen(s)
			if l >= target || len(f) == 0 {
				b.appendBytes(charSlice(s, 0, target))
				return nil
			}
			need := target - l
			if !left {
				b.appendBytes(s)
			}
			fl := charLen(f)
			for need > 0 {
				take := min(need, fl)
				b.appendBytes(charSlice(f, 0, take))
				need -= take
			}
			if left {
				b.appendBytes(s)
			}
			return nil
		})
	}
}

func compileStrFunc(c *compiler, call *logical.Call, args []node) (node, error) {
	f := strFuncs[call.Func]
	if call.Func == "substring" {
		if err := checkOptions(call, map[string][]string{"negative_start": {"LEFT_OF_BEGINNING", "WRAP_FROM_END"}}); err != nil {
			return nil, err
		}
		if option(call, "negative_start", "LEFT_OF_BEGINNING") == "WRAP_FROM_END" {
			g := *f
			g.kernel = substringKernel(true)
			f = &g
		}
	} else if len(call.Options) > 0 {
		if err := checkOptions(call, strOptions[call.Func]); err != nil {
			return nil, err
		}
		if cs := option(call, "case_sensitivity", "CASE_SENSITIVE"); cs != "CASE_SENSITIVE" {
			g := *f
			g.kernel = foldedBoolFn(call.Func, cs == "CASE_INSENSITIVE_ASCII")
			f = &g
		}
	}
	if len(args) < f.minArgs || (!f.variadic && len(args) > len(f.kinds)) {
		return nil, unsupported(call, args)
	}
	conv := make([]node, len(args))
	for i, a := range args {
		k := f.kinds[0]
		if !f.variadic {
			k = f.kinds[i]
		}
		t := a.dtype()
		var err error
		switch k {
		case kStr:
			if !logical.IsString(t) && t.ID() != arrow.NULL {
				return nil, unsupported(call, args)
			}
			conv[i], err = c.castNode(a, arrow.BinaryTypes.String, false)
		case kInt:
			if !logical.IsInteger(t) && t.ID() != arrow.NULL {
				return nil, unsupported(call, args)
			}
			conv[i], err = c.castNode(a, arrow.PrimitiveTypes.Int64, false)
		}
		if err != nil {
			return nil, err
		}
	}
	return &strNode{args: conv, f: f, alloc: c.alloc}, nil
}

func compileRegexpMatch(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 || !logical.IsString(args[0].dtype()) || !logical.IsString(args[1].dtype()) {
		return nil, unsupported(call, args)
	}
	x, err := c.castNode(args[0], arrow.BinaryTypes.String, false)
	if err != nil {
		return nil, err
	}
	p, err := c.castNode(args[1], arrow.BinaryTypes.String, false)
	if err != nil {
		return nil, err
	}
	var fixed *regexp.Regexp
	if k, ok := asConst(p); ok {
		if fixed, err = regexp.Compile(newStrView(k.arr).str(0)); err != nil {
			return nil, fmt.Errorf("%w: invalid regular expression: %v", ErrInvalidValue, err)
		}
	}
	f := &strFunc{out: arrow.FixedWidthTypes.Boolean, kernel: func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		x, pat := sargOf(ops[0]), sargOf(ops[1])
		re := fixed
		var last string
		var bad error
		out := buildBool(alloc, n, valid, func(i int) bool {
			if !isValid(bitsOf(valid), 0, i) || bad != nil {
				return false
			}
			if fixed == nil {
				if ps := string(pat.at(i)); re == nil || ps != last {
					r, err := regexp.Compile(ps)
					if err != nil {
						bad = fmt.Errorf("%w: invalid regular expression: %v", ErrInvalidValue, err)
						return false
					}
					re, last = r, ps
				}
			}
			return re.Match(x.at(i))
		})
		if bad != nil {
			out.Release()
			return nil, bad
		}
		return out, nil
	}}
	return &strNode{args: []node{x, p}, f: f, alloc: c.alloc}, nil
}
