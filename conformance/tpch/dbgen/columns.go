package dbgen

import (
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Generators write values straight into allocator-backed Arrow buffers
// sized for the batch's row bound, then wrap them as arrays without a copy.

// fixedCol is a column of fixed-width values.
type fixedCol[T int16 | int32 | int64 | decimal128.Num] struct {
	buf *memory.Buffer
	v   []T
}

func newFixedCol[T int16 | int32 | int64 | decimal128.Num](mem memory.Allocator, rows int, cast func([]byte) []T, width int) fixedCol[T] {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(rows * width)
	return fixedCol[T]{buf: buf, v: cast(buf.Bytes())[:rows]}
}

func newInt64Col(mem memory.Allocator, rows int) fixedCol[int64] {
	return newFixedCol(mem, rows, arrow.Int64Traits.CastFromBytes, arrow.Int64SizeBytes)
}

func newInt32Col(mem memory.Allocator, rows int) fixedCol[int32] {
	return newFixedCol(mem, rows, arrow.Int32Traits.CastFromBytes, arrow.Int32SizeBytes)
}

func newMoneyCol(mem memory.Allocator, rows int) fixedCol[decimal128.Num] {
	return newFixedCol(mem, rows, arrow.Decimal128Traits.CastFromBytes, arrow.Decimal128SizeBytes)
}

// array wraps the first n values as an array of type dt and gives up the
// column's reference to its buffer.
func (c *fixedCol[T]) array(dt arrow.DataType, n int) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{nil, c.buf}, nil, 0, 0)
	defer d.Release()
	c.release()
	return array.MakeFromData(d)
}

func (c *fixedCol[T]) release() {
	if c.buf != nil {
		c.buf.Release()
		c.buf, c.v = nil, nil
	}
}

// strCol is a utf8 column: int32 offsets and a byte area that grows.
type strCol struct {
	offBuf, dataBuf *memory.Buffer
	off             []int32
	data            []byte // len is the bytes written, cap the buffer's size
	n               int
}

func newStrCol(mem memory.Allocator, rows, bytesHint int) strCol {
	c := strCol{offBuf: memory.NewResizableBuffer(mem), dataBuf: memory.NewResizableBuffer(mem)}
	c.offBuf.Resize((rows + 1) * arrow.Int32SizeBytes)
	c.off = arrow.Int32Traits.CastFromBytes(c.offBuf.Bytes())[:rows+1]
	c.off[0] = 0
	c.dataBuf.Resize(max(bytesHint, 64))
	c.data = c.dataBuf.Bytes()[:0:c.dataBuf.Len()]
	return c
}

// reserve makes room for n more bytes; callers then append to c.data
// without reallocating (an append that did reallocate would detach the
// slice from the Arrow buffer, so every writer reserves first).
func (c *strCol) reserve(n int) {
	if len(c.data)+n <= cap(c.data) {
		return
	}
	used := len(c.data)
	c.dataBuf.Resize(max(2*cap(c.data), used+n))
	c.data = c.dataBuf.Bytes()[:used:c.dataBuf.Len()]
}

// end closes the current value.
func (c *strCol) end() {
	c.n++
	c.off[c.n] = int32(len(c.data))
}

func (c *strCol) add(b []byte) {
	c.reserve(len(b))
	c.data = append(c.data, b...)
	c.end()
}

func (c *strCol) addString(s string) {
	c.reserve(len(s))
	c.data = append(c.data, s...)
	c.end()
}

// addNumbered appends prefix followed by v zero-padded to nine digits
// ("Supplier#000000001").
func (c *strCol) addNumbered(prefix string, v int64) {
	c.reserve(len(prefix) + 20)
	c.data = append(c.data, prefix...)
	c.data = appendPadded(c.data, v, 9)
	c.end()
}

// array wraps the values written as a utf8 array and gives up the
// column's references to its buffers.
func (c *strCol) array() arrow.Array {
	d := array.NewData(arrow.BinaryTypes.String, c.n, []*memory.Buffer{nil, c.offBuf, c.dataBuf}, nil, 0, 0)
	defer d.Release()
	c.release()
	return array.MakeFromData(d)
}

func (c *strCol) release() {
	if c.offBuf != nil {
		c.offBuf.Release()
		c.dataBuf.Release()
		c.offBuf, c.dataBuf, c.off, c.data = nil, nil, nil, nil
	}
}

// textCol is a utf8 column of comments, which are windows of the text
// pool. Their bytes are copied when the batch is finished, a block at a
// time, after touching each window of the block: reads from random places
// of 300 MiB mostly miss the caches, and issued together the misses
// overlap instead of stalling the generator one by one.
type textCol struct {
	offBuf *memory.Buffer
	off    []int32
	src    []int32 // pool offset of each value
	n      int
	mem    memory.Allocator
}

func newTextCol(mem memory.Allocator, rows int) textCol {
	c := textCol{offBuf: memory.NewResizableBuffer(mem), src: make([]int32, rows), mem: mem}
	c.offBuf.Resize((rows + 1) * arrow.Int32SizeBytes)
	c.off = arrow.Int32Traits.CastFromBytes(c.offBuf.Bytes())[:rows+1]
	c.off[0] = 0
	return c
}

func (c *textCol) add(poolOff, n int32) {
	c.src[c.n] = poolOff
	c.n++
	c.off[c.n] = c.off[c.n-1] + n
}

// array copies the comments out of pool and wraps them as a utf8 array.
func (c *textCol) array(pool []byte) arrow.Array {
	dataBuf := memory.NewResizableBuffer(c.mem)
	dataBuf.Resize(int(c.off[c.n]))
	data := dataBuf.Bytes()
	const block = 128
	var touched byte
	for b := 0; b < c.n; b += block {
		e := min(b+block, c.n)
		for i := b; i < e; i++ {
			last := c.src[i] + c.off[i+1] - c.off[i]
			touched += pool[c.src[i]] + pool[last]
		}
		for i := b; i < e; i++ {
			copy(data[c.off[i]:c.off[i+1]], pool[c.src[i]:])
		}
	}
	runtime.KeepAlive(touched)
	d := array.NewData(arrow.BinaryTypes.String, c.n, []*memory.Buffer{nil, c.offBuf, dataBuf}, nil, 0, 0)
	defer d.Release()
	dataBuf.Release()
	c.offBuf.Release()
	c.offBuf, c.off, c.src = nil, nil, nil
	return array.MakeFromData(d)
}

// money converts a count of cents to a decimal(15,2) value.
func money(cents int64) decimal128.Num { return decimal128.FromI64(cents) }

// batchOf assembles the arrays into a record batch of table t; it takes
// over the arrays' references. Dictionary columns get dictionary fields.
func batchOf(t Table, rows int, cols []arrow.Array) arrow.RecordBatch {
	sc := schemas[t]
	for i, c := range cols {
		if c.DataType().ID() == arrow.DICTIONARY {
			fields := sc.Fields()
			fields[i].Type = c.DataType()
			sc = arrow.NewSchema(fields, nil)
		}
	}
	rec := array.NewRecordBatch(sc, cols, int64(rows))
	for _, c := range cols {
		c.Release()
	}
	return rec
}
