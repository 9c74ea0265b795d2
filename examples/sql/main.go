// Command sql runs SQL statements on an Arbalest cluster and prints their
// results:
//
//	go run ./examples/sql --connect 127.0.0.1:50050 --data /tmp/tpch01 \
//	    "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1 ORDER BY 1"
//
// --data registers the folder's Parquet files as tables first. The code
// is in ../sql.go.
package main

import (
	"context"
	"io"

	"github.com/arbalest/arbalest/examples"
	"github.com/arbalest/arbalest/sdk/client"
)

func main() {
	examples.Main("a `folder` of Parquet files to register as tables", func(ctx context.Context, c *client.Client, w io.Writer, data string, args []string) error {
		return examples.SQL(ctx, c, w, data, args...)
	})
}
