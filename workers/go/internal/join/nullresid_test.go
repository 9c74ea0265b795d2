package join

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// Joins whose residual reads both sides, with NULLs in the keys and in the
// values the residual reads on either side, over input columns whose NULL
// count is not computed (array.UnknownNullCount, as some expression
// kernels return them): the gathered residual inputs must keep their NULLs,
// and mark and NOT IN must apply the NULL rules of logical.JoinMark to the
// whole condition.

var (
	nrLSchema = arrow.NewSchema([]arrow.Field{
		{Name: "lk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "la", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	nrL = [][]any{{1, "a", 1}, {1, "a", nil}, {2, "b", 5}, {3, "c", 0}, {nil, "a", 2}, {4, nil, 3}, {5, "e", nil}, {6, "f", 4}, {7, "g", 1}, {8, "h", 2}}
	nrR = [][]any{{1, "a", nil}, {1, "a", 3}, {2, "b", nil}, {2, "b", nil}, {3, "c", 9}, {3, "c", nil}, {nil, "a", -10}, {4, nil, 1}, {5, "e", 2}, {6, "f", nil}, {nil, nil, -20}, {7, "g", 0}, {nil, "h", 1}}
	// nrS has unique non-NULL keys, for single joins.
	nrS = [][]any{{1, "a", nil}, {2, "b", 3}, {3, "c", 9}, {nil, "x", 4}, {4, nil, 1}, {5, "e", 2}, {6, "f", nil}}
)

// nrExpected holds DuckDB 1.4.2's answers, by join/key/residual. For L and
// R as tables (lk, ls, la) and (rk, rs, rv), key int is L.lk = R.rk, str
// is L.ls = R.rs, both is both; residual none is true, sum is
// L.la + R.rv > 4, eq is (L.la = R.rv) IS NOT FALSE; c is key AND
// residual. semi, anti: [NOT] EXISTS (SELECT 1 FROM R WHERE c); mark: CASE
// WHEN EXISTS (... c) THEN true WHEN EXISTS (... c IS NULL) THEN NULL ELSE
// false END; notin: NOT EXISTS (... c IS NOT FALSE); left, full: L LEFT
// or FULL JOIN R ON c; single: L LEFT JOIN S ON c.
var nrExpected = map[string][]string{
	"semi/int/none":    {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "4|NULL|3", "5|e|NULL", "6|f|4", "7|g|1"},
	"anti/int/none":    {"8|h|2", "NULL|a|2"},
	"mark/int/none":    {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|true", "5|e|NULL|true", "6|f|4|true", "7|g|1|true", "8|h|2|NULL", "NULL|a|2|NULL"},
	"notin/int/none":   {},
	"left/int/none":    {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|4|NULL|1", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/int/none":    {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|4|NULL|1", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/int/none":  {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|4|NULL|1", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/int/sum":     {"3|c|0"},
	"anti/int/sum":     {"1|a|1", "1|a|NULL", "2|b|5", "4|NULL|3", "5|e|NULL", "6|f|4", "7|g|1", "8|h|2", "NULL|a|2"},
	"mark/int/sum":     {"1|a|1|NULL", "1|a|NULL|NULL", "2|b|5|NULL", "3|c|0|true", "4|NULL|3|false", "5|e|NULL|NULL", "6|f|4|NULL", "7|g|1|false", "8|h|2|false", "NULL|a|2|NULL"},
	"notin/int/sum":    {"4|NULL|3", "7|g|1", "8|h|2"},
	"left/int/sum":     {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/int/sum":     {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|1|a|3", "NULL|NULL|NULL|1|a|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|3|c|NULL", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|5|e|2", "NULL|NULL|NULL|6|f|NULL", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/int/sum":   {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/int/eq":      {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "5|e|NULL", "6|f|4"},
	"anti/int/eq":      {"4|NULL|3", "7|g|1", "8|h|2", "NULL|a|2"},
	"mark/int/eq":      {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|false", "5|e|NULL|true", "6|f|4|true", "7|g|1|NULL", "8|h|2|false", "NULL|a|2|NULL"},
	"notin/int/eq":     {"4|NULL|3", "8|h|2"},
	"left/int/eq":      {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/int/eq":      {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|3|c|9", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/int/eq":    {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|NULL|NULL|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/str/none":    {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "5|e|NULL", "6|f|4", "7|g|1", "8|h|2", "NULL|a|2"},
	"anti/str/none":    {"4|NULL|3"},
	"mark/str/none":    {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|NULL", "5|e|NULL|true", "6|f|4|true", "7|g|1|true", "8|h|2|true", "NULL|a|2|true"},
	"notin/str/none":   {},
	"left/str/none":    {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|1|NULL|a|-10", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "1|a|NULL|NULL|a|-10", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|h|1", "NULL|a|2|1|a|3", "NULL|a|2|1|a|NULL", "NULL|a|2|NULL|a|-10"},
	"full/str/none":    {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|1|NULL|a|-10", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "1|a|NULL|NULL|a|-10", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|h|1", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|a|2|1|a|3", "NULL|a|2|1|a|NULL", "NULL|a|2|NULL|a|-10"},
	"single/str/none":  {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|1|a|NULL"},
	"semi/str/sum":     {"3|c|0", "NULL|a|2"},
	"anti/str/sum":     {"1|a|1", "1|a|NULL", "2|b|5", "4|NULL|3", "5|e|NULL", "6|f|4", "7|g|1", "8|h|2"},
	"mark/str/sum":     {"1|a|1|NULL", "1|a|NULL|NULL", "2|b|5|NULL", "3|c|0|true", "4|NULL|3|NULL", "5|e|NULL|NULL", "6|f|4|NULL", "7|g|1|false", "8|h|2|false", "NULL|a|2|true"},
	"notin/str/sum":    {"7|g|1", "8|h|2"},
	"left/str/sum":     {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|1|a|3"},
	"full/str/sum":     {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|1|a|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|3|c|NULL", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|5|e|2", "NULL|NULL|NULL|6|f|NULL", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|1|a|3"},
	"single/str/sum":   {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/str/eq":      {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "5|e|NULL", "6|f|4", "NULL|a|2"},
	"anti/str/eq":      {"4|NULL|3", "7|g|1", "8|h|2"},
	"mark/str/eq":      {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|NULL", "5|e|NULL|true", "6|f|4|true", "7|g|1|NULL", "8|h|2|false", "NULL|a|2|true"},
	"notin/str/eq":     {"8|h|2"},
	"left/str/eq":      {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "1|a|NULL|NULL|a|-10", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|1|a|NULL"},
	"full/str/eq":      {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "1|a|NULL|NULL|a|-10", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|3|c|9", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|1|a|NULL"},
	"single/str/eq":    {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|NULL|NULL|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|1|a|NULL"},
	"semi/both/none":   {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "5|e|NULL", "6|f|4", "7|g|1"},
	"anti/both/none":   {"4|NULL|3", "8|h|2", "NULL|a|2"},
	"mark/both/none":   {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|NULL", "5|e|NULL|true", "6|f|4|true", "7|g|1|true", "8|h|2|NULL", "NULL|a|2|NULL"},
	"notin/both/none":  {},
	"left/both/none":   {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/both/none":   {"1|a|1|1|a|3", "1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|9", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|7|g|0", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/both/none": {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/both/sum":    {"3|c|0"},
	"anti/both/sum":    {"1|a|1", "1|a|NULL", "2|b|5", "4|NULL|3", "5|e|NULL", "6|f|4", "7|g|1", "8|h|2", "NULL|a|2"},
	"mark/both/sum":    {"1|a|1|NULL", "1|a|NULL|NULL", "2|b|5|NULL", "3|c|0|true", "4|NULL|3|false", "5|e|NULL|NULL", "6|f|4|NULL", "7|g|1|false", "8|h|2|false", "NULL|a|2|NULL"},
	"notin/both/sum":   {"4|NULL|3", "7|g|1", "8|h|2"},
	"left/both/sum":    {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/both/sum":    {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|1|a|3", "NULL|NULL|NULL|1|a|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|2|b|NULL", "NULL|NULL|NULL|3|c|NULL", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|5|e|2", "NULL|NULL|NULL|6|f|NULL", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/both/sum":  {"1|a|1|NULL|NULL|NULL", "1|a|NULL|NULL|NULL|NULL", "2|b|5|2|b|3", "3|c|0|3|c|9", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|NULL|NULL|NULL", "6|f|4|NULL|NULL|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"semi/both/eq":     {"1|a|1", "1|a|NULL", "2|b|5", "3|c|0", "5|e|NULL", "6|f|4"},
	"anti/both/eq":     {"4|NULL|3", "7|g|1", "8|h|2", "NULL|a|2"},
	"mark/both/eq":     {"1|a|1|true", "1|a|NULL|true", "2|b|5|true", "3|c|0|true", "4|NULL|3|false", "5|e|NULL|true", "6|f|4|true", "7|g|1|false", "8|h|2|false", "NULL|a|2|NULL"},
	"notin/both/eq":    {"4|NULL|3", "7|g|1", "8|h|2"},
	"left/both/eq":     {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
	"full/both/eq":     {"1|a|1|1|a|NULL", "1|a|NULL|1|a|3", "1|a|NULL|1|a|NULL", "2|b|5|2|b|NULL", "2|b|5|2|b|NULL", "3|c|0|3|c|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|NULL|NULL|3|c|9", "NULL|NULL|NULL|4|NULL|1", "NULL|NULL|NULL|7|g|0", "NULL|NULL|NULL|NULL|NULL|-20", "NULL|NULL|NULL|NULL|a|-10", "NULL|NULL|NULL|NULL|h|1", "NULL|a|2|NULL|NULL|NULL"},
	"single/both/eq":   {"1|a|1|1|a|NULL", "1|a|NULL|1|a|NULL", "2|b|5|NULL|NULL|NULL", "3|c|0|NULL|NULL|NULL", "4|NULL|3|NULL|NULL|NULL", "5|e|NULL|5|e|2", "6|f|4|6|f|NULL", "7|g|1|NULL|NULL|NULL", "8|h|2|NULL|NULL|NULL", "NULL|a|2|NULL|NULL|NULL"},
}

// unknownNullCounts rewraps the columns of every batch of src with an
// unknown NULL count.
func unknownNullCounts(src *testSource) {
	for _, bs := range src.parts {
		for i, b := range bs {
			cols := make([]arrow.Array, b.NumCols())
			for c, col := range b.Columns() {
				d := col.Data()
				nd := array.NewData(d.DataType(), d.Len(), d.Buffers(), d.Children(), array.UnknownNullCount, d.Offset())
				cols[c] = array.MakeFromData(nd)
				nd.Release()
			}
			bs[i] = array.NewRecordBatch(b.Schema(), cols, b.NumRows())
			b.Release()
			for _, c := range cols {
				c.Release()
			}
		}
	}
}

func TestResidualNullsBothSides(t *testing.T) {
	forEachLeftFirst(t, testResidualNullsBothSides)
}

func testResidualNullsBothSides(t *testing.T) {
	call := func(fn string, typ arrow.DataType, args ...logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: args, T: typ, NullableOut: true}
	}
	boolT := arrow.FixedWidthTypes.Boolean
	keys := map[string][2][]logical.Expr{
		"int":  {{col(0)}, {col(0)}},
		"str":  {{strCol(1)}, {strCol(1)}},
		"both": {{col(0), strCol(1)}, {col(0), strCol(1)}},
	}
	resids := map[string]logical.Expr{
		"none": nil,
		"sum":  call("gt", boolT, call("add", arrow.PrimitiveTypes.Int64, col(2), col(5)), lit(4)),
		"eq":   call("is_not_false", boolT, call("equal", boolT, col(2), col(5))),
	}
	joins := []struct {
		name      string
		jt        logical.JoinType
		nullAware bool
	}{
		{"semi", logical.JoinSemi, false}, {"anti", logical.JoinAnti, false}, {"mark", logical.JoinMark, false},
		{"notin", logical.JoinAnti, true}, {"left", logical.JoinLeft, false}, {"full", logical.JoinFull, false},
		{"single", logical.JoinSingle, false},
	}
	configs := []runConfig{
		{lParts: 1, rParts: 1, per: 100, batch: 1024},
		{lParts: 3, rParts: 2, per: 2, batch: 2},
		{lParts: 2, rParts: 3, per: 3, batch: 3, concurrent: true},
	}
	for _, kind := range []indexKind{indexAuto, indexHashed} {
		for _, jc := range joins {
			for kn, k := range keys {
				for rn, resid := range resids {
					name := fmt.Sprintf("%s/%s/%s", jc.name, kn, rn)
					want, ok := nrExpected[name]
					if !ok {
						t.Fatalf("no expected result for %s", name)
					}
					for _, rc := range configs {
						t.Run(fmt.Sprintf("%s/%v/%s", name, kind, rc), func(t *testing.T) {
							forceIndex = kind
							defer func() { forceIndex = indexAuto }()
							mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
							defer mem.AssertSize(t, 0)
							build := nrR
							if jc.jt == logical.JoinSingle {
								build = nrS
							}
							l := split(t, mem, nrLSchema, nrL, rc.lParts, rc.per, false)
							defer l.release()
							r := split(t, mem, rSchema, build, rc.rParts, rc.per, false)
							defer r.release()
							unknownNullCounts(l)
							unknownNullCounts(r)
							node, err := NewHashJoin(l, r, jc.jt, k[0], k[1], resid, jc.nullAware, CollectBuild)
							if err != nil {
								t.Fatal(err)
							}
							tc := exec.NewTaskContext()
							tc.Alloc = mem
							tc.BatchSize = rc.batch
							got, err := drain(context.Background(), node, tc, rc.concurrent, max(rc.batch, rc.per))
							if err != nil {
								t.Fatal(err)
							}
							if !slices.Equal(got, want) {
								t.Fatalf("rows differ: %s\n got: %q\nwant: %q", firstDiff(got, want), got, want)
							}
							if u := tc.Mem.Used(); u != 0 {
								t.Errorf("memory pool still holds %d bytes", u)
							}
						})
					}
				}
			}
		}
	}
}
