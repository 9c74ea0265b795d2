package expr

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func init() {
	register("like", true, compileLike)
	register("ilike", true, compileLike)
}

type likeKind uint8

const (
	likeGeneral likeKind = iota
	likeExact
	likePrefix
	likeSuffix
	likeContains
	likeAll // '%': every non-null string
)

// likeTok is a literal byte run, or (lit == nil) a run of n '_' wildcards.
type likeTok struct {
	lit []byte
	n   int
}

type likeSeg []likeTok

func (s likeSeg) literalOnly() bool { return len(s) == 1 && s[0].lit != nil }

// likePattern is a compiled LIKE pattern.
type likePattern struct {
	kind       likeKind
	lit        []byte // for the literal kinds
	segs       []likeSeg
	startsPct  bool
	endsPct    bool
	foldCase   bool
	hasPercent bool
}

// compileLikePattern parses pattern with the given escape rune (-1: none).
// With foldCase the pattern is lower-cased and inputs must be too.
func compileLikePattern(pattern string, escape rune, foldCase bool) (*likePattern, error) {
	if foldCase {
		pattern = string(lowerBytes(nil, []byte(pattern)))
	}
	p := &likePattern{foldCase: foldCase}
	var segs []likeSeg
	var cur likeSeg
	var lit []byte
	flushLit := func() {
		if lit != nil {
			cur = append(cur, likeTok{lit: lit})
			lit = nil
		}
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case escape >= 0 && r == escape:
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("%w: LIKE pattern %q ends with its escape character", ErrInvalidValue, pattern)
			}
			i++
			lit = utf8.AppendRune(lit, rs[i])
		case r == '%':
			flushLit()
			segs = append(segs, cur)
			cur = nil
			p.hasPercent = true
		case r == '_':
			flushLit()
			if k := len(cur); k > 0 && cur[k-1].lit == nil {
				cur[k-1].n++
			} else {
				cur = append(cur, likeTok{n: 1})
			}
		default:
			if lit == nil {
				lit = []byte{}
			}
			lit = utf8.AppendRune(lit, r)
		}
	}
	flushLit()
	segs = append(segs, cur)
	p.startsPct = len(segs) > 1 && len(segs[0]) == 0
	p.endsPct = len(segs) > 1 && len(segs[len(segs)-1]) == 0
	for _, s := range segs {
		if len(s) > 0 {
			p.segs = append(p.segs, s)
		}
	}
	// Fast paths.
	switch {
	case !p.hasPercent && len(p.segs) == 0:
		p.kind, p.lit = likeExact, []byte{}
	case !p.hasPercent && p.segs[0].literalOnly():
		p.kind, p.lit = likeExact, p.segs[0][0].lit
	case p.hasPercent && len(p.segs) == 0:
		p.kind = likeAll
	case len(p.segs) == 1 && p.segs[0].literalOnly():
		l := p.segs[0][0].lit
		switch {
		case !p.startsPct && p.endsPct:
			p.kind, p.lit = likePrefix, l
		case p.startsPct && !p.endsPct:
			p.kind, p.lit = likeSuffix, l
		case p.startsPct && p.endsPct:
			p.kind, p.lit = likeContains, l
		}
	}
	return p, nil
}

// skipChars advances over n UTF-8 characters from pos; -1 if s is shorter.
func skipChars(s []byte, pos, n int) int {
	for ; n > 0; n-- {
		if pos >= len(s) {
			return -1
		}
		if s[pos] < utf8.RuneSelf {
			pos++
			continue
		}
		_, w := utf8.DecodeRune(s[pos:])
		pos += w
	}
	return pos
}

// matchAt matches seg at pos and returns the end, or -1.
func (seg likeSeg) matchAt(s []byte, pos int) int {
	for _, t := range seg {
		if t.lit != nil {
			if !bytes.HasPrefix(s[pos:], t.lit) {
				return -1
			}
			pos += len(t.lit)
			continue
		}
		if pos = skipChars(s, pos, t.n); pos < 0 {
			return -1
		}
	}
	return pos
}

