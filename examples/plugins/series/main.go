// Command series is an Arbalest data source plugin written with the Go
// SDK: a table of the integers from start to stop (like PostgreSQL's
// generate_series), read in parallel splits, with the filters value > N,
// value >= N, value < N, value <= N and the LIMIT pushed into it.
//
//	go build -o series ./examples/plugins/series
//	arbalest sql --plugin series=./series -c "
//	  CREATE EXTERNAL TABLE s STORED AS series OPTIONS (start '1', stop '1000000');
//	  SELECT count(*), sum(value) FROM s WHERE value > 999000"
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/substrait-io/substrait-go/v8/expr"

	"github.com/arbalest/arbalest/sdk/plugin"
)

var schema = arrow.NewSchema([]arrow.Field{{Name: "value", Type: arrow.PrimitiveTypes.Int64}}, nil)

type series struct{}

func bounds(t plugin.Table) (lo, hi int64, err error) {
	if lo, err = strconv.ParseInt(t.Options["start"], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("option start: %q is not an integer", t.Options["start"])
	}
	if hi, err = strconv.ParseInt(t.Options["stop"], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("option stop: %q is not an integer", t.Options["stop"])
	}
	return lo, hi, nil
}

func (series) Schema(_ context.Context, t plugin.Table) (*arrow.Schema, plugin.Statistics, error) {
	lo, hi, err := bounds(t)
	if err != nil {
		return nil, plugin.Unknown, err
	}
	return schema, plugin.Statistics{RowCount: max(hi-lo+1, 0), TotalBytes: -1}, nil
}

// split is a ticket: the values [Lo, Hi].
type split struct{ Lo, Hi int64 }

// bound narrows [lo, hi] by a filter `value <op> literal`; ok is false
// for any other filter.
func bound(f expr.Expression, lo, hi int64) (int64, int64, bool) {
	fn, ok := f.(*expr.ScalarFunction)
	if !ok || fn.NArgs() != 2 {
		return lo, hi, false
	}
	if _, ok := fn.Arg(0).(*expr.FieldReference); !ok {
		return lo, hi, false
	}
	lit, ok := fn.Arg(1).(*expr.PrimitiveLiteral[int64])
	if !ok {
		return lo, hi, false
	}
	v := lit.Value
	switch fn.Name() {
	case "gt":
		return max(lo, v+1), hi, true
	case "gte":
		return max(lo, v), hi, true
	case "lt":
		return lo, min(hi, v-1), true
	case "lte":
		return lo, min(hi, v), true
	}
	return lo, hi, false
}

func (series) PlanScan(_ context.Context, req *plugin.ScanRequest) (*plugin.ScanPlan, error) {
	lo, hi, err := bounds(req.Table)
	if err != nil {
		return nil, err
	}
	plan := &plugin.ScanPlan{}
	for _, f := range req.Filters {
		var ok bool
		if lo, hi, ok = bound(f, lo, hi); ok {
			plan.Verdicts = append(plan.Verdicts, plugin.Exact)
		} else {
			plan.Verdicts = append(plan.Verdicts, plugin.Unsupported)
		}
	}
	if req.Limit >= 0 && hi-lo+1 > req.Limit {
		hi = lo + req.Limit - 1
	}
	n := max(hi-lo+1, 0)
	parts := max(min(int64(req.Parallelism), n), 1)
	for i := range parts {
		s := split{Lo: lo + n*i/parts, Hi: lo + n*(i+1)/parts - 1}
		ticket, _ := json.Marshal(s)
		plan.Splits = append(plan.Splits, plugin.Split{Ticket: ticket, Stats: plugin.Statistics{RowCount: s.Hi - s.Lo + 1, TotalBytes: -1}})
	}
	plan.Stats = plugin.Statistics{RowCount: n, TotalBytes: -1}
	plan.Explain = fmt.Sprintf("values %d..%d in %d splits", lo, hi, parts)
	return plan, nil
}

func (series) ReadSplit(ctx context.Context, ticket []byte, emit func(arrow.RecordBatch) error) error {
	var s split
	if err := json.Unmarshal(ticket, &s); err != nil {
		return fmt.Errorf("bad split: %w", err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for v := s.Lo; v <= s.Hi; {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(v+65535, s.Hi)
		for x := v; x <= end; x++ {
			b.Append(x)
		}
		col := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
		col.Release()
		err := emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
		v = end + 1
	}
	return nil
}

func main() {
	plugin.Serve(&plugin.Plugin{Name: "series", Version: "1.0", Source: series{}})
}
