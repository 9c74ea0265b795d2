package native

import (
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// validateResult checks the parts of a result the C Data importer takes on
// trust and the engine would trip over later: the offsets of strings and
// binaries (non-negative, non-decreasing, inside the values buffer), the
// UTF-8 of strings, the views of view types. The importer already sized
// every buffer from the length, the offset and the last offset.
func validateResult(a arrow.Array) (err error) {
	// A malformed array can make arrow-go's own validators index out of
	// range; that is the library's fault, reported as such.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed array: %v", r)
		}
	}()
	d := a.Data()
	switch a.(type) {
	case *array.String:
		return checkOffsets(arrow.Int32Traits.CastFromBytes(bufferBytes(d, 1)), d, true)
	case *array.Binary:
		return checkOffsets(arrow.Int32Traits.CastFromBytes(bufferBytes(d, 1)), d, false)
	case *array.LargeString:
		return checkOffsets(arrow.Int64Traits.CastFromBytes(bufferBytes(d, 1)), d, true)
	case *array.LargeBinary:
		return checkOffsets(arrow.Int64Traits.CastFromBytes(bufferBytes(d, 1)), d, false)
	case interface{ ValidateFull() error }:
		return a.(interface{ ValidateFull() error }).ValidateFull()
	}
	return nil
}

func bufferBytes(d arrow.ArrayData, i int) []byte {
	if b := d.Buffers()[i]; b != nil {
		return b.Bytes()
	}
	return nil
}

func checkOffsets[T int32 | int64](offsets []T, d arrow.ArrayData, utf bool) error {
	n := d.Len()
	if n == 0 {
		return nil
	}
	off := d.Offset()
	if len(offsets) < off+n+1 {
		return fmt.Errorf("%d offsets, want %d", len(offsets), off+n+1)
	}
	offsets = offsets[off : off+n+1]
	values := bufferBytes(d, 2)
	if offsets[0] < 0 {
		return fmt.Errorf("row 0: negative offset %d", offsets[0])
	}
	for i := 1; i <= n; i++ {
		lo, hi := offsets[i-1], offsets[i]
		if hi < lo {
			return fmt.Errorf("row %d: offsets go backwards (%d then %d)", i-1, lo, hi)
		}
		if int64(hi) > int64(len(values)) {
			return fmt.Errorf("row %d: offset %d past the end of the values (%d bytes)", i-1, hi, len(values))
		}
		if utf && !utf8.Valid(values[lo:hi]) {
			return fmt.Errorf("row %d: not valid UTF-8", i-1)
		}
	}
	return nil
}
