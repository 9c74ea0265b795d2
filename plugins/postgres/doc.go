// Package postgres is Arbalest's bundled PostgreSQL data source plugin
// (pgx, binary protocol). The host runs it as `arbalest plugin serve
// postgres`; Plugin returns it.
//
// # Tables
//
//	CREATE EXTERNAL TABLE orders STORED AS postgres
//	OPTIONS (dsn 'postgres://user:secret@db:5432/shop', table 'public.orders',
//	         partition_column 'o_orderkey', partitions '8');
//
// Options:
//
//	dsn               libpq connection string (URL or key=value); LOCATION
//	                  may hold it instead. pgx reads PGPASSWORD, ~/.pgpass,
//	                  sslmode, connect_timeout etc. as libpq does.
//	table             schema.name (resolved with to_regclass: PostgreSQL's
//	                  quoting and search_path rules); tables, views,
//	                  materialized views, foreign and partitioned tables.
//	query             a SELECT, read as a subquery (instead of table).
//	partition_column  integer, date or timestamp column the splits cut by
//	                  ranges (default: the table's single-column primary key
//	                  when it has such a type).
//	partitions        number of key ranges (1..1024; default: the engine's
//	                  parallelism, at most one range per 50,000 estimated
//	                  rows, and one for a scan with a pushed limit).
//	connect_timeout   seconds (default: the DSN's, else 10).
//	batch_rows        rows per Arrow batch (default 65536).
//	unsupported_types 'error' (default) or 'text': read columns of unmapped
//	                  types as their PostgreSQL text form.
//
// # Types
//
//	int2, int4, int8           int16, int32, int64
//	float4, float8             float32, float64
//	numeric(p, s), p <= 38     decimal128(p, s)
//	numeric                    decimal128(38, 10): cast to numeric(38,10) in
//	                           SQL (rounded; > 28 integer digits is an error)
//	text, varchar, name        utf8
//	char(n) / bpchar           utf8 without the trailing blank padding
//	bool                       bool
//	date                       date32
//	timestamp                  timestamp(us)
//	timestamptz                timestamp(us, "UTC")
//	bytea                      binary
//	domains                    as their base type
//
// Other types (numeric wider than 38 digits or with a negative scale,
// time, interval, uuid, json, arrays, enums, ...) fail Schema with an
// error naming the column and its type, unless unsupported_types is
// 'text'. Infinite dates and timestamps and NaN or infinite numerics fail
// the read of the split that meets them, naming the column.
//
// # Pushdown
//
// Projection: only the needed columns are selected (quoted identifiers).
// Filters: comparisons (equal, not_equal, lt, lte, gt, gte,
// is_distinct_from, is_not_distinct_from), between, and, or, not,
// is_null, is_not_null, is_true/false, like (case-sensitive), IN lists,
// widening casts, over columns and literals of every mapped type, become
// SQL with typed parameters ($1::int8 ...), never spliced values. A filter
// translated whole is Exact; a conjunction of which some parts translate
// pushes those parts (Inexact); anything else is Unsupported. See
// translate.go for the rules that keep PostgreSQL's answers equal to
// Arbalest's (byte-order string comparison, LIKE escapes, char padding).
// Limit: pushed as LIMIT n into every split, only when every filter is
// Exact (the engine keeps its own Limit above).
//
// # Splits
//
// With a partition key and more than one partition, PlanScan reads the
// key's min and max and cuts them into ranges, the first and last open
// (key < b1, ..., key >= b(n-1)) plus a key IS NULL split for a nullable
// key, so every row is read exactly once even if keys changed since
// planning. Otherwise there is one split. Each split is a self-contained
// JSON ticket: the DSN, the SQL, its parameters and the output columns.
// Tickets carry the DSN with its password (encrypting them is out of
// scope); to keep passwords out of them, leave the password out of the DSN
// and give it through PGPASSWORD or ~/.pgpass where the plugin runs.
// A split runs as one unnamed statement, so splits of one scan may see
// different snapshots if the table changes while they run.
//
// # Connections and errors
//
// Connections are pooled per DSN inside the plugin process (a few idle
// ones, checked before reuse). Connecting is bounded by connect_timeout;
// TCP keep-alives detect a vanished server; a cancelled context sends
// the server a cancel request and closes the socket within seconds.
// Sessions are read-only (default_transaction_read_only) with TimeZone
// UTC. Passwords are removed from every error and from EXPLAIN; the
// plugin logs nothing.
package postgres
