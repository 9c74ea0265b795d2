// Package remote runs SQL scripts on a cluster through the Go client, as
// an engine.Runner: the CLI and the conformance suites use the same code
// for the embedded engine and for a cluster.
package remote

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Runner sends each statement of a script to the scheduler.
type Runner struct {
	C *client.Client
}

var _ engine.Runner = (*Runner)(nil)

// Run splits script into statements (with the SQL parser, so semicolons
// in strings are safe) and runs them one after another.
func (r *Runner) Run(ctx context.Context, script string, each func(*engine.Result) error) error {
	stmts, err := sql.Parse(script)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		res, err := r.C.SQL(ctx, st.SQL)
		if err != nil {
			return err
		}
		s := &Stream{R: res}
		err = each(&engine.Result{SQL: st.SQL, Query: !res.Statement, Stream: s})
		if cerr := s.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Stream adapts a client result to engine.Stream.
type Stream struct {
	R *client.Result
}

// Schema is the result schema.
func (s *Stream) Schema() *arrow.Schema { return s.R.Schema() }

// Next returns the next batch or io.EOF.
func (s *Stream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := s.R.NextBatch(ctx)
	if err != nil && !errors.Is(err, io.EOF) && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return b, err
}

// Close ends the result and removes its files from the cluster.
func (s *Stream) Close() error { return s.R.Close() }
