package remote

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Flight SQL URL schemes of --connect.
const (
	SchemeFlightSQL    = "flightsql://"
	SchemeFlightSQLTLS = "flightsql+tls://"
)

// sessionHeader names the Arbalest session of an anonymous Flight SQL
// client (host/flightsql.SessionHeader; not imported so that the client
// does not link the server).
const sessionHeader = "x-arbalest-session"

// maxResultMsg is the largest message accepted from the server (its own
// limit both ways).
const maxResultMsg = 256 << 20

// IsFlightSQL reports whether a --connect target names a Flight SQL
// server (flightsql://HOST:PORT or flightsql+tls://HOST:PORT).
func IsFlightSQL(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, SchemeFlightSQL) || strings.HasPrefix(t, SchemeFlightSQLTLS)
}

// FlightSQLOptions are how to reach a Flight SQL server.
type FlightSQLOptions struct {
	// User and Password log in with basic auth; without them the client is
	// anonymous, with a session of its own.
	User, Password string
	// CAFile is the PEM of the CA that signed the server's certificate
	// (flightsql+tls://; default: the system's roots).
	CAFile string
	// DialTimeout bounds connecting and logging in (default 30s).
	DialTimeout time.Duration
}

// FlightSQL runs scripts through an Arbalest scheduler's Flight SQL
// server, as an engine.Runner: the CLI's REPL, output formats and
// --timing work the same as with the embedded engine or the scheduler's
// own protocol.
type FlightSQL struct {
	cl   *fsql.Client
	addr string
	// md is sent with every call: the bearer token of the login, or the
	// session header of an anonymous client.
	md metadata.MD
}

var _ engine.Runner = (*FlightSQL)(nil)

// DialFlightSQL connects to the Flight SQL server of target
// (flightsql://HOST:PORT or flightsql+tls://HOST:PORT), logs in when
// o.User is set, and checks that the server answers.
func DialFlightSQL(ctx context.Context, target string, o FlightSQLOptions) (*FlightSQL, error) {
	addr, useTLS, err := parseFlightSQLTarget(target)
	if err != nil {
		return nil, err
	}
	if (o.User == "") != (o.Password == "") {
		return nil, fmt.Errorf("flight sql at %s: give both a user and a password (--user, --password or $ARBALEST_FLIGHTSQL_PASSWORD), or neither", addr)
	}
	if o.CAFile != "" && !useTLS {
		return nil, fmt.Errorf("flight sql at %s: --tls-ca goes with flightsql+tls://", addr)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 30 * time.Second
	}
	creds := insecure.NewCredentials()
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("flight sql: reading the CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("flight sql: %s holds no PEM certificate", o.CAFile)
			}
			cfg.RootCAs = pool
		}
		creds = credentials.NewTLS(cfg)
	}
	cl, err := fsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxResultMsg), grpc.MaxCallSendMsgSize(maxResultMsg)))
	if err != nil {
		return nil, fmt.Errorf("flight sql at %s: %w", addr, err)
	}
	f := &FlightSQL{cl: cl, addr: addr}
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	if o.User != "" {
		authed, err := cl.Client.AuthenticateBasicToken(dctx, o.User, o.Password)
		if err != nil {
			cl.Close()
			if status.Code(err) == codes.Unauthenticated {
				return nil, fmt.Errorf("flight sql at %s: login as %q refused: %s", addr, o.User, status.Convert(err).Message())
			}
			return nil, f.wrap(dctx, "logging in", err)
		}
		md, _ := metadata.FromOutgoingContext(authed)
		if len(md.Get("authorization")) == 0 {
			cl.Close()
			return nil, fmt.Errorf("flight sql at %s: the login gave no bearer token", addr)
		}
		f.md = metadata.MD{"authorization": md.Get("authorization")}
	} else {
		// Anonymous clients that name no session share one on the server;
		// the CLI's tables are its own.
		var b [16]byte
		_, _ = rand.Read(b[:])
		f.md = metadata.Pairs(sessionHeader, "cli-"+hex.EncodeToString(b[:]))
	}
	// One cheap call, so an unreachable server or a refused anonymous
	// client is reported now rather than at the first statement.
	octx := f.outgoing(dctx)
	info, err := cl.GetSqlInfo(octx, []fsql.SqlInfo{fsql.SqlInfoFlightSqlServerName})
	if err != nil {
		err = f.wrap(dctx, "connecting", err)
	} else {
		err = f.drain(octx, info) // its errors name the server already
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return f, nil
}

// parseFlightSQLTarget splits flightsql[+tls]://HOST:PORT.
func parseFlightSQLTarget(target string) (addr string, useTLS bool, err error) {
	lower := strings.ToLower(target)
	switch {
	case strings.HasPrefix(lower, SchemeFlightSQLTLS):
		addr, useTLS = target[len(SchemeFlightSQLTLS):], true
	case strings.HasPrefix(lower, SchemeFlightSQL):
		addr = target[len(SchemeFlightSQL):]
	default:
		return "", false, fmt.Errorf("%q is not a Flight SQL address (flightsql://HOST:PORT or flightsql+tls://HOST:PORT)", target)
	}
	addr = strings.TrimSuffix(addr, "/")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", false, fmt.Errorf("flight sql address %q: want HOST:PORT: %v", target, err)
	}
	return addr, useTLS, nil
}

// Close closes the connection.
func (f *FlightSQL) Close() error { return f.cl.Close() }

func (f *FlightSQL) outgoing(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Join(f.md))
}

