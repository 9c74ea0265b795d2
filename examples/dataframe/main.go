// Command dataframe runs TPC-H Q1 and Q3 built with the DataFrame API
// (package sdk/dataframe) on an Arbalest cluster:
//
//	go run ./examples/dataframe --connect 127.0.0.1:50050 --data /tmp/tpch01
//
// --data registers the folder's Parquet files (lineitem.parquet,
// orders.parquet, customer.parquet, ...) as tables first. The code is in
// ../dataframe.go.
package main

import (
	"context"
	"io"

	"github.com/arbalest/arbalest/examples"
	"github.com/arbalest/arbalest/sdk/client"
)

func main() {
	examples.Main("a `folder` of TPC-H Parquet files to register as tables", func(ctx context.Context, c *client.Client, w io.Writer, data string, args []string) error {
		return examples.DataFrame(ctx, c, w, data)
	})
}
