package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	plugin "github.com/arbalest/arbalest/plugins/author"
	"github.com/jackc/pgx/v5/pgconn"
)

// Table options (CREATE EXTERNAL TABLE ... STORED AS postgres OPTIONS (...)).
const (
	optDSN              = "dsn"
	optTable            = "table"
	optQuery            = "query"
	optPartitionColumn  = "partition_column"
	optPartitions       = "partitions"
	optConnectTimeout   = "connect_timeout"
	optBatchRows        = "batch_rows"
	optUnsupportedTypes = "unsupported_types"
)

var knownOptions = []string{optBatchRows, optConnectTimeout, optDSN, optPartitionColumn, optPartitions, optQuery, optTable, optUnsupportedTypes}

const (
	// defaultConnectTimeout bounds connecting (TCP, TLS and authentication)
	// when neither the DSN nor the options say otherwise.
	defaultConnectTimeout = 10 * time.Second
	// defaultBatchRows is the number of rows per Arrow batch.
	defaultBatchRows = 64 * 1024
	// maxPartitions bounds the partitions option: each split is a query and
	// a connection.
	maxPartitions = 1024
)

// ErrOptions marks a table definition the plugin cannot use.
var ErrOptions = errors.New("invalid postgres table options")

// tableConfig is a parsed table definition.
type tableConfig struct {
	dsn string
	// table is the table option as written (resolved by the server with
	// to_regclass, so quoting and the search path follow PostgreSQL).
	table string
	// query is a SELECT read as a subquery.
	query           string
	partitionColumn string
	// partitions is the number of key-range splits; 0 means the engine's
	// parallelism decides.
	partitions     int
	connectTimeout time.Duration
	batchRows      int
	// unsupportedAsText reads columns of unmapped types as their text form
	// instead of failing.
	unsupportedAsText bool
}

func optionsError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, args...))
}

// parseTable reads a table definition. Option names are case-insensitive.
// Errors never contain the DSN.
func parseTable(t plugin.Table) (*tableConfig, error) {
	opts := make(map[string]string, len(t.Options))
	for k, v := range t.Options {
		key := strings.ToLower(strings.TrimSpace(k))
		if !slices.Contains(knownOptions, key) {
			return nil, optionsError("unknown option %q (known: %s)", k, strings.Join(knownOptions, ", "))
		}
		if _, dup := opts[key]; dup {
			return nil, optionsError("option %q given twice", key)
		}
		opts[key] = v
	}
	c := &tableConfig{batchRows: defaultBatchRows}
	loc := strings.TrimSpace(t.Location)
	c.dsn = strings.TrimSpace(opts[optDSN])
	switch {
	case c.dsn == "" && loc == "":
		return nil, optionsError("no connection string: give OPTIONS (dsn 'postgres://user@host:port/db') or LOCATION 'postgres://...'")
	case c.dsn == "":
		c.dsn = loc
	case loc != "" && loc != c.dsn:
		return nil, optionsError("LOCATION and the dsn option give two different connection strings; give one")
	}
	if _, err := pgconn.ParseConfig(c.dsn); err != nil {
		return nil, optionsError("the connection string does not parse: %s", redactText(err.Error(), dsnSecrets(c.dsn)))
	}
	c.table = strings.TrimSpace(opts[optTable])
	c.query = strings.TrimSpace(opts[optQuery])
	// A trailing semicolon is natural in a query but cannot sit inside a
	// subquery.
	for strings.HasSuffix(c.query, ";") {
		c.query = strings.TrimSpace(strings.TrimSuffix(c.query, ";"))
	}
	switch {
	case c.table == "" && c.query == "":
		return nil, optionsError("give the table to read (OPTIONS (table 'schema.name')) or a query (OPTIONS (query 'SELECT ...'))")
	case c.table != "" && c.query != "":
		return nil, optionsError("give either the table option or the query option, not both")
	}
	if strings.ContainsRune(c.table, 0) || strings.ContainsRune(c.query, 0) {
		return nil, optionsError("table and query must not contain NUL characters")
	}
	c.partitionColumn = opts[optPartitionColumn]
	if v, ok := opts[optPartitions]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxPartitions {
			return nil, optionsError("partitions must be an integer from 1 to %d, got %q", maxPartitions, v)
		}
		c.partitions = n
	}
	if v, ok := opts[optConnectTimeout]; ok {
		secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || secs <= 0 || secs > 3600 {
			return nil, optionsError("connect_timeout must be a number of seconds between 0 and 3600, got %q", v)
		}
		c.connectTimeout = time.Duration(secs * float64(time.Second))
	}
	if v, ok := opts[optBatchRows]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1<<20 {
			return nil, optionsError("batch_rows must be an integer from 1 to %d, got %q", 1<<20, v)
		}
		c.batchRows = n
	}
	switch v := strings.ToLower(strings.TrimSpace(opts[optUnsupportedTypes])); v {
	case "", "error":
	case "text":
		c.unsupportedAsText = true
	default:
		return nil, optionsError("unsupported_types must be 'error' or 'text', got %q", opts[optUnsupportedTypes])
	}
	return c, nil
}

