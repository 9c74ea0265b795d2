package engine

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/arbalest/arbalest/substrait/logical"
)

// FormatValue renders row i of a as text: decimals with their scale, dates
// as YYYY-MM-DD, timestamps as YYYY-MM-DD HH:MM:SS[.ffffff]. ok is false for
// NULL.
func FormatValue(a arrow.Array, i int) (s string, ok bool) {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "", false
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i), true
	case *array.LargeString:
		return x.Value(i), true
	case *array.StringView:
		return x.Value(i), true
	case *array.Int8:
		return strconv.FormatInt(int64(x.Value(i)), 10), true
	case *array.Int16:
		return strconv.FormatInt(int64(x.Value(i)), 10), true
	case *array.Int32:
		return strconv.FormatInt(int64(x.Value(i)), 10), true
	case *array.Int64:
		return strconv.FormatInt(x.Value(i), 10), true
	case *array.Uint8:
		return strconv.FormatUint(uint64(x.Value(i)), 10), true
	case *array.Uint16:
		return strconv.FormatUint(uint64(x.Value(i)), 10), true
	case *array.Uint32:
		return strconv.FormatUint(uint64(x.Value(i)), 10), true
	case *array.Uint64:
		return strconv.FormatUint(x.Value(i), 10), true
	case *array.Float32:
		return strconv.FormatFloat(float64(x.Value(i)), 'g', -1, 32), true
	case *array.Float64:
		return strconv.FormatFloat(x.Value(i), 'g', -1, 64), true
	case *array.Boolean:
		return strconv.FormatBool(x.Value(i)), true
	case *array.Decimal64:
		return logical.FormatDecimal64(int64(x.Value(i)), x.DataType().(*arrow.Decimal64Type).Scale), true
	case *array.Decimal128:
		return x.Value(i).ToString(x.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Date32:
		return x.Value(i).FormattedString(), true
	case *array.Date64:
		return x.Value(i).FormattedString(), true
	case *array.Timestamp:
		unit := x.DataType().(*arrow.TimestampType).Unit
		t := x.Value(i).ToTime(unit)
		if t.Nanosecond() == 0 {
			return t.Format(time.DateTime), true
		}
		return t.Format("2006-01-02 15:04:05.999999999"), true
	}
	return a.ValueStr(i), true
}

// Cell is one value as text; Null marks SQL NULL.
type Cell struct {
	Text string
	Null bool
}

// CollectText reads s to the end and returns its rows as text, formatted
// by FormatValue. It is for small results (tests, verification).
func CollectText(ctx context.Context, s Stream) ([][]Cell, error) {
	var rows [][]Cell
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]Cell, b.NumCols())
			for c := range row {
				t, ok := FormatValue(b.Column(c), i)
				row[c] = Cell{Text: t, Null: !ok}
			}
			rows = append(rows, row)
		}
	}
}
