package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	plugin "github.com/arbalest/arbalest/plugins/author"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/substrait-io/substrait-go/v8/expr"
)

// Name is the plugin's name: CREATE EXTERNAL TABLE ... STORED AS postgres.
const Name = "postgres"

// Version is the plugin's version (EXPLAIN and messages).
const Version = "1.0.0"

// Plugin returns the bundled PostgreSQL data source plugin.
func Plugin() *plugin.Plugin {
	return &plugin.Plugin{Name: Name, Version: Version, Source: New()}
}

// Source is the PostgreSQL data source. It is safe for concurrent use.
type Source struct {
	pool *pool
	mem  memory.Allocator
}

var _ plugin.DataSource = (*Source)(nil)

// New returns a data source with its own connection pool.
func New() *Source { return NewWithAllocator(memory.DefaultAllocator) }

// NewWithAllocator is New with the allocator of the batches ReadSplit
// builds.
func NewWithAllocator(mem memory.Allocator) *Source {
	return &Source{pool: newPool(), mem: mem}
}

// Close closes the idle connections.
func (s *Source) Close() { s.pool.closeAll() }

// session is a connection taken from the pool for one call.
type session struct {
	s       *Source
	cfg     *tableConfig
	red     redactor
	target  string
	conn    *pgx.Conn
	healthy bool
}

func (s *Source) open(ctx context.Context, t plugin.Table) (*session, error) {
	cfg, err := parseTable(t)
	if err != nil {
		return nil, err
	}
	ss := &session{s: s, cfg: cfg, red: newRedactor(cfg.dsn), target: describeDSN(cfg.dsn)}
	// Planning runs several statements and does not retry: a reused
	// connection is pinged first.
	ss.conn, err = s.pool.acquire(ctx, cfg.dsn, cfg.connectTimeout, 0)
	if err != nil {
		return nil, ss.red.err(err, "postgres: connecting to %s", ss.target)
	}
	return ss, nil
}

func (ss *session) close() {
	ss.s.pool.release(ss.cfg.dsn, ss.cfg.connectTimeout, ss.conn, ss.healthy)
}

// fail wraps an error with the connection target, password-free.
func (ss *session) fail(err error) error {
	return ss.red.err(err, "postgres (%s)", ss.target)
}

// Schema returns the table's columns mapped to Arrow and the catalog's row
// estimate.
func (s *Source) Schema(ctx context.Context, t plugin.Table) (*arrow.Schema, plugin.Statistics, error) {
	ss, err := s.open(ctx, t)
	if err != nil {
		return nil, plugin.Unknown, err
	}
	defer ss.close()
	src, err := describe(ctx, ss.conn, ss.cfg)
	if err != nil {
		return nil, plugin.Unknown, ss.fail(err)
	}
	ss.healthy = true
	return src.schema(), plugin.Statistics{RowCount: src.rows, TotalBytes: src.bytes}, nil
}

// PlanScan decides the SQL of a scan: the projected columns, the filters
// PostgreSQL applies, the limit, and the key-range splits.
func (s *Source) PlanScan(ctx context.Context, req *plugin.ScanRequest) (*plugin.ScanPlan, error) {
	if req == nil {
		return nil, fmt.Errorf("postgres: nil scan request")
	}
	ss, err := s.open(ctx, req.Table)
	if err != nil {
		return nil, err
	}
	defer ss.close()
	plan, err := ss.plan(ctx, req)
	if err != nil {
		return nil, ss.fail(err)
	}
	ss.healthy = true
	return plan, nil
}

// scanSQL is a scan's statement without the split predicate.
type scanSQL struct {
	src        *source
	projection []int
	// where are pushed filter predicates; params their parameters.
	where  []string
	params []param
	limit  int64
}

// statement renders the SELECT with an extra predicate (a split's range),
// whose parameters follow the filters'.
func (q *scanSQL) statement(extra string) string {
	var b strings.Builder
	b.WriteString("SELECT")
	for i, ci := range q.projection {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" ")
		c := &q.src.columns[ci]
		b.WriteString(c.expr)
		if c.expr != quoteIdent(c.name) {
			b.WriteString(" AS ")
			b.WriteString(quoteIdent(c.name))
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(q.src.from)
	conds := q.where
	if extra != "" {
		conds = append(conds[:len(conds):len(conds)], extra)
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	if q.limit >= 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.FormatInt(q.limit, 10))
	}
	return b.String()
}

