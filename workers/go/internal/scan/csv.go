package scan

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/storage"
)

// csvTypeSupported reports whether CSV text can be read as t.
func csvTypeSupported(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128,
		arrow.DATE32, arrow.TIMESTAMP, arrow.STRING, arrow.BINARY:
		return true
	}
	return false
}

func planCSV(n *node, partitions int) error {
	// Storage options (aws_...) are for the files' location.
	fileOpts, _ := storage.SplitOptions(n.src.Options)
	opt, err := parseCSVOptions(fileOpts, n.src.Location)
	if err != nil {
		return err
	}
	for _, f := range n.src.Schema.Fields() {
		if !csvTypeSupported(f.Type) {
			return fmt.Errorf("scan: table %s: CSV column %s of type %s is not supported", n.src.Name, f.Name, f.Type)
		}
	}
	n.csv = opt
	n.groupFiles(partitions)
	n.open = openCSV
	return nil
}

// csvReader reads the CSV files of one partition.
type csvReader struct {
	n     *node
	files []int
	next_ int
	mem   memory.Allocator
	m     *exec.OperatorMetrics
	batch int

	path    string
	f       io.ReadCloser
	p       *csvParser
	counted int64
}

func openCSV(ctx context.Context, n *node, p int, tc *exec.TaskContext, pool *bufferPool, m *exec.OperatorMetrics) (batchReader, error) {
	bs := tc.BatchSize
	if bs <= 0 {
		bs = exec.DefaultBatchSize
	}
	return &csvReader{n: n, files: n.groups[p], mem: pool, m: m, batch: bs}, nil
}

func (r *csvReader) file() string {
	if r.path != "" {
		return r.path
	}
	return r.n.src.Location
}

func (r *csvReader) openNext() error {
	df := r.n.files[r.files[r.next_]]
	path := df.Path
	r.next_++
	f, err := df.openSequential(context.Background())
	if err != nil {
		return err
	}
	r.path, r.f = path, f
	r.p = newCSVParser(f, r.n.csv, path)
	r.counted = 0
	if r.n.csv.header {
		nf, err := r.p.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if want := r.n.src.Schema.NumFields(); nf != want {
			return r.p.errf(1, "header has %d fields, table %s has %d columns", nf, r.n.src.Name, want)
		}
		r.p.reset()
	}
	return nil
}

func (r *csvReader) closeFile() error {
	if r.f == nil {
		return nil
	}
	r.account()
	err := r.f.Close()
	r.f, r.p = nil, nil
	return err
}

func (r *csvReader) account() {
	if r.p != nil {
		r.m.Bytes.Add(r.p.consumed - r.counted)
		r.counted = r.p.consumed
	}
}

func (r *csvReader) next(ctx context.Context) (arrow.RecordBatch, error) {
	width := r.n.src.Schema.NumFields()
	for {
		if r.p == nil {
			if r.next_ >= len(r.files) {
				return nil, io.EOF
			}
			if err := r.openNext(); err != nil {
				return nil, err
			}
		}
		r.p.reset()
		rows := 0
		for rows < r.batch {
			nf, err := r.p.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if nf != width {
				return nil, r.p.errf(r.p.lines[len(r.p.lines)-1], "expected %d fields, found %d", width, nf)
			}
			rows++
		}
		r.account()
		if rows == 0 {
			if err := r.closeFile(); err != nil {
				return nil, fmt.Errorf("scan: %s: %w", r.path, err)
			}
			continue
		}
		return r.build(rows)
	}
}

// build converts the buffered records into a batch of the output columns.
func (r *csvReader) build(rows int) (arrow.RecordBatch, error) {
	width := r.n.src.Schema.NumFields()
	cols := make([]arrow.Array, len(r.n.projection))
	for j, c := range r.n.projection {
		a, err := csvColumn(r.p, rows, width, c, r.n.src.Schema.Field(c), r.mem)
		if err != nil {
			for _, x := range cols[:j] {
				x.Release()
			}
			return nil, err
		}
		cols[j] = a
	}
	b := array.NewRecordBatch(r.n.schema, cols, int64(rows))
	for _, x := range cols {
		x.Release()
	}
	return b, nil
}

func (r *csvReader) close() error { return r.closeFile() }

