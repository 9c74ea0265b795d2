package examples

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/arbalest/arbalest/sdk/client"
)

// SQL registers the Parquet files of data as tables (when data is not
// empty) and runs each query, printing its result. Without queries it
// lists the tables.
func SQL(ctx context.Context, c *client.Client, w io.Writer, data string, queries ...string) error {
	if data != "" {
		names, err := RegisterTables(ctx, c, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "registered %s\n", strings.Join(names, ", "))
	}
	if len(queries) == 0 {
		queries = []string{"SHOW TABLES"}
	}
	for _, q := range queries {
		fmt.Fprintf(w, "> %s\n", q)
		res, err := c.SQL(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		if err := Print(ctx, w, res); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
