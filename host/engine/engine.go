// Package engine runs statements for a session: it binds SQL (or takes a
// Substrait plan), optimizes the logical plan, executes DDL against the
// catalog and hands queries to an Executor (the native worker in
// standalone mode, the scheduler in a cluster).
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/host/catalog"
	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Stream is a stream of result batches. A batch returned by Next is valid
// until the next call; Next returns io.EOF at the end.
type Stream interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// ExecOptions are the per-query execution settings.
type ExecOptions struct {
	// MemoryLimit in bytes for the operators' state; 0 = none.
	MemoryLimit int64
	// Partitions is the target parallelism; 0 = the executor's default.
	Partitions int
	// Analyze collects per-operator metrics (EXPLAIN ANALYZE).
	Analyze bool
}

// Executor runs optimized logical plans.
type Executor interface {
	// Execute starts a query.
	Execute(ctx context.Context, p logical.Plan, o ExecOptions) (Stream, error)
	// ExplainPhysical renders the physical plan of p.
	ExplainPhysical(p logical.Plan, o ExecOptions) (string, error)
	// Analyze renders the physical plan of a finished stream from Execute
	// (with o.Analyze set) with per-operator rows, time and memory.
	Analyze(s Stream) string
}

// Runner runs SQL scripts: a Session here, or a client of a cluster.
type Runner interface {
	// Run executes every statement of script in order, calling each with
	// its result; each must consume and Close the stream before the next
	// statement runs. It stops at the first error.
	Run(ctx context.Context, script string, each func(*Result) error) error
}

// Session holds a catalog, an executor and settings.
type Session struct {
	Catalog *catalog.Catalog
	Exec    Executor
	Options ExecOptions
	// PluginParallelism, when set, is how many splits to ask data source
	// plugins for (default: Options.Partitions, else the CPUs).
	PluginParallelism func() int
	alloc             memory.Allocator
}

// NewSession builds a session.
func NewSession(cat *catalog.Catalog, ex Executor, o ExecOptions) *Session {
	return &Session{Catalog: cat, Exec: ex, Options: o, alloc: memory.DefaultAllocator}
}

// Result is the outcome of one statement: rows to show (possibly none) and
// whether it was a query.
type Result struct {
	// SQL is the statement's text.
	SQL string
	// Query is true for SELECT-like statements.
	Query bool
	// Stream yields the rows; the caller must Close it.
	Stream Stream
	// Changed is true for a statement that changed the session (its
	// catalog or settings): replaying the changing statements in order
	// rebuilds the session.
	Changed bool
}

// Run executes every statement of script in order, calling each with its
// result; each must consume and Close the stream before the next
// statement runs. It stops at the first error.
func (s *Session) Run(ctx context.Context, script string, each func(*Result) error) error {
	stmts, err := sql.Parse(script)
	if err != nil {
		return err
	}
	for _, p := range stmts {
		res, err := s.guardedRunOne(ctx, p)
		if err != nil {
			return err
		}
		if err := each(res); err != nil {
			res.Stream.Close()
			return err
		}
		res.Stream.Close()
	}
	return nil
}

// PlanSQL binds and optimizes a single query.
func (s *Session) PlanSQL(query string) (logical.Plan, error) {
	stmts, err := sql.Parse(query)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("expected one statement, got %d", len(stmts))
	}
	st, err := sql.Bind(stmts[0], s.Catalog)
	if err != nil {
		return nil, err
	}
	q, ok := st.(*sql.Query)
	if !ok {
		return nil, fmt.Errorf("expected a query, got %T", st)
	}
	return s.optimize(context.Background(), q.Plan)
}

// optimize runs the optimizer and plans the scans of plugin data sources.
func (s *Session) optimize(ctx context.Context, p logical.Plan) (logical.Plan, error) {
	p, err := optimizer.Optimize(p)
	if err != nil {
		return nil, err
	}
	par := s.Options.Partitions
	if par <= 0 && s.PluginParallelism != nil {
		par = s.PluginParallelism()
	}
	return PushToPlugins(ctx, p, par)
}

