package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// The native column reader decodes flat Parquet columns (fixed-width
// numbers, dates, integer-backed decimals and byte arrays; required or
// optional) straight into Arrow buffers. It keeps a column chunk's
// dictionary decoded once, reads dictionary indices with a branch-free bit
// unpacker, and materialises only the rows a batch's selection keeps.

// colKind is how the values of a column are laid out.
type colKind uint8

const (
	// kindFixed: fixed-width values stored as they are in memory.
	kindFixed colKind = iota
	// kindWiden: INT32 in the file, int64 in memory (decimals).
	kindWiden
	// kindBinary: BYTE_ARRAY values, as utf8 or binary.
	kindBinary
)

// nativeKind reports whether the native reader decodes column c, whose
// leaf is descr, and how.
func nativeKind(c *pqColumn, descr *schema.Column) (colKind, int, bool) {
	if c.leaf < 0 || descr.MaxRepetitionLevel() != 0 || descr.MaxDefinitionLevel() > 1 {
		return 0, 0, false
	}
	out, file := c.outType.ID(), c.fileType.ID()
	switch descr.PhysicalType() {
	case parquet.Types.Int32:
		switch {
		case out == arrow.INT32 && file == arrow.INT32, out == arrow.UINT32 && file == arrow.UINT32,
			out == arrow.DATE32 && file == arrow.DATE32:
			return kindFixed, 4, true
		case out == arrow.DECIMAL64 && isDecimal(file):
			return kindWiden, 8, true
		}
	case parquet.Types.Int64:
		switch {
		case out == arrow.INT64 && file == arrow.INT64, out == arrow.UINT64 && file == arrow.UINT64,
			out == arrow.DECIMAL64 && isDecimal(file):
			return kindFixed, 8, true
		case out == arrow.TIMESTAMP && file == arrow.TIMESTAMP:
			if c.fileType.(*arrow.TimestampType).Unit == c.outType.(*arrow.TimestampType).Unit {
				return kindFixed, 8, true
			}
		}
	case parquet.Types.Float:
		if out == arrow.FLOAT32 && file == arrow.FLOAT32 {
			return kindFixed, 4, true
		}
	case parquet.Types.Double:
		if out == arrow.FLOAT64 && file == arrow.FLOAT64 {
			return kindFixed, 8, true
		}
	case parquet.Types.ByteArray:
		if out == arrow.STRING || out == arrow.BINARY {
			return kindBinary, 0, true
		}
	}
	return 0, 0, false
}

func isDecimal(id arrow.Type) bool {
	return id == arrow.DECIMAL32 || id == arrow.DECIMAL64 || id == arrow.DECIMAL128 || id == arrow.DECIMAL256
}

// nativeChunk reports whether the native reader can read column chunk cc:
// not encrypted, in this file, with a known codec and encodings it decodes.
func nativeChunk(cc *metadata.ColumnChunkMetaData) bool {
	if cc.CryptoMetadata() != nil || cc.FilePath() != "" {
		return false
	}
	if _, err := compress.GetCodec(cc.Compression()); err != nil {
		return false
	}
	for _, e := range cc.Encodings() {
		switch e {
		case parquet.Encodings.Plain, parquet.Encodings.PlainDict, parquet.Encodings.RLEDict,
			parquet.Encodings.RLE, parquet.Encodings.BitPacked:
		default:
			return false
		}
	}
	return true
}

