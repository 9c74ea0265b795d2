package scan

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/arbalest/arbalest/workers/go/internal/exec"

	"github.com/arbalest/arbalest/substrait/logical"
)

// parquetFooter is what the scan knows about one Parquet file.
type parquetFooter struct {
	path   string
	file   dataFile
	meta   *metadata.FileMetaData
	schema *arrow.Schema // as pqarrow reads it, before the type contract
	// manifest maps top-level fields to their leaf columns.
	manifest *pqarrow.SchemaManifest
}

// readFooter reads and checks the metadata of a Parquet file.
func readFooter(df dataFile) (footer *parquetFooter, err error) {
	path := df.Path
	err = guard(func() string { return path }, func() error {
		f, err := df.open(context.Background())
		if err != nil {
			return err
		}
		defer f.Close()
		pf, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator)))
		if err != nil {
			return fmt.Errorf("scan: %s: not a readable Parquet file: %w", path, err)
		}
		meta := pf.MetaData()
		props := pqarrow.ArrowReadProperties{}
		sc, err := pqarrow.FromParquet(meta.Schema, &props, meta.KeyValueMetadata())
		if err != nil {
			return fmt.Errorf("scan: %s: unsupported Parquet schema: %w", path, err)
		}
		manifest, err := pqarrow.NewSchemaManifest(meta.Schema, meta.KeyValueMetadata(), &props)
		if err != nil {
			return fmt.Errorf("scan: %s: unsupported Parquet schema: %w", path, err)
		}
		footer = &parquetFooter{path: path, file: df, meta: meta, schema: sc, manifest: manifest}
		return nil
	})
	return footer, err
}

