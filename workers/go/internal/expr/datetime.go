package expr

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Civil-date arithmetic on days since 1970-01-01 (proleptic Gregorian),
// after Howard Hinnant's algorithms: no time.Time per row.

func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// addMonths adds months to a day number, clamping the day of month to the
// end of the target month (2020-01-31 + 1 month = 2020-02-29).
func addMonths(days int64, months int64) int64 {
	if months == 0 {
		return days
	}
	y, m, d := civilFromDays(days)
	t := y*12 + (m - 1) + months
	ny := floorDiv(t, 12)
	nm := t - ny*12 + 1
	d = min(d, daysInMonth(ny, nm))
	return daysFromCivil(ny, nm, d)
}

func isDateTimeOrInterval(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.DATE32, arrow.TIMESTAMP, arrow.INTERVAL_MONTH_DAY_NANO:
		return true
	}
	return false
}

// parseDate parses YYYY-MM-DD (an optional time part is ignored when it
// is midnight-free input for dates, as PostgreSQL truncates it).
func parseDate(s string) (int32, bool) {
	days, rest, ok := parseDatePart(s)
	if !ok {
		return 0, false
	}
	if rest != "" {
		if _, ok := parseTimePart(rest); !ok {
			return 0, false
		}
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, false
	}
	return int32(days), true
}

// parseDatePart parses the leading date and returns the rest of s.
func parseDatePart(s string) (int64, string, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	num := func() (int64, bool) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, false
		}
		v, _ := strconv.ParseInt(s[:i], 10, 64)
		s = s[i:]
		return v, true
	}
	y, ok := num()
	if !ok || len(s) == 0 || s[0] != '-' {
		return 0, "", false
	}
	s = s[1:]
	m, ok := num()
	if !ok || len(s) == 0 || s[0] != '-' {
		return 0, "", false
	}
	s = s[1:]
	d, ok := num()
	if !ok {
		return 0, "", false
	}
	if neg {
		y = -y
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, "", false
	}
	return daysFromCivil(y, m, d), s, true
}

// parseTimePart parses "[ |T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]" into
// microseconds since midnight; a zone suffix is ignored as PostgreSQL does
// for timestamp without time zone.
func parseTimePart(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	if s[0] != ' ' && s[0] != 'T' && s[0] != 't' {
		return 0, false
	}
	s = strings.TrimSpace(s[1:])
	if s == "" {
		return 0, true
	}
	two := func() (int64, bool) {
		if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
			return 0, false
		}
		v := int64(s[0]-'0')*10 + int64(s[1]-'0')
		s = s[2:]
		return v, true
	}
	h, ok := two()
	if !ok || len(s) == 0 || s[0] != ':' {
		return 0, false
	}
	s = s[1:]
	mi, ok := two()
	if !ok {
		return 0, false
	}
	var sec, frac int64
	if len(s) > 0 && s[0] == ':' {
		s = s[1:]
		if sec, ok = two(); !ok {
			return 0, false
		}
		if len(s) > 0 && s[0] == '.' {
			s = s[1:]
			digits := 0
			for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
				if digits < 6 {
					frac = frac*10 + int64(s[0]-'0')
				} else if digits == 6 && s[0] >= '5' {
					frac++ // round to microseconds
				}
				digits++
				s = s[1:]
			}
			for ; digits < 6; digits++ {
				frac *= 10
			}
		}
	}
	s = strings.TrimSpace(s)
	if s != "" && s != "Z" && s != "z" && s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	if h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0 || frac != 0)) {
		return 0, false
	}
	return ((h*60+mi)*60+sec)*1_000_000 + frac, true
}

func parseTimestamp(s string) (int64, bool) {
	days, rest, ok := parseDatePart(s)
	if !ok {
		return 0, false
	}
	tod, ok := parseTimePart(rest)
	if !ok {
		return 0, false
	}
	if days > math.MaxInt64/usPerDay-1 || days < math.MinInt64/usPerDay+1 {
		return 0, false
	}
	return days*usPerDay + tod, true
}

