// Package cluster starts the cluster's processes: the scheduler's gRPC
// server, and standalone mode (a scheduler and executors in one process,
// talking over loopback gRPC exactly as separate processes do).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/arbalest/arbalest/host/flightsql"
	"github.com/arbalest/arbalest/host/scheduler"
	worker "github.com/arbalest/arbalest/workers/go"
	"github.com/arbalest/arbalest/workers/go/executor"
)

// Scheduler is a running scheduler server.
type Scheduler struct {
	Sched  *scheduler.Scheduler
	Server *scheduler.Server
	grpc   *grpc.Server
	lis    net.Listener
	done   chan error
	// FlightSQL is the Flight SQL server, when StartFlightSQL started one.
	FlightSQL *flightsql.Server
}

// StartScheduler serves a scheduler on addr (host:port; port 0 picks one).
func StartScheduler(addr string, cfg scheduler.Config) (*Scheduler, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("scheduler listen on %s: %w", addr, err)
	}
	sched, err := scheduler.New(cfg)
	if err != nil {
		lis.Close()
		return nil, err
	}
	s := &Scheduler{Sched: sched, lis: lis, done: make(chan error, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.Server, err = scheduler.NewServer(ctx, sched, worker.Infer); err != nil {
		sched.Close()
		lis.Close()
		return nil, err
	}
	opts, err := scheduler.ServerOptions(cfg.Security)
	if err != nil {
		sched.Close()
		lis.Close()
		return nil, err
	}
	s.grpc = grpc.NewServer(opts...)
	s.Server.Register(s.grpc)
	go func() {
		err := s.grpc.Serve(lis)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr is the address the scheduler serves at.
func (s *Scheduler) Addr() string { return s.lis.Addr().String() }

// Done reports the server's end.
func (s *Scheduler) Done() <-chan error { return s.done }

// StartFlightSQL serves Flight SQL for this scheduler (cfg.Addr;
// cfg.Security should be the cluster's, to read results from the
// executors). Stop stops it.
func (s *Scheduler) StartFlightSQL(cfg flightsql.Config) (*flightsql.Server, error) {
	if s.FlightSQL != nil {
		return nil, fmt.Errorf("flight sql is already serving on %s", s.FlightSQL.Addr())
	}
	f, err := flightsql.Start(s.Sched, s.Server, cfg)
	if err != nil {
		return nil, err
	}
	s.FlightSQL = f
	return f, nil
}

// Stop stops serving and the scheduler's loops.
func (s *Scheduler) Stop() {
	if s.FlightSQL != nil {
		s.FlightSQL.Stop()
	}
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
	s.Sched.Close()
}

// Standalone is a scheduler with executors in this process.
type Standalone struct {
	Scheduler *Scheduler
	Executors []*executor.Executor
}

// StartStandalone starts a scheduler on addr and n executors with the
// given slots each on loopback ports, with work directories under
// workDir.
func StartStandalone(addr string, n, slots int, workDir string, cfg scheduler.Config, ecfg executor.Config) (*Standalone, error) {
	if n < 1 {
		return nil, fmt.Errorf("standalone needs at least one executor, got %d", n)
	}
	s, err := StartScheduler(addr, cfg)
	if err != nil {
		return nil, err
	}
	st := &Standalone{Scheduler: s}
	for i := 0; i < n; i++ {
		c := ecfg
		c.Scheduler = s.Addr()
		c.Security = cfg.Security
		c.Listen = "127.0.0.1:0"
		c.Slots = slots
		c.WorkDir = filepath.Join(workDir, fmt.Sprintf("executor-%d", i))
		if c.ID == "" {
			c.ID = fmt.Sprintf("standalone-%d-%d", os.Getpid(), i)
		} else {
			c.ID = fmt.Sprintf("%s-%d", ecfg.ID, i)
		}
		e, err := executor.Start(c)
		if err != nil {
			st.Stop()
			return nil, err
		}
		st.Executors = append(st.Executors, e)
	}
	return st, nil
}

// WaitReady waits until every executor has registered.
func (st *Standalone) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	want := len(st.Executors)
	for {
		if st.Scheduler.Sched.Executors() >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d executors registered after %s", st.Scheduler.Sched.Executors(), want, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the executors and the scheduler.
func (st *Standalone) Stop() {
	for _, e := range st.Executors {
		e.Stop()
	}
	st.Scheduler.Stop()
}
