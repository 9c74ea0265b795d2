package expr

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// interleave builds an array of n rows where row i is row pos[i] of
// parts[src[i]] (NULL when src[i] < 0). All parts have type t.
func interleave(alloc memory.Allocator, t arrow.DataType, parts []arrow.Array, src, pos []int32) (arrow.Array, error) {
	n := len(src)
	// validity
	vbuf, vb := newBitmap(alloc, n)
	pv := make([][]byte, len(parts))
	po := make([]int, len(parts))
	for k, p := range parts {
		pv[k], po[k] = validityBits(p)
		if pv[k] == nil && p.NullN() > 0 {
			pv[k] = make([]byte, bitutil.BytesForBits(int64(p.Len())))
			po[k] = 0
		}
	}
	anyNull := false
	for i := 0; i < n; i++ {
		k := src[i]
		if k >= 0 && (pv[k] == nil || bitutil.BitIsSet(pv[k], po[k]+int(pos[i]))) {
			vb[i>>3] |= 1 << (i & 7)
		} else {
			anyNull = true
		}
	}
	if !anyNull {
		vbuf.Release()
		vbuf = nil
	}
	switch t.ID() {
	case arrow.NULL:
		releaseBuf(vbuf)
		return array.NewNull(n), nil
	case arrow.BOOL:
		buf, out := newBitmap(alloc, n)
		bits := make([][]byte, len(parts))
		offs := make([]int, len(parts))
		for k, p := range parts {
			bits[k], offs[k] = boolBits(p)
		}
		for i := 0; i < n; i++ {
			if k := src[i]; k >= 0 && bits[k] != nil && bitutil.BitIsSet(bits[k], offs[k]+int(pos[i])) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return makeArray(t, n, vbuf, buf), nil
	case arrow.STRING, arrow.BINARY:
		views := make([]strView, len(parts))
		for k, p := range parts {
			views[k] = newStrView(p)
		}
		total := 0
		for i := 0; i < n; i++ {
			if k := src[i]; k >= 0 {
				total += len(views[k].bytes(int(pos[i])))
			}
		}
		b := newStrBuilder(alloc, n, total)
		for i := 0; i < n; i++ {
			if k := src[i]; k >= 0 {
				b.appendBytes(views[k].bytes(int(pos[i])))
			}
			b.endRow()
		}
		out, err := b.finish(vbuf)
		if err != nil {
			return nil, err
		}
		if t.ID() == arrow.BINARY {
			r := reinterpret(out, t)
			out.Release()
			return r, nil
		}
		return out, nil
	}
	switch fixedWidth(t) {
	case 1:
		return interleaveFixed[int8](alloc, t, parts, src, pos, vbuf), nil
	case 2:
		return interleaveFixed[int16](alloc, t, parts, src, pos, vbuf), nil
	case 4:
		return interleaveFixed[int32](alloc, t, parts, src, pos, vbuf), nil
	case 8:
		return interleaveFixed[int64](alloc, t, parts, src, pos, vbuf), nil
	case 16:
		return interleaveFixed[decimal128.Num](alloc, t, parts, src, pos, vbuf), nil
	}
	// Other types: concatenate the parts and take.
	releaseBuf(vbuf)
	all, err := array.Concatenate(parts, alloc)
	if err != nil {
		return nil, fmt.Errorf("expr: combining %s values: %w", t, err)
	}
	defer all.Release()
	base := make([]int32, len(parts))
	acc := int32(0)
	for k, p := range parts {
		base[k] = acc
		acc += int32(p.Len())
	}
	idx := make([]int32, n)
	var nullRows []int
	for i := range idx {
		if k := src[i]; k >= 0 {
			idx[i] = base[k] + pos[i]
		} else {
			nullRows = append(nullRows, i)
		}
	}
	if len(nullRows) > 0 {
		return nil, fmt.Errorf("%w: NULL rows in CASE results of type %s", ErrNotSupported, t)
	}
	return takeArray(alloc, all, idx)
}

func interleaveFixed[T fixed](alloc memory.Allocator, t arrow.DataType, parts []arrow.Array, src, pos []int32, vbuf *memory.Buffer) arrow.Array {
	vals := make([][]T, len(parts))
	for k, p := range parts {
		vals[k] = values[T](p)
	}
	buf, out := newValues[T](alloc, len(src))
	for i := range out {
		if k := src[i]; k >= 0 && vals[k] != nil {
			out[i] = vals[k][pos[i]]
		}
	}
	return makeArray(t, len(src), vbuf, buf)
}

// subChunk returns the rows idx of c, for the columns in cols only.
func subChunk(alloc memory.Allocator, c *chunk, idx []int32, cols []int) (*chunk, error) {
	out := &chunk{cols: make([]arrow.Array, len(c.cols)), n: len(idx)}
	for _, k := range cols {
		if k >= len(c.cols) || c.cols[k] == nil {
			continue
		}
		a, err := takeArray(alloc, c.cols[k], idx)
		if err != nil {
			out.release()
			return nil, err
		}
		out.cols[k] = a
	}
	return out, nil
}

func (c *chunk) release() {
	for _, a := range c.cols {
		if a != nil {
			a.Release()
		}
	}
}

// usedColumns lists the input columns the expressions read.
func usedColumns(es ...logical.Expr) []int {
	m := map[int]bool{}
	for _, e := range es {
		if e != nil {
			logical.ColumnsUsed(e, m)
		}
	}
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// caseNode evaluates a searched CASE. Each arm's condition and value are
// evaluated only on the rows still undecided, and the result is assembled
// once at the end.
type caseNode struct {
	conds, thens []node
	els          node
	t            arrow.DataType
	cols         []int
	alloc        memory.Allocator
}

func (c *compiler) compileCase(x *logical.Case) (node, error) {
	cn := &caseNode{t: x.T, alloc: c.alloc}
	var exprs []logical.Expr
	for _, w := range x.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return nil, err
		}
		if id := cond.dtype().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, fmt.Errorf("%w: CASE condition of type %s", ErrNotSupported, cond.dtype())
		}
		then, err := c.compile(w.Then)
		if err != nil {
			return nil, err
		}
		if then, err = c.castNode(then, x.T, false); err != nil {
			return nil, err
		}
		cn.conds = append(cn.conds, cond)
		cn.thens = append(cn.thens, then)
		exprs = append(exprs, w.Cond, w.Then)
	}
	if x.Else != nil {
		els, err := c.compile(x.Else)
		if err != nil {
			return nil, err
		}
		if cn.els, err = c.castNode(els, x.T, false); err != nil {
			return nil, err
		}
		exprs = append(exprs, x.Else)
	} else {
		cn.els = c.nullConst(x.T)
	}
	cn.cols = usedColumns(exprs...)
	return cn, nil
}

