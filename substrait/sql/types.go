package sql

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// defaultDecimal is the type of NUMERIC/DECIMAL without precision.
var defaultDecimal = logical.DecimalType(38, 10)

// typeName returns the lowercased last part of a TypeName.
func typeName(tn *pg.TypeName) string {
	if len(tn.Names) == 0 {
		return ""
	}
	return strings.ToLower(strVal(tn.Names[len(tn.Names)-1]))
}

// typmods returns the integer type modifiers of tn.
func typmods(tn *pg.TypeName) ([]int32, error) {
	var out []int32
	for _, m := range tn.Typmods {
		c, ok := m.Node.(*pg.Node_AConst)
		if !ok {
			return nil, fmt.Errorf("type modifier must be an integer constant")
		}
		iv, ok := c.AConst.Val.(*pg.A_Const_Ival)
		if !ok {
			return nil, fmt.Errorf("type modifier must be an integer constant")
		}
		out = append(out, iv.Ival.Ival)
	}
	return out, nil
}

// arrowType maps a SQL type name to the engine's Arrow type.
func arrowType(tn *pg.TypeName) (arrow.DataType, error) {
	if len(tn.ArrayBounds) > 0 {
		return nil, notSupported("array types")
	}
	name := typeName(tn)
	mods, err := typmods(tn)
	if err != nil {
		return nil, err
	}
	switch name {
	case "int2", "smallint":
		return arrow.PrimitiveTypes.Int16, nil
	case "int4", "int", "integer":
		return arrow.PrimitiveTypes.Int32, nil
	case "int8", "bigint":
		return arrow.PrimitiveTypes.Int64, nil
	case "tinyint", "int1":
		return arrow.PrimitiveTypes.Int8, nil
	case "float4", "real":
		return arrow.PrimitiveTypes.Float32, nil
	case "float8", "double", "float":
		if name == "float" && len(mods) == 1 && mods[0] <= 24 {
			return arrow.PrimitiveTypes.Float32, nil
		}
		return arrow.PrimitiveTypes.Float64, nil
	case "numeric", "decimal":
		switch len(mods) {
		case 0:
			return defaultDecimal, nil
		case 1, 2:
			p, s := mods[0], int32(0)
			if len(mods) == 2 {
				s = mods[1]
			}
			if p < 1 || p > logical.MaxDecimalPrecision {
				return nil, fmt.Errorf("decimal precision %d must be between 1 and %d", p, logical.MaxDecimalPrecision)
			}
			if s < 0 || s > p {
				return nil, fmt.Errorf("decimal scale %d must be between 0 and the precision %d", s, p)
			}
			return logical.DecimalType(p, s), nil
		}
		return nil, fmt.Errorf("decimal takes at most two modifiers")
	case "varchar", "text", "bpchar", "char", "character", "string", "name", "utf8":
		return logical.Utf8, nil
	case "bool", "boolean":
		return logical.Bool, nil
	case "date":
		return logical.Date32, nil
	case "timestamp":
		return logical.TimestampUs, nil
	case "timestamptz":
		return nil, notSupported("timestamp with time zone")
	case "interval":
		return logical.Interval, nil
	case "bytea", "blob", "binary", "varbinary":
		return arrow.BinaryTypes.Binary, nil
	}
	return nil, fmt.Errorf("type %q does not exist", name)
}

// sqlTypeName is the name PostgreSQL gives a type (for output column names
// of casts).
func sqlTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.INT8, arrow.INT16:
		return "smallint"
	case arrow.INT32:
		return "integer"
	case arrow.INT64:
		return "bigint"
	case arrow.FLOAT32:
		return "real"
	case arrow.FLOAT64:
		return "double precision"
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return "numeric"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "text"
	case arrow.BOOL:
		return "boolean"
	case arrow.DATE32:
		return "date"
	case arrow.TIMESTAMP:
		return "timestamp"
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return "interval"
	}
	return t.String()
}

// intDigits is the number of decimal digits of the widest value of an
// integer type.
func intDigits(t arrow.DataType) int32 {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return 3
	case arrow.INT16, arrow.UINT16:
		return 5
	case arrow.INT32, arrow.UINT32:
		return 10
	}
	return 19
}

