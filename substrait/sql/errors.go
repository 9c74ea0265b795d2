package sql

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrNotSupported is wrapped by every error about SQL that is valid but that
// Arbalest does not implement; such messages read "not supported: <feature>".
var ErrNotSupported = errors.New("not supported")

// Error is an error tied to a place in the SQL text. Line and Column are
// 1-based and count characters; they are zero when the place is unknown.
type Error struct {
	Msg          string
	Line, Column int
	err          error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (line %d, column %d)", e.Msg, e.Line, e.Column)
}

// Unwrap returns the wrapped sentinel, if any (for example ErrNotSupported).
func (e *Error) Unwrap() error { return e.err }

// notSupported builds a "not supported: ..." error.
func notSupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSupported, fmt.Sprintf(format, args...))
}

// lineCol converts a byte offset in text to a 1-based line and column
// (column counts characters).
func lineCol(text string, off int) (line, col int) {
	if off < 0 {
		return 0, 0
	}
	if off > len(text) {
		off = len(text)
	}
	line, col = 1, 1
	for _, r := range text[:off] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// runeOffset converts a 0-based character index into a byte offset.
func runeOffset(text string, chars int) int {
	off := 0
	for i := 0; i < chars && off < len(text); i++ {
		_, n := utf8.DecodeRuneInString(text[off:])
		off += n
	}
	return off
}

// EditDistance is the Levenshtein distance between a and b (in runes),
// which ranks the "did you mean" suggestions of errors.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggest returns "; did you mean ...?" naming the candidates nearest to
// name, or "" when none is close enough.
func suggest(name string, candidates []string) string {
	best := -1
	var hits []string
	seen := map[string]bool{}
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		d := EditDistance(lname, strings.ToLower(c))
		limit := max(2, len([]rune(name))/3)
		if d > limit {
			continue
		}
		switch {
		case best < 0 || d < best:
			best, hits = d, []string{c}
		case d == best:
			hits = append(hits, c)
		}
	}
	if len(hits) == 0 {
		return ""
	}
	sort.Strings(hits)
	if len(hits) > 3 {
		hits = hits[:3]
	}
	q := make([]string, len(hits))
	for i, h := range hits {
		q[i] = fmt.Sprintf("%q", h)
	}
	return "; did you mean " + strings.Join(q, " or ") + "?"
}

// location is the byte offset in the statement where the construct n
// is: its own position when pg_query records one (in a field named
// location), else the first position found inside it; -1 when there is
// none.
func location(n *pg.Node) int32 {
	if n == nil || n.Node == nil {
		return -1
	}
	m := n.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("node"))
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return -1
	}
	inner := m.Get(fd).Message()
	if lf := inner.Descriptor().Fields().ByName("location"); lf != nil && lf.Kind() == protoreflect.Int32Kind {
		if v := int32(inner.Get(lf).Int()); v >= 0 {
			return v
		}
	}
	return minLocation(inner)
}

// startLocation is the smallest position recorded in n or inside it: where
// a clause starts, rather than the position of its top operator.
func startLocation(n *pg.Node) int32 {
	if n == nil || n.Node == nil {
		return -1
	}
	return minLocation(n.ProtoReflect())
}

// minLocation is the smallest location field in m and the messages inside
// it (-1 when none).
func minLocation(m protoreflect.Message) int32 {
	best := int32(-1)
	consider := func(v int32) {
		if v >= 0 && (best < 0 || v < best) {
			best = v
		}
	}
	if lf := m.Descriptor().Fields().ByName("location"); lf != nil && lf.Kind() == protoreflect.Int32Kind {
		consider(int32(m.Get(lf).Int()))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				consider(minLocation(l.Get(i).Message()))
			}
		case !fd.IsMap():
			consider(minLocation(v.Message()))
		}
		return true
	})
	return best
}

// msgError is an error with a message of its own that unwraps to err.
type msgError struct {
	msg string
	err error
}

func (e *msgError) Error() string { return e.msg }
func (e *msgError) Unwrap() error { return e.err }
