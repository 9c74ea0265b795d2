package logical

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// MaxDecimal64Precision is the widest precision held in int64 unscaled values.
const MaxDecimal64Precision = 18

// MaxDecimalPrecision is the widest decimal precision supported.
const MaxDecimalPrecision = 38

// DecimalType returns decimal(p, s): Decimal64 when p <= 18, else
// Decimal128. p is capped at 38.
func DecimalType(p, s int32) arrow.DataType {
	if p > MaxDecimalPrecision {
		p = MaxDecimalPrecision
	}
	if s > p {
		s = p
	}
	if p <= MaxDecimal64Precision {
		return &arrow.Decimal64Type{Precision: p, Scale: s}
	}
	return &arrow.Decimal128Type{Precision: p, Scale: s}
}

// DecimalParams returns the precision and scale of a decimal type, ok=false
// for other types.
func DecimalParams(t arrow.DataType) (p, s int32, ok bool) {
	switch d := t.(type) {
	case *arrow.Decimal64Type:
		return d.Precision, d.Scale, true
	case *arrow.Decimal128Type:
		return d.Precision, d.Scale, true
	}
	return 0, 0, false
}

// IsDecimal reports whether t is a decimal type.
func IsDecimal(t arrow.DataType) bool { _, _, ok := DecimalParams(t); return ok }

// IsInteger reports whether t is a signed or unsigned integer type.
func IsInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// IsFloat reports whether t is float32 or float64.
func IsFloat(t arrow.DataType) bool { return t.ID() == arrow.FLOAT32 || t.ID() == arrow.FLOAT64 }

// IsNumeric reports whether t is an integer, float or decimal type.
func IsNumeric(t arrow.DataType) bool { return IsInteger(t) || IsFloat(t) || IsDecimal(t) }

// IsString reports whether t is a string type.
func IsString(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}

// IsTemporal reports whether t is a date or timestamp type.
func IsTemporal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP:
		return true
	}
	return false
}

// Bool is the boolean type.
var Bool = arrow.FixedWidthTypes.Boolean

// Int64 is the int64 type.
var Int64 = arrow.PrimitiveTypes.Int64

// Float64 is the float64 type.
var Float64 = arrow.PrimitiveTypes.Float64

// Utf8 is the string type used for all strings inside the engine.
var Utf8 = arrow.BinaryTypes.String

// Date32 is the date type.
var Date32 = arrow.FixedWidthTypes.Date32

// TimestampUs is the timestamp type (microseconds, no zone).
var TimestampUs = &arrow.TimestampType{Unit: arrow.Microsecond}

// Interval is the interval type.
var Interval = arrow.FixedWidthTypes.MonthDayNanoInterval

// NullLiteral returns a typed NULL.
func NullLiteral(t arrow.DataType) *Literal { return &Literal{Value: nil, T: t} }

// FormatLiteral renders a literal as SQL-like text.
func FormatLiteral(l *Literal) string {
	if l.Value == nil {
		return "NULL"
	}
	switch v := l.Value.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case int64:
		if p, s, ok := DecimalParams(l.T); ok {
			return FormatDecimal64(v, s) + fmt.Sprintf("::decimal(%d,%d)", p, s)
		}
		return strconv.FormatInt(v, 10)
	case decimal128.Num:
		_, s, _ := DecimalParams(l.T)
		return v.ToString(s)
	case arrow.Date32:
		return "DATE '" + v.FormattedString() + "'"
	case arrow.Timestamp:
		return "TIMESTAMP '" + v.ToTime(arrow.Microsecond).Format("2006-01-02 15:04:05.999999") + "'"
	case arrow.MonthDayNanoInterval:
		return fmt.Sprintf("INTERVAL '%d months %d days %d ns'", v.Months, v.Days, v.Nanoseconds)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(l.Value)
}

// FormatDecimal64 renders an unscaled int64 with scale s.
func FormatDecimal64(v int64, s int32) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	digits := strconv.FormatUint(u, 10)
	if s > 0 {
		for int32(len(digits)) <= s {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-int(s)] + "." + digits[len(digits)-int(s):]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
