// Command substrait builds a query plan, prints it as Substrait JSON and
// submits the plan's protobuf bytes to an Arbalest cluster:
//
//	go run ./examples/substrait --connect 127.0.0.1:50050 --data /tmp/tpch01
//
// With --data the plan reads the folder's lineitem.parquet as a local
// file; without, the session's lineitem table. The code is in
// ../substrait.go.
package main

import (
	"context"
	"io"

	"github.com/arbalest/arbalest/examples"
	"github.com/arbalest/arbalest/sdk/client"
)

func main() {
	examples.Main("a `folder` holding lineitem.parquet", func(ctx context.Context, c *client.Client, w io.Writer, data string, args []string) error {
		return examples.Substrait(ctx, c, w, data)
	})
}
