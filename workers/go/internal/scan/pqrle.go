package scan

//go:generate go run ./internal/genunpack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// rleDecoder decodes Parquet's RLE / bit-packing hybrid encoding, used for
// dictionary indices and definition levels. Values are at most 32 bits wide.
type rleDecoder struct {
	data  []byte
	pos   int // next run header
	width int
	mask  uint64
	// The current run: rleLeft repeats of rleVal, or bpLeft bit-packed
	// values starting at bit bpBit of data.
	rleLeft int
	rleVal  uint32
	bpLeft  int
	bpBit   int
	bpStart int // first bit of the bit-packed run
}

var errRLEShort = errors.New("encoded values end early")

// reset starts decoding data with values of width bits.
func (d *rleDecoder) reset(data []byte, width int) error {
	if width < 0 || width > 32 {
		return fmt.Errorf("invalid bit width %d", width)
	}
	*d = rleDecoder{data: data, width: width, mask: 1<<uint(width) - 1}
	return nil
}

// nextRun reads the next run header.
func (d *rleDecoder) nextRun() error {
	if d.pos >= len(d.data) {
		return errRLEShort
	}
	h, n := binary.Uvarint(d.data[d.pos:])
	if n <= 0 {
		return errors.New("corrupt run header")
	}
	d.pos += n
	if h&1 == 1 {
		groups := h >> 1
		avail := len(d.data) - d.pos
		if d.width == 0 {
			// Zero-width values take no bytes; bound the run by what any
			// page could hold.
			d.bpLeft = int(min(groups, 1<<28)) * 8
			d.bpBit = d.pos * 8
			d.bpStart = d.bpBit
			return nil
		}
		nbytes := avail
		if groups <= uint64(avail) && int(groups)*d.width < avail {
			nbytes = int(groups) * d.width
		}
		// A final run may be cut short of its declared groups; take
		// the whole values present.
		d.bpLeft = nbytes * 8 / d.width
		d.bpBit = d.pos * 8
		d.bpStart = d.bpBit
		d.pos += nbytes
		if d.bpLeft == 0 {
			return errRLEShort
		}
		return nil
	}
	count := h >> 1
	nb := (d.width + 7) / 8
	if d.pos+nb > len(d.data) {
		return errRLEShort
	}
	var v uint32
	for i := 0; i < nb; i++ {
		v |= uint32(d.data[d.pos+i]) << (8 * uint(i))
	}
	d.pos += nb
	if uint64(v) > d.mask {
		return fmt.Errorf("run value %d wider than %d bits", v, d.width)
	}
	d.rleLeft = int(min(count, 1<<31))
	d.rleVal = v
	return nil
}

// decode fills out with the next len(out) values and returns the largest.
func (d *rleDecoder) decode(out []int32) (uint32, error) {
	var hi uint32
	i := 0
	for i < len(out) {
		if d.rleLeft > 0 {
			k := min(d.rleLeft, len(out)-i)
			v := d.rleVal
			fill(out[i:i+k], int32(v))
			hi = max(hi, v)
			d.rleLeft -= k
			i += k
			continue
		}
		if d.bpLeft > 0 {
			k := min(d.bpLeft, len(out)-i)
			hi = max(hi, d.unpack(out[i:i+k]))
			d.bpLeft -= k
			i += k
			continue
		}
		if err := d.nextRun(); err != nil {
			return 0, err
		}
	}
	return hi, nil
}

// skip passes over n values.
func (d *rleDecoder) skip(n int) error {
	for n > 0 {
		switch {
		case d.rleLeft > 0:
			k := min(d.rleLeft, n)
			d.rleLeft -= k
			n -= k
		case d.bpLeft > 0:
			k := min(d.bpLeft, n)
			d.bpBit += k * d.width
			d.bpLeft -= k
			n -= k
		default:
			if err := d.nextRun(); err != nil {
				return err
			}
		}
	}
	return nil
}

// fill sets every element of out to v.
func fill[T any](out []T, v T) {
	if len(out) == 0 {
		return
	}
	out[0] = v
	for i := 1; i < len(out); i *= 2 {
		copy(out[i:], out[:i])
	}
}

// unpack decodes len(out) values of the current bit-packed run and
// returns the largest.
func (d *rleDecoder) unpack(out []int32) uint32 {
	if d.width == 0 {
		clear(out)
		return 0
	}
	var hi uint32
	j := 0
	// One value at a time up to a group boundary, whole groups with the
	// unpacker of the width, then the rest one at a time.
	group := 8 * d.width
	for ; j < len(out) && (d.bpBit-d.bpStart)%group != 0; j++ {
		v := d.one()
		out[j] = int32(v)
		hi = max(hi, v)
	}
	if j < len(out) {
		n, o := unpackers[d.width](d.data[d.bpBit>>3:], out[j:])
		d.bpBit += n * d.width
		hi = max(hi, o)
		j += n
	}
	for ; j < len(out); j++ {
		v := d.one()
		out[j] = int32(v)
		hi = max(hi, v)
	}
	return hi
}

// one decodes the bit-packed value at bpBit.
func (d *rleDecoder) one() uint32 {
	var w uint64
	b := d.bpBit >> 3
	if b+8 <= len(d.data) {
		w = binary.LittleEndian.Uint64(d.data[b:])
	} else {
		for k := 0; b+k < len(d.data); k++ {
			w |= uint64(d.data[b+k]) << (8 * uint(k))
		}
	}
	v := uint32(w >> uint(d.bpBit&7) & d.mask)
	d.bpBit += d.width
	return v
}

// levelDecoder decodes the definition levels of a flat optional column
// (maximum level 1) into validity bits.
type levelDecoder struct {
	rle rleDecoder
	// Deprecated BIT_PACKED levels: one bit per value, most significant
	// bit first.
	packed []byte
	bit    int
	legacy bool

	scratch []int32
}

func (l *levelDecoder) reset(data []byte, encoding int32) error {
	switch encoding {
	case encRLE:
		l.legacy = false
		return l.rle.reset(data, 1)
	case encBitPacked:
		l.legacy, l.packed, l.bit = true, data, 0
		return nil
	}
	return fmt.Errorf("unsupported definition level encoding %d", encoding)
}

// valid decodes k levels, sets bits off..off+k-1 of bitmap for the
// defined values and clears the others, and returns how many are defined.
func (l *levelDecoder) valid(k int, bitmap []byte, off int) (int, error) {
	if l.legacy {
		if l.bit+k > len(l.packed)*8 {
			return 0, errRLEShort
		}
		cnt := 0
		for i := 0; i < k; i++ {
			b := int(l.packed[(l.bit+i)>>3]>>(7-uint((l.bit+i)&7))) & 1
			setBitTo(bitmap, off+i, b)
			cnt += b
		}
		l.bit += k
		return cnt, nil
	}
	if cap(l.scratch) < k {
		l.scratch = make([]int32, k)
	}
	lv := l.scratch[:k]
	if _, err := l.rle.decode(lv); err != nil {
		return 0, err
	}
	cnt := 0
	for i, v := range lv {
		setBitTo(bitmap, off+i, int(v))
		cnt += int(v)
	}
	return cnt, nil
}

func setBitTo(bitmap []byte, i, v int) {
	bitmap[i>>3] = bitmap[i>>3]&^(1<<uint(i&7)) | byte(v)<<uint(i&7)
}