func (cn *caseNode) dtype() arrow.DataType { return cn.t }

// partial is the values of a subset of rows: rows[j] (original row) gets
// row j of arr, or row 0 when arr is a constant.
type partial struct {
	rows    []int32
	arr     arrow.Array
	isConst bool
}

func (cn *caseNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	arms := len(cn.conds)
	conds := append(append([]node(nil), cn.conds...), nil)
	thens := append(append([]node(nil), cn.thens...), cn.els)
	return evalArms(ctx, cn.alloc, c, cn.t, cn.cols, arms+1, func(k int, sub *chunk) (operand, error) {
		if k == arms {
			return operand{}, nil // else: every remaining row
		}
		return evalOperand(ctx, conds[k], sub)
	}, func(k int, sub *chunk) (operand, error) {
		return evalOperand(ctx, thens[k], sub)
	}, false)
}

// evalArms is the engine of CASE and COALESCE. For arm k, cond(k, sub)
// gives a boolean selecting the rows of sub the arm decides (an empty
// operand: all rows); value(k, sub) gives their values. With byValue, the
// arm's rows are instead those where value is not NULL (COALESCE), and
// cond is unused.
func evalArms(ctx context.Context, alloc memory.Allocator, c *chunk, t arrow.DataType, cols []int, arms int,
	cond func(k int, sub *chunk) (operand, error), value func(k int, sub *chunk) (operand, error), byValue bool) (arrow.Array, error) {
	n := c.n
	var parts []partial
	defer func() {
		for _, p := range parts {
			if !p.isConst {
				p.arr.Release()
			}
		}
	}()
	sub := c
	var rows []int32 // original row of each row of sub; nil means identity
	owned := false   // whether sub must be released
	defer func() {
		if owned {
			sub.release()
		}
	}()
	orig := func(sel []int32) []int32 {
		out := make([]int32, len(sel))
		for j, s := range sel {
			if rows != nil {
				out[j] = rows[s]
			} else {
				out[j] = s
			}
		}
		return out
	}
	var scratch []int32
	for k := 0; k < arms && sub.n > 0; k++ {
		var sel []int32 // rows of sub decided by arm k; nil means all
		var val operand
		if byValue {
			v, err := value(k, sub)
			if err != nil {
				return nil, err
			}
			if v.isConst {
				if v.arr.IsNull(0) {
					continue
				}
				val = v
			} else if v.arr.NullN() == 0 || k == arms-1 {
				val = v
			} else {
				vm := isValidMask(alloc, v.arr)
				scratch = trueIndices(vm, scratch)
				vm.Release()
				if len(scratch) == 0 {
					v.release()
					continue
				}
				sel = append([]int32(nil), scratch...)
				val = v // full length of sub; positions are sel
			}
			p := partial{arr: val.arr, isConst: val.isConst}
			if sel == nil {
				p.rows = orig(identity(sub.n))
				parts = append(parts, p)
				break
			}
			// Keep only the selected rows' positions: store the full array
			// with rows mapped through sel.
			p.rows = make([]int32, sub.n)
			for j := range p.rows {
				p.rows[j] = -1
			}
			for _, s := range sel {
				if rows != nil {
					p.rows[s] = rows[s]
				} else {
					p.rows[s] = s
				}
			}
			parts = append(parts, p)
		} else {
			cv, err := cond(k, sub)
			if err != nil {
				return nil, err
			}
			switch {
			case cv.arr == nil: // else arm
			case cv.isConst:
				if cv.arr.IsNull(0) || !getBit(boolBitsOf(cv.arr), cv.arr.Data().Offset(), 0, false) {
					continue
				}
			default:
				scratch = trueIndices(cv.arr, scratch)
				cv.release()
				if len(scratch) == 0 {
					continue
				}
				if len(scratch) < sub.n {
					sel = append([]int32(nil), scratch...)
				}
			}
			armChunk := sub
			if sel != nil {
				if armChunk, err = subChunk(alloc, sub, sel, cols); err != nil {
					return nil, err
				}
			}
			v, err := value(k, armChunk)
			if armChunk != sub {
				armChunk.release()
			}
			if err != nil {
				return nil, err
			}
			p := partial{arr: v.arr, isConst: v.isConst}
			if sel == nil {
				p.rows = orig(identity(sub.n))
			} else {
				p.rows = orig(sel)
			}
			parts = append(parts, p)
			if sel == nil {
				break
			}
		}
		// The remaining rows: the complement of sel in sub.
		rest := complement(sel, sub.n)
		if len(rest) == 0 {
			break
		}
		next, err := subChunk(alloc, sub, rest, cols)
		if err != nil {
			return nil, err
		}
		rows = orig(rest)
		if owned {
			sub.release()
		}
		sub, owned = next, true
	}
	// Fast path: one part covering every row in order.
	if len(parts) == 1 && !parts[0].isConst && len(parts[0].rows) == n && isIdentity(parts[0].rows) {
		parts[0].arr.Retain()
		return parts[0].arr, nil
	}
	if len(parts) == 1 && parts[0].isConst && len(parts[0].rows) == n {
		return broadcast(alloc, parts[0].arr, n)
	}
	src := make([]int32, n)
	pos := make([]int32, n)
	for i := range src {
		src[i] = -1
	}
	arrs := make([]arrow.Array, len(parts))
	for k, p := range parts {
		arrs[k] = p.arr
		for j, r := range p.rows {
			if r < 0 {
				continue
			}
			src[r] = int32(k)
			if p.isConst {
				pos[r] = 0
			} else {
				pos[r] = int32(j)
			}
		}
	}
	return interleave(alloc, t, arrs, src, pos)
}

