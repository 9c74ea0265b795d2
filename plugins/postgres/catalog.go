package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
)

// Type OIDs of the PostgreSQL types the plugin maps (pg_type.oid; fixed
// since PostgreSQL 7).
const (
	oidBool        uint32 = 16
	oidBytea       uint32 = 17
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidBPChar      uint32 = 1042
	oidVarchar     uint32 = 1043
	oidDate        uint32 = 1082
	oidTimestamp   uint32 = 1114
	oidTimestamptz uint32 = 1184
	oidNumeric     uint32 = 1700
)

// Unconstrained numeric (no precision in the column type) is read as
// decimal(38, 10): the widest Arrow decimal128, with ten fractional digits.
// The column is cast to numeric(38,10) in SQL, so PostgreSQL rounds the
// values (half away from zero) and reports "numeric field overflow" for a
// value with more than 28 integer digits. Pushed filters compare the same
// rounded value the engine sees.
const (
	unconstrainedPrecision = 38
	unconstrainedScale     = 10
)

// ErrUnsupportedType marks a column whose type has no Arrow mapping.
var ErrUnsupportedType = errors.New("unsupported PostgreSQL column type")

// ErrNotFound marks a table that does not exist (or is not visible).
var ErrNotFound = errors.New("table not found")

// column is one column of a source, as the plugin reads it.
type column struct {
	name string
	// typeName is the column's declared type (format_type), for messages.
	typeName string
	// oid is the type the SELECT returns (after the cast in expr, if any):
	// one of the oid constants above.
	oid uint32
	// precision and scale of numeric columns.
	precision, scale int32
	arrow            arrow.DataType
	nullable         bool
	// expr selects the column (a quoted name, maybe with a cast). Filters
	// and splits use it too, so they see the values the engine sees.
	expr string
	// nondeterministic: the column's collation compares strings that are
	// not byte-equal as equal (PostgreSQL 12+ ICU collations), so even
	// equality needs COLLATE "C".
	nondeterministic bool
}

func (c *column) isString() bool { return c.oid == oidText }

// source is a resolved table or query.
type source struct {
	// from is the FROM item: "schema"."table" or (query) AS "q".
	from string
	// label names the source in messages and EXPLAIN: schema.table or
	// "query".
	label string
	// relOID is the table's oid (0 for a query).
	relOID  uint32
	columns []column
	// rows and bytes are catalog estimates, -1 when unknown.
	rows, bytes int64
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// arrowType maps a column type to Arrow. base is the type after domains are
// unwrapped. It returns the type, the wire type the SELECT produces, the
// cast that produces it ("" when the column is read as is), and precision
// and scale for numerics. ok is false for unmapped types.
func arrowType(base uint32, typmod int32) (t arrow.DataType, wire uint32, cast string, p, s int32, ok bool) {
	switch base {
	case oidBool:
		return arrow.FixedWidthTypes.Boolean, oidBool, "", 0, 0, true
	case oidInt2:
		return arrow.PrimitiveTypes.Int16, oidInt2, "", 0, 0, true
	case oidInt4:
		return arrow.PrimitiveTypes.Int32, oidInt4, "", 0, 0, true
	case oidInt8:
		return arrow.PrimitiveTypes.Int64, oidInt8, "", 0, 0, true
	case oidFloat4:
		return arrow.PrimitiveTypes.Float32, oidFloat4, "", 0, 0, true
	case oidFloat8:
		return arrow.PrimitiveTypes.Float64, oidFloat8, "", 0, 0, true
	case oidText:
		return arrow.BinaryTypes.String, oidText, "", 0, 0, true
	case oidVarchar, oidName:
		// Same bytes as text; the cast only relabels (indexes still apply).
		return arrow.BinaryTypes.String, oidText, "text", 0, 0, true
	case oidBPChar:
		// char(n) values are blank-padded, and PostgreSQL ignores the
		// padding when comparing them. The cast to text drops trailing
		// blanks (PostgreSQL's own char-to-text rule), so the engine sees
		// 'abc', not 'abc  ', and pushed comparisons agree with it.
		return arrow.BinaryTypes.String, oidText, "text", 0, 0, true
	case oidBytea:
		return arrow.BinaryTypes.Binary, oidBytea, "", 0, 0, true
	case oidDate:
		return arrow.FixedWidthTypes.Date32, oidDate, "", 0, 0, true
	case oidTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}, oidTimestamp, "", 0, 0, true
	case oidTimestamptz:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, oidTimestamptz, "", 0, 0, true
	case oidNumeric:
		if typmod < 4 {
			p, s = unconstrainedPrecision, unconstrainedScale
			return &arrow.Decimal128Type{Precision: p, Scale: s}, oidNumeric, fmt.Sprintf("numeric(%d,%d)", p, s), p, s, true
		}
		m := typmod - 4
		p = (m >> 16) & 0xffff
		s = m & 0x7ff
		if s&0x400 != 0 { // PostgreSQL 15+ allows negative scales (11-bit signed)
			s -= 0x800
		}
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, 0, "", 0, 0, false
		}
		return &arrow.Decimal128Type{Precision: p, Scale: s}, oidNumeric, "", p, s, true
	}
	return nil, 0, "", 0, 0, false
}