// csvColumn parses column c of the buffered records as field's type.
func csvColumn(p *csvParser, rows, width, c int, field arrow.Field, mem memory.Allocator) (arrow.Array, error) {
	t := field.Type
	null := p.opt.null
	isString := t.ID() == arrow.STRING || t.ID() == arrow.BINARY
	valid := memory.NewResizableBuffer(mem)
	defer valid.Release()
	valid.Resize(int(bitutil.BytesForBits(int64(rows))))
	vb := valid.Bytes()
	clear(vb)
	nulls := 0
	// field returns the text of row i, and whether it is NULL.
	fieldAt := func(i int) ([]byte, bool) {
		k := i*width + c
		start := int32(0)
		if k > 0 {
			start = p.ends[k-1]
		}
		b := p.data[start:p.ends[k]]
		if !p.quoted[k] && string(b) == null {
			return b, true
		}
		if !isString && len(trimSpace(b)) == 0 {
			return b, true
		}
		return b, false
	}
	bad := func(i int, b []byte) error {
		return p.errf(p.lines[i], "column %s: cannot read %q as %s", field.Name, b, t)
	}
	finish := func(bufs ...*memory.Buffer) arrow.Array {
		var v *memory.Buffer
		if nulls > 0 {
			v = valid
		}
		d := array.NewData(t, rows, append([]*memory.Buffer{v}, bufs...), nil, nulls, 0)
		for _, b := range bufs {
			b.Release()
		}
		defer d.Release()
		return array.MakeFromData(d)
	}
	alloc := func(n int) (*memory.Buffer, []byte) {
		b := memory.NewResizableBuffer(mem)
		b.Resize(n)
		clear(b.Bytes())
		return b, b.Bytes()
	}
	fixed := func(width int) (*memory.Buffer, []byte) { return alloc(rows * width) }
	switch t.ID() {
	case arrow.STRING, arrow.BINARY:
		total := 0
		for i := 0; i < rows; i++ {
			if b, isNull := fieldAt(i); !isNull {
				total += len(b)
			}
		}
		if total > math.MaxInt32 {
			return nil, p.errf(p.lines[0], "column %s: a batch holds more than 2 GiB of text", field.Name)
		}
		offBuf, _ := alloc(4 * (rows + 1))
		off := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
		dataBuf := memory.NewResizableBuffer(mem)
		dataBuf.Resize(total)
		dst := dataBuf.Bytes()
		pos := 0
		for i := 0; i < rows; i++ {
			off[i] = int32(pos)
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			if t.ID() == arrow.STRING && !utf8.Valid(b) {
				offBuf.Release()
				dataBuf.Release()
				return nil, p.errf(p.lines[i], "column %s: invalid UTF-8", field.Name)
			}
			bitutil.SetBit(vb, i)
			pos += copy(dst[pos:], b)
		}
		off[rows] = int32(pos)
		return finish(offBuf, dataBuf), nil
	case arrow.BOOL:
		buf, out := alloc(int(bitutil.BytesForBits(int64(rows))))
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseBool(b)
			if !ok {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			if v {
				bitutil.SetBit(out, i)
			}
		}
		return finish(buf), nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		w := t.(arrow.FixedWidthDataType).BitWidth() / 8
		lo, hi := intRange(t)
		buf, out := fixed(w)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseInt(b)
			if !ok || v < lo || v > hi {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			putInt(out, i, w, v)
		}
		return finish(buf), nil
	case arrow.UINT64:
		buf, out := fixed(8)
		vals := arrow.Uint64Traits.CastFromBytes(out)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, err := parseUint(b)
			if err != nil {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			vals[i] = v
		}
		return finish(buf), nil
	case arrow.FLOAT32, arrow.FLOAT64:
		w := t.(arrow.FixedWidthDataType).BitWidth() / 8
		buf, out := fixed(w)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseFloat(b)
			if !ok {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			if w == 4 {
				arrow.Float32Traits.CastFromBytes(out)[i] = float32(v)
			} else {
				arrow.Float64Traits.CastFromBytes(out)[i] = v
			}
		}
		return finish(buf), nil
	case arrow.DECIMAL64:
		dt := t.(*arrow.Decimal64Type)
		buf, out := fixed(8)
		vals := arrow.Int64Traits.CastFromBytes(out)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseDecimal(b, dt.Precision, dt.Scale)
			if !ok {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			vals[i] = v
		}
		return finish(buf), nil
	case arrow.DECIMAL128:
		dt := t.(*arrow.Decimal128Type)
		buf, out := fixed(16)
		vals := arrow.Decimal128Traits.CastFromBytes(out)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, err := decimal128.FromString(string(trimSpace(b)), dt.Precision, dt.Scale)
			if err != nil {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			vals[i] = v
		}
		return finish(buf), nil
	case arrow.DATE32:
		buf, out := fixed(4)
		vals := arrow.Int32Traits.CastFromBytes(out)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseDate(b)
			if !ok {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			vals[i] = v
		}
		return finish(buf), nil
	case arrow.TIMESTAMP:
		mul, div := unitRatio(arrow.Microsecond, t.(*arrow.TimestampType).Unit)
		buf, out := fixed(8)
		vals := arrow.Int64Traits.CastFromBytes(out)
		for i := 0; i < rows; i++ {
			b, isNull := fieldAt(i)
			if isNull {
				nulls++
				continue
			}
			v, ok := parseTimestamp(b)
			if !ok {
				buf.Release()
				return nil, bad(i, b)
			}
			bitutil.SetBit(vb, i)
			vals[i] = floorDiv(v*mul, div)
		}
		return finish(buf), nil
	}
	return nil, fmt.Errorf("scan: %s: CSV column %s of type %s is not supported", p.path, field.Name, t)
}

