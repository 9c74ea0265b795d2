package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/host/flightsql"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/host/webui"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/workers/go/executor"
)

// securityFlags are the cluster's authentication settings, shared by every
// process and client of a cluster.
type securityFlags struct {
	token, cert, key, ca string
}

func (f *securityFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.token, "token", "", "bearer token required on (and sent with) every call; default $ARBALEST_TOKEN")
	fs.StringVar(&f.cert, "tls-cert", "", "TLS certificate (PEM) of this process")
	fs.StringVar(&f.key, "tls-key", "", "TLS private key (PEM) of this process")
	fs.StringVar(&f.ca, "tls-ca", "", "CA (PEM) that signs the peers' certificates: servers then require client certificates (mutual TLS)")
}

func (f *securityFlags) security() clusterpb.Security {
	tok := f.token
	if tok == "" {
		tok = os.Getenv("ARBALEST_TOKEN")
	}
	return clusterpb.Security{Token: tok, CertFile: f.cert, KeyFile: f.key, CAFile: f.ca}
}

// schedulerFlags are the scheduler's settings.
type schedulerFlags struct {
	partitions    int
	heartbeat     time.Duration
	executorLost  time.Duration
	broadcastRows int64
	compression   string
	jobTimeout    time.Duration
	taskAttempts  int
	state         string
	etcd          string
	http          string
	sec           securityFlags
	fsql          flightSQLFlags
}

func (f *schedulerFlags) add(fs *flag.FlagSet) {
	fs.IntVar(&f.partitions, "partitions", 0, "shuffle partitions and leaf tasks per stage (default: the cluster's slots)")
	fs.DurationVar(&f.heartbeat, "heartbeat", 2*time.Second, "how often executors send heartbeats")
	fs.DurationVar(&f.executorLost, "executor-timeout", 0, "an executor without heartbeats this long is lost (default: 5 heartbeats)")
	fs.Int64Var(&f.broadcastRows, "broadcast-rows", 200_000, "join sides estimated at up to this many rows are broadcast")
	fs.StringVar(&f.compression, "compression", "lz4", "shuffle file compression: lz4 or zstd")
	fs.DurationVar(&f.jobTimeout, "job-timeout", 0, "fail jobs that run longer (default: no limit)")
	fs.IntVar(&f.taskAttempts, "task-attempts", 4, "attempts of a task before its job fails")
	fs.StringVar(&f.state, "state", "", "directory that keeps jobs and sessions across restarts (default: memory only)")
	fs.StringVar(&f.etcd, "etcd", "", "etcd endpoints (comma-separated) that keep jobs and sessions across restarts")
	fs.StringVar(&f.http, "http", "", "serve the web UI, REST API and Prometheus /metrics on HOST:PORT (default: off)")
	f.sec.add(fs)
	f.fsql.add(fs)
}

// flightSQLFlags are the Flight SQL server's settings (issue 6).
type flightSQLFlags struct {
	addr, user, password string
}

func (f *flightSQLFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "flightsql", "", "serve Arrow Flight SQL (JDBC, ADBC clients) on HOST:PORT (default: off)")
	fs.StringVar(&f.user, "flightsql-user", "", "Flight SQL basic-auth user (without user and password, only a loopback address may be served)")
	fs.StringVar(&f.password, "flightsql-password", "", "Flight SQL basic-auth password; default $ARBALEST_FLIGHTSQL_PASSWORD")
}

// serveFlightSQL starts the Flight SQL server of --flightsql; the
// scheduler's Stop stops it.
func (f *schedulerFlags) serveFlightSQL(s *cluster.Scheduler) error {
	if f.fsql.addr == "" {
		if f.fsql.user != "" || f.fsql.password != "" {
			return fmt.Errorf("--flightsql-user and --flightsql-password need --flightsql HOST:PORT")
		}
		return nil
	}
	pass := f.fsql.password
	if pass == "" {
		pass = os.Getenv("ARBALEST_FLIGHTSQL_PASSWORD")
	}
	srv, err := s.StartFlightSQL(flightsql.Config{Addr: f.fsql.addr, User: f.fsql.user, Password: pass, Security: f.sec.security()})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "flight sql serving on %s\n", srv.Addr())
	return nil
}

func (f *schedulerFlags) config() (scheduler.Config, error) {
	if f.compression != "lz4" && f.compression != "zstd" {
		return scheduler.Config{}, fmt.Errorf("--compression %q: use lz4 or zstd", f.compression)
	}
	if f.taskAttempts < 1 {
		return scheduler.Config{}, fmt.Errorf("--task-attempts %d: at least 1", f.taskAttempts)
	}
	cfg := scheduler.Config{Partitions: f.partitions, HeartbeatInterval: f.heartbeat, ExecutorTimeout: f.executorLost,
		BroadcastRows: f.broadcastRows, Compression: f.compression, JobTimeout: f.jobTimeout, TaskAttempts: f.taskAttempts,
		Security: f.sec.security()}
	switch {
	case f.state != "" && f.etcd != "":
		return cfg, fmt.Errorf("--state and --etcd: choose one")
	case f.state != "":
		st, err := scheduler.OpenFileStore(f.state)
		if err != nil {
			return cfg, err
		}
		cfg.Store = st
	case f.etcd != "":
		st, err := scheduler.OpenEtcdStore(f.etcd, "")
		if err != nil {
			return cfg, err
		}
		cfg.Store = st
	}
	return cfg, nil
}

// serveHTTP serves the web UI, REST API and metrics of --http; the
// returned func stops it.
func (f *schedulerFlags) serveHTTP(s *cluster.Scheduler) (func(), error) {
	if f.http == "" {
		return func() {}, nil
	}
	srv, err := webui.Serve(f.http, webui.Handler(s.Sched, webui.Options{Token: f.sec.security().Token}))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "web UI on %s\n", srv.URL())
	return func() { srv.Close() }, nil
}

