// Package flightsql serves Arrow Flight SQL on the scheduler, so JDBC,
// ADBC and other Flight SQL clients reach Arbalest with the drivers they
// already have. Statements run on the cluster through the scheduler's
// sessions; results are streamed from the executors through this server,
// so a client needs only its address.
//
// Each login (basic auth answered with a bearer token) is an Arbalest
// session: tables created on a connection are seen by that connection's
// later statements.
package flightsql

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	fsql "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// maxMsg is the gRPC message limit both ways (results and parameter
// batches can be large).
const maxMsg = 256 << 20

// Config configures the Flight SQL server.
type Config struct {
	// Addr is HOST:PORT to listen on (port 0 picks one).
	Addr string
	// User and Password are the credentials of basic auth. Without them
	// clients are anonymous, which is allowed only on a loopback address.
	User, Password string
	// Security is the cluster's: its token and TLS settings are used to
	// read results from the executors, and its certificate (when set)
	// serves this listener over TLS.
	Security clusterpb.Security
	// QueryTimeout bounds how long one statement may run (default 1h).
	QueryTimeout time.Duration
	// ResultTTL is how long a result waits to be fetched before its files
	// are removed (default 10 minutes).
	ResultTTL time.Duration
	// TokenTTL is how long an unused bearer token stays valid (default
	// 12 hours).
	TokenTTL time.Duration
	// Logf logs (default: nothing).
	Logf func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = time.Hour
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 10 * time.Minute
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 12 * time.Hour
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// ErrConfig marks a configuration the server refuses to start with.
var ErrConfig = errors.New("flight sql configuration")

// checkConfig refuses credentials given by halves, and anonymous access on
// anything but loopback.
func checkConfig(c Config) error {
	if (c.User == "") != (c.Password == "") {
		return fmt.Errorf("%w: give both a user and a password (--flightsql-user, --flightsql-password or $ARBALEST_FLIGHTSQL_PASSWORD), or neither", ErrConfig)
	}
	if c.User != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrConfig, c.Addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: serving on %s without credentials would let anyone who reaches it run queries; listen on 127.0.0.1 or set --flightsql-user and --flightsql-password", ErrConfig, c.Addr)
}

// Server is a running Flight SQL server.
type Server struct {
	fsql.BaseServer
	cfg   Config
	sched *scheduler.Scheduler
	srv   *scheduler.Server
	auth  *authenticator
	alloc memory.Allocator

	grpc *grpc.Server
	lis  net.Listener
	done chan error
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	results  map[string]*result
	prepared map[string]*prepared
	// flights are Flight clients of the executors, by address.
	flights map[string]flight.Client
	dial    []grpc.DialOption
}

var _ fsql.Server = (*Server)(nil)

// Start serves Flight SQL for the scheduler sched (whose sessions live in
// srv) on cfg.Addr.
func Start(sched *scheduler.Scheduler, srv *scheduler.Server, cfg Config) (*Server, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	cfg.defaults()
	dial, err := cfg.Security.DialOptions()
	if err != nil {
		return nil, fmt.Errorf("flight sql: dialing the executors: %w", err)
	}
	s := &Server{
		cfg: cfg, sched: sched, srv: srv, alloc: memory.DefaultAllocator,
		auth:    &authenticator{user: cfg.User, pass: cfg.Password, anonymous: cfg.User == "", tokens: newTokens(cfg.TokenTTL)},
		done:    make(chan error, 1),
		stop:    make(chan struct{}),
		results: map[string]*result{}, prepared: map[string]*prepared{}, flights: map[string]flight.Client{},
		dial: append([]grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg))}, dial...),
	}
	// A login that expires takes its Arbalest session with it.
	s.auth.tokens.dropped = func(session string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.CloseSession(ctx, session); err != nil {
			sched.Logf("flight sql: closing session %s: %v", session, err)
		}
	}
	if err := s.registerSQLInfo(); err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg),
		grpc.ChainUnaryInterceptor(s.auth.unary),
		grpc.ChainStreamInterceptor(s.auth.stream),
	}
	if cfg.Security.CertFile != "" {
		// Server TLS only: Flight SQL clients (JDBC, ADBC) do not carry the
		// cluster's client certificates.
		cert, err := tls.LoadX509KeyPair(cfg.Security.CertFile, cfg.Security.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("flight sql: loading the TLS certificate: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("flight sql: listen on %s: %w", cfg.Addr, err)
	}
	s.lis = lis
	s.grpc = grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(s.grpc, fsql.NewFlightServerWithAllocator(s, s.alloc))
	go func() {
		err := s.grpc.Serve(lis)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		s.done <- err
	}()
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Done reports the server's end.
func (s *Server) Done() <-chan error { return s.done }

// Stop stops serving (waiting up to 5 seconds for calls to end) and
// removes the results nobody fetched.
func (s *Server) Stop() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		s.grpc.Stop()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.results {
		s.dropLocked(id, r)
	}
	for _, f := range s.flights {
		f.Close()
	}
	s.flights = map[string]flight.Client{}
}

// janitor removes results nobody fetched and expired tokens.
func (s *Server) janitor() {
	defer s.wg.Done()
	tick := time.NewTicker(min(s.cfg.ResultTTL/4, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			s.auth.tokens.expire(now)
			s.mu.Lock()
			for id, r := range s.results {
				if now.After(r.expires) {
					s.cfg.Logf("flight sql: result of job %s was not fetched within %s; removing it", r.job, s.cfg.ResultTTL)
					s.dropLocked(id, r)
				}
			}
			for id, p := range s.prepared {
				if now.Sub(p.used) > s.cfg.TokenTTL {
					delete(s.prepared, id)
				}
			}
			s.mu.Unlock()
		}
	}
}

func newHandle() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