// RunSubstrait executes a Substrait plan (binary protobuf or JSON).
func (s *Session) RunSubstrait(ctx context.Context, plan []byte) (Stream, error) {
	p, err := s.PlanSubstrait(plan)
	if err != nil {
		return nil, err
	}
	return s.Exec.Execute(ctx, p, s.Options)
}

// ErrInternal marks a bug inside the engine that was caught before it could
// take the process down.
var ErrInternal = errors.New("internal error")

// guardedRunOne runs one statement and turns a panic in planning into an
// error, so one bad statement never ends the session or the server.
func (s *Session) guardedRunOne(ctx context.Context, p *sql.Parsed) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%w while planning %q: %v (please report this)", ErrInternal, oneLine(p.SQL), r)
		}
	}()
	return s.runOne(ctx, p)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func (s *Session) runOne(ctx context.Context, p *sql.Parsed) (*Result, error) {
	plan, res, err := s.Prepare(ctx, p)
	if err != nil || plan == nil {
		return res, err
	}
	stream, err := s.Exec.Execute(ctx, plan, s.Options)
	if err != nil {
		return nil, err
	}
	res.Query, res.Stream = true, stream
	return res, nil
}

// Prepare binds one statement. A query comes back as its optimized plan,
// not started (res has only the SQL); any other statement runs and its
// result comes back (plan is nil).
func (s *Session) Prepare(ctx context.Context, p *sql.Parsed) (plan logical.Plan, res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			plan, res, err = nil, nil, fmt.Errorf("%w while planning %q: %v (please report this)", ErrInternal, oneLine(p.SQL), r)
		}
	}()
	st, err := sql.Bind(p, s.Catalog)
	if err != nil {
		return nil, nil, err
	}
	res = &Result{SQL: p.SQL}
	if q, ok := st.(*sql.Query); ok {
		plan, err := s.optimize(ctx, q.Plan)
		if err != nil {
			return nil, nil, err
		}
		return plan, res, nil
	}
	res, err = s.runStatement(ctx, res, st)
	return nil, res, err
}

// PlanSubstrait reads and optimizes a Substrait plan.
func (s *Session) PlanSubstrait(plan []byte) (logical.Plan, error) {
	p, err := consumer.FromBytes(plan, s.Catalog)
	if err != nil {
		return nil, err
	}
	return s.optimize(context.Background(), p)
}

// runStatement runs a statement other than a query.
func (s *Session) runStatement(ctx context.Context, res *Result, st sql.Statement) (*Result, error) {
	switch x := st.(type) {
	case *sql.CreateExternalTable:
		if x.IfNotExists {
			if _, ok := s.Catalog.LookupTable(x.Name); ok {
				return s.message(res)
			}
		}
		if err := s.Catalog.RegisterLocation(ctx, x.Name, x.Format, x.Location, x.Options, x.Columns, x.OrReplace); err != nil {
			return nil, err
		}
		res.Changed = true
		return s.message(res)
	case *sql.DropTable:
		if err := s.Catalog.Drop(x.Name, x.IfExists); err != nil {
			return nil, err
		}
		res.Changed = true
		return s.message(res)
	case *sql.CreateView:
		if err := s.Catalog.CreateView(x.Name, x.SQL, x.OrReplace); err != nil {
			return nil, err
		}
		res.Changed = true
		return s.message(res)
	case *sql.DropView:
		if err := s.Catalog.DropView(x.Name, x.IfExists); err != nil {
			return nil, err
		}
		res.Changed = true
		return s.message(res)
	case *sql.ShowTables:
		names := s.Catalog.TableNames()
		return s.table(res, []string{"table_name"}, func(add func(...string)) {
			for _, n := range names {
				add(n)
			}
		})
	case *sql.Describe:
		var schema *logical.Schema
		if x.Query != nil {
			schema = x.Query.Schema()
		} else {
			t, ok := s.Catalog.LookupTable(x.Table)
			if !ok {
				return nil, fmt.Errorf("table %q %w", x.Table, catalog.ErrNotFound)
			}
			schema = logical.FromArrow(t.Schema, t.Name)
		}
		return s.table(res, []string{"column_name", "data_type", "is_nullable"}, func(add func(...string)) {
			for _, f := range schema.Fields {
				n := "NO"
				if f.Nullable {
					n = "YES"
				}
				add(f.Name, f.Type.String(), n)
			}
		})
	case *sql.Explain:
		return s.explain(ctx, res, x)
	case *sql.Set:
		if err := s.set(x.Name, x.Value); err != nil {
			return nil, err
		}
		res.Changed = true
		return s.message(res)
	default:
		return nil, fmt.Errorf("not supported: statement %T", st)
	}
}

