package scan

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// maxDictHeaderPadding is how far past its recorded size the column chunk
// of an old parquet-mr file may extend (PARQUET-816: the dictionary page
// header was left out of total_compressed_size).
const maxDictHeaderPadding = 100

// chunkRange returns where the column chunk cc lies in a file of the given
// metadata.
func chunkRange(meta *metadata.FileMetaData, cc *metadata.ColumnChunkMetaData) (start, length int64, err error) {
	start = cc.DataPageOffset()
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
		start = cc.DictionaryPageOffset()
	}
	length = cc.TotalCompressedSize()
	size := meta.GetSourceFileSize()
	if start < 0 || length <= 0 || (size > 0 && (start > size || length > size-start)) {
		return 0, 0, fmt.Errorf("column chunk at offset %d of %d bytes lies outside the file (%d bytes)", start, length, size)
	}
	if meta.WriterVersion().LessThan(metadata.Parquet816FixedVersion) && size > 0 {
		length += min(maxDictHeaderPadding, size-(start+length))
	}
	return start, length, nil
}

// dataPage is a decoded page of a column chunk. Its slices stay valid
// until the next page is read.
type dataPage struct {
	hdr pageHeader
	// levels holds the definition levels of a V2 page (uncompressed, no
	// length prefix); nil for V1 pages, whose levels lead values.
	levels []byte
	values []byte
}

// chunkPages reads the pages of one column chunk held in memory.
type chunkPages struct {
	pool  *bufferPool
	raw   []byte // the column chunk (from pool)
	pos   int
	codec compress.Codec // nil when the chunk is not compressed
	buf   []byte         // decompressed page (from pool)
	// valuesLeft counts the values (levels) of the chunk not yet paged
	// through; reading stops there, whatever bytes follow.
	valuesLeft int64
}

// load reads the column chunk cc from r into memory.
func (c *chunkPages) load(r io.ReaderAt, meta *metadata.FileMetaData, cc *metadata.ColumnChunkMetaData) error {
	start, length, err := chunkRange(meta, cc)
	if err != nil {
		return err
	}
	if int64(cap(c.raw)) < length {
		c.pool.freeRaw(c.raw)
		c.raw = c.pool.allocRaw(int(length))
	}
	c.raw = c.raw[:length]
	n, err := r.ReadAt(c.raw, start)
	if int64(n) < length {
		if err == nil || err == io.EOF {
			if meta.WriterVersion().LessThan(metadata.Parquet816FixedVersion) && int64(n) >= cc.TotalCompressedSize() {
				c.raw = c.raw[:n]
			} else {
				return fmt.Errorf("column chunk at offset %d: file ends after %d of %d bytes", start, n, length)
			}
		} else {
			return err
		}
	}
	c.pos = 0
	c.valuesLeft = cc.NumValues()
	c.codec = nil
	if cc.Compression() != compress.Codecs.Uncompressed {
		codec, err := compress.GetCodec(cc.Compression())
		if err != nil {
			return err
		}
		c.codec = codec
	}
	return nil
}

// next returns the next data or dictionary page, and io.EOF after the
// last. Index pages are passed over. When skipRows is positive, data pages
// of at most that many rows are passed over undecoded; skipped reports
// their rows.
func (c *chunkPages) next(skipRows int, flat bool) (p dataPage, skipped int, err error) {
	for {
		if c.valuesLeft <= 0 {
			return p, skipped, io.EOF
		}
		if c.pos >= len(c.raw) {
			return p, skipped, fmt.Errorf("column chunk ends with %d values unread", c.valuesLeft)
		}
		h, hl, err := parsePageHeader(c.raw[c.pos:])
		if err != nil {
			return p, skipped, fmt.Errorf("page at byte %d of the column chunk: %w", c.pos, err)
		}
		body := c.pos + hl
		if int64(h.uncompressed) > parquet.DefaultMaxUncompressedPageSize {
			return p, skipped, fmt.Errorf("page at byte %d of the column chunk declares %d bytes, more than the %d allowed", c.pos, h.uncompressed, parquet.DefaultMaxUncompressedPageSize)
		}
		if int(h.compressed) > len(c.raw)-body {
			return p, skipped, fmt.Errorf("page at byte %d of the column chunk: %d bytes declared, %d present", c.pos, h.compressed, len(c.raw)-body)
		}
		c.pos = body + int(h.compressed)
		src := c.raw[body:c.pos]
		p = dataPage{hdr: h}
		switch h.typ {
		case pageDictionary:
			if !h.hasDict || h.numValues < 0 {
				return p, skipped, fmt.Errorf("dictionary page at byte %d has no valid header", body-hl)
			}
			p.values, err = c.decompress(src, int(h.uncompressed), c.codec != nil)
			return p, skipped, err
		case pageData:
			if !h.hasData || h.numValues < 0 {
				return p, skipped, fmt.Errorf("data page at byte %d has no valid header", body-hl)
			}
			c.valuesLeft -= int64(h.numValues)
			if flat && int(h.numValues) <= skipRows {
				skipRows -= int(h.numValues)
				skipped += int(h.numValues)
				continue
			}
			p.values, err = c.decompress(src, int(h.uncompressed), c.codec != nil)
			return p, skipped, err
		case pageDataV2:
			if !h.hasV2 || h.numValues < 0 || h.numRows < 0 || h.defLen < 0 || h.repLen < 0 {
				return p, skipped, fmt.Errorf("data page (v2) at byte %d has no valid header", body-hl)
			}
			c.valuesLeft -= int64(h.numValues)
			if flat && int(h.numRows) <= skipRows {
				skipRows -= int(h.numRows)
				skipped += int(h.numRows)
				continue
			}
			lv := int(h.repLen) + int(h.defLen)
			if lv > len(src) || lv > int(h.uncompressed) {
				return p, skipped, fmt.Errorf("data page (v2) at byte %d: levels of %d bytes exceed the page", body-hl, lv)
			}
			p.levels = src[h.repLen:lv]
			p.values, err = c.decompress(src[lv:], int(h.uncompressed)-lv, h.isCompressed && c.codec != nil)
			return p, skipped, err
		default:
			// Index pages and unknown page types carry no values.
		}
	}
}

// decompress returns the uncompressed bytes of a page body.
func (c *chunkPages) decompress(src []byte, size int, compressed bool) ([]byte, error) {
	if !compressed {
		if len(src) != size {
			return nil, fmt.Errorf("page holds %d bytes, its header says %d", len(src), size)
		}
		return src, nil
	}
	if cap(c.buf) < size {
		c.pool.freeRaw(c.buf)
		c.buf = c.pool.allocRaw(max(size, 4096))
	}
	dst := c.buf[:size]
	out, err := compress.Decode(c.codec, dst, src)
	if err != nil {
		return nil, fmt.Errorf("decompressing a page: %w", err)
	}
	if len(out) != size {
		return nil, fmt.Errorf("page decompresses to %d bytes, its header says %d", len(out), size)
	}
	return out, nil
}

// release returns the buffers to the pool.
func (c *chunkPages) release() {
	c.pool.freeRaw(c.raw)
	c.pool.freeRaw(c.buf)
	c.raw, c.buf = nil, nil
}
