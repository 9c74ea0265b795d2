package examples

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/sdk/client"
	df "github.com/arbalest/arbalest/sdk/dataframe"
)

// Substrait builds a plan with the DataFrame API, prints it as Substrait
// JSON and submits its protobuf bytes, as any Substrait producer
// (DataFusion, isthmus, ibis) would. With data, the plan reads
// data/lineitem.parquet as a local file and needs no table; without, it
// reads the session's lineitem table.
func Substrait(ctx context.Context, c *client.Client, w io.Writer, data string) error {
	var lineitem *df.DataFrame
	var err error
	if data != "" {
		lineitem, err = df.ReadParquet(filepath.Join(data, "lineitem.parquet"))
	} else {
		lineitem, err = df.NewContext(c).Table(ctx, "lineitem")
	}
	if err != nil {
		return err
	}
	plan, err := lineitem.
		Filter(df.Col("l_quantity").Gt(45)).
		GroupBy("l_shipmode").
		Agg(df.Count().As("big_lines"), df.Max(df.Col("l_extendedprice")).As("max_price")).
		Sort(df.Col("l_shipmode").Asc()).
		Substrait()
	if err != nil {
		return err
	}
	text, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", text)
	b, err := proto.Marshal(plan)
	if err != nil {
		return err
	}
	res, err := c.Substrait(ctx, b)
	if err != nil {
		return err
	}
	return Print(ctx, w, res)
}