func intRange(t arrow.DataType) (int64, int64) {
	switch t.ID() {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	case arrow.UINT8:
		return 0, math.MaxUint8
	case arrow.UINT16:
		return 0, math.MaxUint16
	case arrow.UINT32:
		return 0, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64
}

func putInt(out []byte, i, w int, v int64) {
	switch w {
	case 1:
		out[i] = byte(v)
	case 2:
		arrow.Int16Traits.CastFromBytes(out)[i] = int16(v)
	case 4:
		arrow.Int32Traits.CastFromBytes(out)[i] = int32(v)
	default:
		arrow.Int64Traits.CastFromBytes(out)[i] = v
	}
}

// CSV schema inference.

// Candidate types, tried from the most specific.
const (
	candBool = 1 << iota
	candInt
	candFloat
	candDate
	candTimestamp
	candAll = candBool | candInt | candFloat | candDate | candTimestamp
)

// inferCSV samples the first file to infer column names and types, and
// estimates the row count of all files.
func inferCSV(files []dataFile, options map[string]string, location string) (*arrow.Schema, int64, error) {
	opt, err := parseCSVOptions(options, location)
	if err != nil {
		return nil, -1, err
	}
	first := files[0]
	f, err := first.openSequential(context.Background())
	if err != nil {
		return nil, -1, err
	}
	defer f.Close()
	p := newCSVParser(f, opt, first.Path)
	var names []string
	width := -1
	if opt.header {
		nf, err := p.next()
		if err == io.EOF {
			return nil, -1, fmt.Errorf("scan: %s: empty CSV file: no header to name the columns", first.Path)
		}
		if err != nil {
			return nil, -1, err
		}
		width = nf
		for i := 0; i < nf; i++ {
			start := int32(0)
			if i > 0 {
				start = p.ends[i-1]
			}
			name := string(p.data[start:p.ends[i]])
			if name == "" {
				name = fmt.Sprintf("column_%d", i+1)
			}
			names = append(names, name)
		}
		p.reset()
	}
	headerBytes := p.consumed
	var cand []int
	var seen []bool
	rows := 0
	eof := false
	for rows < opt.inferRows {
		nf, err := p.next()
		if err == io.EOF {
			eof = true
			break
		}
		if err != nil {
			return nil, -1, err
		}
		if width < 0 {
			width = nf
		}
		if nf != width {
			return nil, -1, p.errf(p.lines[len(p.lines)-1], "expected %d fields, found %d", width, nf)
		}
		if cand == nil {
			cand = make([]int, width)
			seen = make([]bool, width)
			for i := range cand {
				cand[i] = candAll
			}
		}
		base := len(p.ends) - nf
		for i := 0; i < nf; i++ {
			start := int32(0)
			if base+i > 0 {
				start = p.ends[base+i-1]
			}
			b := p.data[start:p.ends[base+i]]
			if (!p.quoted[base+i] && string(b) == opt.null) || len(trimSpace(b)) == 0 {
				continue
			}
			seen[i] = true
			cand[i] &= candidates(b)
		}
		rows++
		if len(p.data) > 64<<20 {
			p.reset()
		}
	}
	if width < 0 {
		return nil, -1, fmt.Errorf("scan: %s: empty CSV file: cannot infer a schema", first.Path)
	}
	if names == nil {
		for i := 0; i < width; i++ {
			names = append(names, fmt.Sprintf("column_%d", i+1))
		}
	}
	fields := make([]arrow.Field, width)
	for i := range fields {
		t := arrow.DataType(logical.Utf8)
		if cand != nil && seen[i] {
			c := cand[i]
			switch {
			case c&candBool != 0:
				t = logical.Bool
			case c&candInt != 0:
				t = logical.Int64
			case c&candFloat != 0:
				t = logical.Float64
			case c&candDate != 0:
				t = logical.Date32
			case c&candTimestamp != 0:
				t = logical.TimestampUs
			}
		}
		fields[i] = arrow.Field{Name: names[i], Type: t, Nullable: true}
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	est := int64(-1)
	switch {
	case eof && len(files) == 1:
		est = int64(rows)
	case rows > 0 && p.consumed > headerBytes:
		est = int64(float64(total) * float64(rows) / float64(p.consumed-headerBytes))
	}
	return arrow.NewSchema(fields, nil), est, nil
}

// candidates returns the candidate types that text b parses as.
func candidates(b []byte) int {
	c := 0
	if t := trimSpace(b); len(t) == 4 || len(t) == 5 {
		if _, ok := parseBool(t); ok {
			c |= candBool // true or false spelled out
		}
	}
	if _, ok := parseInt(b); ok {
		c |= candInt | candFloat
	} else if _, ok := parseFloat(b); ok {
		c |= candFloat
	}
	if _, ok := parseDate(b); ok {
		c |= candDate | candTimestamp
	} else if _, ok := parseTimestamp(b); ok {
		c |= candTimestamp
	}
	return c
}

func parseUint(b []byte) (uint64, error) {
	return strconv.ParseUint(bstr(trimSpace(b)), 10, 64)
}
