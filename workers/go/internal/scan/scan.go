// Package scan reads tables from files for the native executor: Parquet
// (projection pushdown, row-group pruning from statistics, row groups spread
// over partitions, a native decoder for flat columns with late
// materialisation of filtered rows), CSV, newline-delimited JSON and Arrow
// IPC files and streams.
//
// Every type it produces follows the engine's type contract
// (substrait/logical/types.go): strings are utf8, decimals of precision 18
// or less Decimal64, dates date32, timestamps timestamp[us]. Infer reports
// exactly the schema the scan produces.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// poolLimit bounds the free buffers one scan partition keeps for reuse.
const poolLimit = 64 << 20

// batchReader is what each format implements for one partition: a source
// of owned batches in the scan's output schema.
type batchReader interface {
	// next returns the next batch, owned by the caller, or io.EOF.
	next(ctx context.Context) (arrow.RecordBatch, error)
	// file names the file being read, for error messages.
	file() string
	// close releases files and readers; it is called once.
	close() error
}

// node is the physical scan of one table.
type node struct {
	src        *logical.TableSource
	format     string
	files      []dataFile
	projection []int // indexes into src.Schema, never nil
	schema     *arrow.Schema
	filters    []logical.Expr
	limit      int64
	parts      int

	// open starts the reader of partition p.
	open func(ctx context.Context, n *node, p int, tc *exec.TaskContext, pool *bufferPool, m *exec.OperatorMetrics) (batchReader, error)
	// explain adds format-specific detail to String.
	explain func() string

	pq     *parquetPlan
	groups [][]int // CSV, JSON, Arrow: file indexes per partition
	csv    *csvOptions
	// splitFirst deals Parquet row groups to partitions before pruning
	// them (the task protocol's split, the same on every executor);
	// otherwise only the row groups that may match are dealt.
	splitFirst bool
}

var _ exec.Node = (*node)(nil)

// NewScan returns the physical scan of src that outputs the columns in
// projection (indexes into src.Schema, in that order; nil means all).
// filters are conjuncts over the scan's output schema that the reader may use
// to skip data it can prove holds no matching row: Parquet row groups from
// statistics, and rows that fail a conjunct (the native Parquet reader
// evaluates them while decoding, see scanFilter). The engine still applies
// them exactly above the scan. limit >= 0 lets every
// partition stop after that many rows. partitions is the wanted
// parallelism: the node has at most that many output partitions (fewer when
// there are fewer row groups or files), and at least one.
//
// Parquet footers are read here, so a missing, unreadable or corrupt file is
// reported before execution.
func NewScan(src *logical.TableSource, projection []int, filters []logical.Expr, limit int64, partitions int) (exec.Node, error) {
	return newScan(src, projection, filters, limit, partitions, false)
}

// NewTaskScan is NewScan for the tasks of a stage: the split of the data
// over the partitions (tasks) follows docs/protocol.md exactly and does
// not depend on pruning, so executors of every kind read disjoint parts.
func NewTaskScan(src *logical.TableSource, projection []int, filters []logical.Expr, limit int64, tasks int) (exec.Node, error) {
	return newScan(src, projection, filters, limit, tasks, true)
}