// find returns the end of the leftmost match of seg at or after pos, or -1.
func (seg likeSeg) find(s []byte, pos int) int {
	if seg[0].lit != nil {
		first := seg[0].lit
		for pos <= len(s) {
			j := bytes.Index(s[pos:], first)
			if j < 0 {
				return -1
			}
			if e := seg.matchAt(s, pos+j); e >= 0 {
				return e
			}
			_, w := utf8.DecodeRune(s[pos+j:])
			pos += j + max(w, 1)
		}
		return -1
	}
	for pos <= len(s) {
		if e := seg.matchAt(s, pos); e >= 0 {
			return e
		}
		if pos == len(s) {
			break
		}
		_, w := utf8.DecodeRune(s[pos:])
		pos += max(w, 1)
	}
	return -1
}

// match reports whether s matches the whole pattern.
func (p *likePattern) match(s []byte) bool {
	switch p.kind {
	case likeExact:
		return bytes.Equal(s, p.lit)
	case likePrefix:
		return bytes.HasPrefix(s, p.lit)
	case likeSuffix:
		return bytes.HasSuffix(s, p.lit)
	case likeContains:
		return bytes.Contains(s, p.lit)
	case likeAll:
		return true
	}
	segs := p.segs
	pos := 0
	if !p.startsPct {
		e := segs[0].matchAt(s, 0)
		if e < 0 {
			return false
		}
		if len(segs) == 1 && !p.endsPct {
			return e == len(s)
		}
		pos = e
		segs = segs[1:]
	}
	for i, seg := range segs {
		if i == len(segs)-1 && !p.endsPct {
			// Anchored at the end: try start positions from pos.
			for q := pos; q <= len(s); {
				if seg.matchAt(s, q) == len(s) {
					return true
				}
				if q == len(s) {
					break
				}
				_, w := utf8.DecodeRune(s[q:])
				q += max(w, 1)
			}
			return false
		}
		e := seg.find(s, pos)
		if e < 0 {
			return false
		}
		pos = e
	}
	return true
}

// lowerBytes appends the lower-case form of s to dst (ASCII fast path).
func lowerBytes(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendLowerUnicode(dst, s[i:])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func compileLike(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, map[string][]string{"escape": nil, "case_sensitivity": {"CASE_SENSITIVE", "CASE_INSENSITIVE"}}); err != nil {
		return nil, err
	}
	fold := call.Func == "ilike" || option(call, "case_sensitivity", "") == "CASE_INSENSITIVE"
	escape := rune(-1)
	escStr, hasEsc := call.Options["escape"]
	if len(args) == 3 {
		k, ok := asConst(args[2])
		if !ok || !logical.IsString(k.dtype()) {
			return nil, fmt.Errorf("%w: %s with a non-constant escape", ErrNotSupported, call.Func)
		}
		if !k.isNull() {
			escStr, hasEsc = newStrView(k.arr).str(0), true
		}
	}
	if hasEsc && escStr != "" {
		if utf8.RuneCountInString(escStr) != 1 {
			return nil, fmt.Errorf("%w: LIKE escape must be one character, got %q", ErrInvalidValue, escStr)
		}
		escape, _ = utf8.DecodeRuneInString(escStr)
	}
	x, pat := args[0], args[1]
	var err error
	for _, a := range []*node{&x, &pat} {
		if !logical.IsString((*a).dtype()) {
			return nil, unsupported(call, args)
		}
		if *a, err = c.castNode(*a, arrow.BinaryTypes.String, false); err != nil {
			return nil, err
		}
	}
	ln := &likeNode{x: x, pat: pat, fold: fold, escape: escape, alloc: c.alloc}
	if k, ok := asConst(pat); ok {
		p, err := compileLikePattern(newStrView(k.arr).str(0), escape, fold)
		if err != nil {
			return nil, err
		}
		ln.compiled = p
	}
	return ln, nil
}

// likeNode evaluates LIKE/ILIKE; a constant pattern is compiled once.
type likeNode struct {
	x, pat   node
	compiled *likePattern
	fold     bool
	escape   rune
	alloc    memory.Allocator
}