func cmdScheduler(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scheduler", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:50050", "address to serve on (HOST:PORT)")
	var sf schedulerFlags
	sf.add(fs)
	var pf pluginFlags
	pf.add(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("scheduler: unexpected argument %q", pos[0])
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	m, err := pf.start(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if m != nil {
		cfg.Extensions = m
	}
	s, err := cluster.StartScheduler(*addr, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "scheduler serving on %s\n", s.Addr())
	web, err := sf.serveHTTP(s)
	if err != nil {
		s.Stop()
		return err
	}
	defer web()
	if err := sf.serveFlightSQL(s); err != nil {
		s.Stop()
		return err
	}
	select {
	case <-ctx.Done():
		s.Stop()
		return nil
	case err := <-s.Done():
		s.Stop()
		return err
	}
}

// executorFlags are an executor's settings.
type executorFlags struct {
	slots       int
	workDir     string
	memoryLimit string
	advertise   string
	flightOnly  bool
}

func (f *executorFlags) add(fs *flag.FlagSet, defaultSlots int) {
	fs.IntVar(&f.slots, "slots", defaultSlots, "tasks run at once")
	fs.StringVar(&f.workDir, "work-dir", "", "directory for shuffle and result files (default: a new temporary directory)")
	fs.StringVar(&f.memoryLimit, "memory-limit", "", "memory limit of each task's operators, e.g. 2GB, or none (default: 70% of the memory, shared by the slots)")
	fs.BoolVar(&f.flightOnly, "shuffle-over-flight", false, "read other executors' shuffle outputs over Flight even when their files are on this machine")
}

func (f *executorFlags) config() (executor.Config, func(), error) {
	var c executor.Config
	switch f.memoryLimit {
	case "":
	case "none":
		c.MemoryLimit = -1
	default:
		n, err := engine.ParseBytes(f.memoryLimit)
		if err != nil {
			return c, nil, fmt.Errorf("--memory-limit: %w", err)
		}
		if n <= 0 {
			return c, nil, fmt.Errorf("--memory-limit %q: give a size or none", f.memoryLimit)
		}
		c.MemoryLimit = n
	}
	cleanup := func() {}
	if f.workDir == "" {
		d, err := os.MkdirTemp("", "arbalest-work-")
		if err != nil {
			return c, nil, err
		}
		f.workDir = d
		cleanup = func() { os.RemoveAll(d) }
	}
	c.WorkDir, c.Slots, c.Advertise, c.FlightOnly = f.workDir, f.slots, f.advertise, f.flightOnly
	return c, cleanup, nil
}

func cmdExecutor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("executor", flag.ContinueOnError)
	sched := fs.String("scheduler", "127.0.0.1:50050", "the scheduler's address (HOST:PORT)")
	addr := fs.String("addr", "127.0.0.1:0", "address to serve tasks and Flight data on (HOST:PORT; port 0 picks one)")
	var ef executorFlags
	ef.add(fs, defaultSlots())
	fs.StringVar(&ef.advertise, "advertise", "", "HOST:PORT others reach this executor at (default: --addr)")
	var sec securityFlags
	sec.add(fs)
	var pf pluginFlags
	pf.add(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("executor: unexpected argument %q", pos[0])
	}
	cfg, cleanup, err := ef.config()
	if err != nil {
		return err
	}
	defer cleanup()
	m, err := pf.start(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if m != nil {
		cfg.Plugins = m
	}
	cfg.Scheduler, cfg.Listen, cfg.Security = *sched, *addr, sec.security()
	e, err := executor.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "executor %s serving on %s (%d slots, work dir %s, %s per task)\n", e.ID(), e.Addr(), cfg.Slots, cfg.WorkDir, e.MemoryLimitText())
	<-ctx.Done()
	e.Stop()
	return nil
}

func cmdStandalone(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("standalone", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:50050", "the scheduler's address (HOST:PORT)")
	n := fs.Int("executors", 1, "number of executors")
	var sf schedulerFlags
	sf.add(fs)
	var ef executorFlags
	ef.add(fs, defaultSlots())
	var pf pluginFlags
	pf.add(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("standalone: unexpected argument %q", pos[0])
	}
	scfg, err := sf.config()
	if err != nil {
		return err
	}
	ecfg, cleanup, err := ef.config()
	if err != nil {
		return err
	}
	defer cleanup()
	// The scheduler and the executors of this process share the plugins.
	m, err := pf.start(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if m != nil {
		scfg.Extensions, ecfg.Plugins = m, m
	}
	st, err := cluster.StartStandalone(*addr, *n, ecfg.Slots, ecfg.WorkDir, scfg, ecfg)
	if err != nil {
		return err
	}
	if err := st.WaitReady(30 * time.Second); err != nil {
		st.Stop()
		return err
	}
	fmt.Fprintf(os.Stderr, "standalone cluster: scheduler on %s, %d executors with %d slots each\n", st.Scheduler.Addr(), *n, ecfg.Slots)
	web, err := sf.serveHTTP(st.Scheduler)
	if err != nil {
		st.Stop()
		return err
	}
	defer web()
	if err := sf.serveFlightSQL(st.Scheduler); err != nil {
		st.Stop()
		return err
	}
	select {
	case <-ctx.Done():
	case err = <-st.Scheduler.Done():
	}
	st.Stop()
	return err
}

// defaultSlots is the number of CPUs.
func defaultSlots() int { return runtime.GOMAXPROCS(0) }