// parseInterval parses PostgreSQL-style intervals: "1 year 2 months 3 days
// 04:05:06", "2 hours", "-1 day".
func parseInterval(s string) (arrow.MonthDayNanoInterval, bool) {
	var v arrow.MonthDayNanoInterval
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return v, false
	}
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.Contains(tok, ":") {
			neg := strings.HasPrefix(tok, "-")
			tod, ok := parseTimePart(" " + strings.TrimLeft(tok, "+-"))
			if !ok {
				return v, false
			}
			if neg {
				tod = -tod
			}
			v.Nanoseconds += tod * 1000
			continue
		}
		n, err := strconv.ParseFloat(tok, 64)
		if err != nil || i+1 >= len(f) {
			return v, false
		}
		i++
		unit := strings.TrimSuffix(f[i], "s")
		switch unit {
		case "year", "y":
			v.Months += int32(n * 12)
		case "mon", "month":
			v.Months += int32(n)
		case "week", "w":
			v.Days += int32(n * 7)
		case "day", "d":
			v.Days += int32(n)
		case "hour", "h":
			v.Nanoseconds += int64(n * 3600e9)
		case "minute", "min", "m":
			v.Nanoseconds += int64(n * 60e9)
		case "second", "sec":
			v.Nanoseconds += int64(n * 1e9)
		case "millisecond", "ms":
			v.Nanoseconds += int64(n * 1e6)
		case "microsecond", "u":
			v.Nanoseconds += int64(n * 1e3)
		default:
			return v, false
		}
	}
	return v, true
}

func appendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = appendPadded(b, m, 2)
	b = append(b, '-')
	return appendPadded(b, d, 2)
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendTimestamp(b []byte, us int64) []byte {
	days := floorDiv(us, usPerDay)
	tod := us - days*usPerDay
	b = appendDate(b, days)
	b = append(b, ' ')
	b = appendPadded(b, tod/3600e6, 2)
	b = append(b, ':')
	b = appendPadded(b, tod/60e6%60, 2)
	b = append(b, ':')
	b = appendPadded(b, tod/1e6%60, 2)
	if frac := tod % 1e6; frac != 0 {
		b = append(b, '.')
		var tmp [8]byte
		f := appendPadded(tmp[:0], frac, 6)
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(b, f...)
	}
	return b
}

func init() {
	register("extract", true, compileExtract)
	register("date_trunc", true, compileDateTrunc)
	register("current_date", false, func(c *compiler, call *logical.Call, args []node) (node, error) {
		if len(args) != 0 {
			return nil, unsupported(call, args)
		}
		now := time.Now().UTC()
		d := daysFromCivil(int64(now.Year()), int64(now.Month()), int64(now.Day()))
		arr, err := literalArray(&logical.Literal{Value: arrow.Date32(d), T: arrow.FixedWidthTypes.Date32})
		if err != nil {
			return nil, err
		}
		return c.constOf(arr), nil
	})
}

// unaryNode applies a kernel to one argument.
type unaryNode struct {
	arg    node
	t      arrow.DataType
	alloc  memory.Allocator
	kernel func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error)
}

func (u *unaryNode) dtype() arrow.DataType { return u.t }

func (u *unaryNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	a, err := u.arg.eval(ctx, c)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return u.kernel(u.alloc, a)
}