func intRank(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8:
		return 1
	case arrow.UINT8, arrow.INT16:
		return 2
	case arrow.UINT16, arrow.INT32:
		return 3
	}
	return 4
}

func intOfRank(r int) arrow.DataType {
	switch r {
	case 1:
		return arrow.PrimitiveTypes.Int8
	case 2:
		return arrow.PrimitiveTypes.Int16
	case 3:
		return arrow.PrimitiveTypes.Int32
	}
	return arrow.PrimitiveTypes.Int64
}

// isNullType reports whether t is the type of an untyped NULL.
func isNullType(t arrow.DataType) bool { return t.ID() == arrow.NULL }

// commonType is the type both a and b convert to for comparison or for a
// CASE/COALESCE/UNION result; ok=false when there is none.
func commonType(a, b arrow.DataType) (arrow.DataType, bool) {
	if arrow.TypeEqual(a, b) {
		return a, true
	}
	switch {
	case isNullType(a):
		return b, true
	case isNullType(b):
		return a, true
	case logical.IsString(a) && logical.IsString(b):
		return logical.Utf8, true
	case logical.IsInteger(a) && logical.IsInteger(b):
		return intOfRank(max(intRank(a), intRank(b))), true
	case logical.IsFloat(a) && logical.IsFloat(b):
		return logical.Float64, true
	case logical.IsNumeric(a) && logical.IsNumeric(b):
		if logical.IsFloat(a) || logical.IsFloat(b) {
			return logical.Float64, true
		}
		p1, s1 := decimalParamsOf(a)
		p2, s2 := decimalParamsOf(b)
		s := max(s1, s2)
		p := max(p1-s1, p2-s2) + s
		if p > logical.MaxDecimalPrecision {
			p = logical.MaxDecimalPrecision
		}
		return logical.DecimalType(p, min(s, p)), true
	case a.ID() == arrow.DATE32 && b.ID() == arrow.TIMESTAMP, a.ID() == arrow.TIMESTAMP && b.ID() == arrow.DATE32:
		return logical.TimestampUs, true
	case a.ID() == arrow.TIMESTAMP && b.ID() == arrow.TIMESTAMP:
		return logical.TimestampUs, true
	case a.ID() == arrow.BINARY && logical.IsString(b), logical.IsString(a) && b.ID() == arrow.BINARY:
		return arrow.BinaryTypes.Binary, true
	}
	return nil, false
}

// decimalParamsOf gives the decimal precision and scale of a decimal or
// integer type.
func decimalParamsOf(t arrow.DataType) (p, s int32) {
	if p, s, ok := logical.DecimalParams(t); ok {
		return p, s
	}
	return intDigits(t), 0
}

