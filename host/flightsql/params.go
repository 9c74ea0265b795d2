package flightsql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// ErrParameter marks a parameter that cannot be bound: a wrong count, an
// unsupported type, or a value SQL cannot carry.
var ErrParameter = errors.New("parameter")

// template is a statement with its parameter markers cut out: the SQL
// binder has no parameters, so bound values are spliced in as typed SQL
// literals. Parts has one more element than Params; Params[i] is the
// 0-based parameter that goes between Parts[i] and Parts[i+1].
type template struct {
	Parts  []string
	Params []int
	// N is the number of parameters (the highest $n, or the count of ?).
	N int
}

// maxParams bounds the parameters of one statement.
const maxParams = 1 << 16

// parseTemplate finds the parameter markers of query: PostgreSQL's $1,
// $2, ... and JDBC/ODBC's ? (numbered left to right). Markers inside
// string literals, quoted identifiers, dollar-quoted strings and comments
// are text, not markers. Mixing the two styles is refused because their
// numbering would be ambiguous.
func parseTemplate(query string) (*template, error) {
	t := &template{}
	var cur strings.Builder
	var dollar, question bool
	i := 0
	for i < len(query) {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// A quoted literal or identifier; a doubled quote stays inside.
			// E'...' strings also escape with a backslash.
			escapes := c == '\'' && i > 0 && (query[i-1] == 'e' || query[i-1] == 'E') && (i < 2 || !isIdentChar(query[i-2]))
			j := i + 1
			for j < len(query) {
				if escapes && query[j] == '\\' {
					j += 2
					continue
				}
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(query) {
				return nil, fmt.Errorf("unterminated %s starting at byte %d", map[byte]string{'\'': "string literal", '"': "quoted identifier"}[c], i)
			}
			cur.WriteString(query[i : j+1])
			i = j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			cur.WriteString(query[i : i+j])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			// PostgreSQL block comments nest.
			depth, j := 1, i+2
			for j < len(query) && depth > 0 {
				switch {
				case strings.HasPrefix(query[j:], "/*"):
					depth++
					j += 2
				case strings.HasPrefix(query[j:], "*/"):
					depth--
					j += 2
				default:
					j++
				}
			}
			if depth > 0 {
				return nil, fmt.Errorf("unterminated comment starting at byte %d", i)
			}
			cur.WriteString(query[i:j])
			i = j
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' && (i == 0 || !isIdentChar(query[i-1])):
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(query[i+1 : j])
			if err != nil || n < 1 || n > maxParams {
				return nil, fmt.Errorf("%w %s: numbers run from $1 to $%d", ErrParameter, query[i:j], maxParams)
			}
			dollar = true
			t.Parts = append(t.Parts, cur.String())
			cur.Reset()
			t.Params = append(t.Params, n-1)
			t.N = max(t.N, n)
			i = j
		case c == '$' && (i == 0 || !isIdentChar(query[i-1])):
			// A dollar-quoted string: $tag$ ... $tag$.
			j := i + 1
			for j < len(query) && isIdentChar(query[j]) {
				j++
			}
			if j < len(query) && query[j] == '$' {
				tag := query[i : j+1]
				end := strings.Index(query[j+1:], tag)
				if end < 0 {
					return nil, fmt.Errorf("unterminated dollar-quoted string %s starting at byte %d", tag, i)
				}
				stop := j + 1 + end + len(tag)
				cur.WriteString(query[i:stop])
				i = stop
				continue
			}
			cur.WriteByte(c)
			i++
		case c == '?':
			question = true
			t.Parts = append(t.Parts, cur.String())
			cur.Reset()
			t.Params = append(t.Params, t.N)
			t.N++
			if t.N > maxParams {
				return nil, fmt.Errorf("%w: more than %d parameters", ErrParameter, maxParams)
			}
			i++
		default:
			cur.WriteByte(c)
			i++
		}
	}
	if dollar && question {
		return nil, fmt.Errorf("%w: use either $n or ? markers, not both", ErrParameter)
	}
	t.Parts = append(t.Parts, cur.String())
	return t, nil
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// render splices literals (one per parameter) into the statement.
func (t *template) render(literals []string) (string, error) {
	if len(literals) != t.N {
		return "", fmt.Errorf("%w: the statement has %d parameters, %d were bound", ErrParameter, t.N, len(literals))
	}
	var b strings.Builder
	for i, p := range t.Parts {
		b.WriteString(p)
		if i < len(t.Params) {
			// Spaces keep a literal from fusing with its neighbours (a
			// negative number after a minus would start a comment).
			b.WriteByte(' ')
			b.WriteString(literals[t.Params[i]])
			b.WriteByte(' ')
		}
	}
	return b.String(), nil
}

// nulls is a NULL for every parameter (to plan a statement before its
// parameters are bound).
func (t *template) nulls() []string {
	out := make([]string, t.N)
	for i := range out {
		out[i] = "NULL"
	}
	return out
}

// rowLiterals turns row r of a parameter batch into SQL literals, one per
// column.
func rowLiterals(rec arrow.RecordBatch, r int) ([]string, error) {
	out := make([]string, rec.NumCols())
	for c := range out {
		lit, err := literal(rec.Column(c), r)
		if err != nil {
			return nil, fmt.Errorf("%w $%d (%s): %v", ErrParameter, c+1, rec.Schema().Field(c).Name, err)
		}
		out[c] = lit
	}
	return out, nil
}

// literal renders one value as a SQL literal of the same type. Values are
// never pasted as text: strings are quoted with their quotes doubled,
// numbers are formatted from their binary value, and every type the
// binder would guess differently is cast explicitly.
func literal(col arrow.Array, i int) (string, error) {
	if col.IsNull(i) {
		return "NULL", nil
	}
	switch a := col.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return "TRUE", nil
		}
		return "FALSE", nil
	case *array.Int8:
		return intLit(int64(a.Value(i)), "SMALLINT"), nil
	case *array.Int16:
		return intLit(int64(a.Value(i)), "SMALLINT"), nil
	case *array.Int32:
		return intLit(int64(a.Value(i)), "INTEGER"), nil
	case *array.Int64:
		return intLit(a.Value(i), "BIGINT"), nil
	case *array.Uint8:
		return intLit(int64(a.Value(i)), "SMALLINT"), nil
	case *array.Uint16:
		return intLit(int64(a.Value(i)), "INTEGER"), nil
	case *array.Uint32:
		return intLit(int64(a.Value(i)), "BIGINT"), nil
	case *array.Uint64:
		v := a.Value(i)
		if v > math.MaxInt64 {
			return "CAST('" + strconv.FormatUint(v, 10) + "' AS DECIMAL(20, 0))", nil
		}
		return intLit(int64(v), "BIGINT"), nil
	case *array.Float32:
		return floatLit(float64(a.Value(i)), "REAL"), nil
	case *array.Float64:
		return floatLit(a.Value(i), "DOUBLE PRECISION"), nil
	case *array.Decimal128:
		t := a.DataType().(*arrow.Decimal128Type)
		return fmt.Sprintf("CAST('%s' AS DECIMAL(%d, %d))", decimalText(a.Value(i), t.Scale), t.Precision, t.Scale), nil
	case *array.String:
		return stringLit(a.Value(i))
	case *array.LargeString:
		return stringLit(a.Value(i))
	case *array.StringView:
		return stringLit(a.Value(i))
	case *array.Date32:
		return "DATE '" + a.Value(i).ToTime().Format("2006-01-02") + "'", nil
	case *array.Date64:
		return "DATE '" + a.Value(i).ToTime().Format("2006-01-02") + "'", nil
	case *array.Timestamp:
		t := a.DataType().(*arrow.TimestampType)
		ts := a.Value(i).ToTime(t.Unit)
		if t.TimeZone != "" {
			return "TIMESTAMPTZ '" + ts.UTC().Format("2006-01-02 15:04:05.999999999") + "+00'", nil
		}
		return "TIMESTAMP '" + ts.Format("2006-01-02 15:04:05.999999999") + "'", nil
	}
	return "", fmt.Errorf("type %s cannot be bound (supported: booleans, integers, floats, decimals, strings, dates, timestamps)", col.DataType())
}

func intLit(v int64, sqlType string) string {
	// A bare integer literal is an INTEGER to the binder; other widths are
	// cast so the statement types as it would with a real parameter.
	s := strconv.FormatInt(v, 10)
	if v < 0 {
		s = "(" + s + ")"
	}
	if sqlType == "INTEGER" {
		return s
	}
	return "CAST(" + s + " AS " + sqlType + ")"
}

func floatLit(v float64, sqlType string) string {
	var s string
	switch {
	case math.IsNaN(v):
		s = "NaN"
	case math.IsInf(v, 1):
		s = "Infinity"
	case math.IsInf(v, -1):
		s = "-Infinity"
	default:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "CAST('" + s + "' AS " + sqlType + ")"
}

func stringLit(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("the string is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("the string holds a NUL character, which SQL text cannot carry")
	}
	// Standard-conforming strings: a backslash is an ordinary character,
	// only the quote needs doubling.
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

func decimalText(v decimal128.Num, scale int32) string {
	return v.ToString(scale)
}