// colReader reads one column of a row group at a time.
type colReader struct {
	pool   *bufferPool
	typ    arrow.DataType
	kind   colKind
	width  int // bytes per value in memory (fixed kinds)
	maxDef int16

	pages    chunkPages
	rowsLeft int64 // rows of the row group not yet decoded or skipped

	// The chunk's dictionary. Slot dictN is an extra zero (empty) value
	// that null rows point to.
	hasDict  bool
	dictN    int
	dictVals []byte  // fixed: (dictN+1)*width bytes
	dictOffs []int32 // binary: dictN+2 offsets into dictData
	dictData []byte  // followed by copySlack bytes of capacity
	// dictShort: every value of the dictionary is at most copySlack bytes.
	dictShort bool
	dictGen   int // counts dictionaries, to key caches on

	// The current data page.
	pageLeft int // rows
	pageDict bool
	idx      rleDecoder
	lvl      levelDecoder
	plain    []byte // the page's PLAIN values not yet read

	// The decoded batch.
	n        int
	pending  int // rows of the current batch, to decode or skip
	decoded  bool
	dictMode bool    // rows are indices into the dictionary (bidx)
	bidx     []int32 // dictMode: per row, dictN for nulls
	bvals    []byte  // fixed plain values, n*width (from pool)
	boffs    []byte  // binary plain offsets, (n+1) int32 (from pool)
	bdata    []byte  // binary plain data (from pool), bdataLen used
	bdataLen int
	valid    []byte // validity bits of the batch when nulls > 0
	nulls    int

	tmp      []int32
	skipBits []byte
}

func newColReader(pool *bufferPool, typ arrow.DataType, kind colKind, width int, maxDef int16) *colReader {
	return &colReader{pool: pool, typ: typ, kind: kind, width: width, maxDef: maxDef, pages: chunkPages{pool: pool}}
}

// release returns every pooled buffer.
func (c *colReader) release() {
	c.pages.release()
	c.pool.freeRaw(c.bvals)
	c.pool.freeRaw(c.boffs)
	c.pool.freeRaw(c.bdata)
	c.bvals, c.boffs, c.bdata = nil, nil, nil
}

// startRowGroup loads the column's chunk of a row group of rows rows.
func (c *colReader) startRowGroup(r io.ReaderAt, meta *metadata.FileMetaData, cc *metadata.ColumnChunkMetaData, rows int64) error {
	if err := c.pages.load(r, meta, cc); err != nil {
		return err
	}
	c.rowsLeft = rows
	c.hasDict = false
	c.pageLeft = 0
	c.decoded = false
	return nil
}

var errFewerRows = errors.New("column chunk holds fewer rows than its row group")

// nextPage makes the next data page current, reading a dictionary page on
// the way. Up to skip rows may be passed over in whole pages; it returns
// how many were.
func (c *colReader) nextPage(skip int) (int, error) {
	skipped := 0
	for {
		p, s, err := c.pages.next(skip-skipped, true)
		skipped += s
		if err == io.EOF {
			if skip > 0 && skipped == skip {
				// The skipped pages were the last.
				return skipped, nil
			}
			return skipped, errFewerRows
		}
		if err != nil {
			return skipped, err
		}
		if p.hdr.typ == pageDictionary {
			if err := c.readDictionary(p); err != nil {
				return skipped, err
			}
			continue
		}
		return skipped, c.startPage(p)
	}
}

// readDictionary decodes a dictionary page.
func (c *colReader) readDictionary(p dataPage) error {
	if p.hdr.encoding != encPlain && p.hdr.encoding != encPlainDict {
		return fmt.Errorf("dictionary page has unsupported encoding %d", p.hdr.encoding)
	}
	n := int(p.hdr.numValues)
	data := p.values
	switch c.kind {
	case kindFixed, kindWiden:
		phys := c.width
		if c.kind == kindWiden {
			phys = 4
		}
		if len(data) < n*phys {
			return fmt.Errorf("dictionary page holds %d bytes for %d values", len(data), n)
		}
		c.dictVals = grow(c.dictVals, (n+1)*c.width)
		if c.kind == kindWiden {
			d := i64s(c.dictVals)
			for i := range n {
				d[i] = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
			}
		} else {
			copy(c.dictVals, data[:n*phys])
		}
		clear(c.dictVals[n*c.width:])
	case kindBinary:
		c.dictOffs = grow(c.dictOffs, n+2)
		c.dictData = grow(c.dictData, len(data)+copySlack)[:0]
		pos := 0
		for i := range n {
			c.dictOffs[i] = int32(len(c.dictData))
			if len(data)-pos < 4 {
				return errors.New("dictionary page ends early")
			}
			l := int(binary.LittleEndian.Uint32(data[pos:]))
			pos += 4
			if l < 0 || l > len(data)-pos {
				return errors.New("dictionary page ends early")
			}
			c.dictData = append(c.dictData, data[pos:pos+l]...)
			pos += l
		}
		c.dictOffs[n] = int32(len(c.dictData))
		c.dictOffs[n+1] = c.dictOffs[n]
		// Room to read a whole copy block at the last value.
		end := len(c.dictData)
		c.dictData = append(c.dictData, make([]byte, copySlack)...)[:end]
		c.dictShort = true
		for i := range n {
			if c.dictOffs[i+1]-c.dictOffs[i] > copySlack {
				c.dictShort = false
				break
			}
		}
	}
	c.hasDict = true
	c.dictN = n
	c.dictGen++
	return nil
}