// castTo converts e to t: literals are converted at bind time, other
// expressions get a Cast node. It is a no-op when e already has type t.
func castTo(e logical.Expr, t arrow.DataType) (logical.Expr, error) {
	if arrow.TypeEqual(e.Type(), t) {
		return e, nil
	}
	if l, ok := e.(*logical.Literal); ok {
		out, err := castLiteral(l, t, false)
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
	if !castable(e.Type(), t) {
		return nil, fmt.Errorf("cannot cast %s to %s", sqlTypeName(e.Type()), sqlTypeName(t))
	}
	return &logical.Cast{Input: e, T: t}, nil
}

// castable reports whether a Cast from a to b is meaningful.
func castable(a, b arrow.DataType) bool {
	switch {
	case isNullType(a):
		return true
	case logical.IsString(a) || logical.IsString(b):
		return true
	case logical.IsNumeric(a) && logical.IsNumeric(b):
		return true
	case a.ID() == arrow.BOOL && (logical.IsInteger(b) || b.ID() == arrow.BOOL):
		return true
	case logical.IsInteger(a) && b.ID() == arrow.BOOL:
		return true
	case logical.IsTemporal(a) && logical.IsTemporal(b):
		return true
	case a.ID() == arrow.BINARY && b.ID() == arrow.BINARY:
		return true
	}
	return false
}

// newDecimalLiteral builds a decimal literal from an unscaled value.
func newDecimalLiteral(unscaled *big.Int, p, s int32) (*logical.Literal, error) {
	t := logical.DecimalType(p, s)
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	if new(big.Int).Abs(unscaled).Cmp(limit) >= 0 {
		return nil, fmt.Errorf("value does not fit decimal(%d,%d)", p, s)
	}
	if p <= logical.MaxDecimal64Precision {
		return &logical.Literal{Value: unscaled.Int64(), T: t}, nil
	}
	return &logical.Literal{Value: decimal128.FromBigInt(unscaled), T: t}, nil
}

// literalDecimal returns the unscaled value and scale of an integer or
// decimal literal.
func literalDecimal(l *logical.Literal) (*big.Int, int32, bool) {
	switch v := l.Value.(type) {
	case int8:
		return big.NewInt(int64(v)), 0, true
	case int16:
		return big.NewInt(int64(v)), 0, true
	case int32:
		return big.NewInt(int64(v)), 0, true
	case int64:
		if _, s, ok := logical.DecimalParams(l.T); ok {
			return big.NewInt(v), s, true
		}
		return big.NewInt(v), 0, true
	case decimal128.Num:
		_, s, _ := logical.DecimalParams(l.T)
		return v.BigInt(), s, true
	}
	return nil, 0, false
}

// rescale changes the scale of an unscaled value; exact reports whether no
// digit was lost (values are rounded half away from zero otherwise).
func rescale(v *big.Int, from, to int32) (out *big.Int, exact bool) {
	if to >= from {
		return new(big.Int).Mul(v, pow10(to-from)), true
	}
	d := pow10(from - to)
	q, r := new(big.Int).QuoRem(v, d, new(big.Int))
	if r.Sign() == 0 {
		return q, true
	}
	twice := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	if twice.Cmp(d) >= 0 {
		if v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q, false
}

func pow10(n int32) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// decimalToFloat converts an unscaled decimal to float64.
func decimalToFloat(v *big.Int, s int32) float64 {
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(v), new(big.Float).SetInt(pow10(s))).Float64()
	return f
}

// castLiteral converts literal l to type t at bind time. It returns nil
// (and no error) when the conversion is left to run time. With exact set,
// conversions that would lose information return nil.
func castLiteral(l *logical.Literal, t arrow.DataType, exact bool) (logical.Expr, error) {
	if l.Value == nil {
		return logical.NullLiteral(t), nil
	}
	switch {
	case logical.IsInteger(t):
		if v, s, ok := literalDecimal(l); ok {
			if s > 0 {
				var ex bool
				v, ex = rescale(v, s, 0)
				if exact && !ex {
					return nil, nil
				}
			}
			if !v.IsInt64() {
				return nil, fmt.Errorf("value %s out of range for %s", v, sqlTypeName(t))
			}
			return intLiteral(v.Int64(), t, exact)
		}
		switch v := l.Value.(type) {
		case float64:
			if exact {
				return nil, nil
			}
			r := math.RoundToEven(v) // float to integer rounds half to even, as in PostgreSQL
			if r < math.MinInt64 || r >= math.MaxInt64 {
				return nil, fmt.Errorf("value %v out of range for %s", v, sqlTypeName(t))
			}
			return intLiteral(int64(r), t, false)
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type %s: %q", sqlTypeName(t), v)
			}
			return intLiteral(n, t, false)
		}
	case logical.IsDecimal(t):
		p, s, _ := logical.DecimalParams(t)
		if v, vs, ok := literalDecimal(l); ok {
			r, ex := rescale(v, vs, s)
			if exact && !ex {
				return nil, nil
			}
			out, err := newDecimalLiteral(r, p, s)
			if err != nil && exact {
				return nil, nil
			}
			return out, err
		}
		switch v := l.Value.(type) {
		case float64:
			if exact {
				return nil, nil
			}
			bf := new(big.Float).Mul(big.NewFloat(v), new(big.Float).SetInt(pow10(s)))
			f, _ := bf.Float64()
			r, _ := big.NewFloat(math.Round(f)).Int(nil)
			return newDecimalLiteral(r, p, s)
		case string:
			uv, vs, err := parseDecimalString(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type numeric: %q", v)
			}
			r, _ := rescale(uv, vs, s)
			return newDecimalLiteral(r, p, s)
		}
	case logical.IsFloat(t):
		var f float64
		if v, s, ok := literalDecimal(l); ok {
			f = decimalToFloat(v, s)
		} else {
			switch v := l.Value.(type) {
			case float64:
				f = v
			case float32:
				f = float64(v)
			case string:
				var err error
				if f, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
					return nil, fmt.Errorf("invalid input syntax for type double precision: %q", v)
				}
			default:
				return nil, nil
			}
		}
		if t.ID() == arrow.FLOAT32 {
			return &logical.Literal{Value: float32(f), T: t}, nil
		}
		return &logical.Literal{Value: f, T: t}, nil
	case logical.IsString(t):
		if exact {
			if _, ok := l.Value.(string); !ok {
				return nil, nil
			}
		}
		return &logical.Literal{Value: literalText(l), T: logical.Utf8}, nil
	case t.ID() == arrow.BOOL:
		switch v := l.Value.(type) {
		case bool:
			return &logical.Literal{Value: v, T: t}, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "t", "true", "y", "yes", "on", "1":
				return &logical.Literal{Value: true, T: t}, nil
			case "f", "false", "n", "no", "off", "0":
				return &logical.Literal{Value: false, T: t}, nil
			}
			return nil, fmt.Errorf("invalid input syntax for type boolean: %q", v)
		}
	case t.ID() == arrow.DATE32:
		switch v := l.Value.(type) {
		case string:
			d, err := parseDate(v)
			if err != nil {
				return nil, err
			}
			return &logical.Literal{Value: d, T: t}, nil
		case arrow.Timestamp:
			if exact {
				return nil, nil
			}
			return &logical.Literal{Value: arrow.Date32FromTime(v.ToTime(arrow.Microsecond)), T: t}, nil
		}
	case t.ID() == arrow.TIMESTAMP:
		switch v := l.Value.(type) {
		case string:
			ts, err := parseTimestamp(v)
			if err != nil {
				return nil, err
			}
			return &logical.Literal{Value: ts, T: logical.TimestampUs}, nil
		case arrow.Date32:
			return &logical.Literal{Value: arrow.Timestamp(v.ToTime().UnixMicro()), T: logical.TimestampUs}, nil
		}
	case t.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
		if v, ok := l.Value.(string); ok {
			iv, err := parseInterval(v, 0)
			if err != nil {
				return nil, err
			}
			return &logical.Literal{Value: iv, T: t}, nil
		}
	case t.ID() == arrow.BINARY:
		if v, ok := l.Value.(string); ok {
			return &logical.Literal{Value: []byte(v), T: t}, nil
		}
	}
	return nil, nil
}

