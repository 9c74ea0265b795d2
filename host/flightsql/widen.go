package flightsql

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Flight SQL clients other than Go's (the Java JDBC driver, the C++ based
// ones) read only 128- and 256-bit decimals, while the engine keeps
// narrow decimals as Decimal32 and Decimal64 (Parquet files store them
// so). What this server sends is widened to Decimal128 with the same
// precision and scale: the values are unchanged.

// wide is the type a column of type t is sent as.
func wide(t arrow.DataType) (arrow.DataType, bool) {
	switch d := t.(type) {
	case *arrow.Decimal32Type:
		return &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}, true
	case *arrow.Decimal64Type:
		return &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}, true
	}
	return t, false
}

// widenSchema is s with narrow decimals widened (s itself when it has
// none).
func widenSchema(s *arrow.Schema) *arrow.Schema {
	if s == nil {
		return nil
	}
	var fields []arrow.Field
	for i, f := range s.Fields() {
		if t, ok := wide(f.Type); ok {
			if fields == nil {
				fields = append([]arrow.Field(nil), s.Fields()...)
			}
			fields[i].Type = t
		}
	}
	if fields == nil {
		return s
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// widenBatch is b in the schema out (from widenSchema): b itself,
// retained, when nothing changes; the caller releases the result.
func widenBatch(mem memory.Allocator, b arrow.RecordBatch, out *arrow.Schema) arrow.RecordBatch {
	if out == b.Schema() || out.Equal(b.Schema()) {
		b.Retain()
		return b
	}
	cols := make([]arrow.Array, b.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range b.Columns() {
		cols[i] = widenArray(mem, c, out.Field(i).Type)
	}
	return array.NewRecordBatch(out, cols, b.NumRows())
}

// widenArray converts one column; the caller releases the result.
func widenArray(mem memory.Allocator, c arrow.Array, to arrow.DataType) arrow.Array {
	var get func(int) decimal128.Num
	switch a := c.(type) {
	case *array.Decimal32:
		get = func(i int) decimal128.Num { return decimal128.FromI64(int64(a.Value(i))) }
	case *array.Decimal64:
		get = func(i int) decimal128.Num { return decimal128.FromI64(int64(a.Value(i))) }
	default:
		c.Retain()
		return c
	}
	bld := array.NewDecimal128Builder(mem, to.(*arrow.Decimal128Type))
	defer bld.Release()
	bld.Reserve(c.Len())
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			bld.AppendNull()
		} else {
			bld.UnsafeAppend(get(i))
		}
	}
	return bld.NewArray()
}
