package join

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// collected is a whole input held in memory as one array per column.
type collected struct {
	cols []arrow.Array
	n    int
}

func (c *collected) release() {
	for _, a := range c.cols {
		if a != nil {
			a.Release()
		}
	}
	c.cols = nil
	c.n = 0
}

// arrayBytes is the memory an array holds (buffers of its whole data, a
// slice counts its full buffers).
func arrayBytes(a arrow.Array) int64 {
	return int64(a.Data().SizeInBytes())
}

// canceled turns the end of ctx into the executor's cancellation error.
func canceled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", exec.ErrCanceled, context.Cause(ctx))
	}
	return nil
}

// collect reads the given partitions of n to the end and concatenates every
// column, reserving what it holds in res. perBatch, when set, sees each
// non-empty batch (with its row offset in the result) before it is kept.
func collect(ctx context.Context, n exec.Node, parts []int, tc *exec.TaskContext, res *exec.Reservation,
	perBatch func(b arrow.RecordBatch, offset int) error) (*collected, error) {
	ncols := n.Schema().NumFields()
	pieces := make([][]arrow.Array, ncols)
	var rows int
	var held int64
	releasePieces := func() {
		for _, ps := range pieces {
			for _, a := range ps {
				a.Release()
			}
		}
	}
	readPartition := func(p int) error {
		s, err := n.Execute(ctx, p, tc)
		if err != nil {
			return err
		}
		defer s.Close()
		for {
			if err := canceled(ctx); err != nil {
				return err
			}
			b, err := s.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if b.NumRows() == 0 {
				continue
			}
			if int(b.NumCols()) != ncols {
				return fmt.Errorf("build input produced a batch with %d columns, its schema has %d", b.NumCols(), ncols)
			}
			var sz int64
			for _, c := range b.Columns() {
				sz += arrayBytes(c)
			}
			if err := res.Grow(sz); err != nil {
				return err
			}
			held += sz
			if perBatch != nil {
				if err := perBatch(b, rows); err != nil {
					return err
				}
			}
			for i, c := range b.Columns() {
				c.Retain()
				pieces[i] = append(pieces[i], c)
			}
			rows += int(b.NumRows())
			if rows > maxBuildRows {
				return fmt.Errorf("join build side has more than %d rows", maxBuildRows)
			}
		}
	}
	for _, p := range parts {
		if err := readPartition(p); err != nil {
			releasePieces()
			res.Shrink(held)
			return nil, err
		}
	}

	out := &collected{cols: make([]arrow.Array, ncols), n: rows}
	schema := n.Schema()
	for i := range ncols {
		ps := pieces[i]
		switch len(ps) {
		case 0:
			out.cols[i] = array.MakeArrayOfNull(tc.Alloc, schema.Field(i).Type, 0)
			continue
		case 1:
			out.cols[i] = ps[0]
			pieces[i] = nil
			continue
		}
		// Concatenating holds the pieces and the result at once.
		var psz int64
		for _, a := range ps {
			psz += arrayBytes(a)
		}
		if err := res.Grow(psz); err != nil {
			out.release()
			releasePieces()
			res.Shrink(held)
			return nil, err
		}
		cat, err := array.Concatenate(ps, tc.Alloc)
		if err != nil {
			res.Shrink(psz)
			out.release()
			releasePieces()
			res.Shrink(held)
			return nil, fmt.Errorf("concatenating build column %d: %w", i, err)
		}
		for _, a := range ps {
			a.Release()
		}
		pieces[i] = nil
		out.cols[i] = cat
		catSize := arrayBytes(cat)
		if d := catSize - 2*psz; d <= 0 {
			res.Shrink(-d)
		} else if err := res.Grow(d); err != nil {
			res.Shrink(2 * psz)
			out.release()
			releasePieces()
			res.Shrink(held - psz)
			return nil, err
		}
		held += catSize - psz
	}
	return out, nil
}

// maxBuildRows bounds the build side: row numbers are int32.
const maxBuildRows = 1<<31 - 2