// intLiteral builds an integer literal of type t, checking the range.
func intLiteral(v int64, t arrow.DataType, exact bool) (logical.Expr, error) {
	var lo, hi int64
	switch t.ID() {
	case arrow.INT8:
		lo, hi = math.MinInt8, math.MaxInt8
	case arrow.INT16:
		lo, hi = math.MinInt16, math.MaxInt16
	case arrow.INT32:
		lo, hi = math.MinInt32, math.MaxInt32
	case arrow.INT64:
		lo, hi = math.MinInt64, math.MaxInt64
	default:
		return nil, nil
	}
	if v < lo || v > hi {
		if exact {
			return nil, nil
		}
		return nil, fmt.Errorf("value %d out of range for %s", v, sqlTypeName(t))
	}
	switch t.ID() {
	case arrow.INT8:
		return &logical.Literal{Value: int8(v), T: t}, nil
	case arrow.INT16:
		return &logical.Literal{Value: int16(v), T: t}, nil
	case arrow.INT32:
		return &logical.Literal{Value: int32(v), T: t}, nil
	}
	return &logical.Literal{Value: v, T: t}, nil
}

// literalText renders a literal's value as the text a cast to string gives.
func literalText(l *logical.Literal) string {
	if v, s, ok := literalDecimal(l); ok {
		if s == 0 {
			return v.String()
		}
		neg := v.Sign() < 0
		digits := new(big.Int).Abs(v).String()
		for int32(len(digits)) <= s {
			digits = "0" + digits
		}
		out := digits[:len(digits)-int(s)] + "." + digits[len(digits)-int(s):]
		if neg {
			out = "-" + out
		}
		return out
	}
	switch v := l.Value.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case arrow.Date32:
		return v.FormattedString()
	case arrow.Timestamp:
		return v.ToTime(arrow.Microsecond).Format("2006-01-02 15:04:05.999999")
	}
	return fmt.Sprint(l.Value)
}

