package dbgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// tblLine formats row i of rec as dbgen writes it to a .tbl file:
// values separated and terminated by '|', money with two decimals, dates
// as YYYY-MM-DD, except quantities, which dbgen prints as integers.
func tblLine(rec arrow.RecordBatch, i int) string {
	var b strings.Builder
	for c := 0; c < int(rec.NumCols()); c++ {
		text := cellText(rec.Column(c), i)
		if rec.ColumnName(c) == "l_quantity" {
			// dbgen prints quantities as integers.
			text = strings.TrimSuffix(text, ".00")
		}
		b.WriteString(text)
		b.WriteByte('|')
	}
	return b.String()
}

func cellText(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.Int64:
		return fmt.Sprint(a.Value(i))
	case *array.Int32:
		return fmt.Sprint(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Decimal128:
		v := a.Value(i).LowBits()
		n := int64(v)
		sign := ""
		if n < 0 {
			sign, n = "-", -n
		}
		return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
	case *array.Date32:
		return time.Unix(int64(a.Value(i))*86400, 0).UTC().Format("2006-01-02")
	}
	return fmt.Sprintf("<%s>", col.DataType())
}
