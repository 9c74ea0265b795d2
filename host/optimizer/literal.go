package optimizer

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/arbalest/arbalest/substrait/logical"
)

// Literal arithmetic used by constant folding. Every function returns ok=false
// when it cannot produce the exact value the executor would (overflow,
// division by zero, rounding whose rule the executor owns): the expression is
// then left for run time, which reports the error or rounds.

// intOf returns the value of an integer literal.
func intOf(l *logical.Literal) (int64, bool) {
	switch v := l.Value.(type) {
	case int8:
		return int64(v), logical.IsInteger(l.T)
	case int16:
		return int64(v), logical.IsInteger(l.T)
	case int32:
		return int64(v), logical.IsInteger(l.T)
	case int64:
		return v, logical.IsInteger(l.T)
	}
	return 0, false
}

// makeInt builds an integer literal of type t, ok=false when v is out of range.
func makeInt(v int64, t arrow.DataType) (*logical.Literal, bool) {
	var val any
	switch t.ID() {
	case arrow.INT8:
		if v < math.MinInt8 || v > math.MaxInt8 {
			return nil, false
		}
		val = int8(v)
	case arrow.INT16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return nil, false
		}
		val = int16(v)
	case arrow.INT32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, false
		}
		val = int32(v)
	case arrow.INT64:
		val = v
	default:
		return nil, false
	}
	return &logical.Literal{Value: val, T: t}, true
}

func floatOf(l *logical.Literal) (float64, bool) {
	switch v := l.Value.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func makeFloat(v float64, t arrow.DataType) (*logical.Literal, bool) {
	switch t.ID() {
	case arrow.FLOAT32:
		return &logical.Literal{Value: float32(v), T: t}, true
	case arrow.FLOAT64:
		return &logical.Literal{Value: v, T: t}, true
	}
	return nil, false
}

// decOf returns a decimal literal's unscaled value and scale; integer
// literals are decimals of scale 0.
func decOf(l *logical.Literal) (*big.Int, int32, bool) {
	if _, s, ok := logical.DecimalParams(l.T); ok {
		switch v := l.Value.(type) {
		case int64:
			return big.NewInt(v), s, true
		case decimal128.Num:
			return v.BigInt(), s, true
		}
		return nil, 0, false
	}
	if v, ok := intOf(l); ok {
		return big.NewInt(v), 0, true
	}
	return nil, 0, false
}

var bigTen = big.NewInt(10)

func pow10(n int32) *big.Int { return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil) }

// rescale changes the scale of unscaled value v from s to t exactly;
// ok=false when digits would be lost.
func rescale(v *big.Int, s, t int32) (*big.Int, bool) {
	switch {
	case t == s:
		return v, true
	case t > s:
		return new(big.Int).Mul(v, pow10(t-s)), true
	}
	q, r := new(big.Int).QuoRem(v, pow10(s-t), new(big.Int))
	return q, r.Sign() == 0
}

// makeDecimal builds a literal of decimal type t from an unscaled value
// already at t's scale; ok=false when it exceeds t's precision.
func makeDecimal(v *big.Int, t arrow.DataType) (*logical.Literal, bool) {
	p, _, ok := logical.DecimalParams(t)
	if !ok || new(big.Int).Abs(v).Cmp(pow10(p)) >= 0 {
		return nil, false
	}
	switch t.(type) {
	case *arrow.Decimal64Type:
		return &logical.Literal{Value: v.Int64(), T: t}, true
	case *arrow.Decimal128Type:
		return &logical.Literal{Value: decimal128.FromBigInt(v), T: t}, true
	}
	return nil, false
}

