package scan

import (
	"context"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// scanFilter applies the scan's pushed filters inside the native Parquet
// reader (late materialisation): the columns the filters read are decoded
// first, and the other columns only for the rows that pass, or not at all
// when no row of a batch passes.
//
// A conjunct over one column is evaluated once per column chunk on the
// chunk's dictionary when the rows are dictionary-encoded, which turns it
// into a table lookup per row; otherwise on the decoded batch. Conjuncts
// over several columns are evaluated on the rows the others kept.
//
// Dropping rows here is an optimisation only: the engine still applies the
// filters exactly above the scan. So the filter is conservative: a conjunct
// that cannot be compiled or fails to evaluate keeps every row.
type scanFilter struct {
	cols  []*colFilter
	multi []*multiFilter

	sel []int32 // rows that pass
}

// colFilter holds the conjuncts that read only output column out.
type colFilter struct {
	out    int
	schema *arrow.Schema // the column alone
	evs    []expr.Evaluator
	dead   []bool // conjuncts disabled after an evaluation error
	// nullPass[i] is whether conjunct i holds for a NULL value: -1 not
	// known yet, 0 no, 1 yes.
	nullPass []int8

	// table[v] is 1 when dictionary value v passes every conjunct, for the
	// dictionary of reader rd at generation gen.
	rd    *colReader
	gen   int
	table []byte
}

// multiFilter is a conjunct over several output columns.
type multiFilter struct {
	outs   []int // in the order of schema's fields
	schema *arrow.Schema
	ev     expr.Evaluator
	dead   bool
}

// newScanFilter compiles the conjuncts over schema that the reader can
// evaluate; nil when there are none.
func newScanFilter(filters []logical.Expr, schema *arrow.Schema, pool *bufferPool) *scanFilter {
	f := &scanFilter{}
	for _, conj := range filters {
		if conj == nil || !arrow.TypeEqual(conj.Type(), arrow.FixedWidthTypes.Boolean) {
			continue
		}
		usable := true
		logical.WalkExpr(conj, func(e logical.Expr) bool {
			switch e.(type) {
			case *logical.AggregateCall, *logical.WindowCall:
				usable = false
			}
			return usable
		})
		if !usable {
			continue
		}
		var outs []int
		for i := range logical.ColumnsUsed(conj, nil) {
			if i < 0 || i >= schema.NumFields() {
				usable = false
			}
			outs = append(outs, i)
		}
		if !usable || len(outs) == 0 {
			continue
		}
		slices.Sort(outs)
		mapping := make(map[int]int, len(outs))
		fields := make([]arrow.Field, len(outs))
		for k, i := range outs {
			mapping[i] = k
			fields[k] = schema.Field(i)
		}
		local, err := logical.RemapColumns(conj, mapping)
		if err != nil {
			continue
		}
		sub := arrow.NewSchema(fields, nil)
		ev, err := expr.Compile(local, sub, pool)
		if err != nil || ev.Type().ID() != arrow.BOOL {
			continue
		}
		if len(outs) > 1 {
			f.multi = append(f.multi, &multiFilter{outs: outs, schema: sub, ev: ev})
			continue
		}
		var cf *colFilter
		for _, c := range f.cols {
			if c.out == outs[0] {
				cf = c
			}
		}
		if cf == nil {
			cf = &colFilter{out: outs[0], schema: sub}
			f.cols = append(f.cols, cf)
		}
		cf.evs = append(cf.evs, ev)
		cf.dead = append(cf.dead, false)
		cf.nullPass = append(cf.nullPass, -1)
	}
	if len(f.cols) == 0 && len(f.multi) == 0 {
		return nil
	}
	return f
}

// apply decodes the filter columns of the next n rows and returns the rows
// that pass: nil when all do. The other columns are left undecoded.
//
// The first conjunct builds the list of passing rows; later ones only
// test the rows still in it.
func (f *scanFilter) apply(ctx context.Context, r *nativeReader, n int) ([]int32, error) {
	f.sel = grow(f.sel, n)
	var sel []int32
	dense := true // no conjunct applied yet: every row passes
	for _, cf := range f.cols {
		if !dense && len(sel) == 0 {
			break
		}
		c := r.cols[r.colOf[cf.out]]
		if !c.decoded {
			if err := r.decodeCol(c); err != nil {
				return nil, err
			}
		}
		if c.dictMode {
			t := cf.dictTable(ctx, c, r.mem)
			if dense {
				sel = lookupSel(f.sel[:n], t, c.bidx[:n])
			} else {
				sel = lookupKeep(sel, t, c.bidx[:n])
			}
			dense = false
			continue
		}
		view := c.view()
		batch := array.NewRecordBatch(cf.schema, []arrow.Array{view}, int64(n))
		for i, ev := range cf.evs {
			if cf.dead[i] || (!dense && len(sel) == 0) {
				continue
			}
			mask, err := ev.Eval(ctx, batch)
			if err != nil {
				cf.dead[i] = true
				continue
			}
			if mask.Len() == n && mask.DataType().ID() == arrow.BOOL {
				if dense {
					sel = maskSel(f.sel[:n], mask)
				} else {
					sel = maskKeep(sel, mask)
				}
				dense = false
			}
			mask.Release()
		}
		batch.Release()
		view.Release()
	}
	if dense {
		sel = f.sel[:n]
		for i := range sel {
			sel[i] = int32(i)
		}
	}
	for _, mf := range f.multi {
		if mf.dead || len(sel) == 0 {
			continue
		}
		var err error
		if sel, err = mf.apply(ctx, r, sel, len(sel) == n); err != nil {
			return nil, err
		}
	}
	if len(sel) == n {
		return nil, nil
	}
	return sel, nil
}

// lookupSel writes to sel the rows i where table[idx[i]] is 1 and returns
// them. The indices must be in range (decodeIndices checks them against
// the dictionary, and table has a slot per dictionary value and one for
// NULL), which lets the loop skip bounds checks.
func lookupSel(sel []int32, table []byte, idx []int32) []int32 {
	if len(table) == 0 {
		return sel[:0]
	}
	t := unsafe.Pointer(unsafe.SliceData(table))
	sel = sel[:len(idx)]
	k := 0
	for i, x := range idx {
		sel[k] = int32(i)
		k += int(*(*byte)(unsafe.Add(t, uint32(x))))
	}
	return sel[:k]
}

// lookupKeep keeps the rows s of sel where table[idx[s]] is 1.
func lookupKeep(sel []int32, table []byte, idx []int32) []int32 {
	if len(table) == 0 {
		return sel[:0]
	}
	t := unsafe.Pointer(unsafe.SliceData(table))
	k := 0
	for _, r := range sel {
		sel[k] = r
		k += int(*(*byte)(unsafe.Add(t, uint32(idx[r]))))
	}
	return sel[:k]
}

// maskSel writes to sel the rows where the boolean mask is true (not
// NULL) and returns them.
func maskSel(sel []int32, mask arrow.Array) []int32 {
	bits, valid, off := boolBits(mask)
	k := 0
	for i := range mask.Len() {
		j := off + i
		b := bits[j>>3] >> uint(j&7) & 1
		if valid != nil {
			b &= valid[j>>3] >> uint(j&7)
		}
		sel[k] = int32(i)
		k += int(b)
	}
	return sel[:k]
}

// maskKeep keeps the rows of sel where the boolean mask is true.
func maskKeep(sel []int32, mask arrow.Array) []int32 {
	bits, valid, off := boolBits(mask)
	k := 0
	for _, r := range sel {
		j := off + int(r)
		b := bits[j>>3] >> uint(j&7) & 1
		if valid != nil {
			b &= valid[j>>3] >> uint(j&7)
		}
		sel[k] = r
		k += int(b)
	}
	return sel[:k]
}

// apply evaluates the conjunct on the rows sel (all rows when all is set)
// and returns those that pass, in place.
func (mf *multiFilter) apply(ctx context.Context, r *nativeReader, sel []int32, all bool) ([]int32, error) {
	cols := make([]arrow.Array, len(mf.outs))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	var rows []int32
	if !all {
		rows = sel
	}
	for k, o := range mf.outs {
		c := r.cols[r.colOf[o]]
		if !c.decoded {
			if err := r.decodeCol(c); err != nil {
				return nil, err
			}
		}
		cols[k] = c.materialize(rows, true)
	}
	batch := array.NewRecordBatch(mf.schema, cols, int64(len(sel)))
	defer batch.Release()
	mask, err := mf.ev.Eval(ctx, batch)
	if err != nil {
		mf.dead = true
		return sel, nil
	}
	defer mask.Release()
	if mask.Len() != len(sel) || mask.DataType().ID() != arrow.BOOL {
		mf.dead = true
		return sel, nil
	}
	bits, valid, off := boolBits(mask)
	k := 0
	for i, s := range sel {
		j := off + i
		if bitutil.BitIsSet(bits, j) && (valid == nil || bitutil.BitIsSet(valid, j)) {
			sel[k] = s
			k++
		}
	}
	return sel[:k], nil
}

// dictTable returns the pass table of c's current dictionary, computing it
// when the dictionary changed.
func (cf *colFilter) dictTable(ctx context.Context, c *colReader, pool *bufferPool) []byte {
	if cf.rd == c && cf.gen == c.dictGen {
		return cf.table
	}
	cf.rd, cf.gen = c, c.dictGen
	cf.table = grow(cf.table, c.dictN+1)
	fill(cf.table, 1)
	dict := c.dictView()
	defer dict.Release()
	batch := array.NewRecordBatch(cf.schema, []arrow.Array{dict}, int64(c.dictN))
	defer batch.Release()
	for i, ev := range cf.evs {
		if cf.dead[i] {
			continue
		}
		if cf.nullPass[i] < 0 {
			cf.nullPass[i] = cf.evalNull(ctx, i, pool)
		}
		cf.table[c.dictN] &= byte(cf.nullPass[i])
		mask, err := ev.Eval(ctx, batch)
		if err != nil {
			cf.dead[i] = true
			continue
		}
		andMask(cf.table[:c.dictN], mask)
		mask.Release()
	}
	return cf.table
}

// evalNull evaluates conjunct i on a NULL value: 1 when it holds (or
// cannot be evaluated, to stay conservative), else 0.
func (cf *colFilter) evalNull(ctx context.Context, i int, pool *bufferPool) int8 {
	null := array.MakeArrayOfNull(pool, cf.schema.Field(0).Type, 1)
	defer null.Release()
	batch := array.NewRecordBatch(cf.schema, []arrow.Array{null}, 1)
	defer batch.Release()
	mask, err := cf.evs[i].Eval(ctx, batch)
	if err != nil {
		return 1
	}
	defer mask.Release()
	if mask.Len() != 1 {
		return 1
	}
	bits, valid, off := boolBits(mask)
	if bitutil.BitIsSet(bits, off) && (valid == nil || bitutil.BitIsSet(valid, off)) {
		return 1
	}
	return 0
}

// andMask clears pass[i] where the boolean mask is false or NULL. A mask
// of the wrong shape leaves pass as it is.
func andMask(pass []byte, mask arrow.Array) {
	if mask.Len() != len(pass) || mask.DataType().ID() != arrow.BOOL {
		return
	}
	bits, valid, off := boolBits(mask)
	if valid == nil && off == 0 {
		for i := range pass {
			pass[i] &= bits[i>>3] >> uint(i&7) & 1
		}
		return
	}
	for i := range pass {
		j := off + i
		b := bits[j>>3] >> uint(j&7) & 1
		if valid != nil {
			b &= valid[j>>3] >> uint(j&7)
		}
		pass[i] &= b
	}
}

// boolBits returns the value and validity bitmaps of a boolean array and
// its offset; valid is nil when no value is NULL.
func boolBits(a arrow.Array) (bits, valid []byte, off int) {
	d := a.Data()
	bufs := d.Buffers()
	if a.NullN() > 0 && bufs[0] != nil {
		valid = bufs[0].Bytes()
	}
	return bufs[1].Bytes(), valid, d.Offset()
}