// fieldIndex finds a top-level column by name: an exact match, else a
// unique case-insensitive one; -1 if absent.
func fieldIndex(s *arrow.Schema, name string) int {
	if idx := s.FieldIndices(name); len(idx) > 0 {
		return idx[0]
	}
	found := -1
	for i, f := range s.Fields() {
		if strings.EqualFold(f.Name, name) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// leavesOf lists the leaf column indexes under a manifest field.
func leavesOf(f *pqarrow.SchemaField, into []int) []int {
	if len(f.Children) == 0 {
		if f.IsLeaf() {
			into = append(into, f.ColIndex)
		}
		return into
	}
	for i := range f.Children {
		into = leavesOf(&f.Children[i], into)
	}
	return into
}

// pqColumn describes how one output column is read from one file.
type pqColumn struct {
	field  int   // top-level field index in the file
	leaves []int // its leaf column indexes
	// leaf is the leaf column of a flat field (for statistics), else -1.
	leaf int
	// fileType is the type pqarrow reads by default; readType the one we
	// ask it for (an integer for integer-backed decimals and dates, utf8 for
	// any string); outType the contract type.
	fileType, readType, outType arrow.DataType
}

// pqFile is one Parquet file of a scan with its column mapping.
type pqFile struct {
	*parquetFooter
	cols []pqColumn // per output column
}

// pqUnit is a run of row groups of one file read by one partition.
type pqUnit struct {
	file      int
	rowGroups []int
}

// parquetPlan is the Parquet part of a scan node.
type parquetPlan struct {
	files          []pqFile
	parts          [][]pqUnit
	rowGroupsTotal int
	rowGroupsRead  int
}

// readTypeFor picks the type to ask pqarrow for so that it decodes straight
// into the contract's layout without a conversion pass.
func readTypeFor(fileType arrow.DataType, phys parquet.Type) arrow.DataType {
	switch fileType.ID() {
	case arrow.DECIMAL128, arrow.DECIMAL256:
		if fileType.(arrow.DecimalType).GetPrecision() <= 18 {
			switch phys {
			case parquet.Types.Int64:
				return arrow.PrimitiveTypes.Int64
			case parquet.Types.Int32:
				return arrow.PrimitiveTypes.Int32
			}
		}
	case arrow.DATE32, arrow.DATE64:
		if phys == parquet.Types.Int32 {
			return arrow.PrimitiveTypes.Int32
		}
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return arrow.BinaryTypes.String
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return arrow.BinaryTypes.Binary
	case arrow.DICTIONARY:
		if phys == parquet.Types.ByteArray {
			return contractType(fileType)
		}
	}
	return fileType
}

// planParquet reads the footers, maps the output columns, prunes row groups
// with the filters and spreads the rest over the partitions.
func planParquet(n *node, partitions int) error {
	pl := &parquetPlan{}
	n.pq = pl
	n.open = openParquet
	n.explain = func() string {
		return fmt.Sprintf(" row_groups=%d/%d (pruned %d)", pl.rowGroupsRead, pl.rowGroupsTotal, pl.rowGroupsTotal-pl.rowGroupsRead)
	}
	pr := newPruner(n.filters, n.schema)
	type rgRef struct {
		file, rg int
		rows     int64
		match    bool // statistics say some row may pass the filters
	}
	var kept []rgRef
	for fi, df := range n.files {
		footer, err := readFooter(df)
		if err != nil {
			return err
		}
		pf := pqFile{parquetFooter: footer, cols: make([]pqColumn, n.schema.NumFields())}
		for j, want := range n.schema.Fields() {
			k := fieldIndex(footer.schema, want.Name)
			if k < 0 {
				return fmt.Errorf("scan: %s: no column %q (table %s expects it)", df.Path, want.Name, n.src.Name)
			}
			sf := &footer.manifest.Fields[k]
			c := pqColumn{field: k, leaves: leavesOf(sf, nil), leaf: -1, fileType: footer.schema.Field(k).Type}
			c.readType, c.outType = c.fileType, contractType(c.fileType)
			if sf.IsLeaf() && len(sf.Children) == 0 {
				c.leaf = sf.ColIndex
				c.readType = readTypeFor(c.fileType, footer.meta.Schema.Column(sf.ColIndex).PhysicalType())
			}
			if !arrow.TypeEqual(c.outType, want.Type) {
				return fmt.Errorf("scan: %s: column %q has type %s, table %s expects %s", df.Path, want.Name, c.outType, n.src.Name, want.Type)
			}
			pf.cols[j] = c
		}
		n.pq.files = append(n.pq.files, pf)
		for rg := 0; rg < footer.meta.NumRowGroups(); rg++ {
			pl.rowGroupsTotal++
			rgm := footer.meta.RowGroup(rg)
			if rgm.NumRows() == 0 {
				continue
			}
			match := pr.mayMatch(&pf, rgm)
			if !match && !n.splitFirst {
				continue
			}
			kept = append(kept, rgRef{file: fi, rg: rg, rows: rgm.NumRows(), match: match})
		}
	}
	pl.rowGroupsRead = 0
	for _, r := range kept {
		if r.match {
			pl.rowGroupsRead++
		}
	}
	np := max(1, min(partitions, len(kept)))
	n.parts = np
	pl.parts = make([][]pqUnit, np)
	var total int64
	for _, r := range kept {
		total += r.rows
	}
	// Contiguous runs of row groups with about the same number of rows:
	// a row group goes to the partition its midpoint falls in.
	i := 0
	var acc int64
	for p := 0; p < np; p++ {
		bound := float64(total) * float64(p+1) / float64(np)
		start := i
		for i < len(kept) {
			left := len(kept) - i
			if i > start && (left <= np-p-1 || (p < np-1 && float64(acc)+float64(kept[i].rows)/2 > bound)) {
				break
			}
			r := kept[i]
			acc += r.rows
			i++
			if !r.match {
				// Dealt (the split does not depend on pruning), not read.
				continue
			}
			units := pl.parts[p]
			if len(units) > 0 && units[len(units)-1].file == r.file {
				units[len(units)-1].rowGroups = append(units[len(units)-1].rowGroups, r.rg)
			} else {
				units = append(units, pqUnit{file: r.file, rowGroups: []int{r.rg}})
			}
			pl.parts[p] = units
		}
	}
	return nil
}

// inferParquet reads the schemas and row counts of the files; they must
// agree on column names and types.
func inferParquet(files []dataFile) (*arrow.Schema, int64, error) {
	var (
		schema *arrow.Schema
		rows   int64
		first  string
	)
	for _, df := range files {
		footer, err := readFooter(df)
		if err != nil {
			return nil, -1, err
		}
		s := contractSchema(footer.schema)
		if schema == nil {
			schema, first = s, df.Path
		} else if s2, err := logical.UnifyFileSchemas(schema, s); err != nil {
			return nil, -1, fmt.Errorf("scan: %s does not match %s: %w", df.Path, first, err)
		} else {
			schema = s2
		}
		rows += footer.meta.NumRows
	}
	return schema, rows, nil
}

// parquetReader reads the row groups of one partition.
type parquetReader struct {
	n     *node
	units []pqUnit
	next_ int
	mem   memory.Allocator
	m     *exec.OperatorMetrics
	batch int64

	// The open unit.
	path   string
	f      dataSource
	pf     *file.Reader
	cols   []*pqarrow.ColumnReader // per distinct file field read
	colOf  []int                   // output column -> cols index
	types  []arrow.DataType        // output column -> contract type
	arrays []arrow.Array
	// Row counts when no column is projected.
	countOnly []int64
}

func (r *parquetReader) file() string {
	if r.path != "" {
		return r.path
	}
	return r.n.src.Location
}

// openUnit opens a file and starts column readers over the unit's row
// groups.
func (r *parquetReader) openUnit(ctx context.Context, u pqUnit) error {
	pf := &r.n.pq.files[u.file]
	r.path = pf.path
	if len(pf.cols) == 0 {
		for _, rg := range u.rowGroups {
			r.countOnly = append(r.countOnly, pf.meta.RowGroup(rg).NumRows())
		}
		return nil
	}
	f, err := pf.file.open(ctx)
	if err != nil {
		return err
	}
	r.f = f
	props := parquet.NewReaderProperties(r.mem)
	mem := memory.Allocator(r.mem)
	if usesDelta(pf, u) {
		// arrow-go's delta decoders never free a scratch buffer they
		// allocate; keep that out of the query's allocator.
		mem = memory.DefaultAllocator
		props = parquet.NewReaderProperties(mem)
	}
	rdr, err := file.NewParquetReader(f, file.WithReadProps(props), file.WithMetadata(pf.meta))
	if err != nil {
		return fmt.Errorf("scan: %s: %w", pf.path, err)
	}
	r.pf = rdr
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: r.batch, PreAllocBinaryData: true}, mem)
	if err != nil {
		return fmt.Errorf("scan: %s: %w", pf.path, err)
	}
	r.colOf = r.colOf[:0]
	r.types = r.types[:0]
	var fields []int
	var bytes int64
	for _, c := range pf.cols {
		idx := -1
		for i, fld := range fields {
			if fld == c.field {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(fields)
			fields = append(fields, c.field)
			sf := &fr.Manifest.Fields[c.field]
			if !arrow.TypeEqual(c.readType, c.fileType) {
				nf := *sf.Field
				nf.Type = c.readType
				sf.Field = &nf
			}
			leaves := make(map[int]bool, len(c.leaves))
			for _, l := range c.leaves {
				leaves[l] = true
				for _, rg := range u.rowGroups {
					if cc, err := pf.meta.RowGroup(rg).ColumnChunk(l); err == nil {
						bytes += cc.TotalCompressedSize()
					}
				}
			}
			cr, err := fr.GetFieldReader(ctx, c.field, leaves, u.rowGroups)
			if err != nil {
				return fmt.Errorf("scan: %s: column %s: %w", pf.path, r.n.schema.Field(len(r.colOf)).Name, err)
			}
			r.cols = append(r.cols, cr)
		}
		r.colOf = append(r.colOf, idx)
		r.types = append(r.types, c.outType)
	}
	r.m.Bytes.Add(bytes)
	return nil
}

// usesDelta reports whether a column chunk that unit u reads has a delta
// encoding.
func usesDelta(pf *pqFile, u pqUnit) bool {
	for _, c := range pf.cols {
		for _, l := range c.leaves {
			for _, rg := range u.rowGroups {
				cc, err := pf.meta.RowGroup(rg).ColumnChunk(l)
				if err != nil {
					continue
				}
				for _, e := range cc.Encodings() {
					switch e {
					case parquet.Encodings.DeltaBinaryPacked, parquet.Encodings.DeltaByteArray, parquet.Encodings.DeltaLengthByteArray:
						return true
					}
				}
			}
		}
	}
	return false
}

func (r *parquetReader) closeUnit() error {
	for _, c := range r.cols {
		c.Release()
	}
	r.cols = r.cols[:0]
	r.countOnly = r.countOnly[:0]
	var err error
	if r.pf != nil {
		err = r.pf.Close() // closes the file
		r.pf, r.f = nil, nil
	} else if r.f != nil {
		err = r.f.Close()
		r.f = nil
	}
	return err
}

func (r *parquetReader) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if len(r.cols) == 0 && len(r.countOnly) == 0 {
			if r.next_ >= len(r.units) {
				return nil, io.EOF
			}
			u := r.units[r.next_]
			r.next_++
			if err := r.openUnit(ctx, u); err != nil {
				return nil, err
			}
			continue
		}
		if len(r.countOnly) > 0 {
			rows := min(r.countOnly[0], r.batch)
			if r.countOnly[0] -= rows; r.countOnly[0] == 0 {
				r.countOnly = r.countOnly[1:]
			}
			return array.NewRecordBatch(r.n.schema, nil, rows), nil
		}
		b, err := r.readBatch()
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b, nil
		}
		if err := r.closeUnit(); err != nil {
			return nil, fmt.Errorf("scan: %s: %w", r.path, err)
		}
	}
}

