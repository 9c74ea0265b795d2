package dataframe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/substrait/logical"
)

// Catalog gives the schemas of the tables a Context can read by name.
type Catalog interface {
	// TableSchema is the schema of the named table, in the engine's
	// types (see logical.ContractType).
	TableSchema(ctx context.Context, name string) (*arrow.Schema, error)
}

// ErrTableNotFound is wrapped by StaticCatalog's errors about unknown
// tables (the cluster's catalog reports them in its own words).
var ErrTableNotFound = errors.New("table not found")

// Context makes DataFrames over the tables of one client session and runs
// them. It is safe for concurrent use.
type Context struct {
	client  *client.Client
	catalog Catalog
}

// Option configures a Context.
type Option func(*Context)

// WithCatalog makes the Context take table schemas from cat instead of
// asking the cluster (for building plans without a cluster, or with a
// schema registry of your own).
func WithCatalog(cat Catalog) Option { return func(c *Context) { c.catalog = cat } }

// NewContext returns a Context over the client's session: Table asks the
// cluster for schemas (DESCRIBE) and Collect runs plans through c. c may
// be nil when a catalog is given with WithCatalog, for building plans
// only.
func NewContext(c *client.Client, opts ...Option) *Context {
	ctx := &Context{client: c}
	if c != nil {
		ctx.catalog = &clusterCatalog{c: c}
	}
	for _, o := range opts {
		o(ctx)
	}
	return ctx
}

// Table is the named table of the session (registered, for example, with
// CREATE EXTERNAL TABLE). Its columns are qualified with the table's name.
func (c *Context) Table(ctx context.Context, name string) (*DataFrame, error) {
	if c.catalog == nil {
		return nil, errors.New("dataframe: Table: the Context has neither a client nor a catalog")
	}
	if name == "" {
		return nil, errors.New("dataframe: Table: empty table name")
	}
	s, err := c.catalog.TableSchema(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("dataframe: Table(%q): %w", name, err)
	}
	if s == nil || s.NumFields() == 0 {
		return nil, fmt.Errorf("dataframe: Table(%q): the catalog gave no columns", name)
	}
	src := &logical.TableSource{Name: name, Schema: logical.ContractSchema(s), RowCount: -1}
	return &DataFrame{sess: c, plan: logical.NewScan(src, "", nil)}, nil
}

// ReadParquet reads Parquet files (see the package-level ReadParquet) in
// this Context, so Collect runs it.
func (c *Context) ReadParquet(path string) (*DataFrame, error) {
	df, err := ReadParquet(path)
	if err != nil {
		return nil, err
	}
	df.sess = c
	return df, nil
}

// ReadCSV reads CSV files in this Context. Without opts.Schema, the
// cluster infers the schema (it samples the files as CREATE EXTERNAL
// TABLE does), so the files must be readable where the cluster runs.
func (c *Context) ReadCSV(ctx context.Context, path string, opts CSVOptions) (*DataFrame, error) {
	if opts.Schema == nil {
		if c.client == nil {
			return nil, errors.New("dataframe: ReadCSV: no schema given and no client to infer it")
		}
		s, err := inferOnCluster(ctx, c.client, "csv", path, opts.options())
		if err != nil {
			return nil, fmt.Errorf("dataframe: ReadCSV(%q): %w", path, err)
		}
		opts.Schema = s
	}
	df, err := ReadCSV(path, opts)
	if err != nil {
		return nil, err
	}
	df.sess = c
	return df, nil
}

// Collect runs df on the cluster and returns the result stream; the
// caller closes it.
func (c *Context) Collect(ctx context.Context, df *DataFrame) (*client.Result, error) {
	if c.client == nil {
		return nil, errors.New("dataframe: Collect: the Context has no client")
	}
	b, err := df.SubstraitBytes()
	if err != nil {
		return nil, err
	}
	return c.client.Substrait(ctx, b)
}

// clusterCatalog asks the cluster for table schemas with DESCRIBE.
type clusterCatalog struct{ c *client.Client }