// compareLiterals orders two non-null literals; ok=false when they are not
// comparable (different kinds, NaN).
func compareLiterals(a, b *logical.Literal) (int, bool) {
	if a.Value == nil || b.Value == nil {
		return 0, false
	}
	isDec := func(l *logical.Literal) bool { return logical.IsDecimal(l.T) || logical.IsInteger(l.T) }
	switch {
	case logical.IsInteger(a.T) && logical.IsInteger(b.T):
		x, ok1 := intOf(a)
		y, ok2 := intOf(b)
		return cmp.Compare(x, y), ok1 && ok2
	case isDec(a) && isDec(b):
		x, s1, ok1 := decOf(a)
		y, s2, ok2 := decOf(b)
		if !ok1 || !ok2 {
			return 0, false
		}
		s := max(s1, s2)
		x, _ = rescale(x, s1, s)
		y, _ = rescale(y, s2, s)
		return x.Cmp(y), true
	case logical.IsFloat(a.T) || logical.IsFloat(b.T):
		x, ok1 := numberAsFloat(a)
		y, ok2 := numberAsFloat(b)
		if !ok1 || !ok2 || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		return cmp.Compare(x, y), true
	}
	if !arrow.TypeEqual(a.T, b.T) {
		return 0, false
	}
	switch x := a.Value.(type) {
	case string:
		y, ok := b.Value.(string)
		return strings.Compare(x, y), ok
	case []byte:
		y, ok := b.Value.([]byte)
		return bytes.Compare(x, y), ok
	case bool:
		y, ok := b.Value.(bool)
		xi, yi := 0, 0
		if x {
			xi = 1
		}
		if y {
			yi = 1
		}
		return cmp.Compare(xi, yi), ok
	case arrow.Date32:
		y, ok := b.Value.(arrow.Date32)
		return cmp.Compare(x, y), ok
	case arrow.Timestamp:
		y, ok := b.Value.(arrow.Timestamp)
		return cmp.Compare(x, y), ok
	}
	return 0, false
}

// numberAsFloat converts an integer, float or decimal literal to float64.
func numberAsFloat(l *logical.Literal) (float64, bool) {
	if f, ok := floatOf(l); ok {
		return f, true
	}
	v, s, ok := decOf(l)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(decimalString(v, s), 64)
	return f, err == nil
}

func decimalString(v *big.Int, s int32) string {
	str := new(big.Int).Abs(v).String()
	if s > 0 {
		for int32(len(str)) <= s {
			str = "0" + str
		}
		str = str[:len(str)-int(s)] + "." + str[len(str)-int(s):]
	}
	if v.Sign() < 0 {
		str = "-" + str
	}
	return str
}

