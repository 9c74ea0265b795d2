package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// Input is the stream Write drains: exec.Stream satisfies it. (This
// package cannot import exec, which imports it for the hash.)
type Input interface {
	Schema() *arrow.Schema
	// Next returns the next batch, borrowed until the following call, or
	// io.EOF after the last one.
	Next(ctx context.Context) (arrow.RecordBatch, error)
}

// Defaults of WriteSpec's tuning fields.
const (
	DefaultBatchRows    = 64 * 1024
	DefaultBatchBytes   = 4 << 20
	DefaultMemoryBudget = 64 << 20
)

// WriteSpec says how Write partitions its input.
type WriteSpec struct {
	Kind logical.ShuffleKind
	// Keys are the input columns hashed by ShuffleHash.
	Keys []int
	// Partitions is the number of output partitions: > 0 for ShuffleHash,
	// 1 (or 0, meaning 1) for broadcast and single.
	Partitions int
	// Compression of the IPC bodies: "lz4" (the default when empty),
	// "zstd", or "none".
	Compression string

	// BatchRows and BatchBytes bound the batches written: the rows routed
	// to a partition are coalesced until either is reached (0 = the
	// defaults), and larger batches are cut.
	BatchRows  int
	BatchBytes int64
	// MemoryBudget bounds the bytes held in coalescing buffers over all
	// partitions; past it the largest buffer is written early
	// (0 = DefaultMemoryBudget).
	MemoryBudget int64
}

// PartitionStats describes one output partition file written by Write.
type PartitionStats struct {
	Partition int
	Rows      int64
	// Bytes is the size of the file.
	Bytes int64
	// Path is the file, PartitionPath(dir, Partition).
	Path string
}

// ipcCodec maps a WriteSpec compression name to IPC writer options.
func ipcCodec(name string) ([]ipc.Option, error) {
	switch name {
	case "", "lz4", "lz4_frame":
		return []ipc.Option{ipc.WithLZ4()}, nil
	case "zstd":
		return []ipc.Option{ipc.WithZstd()}, nil
	case "none", "uncompressed":
		return nil, nil
	}
	return nil, fmt.Errorf("shuffle write: unknown compression %q (want lz4, zstd or none)", name)
}

// Write drains in and writes its rows as one Arrow IPC stream file per
// output partition, PartitionPath(dir, p), creating dir. ShuffleHash sends
// each row to pmod(Hash(key columns), Partitions); broadcast and single
// write everything to partition 0. Every partition gets a file, a valid
// schema-only stream when no row went there, so a reader can tell an empty
// partition from a missing one. Files appear under their final names only
// when all were written; on error or cancellation every file this call
// created is removed. Write does not close in. alloc serves the batches it
// builds; it releases all of them.
func Write(ctx context.Context, in Input, spec WriteSpec, dir string, alloc memory.Allocator) (stats []PartitionStats, err error) {
	w, err := newWriter(in.Schema(), spec, dir, alloc)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.abort()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("shuffle write: %w", err)
		}
		b, err := in.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := w.add(b); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("shuffle write: %w", err)
	}
	return w.finish()
}

// writer routes batches to partitions and owns their files.
type writer struct {
	schema     *arrow.Schema
	spec       WriteSpec
	n          int
	dir        string
	alloc      memory.Allocator
	codec      []ipc.Option
	batchRows  int64
	batchBytes int64
	budget     int64

	parts   []partition
	pending int64 // bytes held in coalescing buffers
	files   fileSet
	shared  *sharedEncoder // nil when the schema has dictionaries

	keyCols []arrow.Array
	ids     []int32
	order   []int32
	counts  []int
}

// partition is the state of one output partition.
type partition struct {
	sink     fileSink
	w        *ipc.Writer         // own encoder, only when shared is nil
	buf      []arrow.RecordBatch // owned, waiting to be coalesced
	bufRows  int64
	bufBytes int64
	rows     int64
	renamed  string // the final path once renamed
}

