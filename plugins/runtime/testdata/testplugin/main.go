// testplugin is a Go plugin for the runtime's and the engine's tests: a
// data source of numbered rows with filter, projection and limit
// pushdown, scalar and aggregate functions, and ways to misbehave
// (crash, hang, wrong schema) chosen by table options or arguments.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/substrait-io/substrait-go/v8/expr"

	"github.com/arbalest/arbalest/sdk/plugin"
)

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

type source struct{}

func rowsOption(t plugin.Table) (int64, error) {
	n := int64(100)
	if v, ok := t.Options["rows"]; ok {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			return 0, fmt.Errorf("option rows: %q is not a row count", v)
		}
	}
	return n, nil
}

func (source) Schema(_ context.Context, t plugin.Table) (*arrow.Schema, plugin.Statistics, error) {
	n, err := rowsOption(t)
	if err != nil {
		return nil, plugin.Unknown, err
	}
	if t.Options["mode"] == "no_such_table" {
		return nil, plugin.Unknown, fmt.Errorf("table %q does not exist", t.Location)
	}
	return schema, plugin.Statistics{RowCount: n, TotalBytes: -1}, nil
}

// ticket is a split: rows [From, To) with id > MinID, the columns Cols.
type ticket struct {
	From, To int64
	MinID    int64
	Cols     []int
	Mode     string
}

func (source) PlanScan(_ context.Context, req *plugin.ScanRequest) (*plugin.ScanPlan, error) {
	n, err := rowsOption(req.Table)
	if err != nil {
		return nil, err
	}
	plan := &plugin.ScanPlan{Stats: plugin.Statistics{RowCount: n, TotalBytes: -1}}
	minID := int64(-1)
	explain := ""
	for _, f := range req.Filters {
		v := plugin.Unsupported
		// id > literal is exact.
		if sf, ok := f.(*expr.ScalarFunction); ok && sf.Name() == "gt" && sf.NArgs() == 2 {
			ref, rok := sf.Arg(0).(*expr.FieldReference)
			lit, lok := sf.Arg(1).(expr.Literal)
			if rok && lok {
				if sr, ok := ref.Reference.(*expr.StructFieldRef); ok && sr.Field == 0 {
					if pl, ok := lit.(*expr.PrimitiveLiteral[int64]); ok {
						minID = max(minID, pl.Value)
						v = plugin.Exact
						explain += fmt.Sprintf("id > %d ", pl.Value)
					}
				}
			}
		}
		plan.Verdicts = append(plan.Verdicts, v)
	}
	cols := req.Projection
	if cols == nil {
		cols = []int{0, 1, 2}
	}
	parts := int64(max(req.Parallelism, 1))
	if req.Limit >= 0 {
		parts = 1
		explain += fmt.Sprintf("limit %d ", req.Limit)
		n = min(n, req.Limit+max(minID+1, 0))
	}
	for i := range parts {
		t := ticket{From: n * i / parts, To: n * (i + 1) / parts, MinID: minID, Cols: cols, Mode: req.Table.Options["mode"]}
		b, _ := json.Marshal(t)
		plan.Splits = append(plan.Splits, plugin.Split{Ticket: b, Stats: plugin.Unknown})
	}
	plan.Explain = fmt.Sprintf("%ssplits=%d", explain, parts)
	return plan, nil
}

