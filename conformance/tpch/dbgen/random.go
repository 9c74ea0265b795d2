package dbgen

// dbgen draws every column from its own Park–Miller "minimal standard"
// stream (seed' = seed·16807 mod 2^31−1). Each stream is budgeted a fixed
// number of draws per row, whatever the row actually used, so the state at
// row k is the initial seed advanced by k·budget draws. That makes rows
// independent of one another and lets any range of a table be generated
// on its own by jumping ahead (multiplying by 16807^n mod 2^31−1).

const (
	randMultiplier = 16807
	randModulus    = 2147483647
)

// rowRand is one 32-bit column stream.
type rowRand struct {
	seed   int64
	usage  int32 // draws taken in the current row
	perRow int32 // draws budgeted per row
}

func newRowRand(seed int64, perRow int32) rowRand {
	return rowRand{seed: seed, perRow: perRow}
}

// next advances the stream by one draw and returns the new seed.
func (r *rowRand) next() int64 {
	r.seed = r.seed * randMultiplier % randModulus
	r.usage++
	return r.seed
}

// nextInt returns a value in [lo, hi] scaled from the next draw exactly as
// dbgen's UnifInt does, in double precision. The span hi−lo+1 wraps in 32
// bits: dbgen computes it in 32 bits for [0, 2^31−1] (a special case it
// keeps for the alphanumeric generator's sake, giving a negative span) and
// in 64 bits otherwise, which agrees whenever the span fits (see nextLong).
func (r *rowRand) nextInt(lo, hi int32) int32 {
	s := r.next()
	span := float64(hi - lo + 1)
	return lo + int32(float64(s)/randModulus*span)
}

// nextLong is nextInt for spans beyond 32 bits (part and customer keys
// above scale factor 10737).
func (r *rowRand) nextLong(lo, hi int64) int64 {
	s := r.next()
	span := float64(hi - lo + 1)
	return lo + int64(float64(s)/randModulus*span)
}

// rowFinished skips the draws of the current row's budget not taken.
func (r *rowRand) rowFinished() {
	r.seed = advanceSeed(r.seed, int64(r.perRow-r.usage))
	r.usage = 0
}

// advanceRows jumps the stream over n whole rows.
func (r *rowRand) advanceRows(n int64) {
	if r.usage != 0 {
		r.rowFinished()
	}
	r.seed = advanceSeed(r.seed, int64(r.perRow)*n)
}

// advanceSeed returns seed advanced by count Park–Miller draws, by square
// and multiply.
func advanceSeed(seed, count int64) int64 {
	mult := int64(randMultiplier)
	for count > 0 {
		if count%2 != 0 {
			seed = mult * seed % randModulus
		}
		count /= 2
		mult = mult * mult % randModulus
	}
	return seed
}

// boundedRand is a stream of values in a fixed [lo, hi].
type boundedRand struct {
	rowRand
	lo, hi int32
}

func newBoundedRand(seed int64, lo, hi, perRow int32) boundedRand {
	return boundedRand{rowRand: newRowRand(seed, perRow), lo: lo, hi: hi}
}

func (b *boundedRand) value() int32 { return b.nextInt(b.lo, b.hi) }

// keyRand draws keys in [lo, hi], a span that may exceed 32 bits.
type keyRand struct {
	rowRand
	lo, hi int64
}

func newKeyRand(seed int64, lo, hi int64, perRow int32) keyRand {
	return keyRand{rowRand: newRowRand(seed, perRow), lo: lo, hi: hi}
}

func (k *keyRand) value() int64 { return k.nextLong(k.lo, k.hi) }

// textRand picks comment text: a random window of the text pool whose
// length is uniform in [0.4, 1.6]·average.
type textRand struct {
	rowRand
	minLen, maxLen int32
}

func newTextRand(seed int64, average float64, perRow int32) textRand {
	return textRand{
		rowRand: newRowRand(seed, 2*perRow),
		minLen:  int32(average * 0.4),
		maxLen:  int32(average * 1.6),
	}
}

// window returns the offset and length of the next comment in a pool of
// poolLen bytes.
func (t *textRand) window(poolLen int) (off, n int32) {
	off = t.nextInt(0, int32(poolLen)-t.maxLen)
	n = t.nextInt(t.minLen, t.maxLen)
	return off, n
}

// value returns the next comment, a slice of the pool.
func (t *textRand) value(pool []byte) []byte {
	off, n := t.window(len(pool))
	return pool[off : off+n]
}

// addTo appends the next comment to a text column.
func (t *textRand) addTo(c *textCol, poolLen int) {
	c.add(t.window(poolLen))
}

// alphaNumeric is dbgen's random address text: a length in [0.4, 1.6]·25,
// then characters taken six bits at a time from one draw per five.
type alphaNumeric struct {
	rowRand
	minLen, maxLen int32
}

const alphaNumericChars = "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,"

func newAlphaNumeric(seed int64, average float64) alphaNumeric {
	return alphaNumeric{
		rowRand: newRowRand(seed, 9),
		minLen:  int32(average * 0.4),
		maxLen:  int32(average * 1.6),
	}
}

// appendValue appends the next address to dst.
func (a *alphaNumeric) appendValue(dst []byte) []byte {
	n := int(a.nextInt(a.minLen, a.maxLen))
	var bits int64
	for i := 0; i < n; i++ {
		if i%5 == 0 {
			bits = int64(a.nextInt(0, 2147483647))
		}
		dst = append(dst, alphaNumericChars[bits&0x3f])
		bits >>= 6
	}
	return dst
}

// phoneRand draws the three local parts of a phone number.
type phoneRand struct{ rowRand }

func newPhoneRand(seed int64) phoneRand { return phoneRand{newRowRand(seed, 3)} }

// appendValue appends "CC-LLL-LLL-LLLL" for nationKey to dst; the country
// code is 10 + nationKey mod 90.
func (p *phoneRand) appendValue(dst []byte, nationKey int64) []byte {
	cc := 10 + nationKey%90
	a := p.nextInt(100, 999)
	b := p.nextInt(100, 999)
	c := p.nextInt(1000, 9999)
	dst = appendPadded(dst, cc, 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(a), 3)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(b), 3)
	dst = append(dst, '-')
	return appendPadded(dst, int64(c), 4)
}

// appendPadded appends the decimal digits of v (v >= 0), left-padded with
// zeros to width, like printf("%0*ld").
func appendPadded(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	return append(dst, buf[i:]...)
}