// startPage prepares a data page for decoding.
func (c *colReader) startPage(p dataPage) error {
	h := p.hdr
	rows := int(h.numValues)
	values := p.values
	if h.typ == pageDataV2 {
		if h.numRows != h.numValues {
			return fmt.Errorf("data page (v2) has %d values in %d rows in a flat column", h.numValues, h.numRows)
		}
		if c.maxDef > 0 {
			if err := c.lvl.reset(p.levels, encRLE); err != nil {
				return err
			}
		}
	} else if c.maxDef > 0 {
		switch h.defEncoding {
		case encRLE:
			if len(values) < 4 {
				return errors.New("data page ends in its definition levels")
			}
			l := int(binary.LittleEndian.Uint32(values))
			if l < 0 || l > len(values)-4 {
				return errors.New("data page ends in its definition levels")
			}
			if err := c.lvl.reset(values[4:4+l], encRLE); err != nil {
				return err
			}
			values = values[4+l:]
		case encBitPacked:
			l := (rows + 7) / 8
			if l > len(values) {
				return errors.New("data page ends in its definition levels")
			}
			if err := c.lvl.reset(values[:l], encBitPacked); err != nil {
				return err
			}
			values = values[l:]
		default:
			return fmt.Errorf("unsupported definition level encoding %d", h.defEncoding)
		}
	}
	switch h.encoding {
	case encPlain:
		c.pageDict = false
		c.plain = values
	case encPlainDict, encRLEDictionary:
		if !c.hasDict {
			return errors.New("dictionary-encoded page without a dictionary page")
		}
		c.pageDict = true
		if len(values) == 0 {
			// Every value is null.
			_ = c.idx.reset(nil, 0)
		} else if err := c.idx.reset(values[1:], int(values[0])); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported page encoding %d", h.encoding)
	}
	c.pageLeft = rows
	return nil
}

// prepare sizes the batch buffers for n rows.
func (c *colReader) prepare(n int) {
	c.n, c.nulls, c.bdataLen = n, 0, 0
	c.bidx = grow(c.bidx, n)
	if c.maxDef > 0 {
		c.valid = grow(c.valid, int(bitutil.BytesForBits(int64(n))))
	}
}