func newWriter(schema *arrow.Schema, spec WriteSpec, dir string, alloc memory.Allocator) (*writer, error) {
	if schema == nil {
		return nil, errors.New("shuffle write: input has no schema")
	}
	n := spec.Partitions
	switch spec.Kind {
	case logical.ShuffleHash:
		if n <= 0 {
			return nil, fmt.Errorf("shuffle write: hash partition count %d must be positive", n)
		}
		if len(spec.Keys) == 0 {
			return nil, errors.New("shuffle write: hash partitioning needs at least one key column")
		}
		for _, k := range spec.Keys {
			if k < 0 || k >= schema.NumFields() {
				return nil, fmt.Errorf("shuffle write: key column %d out of range for %d input columns", k, schema.NumFields())
			}
			if err := CheckKeyType(schema.Field(k).Type); err != nil {
				return nil, fmt.Errorf("shuffle write: key column %d (%s): %w", k, schema.Field(k).Name, err)
			}
		}
	case logical.ShuffleBroadcast, logical.ShuffleSingle:
		if n > 1 {
			return nil, fmt.Errorf("shuffle write: %s writes one partition, not %d", spec.Kind, n)
		}
		n = 1
	default:
		return nil, fmt.Errorf("shuffle write: unknown shuffle kind %d", int(spec.Kind))
	}
	codec, err := ipcCodec(spec.Compression)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("shuffle write: empty output directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("shuffle write: %w", err)
	}
	w := &writer{
		schema: schema, spec: spec, n: n, dir: dir, alloc: alloc, codec: codec,
		batchRows:  int64(spec.BatchRows),
		batchBytes: spec.BatchBytes,
		budget:     spec.MemoryBudget,
		parts:      make([]partition, n),
	}
	if w.batchRows <= 0 {
		w.batchRows = DefaultBatchRows
	}
	if w.batchBytes <= 0 {
		w.batchBytes = DefaultBatchBytes
	}
	if w.budget <= 0 {
		w.budget = DefaultMemoryBudget
	}
	w.files.dir = dir
	for p := range w.parts {
		w.parts[p].sink = fileSink{files: &w.files, p: p}
	}
	dict := false
	for _, f := range schema.Fields() {
		dict = dict || hasDictionary(f.Type)
	}
	if !dict {
		if w.shared, err = newSharedEncoder(schema, alloc, codec); err != nil {
			return nil, fmt.Errorf("shuffle write: %w", err)
		}
	}
	if spec.Kind == logical.ShuffleHash {
		w.counts = make([]int, n+1)
		w.keyCols = make([]arrow.Array, len(spec.Keys))
	}
	return w, nil
}

