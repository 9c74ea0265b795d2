package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

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

// partPieces is one partition of a build input as read: the pieces of
// every column and, for a hash join, the evaluated key columns of every
// batch. Its memory is reserved in res.
type partPieces struct {
	pieces [][]arrow.Array // per column, one piece per batch
	keys   [][]arrow.Array // per batch, the key columns
	rows   int
	res    *exec.Reservation
}

func (pp *partPieces) release() {
	for _, ps := range pp.pieces {
		for _, a := range ps {
			a.Release()
		}
	}
	for _, ks := range pp.keys {
		for _, a := range ks {
			a.Release()
		}
	}
	pp.pieces, pp.keys = nil, nil
	pp.res.Free()
}

// readPart reads partition p of n to the end into pieces reserved under
// consumer. keys, when not nil, evaluates the key columns of every batch;
// the computed ones (not columns of the batch) are reserved too.
func readPart(ctx context.Context, n exec.Node, p int, tc *exec.TaskContext, consumer string, keys *keyProbe) (*partPieces, error) {
	ncols := n.Schema().NumFields()
	pp := &partPieces{pieces: make([][]arrow.Array, ncols), res: tc.Mem.NewReservation(consumer)}
	if err := pp.read(ctx, n, p, tc, keys); err != nil {
		pp.release()
		return nil, err
	}
	return pp, nil
}

func (pp *partPieces) read(ctx context.Context, n exec.Node, p int, tc *exec.TaskContext, keys *keyProbe) error {
	ncols := len(pp.pieces)
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
		if keys != nil {
			if err := keys.eval(ctx, b); err != nil {
				return err
			}
			ks := slices.Clone(keys.arrays)
			keys.arrays = keys.arrays[:0]
			pp.keys = append(pp.keys, ks)
			for _, a := range ks {
				if !slices.Contains(b.Columns(), a) {
					sz += arrayBytes(a)
				}
			}
		}
		if err := pp.res.Grow(sz); err != nil {
			return err
		}
		for i, c := range b.Columns() {
			c.Retain()
			pp.pieces[i] = append(pp.pieces[i], c)
		}
		pp.rows += int(b.NumRows())
		if pp.rows > maxBuildRows {
			return fmt.Errorf("join build side has more than %d rows", maxBuildRows)
		}
	}
}

// mergeParts concatenates the columns of the partitions (in order) into
// one array per column, reserved in res, and releases the pieces. The key
// columns stay with the partitions.
func mergeParts(parts []*partPieces, schema *arrow.Schema, tc *exec.TaskContext, res *exec.Reservation) (*collected, error) {
	ncols := schema.NumFields()
	rows := 0
	for _, pp := range parts {
		rows += pp.rows
	}
	if rows > maxBuildRows {
		return nil, fmt.Errorf("join build side has more than %d rows", maxBuildRows)
	}
	out := &collected{cols: make([]arrow.Array, ncols), n: rows}
	for i := range ncols {
		var ps []arrow.Array
		var psz int64
		for _, pp := range parts {
			for _, a := range pp.pieces[i] {
				ps = append(ps, a)
				psz += arrayBytes(a)
			}
		}
		if len(ps) == 0 {
			out.cols[i] = array.MakeArrayOfNull(tc.Alloc, schema.Field(i).Type, 0)
			continue
		}
		if len(ps) == 1 {
			// Take the piece over as it is.
			ps[0].Retain()
			out.cols[i] = ps[0]
			if err := res.Grow(psz); err != nil {
				out.release()
				return nil, err
			}
		} else {
			// Concatenating holds the pieces and the result at once.
			if err := res.Grow(psz); err != nil {
				out.release()
				return nil, err
			}
			cat, err := array.Concatenate(ps, tc.Alloc)
			if err != nil {
				out.release()
				return nil, fmt.Errorf("concatenating build column %d: %w", i, err)
			}
			out.cols[i] = cat
			if d := arrayBytes(cat) - psz; d <= 0 {
				res.Shrink(-d)
			} else if err := res.Grow(d); err != nil {
				out.release()
				return nil, err
			}
		}
		// The pieces go now (the keys may still reference some).
		for _, pp := range parts {
			var sz int64
			for _, a := range pp.pieces[i] {
				sz += arrayBytes(a)
				a.Release()
			}
			pp.pieces[i] = nil
			pp.res.Shrink(sz)
		}
	}
	return out, nil
}

// maxBuildRows bounds the build side: row numbers are int32.
const maxBuildRows = 1<<31 - 2
