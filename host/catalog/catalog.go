// Package catalog keeps the tables and views a session can query: external
// tables registered by location (CREATE EXTERNAL TABLE, --register) and
// views stored as SQL text.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// ErrExists is returned when a table or view of that name exists already.
var ErrExists = errors.New("already exists")

// ErrNotFound is returned when no table or view has that name.
var ErrNotFound = errors.New("not found")

// Inferrer reads the schema and an estimated row count (-1 if unknown) of
// the data at location in format. The executor side provides it.
type Inferrer func(ctx context.Context, format, location string, options map[string]string) (*arrow.Schema, int64, error)

// Extensions are what plugins and native libraries add: data sources
// (a table STORED AS <plugin>) and user-defined functions.
type Extensions interface {
	// Provider returns the data source of the plugin name.
	Provider(name string) (logical.ScanProvider, bool)
	// Schema asks the data source plugin name for a table's schema and
	// estimated row count.
	Schema(ctx context.Context, name, location string, options map[string]string) (*arrow.Schema, int64, error)
	// LookupFunction finds a function by name.
	LookupFunction(name string) (*logical.Function, bool)
	// ResolveFunction finds a function by extension URN ("" for any) and name.
	ResolveFunction(urn, name string) (*logical.Function, bool)
}

// Catalog is a concurrency-safe, in-memory catalog. Names are case-insensitive.
type Catalog struct {
	mu     sync.RWMutex
	tables map[string]*logical.TableSource
	views  map[string]string
	infer  Inferrer
	ext    Extensions
}

// SetExtensions makes plugin data sources and functions usable in this
// catalog's queries.
func (c *Catalog) SetExtensions(e Extensions) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ext = e
}

// Extensions returns what SetExtensions set (nil when none).
func (c *Catalog) Extensions() Extensions {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ext
}

// LookupFunction finds a user-defined function by name (for the binder).
func (c *Catalog) LookupFunction(name string) (*logical.Function, bool) {
	if e := c.Extensions(); e != nil {
		return e.LookupFunction(name)
	}
	return nil, false
}

// ResolveFunction finds a user-defined function by URN and name (for
// Substrait plans).
func (c *Catalog) ResolveFunction(urn, name string) (*logical.Function, bool) {
	if e := c.Extensions(); e != nil {
		return e.ResolveFunction(urn, name)
	}
	return nil, false
}

// New returns an empty catalog that uses infer to read schemas.
func New(infer Inferrer) *Catalog {
	return &Catalog{tables: map[string]*logical.TableSource{}, views: map[string]string{}, infer: infer}
}

func key(name string) string { return strings.ToLower(name) }

// RegisterLocation registers an external table. With columns given, they
// are the schema and the data must match them; otherwise the schema is
// inferred from the files.
func (c *Catalog) RegisterLocation(ctx context.Context, name, format, location string, options map[string]string, columns []arrow.Field, replace bool) error {
	if name == "" {
		return fmt.Errorf("table name is empty")
	}
	if e := c.Extensions(); e != nil {
		if prov, ok := e.Provider(format); ok {
			return c.registerPlugin(ctx, e, prov, name, format, location, options, columns, replace)
		}
	}
	if c.infer == nil {
		return fmt.Errorf("catalog has no schema reader")
	}
	schema, rows, err := c.infer(ctx, format, location, options)
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	if len(columns) > 0 {
		if len(columns) != schema.NumFields() {
			return fmt.Errorf("table %s: %d columns declared but %s has %d: %s", name, len(columns), location, schema.NumFields(), schema)
		}
		if options == nil {
			options = map[string]string{}
		}
		schema = arrow.NewSchema(columns, nil)
	}
	src := &logical.TableSource{Name: key(name), Format: format, Location: location, Options: options, Schema: schema, RowCount: rows}
	return c.Register(src, replace)
}

// registerPlugin registers a table of a data source plugin.
func (c *Catalog) registerPlugin(ctx context.Context, e Extensions, prov logical.ScanProvider, name, format, location string, options map[string]string, columns []arrow.Field, replace bool) error {
	schema, rows, err := e.Schema(ctx, format, location, options)
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	if len(columns) > 0 {
		// Declared columns must be the source's, in order.
		if len(columns) != schema.NumFields() {
			return fmt.Errorf("table %s: %d columns declared but plugin %s gives %d: %s", name, len(columns), format, schema.NumFields(), schema)
		}
		for i, col := range columns {
			f := schema.Field(i)
			if !strings.EqualFold(col.Name, f.Name) || !arrow.TypeEqual(col.Type, f.Type) {
				return fmt.Errorf("table %s: column %d is declared %s %s but plugin %s gives %s %s", name, i+1, col.Name, col.Type, format, f.Name, f.Type)
			}
		}
	}
	if options == nil {
		options = map[string]string{}
	}
	src := &logical.TableSource{Name: key(name), Format: strings.ToLower(format), Location: location, Options: options, Schema: schema, RowCount: rows, Provider: prov}
	return c.Register(src, replace)
}

// Register adds a table source.
func (c *Catalog) Register(src *logical.TableSource, replace bool) error {
	k := key(src.Name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !replace {
		if _, ok := c.tables[k]; ok {
			return fmt.Errorf("table %q %w", src.Name, ErrExists)
		}
	}
	if _, ok := c.views[k]; ok {
		return fmt.Errorf("a view named %q %w", src.Name, ErrExists)
	}
	c.tables[k] = src
	return nil
}

// Drop removes a table.
func (c *Catalog) Drop(name string, ifExists bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.tables[key(name)]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("table %q %w", name, ErrNotFound)
	}
	delete(c.tables, key(name))
	return nil
}

// CreateView stores a view body.
func (c *Catalog) CreateView(name, sql string, replace bool) error {
	k := key(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.tables[k]; ok {
		return fmt.Errorf("a table named %q %w", name, ErrExists)
	}
	if _, ok := c.views[k]; ok && !replace {
		return fmt.Errorf("view %q %w", name, ErrExists)
	}
	c.views[k] = sql
	return nil
}

// DropView removes a view.
func (c *Catalog) DropView(name string, ifExists bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.views[key(name)]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("view %q %w", name, ErrNotFound)
	}
	delete(c.views, key(name))
	return nil
}

// LookupTable finds a table by name.
func (c *Catalog) LookupTable(name string) (*logical.TableSource, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tables[key(name)]
	return t, ok
}

// LookupView finds a view body by name.
func (c *Catalog) LookupView(name string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.views[key(name)]
	return v, ok
}

// TableNames lists tables and views, sorted.
func (c *Catalog) TableNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.tables)+len(c.views))
	for k := range c.tables {
		out = append(out, k)
	}
	for k := range c.views {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResolveTable resolves a Substrait NamedTable (the last name part is the
// table name).
func (c *Catalog) ResolveTable(names []string) (*logical.TableSource, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("named table without a name")
	}
	t, ok := c.LookupTable(names[len(names)-1])
	if !ok {
		return nil, fmt.Errorf("table %q %w", strings.Join(names, "."), ErrNotFound)
	}
	return t, nil
}
