package dbgen

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"
)

// tableWriter writes record batches of one table to a Parquet file,
// encoding the columns of each batch concurrently. pqarrow's FileWriter
// encodes them one after the other, which leaves the largest table
// (lineitem, three quarters of the bytes) bound to one core; in a
// buffered row group every column has its own encoder and page buffer,
// so different columns can be written from different goroutines.
type tableWriter struct {
	pw          *file.Writer
	rgw         file.BufferedRowGroupWriter // nil until a row arrives
	rowsInGroup int64
	maxGroup    int64
	arrowProps  pqarrow.ArrowWriterProperties
	parallel    int
}

func newTableWriter(t Table, sink io.Writer, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties, parallel int) (*tableWriter, error) {
	sc, err := pqarrow.ToParquet(t.Schema(), props, arrowProps)
	if err != nil {
		return nil, err
	}
	pw, err := file.NewParquetWriterWithError(sink, sc.Root(), file.WithWriterProps(props))
	if err != nil {
		return nil, err
	}
	return &tableWriter{pw: pw, maxGroup: props.MaxRowGroupLength(), arrowProps: arrowProps, parallel: max(1, parallel)}, nil
}

// write appends rec, starting a new row group whenever one is full.
func (w *tableWriter) write(rec arrow.RecordBatch) error {
	for off, n := int64(0), rec.NumRows(); off < n; {
		if w.rgw == nil {
			rgw, err := w.pw.AppendBufferedRowGroupChecked()
			if err != nil {
				return err
			}
			w.rgw, w.rowsInGroup = rgw, 0
		}
		k := min(n-off, w.maxGroup-w.rowsInGroup)
		part := rec
		if off != 0 || k != n {
			part = rec.NewSlice(off, off+k)
		}
		err := w.writeColumns(part)
		if part != rec {
			part.Release()
		}
		if err != nil {
			return err
		}
		off += k
		w.rowsInGroup += k
		if w.rowsInGroup == w.maxGroup {
			if err := w.rgw.Close(); err != nil {
				return err
			}
			w.rgw = nil
		}
	}
	return nil
}

func (w *tableWriter) writeColumns(rec arrow.RecordBatch) error {
	var g errgroup.Group
	g.SetLimit(w.parallel)
	for i := 0; i < int(rec.NumCols()); i++ {
		g.Go(func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("encoding column %s: internal error: %v", rec.ColumnName(i), p)
				}
			}()
			cw, err := w.rgw.Column(i)
			if err != nil {
				return err
			}
			ctx := pqarrow.NewArrowWriteContext(context.Background(), &w.arrowProps)
			if err := pqarrow.WriteArrowToColumn(ctx, cw, rec.Column(i), nil, nil, false); err != nil {
				return fmt.Errorf("encoding column %s: %w", rec.ColumnName(i), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// close finishes the last row group and the footer, and closes the sink.
func (w *tableWriter) close() error {
	return w.pw.Close()
}

// lowCardinality lists the columns worth dictionary encoding.
var lowCardinality = setOf(
	"n_name", "r_name", "n_regionkey",
	"p_mfgr", "p_brand", "p_type", "p_size", "p_container",
	"s_nationkey", "c_nationkey", "c_mktsegment",
	"o_orderstatus", "o_orderdate", "o_orderpriority", "o_clerk", "o_shippriority",
	"l_linenumber", "l_quantity", "l_discount", "l_tax", "l_returnflag", "l_linestatus",
	"l_shipdate", "l_commitdate", "l_receiptdate", "l_shipinstruct", "l_shipmode",
)

// noStatistics lists columns whose min/max would cost time and prune
// nothing: free text, and the text columns with a handful of values that
// every row group contains all of.
var noStatistics = setOf(
	"n_comment", "r_comment",
	"p_name", "p_mfgr", "p_brand", "p_type", "p_container", "p_comment",
	"s_name", "s_address", "s_phone", "s_comment",
	"ps_comment",
	"c_name", "c_address", "c_phone", "c_mktsegment", "c_comment",
	"o_orderstatus", "o_orderpriority", "o_clerk", "o_comment",
	"l_returnflag", "l_linestatus", "l_shipinstruct", "l_shipmode", "l_comment",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func writerProperties(t Table, codec compress.Compression, opts Options) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithAllocator(opts.Allocator),
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(opts.RowGroupRows),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithStats(true),
		parquet.WithDictionaryDefault(false),
		parquet.WithCreatedBy("arbalest tpch dbgen"),
	}
	for _, f := range t.Schema().Fields() {
		if lowCardinality[f.Name] {
			props = append(props, parquet.WithDictionaryFor(f.Name, true))
		}
		if noStatistics[f.Name] {
			props = append(props, parquet.WithStatsFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(props...)
}

func parseCompression(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "lz4":
		return compress.Codecs.Lz4Raw, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown Parquet compression %q (want snappy, zstd, gzip, lz4 or none)", name)
}
