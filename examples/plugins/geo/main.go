// Command geo is an Arbalest function plugin written with the Go SDK: a
// scalar function and an aggregate over float64 columns.
//
//	go build -o geo ./examples/plugins/geo
//	arbalest sql --plugin geo=./geo -c "SELECT haversine_km(48.85, 2.35, 51.51, -0.13)"
//
// SQL calls the functions by name; Substrait plans call them through the
// extension extension:example:geo that the plugin declares.
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/sdk/plugin"
)

func main() {
	f64 := arrow.PrimitiveTypes.Float64
	plugin.Serve(&plugin.Plugin{
		Name: "geo", Version: "1.0", Owner: "example",
		Functions: []plugin.Function{
			&plugin.Scalar{
				Name: "haversine_km", Args: []arrow.DataType{f64, f64, f64, f64}, Result: f64, NullOnNull: true,
				Description: "great-circle distance in km between (lat1, lon1) and (lat2, lon2), in degrees",
				Eval:        haversine,
			},
			&plugin.Aggregate{
				Name: "geo_mean", Args: []arrow.DataType{f64}, Result: f64,
				State:       []arrow.Field{{Name: "log_sum", Type: f64}, {Name: "count", Type: arrow.PrimitiveTypes.Int64}},
				Description: "geometric mean of positive values",
				New:         func() plugin.GroupsAccumulator { return &geoMean{} },
			},
		},
	})
}

func haversine(_ context.Context, mem memory.Allocator, args []arrow.Array, rows int) (arrow.Array, error) {
	lat1, lon1 := args[0].(*array.Float64).Float64Values(), args[1].(*array.Float64).Float64Values()
	lat2, lon2 := args[2].(*array.Float64).Float64Values(), args[3].(*array.Float64).Float64Values()
	out := make([]float64, rows)
	const r = math.Pi / 180
	for i := range out {
		dlat, dlon := (lat2[i]-lat1[i])*r, (lon2[i]-lon1[i])*r
		a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1[i]*r)*math.Cos(lat2[i]*r)*math.Sin(dlon/2)*math.Sin(dlon/2)
		out[i] = 6371.0088 * 2 * math.Asin(math.Sqrt(a))
	}
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(out, nil) // NULL rows are masked by the engine (NullOnNull)
	return b.NewArray(), nil
}

// geoMean keeps, per group, the sum of logarithms and the count.
type geoMean struct {
	logSum []float64
	count  []int64
}

func (g *geoMean) grow(n int) {
	for len(g.count) < n {
		g.logSum, g.count = append(g.logSum, 0), append(g.count, 0)
	}
}

func (g *geoMean) Update(groups []uint32, args []arrow.Array) error {
	v := args[0].(*array.Float64)
	for i, grp := range groups {
		g.grow(int(grp) + 1)
		if v.IsNull(i) {
			continue
		}
		if x := v.Value(i); x <= 0 {
			return fmt.Errorf("geo_mean of %g: values must be positive", x)
		} else {
			g.logSum[grp] += math.Log(x)
			g.count[grp]++
		}
	}
	return nil
}

func (g *geoMean) Merge(groups []uint32, states []arrow.Array) error {
	s, c := states[0].(*array.Float64), states[1].(*array.Int64)
	for i, grp := range groups {
		g.grow(int(grp) + 1)
		g.logSum[grp] += s.Value(i)
		g.count[grp] += c.Value(i)
	}
	return nil
}

func (g *geoMean) State(mem memory.Allocator, n int) ([]arrow.Array, error) {
	g.grow(n)
	s, c := array.NewFloat64Builder(mem), array.NewInt64Builder(mem)
	defer s.Release()
	defer c.Release()
	s.AppendValues(g.logSum[:n], nil)
	c.AppendValues(g.count[:n], nil)
	return []arrow.Array{s.NewArray(), c.NewArray()}, nil
}

func (g *geoMean) Evaluate(mem memory.Allocator, n int) (arrow.Array, error) {
	g.grow(n)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for i := range n {
		if g.count[i] == 0 {
			b.AppendNull()
		} else {
			b.Append(math.Exp(g.logSum[i] / float64(g.count[i])))
		}
	}
	return b.NewArray(), nil
}