// decode decodes the next n rows of the row group into the batch.
func (c *colReader) decode(n int) error {
	if int64(n) > c.rowsLeft {
		return errFewerRows
	}
	c.prepare(n)
	row := 0
	for row < n {
		if c.pageLeft == 0 {
			if _, err := c.nextPage(0); err != nil {
				return err
			}
			continue
		}
		k := min(c.pageLeft, n-row)
		nn := k
		if c.maxDef > 0 {
			var err error
			if nn, err = c.lvl.valid(k, c.valid, row); err != nil {
				return fmt.Errorf("definition levels: %w", err)
			}
			c.nulls += k - nn
		}
		if row == 0 {
			c.dictMode = c.pageDict
			if !c.dictMode {
				c.ensurePlain(n)
			}
		}
		var err error
		switch {
		case c.pageDict && c.dictMode:
			err = c.decodeIndices(c.bidx[row:row+k], nn, row)
		case c.pageDict:
			// A dictionary page after plain ones in the same batch: resolve
			// the indices to values.
			c.tmp = grow(c.tmp, k)
			if err = c.decodeIndices(c.tmp[:k], nn, row); err == nil {
				c.gatherPlain(row, c.tmp[:k])
			}
		default:
			if c.dictMode {
				// The chunk fell back from dictionary to plain encoding in
				// this batch: resolve the rows so far to values.
				c.ensurePlain(n)
				c.gatherPlain(0, c.bidx[:row])
				c.dictMode = false
			}
			err = c.decodePlain(row, k, nn)
		}
		if err != nil {
			return err
		}
		row += k
		c.pageLeft -= k
		c.rowsLeft -= int64(k)
	}
	c.decoded = true
	return nil
}

// rowValid reports whether row i of the batch is not null.
func (c *colReader) rowValid(i int) bool {
	return c.nulls == 0 || c.valid[i>>3]>>uint(i&7)&1 != 0
}

// decodeIndices decodes nn indices for the k rows of out, which start at
// batch row row, and spreads them over the non-null rows; null rows get the
// zero slot dictN.
func (c *colReader) decodeIndices(out []int32, nn, row int) error {
	if nn > 0 {
		hi, err := c.idx.decode(out[:nn])
		if err != nil {
			return fmt.Errorf("dictionary indices: %w", err)
		}
		if int(hi) >= c.dictN {
			return fmt.Errorf("dictionary index %d out of range for a dictionary of %d values", hi, c.dictN)
		}
	}
	if nn < len(out) {
		j := nn - 1
		for i := len(out) - 1; i >= 0; i-- {
			if j >= 0 && c.rowValid(row+i) {
				out[i] = out[j]
				j--
			} else {
				out[i] = int32(c.dictN)
			}
		}
	}
	return nil
}

// ensurePlain sizes the plain value buffers for n rows.
func (c *colReader) ensurePlain(n int) {
	if c.kind == kindBinary {
		c.boffs = c.growPooled(c.boffs, 4*(n+1), 0)
		i32s(c.boffs)[0] = 0
		if c.bdata == nil {
			c.bdata = c.pool.allocRaw(4096)
		}
		return
	}
	c.bvals = c.growPooled(c.bvals, n*c.width, 0)
}

// growPooled returns a pooled buffer of at least size bytes, keeping the
// first keep bytes of b.
func (c *colReader) growPooled(b []byte, size, keep int) []byte {
	if cap(b) >= size && b != nil {
		return b[:size]
	}
	nb := c.pool.allocRaw(max(size, 64))
	copy(nb, b[:keep])
	c.pool.freeRaw(b)
	return nb[:size]
}

// gatherPlain writes the values of dictionary indices idx to the plain
// buffers from batch row row.
func (c *colReader) gatherPlain(row int, idx []int32) {
	if c.kind == kindBinary {
		offs := i32s(c.boffs)
		for i, x := range idx {
			v := c.dictData[c.dictOffs[x]:c.dictOffs[x+1]]
			c.appendData(v)
			offs[row+i+1] = int32(c.bdataLen)
		}
		return
	}
	dst := c.bvals[row*c.width : (row+len(idx))*c.width]
	gatherFixed(dst, c.dictVals, c.width, idx)
}

// appendData appends v to the binary data buffer, growing it from the
// pool.
func (c *colReader) appendData(v []byte) {
	if c.bdataLen+len(v) > len(c.bdata) {
		c.bdata = c.growPooled(c.bdata, max(2*cap(c.bdata), c.bdataLen+len(v)), c.bdataLen)
		c.bdata = c.bdata[:cap(c.bdata)]
	}
	c.bdataLen += copy(c.bdata[c.bdataLen:], v)
}