// quoteIdent quotes a name for SQL.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// quoteString quotes a SQL string constant.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (cc *clusterCatalog) TableSchema(ctx context.Context, name string) (*arrow.Schema, error) {
	rows, err := queryStrings(ctx, cc.c, "DESCRIBE "+quoteIdent(name))
	if err != nil {
		if names, lerr := queryStrings(ctx, cc.c, "SHOW TABLES"); lerr == nil {
			var all []string
			for _, r := range names {
				all = append(all, r[0])
			}
			if hint := suggestTable(name, all); hint != "" {
				return nil, fmt.Errorf("%w; did you mean %s?", err, hint)
			}
		}
		return nil, err
	}
	return describeSchema(rows)
}

// describeSchema turns DESCRIBE rows (column_name, data_type, is_nullable)
// into a schema.
func describeSchema(rows [][]string) (*arrow.Schema, error) {
	fs := make([]arrow.Field, len(rows))
	for i, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("DESCRIBE returned %d columns, want 3", len(r))
		}
		t, err := ParseType(r[1])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", r[0], err)
		}
		fs[i] = arrow.Field{Name: r[0], Type: t, Nullable: r[2] != "NO"}
	}
	return arrow.NewSchema(fs, nil), nil
}

func suggestTable(name string, tables []string) string {
	fields := make([]logical.Field, len(tables))
	for i, t := range tables {
		fields[i] = logical.Field{Name: t}
	}
	s := suggest(logical.NewSchema(fields...), name)
	return strings.Join(s, " or ")
}

// queryStrings runs a statement whose result has string columns and reads
// it whole (catalog statements: a few rows).
func queryStrings(ctx context.Context, c *client.Client, q string) (rows [][]string, err error) {
	res, err := c.SQL(ctx, q)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := res.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for {
		rec, err := res.NextBatch(ctx)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		cols := make([]*array.String, rec.NumCols())
		for j := range cols {
			s, ok := rec.Column(j).(*array.String)
			if !ok {
				return nil, fmt.Errorf("%s: column %d is %s, not a string", q, j, rec.Column(j).DataType())
			}
			cols[j] = s
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, len(cols))
			for j, s := range cols {
				row[j] = s.Value(i)
			}
			rows = append(rows, row)
		}
	}
}

// inferOnCluster has the cluster infer the schema of files: it registers
// them as a temporary table of the session, describes it and drops it.
func inferOnCluster(ctx context.Context, c *client.Client, format, path string, options map[string]string) (*arrow.Schema, error) {
	name := "__dataframe_infer_" + strings.TrimPrefix(newID(), "-")
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE %s STORED AS %s LOCATION %s", quoteIdent(name), format, quoteString(path))
	if len(options) > 0 {
		keys := make([]string, 0, len(options))
		for k := range options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" OPTIONS (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", quoteString(k), quoteString(options[k]))
		}
		b.WriteString(")")
	}
	if _, err := queryStrings(ctx, c, b.String()); err != nil {
		return nil, err
	}
	defer func() {
		// Drop the table even when ctx ended, within a bound of its own.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = queryStrings(dctx, c, "DROP TABLE IF EXISTS "+quoteIdent(name))
	}()
	rows, err := queryStrings(ctx, c, "DESCRIBE "+quoteIdent(name))
	if err != nil {
		return nil, err
	}
	return describeSchema(rows)
}

// StaticCatalog is a Catalog over fixed schemas, keyed by table name
// (looked up exactly, then ignoring case).
type StaticCatalog map[string]*arrow.Schema

// TableSchema implements Catalog.
func (m StaticCatalog) TableSchema(_ context.Context, name string) (*arrow.Schema, error) {
	if s, ok := m[name]; ok {
		return s, nil
	}
	var names []string
	for k, s := range m {
		if strings.EqualFold(k, name) {
			return s, nil
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if hint := suggestTable(name, names); hint != "" {
		return nil, fmt.Errorf("%w: %q; did you mean %s?", ErrTableNotFound, name, hint)
	}
	return nil, fmt.Errorf("%w: %q", ErrTableNotFound, name)
}