// enumArg returns the option named key, or a leading constant string
// argument (extract('year', x) style), and the remaining arguments.
func enumArg(call *logical.Call, args []node, key string) (string, []node, error) {
	if v, ok := call.Options[key]; ok {
		return strings.ToUpper(v), args, nil
	}
	if len(args) >= 2 {
		if k, ok := asConst(args[0]); ok && k.dtype().ID() == arrow.STRING && !k.isNull() {
			return strings.ToUpper(newStrView(k.arr).str(0)), args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("%w: %s without %s", ErrNotSupported, call.Func, key)
}

func compileExtract(c *compiler, call *logical.Call, args []node) (node, error) {
	comp, args, err := enumArg(call, args, "component")
	if err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, map[string][]string{"component": nil, "indexing": {"ONE", "ZERO"}}); err != nil {
		return nil, err
	}
	zero := option(call, "indexing", "ONE") == "ZERO"
	x := args[0]
	id := x.dtype().ID()
	isTS := id == arrow.TIMESTAMP
	if id != arrow.DATE32 && !isTS {
		return nil, unsupported(call, args)
	}
	if isTS && x.dtype().(*arrow.TimestampType).Unit != arrow.Microsecond {
		if x, err = c.castNode(x, logical.TimestampUs, false); err != nil {
			return nil, err
		}
	}
	if comp == "EPOCH" {
		return &unaryNode{arg: x, t: arrow.PrimitiveTypes.Float64, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
				if isTS {
					return mapValues(alloc, a, arrow.PrimitiveTypes.Float64, false,
						func(us int64) (float64, bool) { return float64(us) / 1e6, true }, nil)
				}
				return mapValues(alloc, a, arrow.PrimitiveTypes.Float64, false,
					func(d int32) (float64, bool) { return float64(d) * 86400, true }, nil)
			}}, nil
	}
	f, err := extractFunc(comp, zero)
	if err != nil {
		return nil, fmt.Errorf("%w: extract component %s", ErrNotSupported, comp)
	}
	return &unaryNode{arg: x, t: arrow.PrimitiveTypes.Int64, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
			if isTS {
				return mapValues(alloc, a, arrow.PrimitiveTypes.Int64, false, func(us int64) (int64, bool) {
					days := floorDiv(us, usPerDay)
					return f(days, us-days*usPerDay, us), true
				}, nil)
			}
			if comp == "YEAR" {
				return extractYear(alloc, a), nil
			}
			return mapValues(alloc, a, arrow.PrimitiveTypes.Int64, false, func(d int32) (int64, bool) {
				return f(int64(d), 0, int64(d)*usPerDay), true
			}, nil)
		}}, nil
}

// extractYear is the common extract(YEAR FROM date) in a tight loop.
func extractYear(alloc memory.Allocator, a arrow.Array) arrow.Array {
	src := values[int32](a)
	buf, out := newValues[int64](alloc, a.Len())
	for i, d := range src {
		y, _, _ := civilFromDays(int64(d))
		out[i] = y
	}
	return makeArray(arrow.PrimitiveTypes.Int64, a.Len(), copyValidity(alloc, a), buf)
}

// isoWeek returns the ISO 8601 year and week of a day number.
func isoWeek(days int64) (int64, int64) {
	dow := ((days+3)%7 + 7) % 7 // Monday = 0
	thursday := days - dow + 3
	y, _, _ := civilFromDays(thursday)
	return y, (thursday-daysFromCivil(y, 1, 1))/7 + 1
}