// decodePlain reads nn PLAIN values for k rows from batch row row.
func (c *colReader) decodePlain(row, k, nn int) error {
	switch c.kind {
	case kindBinary:
		offs := i32s(c.boffs)
		for i := range k {
			if nn < k && !c.rowValid(row+i) {
				offs[row+i+1] = int32(c.bdataLen)
				continue
			}
			if len(c.plain) < 4 {
				return errors.New("data page ends early")
			}
			l := int(binary.LittleEndian.Uint32(c.plain))
			if l < 0 || l > len(c.plain)-4 {
				return errors.New("data page ends early")
			}
			c.appendData(c.plain[4 : 4+l])
			c.plain = c.plain[4+l:]
			offs[row+i+1] = int32(c.bdataLen)
		}
		if c.bdataLen > 1<<31-1 {
			return errors.New("batch of more than 2 GiB of string data")
		}
		return nil
	case kindWiden:
		if len(c.plain) < 4*nn {
			return errors.New("data page ends early")
		}
		d := i64s(c.bvals[row*8 : (row+k)*8])
		for i := range nn {
			d[i] = int64(int32(binary.LittleEndian.Uint32(c.plain[4*i:])))
		}
		c.plain = c.plain[4*nn:]
	default:
		w := c.width
		if len(c.plain) < w*nn {
			return errors.New("data page ends early")
		}
		copy(c.bvals[row*w:], c.plain[:w*nn])
		c.plain = c.plain[w*nn:]
	}
	if nn < k {
		// Spread the values over the non-null rows, from the back.
		w := c.width
		seg := c.bvals[row*w : (row+k)*w]
		j := nn - 1
		for i := k - 1; i >= 0; i-- {
			if j >= 0 && c.rowValid(row+i) {
				copy(seg[i*w:(i+1)*w], seg[j*w:(j+1)*w])
				j--
			} else {
				clear(seg[i*w : (i+1)*w])
			}
		}
	}
	return nil
}

// skip passes over the next n rows of the row group.
func (c *colReader) skip(n int) error {
	if int64(n) > c.rowsLeft {
		return errFewerRows
	}
	c.decoded = false
	for n > 0 {
		if c.pageLeft == 0 {
			s, err := c.nextPage(n)
			n -= s
			c.rowsLeft -= int64(s)
			if err != nil {
				return err
			}
			continue
		}
		k := min(c.pageLeft, n)
		nn := k
		if c.maxDef > 0 {
			c.skipBits = grow(c.skipBits, int(bitutil.BytesForBits(int64(k))))
			var err error
			if nn, err = c.lvl.valid(k, c.skipBits, 0); err != nil {
				return fmt.Errorf("definition levels: %w", err)
			}
		}
		if c.pageDict {
			if err := c.idx.skip(nn); err != nil {
				return fmt.Errorf("dictionary indices: %w", err)
			}
		} else if c.kind == kindBinary {
			for range nn {
				if len(c.plain) < 4 {
					return errors.New("data page ends early")
				}
				l := int(binary.LittleEndian.Uint32(c.plain))
				if l < 0 || l > len(c.plain)-4 {
					return errors.New("data page ends early")
				}
				c.plain = c.plain[4+l:]
			}
		} else {
			w := c.width
			if c.kind == kindWiden {
				w = 4
			}
			if len(c.plain) < w*nn {
				return errors.New("data page ends early")
			}
			c.plain = c.plain[w*nn:]
		}
		c.pageLeft -= k
		c.rowsLeft -= int64(k)
		n -= k
	}
	return nil
}