func identity(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

func isIdentity(rows []int32) bool {
	for i, r := range rows {
		if r != int32(i) {
			return false
		}
	}
	return true
}

// complement returns the rows of [0, n) not in sel (sorted); nil sel means all.
func complement(sel []int32, n int) []int32 {
	if sel == nil {
		return nil
	}
	out := make([]int32, 0, n-len(sel))
	j := 0
	for i := 0; i < n; i++ {
		if j < len(sel) && sel[j] == int32(i) {
			j++
			continue
		}
		out = append(out, int32(i))
	}
	return out
}

// isValidMask returns a boolean array that is true where a is not NULL.
func isValidMask(alloc memory.Allocator, a arrow.Array) arrow.Array {
	buf := copyValidity(alloc, a)
	if buf == nil {
		buf, _ = allValidBitmap(alloc, a.Len())
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, a.Len(), nil, buf)
}

func init() {
	register("coalesce", false, compileCoalesce)
	register("nullif", false, compileNullIf)
	register("greatest", false, compileGreatestLeast)
	register("least", false, compileGreatestLeast)
}

// coalesceNode returns the first non-NULL argument per row, evaluating
// each argument only on the rows still NULL.
type coalesceNode struct {
	args  []node
	t     arrow.DataType
	cols  []int
	alloc memory.Allocator
}

func compileCoalesce(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) == 0 {
		return nil, unsupported(call, args)
	}
	t := call.T
	if t == nil {
		t = args[0].dtype()
	}
	conv := make([]node, 0, len(args))
	for _, a := range args {
		n, err := c.castNode(a, t, false)
		if err != nil {
			return nil, unsupported(call, args)
		}
		conv = append(conv, n)
		if k, ok := asConst(n); ok && !k.isNull() {
			break // later arguments are never reached
		}
	}
	if len(conv) == 1 {
		return conv[0], nil
	}
	return &coalesceNode{args: conv, t: t, cols: usedColumns(call.Args...), alloc: c.alloc}, nil
}

