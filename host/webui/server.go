package webui

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts of the HTTP server. The API answers from in-memory snapshots,
// so a slow request is a slow or stuck client.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout bounds Close's wait for requests in flight.
	shutdownTimeout = 5 * time.Second
)

// Server is a running HTTP server.
type Server struct {
	srv  *http.Server
	lis  net.Listener
	done chan struct{}
	err  error // of Serve; read after done is closed

	closeOnce sync.Once
	closeErr  error
}

// Serve listens on addr (host:port; port 0 picks one) and serves h in the
// background until Close.
func Serve(addr string, h http.Handler) (*Server, error) {
	if h == nil {
		return nil, errors.New("webui: nil handler")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web UI: listen on %s: %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          log.New(log.Writer(), "webui: ", log.LstdFlags),
		},
		lis:  lis,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (host:port).
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL is the server's base URL, http://host:port.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close stops the server: it stops accepting connections, waits up to
// five seconds for requests in flight, then closes what remains. It
// returns the error that ended serving, if any. Close may be called more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			// Requests still running after the grace period are cut.
			err = errors.Join(fmt.Errorf("web UI: cut requests still running after %s: %w", shutdownTimeout, err), s.srv.Close())
		}
		<-s.done
		s.closeErr = errors.Join(s.err, err)
	})
	return s.closeErr
}
