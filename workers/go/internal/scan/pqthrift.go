package scan

import (
	"errors"
	"fmt"
)

// Parquet page headers are Thrift structs in the compact protocol. The
// native column reader parses the few fields it needs itself and skips the
// rest (statistics, CRC, size statistics), so a page costs no allocation.

// Page types (parquet.thrift PageType).
const (
	pageData       = 0
	pageIndex      = 1
	pageDictionary = 2
	pageDataV2     = 3
)

// Encodings (parquet.thrift Encoding).
const (
	encPlain         = 0
	encPlainDict     = 2
	encRLE           = 3
	encBitPacked     = 4
	encRLEDictionary = 8
)

// pageHeader holds the fields of a Parquet PageHeader the reader uses.
type pageHeader struct {
	typ          int32
	uncompressed int32
	compressed   int32
	// Data, dictionary and V2 data pages.
	numValues int32
	encoding  int32
	// Data pages (V1).
	defEncoding int32
	repEncoding int32
	// V2 data pages.
	numNulls, numRows int32
	defLen, repLen    int32
	isCompressed      bool
	// Which of the page-type sub-headers were present.
	hasData, hasDict, hasV2 bool
}

// Thrift compact protocol type codes.
const (
	tBoolTrue  = 1
	tBoolFalse = 2
	tByte      = 3
	tI16       = 4
	tI32       = 5
	tI64       = 6
	tDouble    = 7
	tBinary    = 8
	tList      = 9
	tSet       = 10
	tMap       = 11
	tStruct    = 12
)

// maxThriftDepth bounds the nesting of skipped structures so that a corrupt
// header cannot recurse without end.
const maxThriftDepth = 64

var errShortHeader = errors.New("truncated page header")

// thriftReader decodes the compact protocol from a byte slice.
type thriftReader struct {
	b   []byte
	pos int
	err error
}

func (r *thriftReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *thriftReader) byte1() byte {
	if r.pos >= len(r.b) {
		r.fail(errShortHeader)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *thriftReader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.pos >= len(r.b) {
			r.fail(errShortHeader)
			return 0
		}
		c := r.b[r.pos]
		r.pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail(errors.New("page header: varint too long"))
	return 0
}

func (r *thriftReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *thriftReader) i32() int32 {
	v := r.varint()
	if v != int64(int32(v)) {
		r.fail(fmt.Errorf("page header: value %d out of 32-bit range", v))
	}
	return int32(v)
}

// field reads a field header: its id and type, stop at the end of a struct.
func (r *thriftReader) field(last *int16) (id int16, typ byte, stop bool) {
	c := r.byte1()
	if r.err != nil || c == 0 {
		return 0, 0, true
	}
	typ = c & 0x0f
	if delta := int16(c >> 4); delta != 0 {
		id = *last + delta
	} else {
		id = int16(r.varint())
	}
	*last = id
	return id, typ, false
}

// boolField returns the value of a boolean field, held in its type code.
func (r *thriftReader) boolField(typ byte) bool {
	switch typ {
	case tBoolTrue:
		return true
	case tBoolFalse:
		return false
	}
	r.fail(fmt.Errorf("page header: expected a boolean, found type %d", typ))
	return false
}

// i32Field reads an i32 field after checking its type.
func (r *thriftReader) i32Field(typ byte) int32 {
	if typ != tI32 {
		r.fail(fmt.Errorf("page header: expected an i32, found type %d", typ))
		r.skip(typ, 0)
		return 0
	}
	return r.i32()
}

// skip passes over a value of type typ.
func (r *thriftReader) skip(typ byte, depth int) {
	if depth > maxThriftDepth {
		r.fail(errors.New("page header: nested too deeply"))
		return
	}
	switch typ {
	case tBoolTrue, tBoolFalse:
	case tByte:
		r.byte1()
	case tI16, tI32, tI64:
		r.uvarint()
	case tDouble:
		r.advance(8)
	case tBinary:
		r.advance(int(r.uvarint()))
	case tList, tSet:
		h := r.byte1()
		size := int(h >> 4)
		if size == 15 {
			size = r.count()
		}
		et := h & 0x0f
		for i := 0; i < size && r.err == nil; i++ {
			r.skipElem(et, depth+1)
		}
	case tMap:
		size := r.count()
		if size == 0 {
			return
		}
		kv := r.byte1()
		for i := 0; i < size && r.err == nil; i++ {
			r.skipElem(kv>>4, depth+1)
			r.skipElem(kv&0x0f, depth+1)
		}
	case tStruct:
		var last int16
		for r.err == nil {
			_, t, stop := r.field(&last)
			if stop {
				return
			}
			r.skip(t, depth+1)
		}
	default:
		r.fail(fmt.Errorf("page header: unknown field type %d", typ))
	}
}

// skipElem passes over an element of a list, set or map, where booleans
// take a byte each.
func (r *thriftReader) skipElem(typ byte, depth int) {
	if typ == tBoolTrue || typ == tBoolFalse {
		r.byte1()
		return
	}
	r.skip(typ, depth)
}

// count reads the size of a collection; every element takes at least a
// byte, so a size beyond the bytes left is corrupt.
func (r *thriftReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.pos) {
		r.fail(errShortHeader)
		return 0
	}
	return int(n)
}

