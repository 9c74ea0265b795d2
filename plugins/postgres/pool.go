package postgres

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// The pool keeps a few idle connections per DSN so that the catalog
// queries of planning and the reads of many splits in one plugin process do
// not each pay for a connection and its authentication. It starts no
// goroutine: idle connections are checked when taken.
const (
	maxIdlePerDSN = 4
	// idleTimeout: an idle connection older than this is closed instead of
	// reused (servers and proxies drop idle connections).
	idleTimeout = 2 * time.Minute
	// readPingAfter: ReadSplit pings an idle connection unused for longer
	// before reuse (the server may have dropped it meanwhile); a younger
	// one that turns out dead is retried (see ReadSplit).
	readPingAfter = time.Second
	// closeTimeout bounds the goodbye (Terminate) sent when closing.
	closeTimeout = 2 * time.Second
	// cancelDeadline is how long a query may take to stop after its
	// context is cancelled: a cancel request goes to the server at once,
	// and after this the socket is closed.
	cancelDeadline = 3 * time.Second
)

// TCP keep-alive probes detect a server that vanished without closing the
// connection (a dead host, a dropped network) within about a minute.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 6}

type idleConn struct {
	conn  *pgx.Conn
	since time.Time
}

type pool struct {
	mu      sync.Mutex
	configs map[string]*pgx.ConnConfig
	idle    map[string][]idleConn
}

func newPool() *pool {
	return &pool{configs: map[string]*pgx.ConnConfig{}, idle: map[string][]idleConn{}}
}

func poolKey(dsn string, connectTimeout time.Duration) string {
	return strconv.FormatInt(int64(connectTimeout), 10) + "|" + dsn
}

// config parses (once) the connection settings of a DSN. connectTimeout 0
// keeps the DSN's connect_timeout or the default.
func (p *pool) config(key, dsn string, connectTimeout time.Duration) (*pgx.ConnConfig, error) {
	p.mu.Lock()
	cfg, ok := p.configs[key]
	p.mu.Unlock()
	if ok {
		return cfg, nil
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	switch {
	case connectTimeout > 0:
		cfg.ConnectTimeout = connectTimeout
	case cfg.ConnectTimeout == 0:
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAliveConfig: keepAlive}
	cfg.DialFunc = dialer.DialContext
	// On cancellation, ask the server to stop the query (so it does not run
	// on after we left) and close the socket if it does not stop soon.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelDeadline}
	}
	setDefault := func(k, v string) {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	// Only parameters that connection poolers such as PgBouncer accept at
	// startup (default_transaction_read_only, for one, is refused).
	setDefault("application_name", "arbalest")
	setDefault("TimeZone", "UTC")
	// No named server-side prepared statements (transaction-pooling proxies
	// such as PgBouncer lose them), unless the DSN chooses a mode. Splits
	// run as unnamed statements anyway (pgconn ExecParams).
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	p.mu.Lock()
	p.configs[key] = cfg
	p.mu.Unlock()
	return cfg, nil
}

// acquire returns a connection for dsn: an idle one that is still alive,
// or a new one. Idle connections unused for pingAfter or more are pinged
// first; pingAfter 0 pings every reused connection (for callers that
// cannot retry).
func (p *pool) acquire(ctx context.Context, dsn string, connectTimeout, pingAfter time.Duration) (*pgx.Conn, error) {
	return p.get(ctx, dsn, connectTimeout, true, pingAfter)
}

// connect returns a new connection (for a retry after a pooled one
// failed).
func (p *pool) connect(ctx context.Context, dsn string, connectTimeout time.Duration) (*pgx.Conn, error) {
	return p.get(ctx, dsn, connectTimeout, false, 0)
}

func (p *pool) get(ctx context.Context, dsn string, connectTimeout time.Duration, reuse bool, pingAfter time.Duration) (*pgx.Conn, error) {
	key := poolKey(dsn, connectTimeout)
	cfg, err := p.config(key, dsn, connectTimeout)
	if err != nil {
		return nil, err
	}
	for reuse {
		p.mu.Lock()
		list := p.idle[key]
		if len(list) == 0 {
			p.mu.Unlock()
			break
		}
		ic := list[len(list)-1]
		p.idle[key] = list[:len(list)-1]
		p.mu.Unlock()
		age := time.Since(ic.since)
		if ic.conn.IsClosed() || age > idleTimeout {
			closeConn(ic.conn)
			continue
		}
		if age >= pingAfter {
			pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
			err := ic.conn.Ping(pctx)
			cancel()
			if err != nil {
				closeConn(ic.conn)
				continue
			}
		}
		return ic.conn, nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connecting: %w (%w)", ctx.Err(), err)
		}
		return nil, err
	}
	return conn, nil
}

// release gives a connection back. Only a connection that finished its work
// cleanly (healthy) and is idle outside a transaction is kept; anything
// else is closed, since it may still be streaming rows or be in an unknown
// state.
func (p *pool) release(dsn string, connectTimeout time.Duration, conn *pgx.Conn, healthy bool) {
	if conn == nil {
		return
	}
	if !healthy || conn.IsClosed() || conn.PgConn().TxStatus() != 'I' {
		closeConn(conn)
		return
	}
	key := poolKey(dsn, connectTimeout)
	p.mu.Lock()
	if len(p.idle[key]) < maxIdlePerDSN {
		p.idle[key] = append(p.idle[key], idleConn{conn: conn, since: time.Now()})
		conn = nil
	}
	p.mu.Unlock()
	if conn != nil {
		closeConn(conn)
	}
}

// closeAll closes every idle connection (tests; a plugin process that ends
// just exits).
func (p *pool) closeAll() {
	p.mu.Lock()
	all := p.idle
	p.idle = map[string][]idleConn{}
	p.mu.Unlock()
	for _, list := range all {
		for _, ic := range list {
			closeConn(ic.conn)
		}
	}
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = c.Close(ctx)
}