func (l *likeNode) dtype() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (l *likeNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	xs, err := l.x.eval(ctx, c)
	if err != nil {
		return nil, err
	}
	defer xs.Release()
	n := c.n
	sv := newStrView(xs)
	if l.compiled != nil {
		buf, out := newBitmap(l.alloc, n)
		p := l.compiled
		switch {
		case p.kind == likeContains && !p.foldCase:
			containsScan(sv, n, p.lit, out)
		case p.kind == likeAll:
			setAll(out, n)
		case p.kind == likeGeneral && !p.foldCase && len(p.longestLit()) > 0:
			// Only rows holding the pattern's longest literal can match:
			// find them with one search over the whole buffer and match
			// just those.
			candidateScan(sv, n, p.longestLit(), out, p.match)
		case p.foldCase:
			var scratch []byte
			packBools(out, n, func(i int) bool {
				scratch = lowerBytes(scratch[:0], sv.bytes(i))
				return p.match(scratch)
			})
		default:
			packBools(out, n, func(i int) bool { return p.match(sv.bytes(i)) })
		}
		return makeArray(arrow.FixedWidthTypes.Boolean, n, copyValidity(l.alloc, xs), buf), nil
	}
	ps, err := l.pat.eval(ctx, c)
	if err != nil {
		return nil, err
	}
	defer ps.Release()
	pv := newStrView(ps)
	valid := combineValidity(l.alloc, n, xs, ps)
	vb := bitsOf(valid)
	buf, out := newBitmap(l.alloc, n)
	var last string
	var p *likePattern
	var scratch []byte
	for i := 0; i < n; i++ {
		if !isValid(vb, 0, i) {
			continue
		}
		if ps := pv.str(i); p == nil || ps != last {
			if p, err = compileLikePattern(ps, l.escape, l.fold); err != nil {
				buf.Release()
				releaseBuf(valid)
				return nil, err
			}
			last = string(pv.bytes(i))
		}
		s := sv.bytes(i)
		if l.fold {
			scratch = lowerBytes(scratch[:0], s)
			s = scratch
		}
		if p.match(s) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, valid, buf), nil
}

// longestLit is the longest literal run of the pattern: every matching
// string contains it.
func (p *likePattern) longestLit() []byte {
	var best []byte
	for _, seg := range p.segs {
		for _, t := range seg {
			if len(t.lit) > len(best) {
				best = t.lit
			}
		}
	}
	return best
}

// containsScan marks the rows containing needle by searching the whole data
// buffer once and mapping hits back to rows through the offsets.
func containsScan(sv strView, n int, needle []byte, out []byte) {
	candidateScan(sv, n, needle, out, nil)
}

// candidateScan marks the rows that contain needle and, when match is not
// nil, satisfy match. needle is searched for in the whole data buffer at
// once (hits spanning two rows are skipped), so rows without it cost
// nothing per row.
func candidateScan(sv strView, n int, needle []byte, out []byte, match func([]byte) bool) {
	if n == 0 {
		return
	}
	offs := sv.offs
	if len(needle) == 0 {
		for i := 0; i < n; i++ {
			if match == nil || match(sv.bytes(i)) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return
	}
	data := sv.data[:offs[n]]
	// Scan for the needle's rarest byte (IndexByte jumps far between
	// hits), then check the needle around each hit.
	ri := rareByte(needle)
	rare := needle[ri]
	row := 0
	pos := int(offs[0])
	last := len(data) - len(needle) // last possible start
	for row < n && pos <= last {
		j := bytes.IndexByte(data[pos+ri:last+ri+1], rare)
		if j < 0 {
			return
		}
		p := pos + j
		if !bytes.Equal(data[p:p+len(needle)], needle) {
			pos = p + 1
			continue
		}
		for int(offs[row+1]) <= p {
			row++
		}
		if end := int(offs[row+1]); p+len(needle) <= end {
			if match == nil || match(data[offs[row]:end]) {
				out[row>>3] |= 1 << (row & 7)
			}
			pos = end
			row++
		} else {
			pos = p + 1
		}
	}
}

// byteRank orders bytes by how common they are in text (higher: more
// common): space, then lower-case letters by English frequency, digits,
// punctuation, upper-case letters; other bytes rank 0.
var byteRank = func() (r [256]uint8) {
	for i, c := range []byte("zqjxkvbywgpfmucdlhrsnioate") {
		r[c] = uint8(100 + 5*i)
	}
	for i, c := range []byte("ZQJXKVBYWGPFMUCDLHRSNIOATE") {
		r[c] = uint8(40 + 2*i)
	}
	for c := byte('0'); c <= '9'; c++ {
		r[c] = 90
	}
	r['.'], r[','], r['-'], r['|'] = 95, 95, 60, 60
	r[' '] = 255
	return r
}()

// rareByte is the position of the needle's least common byte.
func rareByte(needle []byte) int {
	best := 0
	for i, c := range needle {
		if byteRank[c] < byteRank[needle[best]] {
			best = i
		}
	}
	return best
}
