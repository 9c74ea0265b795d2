// Package examples holds the code of the runnable examples of the Go SDK
// (each in its own folder: go run ./examples/sql, ./examples/dataframe,
// ./examples/substrait), written as functions so tests can run them
// against a cluster.
package examples

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/sdk/client"
)

// RegisterTables registers every Parquet file of dir as a table of the
// client's session named after the file (dir/lineitem.parquet becomes
// lineitem), replacing a table of that name. It returns the names.
func RegisterTables(ctx context.Context, c *client.Client, dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no .parquet files", dir)
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(f), ".parquet")
		q := fmt.Sprintf(`CREATE OR REPLACE EXTERNAL TABLE "%s" STORED AS PARQUET LOCATION '%s'`,
			strings.ReplaceAll(name, `"`, `""`), strings.ReplaceAll(abs, "'", "''"))
		res, err := c.SQL(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("registering %s: %w", f, err)
		}
		if err := res.Close(); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// Print writes a result as an aligned text table and closes it.
func Print(ctx context.Context, w io.Writer, res *client.Result) (err error) {
	defer func() {
		if cerr := res.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	names := make([]string, res.Schema().NumFields())
	for i, f := range res.Schema().Fields() {
		names[i] = f.Name
	}
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	rows := 0
	for {
		rec, err := res.NextBatch(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rows += printBatch(tw, rec)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, RowCount(rows))
	return err
}

func printBatch(w io.Writer, rec arrow.RecordBatch) int {
	cells := make([]string, rec.NumCols())
	for i := 0; i < int(rec.NumRows()); i++ {
		for j, col := range rec.Columns() {
			if col.IsNull(i) {
				cells[j] = "NULL"
			} else {
				cells[j] = col.ValueStr(i)
			}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return int(rec.NumRows())
}

// RowCount is the line Print ends a result with: "(1 row)", "(3 rows)".
func RowCount(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return fmt.Sprintf("(%d rows)", n)
}

// Main is the command line every example shares: --connect, --data and
// --timeout, Ctrl-C to stop, a client of the cluster; run does the
// example's work with the remaining arguments.
func Main(dataHelp string, run func(ctx context.Context, c *client.Client, w io.Writer, data string, args []string) error) {
	connect := flag.String("connect", "127.0.0.1:50050", "the scheduler's `host:port`")
	data := flag.String("data", "", dataHelp)
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	err := func() error {
		c, err := client.Dial(ctx, *connect)
		if err != nil {
			return err
		}
		defer c.Close()
		return run(ctx, c, os.Stdout, *data, flag.Args())
	}()
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
