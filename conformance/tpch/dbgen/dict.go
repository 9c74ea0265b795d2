package dbgen

import (
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Low-cardinality text columns (flags, modes, priorities, part types...)
// are generated as indices into a fixed list of their values. GenerateBatch
// turns them into utf8; the Parquet writer passes them on as dictionary
// arrays, which it writes as dictionary pages and indices directly instead
// of hashing every string.

// dictionary is the value list of one low-cardinality column.
type dictionary struct {
	values []string
	once   sync.Once
	arr    arrow.Array // utf8 array of values, built once, never released
	typ    *arrow.DictionaryType
}

func newDictionary(values ...string) *dictionary {
	if len(values) > 1<<15 {
		panic(fmt.Sprintf("dbgen: dictionary of %d values", len(values)))
	}
	return &dictionary{values: values, typ: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}}
}

// array returns the values as a shared utf8 array (borrowed: callers
// retain what they keep).
func (d *dictionary) array() arrow.Array {
	d.once.Do(func() {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(d.values, nil)
		d.arr = b.NewArray()
	})
	return d.arr
}

func (d *dictionary) maxLen() int {
	n := 0
	for _, v := range d.values {
		n = max(n, len(v))
	}
	return n
}

var (
	returnFlagDict  = newDictionary(append(append([]string{}, dists.returnFlags.values...), "N")...)
	returnFlagNo    = int16(len(dists.returnFlags.values)) // index of "N"
	lineStatusDict  = newDictionary("F", "O")
	orderStatusDict = newDictionary("F", "O", "P")
	instructionDict = newDictionary(dists.instructions.values...)
	shipModeDict    = newDictionary(dists.shipModes.values...)
	priorityDict    = newDictionary(dists.priorities.values...)
	segmentDict     = newDictionary(dists.segments.values...)
	typeDict        = newDictionary(dists.types.values...)
	containerDict   = newDictionary(dists.containers.values...)
	mfgrDict        = newDictionary(numbered("Manufacturer#", 1, 5, 1)...)
	brandDict       = newDictionary(brands()...)
)

// Line and order statuses, as indices of their dictionaries.
const (
	statusF int16 = iota
	statusO
	statusP
)

func numbered(prefix string, from, to, step int) []string {
	var out []string
	for i := from; i <= to; i += step {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// brands lists Brand#11 .. Brand#55: manufacturer then brand digit.
func brands() []string {
	var out []string
	for m := 1; m <= 5; m++ {
		out = append(out, numbered(fmt.Sprintf("Brand#%d", m), 1, 5, 1)...)
	}
	return out
}

// dictCol is a low-cardinality text column held as dictionary indices.
type dictCol struct {
	buf  *memory.Buffer
	v    []int16
	dict *dictionary
}

func newDictCol(mem memory.Allocator, rows int, dict *dictionary) dictCol {
	c := newFixedCol(mem, rows, arrow.Int16Traits.CastFromBytes, arrow.Int16SizeBytes)
	return dictCol{buf: c.buf, v: c.v, dict: dict}
}

// array returns the first n values, as a dictionary array when asDict, else
// materialised as utf8; the column gives up its buffer.
func (c *dictCol) array(mem memory.Allocator, n int, asDict bool) arrow.Array {
	defer func() {
		c.buf.Release()
		c.buf, c.v = nil, nil
	}()
	if asDict {
		idx := array.NewData(arrow.PrimitiveTypes.Int16, n, []*memory.Buffer{nil, c.buf}, nil, 0, 0)
		defer idx.Release()
		d := array.NewData(c.dict.typ, n, idx.Buffers(), nil, 0, 0)
		d.SetDictionary(c.dict.array().Data())
		defer d.Release()
		return array.MakeFromData(d)
	}
	total := 0
	for _, i := range c.v[:n] {
		total += len(c.dict.values[i])
	}
	s := newStrCol(mem, n, total)
	for _, i := range c.v[:n] {
		s.addString(c.dict.values[i])
	}
	return s.array()
}