// readBatch reads the next batch of the open unit, nil at its end.
func (r *parquetReader) readBatch() (arrow.RecordBatch, error) {
	if cap(r.arrays) < len(r.cols) {
		r.arrays = make([]arrow.Array, len(r.cols))
	}
	raw := r.arrays[:len(r.cols)]
	clear(raw)
	defer func() {
		for _, a := range raw {
			if a != nil {
				a.Release()
			}
		}
	}()
	rows := -1
	for i, c := range r.cols {
		ch, err := c.NextBatch(r.batch)
		if err != nil {
			return nil, fmt.Errorf("scan: %s: column %s: %w", r.path, c.Field().Name, err)
		}
		a, err := singleArray(ch, r.mem)
		ch.Release()
		if err != nil {
			return nil, fmt.Errorf("scan: %s: %w", r.path, err)
		}
		raw[i] = a
		if rows < 0 {
			rows = a.Len()
		} else if a.Len() != rows {
			return nil, fmt.Errorf("scan: %s: column %s has %d rows where the others have %d", r.path, c.Field().Name, a.Len(), rows)
		}
	}
	if rows == 0 {
		return nil, nil
	}
	out := make([]arrow.Array, len(r.colOf))
	for j, ci := range r.colOf {
		a, err := conformArray(raw[ci], r.types[j], r.mem)
		if err != nil {
			for _, o := range out[:j] {
				o.Release()
			}
			return nil, fmt.Errorf("scan: %s: column %s: %w", r.path, r.n.schema.Field(j).Name, err)
		}
		out[j] = a
	}
	b := array.NewRecordBatch(r.n.schema, out, int64(rows))
	for _, o := range out {
		o.Release()
	}
	return b, nil
}

// singleArray returns the chunks of ch as one array (a new reference).
func singleArray(ch *arrow.Chunked, mem memory.Allocator) (arrow.Array, error) {
	switch chunks := ch.Chunks(); len(chunks) {
	case 0:
		return array.MakeArrayOfNull(mem, ch.DataType(), 0), nil
	case 1:
		chunks[0].Retain()
		return chunks[0], nil
	default:
		return array.Concatenate(chunks, mem)
	}
}

func (r *parquetReader) close() error {
	return r.closeUnit()
}
