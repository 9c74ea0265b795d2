package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/workers/go/internal/exec"

	"github.com/arbalest/arbalest/substrait/logical"
)

// ipcFile reads the batches of one Arrow IPC file or stream.
type ipcFile struct {
	f      dataSource
	file   *ipc.FileReader // random-access format (ARROW1 magic)
	stream *ipc.Reader     // stream format
	idx    int
	cr     *countingReader
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var arrowMagic = []byte("ARROW1")

// openIPCFile opens path in whichever IPC format it has.
func openIPCFile(df dataFile, mem memory.Allocator) (*ipcFile, error) {
	f, err := df.open(context.Background())
	if err != nil {
		return nil, err
	}
	out := &ipcFile{f: f}
	head := make([]byte, len(arrowMagic))
	n, _ := io.ReadFull(f, head)
	if n == len(arrowMagic) && bytes.Equal(head, arrowMagic) {
		out.file, err = ipc.NewFileReader(f, ipc.WithAllocator(mem))
	} else {
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			out.cr = &countingReader{r: bufio.NewReaderSize(f, 1<<20)}
			out.stream, err = ipc.NewReader(out.cr, ipc.WithAllocator(mem))
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("scan: %s: not a readable Arrow IPC file or stream: %w", df.Path, err)
	}
	return out, nil
}

func (x *ipcFile) schema() *arrow.Schema {
	if x.file != nil {
		return x.file.Schema()
	}
	return x.stream.Schema()
}

// next returns the next batch (a new reference) or io.EOF.
func (x *ipcFile) next() (arrow.RecordBatch, error) {
	if x.file != nil {
		if x.idx >= x.file.NumRecords() {
			return nil, io.EOF
		}
		x.idx++
		return x.file.RecordBatchAt(x.idx - 1)
	}
	if !x.stream.Next() {
		if err := x.stream.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	b := x.stream.RecordBatch()
	b.Retain()
	return b, nil
}

func (x *ipcFile) close() error {
	if x.file != nil {
		x.file.Close()
	}
	if x.stream != nil {
		x.stream.Release()
	}
	return x.f.Close()
}

// ipcReader reads the Arrow files of one partition.
type ipcReader struct {
	n     *node
	files []int
	next_ int
	mem   memory.Allocator
	m     *exec.OperatorMetrics
	batch int64

	path  string
	cur   *ipcFile
	cols  []int // output column -> file column
	rec   arrow.RecordBatch
	off   int64
	bytes int64
}

func openIPC(ctx context.Context, n *node, p int, tc *exec.TaskContext, pool *bufferPool, m *exec.OperatorMetrics) (batchReader, error) {
	bs := tc.BatchSize
	if bs <= 0 {
		bs = exec.DefaultBatchSize
	}
	return &ipcReader{n: n, files: n.groups[p], mem: pool, m: m, batch: int64(bs)}, nil
}

func (r *ipcReader) file() string {
	if r.path != "" {
		return r.path
	}
	return r.n.src.Location
}

func (r *ipcReader) openNext() error {
	df := r.n.files[r.files[r.next_]]
	r.next_++
	x, err := openIPCFile(df, r.mem)
	if err != nil {
		return err
	}
	r.path, r.cur = df.Path, x
	s := x.schema()
	r.cols = r.cols[:0]
	for _, want := range r.n.schema.Fields() {
		k := fieldIndex(s, want.Name)
		if k < 0 {
			return fmt.Errorf("scan: %s: no column %q (table %s expects it)", df.Path, want.Name, r.n.src.Name)
		}
		if got := contractType(s.Field(k).Type); !arrow.TypeEqual(got, want.Type) {
			return fmt.Errorf("scan: %s: column %q has type %s, table %s expects %s", df.Path, want.Name, got, r.n.src.Name, want.Type)
		}
		r.cols = append(r.cols, k)
	}
	if x.file != nil {
		r.bytes = df.Size
	}
	return nil
}

func (r *ipcReader) closeFile() error {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if r.cur == nil {
		return nil
	}
	if r.cur.cr != nil {
		r.m.Bytes.Add(r.cur.cr.n)
	} else {
		r.m.Bytes.Add(r.bytes)
	}
	err := r.cur.close()
	r.cur = nil
	return err
}

func (r *ipcReader) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if r.cur == nil {
			if r.next_ >= len(r.files) {
				return nil, io.EOF
			}
			if err := r.openNext(); err != nil {
				return nil, err
			}
		}
		if r.rec == nil {
			rec, err := r.cur.next()
			if err == io.EOF {
				if err := r.closeFile(); err != nil {
					return nil, fmt.Errorf("scan: %s: %w", r.path, err)
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("scan: %s: %w", r.path, err)
			}
			r.rec, r.off = rec, 0
		}
		if r.off >= r.rec.NumRows() {
			r.rec.Release()
			r.rec = nil
			continue
		}
		// Large IPC batches are cut into slices of the batch size.
		end := min(r.off+r.batch, r.rec.NumRows())
		out := make([]arrow.Array, len(r.cols))
		for j, k := range r.cols {
			col := array.NewSlice(r.rec.Column(k), r.off, end)
			a, err := conformArray(col, r.n.schema.Field(j).Type, r.mem)
			col.Release()
			if err != nil {
				for _, o := range out[:j] {
					o.Release()
				}
				return nil, fmt.Errorf("scan: %s: column %s: %w", r.path, r.n.schema.Field(j).Name, err)
			}
			out[j] = a
		}
		b := array.NewRecordBatch(r.n.schema, out, end-r.off)
		for _, o := range out {
			o.Release()
		}
		r.off = end
		return b, nil
	}
}

func (r *ipcReader) close() error { return r.closeFile() }

// inferIPC reads the schemas of the files; they must agree.
func inferIPC(files []dataFile) (*arrow.Schema, int64, error) {
	var schema *arrow.Schema
	for _, df := range files {
		var s *arrow.Schema
		err := guard(func() string { return df.Path }, func() error {
			x, err := openIPCFile(df, memory.DefaultAllocator)
			if err != nil {
				return err
			}
			s = contractSchema(x.schema())
			return x.close()
		})
		if err != nil {
			return nil, -1, err
		}
		if schema == nil {
			schema = s
		} else if schema, err = logical.UnifyFileSchemas(schema, s); err != nil {
			return nil, -1, fmt.Errorf("scan: %s does not match %s: %w", df.Path, files[0].Path, err)
		}
	}
	return schema, -1, nil
}