func (cn *coalesceNode) dtype() arrow.DataType { return cn.t }

func (cn *coalesceNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	return evalArms(ctx, cn.alloc, c, cn.t, cn.cols, len(cn.args), nil, func(k int, sub *chunk) (operand, error) {
		return evalOperand(ctx, cn.args[k], sub)
	}, true)
}

// compileNullIf compiles nullif(a, b): NULL where a = b, else a.
func compileNullIf(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	a := args[0]
	b, err := c.castNode(args[1], a.dtype(), false)
	if err != nil {
		return nil, unsupported(call, args)
	}
	k, err := compareKernel(cmpEq, a.dtype())
	if err != nil {
		return nil, unsupported(call, args)
	}
	t := a.dtype()
	return &binaryNode{name: "nullif", l: a, r: b, t: t, alloc: c.alloc, nullSafe: true,
		kernel: func(alloc memory.Allocator, x, y operand, n int) (arrow.Array, error) {
			if x.constNull() {
				return nullArray(alloc, t, n), nil
			}
			xa := x.arr
			if x.isConst {
				var err error
				if xa, err = broadcast(alloc, x.arr, n); err != nil {
					return nil, err
				}
				defer xa.Release()
			}
			if y.constNull() {
				xa.Retain()
				return xa, nil
			}
			_, eq := newBitmap(memory.DefaultAllocator, n)
			k(operand{arr: xa}, y, n, eq)
			// valid = valid(x) AND NOT (valid(y) AND eq)
			var s1, s2 []byte
			vx := operandValidity(operand{arr: xa}, n, &s1)
			vy := operandValidity(y, n, &s2)
			off := xa.Data().Offset()
			vbuf, vb := newBitmap(alloc, off+n)
			for i := 0; i < n; i++ {
				if getBit(vx, 0, i, false) && !(getBit(vy, 0, i, false) && getBit(eq, 0, i, false)) {
					bitutil.SetBit(vb, off+i)
				}
			}
			d := xa.Data()
			bufs := append([]*memory.Buffer{vbuf}, d.Buffers()[1:]...)
			nd := array.NewData(t, n, bufs, d.Children(), array.UnknownNullCount, off)
			vbuf.Release()
			defer nd.Release()
			return array.MakeFromData(nd), nil
		}}, nil
}

// compileGreatestLeast compiles greatest/least, which skip NULLs
// (PostgreSQL): the result is NULL only when every argument is.
func compileGreatestLeast(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) == 0 {
		return nil, unsupported(call, args)
	}
	t := args[0].dtype()
	for _, a := range args[1:] {
		ct, ok := commonType(t, a.dtype())
		if !ok {
			return nil, unsupported(call, args)
		}
		t = ct
	}
	if call.T != nil {
		t = call.T
	}
	conv := make([]node, len(args))
	for i, a := range args {
		n, err := c.castNode(a, t, false)
		if err != nil {
			return nil, unsupported(call, args)
		}
		conv[i] = n
	}
	op := cmpGt
	if call.Func == "least" {
		op = cmpLt
	}
	k, err := compareKernel(op, t)
	if err != nil {
		return nil, unsupported(call, args)
	}
	return &greatestNode{args: conv, t: t, cmp: k, alloc: c.alloc}, nil
}

type greatestNode struct {
	args  []node
	t     arrow.DataType
	cmp   cmpFunc
	alloc memory.Allocator
}

func (g *greatestNode) dtype() arrow.DataType { return g.t }

func (g *greatestNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	n := c.n
	best, err := g.args[0].eval(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, a := range g.args[1:] {
		next, err := a.eval(ctx, c)
		if err != nil {
			best.Release()
			return nil, err
		}
		better := make([]byte, (n+7)/8)
		g.cmp(operand{arr: next}, operand{arr: best}, n, better)
		src := make([]int32, n)
		pos := identity(n)
		for i := 0; i < n; i++ {
			switch {
			case next.IsNull(i):
				src[i] = 0
			case best.IsNull(i) || getBit(better, 0, i, false):
				src[i] = 1
			}
		}
		merged, err := interleave(g.alloc, g.t, []arrow.Array{best, next}, src, pos)
		best.Release()
		next.Release()
		if err != nil {
			return nil, err
		}
		best = merged
	}
	return best, nil
}