// parseDecimalString parses [-+]digits[.digits] into an unscaled value and
// scale.
func parseDecimalString(s string) (*big.Int, int32, error) {
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return nil, 0, fmt.Errorf("empty number")
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return nil, 0, fmt.Errorf("invalid number %q", s)
		}
	}
	v, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok {
		return nil, 0, fmt.Errorf("invalid number %q", s)
	}
	if neg {
		v.Neg(v)
	}
	return v, int32(len(frac)), nil
}

// numericLiteral types a numeric constant as PostgreSQL does: integers are
// int32 or int64, numbers with a decimal point are decimal(digits, scale),
// numbers with an exponent (or too many digits) are float64.
func numericLiteral(text string) (*logical.Literal, error) {
	if !strings.ContainsAny(text, "eE") {
		if !strings.Contains(text, ".") {
			if v, err := strconv.ParseInt(text, 10, 64); err == nil {
				if v >= math.MinInt32 && v <= math.MaxInt32 {
					return &logical.Literal{Value: int32(v), T: arrow.PrimitiveTypes.Int32}, nil
				}
				return &logical.Literal{Value: v, T: logical.Int64}, nil
			}
		}
		v, s, err := parseDecimalString(text)
		if err != nil {
			return nil, err
		}
		p := int32(len(new(big.Int).Abs(v).String()))
		if v.Sign() == 0 {
			p = 1
		}
		p = max(p, s)
		if p <= logical.MaxDecimalPrecision {
			return newDecimalLiteral(v, max(p, 1), s)
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid number %q", text)
	}
	return &logical.Literal{Value: f, T: logical.Float64}, nil
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "20060102"}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04",
	"2006-01-02",
}

// parseDate parses a DATE literal.
func parseDate(s string) (arrow.Date32, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return arrow.Date32FromTime(t), nil
		}
	}
	return 0, fmt.Errorf("invalid input syntax for type date: %q", s)
}

// parseTimestamp parses a TIMESTAMP literal (microsecond precision).
func parseTimestamp(s string) (arrow.Timestamp, error) {
	s = strings.TrimSpace(s)
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return arrow.Timestamp(t.UnixMicro()), nil
		}
	}
	return 0, fmt.Errorf("invalid input syntax for type timestamp: %q", s)
}

// Interval field masks of PostgreSQL's typmod (INTERVAL_MASK in datetime.h).
const (
	maskMonth  = 1 << 1
	maskYear   = 1 << 2
	maskDay    = 1 << 3
	maskHour   = 1 << 10
	maskMinute = 1 << 11
	maskSecond = 1 << 12
)

// parseInterval parses an interval literal: "N unit [N unit ...]" or, when
// mask names a single field (interval '90' day), a bare number of that
// field. Hours, minutes and seconds may also be written hh:mm[:ss].
func parseInterval(s string, mask int32) (arrow.MonthDayNanoInterval, error) {
	var out arrow.MonthDayNanoInterval
	bad := func() (arrow.MonthDayNanoInterval, error) {
		return arrow.MonthDayNanoInterval{}, fmt.Errorf("invalid input syntax for type interval: %q", s)
	}
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 0 {
		return bad()
	}
	defaultUnit := ""
	switch mask {
	case maskYear:
		defaultUnit = "year"
	case maskMonth:
		defaultUnit = "month"
	case maskDay:
		defaultUnit = "day"
	case maskHour:
		defaultUnit = "hour"
	case maskMinute:
		defaultUnit = "minute"
	case maskSecond, 0:
		defaultUnit = "second"
	default:
		if len(fields) == 1 && !strings.Contains(fields[0], ":") {
			return arrow.MonthDayNanoInterval{}, notSupported("interval field ranges")
		}
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			parts := strings.Split(f, ":")
			if len(parts) > 3 {
				return bad()
			}
			neg := strings.HasPrefix(parts[0], "-")
			var nanos float64
			mult := []float64{3600e9, 60e9, 1e9}
			for j, p := range parts {
				v, err := strconv.ParseFloat(strings.TrimPrefix(p, "-"), 64)
				if err != nil {
					return bad()
				}
				nanos += v * mult[j]
			}
			if neg {
				nanos = -nanos
			}
			out.Nanoseconds += int64(math.Round(nanos))
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return bad()
		}
		unit := defaultUnit
		if i+1 < len(fields) {
			unit = fields[i+1]
			i++
		} else if defaultUnit == "" {
			return bad()
		}
		if err := addIntervalUnit(&out, v, unit); err != nil {
			return bad()
		}
	}
	return out, nil
}

