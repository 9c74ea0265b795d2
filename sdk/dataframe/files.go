package dataframe

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// ReadParquet reads Parquet files as a DataFrame: path is a file, a folder
// (its .parquet files, recursively; names starting with . or _ are
// skipped) or a glob. The schema comes from the files' footers, read here
// (every file must have the same columns), in the engine's types. The
// plan reads the files as Substrait local files, so the path must name
// the same files where the cluster's executors run; a relative path is
// made absolute here. The columns are qualified with the file's base name
// without extension ("orders" for /data/orders.parquet); Alias changes
// that.
func ReadParquet(path string) (*DataFrame, error) {
	abs, files, err := listFiles(path, ".parquet")
	if err != nil {
		return nil, fmt.Errorf("dataframe: ReadParquet(%q): %w", path, err)
	}
	var schema *arrow.Schema
	for _, f := range files {
		s, err := parquetSchema(f)
		if err != nil {
			return nil, fmt.Errorf("dataframe: ReadParquet(%q): %w", path, err)
		}
		if schema == nil {
			schema = s
			continue
		}
		if schema, err = logical.UnifyFileSchemas(schema, s); err != nil {
			return nil, fmt.Errorf("dataframe: ReadParquet(%q): %s does not match %s: %w", path, f, files[0], err)
		}
	}
	return fileFrame(&logical.TableSource{Format: "parquet", Location: abs, Schema: schema, RowCount: -1, Options: map[string]string{}}, path), nil
}

// CSVOptions describe CSV files.
type CSVOptions struct {
	// Schema gives the columns, in the file's order. The package-level
	// ReadCSV needs it; Context.ReadCSV infers it on the cluster when nil.
	Schema *arrow.Schema
	// NoHeader says the files have no header line.
	NoHeader bool
	// Delimiter separates fields; 0 means ',' (tab for .tsv files).
	Delimiter byte
	// Null is the text of a NULL value (default: the empty field).
	Null string
	// Options are further engine CSV options (quote, escape, ...).
	Options map[string]string
}

func (o CSVOptions) options() map[string]string {
	out := map[string]string{}
	for k, v := range o.Options {
		out[k] = v
	}
	if o.NoHeader {
		out["header"] = "false"
	}
	if o.Delimiter != 0 {
		out["delimiter"] = string(rune(o.Delimiter))
	}
	if o.Null != "" {
		out["null"] = o.Null
	}
	return out
}

// ReadCSV reads CSV files (a file, a folder of .csv/.tsv files, or a glob)
// with the columns of opts.Schema, as Substrait local files (see
// ReadParquet about paths and qualifiers).
func ReadCSV(path string, opts CSVOptions) (*DataFrame, error) {
	if opts.Schema == nil || opts.Schema.NumFields() == 0 {
		return nil, fmt.Errorf("dataframe: ReadCSV(%q): CSVOptions.Schema is required (Context.ReadCSV can infer it on the cluster)", path)
	}
	abs, _, err := listFiles(path, ".csv", ".tsv")
	if err != nil {
		return nil, fmt.Errorf("dataframe: ReadCSV(%q): %w", path, err)
	}
	for _, f := range opts.Schema.Fields() {
		if !csvType(f.Type) {
			return nil, fmt.Errorf("dataframe: ReadCSV(%q): column %q: CSV cannot hold type %s", path, f.Name, f.Type)
		}
	}
	schema := logical.ContractSchema(opts.Schema)
	// CSV columns may always hold NULLs.
	fields := schema.Fields()
	for i := range fields {
		fields[i].Nullable = true
	}
	src := &logical.TableSource{Format: "csv", Location: abs, Schema: arrow.NewSchema(fields, nil), RowCount: -1, Options: opts.options()}
	return fileFrame(src, path), nil
}

func csvType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.STRUCT, arrow.MAP, arrow.FIXED_SIZE_LIST, arrow.DENSE_UNION, arrow.SPARSE_UNION:
		return false
	}
	return true
}

// fileFrame makes the DataFrame of a file source: the source is named
// after its location (unique in a plan, so the Substrait producer's named
// read can be replaced by a local-files read) and the scan is aliased
// after the file's base name.
func fileFrame(src *logical.TableSource, path string) *DataFrame {
	src.Name = src.Location
	base := filepath.Base(strings.TrimRight(path, string(filepath.Separator)))
	if i := strings.IndexAny(base, "*?["); i >= 0 {
		base = filepath.Base(filepath.Dir(path))
	}
	alias := strings.TrimSuffix(base, filepath.Ext(base))
	if alias == "" || alias == "." || strings.Contains(alias, ".") {
		alias = "file"
	}
	return &DataFrame{plan: logical.NewScan(src, alias, nil)}
}

// listFiles resolves path to an absolute location and the data files it
// names (for a folder: those with one of the extensions).
func listFiles(path string, exts ...string) (string, []string, error) {
	if path == "" {
		return "", nil, errors.New("empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	if strings.ContainsAny(abs, "*?[") {
		files, err := filepath.Glob(abs)
		if err != nil {
			return "", nil, err
		}
		if len(files) == 0 {
			return "", nil, errors.New("no file matches")
		}
		sort.Strings(files)
		return abs, files, nil
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", nil, err
	}
	if !st.IsDir() {
		return abs, []string{abs}, nil
	}
	var files []string
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != abs && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		for _, e := range exts {
			if strings.EqualFold(filepath.Ext(p), e) {
				files = append(files, p)
				break
			}
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if len(files) == 0 {
		return "", nil, fmt.Errorf("folder has no %s files", strings.Join(exts, " or "))
	}
	return abs, files, nil
}

// parquetSchema reads the Arrow schema of a Parquet file's footer, in the
// engine's types.
func parquetSchema(path string) (s *arrow.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%s: not a readable Parquet file: %v", path, r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	defer pf.Close()
	meta := pf.MetaData()
	sc, err := pqarrow.FromParquet(meta.Schema, &pqarrow.ArrowReadProperties{}, meta.KeyValueMetadata())
	if err != nil {
		return nil, fmt.Errorf("%s: unsupported Parquet schema: %w", path, err)
	}
	return logical.ContractSchema(sc), nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