func (source) ReadSplit(ctx context.Context, split []byte, emit func(arrow.RecordBatch) error) error {
	var t ticket
	if err := json.Unmarshal(split, &t); err != nil {
		return fmt.Errorf("bad split: %w", err)
	}
	fields := make([]arrow.Field, len(t.Cols))
	for i, c := range t.Cols {
		fields[i] = schema.Field(c)
	}
	if t.Mode == "wrong_schema" {
		fields[0] = arrow.Field{Name: "oops", Type: arrow.FixedWidthTypes.Boolean}
	}
	out := arrow.NewSchema(fields, nil)
	mem := memory.DefaultAllocator
	const batch = 1000
	for from := t.From; from < t.To; from += batch {
		if from > t.From {
			switch t.Mode {
			case "crash":
				os.Exit(3)
			case "hang":
				select {
				case <-ctx.Done():
				case <-time.After(time.Hour):
				}
				return ctx.Err()
			}
		}
		b := array.NewRecordBuilder(mem, out)
		for id := from; id < min(from+batch, t.To); id++ {
			if id <= t.MinID {
				continue
			}
			for i, c := range t.Cols {
				switch {
				case t.Mode == "wrong_schema" && i == 0:
					b.Field(i).(*array.BooleanBuilder).Append(true)
				case c == 0:
					b.Field(i).(*array.Int64Builder).Append(id)
				case c == 1:
					if id%10 == 7 {
						b.Field(i).AppendNull()
					} else {
						b.Field(i).(*array.StringBuilder).Append(fmt.Sprintf("n%d", id))
					}
				case c == 2:
					b.Field(i).(*array.Float64Builder).Append(float64(id) / 4)
				}
			}
		}
		rec := b.NewRecordBatch()
		b.Release()
		err := emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// sumAcc sums int64 per group; the state is the sum and a row count.
type sumAcc struct {
	sums []int64
	cnt  []int64
}

func (a *sumAcc) grow(groups []uint32) {
	for _, g := range groups {
		for int(g) >= len(a.sums) {
			a.sums = append(a.sums, 0)
			a.cnt = append(a.cnt, 0)
		}
	}
}

func (a *sumAcc) Update(groups []uint32, args []arrow.Array) error {
	a.grow(groups)
	v := args[0].(*array.Int64)
	for i, g := range groups {
		if v.IsValid(i) {
			a.sums[g] += v.Value(i)
			a.cnt[g]++
		}
	}
	return nil
}

func (a *sumAcc) Merge(groups []uint32, states []arrow.Array) error {
	a.grow(groups)
	s, c := states[0].(*array.Int64), states[1].(*array.Int64)
	for i, g := range groups {
		a.sums[g] += s.Value(i)
		a.cnt[g] += c.Value(i)
	}
	return nil
}

func (a *sumAcc) pad(n int) {
	for len(a.sums) < n {
		a.sums = append(a.sums, 0)
		a.cnt = append(a.cnt, 0)
	}
}

func (a *sumAcc) State(mem memory.Allocator, n int) ([]arrow.Array, error) {
	a.pad(n)
	sb, cb := array.NewInt64Builder(mem), array.NewInt64Builder(mem)
	defer sb.Release()
	defer cb.Release()
	sb.AppendValues(a.sums[:n], nil)
	cb.AppendValues(a.cnt[:n], nil)
	return []arrow.Array{sb.NewArray(), cb.NewArray()}, nil
}

func (a *sumAcc) Evaluate(mem memory.Allocator, n int) (arrow.Array, error) {
	a.pad(n)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for g := range n {
		if a.cnt[g] == 0 {
			b.AppendNull()
		} else {
			b.Append(a.sums[g])
		}
	}
	return b.NewArray(), nil
}

func main() {
	i64 := arrow.PrimitiveTypes.Int64
	plugin.Serve(&plugin.Plugin{
		Name: "testplugin", Version: "1.0", Owner: "arbalest-tests",
		Source: source{},
		Functions: []plugin.Function{
			&plugin.Scalar{Name: "add_one", Args: []arrow.DataType{i64}, Result: i64, NullOnNull: true,
				Eval: func(_ context.Context, mem memory.Allocator, args []arrow.Array, rows int) (arrow.Array, error) {
					b := array.NewInt64Builder(mem)
					defer b.Release()
					v := args[0].(*array.Int64)
					for i := range rows {
						b.Append(v.Value(i) + 1)
					}
					return b.NewArray(), nil
				}},
			&plugin.Scalar{Name: "shout", Args: []arrow.DataType{arrow.BinaryTypes.String}, Result: arrow.BinaryTypes.String,
				Eval: func(_ context.Context, mem memory.Allocator, args []arrow.Array, rows int) (arrow.Array, error) {
					b := array.NewStringBuilder(mem)
					defer b.Release()
					v := args[0].(*array.String)
					for i := range rows {
						if v.IsNull(i) {
							b.Append("NULL!")
						} else {
							b.Append(v.Value(i) + "!")
						}
					}
					return b.NewArray(), nil
				}},
			&plugin.Scalar{Name: "misbehave", Args: []arrow.DataType{arrow.BinaryTypes.String}, Result: i64, Volatility: plugin.Volatile,
				Eval: func(ctx context.Context, mem memory.Allocator, args []arrow.Array, rows int) (arrow.Array, error) {
					switch args[0].(*array.String).Value(0) {
					case "crash":
						os.Exit(4)
					case "hang":
						<-ctx.Done()
						return nil, ctx.Err()
					case "wrong_type":
						b := array.NewStringBuilder(mem)
						defer b.Release()
						for range rows {
							b.Append("x")
						}
						return b.NewArray(), nil
					case "error":
						return nil, fmt.Errorf("misbehave was asked to fail")
					}
					b := array.NewInt64Builder(mem)
					defer b.Release()
					for range rows {
						b.Append(1)
					}
					return b.NewArray(), nil
				}},
			&plugin.Aggregate{Name: "my_sum", Args: []arrow.DataType{i64}, Result: i64,
				State: []arrow.Field{{Name: "sum", Type: i64}, {Name: "count", Type: i64}},
				New:   func() plugin.GroupsAccumulator { return &sumAcc{} }},
		},
	})
}