// extractFunc returns the component of (days, time of day in µs, µs since epoch).
func extractFunc(comp string, zero bool) (func(days, tod, us int64) int64, error) {
	base := int64(0)
	if zero {
		base = 1
	}
	switch comp {
	case "YEAR":
		return func(d, _, _ int64) int64 { y, _, _ := civilFromDays(d); return y }, nil
	case "ISO_YEAR":
		return func(d, _, _ int64) int64 { y, _ := isoWeek(d); return y }, nil
	case "QUARTER":
		return func(d, _, _ int64) int64 { _, m, _ := civilFromDays(d); return (m-1)/3 + 1 - base }, nil
	case "MONTH":
		return func(d, _, _ int64) int64 { _, m, _ := civilFromDays(d); return m - base }, nil
	case "DAY":
		return func(d, _, _ int64) int64 { _, _, dd := civilFromDays(d); return dd - base }, nil
	case "DAY_OF_WEEK", "DOW": // PostgreSQL: Sunday = 0 .. Saturday = 6
		return func(d, _, _ int64) int64 { return ((d+4)%7 + 7) % 7 }, nil
	case "MONDAY_DAY_OF_WEEK", "ISODOW":
		return func(d, _, _ int64) int64 { return ((d+3)%7+7)%7 + 1 - base }, nil
	case "SUNDAY_DAY_OF_WEEK":
		return func(d, _, _ int64) int64 { return ((d+4)%7+7)%7 + 1 - base }, nil
	case "DAY_OF_YEAR", "DOY":
		return func(d, _, _ int64) int64 {
			y, _, _ := civilFromDays(d)
			return d - daysFromCivil(y, 1, 1) + 1 - base
		}, nil
	case "WEEK", "ISO_WEEK":
		return func(d, _, _ int64) int64 { _, w := isoWeek(d); return w - base }, nil
	case "HOUR":
		return func(_, t, _ int64) int64 { return t / 3600e6 }, nil
	case "MINUTE":
		return func(_, t, _ int64) int64 { return t / 60e6 % 60 }, nil
	case "SECOND":
		return func(_, t, _ int64) int64 { return t / 1e6 % 60 }, nil
	case "MILLISECOND", "MILLISECONDS": // PostgreSQL: seconds field in milliseconds
		return func(_, t, _ int64) int64 { return t % 60_000_000 / 1000 }, nil
	case "MICROSECOND", "MICROSECONDS": // PostgreSQL: seconds field in microseconds
		return func(_, t, _ int64) int64 { return t % 60_000_000 }, nil
	case "SUBSECOND":
		return func(_, t, _ int64) int64 { return t % 1_000_000 }, nil
	case "UNIX_TIME":
		return func(_, _, us int64) int64 { return floorDiv(us, 1_000_000) }, nil
	}
	return nil, fmt.Errorf("unknown component %s", comp)
}

func compileDateTrunc(c *compiler, call *logical.Call, args []node) (node, error) {
	unit, args, err := enumArg(call, args, "unit")
	if err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, map[string][]string{"unit": nil}); err != nil {
		return nil, err
	}
	x := args[0]
	t := x.dtype()
	truncDays := func(d int64) int64 {
		switch unit {
		case "YEAR":
			y, _, _ := civilFromDays(d)
			return daysFromCivil(y, 1, 1)
		case "QUARTER":
			y, m, _ := civilFromDays(d)
			return daysFromCivil(y, (m-1)/3*3+1, 1)
		case "MONTH":
			y, m, _ := civilFromDays(d)
			return daysFromCivil(y, m, 1)
		case "WEEK":
			return d - ((d+3)%7+7)%7
		}
		return d
	}
	var todUnit int64
	switch unit {
	case "YEAR", "QUARTER", "MONTH", "WEEK", "DAY":
	case "HOUR":
		todUnit = 3600e6
	case "MINUTE":
		todUnit = 60e6
	case "SECOND":
		todUnit = 1e6
	case "MILLISECOND":
		todUnit = 1e3
	case "MICROSECOND":
		todUnit = 1
	default:
		return nil, fmt.Errorf("%w: date_trunc unit %s", ErrNotSupported, unit)
	}
	switch {
	case t.ID() == arrow.DATE32:
		return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
			return mapValues(alloc, a, t, false, func(d int32) (int32, bool) { return int32(truncDays(int64(d))), true }, nil)
		}}, nil
	case t.ID() == arrow.TIMESTAMP && t.(*arrow.TimestampType).Unit == arrow.Microsecond:
		return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
			return mapValues(alloc, a, t, false, func(us int64) (int64, bool) {
				days := floorDiv(us, usPerDay)
				if todUnit == 0 {
					return truncDays(days) * usPerDay, true
				}
				return floorDiv(us, todUnit) * todUnit, true
			}, nil)
		}}, nil
	}
	return nil, unsupported(call, args)
}

