package scan

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// nativeParquet enables the native column reader; tests turn it off to
// compare with the pqarrow path.
var nativeParquet = true

// pqPartition reads the units of one partition, each with the native
// reader when it can decode every column and with pqarrow otherwise.
type pqPartition struct {
	n      *node
	units  []pqUnit
	next_  int
	pool   *bufferPool
	m      *exec.OperatorMetrics
	batch  int
	filter *scanFilter
	cur    batchReader
	path   string
}

func openParquet(ctx context.Context, n *node, p int, tc *exec.TaskContext, pool *bufferPool, m *exec.OperatorMetrics) (batchReader, error) {
	bs := tc.BatchSize
	if bs <= 0 {
		bs = exec.DefaultBatchSize
	}
	return &pqPartition{n: n, units: n.pq.parts[p], pool: pool, m: m, batch: bs, filter: newScanFilter(n.filters, n.schema, pool)}, nil
}

func (p *pqPartition) file() string {
	if p.cur != nil {
		return p.cur.file()
	}
	if p.path != "" {
		return p.path
	}
	return p.n.src.Location
}

func (p *pqPartition) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if p.cur == nil {
			if p.next_ >= len(p.units) {
				return nil, io.EOF
			}
			u := p.units[p.next_]
			p.next_++
			p.path = p.n.pq.files[u.file].path
			nr, err := openNative(p, u)
			if err != nil {
				return nil, err
			}
			if nr != nil {
				p.cur = nr
			} else {
				p.cur = &parquetReader{n: p.n, units: []pqUnit{u}, mem: p.pool, m: p.m, batch: int64(p.batch)}
			}
		}
		b, err := p.cur.next(ctx)
		if err == io.EOF {
			err = p.cur.close()
			p.cur = nil
			if err != nil {
				return nil, fmt.Errorf("scan: %s: %w", p.path, err)
			}
			continue
		}
		return b, err
	}
}

func (p *pqPartition) close() error {
	if p.cur == nil {
		return nil
	}
	err := p.cur.close()
	p.cur = nil
	return err
}

// nativeReader reads one unit (row groups of one file) with colReaders.
type nativeReader struct {
	p     *pqPartition
	pf    *pqFile
	f     dataSource
	mem   *bufferPool
	batch int

	rgs    []int
	nextRG int
	rg     int   // the current row group
	rgLeft int64 // its rows not yet read

	cols  []*colReader // one per distinct file field
	leafs []int        // their leaf columns
	colOf []int        // output column -> cols index
	out   []arrow.Array
}

// openNative returns a native reader for unit u, or nil when some column
// or column chunk needs pqarrow.
func openNative(p *pqPartition, u pqUnit) (*nativeReader, error) {
	pf := &p.n.pq.files[u.file]
	if !nativeParquet || len(pf.cols) == 0 {
		return nil, nil
	}
	r := &nativeReader{p: p, pf: pf, mem: p.pool, batch: p.batch, rgs: u.rowGroups}
	for _, c := range pf.cols {
		descr := pf.meta.Schema.Column(max(c.leaf, 0))
		kind, width, ok := nativeKind(&c, descr)
		if !ok {
			return nil, nil
		}
		for _, rg := range u.rowGroups {
			cc, err := pf.meta.RowGroup(rg).ColumnChunk(c.leaf)
			if err != nil || !nativeChunk(cc) {
				return nil, nil
			}
		}
		idx := -1
		for i, l := range r.leafs {
			if l == c.leaf {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(r.cols)
			r.cols = append(r.cols, newColReader(p.pool, c.outType, kind, width, descr.MaxDefinitionLevel()))
			r.leafs = append(r.leafs, c.leaf)
		}
		r.colOf = append(r.colOf, idx)
	}
	f, err := pf.file.open(context.Background())
	if err != nil {
		return nil, err
	}
	r.f = f
	return r, nil
}

func (r *nativeReader) file() string { return r.pf.path }

func (r *nativeReader) close() error {
	for _, c := range r.cols {
		c.release()
	}
	r.cols = nil
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// colName names output column j's reader for error messages.
func (r *nativeReader) colError(c *colReader, err error) error {
	name := "?"
	for j, ci := range r.colOf {
		if r.cols[ci] == c {
			name = r.p.n.schema.Field(j).Name
			break
		}
	}
	return fmt.Errorf("scan: %s: row group %d: column %s: %w", r.pf.path, r.rg, name, err)
}

func (r *nativeReader) decodeCol(c *colReader) error {
	if err := c.decode(c.pending); err != nil {
		return r.colError(c, err)
	}
	return nil
}

// startRowGroup loads the column chunks of the next row group.
func (r *nativeReader) startRowGroup() error {
	r.rg = r.rgs[r.nextRG]
	r.nextRG++
	rgm := r.pf.meta.RowGroup(r.rg)
	rows := rgm.NumRows()
	var bytes int64
	for i, c := range r.cols {
		cc, err := rgm.ColumnChunk(r.leafs[i])
		if err != nil {
			return r.colError(c, err)
		}
		if err := c.startRowGroup(r.f, r.pf.meta, cc, rows); err != nil {
			return r.colError(c, err)
		}
		bytes += cc.TotalCompressedSize()
	}
	r.p.m.Bytes.Add(bytes)
	r.rgLeft = rows
	return nil
}

func (r *nativeReader) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if r.rgLeft == 0 {
			if r.nextRG >= len(r.rgs) {
				return nil, io.EOF
			}
			if err := r.startRowGroup(); err != nil {
				return nil, err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %v", exec.ErrCanceled, err)
		}
		n := int(min(int64(r.batch), r.rgLeft))
		r.rgLeft -= int64(n)
		for _, c := range r.cols {
			c.decoded = false
			c.pending = n
		}
		var sel []int32
		if f := r.p.filter; f != nil {
			var err error
			if sel, err = f.apply(ctx, r, n); err != nil {
				return nil, err
			}
			if sel != nil && len(sel) == 0 {
				for _, c := range r.cols {
					if !c.decoded {
						if err := c.skip(n); err != nil {
							return nil, r.colError(c, err)
						}
					}
				}
				continue
			}
		}
		for _, c := range r.cols {
			if !c.decoded {
				if err := r.decodeCol(c); err != nil {
					return nil, err
				}
			}
		}
		return r.materialize(sel), nil
	}
}

// materialize builds the output batch from the decoded columns.
func (r *nativeReader) materialize(sel []int32) arrow.RecordBatch {
	r.out = grow(r.out, len(r.colOf))
	clear(r.out)
	for j, ci := range r.colOf {
		for k := range j {
			if r.colOf[k] == ci {
				r.out[k].Retain()
				r.out[j] = r.out[k]
				break
			}
		}
		if r.out[j] == nil {
			r.out[j] = r.cols[ci].materialize(sel, false)
		}
	}
	rows := r.cols[0].n
	if sel != nil {
		rows = len(sel)
	}
	b := array.NewRecordBatch(r.p.n.schema, r.out, int64(rows))
	for _, a := range r.out {
		a.Release()
	}
	return b
}
