package postgres

import (
	"context"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Splits cut the rows by ranges of one key column (an integer, date or
// timestamp). With bounds b1 < b2 < ... the splits are
//
//	key < b1,  b1 <= key < b2,  ...,  key >= b(n-1),  key IS NULL
//
// The first and last ranges are open, so rows written after planning with
// keys beyond the min and max seen then are still read exactly once, and
// the NULL split exists only for a nullable key.

// minRowsPerSplit: when the engine's parallelism (not the partitions
// option) decides, a table is cut into no more splits than it has rows /
// minRowsPerSplit; tiny tables are one split.
const minRowsPerSplit = 50_000

// keyKind says how a key column's values become int64 units.
type keyKind int

const (
	keyNone keyKind = iota
	keyInt
	keyDate      // days since the Unix epoch
	keyTimestamp // microseconds since the Unix epoch
)

func keyKindOf(c *column) keyKind {
	switch c.oid {
	case oidInt2, oidInt4, oidInt8:
		return keyInt
	case oidDate:
		return keyDate
	case oidTimestamp, oidTimestamptz:
		return keyTimestamp
	}
	return keyNone
}

// keyRange is one split's range: lo <= key < hi, nil bounds open.
type keyRange struct {
	lo, hi *int64
	// nulls: the split of NULL keys.
	nulls bool
}

// cutRanges cuts [min, max] into at most n ranges with open ends. The
// bounds are min + floor(count*i/n) for count = max-min+1 values,
// computed in 128 bits so that any int64 span works.
func cutRanges(minKey, maxKey int64, n int) []keyRange {
	if n < 1 || maxKey < minKey {
		n = 1
	}
	span := uint64(maxKey) - uint64(minKey) // max-min, exact as unsigned
	if span < uint64(n-1) {
		n = int(span) + 1 // no more ranges than values
	}
	if n == 1 {
		return []keyRange{{}}
	}
	bounds := make([]int64, 0, n-1)
	for i := 1; i < n; i++ {
		// (span+1)*i / n without overflow: hi:lo = span*i + i.
		hi, lo := bits.Mul64(span, uint64(i))
		var carry uint64
		lo, carry = bits.Add64(lo, uint64(i), 0)
		hi += carry
		q, _ := bits.Div64(hi, lo, uint64(n)) // hi < n since (span+1)*i < 2^64*n
		bounds = append(bounds, int64(uint64(minKey)+q))
	}
	out := make([]keyRange, 0, n)
	for i := 0; i <= len(bounds); i++ {
		var r keyRange
		if i > 0 {
			r.lo = &bounds[i-1]
		}
		if i < len(bounds) {
			r.hi = &bounds[i]
		}
		out = append(out, r)
	}
	return out
}

// keyParam is the parameter of a key bound.
func keyParam(k keyKind, c *column, v int64) param {
	var s string
	t := "int8"
	switch k {
	case keyDate:
		s, t = dateText(v), "date"
	case keyTimestamp:
		t = "timestamp"
		if c.oid == oidTimestamptz {
			t = "timestamptz"
		}
		s = timestampText(v, t == "timestamptz")
	default:
		s = strconv.FormatInt(v, 10)
	}
	return param{Type: t, Value: &s}
}

// rangeSQL is the predicate of a range over key column c, with its
// parameters numbered from first.
func rangeSQL(k keyKind, c *column, r keyRange, first int) (string, []param) {
	if r.nulls {
		return c.expr + " IS NULL", nil
	}
	var conds []string
	var ps []param
	add := func(op string, v int64) {
		p := keyParam(k, c, v)
		ps = append(ps, p)
		conds = append(conds, fmt.Sprintf("%s %s $%d::%s", c.expr, op, first+len(ps)-1, p.Type))
	}
	if r.lo != nil {
		add(">=", *r.lo)
	}
	if r.hi != nil {
		add("<", *r.hi)
	}
	return strings.Join(conds, " AND "), ps
}

// rangeLabel renders a range for EXPLAIN.
func rangeLabel(k keyKind, c *column, r keyRange) string {
	if r.nulls {
		return "NULL"
	}
	show := func(v int64) string { return keyParam(k, c, v).display() }
	switch {
	case r.lo == nil && r.hi == nil:
		return "all"
	case r.lo == nil:
		return "< " + show(*r.hi)
	case r.hi == nil:
		return ">= " + show(*r.lo)
	}
	return "[" + show(*r.lo) + ", " + show(*r.hi) + ")"
}

// keyBounds queries the smallest and largest finite key. ok is false when
// there is none (no rows, or only NULL or infinite keys).
func keyBounds(ctx context.Context, conn *pgx.Conn, src *source, c *column, k keyKind) (lo, hi int64, ok bool, err error) {
	var q string
	switch k {
	case keyInt:
		q = fmt.Sprintf("SELECT min(%[1]s)::int8, max(%[1]s)::int8 FROM %[2]s", c.expr, src.from)
	case keyDate:
		q = fmt.Sprintf("SELECT min(%[1]s) - DATE '1970-01-01', max(%[1]s) - DATE '1970-01-01' FROM %[2]s "+
			"WHERE %[1]s > '-infinity' AND %[1]s < 'infinity'", c.expr, src.from)
	case keyTimestamp:
		// EXTRACT(EPOCH) of a timestamp without time zone counts as if it
		// were UTC, which is how the plugin maps it. Bounds need not be
		// exact: the ranges cover every key whatever they are.
		q = fmt.Sprintf("SELECT (EXTRACT(EPOCH FROM min(%[1]s)) * 1000000)::int8, (EXTRACT(EPOCH FROM max(%[1]s)) * 1000000)::int8 "+
			"FROM %[2]s WHERE %[1]s > '-infinity' AND %[1]s < 'infinity'", c.expr, src.from)
	default:
		return 0, 0, false, fmt.Errorf("column %s cannot partition", quoteIdent(c.name))
	}
	var mn, mx *int64
	if err := conn.QueryRow(ctx, q).Scan(&mn, &mx); err != nil {
		return 0, 0, false, fmt.Errorf("reading the range of partition column %s of %s: %w", quoteIdent(c.name), src.label, err)
	}
	if mn == nil || mx == nil {
		return 0, 0, false, nil
	}
	return *mn, *mx, true, nil
}

// findColumn finds a column by name: exactly, else case-insensitively when
// that is unambiguous.
func findColumn(cols []column, name string) (int, bool) {
	for i := range cols {
		if cols[i].name == name {
			return i, true
		}
	}
	found := -1
	for i := range cols {
		if strings.EqualFold(cols[i].name, name) {
			if found >= 0 {
				return -1, false
			}
			found = i
		}
	}
	return found, found >= 0
}