var intervalUnitNames = map[string]string{
	"year": "year", "years": "year", "yr": "year", "yrs": "year", "y": "year",
	"month": "month", "months": "month", "mon": "month", "mons": "month",
	"week": "week", "weeks": "week", "w": "week",
	"day": "day", "days": "day", "d": "day",
	"hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour",
	"minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute", "m": "minute",
	"second": "second", "seconds": "second", "sec": "second", "secs": "second", "s": "second",
	"millisecond": "millisecond", "milliseconds": "millisecond", "ms": "millisecond",
	"microsecond": "microsecond", "microseconds": "microsecond", "us": "microsecond",
}

func addIntervalUnit(iv *arrow.MonthDayNanoInterval, v float64, unit string) error {
	whole := func(x float64) (int32, error) {
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return 0, fmt.Errorf("fractional")
		}
		return int32(x), nil
	}
	switch intervalUnitNames[unit] {
	case "year":
		m, err := whole(v * 12)
		if err != nil {
			return err
		}
		iv.Months += m
	case "month":
		m, err := whole(v)
		if err != nil {
			return err
		}
		iv.Months += m
	case "week":
		d, err := whole(v * 7)
		if err != nil {
			return err
		}
		iv.Days += d
	case "day":
		d, err := whole(math.Trunc(v))
		if err != nil {
			return err
		}
		iv.Days += d
		iv.Nanoseconds += int64(math.Round((v - math.Trunc(v)) * 86400e9))
	case "hour":
		iv.Nanoseconds += int64(math.Round(v * 3600e9))
	case "minute":
		iv.Nanoseconds += int64(math.Round(v * 60e9))
	case "second":
		iv.Nanoseconds += int64(math.Round(v * 1e9))
	case "millisecond":
		iv.Nanoseconds += int64(math.Round(v * 1e6))
	case "microsecond":
		iv.Nanoseconds += int64(math.Round(v * 1e3))
	default:
		return fmt.Errorf("unit")
	}
	return nil
}

// addMonthsDays adds an interval's months and days to a date with
// PostgreSQL's rules (the day of month is clamped to the month's end).
func addMonthsDays(t time.Time, months, days int32) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + int(months)
	y += total / 12
	total %= 12
	if total < 0 {
		total += 12
		y--
	}
	nm := time.Month(total + 1)
	last := time.Date(y, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	h, mi, s := t.Clock()
	out := time.Date(y, nm, d, h, mi, s, t.Nanosecond(), time.UTC)
	return out.AddDate(0, 0, int(days))
}

// foldDateArith folds date/timestamp ± interval over literals. It returns
// nil when the operands are not both literals.
func foldDateArith(fn string, l, r logical.Expr) logical.Expr {
	ll, ok1 := l.(*logical.Literal)
	rl, ok2 := r.(*logical.Literal)
	if !ok1 || !ok2 || ll.Value == nil || rl.Value == nil {
		return nil
	}
	iv, ok := rl.Value.(arrow.MonthDayNanoInterval)
	if !ok {
		return nil
	}
	if fn == "subtract" {
		iv = arrow.MonthDayNanoInterval{Months: -iv.Months, Days: -iv.Days, Nanoseconds: -iv.Nanoseconds}
	}
	var t time.Time
	isDate := false
	switch v := ll.Value.(type) {
	case arrow.Date32:
		t, isDate = v.ToTime(), true
	case arrow.Timestamp:
		t = v.ToTime(arrow.Microsecond)
	default:
		return nil
	}
	t = addMonthsDays(t, iv.Months, iv.Days).Add(time.Duration(iv.Nanoseconds))
	if isDate && iv.Nanoseconds == 0 {
		return &logical.Literal{Value: arrow.Date32FromTime(t), T: logical.Date32}
	}
	return &logical.Literal{Value: arrow.Timestamp(t.UnixMicro()), T: logical.TimestampUs}
}