// compileDateArith compiles date/timestamp/interval arithmetic.
func (c *compiler) compileDateArith(call *logical.Call, op arithOp, l, r node) (node, error) {
	lt, rt := l.dtype().ID(), r.dtype().ID()
	const (
		date = arrow.DATE32
		ts   = arrow.TIMESTAMP
		iv   = arrow.INTERVAL_MONTH_DAY_NANO
	)
	var err error
	if lt == ts && l.dtype().(*arrow.TimestampType).Unit != arrow.Microsecond {
		if l, err = c.castNode(l, logical.TimestampUs, false); err != nil {
			return nil, err
		}
	}
	if rt == ts && r.dtype().(*arrow.TimestampType).Unit != arrow.Microsecond {
		if r, err = c.castNode(r, logical.TimestampUs, false); err != nil {
			return nil, err
		}
	}
	bad := func() error { return unsupported(call, []node{l, r}) }
	switch {
	case op == opAdd && lt == iv && (rt == date || rt == ts):
		l, r, lt, rt = r, l, rt, lt
		fallthrough
	case (op == opAdd || op == opSub) && (lt == date || lt == ts) && rt == iv:
		sign := int64(1)
		if op == opSub {
			sign = -1
		}
		outTS := lt == ts || (call.T != nil && call.T.ID() == ts)
		if outTS && lt == date {
			if l, err = c.castNode(l, logical.TimestampUs, false); err != nil {
				return nil, err
			}
		}
		t := l.dtype()
		if outTS {
			t = logical.TimestampUs
		}
		return &binaryNode{name: call.Func, l: l, r: r, t: t, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				return addInterval(alloc, t, a, b, n, sign)
			}}, nil
	case op == opSub && lt == date && rt == date:
		return &binaryNode{name: call.Func, l: l, r: r, t: arrow.PrimitiveTypes.Int32, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				k := intArithKernel[int32](arrow.PrimitiveTypes.Int32, opSub, overflowError, divZeroError)
				ra, rb := reinterpret(a.arr, arrow.PrimitiveTypes.Int32), reinterpret(b.arr, arrow.PrimitiveTypes.Int32)
				defer ra.Release()
				defer rb.Release()
				return k(alloc, operand{arr: ra, isConst: a.isConst}, operand{arr: rb, isConst: b.isConst}, n)
			}}, nil
	case op == opSub && lt == ts && rt == ts:
		return &binaryNode{name: call.Func, l: l, r: r, t: logical.Interval, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				buf, out := newValues[arrow.MonthDayNanoInterval](alloc, n)
				av, bv := values[int64](a.arr), values[int64](b.arr)
				for i := range out {
					d := pick(av, a.isConst, i) - pick(bv, b.isConst, i)
					days := d / usPerDay
					out[i] = arrow.MonthDayNanoInterval{Days: int32(days), Nanoseconds: (d - days*usPerDay) * 1000}
				}
				return makeArray(logical.Interval, n, valid, buf), nil
			}}, nil
	case (op == opAdd || op == opSub) && lt == iv && rt == iv:
		return &binaryNode{name: call.Func, l: l, r: r, t: logical.Interval, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				vb := bitsOf(valid)
				buf, out := newValues[arrow.MonthDayNanoInterval](alloc, n)
				av, bv := values[arrow.MonthDayNanoInterval](a.arr), values[arrow.MonthDayNanoInterval](b.arr)
				for i := range out {
					x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
					if op == opSub {
						y = arrow.MonthDayNanoInterval{Months: -y.Months, Days: -y.Days, Nanoseconds: -y.Nanoseconds}
					}
					m, ok1 := checkedInt(opAdd, x.Months, y.Months)
					d, ok2 := checkedInt(opAdd, x.Days, y.Days)
					ns, ok3 := checkedInt(opAdd, x.Nanoseconds, y.Nanoseconds)
					if !(ok1 && ok2 && ok3) && isValid(vb, 0, i) {
						buf.Release()
						releaseBuf(valid)
						return nil, fmt.Errorf("%w: interval %s", ErrOverflow, call.Func)
					}
					out[i] = arrow.MonthDayNanoInterval{Months: m, Days: d, Nanoseconds: ns}
				}
				return makeArray(logical.Interval, n, valid, buf), nil
			}}, nil
	case (op == opAdd || op == opSub) && lt == date && isSignedInt(r.dtype()),
		op == opAdd && isSignedInt(l.dtype()) && rt == date:
		if rt == date {
			l, r = r, l
		}
		if r, err = c.castNode(r, arrow.PrimitiveTypes.Int32, false); err != nil {
			return nil, err
		}
		return &binaryNode{name: call.Func, l: l, r: r, t: arrow.FixedWidthTypes.Date32, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				k := intArithKernel[int32](arrow.FixedWidthTypes.Date32, op, overflowError, divZeroError)
				ra := reinterpret(a.arr, arrow.PrimitiveTypes.Int32)
				defer ra.Release()
				return k(alloc, operand{arr: ra, isConst: a.isConst}, b, n)
			}}, nil
	}
	return nil, bad()
}