func (s *Session) set(name, value string) error {
	switch strings.ToLower(name) {
	case "memory_limit":
		n, err := ParseBytes(value)
		if err != nil {
			return err
		}
		s.Options.MemoryLimit = n
	case "target_partitions":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("target_partitions must be a positive integer, got %q", value)
		}
		s.Options.Partitions = n
	default:
		return fmt.Errorf("not supported: setting %q (known: memory_limit, target_partitions)", name)
	}
	return nil
}

func (s *Session) explain(ctx context.Context, res *Result, x *sql.Explain) (*Result, error) {
	plan, err := s.optimize(ctx, x.Query)
	if err != nil {
		return nil, err
	}
	type row struct{ kind, text string }
	var rows []row
	if x.Analyze {
		o := s.Options
		o.Analyze = true
		stream, err := s.Exec.Execute(ctx, plan, o)
		if err != nil {
			return nil, err
		}
		for {
			_, err := stream.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				stream.Close()
				return nil, err
			}
		}
		text := s.Exec.Analyze(stream)
		stream.Close()
		rows = append(rows, row{"Plan with Metrics", text})
	} else {
		f := strings.ToLower(x.Format)
		if f == "" || f == "logical" {
			if x.Verbose {
				rows = append(rows, row{"initial_logical_plan", logical.Format(x.Query)})
			}
			rows = append(rows, row{"logical_plan", logical.Format(plan)})
		}
		if f == "" || f == "physical" {
			text, err := s.Exec.ExplainPhysical(plan, s.Options)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row{"physical_plan", text})
		}
		if f == "substrait" {
			js, err := producer.ToJSON(plan)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row{"substrait_plan", string(js)})
		}
	}
	return s.table(res, []string{"plan_type", "plan"}, func(add func(...string)) {
		for _, r := range rows {
			add(r.kind, r.text)
		}
	})
}

// message returns an empty result for a statement that only has an effect.
func (s *Session) message(res *Result) (*Result, error) {
	res.Stream = NewBatchStream(arrow.NewSchema(nil, nil), nil)
	return res, nil
}

// table builds a small all-string result.
func (s *Session) table(res *Result, cols []string, fill func(add func(...string))) (*Result, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c, Type: arrow.BinaryTypes.String}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(s.alloc, schema)
	defer b.Release()
	fill(func(vals ...string) {
		for i, v := range vals {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	})
	rec := b.NewRecordBatch()
	res.Stream = NewBatchStream(schema, []arrow.RecordBatch{rec})
	return res, nil
}

// ParseBytes parses sizes such as 512MB, 2GiB, 1g or 1048576.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q (examples: 512MB, 4GiB, 1048576)", s)
	}
	return int64(v * float64(mult)), nil
}

// BatchStream serves prepared batches; it owns them and releases them on
// Close.
type BatchStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	i       int
}

// NewBatchStream wraps batches (ownership passes to the stream).
func NewBatchStream(schema *arrow.Schema, batches []arrow.RecordBatch) *BatchStream {
	return &BatchStream{schema: schema, batches: batches}
}

func (b *BatchStream) Schema() *arrow.Schema { return b.schema }

func (b *BatchStream) Next(context.Context) (arrow.RecordBatch, error) {
	if b.i >= len(b.batches) {
		return nil, io.EOF
	}
	b.i++
	return b.batches[b.i-1], nil
}

func (b *BatchStream) Close() error {
	for _, r := range b.batches {
		r.Release()
	}
	b.batches = nil
	return nil
}
