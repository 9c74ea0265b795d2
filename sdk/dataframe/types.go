package dataframe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

var simpleTypes = map[string]arrow.DataType{
	"null":                    arrow.Null,
	"bool":                    arrow.FixedWidthTypes.Boolean,
	"int8":                    arrow.PrimitiveTypes.Int8,
	"int16":                   arrow.PrimitiveTypes.Int16,
	"int32":                   arrow.PrimitiveTypes.Int32,
	"int64":                   arrow.PrimitiveTypes.Int64,
	"uint8":                   arrow.PrimitiveTypes.Uint8,
	"uint16":                  arrow.PrimitiveTypes.Uint16,
	"uint32":                  arrow.PrimitiveTypes.Uint32,
	"uint64":                  arrow.PrimitiveTypes.Uint64,
	"float16":                 arrow.FixedWidthTypes.Float16,
	"float32":                 arrow.PrimitiveTypes.Float32,
	"float64":                 arrow.PrimitiveTypes.Float64,
	"utf8":                    arrow.BinaryTypes.String,
	"large_utf8":              arrow.BinaryTypes.LargeString,
	"string_view":             arrow.BinaryTypes.StringView,
	"binary":                  arrow.BinaryTypes.Binary,
	"large_binary":            arrow.BinaryTypes.LargeBinary,
	"binary_view":             arrow.BinaryTypes.BinaryView,
	"date32":                  arrow.FixedWidthTypes.Date32,
	"date64":                  arrow.FixedWidthTypes.Date64,
	"month_day_nano_interval": arrow.FixedWidthTypes.MonthDayNanoInterval,
	"month_interval":          arrow.FixedWidthTypes.MonthInterval,
	"day_time_interval":       arrow.FixedWidthTypes.DayTimeInterval,
}

var timeUnits = map[string]arrow.TimeUnit{"s": arrow.Second, "ms": arrow.Millisecond, "us": arrow.Microsecond, "ns": arrow.Nanosecond}

// ParseType parses the text of an Arrow type as arrow-go's
// DataType.String writes it (what DESCRIBE shows): int64, utf8, date32,
// decimal64(15, 2), decimal(38, 2), timestamp[us], timestamp[ns,
// tz=UTC], time64[us], duration[ms], fixed_size_binary[16] and the other
// primitive types. Nested types are not supported.
func ParseType(s string) (arrow.DataType, error) {
	s = strings.TrimSpace(s)
	if t, ok := simpleTypes[s]; ok {
		return t, nil
	}
	bad := fmt.Errorf("unsupported or malformed type %q", s)
	if head, args, ok := cutArgs(s, '(', ')'); ok {
		var fn func(p, sc int32) arrow.DataType
		switch head {
		case "decimal32":
			fn = func(p, sc int32) arrow.DataType { return &arrow.Decimal32Type{Precision: p, Scale: sc} }
		case "decimal64":
			fn = func(p, sc int32) arrow.DataType { return &arrow.Decimal64Type{Precision: p, Scale: sc} }
		case "decimal", "decimal128":
			fn = func(p, sc int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: sc} }
		case "decimal256":
			fn = func(p, sc int32) arrow.DataType { return &arrow.Decimal256Type{Precision: p, Scale: sc} }
		default:
			return nil, bad
		}
		if len(args) != 2 {
			return nil, bad
		}
		p, err1 := strconv.ParseInt(args[0], 10, 32)
		sc, err2 := strconv.ParseInt(args[1], 10, 32)
		if err1 != nil || err2 != nil || p < 1 || p > 76 || sc < 0 || sc > p {
			return nil, bad
		}
		return fn(int32(p), int32(sc)), nil
	}
	head, args, ok := cutArgs(s, '[', ']')
	if !ok || len(args) == 0 {
		return nil, bad
	}
	unit, okUnit := timeUnits[args[0]]
	switch head {
	case "timestamp":
		if !okUnit || len(args) > 2 {
			return nil, bad
		}
		t := &arrow.TimestampType{Unit: unit}
		if len(args) == 2 {
			tz, ok := strings.CutPrefix(args[1], "tz=")
			if !ok {
				return nil, bad
			}
			t.TimeZone = tz
		}
		return t, nil
	case "time32":
		if len(args) != 1 || (unit != arrow.Second && unit != arrow.Millisecond) || !okUnit {
			return nil, bad
		}
		return &arrow.Time32Type{Unit: unit}, nil
	case "time64":
		if len(args) != 1 || (unit != arrow.Microsecond && unit != arrow.Nanosecond) || !okUnit {
			return nil, bad
		}
		return &arrow.Time64Type{Unit: unit}, nil
	case "duration":
		if len(args) != 1 || !okUnit {
			return nil, bad
		}
		return &arrow.DurationType{Unit: unit}, nil
	case "fixed_size_binary":
		n, err := strconv.Atoi(args[0])
		if len(args) != 1 || err != nil || n < 0 {
			return nil, bad
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: n}, nil
	}
	return nil, bad
}

// cutArgs splits "head(a, b)" into head and trimmed arguments.
func cutArgs(s string, open, close byte) (string, []string, bool) {
	i := strings.IndexByte(s, open)
	if i <= 0 || s[len(s)-1] != close {
		return "", nil, false
	}
	parts := strings.Split(s[i+1:len(s)-1], ",")
	for j := range parts {
		parts[j] = strings.TrimSpace(parts[j])
	}
	return s[:i], parts, true
}
