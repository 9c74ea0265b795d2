package dbgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"
)

// Options configures Generate. The zero value of every field but
// ScaleFactor picks the default.
type Options struct {
	// ScaleFactor is the TPC-H scale factor (SF 1 is about 1 GB of text).
	ScaleFactor float64
	// Tables to write; nil means all eight.
	Tables []Table
	// Compression is "snappy" (default), "zstd", "gzip", "lz4" or "none".
	Compression string
	// RowGroupRows is the Parquet row group size; default 1<<20 rows.
	RowGroupRows int64
	// BatchRows is the approximate number of rows generated per batch and
	// unit of parallel work; default 65536.
	BatchRows int
	// Workers is the number of goroutines generating batches, and of those
	// encoding the columns of one table's batch; default GOMAXPROCS.
	Workers int
	// Allocator for batches and Parquet buffers; default memory.DefaultAllocator.
	Allocator memory.Allocator
}

// TableResult describes one file Generate wrote.
type TableResult struct {
	Table Table
	Path  string
	Rows  int64
	Bytes int64
}

// Generate writes the tables as dir/<table>.parquet (one file each,
// written to a temporary name and renamed when complete). Tables are
// generated concurrently, each in chunks of BatchRows rows on Workers
// goroutines, and streamed to its file in order, so memory stays bounded
// whatever the scale factor.
func Generate(ctx context.Context, dir string, opts Options) ([]TableResult, error) {
	if err := ValidateScaleFactor(opts.ScaleFactor); err != nil {
		return nil, err
	}
	codec, err := parseCompression(opts.Compression)
	if err != nil {
		return nil, err
	}
	tables := opts.Tables
	if tables == nil {
		tables = Tables
	}
	seen := make(map[Table]bool, len(tables))
	for _, t := range tables {
		if !t.valid() {
			return nil, fmt.Errorf("invalid TPC-H table %d", int(t))
		}
		if seen[t] {
			return nil, fmt.Errorf("table %s listed twice", t)
		}
		seen[t] = true
	}
	if opts.RowGroupRows < 0 || opts.BatchRows < 0 || opts.Workers < 0 {
		return nil, fmt.Errorf("RowGroupRows, BatchRows and Workers must not be negative")
	}
	if opts.RowGroupRows == 0 {
		opts.RowGroupRows = 1 << 20
	}
	if opts.BatchRows == 0 {
		opts.BatchRows = 1 << 16
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tpch gen: %w", err)
	}
	textPool() // built once, before the workers need it

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *chunk)
	results := make([]TableResult, len(tables))
	var producers errgroup.Group
	for i, t := range tables {
		units, _ := Units(t, opts.ScaleFactor)
		per := int64(min(max(1, opts.BatchRows/rowsPerUnit(t)), MaxBatchUnits))
		q := make(chan *chunk, opts.Workers)
		producers.Go(func() error {
			defer close(q)
			for start := int64(0); start < units; start += per {
				c := &chunk{table: t, start: start, count: min(per, units-start), done: make(chan chunkResult, 1)}
				select {
				case q <- c:
				case <-gctx.Done():
					return nil
				}
				select {
				case work <- c:
				case <-gctx.Done():
					// Queued but never run: answer it so the writer
					// does not wait for it.
					c.done <- chunkResult{err: gctx.Err()}
					return nil
				}
			}
			return nil
		})
		res := &results[i]
		g.Go(func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("tpch gen %s: internal error: %v", t, p)
					cancel(err)
					for c := range q { // let producers finish
						if r := <-c.done; r.rec != nil {
							r.rec.Release()
						}
					}
				}
			}()
			*res, err = writeTable(gctx, cancel, dir, t, q, codec, opts)
			return err
		})
	}
	var workers errgroup.Group
	for w := 0; w < opts.Workers; w++ {
		workers.Go(func() error {
			for c := range work {
				c.run(gctx, opts.ScaleFactor, opts.Allocator)
			}
			return nil
		})
	}
	g.Go(func() error {
		_ = producers.Wait()
		close(work)
		return nil
	})
	err = g.Wait()
	_ = workers.Wait()
	if err != nil {
		// Report the failure that cancelled the run, not a writer that
		// merely saw the cancellation.
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return nil, err
	}
	return results, nil
}

// rowsPerUnit is the mean number of rows a unit of t produces.
func rowsPerUnit(t Table) int {
	switch t {
	case PartSupp, LineItem:
		return 4
	}
	return 1
}

// chunk is one batch of a table handed from producer to worker to writer.
type chunk struct {
	table        Table
	start, count int64
	done         chan chunkResult // capacity 1: workers never block
}

type chunkResult struct {
	rec arrow.RecordBatch
	err error
}

func (c *chunk) run(ctx context.Context, sf float64, mem memory.Allocator) {
	if ctx.Err() != nil {
		c.done <- chunkResult{err: ctx.Err()}
		return
	}
	rec, err := generateBatchSafe(c.table, sf, c.start, c.count, mem)
	c.done <- chunkResult{rec: rec, err: err}
}

// generateBatchSafe generates a batch for the Parquet writer (with
// dictionary columns), turning a panic (a bug) into an error at the
// goroutine root.
func generateBatchSafe(t Table, sf float64, start, count int64, mem memory.Allocator) (rec arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("generating %s units [%d, %d): internal error: %v", t, start, start+count, p)
		}
	}()
	return generateBatch(t, sf, start, count, mem, true)
}

// writeTable streams the chunks of q, in order, into dir/<t>.parquet. On
// failure it cancels the run (so producers stop) and drains q.
func writeTable(ctx context.Context, cancel context.CancelCauseFunc, dir string, t Table, q <-chan *chunk, codec compress.Compression, opts Options) (res TableResult, err error) {
	res = TableResult{Table: t, Path: filepath.Join(dir, t.String()+".parquet")}
	f, err := os.CreateTemp(dir, "."+t.String()+".*.parquet.tmp")
	if err != nil {
		return res, fmt.Errorf("tpch gen %s: %w", t, err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return res, fmt.Errorf("tpch gen %s: %w", t, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w, err := newTableWriter(t, f, writerProperties(t, codec, opts), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(opts.Allocator)), opts.Workers)
	if err != nil {
		return res, fmt.Errorf("tpch gen %s: %w", t, err)
	}
	closed := false
	defer func() {
		if !closed {
			w.close()
		}
	}()
	// Every chunk queued gets a result (a batch, or an error once the run
	// is cancelled), so the loop always drains the queue; after a failure
	// it only releases what arrives.
	for c := range q {
		r := <-c.done
		if r.err != nil && err == nil {
			err = r.err
			cancel(err)
		}
		if r.rec == nil {
			continue
		}
		if err == nil {
			res.Rows += r.rec.NumRows()
			if werr := w.write(r.rec); werr != nil {
				err = fmt.Errorf("tpch gen %s: writing Parquet: %w", t, werr)
				cancel(err)
			}
		}
		r.rec.Release()
	}
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	closed = true
	if err := w.close(); err != nil { // also closes f
		return res, fmt.Errorf("tpch gen %s: closing Parquet file: %w", t, err)
	}
	if err := os.Rename(tmp, res.Path); err != nil {
		return res, fmt.Errorf("tpch gen %s: %w", t, err)
	}
	if st, err := os.Stat(res.Path); err == nil {
		res.Bytes = st.Size()
	}
	return res, nil
}
