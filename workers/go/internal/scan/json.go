package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// lineReader yields the lines of a file with their numbers.
type lineReader struct {
	r        *bufio.Reader
	line     int64
	consumed int64
	long     []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next line without its line break (valid until the next
// call), or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = l.r.ReadSlice('\n')
			l.long = append(l.long, b...)
		}
		b = l.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(b) == 0 {
		return nil, io.EOF
	}
	l.consumed += int64(len(b))
	l.line++
	return bytes.TrimRight(b, "\r\n"), nil
}

// jsonReader reads the newline-delimited JSON files of one partition.
type jsonReader struct {
	n      *node
	files  []int
	next_  int
	mem    memory.Allocator
	m      *exec.OperatorMetrics
	batch  int
	build  *arrow.Schema // distinct projected columns
	outIdx []int         // output column -> build column

	path    string
	f       io.ReadCloser
	lr      *lineReader
	counted int64
	rb      *array.RecordBuilder
}

func openJSON(ctx context.Context, n *node, p int, tc *exec.TaskContext, pool *bufferPool, m *exec.OperatorMetrics) (batchReader, error) {
	bs := tc.BatchSize
	if bs <= 0 {
		bs = exec.DefaultBatchSize
	}
	r := &jsonReader{n: n, files: n.groups[p], mem: pool, m: m, batch: bs}
	var fields []arrow.Field
	for _, f := range n.schema.Fields() {
		idx := -1
		for i, g := range fields {
			if g.Name == f.Name {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(fields)
			f.Nullable = true
			fields = append(fields, f)
		}
		r.outIdx = append(r.outIdx, idx)
	}
	r.build = arrow.NewSchema(fields, nil)
	return r, nil
}

func (r *jsonReader) file() string {
	if r.path != "" {
		return r.path
	}
	return r.n.src.Location
}

func (r *jsonReader) closeFile() error {
	if r.f == nil {
		return nil
	}
	r.m.Bytes.Add(r.lr.consumed - r.counted)
	err := r.f.Close()
	r.f, r.lr = nil, nil
	return err
}

func (r *jsonReader) next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.rb == nil {
		r.rb = array.NewRecordBuilder(r.mem, r.build)
	}
	for {
		if r.lr == nil {
			if r.next_ >= len(r.files) {
				return nil, io.EOF
			}
			df := r.n.files[r.files[r.next_]]
			path := df.Path
			r.next_++
			f, err := df.openSequential(ctx)
			if err != nil {
				return nil, err
			}
			r.path, r.f, r.lr, r.counted = path, f, newLineReader(f), 0
		}
		rows := 0
		for rows < r.batch {
			line, err := r.lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("scan: %s: %w", r.path, err)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := r.rb.UnmarshalJSON(line); err != nil {
				return nil, fmt.Errorf("scan: %s line %d: %v", r.path, r.lr.line, err)
			}
			rows++
		}
		r.m.Bytes.Add(r.lr.consumed - r.counted)
		r.counted = r.lr.consumed
		if rows == 0 {
			if err := r.closeFile(); err != nil {
				return nil, fmt.Errorf("scan: %s: %w", r.path, err)
			}
			continue
		}
		rec := r.rb.NewRecordBatch()
		cols := make([]arrow.Array, len(r.outIdx))
		for j, k := range r.outIdx {
			cols[j] = rec.Column(k)
		}
		b := array.NewRecordBatch(r.n.schema, cols, rec.NumRows())
		rec.Release()
		return b, nil
	}
}

func (r *jsonReader) close() error {
	if r.rb != nil {
		r.rb.Release()
		r.rb = nil
	}
	return r.closeFile()
}

// JSON schema inference.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jInt
	jFloat
	jString
	jList
	jStruct
	jMixed // conflicting kinds: read as text
)

// jtype is the type inferred for a JSON value position.
type jtype struct {
	kind    jkind
	strCand int // for strings: candDate|candTimestamp still possible
	elem    *jtype
	names   []string // struct fields in first-seen order
	fields  map[string]*jtype
}

func (t *jtype) merge(o *jtype) {
	switch {
	case o.kind == jNull:
		return
	case t.kind == jNull:
		*t = *o
		return
	case t.kind == jInt && o.kind == jFloat, t.kind == jFloat && o.kind == jInt:
		t.kind = jFloat
		return
	case t.kind != o.kind:
		t.kind = jMixed
		return
	}
	switch t.kind {
	case jString:
		t.strCand &= o.strCand
	case jList:
		if t.elem == nil {
			t.elem = o.elem
		} else if o.elem != nil {
			t.elem.merge(o.elem)
		}
	case jStruct:
		for _, name := range o.names {
			if ft, ok := t.fields[name]; ok {
				ft.merge(o.fields[name])
			} else {
				t.names = append(t.names, name)
				t.fields[name] = o.fields[name]
			}
		}
	}
}