func (ss *session) plan(ctx context.Context, req *plugin.ScanRequest) (*plugin.ScanPlan, error) {
	src, err := describe(ctx, ss.conn, ss.cfg)
	if err != nil {
		return nil, err
	}
	if err := src.checkSchema(req.Schema); err != nil {
		return nil, err
	}
	q := &scanSQL{src: src, limit: req.Limit}
	if req.Projection == nil {
		q.projection = make([]int, len(src.columns))
		for i := range q.projection {
			q.projection[i] = i
		}
	} else {
		for _, i := range req.Projection {
			if i < 0 || i >= len(src.columns) {
				return nil, fmt.Errorf("projection index %d out of range: %s has %d columns", i, src.label, len(src.columns))
			}
		}
		q.projection = append([]int{}, req.Projection...)
	}

	// Filters: each one translated whole is Exact. A conjunction of which
	// only some parts translate pushes those parts (Inexact: PostgreSQL
	// drops fewer rows than the filter would).
	tr := &translator{cols: src.columns}
	verdicts := make([]plugin.Verdict, len(req.Filters))
	var notPushed []string
	allExact := true
	for i, f := range req.Filters {
		sql, err := tr.filter(f)
		if err == nil {
			q.where = append(q.where, sql)
			verdicts[i] = plugin.Exact
			continue
		}
		allExact = false
		notPushed = append(notPushed, strings.TrimPrefix(err.Error(), errUnsupported.Error()+": "))
		if parts := tr.conjuncts(f); len(parts) > 0 {
			q.where = append(q.where, parts...)
			verdicts[i] = plugin.Inexact
		}
	}
	q.params = tr.params
	// The limit holds only for rows that pass every filter; with a filter
	// left to the engine, PostgreSQL must return all candidates.
	if !allExact || q.limit < 0 {
		q.limit = -1
	}

	// Estimates (and an early check of the SQL): PostgreSQL's own plan.
	rows, err := ss.estimateRows(ctx, q)
	if err != nil && len(q.where) > 0 {
		// A pushed filter PostgreSQL rejects at planning (it should not
		// happen) is left to the engine rather than failing the query.
		notPushed = append(notPushed, "PostgreSQL rejected the pushed filters: "+ss.red.text(err.Error()))
		q.where, q.params, q.limit = nil, nil, -1
		for i := range verdicts {
			verdicts[i] = plugin.Unsupported
		}
		rows, err = ss.estimateRows(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("planning the scan of %s: %w", src.label, err)
	}
	if len(req.Filters) == 0 && src.rows >= 0 {
		rows = src.rows
	}
	if q.limit >= 0 && (rows < 0 || rows > q.limit) {
		rows = q.limit
	}

	key, ranges, err := ss.partition(ctx, src, q, rows, req.Parallelism)
	if err != nil {
		return nil, err
	}

	plan := &plugin.ScanPlan{Verdicts: verdicts, Stats: plugin.Statistics{RowCount: rows, TotalBytes: -1}}
	if len(req.Filters) == 0 && req.Projection == nil {
		plan.Stats.TotalBytes = src.bytes
	}
	cols := make([]ticketColumn, len(q.projection))
	for i, ci := range q.projection {
		c := &src.columns[ci]
		cols[i] = ticketColumn{Name: c.name, OID: c.oid, Precision: c.precision, Scale: c.scale, Nullable: c.nullable}
	}
	var labels []string
	for i, r := range ranges {
		label := src.label
		extra, params := "", q.params
		if key >= 0 {
			c := &src.columns[key]
			var ps []param
			extra, ps = rangeSQL(keyKindOf(c), c, r, len(q.params)+1)
			params = append(params[:len(params):len(params)], ps...)
			labels = append(labels, rangeLabel(keyKindOf(c), c, r))
			label = fmt.Sprintf("%s, split %d of %d (%s %s)", src.label, i+1, len(ranges), quoteIdent(c.name), labels[i])
		}
		tk := &ticket{
			Version: ticketVersion, DSN: ss.cfg.dsn, ConnectTimeoutMS: ss.cfg.connectTimeout.Milliseconds(),
			SQL: q.statement(extra), Params: params, Columns: cols, BatchRows: ss.cfg.batchRows, Label: label,
		}
		b, err := tk.encode()
		if err != nil {
			return nil, err
		}
		splitRows := int64(-1)
		if rows >= 0 {
			splitRows = int64(math.Ceil(float64(rows) / float64(len(ranges))))
		}
		plan.Splits = append(plan.Splits, plugin.Split{Ticket: b, Stats: plugin.Statistics{RowCount: splitRows, TotalBytes: -1}})
	}
	plan.Explain = explain(ss.target, q, key, labels, notPushed)
	return plan, nil
}

// conjuncts translates the parts of a top-level AND that translate on
// their own.
func (t *translator) conjuncts(e expr.Expression) []string {
	f, ok := e.(*expr.ScalarFunction)
	if !ok || f.Name() != "and" || len(f.GetOptions()) > 0 {
		return nil
	}
	var out []string
	for i := range f.NArgs() {
		a, ok := f.Arg(i).(expr.Expression)
		if !ok {
			continue
		}
		if sql, err := t.filter(a); err == nil {
			out = append(out, sql)
		} else if sub := t.conjuncts(a); len(sub) > 0 {
			out = append(out, sub...)
		}
	}
	return out
}

// partition chooses the key column and its ranges. key is -1 for one
// split without a range.
func (ss *session) partition(ctx context.Context, src *source, q *scanSQL, rows int64, parallelism int) (int, []keyRange, error) {
	one := []keyRange{{}}
	key := -1
	if name := ss.cfg.partitionColumn; name != "" {
		i, ok := findColumn(src.columns, name)
		if !ok {
			return -1, nil, fmt.Errorf("%w: partition_column %q is not a column of %s", ErrOptions, name, src.label)
		}
		if keyKindOf(&src.columns[i]) == keyNone {
			return -1, nil, fmt.Errorf("%w: partition_column %s has type %s; it must be an integer, date or timestamp column",
				ErrOptions, quoteIdent(src.columns[i].name), src.columns[i].typeName)
		}
		key = i
	}
	n := ss.cfg.partitions
	if n == 0 {
		n = parallelism
		if q.limit >= 0 {
			// A limited scan reads little: one query is cheaper than many.
			n = 1
		}
		if rows >= 0 {
			n = min(n, int((rows+minRowsPerSplit-1)/minRowsPerSplit))
		}
		n = min(n, maxPartitions)
	}
	if n <= 1 {
		return -1, one, nil
	}
	if key < 0 {
		pk, err := primaryKeyColumn(ctx, ss.conn, src)
		if err != nil {
			return -1, nil, err
		}
		if pk < 0 || keyKindOf(&src.columns[pk]) == keyNone {
			return -1, one, nil
		}
		key = pk
	}
	c := &src.columns[key]
	k := keyKindOf(c)
	lo, hi, ok, err := keyBounds(ctx, ss.conn, src, c, k)
	if err != nil {
		return -1, nil, err
	}
	var ranges []keyRange
	if ok {
		ranges = cutRanges(lo, hi, n)
	} else {
		ranges = one
	}
	if len(ranges) == 1 {
		// One range covers every key, NULLs included.
		return -1, one, nil
	}
	if c.nullable {
		ranges = append(ranges, keyRange{nulls: true})
	}
	return key, ranges, nil
}

// estimateRows asks PostgreSQL's planner how many rows the scan returns
// (-1 when it does not say). It also checks the SQL before any split runs.
func (ss *session) estimateRows(ctx context.Context, q *scanSQL) (int64, error) {
	values, oids := encodeParams(q.params)
	res := ss.conn.PgConn().ExecParams(ctx, "EXPLAIN (FORMAT JSON) "+q.statement(""), values, oids, nil, nil).Read()
	if res.Err != nil {
		return -1, res.Err
	}
	if len(res.Rows) == 0 || len(res.Rows[0]) == 0 {
		return -1, nil
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(res.Rows[0][0], &out); err != nil || len(out) == 0 {
		return -1, nil
	}
	return int64(math.Round(out[0].Plan.Rows)), nil
}

// encodeParams gives parameters to pgconn: text values with their types.
func encodeParams(ps []param) ([][]byte, []uint32) {
	values := make([][]byte, len(ps))
	oids := make([]uint32, len(ps))
	for i, p := range ps {
		if p.Value != nil {
			values[i] = []byte(*p.Value)
		}
		oids[i] = paramOIDs[p.Type]
	}
	return values, oids
}

// explain renders the plan for EXPLAIN: the statement with its parameter
// values, the splits, and the filters left to the engine.
func explain(target string, q *scanSQL, key int, ranges []string, notPushed []string) string {
	var b strings.Builder
	stmt := q.statement("")
	const maxSQL = 4000
	if len(stmt) > maxSQL {
		cut := maxSQL
		for cut > 0 && !utf8.RuneStart(stmt[cut]) {
			cut--
		}
		stmt = fmt.Sprintf("%s… (%d bytes)", stmt[:cut], len(stmt))
	}
	b.WriteString(stmt)
	if len(q.params) > 0 {
		b.WriteString(" [")
		for i, p := range q.params {
			if i > 0 {
				b.WriteString(", ")
			}
			if i == 20 {
				fmt.Fprintf(&b, "… %d more", len(q.params)-i)
				break
			}
			fmt.Fprintf(&b, "$%d=%s", i+1, p.display())
		}
		b.WriteString("]")
	}
	if key >= 0 {
		fmt.Fprintf(&b, "; %d splits on %s: %s", len(ranges), quoteIdent(q.src.columns[key].name), strings.Join(ranges, " | "))
	} else {
		b.WriteString("; 1 split")
	}
	if len(notPushed) > 0 {
		fmt.Fprintf(&b, "; left to the engine: %s", strings.Join(notPushed, "; "))
	}
	b.WriteString("; on ")
	b.WriteString(target)
	return b.String()
}

// ReadSplit runs a split's statement and streams its rows as Arrow
// batches.
func (s *Source) ReadSplit(ctx context.Context, split []byte, emit func(arrow.RecordBatch) error) error {
	tk, schema, err := decodeTicket(split)
	if err != nil {
		return err
	}
	red := newRedactor(tk.DSN)
	where := fmt.Sprintf("%s on %s", tk.Label, describeDSN(tk.DSN))
	oids := make([]uint32, len(tk.Columns))
	for i, c := range tk.Columns {
		oids[i] = c.OID
	}
	values, poids := encodeParams(tk.Params)
	for attempt := 0; ; attempt++ {
		var conn *pgx.Conn
		if attempt == 0 {
			conn, err = s.pool.acquire(ctx, tk.DSN, tk.connectTimeout(), readPingAfter)
		} else {
			conn, err = s.pool.connect(ctx, tk.DSN, tk.connectTimeout())
		}
		if err != nil {
			return red.err(err, "postgres: connecting to read %s", where)
		}
		emitted := false
		validate := conn.PgConn().ParameterStatus("server_encoding") != "UTF8"
		rr := conn.PgConn().ExecParams(ctx, tk.SQL, values, poids, nil, []int16{1})
		err = streamRows(ctx, s.mem, rr, schema, oids, tk.BatchRows, validate, func(rec arrow.RecordBatch) error {
			emitted = true
			return emit(rec)
		})
		if err == nil {
			s.pool.release(tk.DSN, tk.connectTimeout(), conn, true)
			return nil
		}
		dead := conn.IsClosed()
		if ctx.Err() == nil && !dead {
			// The statement may still be running (emit failed, a value was
			// bad): ask the server to stop it; the connection is dropped.
			cctx, cancel := context.WithTimeout(context.Background(), cancelDeadline)
			_ = conn.PgConn().CancelRequest(cctx)
			cancel()
		}
		s.pool.release(tk.DSN, tk.connectTimeout(), conn, false)
		if attempt == 0 && !emitted && ctx.Err() == nil && (dead || pgconn.SafeToRetry(err)) {
			// The connection died before any row reached the engine (a
			// pooled connection the server dropped while it was idle, a
			// server restart): the statement is a read, so running it
			// again on a new connection is safe. Once rows were emitted,
			// a retry would duplicate them, so the error stands.
			continue
		}
		if ctx.Err() != nil {
			return red.err(fmt.Errorf("%w (%v)", ctx.Err(), err), "postgres: reading %s", where)
		}
		return red.err(err, "postgres: reading %s", where)
	}
}
