package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/logical"
)

// formats are the values of --format.
var formats = []string{"table", "csv", "json", "parquet", "arrow"}

func checkFormat(f string) error {
	for _, x := range formats {
		if f == x {
			return nil
		}
	}
	return fmt.Errorf("unknown --format %q (one of %s)", f, strings.Join(formats, ", "))
}

// writeResult writes a result stream to w in format and returns the row count.
func writeResult(ctx context.Context, w io.Writer, format string, s engine.Stream) (int64, error) {
	switch format {
	case "csv":
		return writeCSV(ctx, w, s)
	case "json":
		return writeJSON(ctx, w, s)
	case "parquet":
		return writeParquet(ctx, w, s)
	case "arrow":
		return writeArrow(ctx, w, s)
	}
	return writeTable(ctx, w, s)
}

func forEachBatch(ctx context.Context, s engine.Stream, fn func(arrow.RecordBatch) error) (int64, error) {
	var n int64
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += b.NumRows()
		if err := fn(b); err != nil {
			return n, err
		}
	}
}

func writeCSV(ctx context.Context, w io.Writer, s engine.Stream) (int64, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, s.Schema().NumFields())
	for i, f := range s.Schema().Fields() {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	row := make([]string, len(header))
	n, err := forEachBatch(ctx, s, func(b arrow.RecordBatch) error {
		for r := 0; r < int(b.NumRows()); r++ {
			for c := range row {
				row[c], _ = engine.FormatValue(b.Column(c), r)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

func writeJSON(ctx context.Context, w io.Writer, s engine.Stream) (int64, error) {
	bw := bufio.NewWriter(w)
	fields := s.Schema().Fields()
	keys := make([][]byte, len(fields))
	for i, f := range fields {
		keys[i], _ = json.Marshal(f.Name)
	}
	bw.WriteString("[")
	first := true
	n, err := forEachBatch(ctx, s, func(b arrow.RecordBatch) error {
		for r := 0; r < int(b.NumRows()); r++ {
			if !first {
				bw.WriteString(",")
			}
			first = false
			bw.WriteString("\n  {")
			for c, f := range fields {
				if c > 0 {
					bw.WriteString(", ")
				}
				bw.Write(keys[c])
				bw.WriteString(": ")
				v, ok := engine.FormatValue(b.Column(c), r)
				switch {
				case !ok:
					bw.WriteString("null")
				case logical.IsNumeric(f.Type) || f.Type.ID() == arrow.BOOL:
					bw.WriteString(v)
				default:
					q, _ := json.Marshal(v)
					bw.Write(q)
				}
			}
			bw.WriteString("}")
		}
		return nil
	})
	if first {
		bw.WriteString("]\n")
	} else {
		bw.WriteString("\n]\n")
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return n, err
}

func writeParquet(ctx context.Context, w io.Writer, s engine.Stream) (int64, error) {
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
	fw, err := pqarrow.NewFileWriter(s.Schema(), nopCloser{w}, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return 0, err
	}
	n, err := forEachBatch(ctx, s, func(b arrow.RecordBatch) error { return fw.WriteBuffered(b) })
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return n, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func writeArrow(ctx context.Context, w io.Writer, s engine.Stream) (int64, error) {
	iw := ipc.NewWriter(w, ipc.WithSchema(s.Schema()))
	n, err := forEachBatch(ctx, s, func(b arrow.RecordBatch) error { return iw.Write(b) })
	if cerr := iw.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// maxTableRows bounds what the table format holds to compute widths; rows
// past it are counted but not shown.
const maxTableRows = 10000

func writeTable(ctx context.Context, w io.Writer, s engine.Stream) (int64, error) {
	fields := s.Schema().Fields()
	if len(fields) == 0 {
		_, err := forEachBatch(ctx, s, func(arrow.RecordBatch) error { return nil })
		return 0, err
	}
	widths := make([]int, len(fields))
	right := make([]bool, len(fields))
	for i, f := range fields {
		widths[i] = utf8.RuneCountInString(f.Name)
		right[i] = logical.IsNumeric(f.Type)
	}
	var rows [][]string
	n, err := forEachBatch(ctx, s, func(b arrow.RecordBatch) error {
		for r := 0; r < int(b.NumRows()) && len(rows) < maxTableRows; r++ {
			row := make([]string, len(fields))
			for c := range row {
				v, ok := engine.FormatValue(b.Column(c), r)
				if !ok {
					v = "NULL"
				}
				row[c] = v
				if l := utf8.RuneCountInString(v); l > widths[c] {
					widths[c] = l
				}
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	bw := bufio.NewWriter(w)
	line := func(l, m, r string) {
		bw.WriteString(l)
		for i, wd := range widths {
			if i > 0 {
				bw.WriteString(m)
			}
			bw.WriteString(strings.Repeat("─", wd+2))
		}
		bw.WriteString(r + "\n")
	}
	cells := func(vals []string, alignRight bool) {
		bw.WriteString("│")
		for i, v := range vals {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
			if alignRight && right[i] {
				bw.WriteString(" " + pad + v + " │")
			} else {
				bw.WriteString(" " + v + pad + " │")
			}
		}
		bw.WriteString("\n")
	}
	header := make([]string, len(fields))
	for i, f := range fields {
		header[i] = f.Name
	}
	line("┌", "┬", "┐")
	cells(header, false)
	line("├", "┼", "┤")
	for _, r := range rows {
		cells(r, true)
	}
	line("└", "┴", "┘")
	if n > int64(len(rows)) {
		fmt.Fprintf(bw, "(%d rows, %d shown)\n", n, len(rows))
	} else if n == 1 {
		bw.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(bw, "(%d rows)\n", n)
	}
	return n, bw.Flush()
}