func (r *thriftReader) advance(n int) {
	if n < 0 || n > len(r.b)-r.pos {
		r.fail(errShortHeader)
		r.pos = len(r.b)
		return
	}
	r.pos += n
}

// parsePageHeader decodes a PageHeader at the start of b and returns it
// with its encoded length.
func parsePageHeader(b []byte) (pageHeader, int, error) {
	r := thriftReader{b: b}
	h := pageHeader{isCompressed: true}
	var last int16
	seen := 0
	for r.err == nil {
		id, typ, stop := r.field(&last)
		if stop {
			break
		}
		switch {
		case id == 1 && typ == tI32:
			h.typ = r.i32()
			seen |= 1
		case id == 2 && typ == tI32:
			h.uncompressed = r.i32()
			seen |= 2
		case id == 3 && typ == tI32:
			h.compressed = r.i32()
			seen |= 4
		case id == 5 && typ == tStruct:
			h.hasData = true
			r.dataPageHeader(&h)
		case id == 7 && typ == tStruct:
			h.hasDict = true
			r.dictPageHeader(&h)
		case id == 8 && typ == tStruct:
			h.hasV2 = true
			r.dataPageHeaderV2(&h)
		default:
			r.skip(typ, 0)
		}
	}
	if r.err != nil {
		return h, 0, r.err
	}
	if seen != 7 {
		return h, 0, errors.New("page header lacks its type or sizes")
	}
	if h.uncompressed < 0 || h.compressed < 0 {
		return h, 0, fmt.Errorf("page header has negative sizes (%d, %d)", h.compressed, h.uncompressed)
	}
	return h, r.pos, nil
}

func (r *thriftReader) dataPageHeader(h *pageHeader) {
	var last int16
	for r.err == nil {
		id, typ, stop := r.field(&last)
		if stop {
			return
		}
		switch id {
		case 1:
			h.numValues = r.i32Field(typ)
		case 2:
			h.encoding = r.i32Field(typ)
		case 3:
			h.defEncoding = r.i32Field(typ)
		case 4:
			h.repEncoding = r.i32Field(typ)
		default:
			r.skip(typ, 1)
		}
	}
}

func (r *thriftReader) dictPageHeader(h *pageHeader) {
	var last int16
	for r.err == nil {
		id, typ, stop := r.field(&last)
		if stop {
			return
		}
		switch id {
		case 1:
			h.numValues = r.i32Field(typ)
		case 2:
			h.encoding = r.i32Field(typ)
		default:
			r.skip(typ, 1)
		}
	}
}

func (r *thriftReader) dataPageHeaderV2(h *pageHeader) {
	var last int16
	for r.err == nil {
		id, typ, stop := r.field(&last)
		if stop {
			return
		}
		switch id {
		case 1:
			h.numValues = r.i32Field(typ)
		case 2:
			h.numNulls = r.i32Field(typ)
		case 3:
			h.numRows = r.i32Field(typ)
		case 4:
			h.encoding = r.i32Field(typ)
		case 5:
			h.defLen = r.i32Field(typ)
		case 6:
			h.repLen = r.i32Field(typ)
		case 7:
			h.isCompressed = r.boolField(typ)
		default:
			r.skip(typ, 1)
		}
	}
}