func (t *jtype) arrow() arrow.DataType {
	switch t.kind {
	case jBool:
		return logical.Bool
	case jInt:
		return logical.Int64
	case jFloat:
		return logical.Float64
	case jString:
		switch {
		case t.strCand&candDate != 0:
			return logical.Date32
		case t.strCand&candTimestamp != 0:
			return logical.TimestampUs
		}
	case jList:
		et := arrow.DataType(logical.Utf8)
		if t.elem != nil && t.elem.kind != jNull {
			et = t.elem.arrow()
		}
		return arrow.ListOf(et)
	case jStruct:
		fs := make([]arrow.Field, len(t.names))
		for i, n := range t.names {
			fs[i] = arrow.Field{Name: n, Type: t.fields[n].arrow(), Nullable: true}
		}
		return arrow.StructOf(fs...)
	}
	return logical.Utf8
}

// inferJSONValue infers the type of a decoded value (UseNumber).
func inferJSONValue(v any) *jtype {
	switch x := v.(type) {
	case nil:
		return &jtype{kind: jNull}
	case bool:
		return &jtype{kind: jBool}
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return &jtype{kind: jInt}
		}
		return &jtype{kind: jFloat}
	case string:
		c := 0
		b := []byte(x)
		if _, ok := parseDate(b); ok && len(x) == 10 {
			c |= candDate | candTimestamp
		} else if _, zone, err := arrow.TimestampFromStringInLocation(x, arrow.Microsecond, time.UTC); err == nil && !zone {
			c |= candTimestamp
		}
		return &jtype{kind: jString, strCand: c}
	case []any:
		t := &jtype{kind: jList}
		for _, e := range x {
			et := inferJSONValue(e)
			if t.elem == nil {
				t.elem = et
			} else {
				t.elem.merge(et)
			}
		}
		return t
	case map[string]any:
		// Go maps lose key order: sort for a stable result. Top-level
		// objects keep the file's order (see inferJSONObject).
		t := &jtype{kind: jStruct, fields: map[string]*jtype{}}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.names = append(t.names, k)
			t.fields[k] = inferJSONValue(x[k])
		}
		return t
	}
	return &jtype{kind: jMixed}
}

// inferJSONObject infers a top-level object, keeping its key order.
func inferJSONObject(line []byte) (*jtype, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected a JSON object, found %v", tok)
	}
	t := &jtype{kind: jStruct, fields: map[string]*jtype{}}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		vt := inferJSONValue(v)
		if old, ok := t.fields[k]; ok {
			old.merge(vt)
		} else {
			t.names = append(t.names, k)
			t.fields[k] = vt
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return t, nil
}

// inferJSON samples the first file's objects for the columns and types.
func inferJSON(files []dataFile, options map[string]string) (*arrow.Schema, int64, error) {
	limit := 1000
	for k, v := range options {
		switch k {
		case "infer_rows", "schema_infer_max_records":
			if _, err := fmt.Sscan(v, &limit); err != nil || limit < 1 {
				return nil, -1, fmt.Errorf("scan: JSON option %s=%q: expected a positive number", k, v)
			}
		default:
			return nil, -1, fmt.Errorf("scan: unknown JSON option %q (known: infer_rows)", k)
		}
	}
	first := files[0]
	f, err := first.openSequential(context.Background())
	if err != nil {
		return nil, -1, err
	}
	defer f.Close()
	lr := newLineReader(f)
	var top *jtype
	rows := 0
	eof := false
	for rows < limit {
		line, err := lr.next()
		if err == io.EOF {
			eof = true
			break
		}
		if err != nil {
			return nil, -1, fmt.Errorf("scan: %s: %w", first.Path, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		t, err := inferJSONObject(line)
		if err != nil {
			return nil, -1, fmt.Errorf("scan: %s line %d: %v", first.Path, lr.line, err)
		}
		if top == nil {
			top = t
		} else {
			top.merge(t)
		}
		rows++
	}
	if top == nil || len(top.names) == 0 {
		return nil, -1, fmt.Errorf("scan: %s: no JSON objects to infer a schema from", first.Path)
	}
	fs := make([]arrow.Field, len(top.names))
	for i, n := range top.names {
		fs[i] = arrow.Field{Name: n, Type: top.fields[n].arrow(), Nullable: true}
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	est := int64(-1)
	switch {
	case eof && len(files) == 1:
		est = int64(rows)
	case rows > 0 && lr.consumed > 0:
		est = int64(float64(total) * float64(rows) / float64(lr.consumed))
	}
	return arrow.NewSchema(fs, nil), est, nil
}