// reinterpret views an array's buffers as another type of the same layout.
// The result shares memory and must be released.
func reinterpret(a arrow.Array, t arrow.DataType) arrow.Array {
	d := a.Data()
	nd := array.NewData(t, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// addInterval adds sign*interval to dates (t date32) or timestamps.
func addInterval(alloc memory.Allocator, t arrow.DataType, a, b operand, n int, sign int64) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	vb := bitsOf(valid)
	iv := values[arrow.MonthDayNanoInterval](b.arr)
	fail := func(err error) (arrow.Array, error) {
		releaseBuf(valid)
		return nil, err
	}
	if t.ID() == arrow.DATE32 {
		buf, out := newValues[int32](alloc, n)
		src := values[int32](a.arr)
		if b.isConst && iv[0].Nanoseconds == 0 && !a.isConst {
			months, days := sign*int64(iv[0].Months), sign*int64(iv[0].Days)
			for i, d := range src[:n] {
				r := addMonths(int64(d), months) + days
				out[i] = int32(r)
				if r != int64(int32(r)) && isValid(vb, 0, i) {
					buf.Release()
					return fail(fmt.Errorf("%w: date out of range", ErrOverflow))
				}
			}
			return makeArray(t, n, valid, buf), nil
		}
		for i := range out {
			v := pick(iv, b.isConst, i)
			if !isValid(vb, 0, i) {
				continue
			}
			if v.Nanoseconds%(usPerDay*1000) != 0 {
				buf.Release()
				return fail(fmt.Errorf("%w: adding interval with a time part to a date gives a timestamp", ErrInvalidValue))
			}
			days := int64(v.Days) + v.Nanoseconds/(usPerDay*1000)
			r := addMonths(int64(pick(src, a.isConst, i)), sign*int64(v.Months)) + sign*days
			if r != int64(int32(r)) {
				buf.Release()
				return fail(fmt.Errorf("%w: date out of range", ErrOverflow))
			}
			out[i] = int32(r)
		}
		return makeArray(t, n, valid, buf), nil
	}
	buf, out := newValues[int64](alloc, n)
	src := values[int64](a.arr)
	for i := range out {
		if !isValid(vb, 0, i) {
			continue
		}
		v := pick(iv, b.isConst, i)
		us := pick(src, a.isConst, i)
		days := floorDiv(us, usPerDay)
		tod := us - days*usPerDay
		days = addMonths(days, sign*int64(v.Months)) + sign*int64(v.Days)
		out[i] = days*usPerDay + tod + sign*(v.Nanoseconds/1000)
	}
	return makeArray(t, n, valid, buf), nil
}