// materialize returns the decoded batch's rows sel (all rows when sel is
// nil) as an Arrow array. Unless keep is set, the batch's buffers may be
// handed to the array, after which the batch must be decoded anew.
func (c *colReader) materialize(sel []int32, keep bool) arrow.Array {
	cnt := c.n
	if sel != nil {
		cnt = len(sel)
	}
	var vbuf *memory.Buffer
	nulls := 0
	if c.nulls > 0 {
		vb := c.pool.allocRaw(int(bitutil.BytesForBits(int64(cnt))))
		if sel == nil {
			copy(vb, c.valid)
			nulls = c.nulls
		} else {
			clear(vb)
			for i, s := range sel {
				if c.rowValid(int(s)) {
					vb[i>>3] |= 1 << uint(i&7)
				} else {
					nulls++
				}
			}
		}
		if nulls > 0 {
			vbuf = memory.NewBufferWithAllocator(vb, c.pool)
		} else {
			c.pool.Free(vb)
		}
	}
	var bufs []*memory.Buffer
	if c.kind == kindBinary {
		bufs = c.materializeBinary(sel, cnt, keep)
	} else {
		bufs = []*memory.Buffer{nil, c.materializeFixed(sel, cnt, keep)}
	}
	bufs[0] = vbuf
	data := array.NewData(c.typ, cnt, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(data)
	data.Release()
	return a
}

func (c *colReader) materializeFixed(sel []int32, cnt int, keep bool) *memory.Buffer {
	w := c.width
	if !c.dictMode && sel == nil && !keep {
		b := c.bvals[:cnt*w]
		c.bvals = nil
		return memory.NewBufferWithAllocator(b, c.pool)
	}
	out := c.pool.allocRaw(max(cnt*w, 1))[:cnt*w]
	switch {
	case c.dictMode && sel == nil:
		gatherFixed(out, c.dictVals, w, c.bidx[:cnt])
	case c.dictMode:
		gatherFixedSel(out, c.dictVals, w, c.bidx, sel)
	case sel == nil:
		copy(out, c.bvals[:cnt*w])
	default:
		gatherFixedSel(out, c.bvals, w, nil, sel)
	}
	return memory.NewBufferWithAllocator(out, c.pool)
}

func (c *colReader) materializeBinary(sel []int32, cnt int, keep bool) []*memory.Buffer {
	if !c.dictMode && sel == nil && !keep {
		offs := memory.NewBufferWithAllocator(c.boffs[:4*(cnt+1)], c.pool)
		data := memory.NewBufferWithAllocator(c.bdata[:c.bdataLen], c.pool)
		c.boffs, c.bdata, c.bdataLen = nil, nil, 0
		return []*memory.Buffer{nil, offs, data}
	}
	// rows lists the source rows: dictionary indices, or batch rows.
	var rows []int32
	var srcOffs []int32
	var srcData []byte
	switch {
	case c.dictMode && sel == nil:
		rows = c.bidx[:cnt]
	case c.dictMode:
		c.tmp = grow(c.tmp, cnt)
		rows = c.tmp[:cnt]
		for i, r := range sel {
			rows[i] = c.bidx[r]
		}
	case sel == nil:
		rows = c.tmp[:0]
		for i := range cnt {
			rows = append(rows, int32(i))
		}
		c.tmp = rows
	default:
		rows = sel
	}
	short := false
	if c.dictMode {
		srcOffs, srcData = c.dictOffs, c.dictData
		short = c.dictShort
	} else {
		srcOffs, srcData = i32s(c.boffs), c.bdata
	}
	ob := c.pool.allocRaw(4 * (cnt + 1))
	offs := i32s(ob)[:cnt+1]
	var total int32
	offs[0] = 0
	for i, r := range rows {
		total += srcOffs[r+1] - srcOffs[r]
		offs[i+1] = total
	}
	db := c.pool.allocRaw(int(total) + copySlack)
	if short {
		// Every value fits in copySlack bytes and the dictionary's data
		// is followed by copySlack readable bytes: copy a fixed-size
		// block per value. Each block's tail is overwritten by the next
		// value, and the last one lands in db's slack.
		dst := unsafe.Pointer(unsafe.SliceData(db))
		src := unsafe.Pointer(unsafe.SliceData(srcData))
		for i, r := range rows {
			*(*[copySlack]byte)(unsafe.Add(dst, offs[i])) = *(*[copySlack]byte)(unsafe.Add(src, srcOffs[r]))
		}
	} else {
		for i, r := range rows {
			copy(db[offs[i]:offs[i+1]], srcData[srcOffs[r]:srcOffs[r+1]])
		}
	}
	return []*memory.Buffer{nil, memory.NewBufferWithAllocator(ob, c.pool), memory.NewBufferWithAllocator(db[:total], c.pool)}
}

// copySlack is the block size for copying short dictionary strings.
const copySlack = 16

// view returns the decoded batch as an array borrowing the reader's
// buffers, valid until the next decode; only for plain batches.
func (c *colReader) view() arrow.Array {
	var vbuf *memory.Buffer
	if c.nulls > 0 {
		vbuf = memory.NewBufferBytes(c.valid)
	}
	var bufs []*memory.Buffer
	if c.kind == kindBinary {
		bufs = []*memory.Buffer{vbuf, memory.NewBufferBytes(c.boffs[:4*(c.n+1)]), memory.NewBufferBytes(c.bdata[:c.bdataLen])}
	} else {
		bufs = []*memory.Buffer{vbuf, memory.NewBufferBytes(c.bvals[:c.n*c.width])}
	}
	data := array.NewData(c.typ, c.n, bufs, nil, c.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// dictView returns the chunk's dictionary values (without the null slot)
// as an array borrowing the reader's buffers.
func (c *colReader) dictView() arrow.Array {
	var bufs []*memory.Buffer
	if c.kind == kindBinary {
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c.dictOffs))), 4*(c.dictN+1))), memory.NewBufferBytes(c.dictData)}
	} else {
		bufs = []*memory.Buffer{nil, memory.NewBufferBytes(c.dictVals[:c.dictN*c.width])}
	}
	data := array.NewData(c.typ, c.dictN, bufs, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// gatherFixed sets value i of dst to value idx[i] of dict. Every index
// must be below the number of values in dict (decodeIndices checks them),
// which lets the loops skip bounds checks.
func gatherFixed(dst, dict []byte, width int, idx []int32) {
	base := unsafe.Pointer(unsafe.SliceData(dict))
	switch width {
	case 8:
		d := u64s(dst)[:len(idx)]
		for i, x := range idx {
			d[i] = *(*uint64)(unsafe.Add(base, uintptr(uint32(x))*8))
		}
	case 4:
		d := u32s(dst)[:len(idx)]
		for i, x := range idx {
			d[i] = *(*uint32)(unsafe.Add(base, uintptr(uint32(x))*4))
		}
	}
}

// gatherFixedSel sets value i of dst to value idx[sel[i]] of src, or value
// sel[i] when idx is nil. Indices must be in range, as for gatherFixed;
// the rows in sel are checked against idx.
func gatherFixedSel(dst, src []byte, width int, idx, sel []int32) {
	base := unsafe.Pointer(unsafe.SliceData(src))
	switch width {
	case 8:
		d, s := u64s(dst)[:len(sel)], u64s(src)
		if idx == nil {
			for i, r := range sel {
				d[i] = s[r]
			}
			return
		}
		for i, r := range sel {
			d[i] = *(*uint64)(unsafe.Add(base, uintptr(uint32(idx[r]))*8))
		}
	case 4:
		d, s := u32s(dst)[:len(sel)], u32s(src)
		if idx == nil {
			for i, r := range sel {
				d[i] = s[r]
			}
			return
		}
		for i, r := range sel {
			d[i] = *(*uint32)(unsafe.Add(base, uintptr(uint32(idx[r]))*4))
		}
	}
}

// grow returns s with length n, reallocated when its capacity is short.
// The contents are not kept.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

func u64s(b []byte) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
}

func i64s(b []byte) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
}

func u32s(b []byte) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

func i32s(b []byte) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}
