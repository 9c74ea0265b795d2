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
	data := flag.String("data", "", "a `folder` holding lineitem.parquet")
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
	return examples.Substrait(ctx, c, os.Stdout, data)
}
