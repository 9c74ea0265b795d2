package scan

import (
	"math"
	"strconv"
	"time"
	"unsafe"
)

// Text parsers shared by CSV reading and inference. They take bytes and do
// not allocate.

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parseInt parses an optionally signed decimal integer.
func parseInt(b []byte) (int64, bool) {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		if len(b) > 19 {
			v, err := strconv.ParseInt(bstr(b), 10, 64)
			if err == nil && neg {
				v = -v
			}
			return v, err == nil
		}
		return 0, false
	}
	var u uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func parseFloat(b []byte) (float64, bool) {
	b = trimSpace(b)
	v, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true // ±Inf or 0 on over/underflow, as SQL engines read them
		}
		return 0, false
	}
	return v, true
}

// parseDecimal parses a decimal number into an unscaled int64 with the given
// scale and at most precision digits, rounding extra fraction digits half
// away from zero.
func parseDecimal(b []byte, precision, scale int32) (int64, bool) {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	var v int64
	digits := int32(0)
	frac := int32(-1)
	roundUp := false
	seen := false
	for i, c := range b {
		if c == '.' {
			if frac >= 0 {
				return 0, false
			}
			frac = 0
			continue
		}
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		seen = true
		if frac >= 0 {
			if frac == scale {
				roundUp = d >= 5
				for _, r := range b[i+1:] {
					if r-'0' > 9 {
						return 0, false
					}
				}
				break
			}
			frac++
		}
		if v != 0 || d != 0 {
			digits++
		}
		if digits > 18 {
			return 0, false
		}
		v = v*10 + int64(d)
	}
	if !seen {
		return 0, false
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < scale; frac++ {
		v *= 10
		if v != 0 {
			digits++
		}
	}
	if roundUp {
		v++
	}
	if v >= pow10[precision] {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func parseBool(b []byte) (bool, bool) {
	b = trimSpace(b)
	switch len(b) {
	case 1:
		switch b[0] {
		case 't', 'T', '1', 'y', 'Y':
			return true, true
		case 'f', 'F', '0', 'n', 'N':
			return false, true
		}
	case 2, 3, 4, 5:
		var buf [5]byte
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		switch string(buf[:len(b)]) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	return false, false
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	return n, len(b) > 0
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDate parses YYYY-MM-DD into days since the epoch.
func parseDate(b []byte) (int32, bool) {
	b = trimSpace(b)
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b[:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return int32(daysFromCivil(y, m, d)), true
}

// parseTimestamp parses `YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|±HH[:MM]]`
// into microseconds since the epoch (UTC; an offset is applied).
func parseTimestamp(b []byte) (int64, bool) {
	b = trimSpace(b)
	if len(b) < 10 {
		return 0, false
	}
	days, ok := parseDate(b[:10])
	if !ok {
		return 0, false
	}
	us := int64(days) * 86_400_000_000
	rest := b[10:]
	if len(rest) == 0 {
		return us, true
	}
	if rest[0] != ' ' && rest[0] != 'T' || len(rest) < 6 || rest[3] != ':' {
		return 0, false
	}
	h, ok1 := digits(rest[1:3])
	mi, ok2 := digits(rest[4:6])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false
	}
	rest = rest[6:]
	sec := 0
	if len(rest) >= 3 && rest[0] == ':' {
		s, ok := digits(rest[1:3])
		if !ok || s > 60 {
			return 0, false
		}
		sec = s
		rest = rest[3:]
	}
	frac := int64(0)
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := int64(100_000)
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			frac += int64(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return 0, false
		}
		rest = rest[i:]
	}
	us += (int64(h)*3600+int64(mi)*60+int64(sec))*1_000_000 + frac
	rest = trimSpace(rest)
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case rest[0] == '+' || rest[0] == '-':
		off := rest[1:]
		var oh, om int
		var ok bool
		switch len(off) {
		case 2:
			oh, ok = digits(off)
		case 4:
			oh, ok = digits(off[:2])
			om, _ = digits(off[2:])
		case 5:
			if off[2] != ':' {
				return 0, false
			}
			oh, ok = digits(off[:2])
			om, _ = digits(off[3:])
		}
		if !ok || oh > 23 || om > 59 {
			return 0, false
		}
		d := int64(oh*3600+om*60) * 1_000_000
		if rest[0] == '+' {
			us -= d
		} else {
			us += d
		}
	default:
		return 0, false
	}
	return us, true
}

// timeFromMicros is for tests and messages.
func timeFromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