// parseDecimal parses decimal text into an unscaled value at scale s;
// ok=false when it has more fractional digits than s or is malformed.
func parseDecimal(str string, s int32) (*big.Int, bool) {
	str = strings.TrimSpace(str)
	neg := false
	if strings.HasPrefix(str, "-") || strings.HasPrefix(str, "+") {
		neg = str[0] == '-'
		str = str[1:]
	}
	intPart, frac, _ := strings.Cut(str, ".")
	if intPart == "" && frac == "" {
		return nil, false
	}
	frac = strings.TrimRight(frac, "0")
	if int32(len(frac)) > s {
		return nil, false
	}
	digits := intPart + frac + strings.Repeat("0", int(s)-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	if digits == "" {
		digits = "0"
	}
	v, ok := new(big.Int).SetString(digits, 10)
	if ok && neg {
		v.Neg(v)
	}
	return v, ok
}

// castLiteral converts a literal to type t the way CAST would, when that
// is exact.
func castLiteral(l *logical.Literal, t arrow.DataType) (*logical.Literal, bool) {
	if l.Value == nil {
		return logical.NullLiteral(t), true
	}
	if arrow.TypeEqual(l.T, t) {
		return l, true
	}
	switch {
	case logical.IsInteger(t):
		if v, ok := intOf(l); ok {
			return makeInt(v, t)
		}
		if logical.IsDecimal(l.T) {
			v, s, _ := decOf(l)
			if v, ok := rescale(v, s, 0); ok && v.IsInt64() {
				return makeInt(v.Int64(), t)
			}
			return nil, false
		}
		if s, ok := l.Value.(string); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, false
			}
			return makeInt(v, t)
		}
	case logical.IsFloat(t):
		if f, ok := numberAsFloat(l); ok {
			return makeFloat(f, t)
		}
		if s, ok := l.Value.(string); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, false
			}
			return makeFloat(f, t)
		}
	case logical.IsDecimal(t):
		_, ts, _ := logical.DecimalParams(t)
		if v, s, ok := decOf(l); ok {
			if v, ok := rescale(v, s, ts); ok {
				return makeDecimal(v, t)
			}
			return nil, false
		}
		if s, ok := l.Value.(string); ok {
			if v, ok := parseDecimal(s, ts); ok {
				return makeDecimal(v, t)
			}
		}
	case t.ID() == arrow.DATE32:
		switch v := l.Value.(type) {
		case string:
			d, err := time.Parse("2006-01-02", strings.TrimSpace(v))
			if err != nil {
				return nil, false
			}
			return &logical.Literal{Value: arrow.Date32FromTime(d), T: t}, true
		case arrow.Timestamp:
			if ts, ok := l.T.(*arrow.TimestampType); ok && ts.Unit == arrow.Microsecond && ts.TimeZone == "" {
				days := floorDiv(int64(v), microsPerDay)
				return &logical.Literal{Value: arrow.Date32(days), T: t}, true
			}
		}
	case t.ID() == arrow.TIMESTAMP:
		tt := t.(*arrow.TimestampType)
		if tt.Unit != arrow.Microsecond || tt.TimeZone != "" {
			return nil, false
		}
		switch v := l.Value.(type) {
		case arrow.Date32:
			return &logical.Literal{Value: arrow.Timestamp(int64(v) * microsPerDay), T: t}, true
		case string:
			for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02"} {
				if ts, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
					return &logical.Literal{Value: arrow.Timestamp(ts.UnixMicro()), T: t}, true
				}
			}
		}
	case logical.IsString(t) && t.ID() == arrow.STRING:
		switch v := l.Value.(type) {
		case string:
			return &logical.Literal{Value: v, T: t}, true
		case arrow.Date32:
			return &logical.Literal{Value: v.FormattedString(), T: t}, true
		}
		if v, ok := intOf(l); ok {
			return &logical.Literal{Value: strconv.FormatInt(v, 10), T: t}, true
		}
		if logical.IsDecimal(l.T) {
			v, s, _ := decOf(l)
			return &logical.Literal{Value: decimalString(v, s), T: t}, true
		}
	case t.ID() == arrow.BOOL:
		if s, ok := l.Value.(string); ok {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true", "t", "1", "yes":
				return boolLit(true), true
			case "false", "f", "0", "no":
				return boolLit(false), true
			}
		}
	}
	return nil, false
}