// rawColumn is a column as the catalog or a statement description gives it.
type rawColumn struct {
	name     string
	typeName string
	typeOID  uint32
	// baseOID and baseTypmod are the type under a domain (the same as the
	// column's type otherwise).
	baseOID          uint32
	baseTypmod       int32
	domain           bool
	notNull          bool
	nondeterministic bool
}

// mapColumn turns a catalog column into a plugin column; ref is the SQL
// that names it.
func mapColumn(rc rawColumn, ref string, asText bool, label string) (column, error) {
	c := column{name: rc.name, typeName: rc.typeName, nullable: !rc.notNull, nondeterministic: rc.nondeterministic}
	t, wire, cast, p, s, ok := arrowType(rc.baseOID, rc.baseTypmod)
	switch {
	case ok:
		c.arrow, c.oid, c.precision, c.scale = t, wire, p, s
		if cast == "" && rc.domain {
			// Read a domain as its base type so the wire type is the one
			// the decoder expects.
			cast = baseTypeName(wire, p, s)
		}
	case asText:
		c.arrow, c.oid, cast = arrow.BinaryTypes.String, oidText, "text"
	default:
		return column{}, fmt.Errorf("%w: column %s of %s has type %s; read it through the query option with a cast "+
			"(for example query 'SELECT %s::text AS %s ...'), or set OPTIONS (unsupported_types 'text') to read such columns as text",
			ErrUnsupportedType, quoteIdent(rc.name), label, rc.typeName, quoteIdent(rc.name), quoteIdent(rc.name))
	}
	c.expr = ref
	if cast != "" {
		c.expr = ref + "::" + cast
	}
	if c.nondeterministic && c.oid == oidText {
		c.expr = "(" + c.expr + ` COLLATE "C")`
	}
	return c, nil
}

// baseTypeName is the SQL name of a wire type.
func baseTypeName(oid uint32, p, s int32) string {
	switch oid {
	case oidNumeric:
		return fmt.Sprintf("numeric(%d,%d)", p, s)
	case oidTimestamptz:
		return "timestamptz"
	case oidTimestamp:
		return "timestamp"
	}
	return pgTypeNames[oid]
}

var pgTypeNames = map[uint32]string{
	oidBool: "bool", oidBytea: "bytea", oidInt2: "int2", oidInt4: "int4", oidInt8: "int8", oidText: "text",
	oidFloat4: "float4", oidFloat8: "float8", oidDate: "date", oidTimestamp: "timestamp", oidTimestamptz: "timestamptz",
	oidNumeric: "numeric",
}

// describe resolves a table definition to its columns and estimates.
func describe(ctx context.Context, conn *pgx.Conn, cfg *tableConfig) (*source, error) {
	if cfg.table != "" {
		return describeTable(ctx, conn, cfg)
	}
	return describeQuery(ctx, conn, cfg)
}