// wrap turns a gRPC error into one that names the server and carries the
// server's message without the gRPC prefix.
func (f *FlightSQL) wrap(ctx context.Context, doing string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) || status.Code(err) == codes.DeadlineExceeded && ctx.Err() != nil {
		return fmt.Errorf("flight sql at %s: %s: %w", f.addr, doing, ctx.Err())
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("flight sql at %s: %s: %w", f.addr, doing, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("flight sql at %s is unavailable: %s", f.addr, st.Message())
	case codes.Unauthenticated:
		return fmt.Errorf("flight sql at %s: not allowed: %s (give --user and --password)", f.addr, st.Message())
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
		// The statement's own error, as the engine words it.
		return errors.New(st.Message())
	}
	return fmt.Errorf("flight sql at %s: %s: %s (%s)", f.addr, doing, st.Message(), st.Code())
}

// drain reads and discards the result of info.
func (f *FlightSQL) drain(ctx context.Context, info *flight.FlightInfo) error {
	s, err := f.open(ctx, info)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		if _, err := s.Next(ctx); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// Run splits script into statements (with the SQL parser, so semicolons
// in strings are safe) and runs each through Flight SQL's
// CommandStatementQuery, which the server answers for queries and other
// statements alike.
func (f *FlightSQL) Run(ctx context.Context, script string, each func(*engine.Result) error) error {
	stmts, err := sql.Parse(script)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		octx := f.outgoing(ctx)
		info, err := f.cl.Execute(octx, st.SQL)
		if err != nil {
			return f.wrap(ctx, "running the statement", err)
		}
		s, err := f.open(octx, info)
		if err != nil {
			return err
		}
		err = each(&engine.Result{SQL: st.SQL, Query: isQuery(st.SQL), Stream: s})
		if cerr := s.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// isQuery reports whether a statement is a query by its first keyword:
// Flight SQL does not tell queries from other statements that return rows
// (SHOW, EXPLAIN).
func isQuery(text string) bool {
	for {
		text = strings.TrimLeft(text, " \t\r\n(")
		if strings.HasPrefix(text, "--") {
			_, text, _ = strings.Cut(text, "\n")
			continue
		}
		if strings.HasPrefix(text, "/*") {
			_, text, _ = strings.Cut(text, "*/")
			continue
		}
		break
	}
	word, _, _ := strings.Cut(strings.ToLower(text), " ")
	word = strings.TrimRight(word, "\t\r\n(;")
	switch word {
	case "select", "with", "values", "table":
		return true
	}
	return false
}

// open starts reading a result: the first endpoint's stream gives the
// schema (the FlightInfo's may be empty for statements).
func (f *FlightSQL) open(ctx context.Context, info *flight.FlightInfo) (*flightStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &flightStream{f: f, ctx: ctx, cancel: cancel, eps: info.GetEndpoint()}
	if len(s.eps) == 0 {
		schema := arrow.NewSchema(nil, nil)
		if len(info.GetSchema()) > 0 {
			sc, err := flight.DeserializeSchema(info.GetSchema(), memory.DefaultAllocator)
			if err != nil {
				cancel()
				return nil, fmt.Errorf("flight sql at %s: the result's schema: %w", f.addr, err)
			}
			schema = sc
		}
		s.schema = schema
		return s, nil
	}
	if err := s.nextEndpoint(); err != nil {
		cancel()
		return nil, err
	}
	s.schema = s.cur.Schema()
	return s, nil
}

// flightStream reads a result's endpoints one after another as an
// engine.Stream.
type flightStream struct {
	f      *FlightSQL
	ctx    context.Context
	cancel context.CancelFunc
	eps    []*flight.FlightEndpoint
	next   int
	cur    *flight.Reader
	schema *arrow.Schema
	closed bool
}

func (s *flightStream) nextEndpoint() error {
	ep := s.eps[s.next]
	s.next++
	for _, loc := range ep.GetLocation() {
		// Arbalest serves every result through the server the client
		// called; another location would need another connection.
		if u := loc.GetUri(); u != "" && u != "arrow-flight-reuse-connection://?" {
			return fmt.Errorf("flight sql at %s: result endpoint at %s: only results on the same server are read", s.f.addr, u)
		}
	}
	rd, err := s.f.cl.DoGet(s.ctx, ep.GetTicket())
	if err != nil {
		return s.f.wrap(s.ctx, "fetching the result", err)
	}
	s.cur = rd
	return nil
}

// Schema is the result schema.
func (s *flightStream) Schema() *arrow.Schema { return s.schema }

// Next returns the next batch (valid until the next call) or io.EOF.
func (s *flightStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.closed {
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.cur != nil {
			if s.cur.Next() {
				return s.cur.RecordBatch(), nil
			}
			err := s.cur.Err()
			s.cur.Release()
			s.cur = nil
			if err != nil {
				return nil, s.f.wrap(ctx, "reading the result", err)
			}
		}
		if s.next >= len(s.eps) {
			return nil, io.EOF
		}
		if err := s.nextEndpoint(); err != nil {
			return nil, err
		}
		if !s.cur.Schema().Equal(s.schema) {
			return nil, fmt.Errorf("flight sql at %s: result endpoint %d has schema %s, want %s", s.f.addr, s.next-1, s.cur.Schema(), s.schema)
		}
	}
}

// Close stops reading; the server removes a result once its stream ends
// or its time to be fetched runs out.
func (s *flightStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	s.cancel()
	return nil
}