const microsPerDay = 86400 * 1000000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// arith folds a binary arithmetic function over two non-null literals into
// a literal of type t.
func arith(fn string, a, b *logical.Literal, t arrow.DataType) (*logical.Literal, bool) {
	if da, ok := a.Value.(arrow.Date32); ok && fn == "subtract" && logical.IsInteger(t) {
		db, ok := b.Value.(arrow.Date32)
		if !ok {
			return nil, false
		}
		return makeInt(int64(da)-int64(db), t)
	}
	switch {
	case logical.IsInteger(t):
		x, ok1 := intOf(a)
		y, ok2 := intOf(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		r := new(big.Int)
		bx, by := big.NewInt(x), big.NewInt(y)
		switch fn {
		case "add":
			r.Add(bx, by)
		case "subtract":
			r.Sub(bx, by)
		case "multiply":
			r.Mul(bx, by)
		case "divide":
			if y == 0 {
				return nil, false
			}
			r.Quo(bx, by)
		case "modulus":
			if y == 0 {
				return nil, false
			}
			r.Rem(bx, by)
		default:
			return nil, false
		}
		if !r.IsInt64() {
			return nil, false
		}
		return makeInt(r.Int64(), t)
	case logical.IsFloat(t):
		x, ok1 := numberAsFloat(a)
		y, ok2 := numberAsFloat(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		var r float64
		switch fn {
		case "add":
			r = x + y
		case "subtract":
			r = x - y
		case "multiply":
			r = x * y
		case "divide":
			if y == 0 {
				return nil, false
			}
			r = x / y
		default:
			return nil, false
		}
		return makeFloat(r, t)
	case logical.IsDecimal(t):
		x, s1, ok1 := decOf(a)
		y, s2, ok2 := decOf(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		_, ts, _ := logical.DecimalParams(t)
		var r *big.Int
		switch fn {
		case "add", "subtract":
			x, _ = rescale(x, s1, ts)
			y, _ = rescale(y, s2, ts)
			if s1 > ts || s2 > ts {
				return nil, false
			}
			if fn == "add" {
				r = new(big.Int).Add(x, y)
			} else {
				r = new(big.Int).Sub(x, y)
			}
		case "multiply":
			if s1+s2 != ts {
				return nil, false
			}
			r = new(big.Int).Mul(x, y)
		default:
			return nil, false
		}
		return makeDecimal(r, t)
	case t.ID() == arrow.DATE32:
		return dateArith(fn, a, b, t)
	case t.ID() == arrow.TIMESTAMP:
		return timestampArith(fn, a, b, t)
	}
	return nil, false
}

// dateArith folds date ± interval with a date result (whole days and months).
func dateArith(fn string, a, b *logical.Literal, t arrow.DataType) (*logical.Literal, bool) {
	d, iv, ok := dateAndInterval(fn, a, b)
	if !ok || iv.Nanoseconds != 0 {
		return nil, false
	}
	if fn == "subtract" {
		iv.Months, iv.Days = -iv.Months, -iv.Days
	}
	tm := addMonthsClamped(d.ToTime(), int(iv.Months)).AddDate(0, 0, int(iv.Days))
	return &logical.Literal{Value: arrow.Date32FromTime(tm), T: t}, true
}

func timestampArith(fn string, a, b *logical.Literal, t arrow.DataType) (*logical.Literal, bool) {
	tt, ok := t.(*arrow.TimestampType)
	if !ok || tt.Unit != arrow.Microsecond || tt.TimeZone != "" {
		return nil, false
	}
	var base time.Time
	var iv arrow.MonthDayNanoInterval
	x, y := a, b
	if fn == "add" {
		if _, isIv := x.Value.(arrow.MonthDayNanoInterval); isIv {
			x, y = y, x
		}
	} else if fn != "subtract" {
		return nil, false
	}
	switch v := x.Value.(type) {
	case arrow.Timestamp:
		xt, ok := x.T.(*arrow.TimestampType)
		if !ok || xt.Unit != arrow.Microsecond || xt.TimeZone != "" {
			return nil, false
		}
		base = time.UnixMicro(int64(v)).UTC()
	case arrow.Date32:
		base = v.ToTime()
	default:
		return nil, false
	}
	iv, ok = y.Value.(arrow.MonthDayNanoInterval)
	if !ok {
		return nil, false
	}
	if fn == "subtract" {
		iv = arrow.MonthDayNanoInterval{Months: -iv.Months, Days: -iv.Days, Nanoseconds: -iv.Nanoseconds}
	}
	tm := addMonthsClamped(base, int(iv.Months)).AddDate(0, 0, int(iv.Days)).Add(time.Duration(iv.Nanoseconds))
	return &logical.Literal{Value: arrow.Timestamp(tm.UnixMicro()), T: t}, true
}

// dateAndInterval extracts the date and interval operands of date ±
// interval (interval + date for add).
func dateAndInterval(fn string, a, b *logical.Literal) (arrow.Date32, arrow.MonthDayNanoInterval, bool) {
	d, ok1 := a.Value.(arrow.Date32)
	iv, ok2 := b.Value.(arrow.MonthDayNanoInterval)
	if ok1 && ok2 {
		return d, iv, true
	}
	if fn == "add" {
		d, ok1 = b.Value.(arrow.Date32)
		iv, ok2 = a.Value.(arrow.MonthDayNanoInterval)
		return d, iv, ok1 && ok2
	}
	return 0, arrow.MonthDayNanoInterval{}, false
}

// addMonthsClamped adds months to t, clamping the day to the length of the
// target month (2024-01-31 + 1 month = 2024-02-29), as SQL engines do.
func addMonthsClamped(t time.Time, months int) time.Time {
	if months == 0 {
		return t
	}
	y, m, d := t.Date()
	total := int(m) - 1 + months
	y += floorDivInt(total, 12)
	mm := time.Month(total - floorDivInt(total, 12)*12 + 1)
	last := time.Date(y, mm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d = min(d, last)
	h, mi, s := t.Clock()
	return time.Date(y, mm, d, h, mi, s, t.Nanosecond(), time.UTC)
}

func floorDivInt(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
