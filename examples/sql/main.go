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
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/arbalest/arbalest/examples"
	"github.com/arbalest/arbalest/sdk/client"
)

func main() {
	connect := flag.String("connect", "127.0.0.1:50050", "the scheduler's `host:port`")
	data := flag.String("data", "", "a `folder` of Parquet files to register as tables")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*connect, *data, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(connect, data string, timeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c, err := client.Dial(ctx, connect)
	if err != nil {
		return err
	}
	defer c.Close()
	return examples.SQL(ctx, c, os.Stdout, data, flag.Args()...)
}
