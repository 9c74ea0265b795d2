// Package nulls applies NULL-on-NULL to the results of user-defined
// functions (plugin and native ones alike): a row is NULL when any
// argument is.
package nulls

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Mask returns res with every row NULL where an argument is NULL; res
// (rows long) is consumed. Results without a NULL argument come back as
// they are.
func Mask(mem memory.Allocator, res arrow.Array, args []arrow.Array, rows int) arrow.Array {
	if res.DataType().ID() == arrow.NULL {
		return res
	}
	var nullable []arrow.Array
	for _, a := range args {
		if a.NullN() > 0 {
			nullable = append(nullable, a)
		}
	}
	if len(nullable) == 0 {
		return res
	}
	d := res.Data()
	off := int64(d.Offset())
	n := int64(rows)
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(int(bitutil.BytesForBits(off + n)))
	bits := buf.Bytes()
	if vb := d.Buffers()[0]; vb != nil && res.NullN() > 0 {
		copy(bits, vb.Bytes())
	} else {
		bitutil.SetBitsTo(bits, off, n, true)
	}
	for _, a := range nullable {
		ad := a.Data()
		// In place (left and out are the same bitmap at the same offset):
		// AND is idempotent, so whether a word is read before or after it
		// is written, the result is the same.
		bitutil.BitmapAnd(bits, ad.Buffers()[0].Bytes(), off, int64(ad.Offset()), bits, off, n)
	}
	buffers := append([]*memory.Buffer{buf}, d.Buffers()[1:]...)
	// The null count now, not lazily: a lazy count is computed on first
	// use without synchronisation, a race if the result is shared.
	count := rows - bitutil.CountSetBits(bits, int(off), rows)
	nd := array.NewData(d.DataType(), rows, buffers, d.Children(), count, int(off))
	defer nd.Release()
	res.Release()
	return array.MakeFromData(nd)
}