// describeDSN renders a connection string without secrets, for messages
// and EXPLAIN: postgres://user@host:port/database.
func describeDSN(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "postgres://(unparsable connection string)"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "[" + host + "]"
	}
	u := url.URL{Scheme: "postgres", Host: host + ":" + strconv.Itoa(int(cfg.Port)), Path: "/" + cfg.Database}
	if cfg.User != "" {
		u.User = url.User(cfg.User)
	}
	return u.String()
}

// Patterns of passwords inside connection strings: URL user info, and
// password=... (keyword/value strings and URL query parameters, also
// sslpassword).
var (
	urlPasswordRE = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s"'` + "`" + `]*):[^@\s"'` + "`" + `]*@`)
	kvPasswordRE  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&"'` + "`" + `)]*)`)
)

// Passwords inside one connection string (to find them in unparsable
// strings).
var (
	dsnURLPasswordRE = regexp.MustCompile(`(?i)^postgres(?:ql)?://[^:/@]*:([^@]*)@`)
	dsnKVPasswordRE  = regexp.MustCompile(`(?i)(?:^|[\s&?])(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]*)`)
)

// minSecretLen is the shortest password replaced wherever it occurs:
// replacing a one- or two-letter password everywhere would garble every
// message while hiding little.
const minSecretLen = 3

// dsnSecrets returns the passwords of a connection string, in the forms
// they may take in messages (as written and URL-escaped), longest first.
func dsnSecrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= minSecretLen && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	var exempt []string
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		// A password equal to the user or database name is not hidden
		// where it appears as that name (every connection message names
		// the user; masking it would garble them all and hide nothing).
		// Connection-string shapes (user:password@, password=) are masked
		// regardless.
		exempt = []string{cfg.User, cfg.Database}
		if !slices.Contains(exempt, cfg.Password) {
			add(cfg.Password)
		}
	}
	// Unparsable strings still hold passwords: find them by shape.
	if m := dsnURLPasswordRE.FindStringSubmatch(dsn); m != nil {
		add(m[1])
		if u, err := url.PathUnescape(m[1]); err == nil {
			add(u)
		}
	}
	for _, m := range dsnKVPasswordRE.FindAllStringSubmatch(dsn, -1) {
		v := strings.Trim(m[1], "'")
		add(v)
		if u, err := url.QueryUnescape(v); err == nil {
			add(u)
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return slices.Contains(exempt, s) })
	for _, s := range slices.Clone(out) {
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// redactText removes passwords from text: connection-string shapes first,
// then every literal occurrence of a known secret.
func redactText(s string, secrets []string) string {
	s = urlPasswordRE.ReplaceAllString(s, "${1}:xxxxx@")
	s = kvPasswordRE.ReplaceAllString(s, "${1}xxxxx")
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "xxxxx")
	}
	return s
}

// redactedError is an error whose text has had passwords removed. It
// answers errors.Is for its cause (cancellation, deadlines) but does not
// unwrap to it, so callers cannot reach the unredacted text (pgconn's
// ParseConfigError, for one, keeps the raw connection string).
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

// redactor scrubs one connection string's secrets from errors.
type redactor struct{ secrets []string }

func newRedactor(dsn string) redactor { return redactor{secrets: dsnSecrets(dsn)} }

// err wraps err with context, password-free. Nil stays nil.
func (r redactor) err(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if format != "" {
		msg = fmt.Sprintf(format, args...) + ": " + msg
	}
	return &redactedError{msg: redactText(msg, r.secrets), cause: err}
}

// text scrubs a message.
func (r redactor) text(s string) string { return redactText(s, r.secrets) }