// add routes one borrowed batch.
func (w *writer) add(b arrow.RecordBatch) error {
	rows := int(b.NumRows())
	if rows == 0 {
		return nil
	}
	if err := w.checkBatch(b); err != nil {
		return err
	}
	if w.spec.Kind != logical.ShuffleHash || w.n == 1 {
		b.Retain()
		return w.buffer(0, b)
	}
	for i, k := range w.spec.Keys {
		w.keyCols[i] = b.Column(k)
	}
	if cap(w.ids) < rows {
		w.ids = make([]int32, rows)
		w.order = make([]int32, rows)
	}
	ids, order := w.ids[:rows], w.order[:rows]
	err := PartitionIDs(w.keyCols, w.n, ids)
	clear(w.keyCols)
	if err != nil {
		return fmt.Errorf("shuffle write: %w", err)
	}
	counts := w.counts
	SortByPartition(ids, order, counts)
	start := 0
	for p := 0; p < w.n; p++ {
		end := counts[p]
		if end == start {
			continue
		}
		var part arrow.RecordBatch
		if end-start == rows {
			b.Retain()
			part = b
		} else {
			var err error
			if part, err = expr.TakeBatch(w.alloc, b, order[start:end]); err != nil {
				return fmt.Errorf("shuffle write: %w", err)
			}
		}
		if err := w.buffer(p, part); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// checkBatch verifies that b has the input's column types.
func (w *writer) checkBatch(b arrow.RecordBatch) error {
	s := b.Schema()
	if s == w.schema {
		return nil
	}
	if int(b.NumCols()) != w.schema.NumFields() {
		return fmt.Errorf("shuffle write: input batch has %d columns, its schema %d", b.NumCols(), w.schema.NumFields())
	}
	for i, c := range b.Columns() {
		if !arrow.TypeEqual(c.DataType(), w.schema.Field(i).Type) {
			return fmt.Errorf("shuffle write: input batch column %d is %s, its schema says %s", i, c.DataType(), w.schema.Field(i).Type)
		}
	}
	return nil
}

// buffer takes ownership of b and queues it for partition p, writing when
// the partition's buffer reaches a target batch or the budget is spent.
func (w *writer) buffer(p int, b arrow.RecordBatch) error {
	pt := &w.parts[p]
	size := batchBytes(b)
	pt.buf = append(pt.buf, b)
	pt.bufRows += b.NumRows()
	pt.bufBytes += size
	w.pending += size
	if pt.bufRows >= w.batchRows || pt.bufBytes >= w.batchBytes {
		if err := w.flush(p); err != nil {
			return err
		}
	}
	for w.pending > w.budget {
		largest := 0
		for i := range w.parts {
			if w.parts[i].bufBytes > w.parts[largest].bufBytes {
				largest = i
			}
		}
		if err := w.flush(largest); err != nil {
			return err
		}
	}
	return nil
}

// flush writes partition p's buffered rows.
func (w *writer) flush(p int) error {
	pt := &w.parts[p]
	if len(pt.buf) == 0 {
		return nil
	}
	var b arrow.RecordBatch
	if len(pt.buf) == 1 {
		b = pt.buf[0]
		pt.buf[0] = nil
	} else {
		var err error
		if b, err = concatBatches(w.alloc, w.schema, pt.buf, pt.bufRows); err != nil {
			return err
		}
		releaseBatches(pt.buf)
	}
	pt.buf = pt.buf[:0]
	w.pending -= pt.bufBytes
	pt.bufRows, pt.bufBytes = 0, 0
	defer b.Release()
	return w.writeBatch(p, b)
}

// writeBatch writes b to partition p's file. A batch more than twice the
// target rows or bytes is cut into equal slices near the target.
func (w *writer) writeBatch(p int, b arrow.RecordBatch) error {
	pt := &w.parts[p]
	rows := b.NumRows()
	k := int64(1)
	if size := batchBytes(b); size > 2*w.batchBytes {
		k = (size + w.batchBytes - 1) / w.batchBytes
	}
	if rows > 2*w.batchRows {
		k = max(k, (rows+w.batchRows-1)/w.batchRows)
	}
	step := max(1, (rows+k-1)/k)
	for off := int64(0); off < rows; off += step {
		end := min(off+step, rows)
		var part arrow.RecordBatch
		if off == 0 && end == rows {
			part = b
			part.Retain()
		} else {
			part = b.NewSlice(off, end)
		}
		if part.Schema() != w.schema {
			cols := part.Columns()
			wrapped := array.NewRecordBatch(w.schema, cols, part.NumRows())
			part.Release()
			part = wrapped
		}
		err := w.encode(p, part)
		part.Release()
		if err != nil {
			return fmt.Errorf("shuffle write: partition %d: %w", p, err)
		}
	}
	pt.rows += rows
	return nil
}

// encode appends one batch to partition p's stream.
func (w *writer) encode(p int, b arrow.RecordBatch) error {
	pt := &w.parts[p]
	if w.shared != nil {
		w.shared.cur = &pt.sink
		return w.shared.w.Write(b)
	}
	if pt.w == nil {
		pt.w = w.ownEncoder(&pt.sink)
	}
	return pt.w.Write(b)
}

func (w *writer) ownEncoder(s *fileSink) *ipc.Writer {
	opts := append([]ipc.Option{ipc.WithSchema(w.schema), ipc.WithAllocator(w.alloc)}, w.codec...)
	return ipc.NewWriter(s, opts...)
}

// finish writes what is buffered, ends every partition's stream (a
// schema-only stream for an empty partition), closes the files and renames
// them into place.
func (w *writer) finish() ([]PartitionStats, error) {
	for p := range w.parts {
		if err := w.flush(p); err != nil {
			return nil, err
		}
		pt := &w.parts[p]
		var err error
		if w.shared != nil {
			if err = w.shared.header(&pt.sink); err == nil {
				_, err = pt.sink.Write(eos[:])
			}
		} else {
			if pt.w == nil {
				pt.w = w.ownEncoder(&pt.sink)
			}
			err = pt.w.Close()
			pt.w = nil
		}
		if err == nil {
			err = w.files.close(&pt.sink)
		}
		if err != nil {
			return nil, fmt.Errorf("shuffle write: partition %d: %w", p, err)
		}
	}
	if w.shared != nil {
		err := w.shared.w.Close()
		w.shared = nil
		if err != nil {
			return nil, fmt.Errorf("shuffle write: %w", err)
		}
	}
	stats := make([]PartitionStats, w.n)
	for p := range w.parts {
		pt := &w.parts[p]
		final := PartitionPath(w.dir, p)
		if err := os.Rename(pt.sink.tmp, final); err != nil {
			return nil, fmt.Errorf("shuffle write: partition %d: %w", p, err)
		}
		pt.renamed, pt.sink.tmp = final, ""
		stats[p] = PartitionStats{Partition: p, Rows: pt.rows, Bytes: pt.sink.n, Path: final}
	}
	return stats, nil
}

// abort releases the buffers and encoders and removes every file this
// writer created.
func (w *writer) abort() {
	if w.shared != nil {
		_ = w.shared.w.Close()
		w.shared = nil
	}
	for p := range w.parts {
		pt := &w.parts[p]
		releaseBatches(pt.buf)
		pt.buf = nil
		if pt.w != nil {
			// Releases its dictionaries; what it writes is removed below.
			_ = pt.w.Close()
			pt.w = nil
		}
	}
	w.files.closeAll()
	for p := range w.parts {
		pt := &w.parts[p]
		if pt.sink.tmp != "" {
			_ = os.Remove(pt.sink.tmp)
		}
		if pt.renamed != "" {
			_ = os.Remove(pt.renamed)
		}
	}
	w.pending = 0
}

// concatBatches appends the rows of bs (all with schema's column types)
// into one batch.
func concatBatches(alloc memory.Allocator, schema *arrow.Schema, bs []arrow.RecordBatch, rows int64) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	in := make([]arrow.Array, len(bs))
	for c := range cols {
		for i, b := range bs {
			in[i] = b.Column(c)
		}
		a, err := array.Concatenate(in, alloc)
		if err != nil {
			return nil, fmt.Errorf("shuffle write: concatenate column %d (%s): %w", c, schema.Field(c).Type, err)
		}
		cols[c] = a
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}

func releaseBatches(bs []arrow.RecordBatch) {
	for i, b := range bs {
		if b != nil {
			b.Release()
			bs[i] = nil
		}
	}
}

// batchBytes estimates the bytes of b's rows: exact for fixed-width and
// binary columns (also when sliced), the referenced buffers otherwise.
func batchBytes(b arrow.RecordBatch) int64 {
	var n int64
	for _, c := range b.Columns() {
		n += arrayBytes(c)
	}
	return n
}

func arrayBytes(a arrow.Array) int64 {
	n := int64(a.Len())
	if n == 0 {
		return 0
	}
	var v int64
	if a.NullN() > 0 {
		v = (n + 7) / 8
	}
	switch a := a.(type) {
	case *array.String:
		o := a.ValueOffsets()
		return v + 4*(n+1) + int64(o[len(o)-1]-o[0])
	case *array.Binary:
		o := a.ValueOffsets()
		return v + 4*(n+1) + int64(o[len(o)-1]-o[0])
	case *array.LargeString:
		o := a.ValueOffsets()
		return v + 8*(n+1) + o[len(o)-1] - o[0]
	case *array.LargeBinary:
		o := a.ValueOffsets()
		return v + 8*(n+1) + o[len(o)-1] - o[0]
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok && a.DataType().ID() != arrow.DICTIONARY {
		return v + (n*int64(fw.BitWidth())+7)/8
	}
	return dataBytes(a.Data())
}

// dataBytes is the size of the buffers d references.
func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		if dict := d.Dictionary(); dict != nil {
			n += dataBytes(dict)
		}
	}
	return n
}