func newScan(src *logical.TableSource, projection []int, filters []logical.Expr, limit int64, partitions int, splitFirst bool) (exec.Node, error) {
	if src == nil || src.Schema == nil {
		return nil, errors.New("scan: table source has no schema")
	}
	format, err := normalizeFormat(src.Format)
	if err != nil {
		return nil, fmt.Errorf("scan of table %s: %w", src.Name, err)
	}
	if projection == nil {
		projection = make([]int, src.Schema.NumFields())
		for i := range projection {
			projection[i] = i
		}
	}
	fields := make([]arrow.Field, len(projection))
	for i, p := range projection {
		if p < 0 || p >= src.Schema.NumFields() {
			return nil, fmt.Errorf("scan of table %s: projection index %d out of range for %d columns", src.Name, p, src.Schema.NumFields())
		}
		fields[i] = src.Schema.Field(p)
	}
	if partitions < 1 {
		partitions = 1
	}
	files, err := resolveFiles(context.Background(), format, src.Location, src.Options)
	if err != nil {
		return nil, err
	}
	n := &node{
		src:        src,
		format:     format,
		files:      files,
		projection: projection,
		schema:     arrow.NewSchema(fields, nil),
		filters:    filters,
		limit:      limit,
		splitFirst: splitFirst,
	}
	switch format {
	case FormatParquet:
		err = planParquet(n, partitions)
	case FormatCSV:
		err = planCSV(n, partitions)
	case FormatJSON:
		n.groupFiles(partitions)
		n.open = openJSON
	case FormatArrow:
		n.groupFiles(partitions)
		n.open = openIPC
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// groupFiles deals the files over at most partitions groups, balancing
// bytes: each file goes to the group with the fewest bytes so far, largest
// files first.
func (n *node) groupFiles(partitions int) {
	np := min(partitions, len(n.files))
	n.parts = max(np, 1)
	n.groups = make([][]int, n.parts)
	sizes := make([]int64, n.parts)
	order := make([]int, len(n.files))
	for i := range order {
		order[i] = i
	}
	// Largest first (stable on name order for equal sizes).
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && n.files[order[j]].Size > n.files[order[j-1]].Size; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, f := range order {
		best := 0
		for g := 1; g < n.parts; g++ {
			if sizes[g] < sizes[best] {
				best = g
			}
		}
		n.groups[best] = append(n.groups[best], f)
		sizes[best] += n.files[f].Size
	}
	for _, g := range n.groups {
		// Read each group's files in name order.
		for i := 1; i < len(g); i++ {
			for j := i; j > 0 && g[j] < g[j-1]; j-- {
				g[j], g[j-1] = g[j-1], g[j]
			}
		}
	}
}

// Schema implements exec.Node.
func (n *node) Schema() *arrow.Schema { return n.schema }

// Children implements exec.Node.
func (n *node) Children() []exec.Node { return nil }

// Partitions implements exec.Node.
func (n *node) Partitions() int { return n.parts }

// String implements exec.Node: the table, format, files, projection,
// pushed filters and, for Parquet, the row groups read and pruned.
func (n *node) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scan: %s format=%s", n.src.Name, n.format)
	const maxShown = 3
	names := make([]string, 0, maxShown)
	for i, f := range n.files {
		if i == maxShown {
			break
		}
		names = append(names, f.Path)
	}
	more := ""
	if len(n.files) > maxShown {
		more = fmt.Sprintf(", ... %d more", len(n.files)-maxShown)
	}
	fmt.Fprintf(&b, " files=[%s%s]", strings.Join(names, ", "), more)
	cols := make([]string, n.schema.NumFields())
	for i, f := range n.schema.Fields() {
		cols[i] = f.Name
	}
	fmt.Fprintf(&b, " projection=[%s]", strings.Join(cols, ", "))
	if len(n.filters) > 0 {
		fs := make([]string, len(n.filters))
		for i, f := range n.filters {
			fs[i] = f.String()
		}
		fmt.Fprintf(&b, " filters=[%s]", strings.Join(fs, ", "))
	}
	if n.limit >= 0 {
		fmt.Fprintf(&b, " limit=%d", n.limit)
	}
	if n.explain != nil {
		b.WriteString(n.explain())
	}
	return b.String()
}

// Execute implements exec.Node.
func (n *node) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	if p < 0 || p >= n.parts {
		return nil, fmt.Errorf("scan of table %s: partition %d out of range (%d partitions)", n.src.Name, p, n.parts)
	}
	if tc == nil {
		tc = exec.NewTaskContext()
	}
	// Rows, batches and time are counted by exec.Instrument; the scan adds
	// the bytes it reads from storage.
	var m *exec.OperatorMetrics
	if tc.Metrics != nil {
		m = tc.Metrics.For(n)
	} else {
		m = &exec.OperatorMetrics{}
	}
	pool := newBufferPool(tc.Alloc, poolLimit)
	var rd batchReader
	err := guard(func() string { return n.src.Location }, func() (err error) {
		rd, err = n.open(ctx, n, p, tc, pool, m)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &stream{node: n, rd: rd, pool: pool, remaining: n.limit}, nil
}

// guard runs fn, turning a panic inside a third-party reader into an error
// that names the file.
func guard(file func() string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("scan: %s: reader failed: %v", file(), r)
		}
	}()
	return fn()
}

// stream runs one partition of a scan.
type stream struct {
	node      *node
	rd        batchReader
	pool      *bufferPool
	cur       arrow.RecordBatch
	remaining int64 // rows still wanted, < 0 when unbounded
	done      bool
	closed    bool
}

// Schema implements exec.Stream.
func (s *stream) Schema() *arrow.Schema { return s.node.schema }

// Next implements exec.Stream.
func (s *stream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	for {
		if s.done || s.closed || s.remaining == 0 {
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			s.done = true
			return nil, fmt.Errorf("%w: %v", exec.ErrCanceled, err)
		}
		var b arrow.RecordBatch
		err := guard(s.rd.file, func() (err error) {
			b, err = s.rd.next(ctx)
			return err
		})
		if err == io.EOF {
			s.done = true
			return nil, io.EOF
		}
		if err != nil {
			s.done = true
			if ctx.Err() != nil && !errors.Is(err, exec.ErrCanceled) {
				return nil, fmt.Errorf("%w: %v", exec.ErrCanceled, ctx.Err())
			}
			return nil, err
		}
		rows := b.NumRows()
		if rows == 0 {
			b.Release()
			continue
		}
		if s.remaining >= 0 && rows > s.remaining {
			cut := b.NewSlice(0, s.remaining)
			b.Release()
			b, rows = cut, s.remaining
		}
		if s.remaining >= 0 {
			s.remaining -= rows
		}
		s.cur = b
		return b, nil
	}
}

// Close implements exec.Stream.
func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	err := guard(s.rd.file, s.rd.close)
	s.pool.Close()
	return err
}