func describeTable(ctx context.Context, conn *pgx.Conn, cfg *tableConfig) (*source, error) {
	src := &source{rows: -1, bytes: -1}
	var nsp, rel, kind string
	var reltuples float64
	var size int64
	// to_regclass parses the name as PostgreSQL does (quoting, search_path)
	// and gives NULL for a missing table instead of an error.
	err := conn.QueryRow(ctx, `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.reltuples::float8,
       CASE WHEN c.relkind IN ('r', 'm', 't') THEN pg_relation_size(c.oid) ELSE -1 END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1::text)`, cfg.table).Scan(&src.relOID, &nsp, &rel, &kind, &reltuples, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: '%s' (no such table, view or materialized view is visible to this user; "+
			"write it as schema.name, with double quotes for mixed-case names)", ErrNotFound, cfg.table)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up table '%s': %w", cfg.table, err)
	}
	switch kind {
	case "r", "v", "m", "f", "p":
	default:
		return nil, fmt.Errorf("'%s' is not a table or view (relkind %s)", cfg.table, kind)
	}
	src.label = nsp + "." + rel
	src.from = quoteIdent(nsp) + "." + quoteIdent(rel)
	// reltuples is -1 (PostgreSQL 14+) or 0 with no pages (older) before
	// the first VACUUM or ANALYZE; views have no estimate at all.
	if reltuples >= 0 && kind != "v" && kind != "p" && kind != "f" && !(reltuples == 0 && size == 0) {
		src.rows = int64(math.Round(reltuples))
	}
	if size >= 0 && kind != "p" {
		src.bytes = size
	}
	rows, err := conn.Query(ctx, `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid,
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
       t.typtype = 'd', a.attnotnull, NOT COALESCE(co.collisdeterministic, true)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, src.relOID)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", src.label, err)
	}
	var raws []rawColumn
	for rows.Next() {
		var rc rawColumn
		if err := rows.Scan(&rc.name, &rc.typeName, &rc.typeOID, &rc.baseOID, &rc.baseTypmod, &rc.domain, &rc.notNull, &rc.nondeterministic); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the columns of %s: %w", src.label, err)
		}
		raws = append(raws, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", src.label, err)
	}
	if len(raws) == 0 {
		return nil, fmt.Errorf("%s has no columns", src.label)
	}
	for _, rc := range raws {
		c, err := mapColumn(rc, quoteIdent(rc.name), cfg.unsupportedAsText, src.label)
		if err != nil {
			return nil, err
		}
		src.columns = append(src.columns, c)
	}
	return src, nil
}

// queryAlias names the subquery of a query source.
const queryAlias = `"arbalest_q"`

func describeQuery(ctx context.Context, conn *pgx.Conn, cfg *tableConfig) (*source, error) {
	// The newline ends a trailing -- comment in the query.
	src := &source{label: "query", from: "(" + cfg.query + "\n) AS " + queryAlias, rows: -1, bytes: -1}
	// Describing the wrapped query checks that it is one SELECT that fits in
	// a subquery, without running it.
	desc, err := conn.PgConn().Prepare(ctx, "", "SELECT * FROM "+src.from, nil)
	if err != nil {
		return nil, fmt.Errorf("the query option does not describe as a subquery: %w", err)
	}
	if len(desc.ParamOIDs) > 0 {
		return nil, fmt.Errorf("the query option has $n parameters; write the values into it")
	}
	if len(desc.Fields) == 0 {
		return nil, fmt.Errorf("the query option returns no columns")
	}
	oids := make([]uint32, len(desc.Fields))
	mods := make([]int32, len(desc.Fields))
	seen := map[string]bool{}
	for i, f := range desc.Fields {
		if seen[f.Name] {
			return nil, fmt.Errorf("the query option returns two columns named %q; give them distinct aliases", f.Name)
		}
		seen[f.Name] = true
		oids[i], mods[i] = f.DataTypeOID, f.TypeModifier
	}
	rows, err := conn.Query(ctx, `
SELECT format_type(u.o, u.m),
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE u.o END,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE u.m END,
       COALESCE(t.typtype = 'd', false)
FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS u(o, m, i)
LEFT JOIN pg_type t ON t.oid = u.o
ORDER BY u.i`, oids, mods)
	if err != nil {
		return nil, fmt.Errorf("reading the types of the query's columns: %w", err)
	}
	i := 0
	for rows.Next() {
		if i >= len(desc.Fields) {
			rows.Close()
			return nil, fmt.Errorf("reading the types of the query's columns: more rows than columns")
		}
		rc := rawColumn{name: desc.Fields[i].Name, typeOID: oids[i]}
		if err := rows.Scan(&rc.typeName, &rc.baseOID, &rc.baseTypmod, &rc.domain); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the types of the query's columns: %w", err)
		}
		c, err := mapColumn(rc, quoteIdent(rc.name), cfg.unsupportedAsText, "the query")
		if err != nil {
			rows.Close()
			return nil, err
		}
		src.columns = append(src.columns, c)
		i++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the types of the query's columns: %w", err)
	}
	if i != len(desc.Fields) {
		return nil, fmt.Errorf("reading the types of the query's columns: %d of %d described", i, len(desc.Fields))
	}
	return src, nil
}

// schema is the Arrow schema of a source.
func (s *source) schema() *arrow.Schema {
	fs := make([]arrow.Field, len(s.columns))
	for i, c := range s.columns {
		fs[i] = arrow.Field{Name: c.name, Type: c.arrow, Nullable: c.nullable}
	}
	return arrow.NewSchema(fs, nil)
}

// checkSchema verifies that the schema the engine planned with (the
// table's schema when it was created) still matches the source.
func (s *source) checkSchema(want *arrow.Schema) error {
	if want == nil {
		return nil
	}
	if want.NumFields() != len(s.columns) {
		return fmt.Errorf("%s now has %d columns, the table was defined with %d: recreate the external table", s.label, len(s.columns), want.NumFields())
	}
	for i, f := range want.Fields() {
		c := s.columns[i]
		if f.Name != c.name || !arrow.TypeEqual(f.Type, c.arrow) {
			return fmt.Errorf("column %d of %s is now %s %s, the table was defined with %s %s: recreate the external table",
				i+1, s.label, quoteIdent(c.name), c.arrow, quoteIdent(f.Name), f.Type)
		}
	}
	return nil
}

// primaryKeyColumn returns the index of the table's single-column primary
// key, or -1.
func primaryKeyColumn(ctx context.Context, conn *pgx.Conn, src *source) (int, error) {
	if src.relOID == 0 {
		return -1, nil
	}
	var name string
	err := conn.QueryRow(ctx, `
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = $1 AND i.indisprimary AND i.indnkeyatts = 1`, src.relOID).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("looking up the primary key of %s: %w", src.label, err)
	}
	for i, c := range src.columns {
		if c.name == name {
			return i, nil
		}
	}
	return -1, nil
}
