package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/arbalest/arbalest/cmd/arbalest/remote"
	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/sdk/client"
	worker "github.com/arbalest/arbalest/workers/go"
)

// sessionFlags are the flags every command that runs queries shares.
type sessionFlags struct {
	registers   multiFlag
	memoryLimit string
	partitions  int
	connect     string
	user        string
	password    string
	sec         securityFlags
	plugins     pluginFlags
}

func (f *sessionFlags) add(fs *flag.FlagSet) {
	fs.Var(&f.registers, "register", "register a table: name=path (format from the extension or the folder's files); repeatable")
	fs.StringVar(&f.memoryLimit, "memory-limit", "", "memory limit for a query's operators, e.g. 2GB (default: none)")
	fs.IntVar(&f.partitions, "partitions", 0, "target parallelism (default: number of CPUs)")
	fs.StringVar(&f.connect, "connect", "", "run on the cluster whose scheduler is at HOST:PORT instead of in this process; flightsql://HOST:PORT (or flightsql+tls://) goes through the scheduler's Flight SQL server instead of its own protocol")
	fs.StringVar(&f.user, "user", "", "Flight SQL user, with --connect flightsql://... (basic auth)")
	fs.StringVar(&f.password, "password", "", "Flight SQL password of --user; default $ARBALEST_FLIGHTSQL_PASSWORD")
	f.sec.add(fs)
	f.plugins.add(fs)
}

// runner returns where statements run: this process, or the cluster of
// --connect. close releases it.
func (f *sessionFlags) runner(ctx context.Context) (r engine.Runner, close func(), err error) {
	if f.connect == "" || !remote.IsFlightSQL(f.connect) {
		if f.user != "" || f.password != "" {
			return nil, nil, fmt.Errorf("--user and --password go with --connect flightsql://HOST:PORT")
		}
	}
	if f.connect == "" {
		if f.sec != (securityFlags{}) {
			return nil, nil, fmt.Errorf("--token and --tls-* go with --connect")
		}
		m, err := f.plugins.start(ctx)
		if err != nil {
			return nil, nil, err
		}
		s, err := f.session(ctx)
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		if m != nil {
			s.Catalog.SetExtensions(m)
		}
		return s, func() { m.Close() }, nil
	}
	if f.plugins.any() {
		return nil, nil, fmt.Errorf("--plugin goes to the cluster's scheduler and executors, not to a client (--connect)")
	}
	if f.memoryLimit != "" || f.partitions != 0 {
		return nil, nil, fmt.Errorf("--memory-limit and --partitions are settings of the cluster (the scheduler's and executors' flags)")
	}
	if remote.IsFlightSQL(f.connect) {
		return f.flightSQL(ctx)
	}
	c, err := client.Dial(ctx, f.connect, client.WithSecurity(f.sec.security()))
	if err != nil {
		return nil, nil, err
	}
	rr := &remote.Runner{C: c}
	for _, reg := range f.registers {
		name, path, ok := strings.Cut(reg, "=")
		if !ok || name == "" || path == "" {
			c.Close()
			return nil, nil, fmt.Errorf("--register %q: expected name=path", reg)
		}
		format, err := worker.FormatFromPath(path)
		if err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("--register %s: %w", name, err)
		}
		abs, err := worker.AbsLocation(path)
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		ddl := fmt.Sprintf("CREATE OR REPLACE EXTERNAL TABLE %s STORED AS %s LOCATION '%s'", name, strings.ToUpper(format), strings.ReplaceAll(abs, "'", "''"))
		if err := rr.Run(ctx, ddl, func(r *engine.Result) error { return nil }); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("--register %s: %w", name, err)
		}
	}
	return rr, func() { c.Close() }, nil
}

func (f *sessionFlags) session(ctx context.Context) (*engine.Session, error) {
	var o engine.ExecOptions
	if f.memoryLimit != "" {
		n, err := engine.ParseBytes(f.memoryLimit)
		if err != nil {
			return nil, fmt.Errorf("--memory-limit: %w", err)
		}
		o.MemoryLimit = n
	}
	o.Partitions = f.partitions
	s := standalone.NewSession(o)
	for _, r := range f.registers {
		name, path, ok := strings.Cut(r, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("--register %q: expected name=path", r)
		}
		format, err := worker.FormatFromPath(path)
		if err != nil {
			return nil, fmt.Errorf("--register %s: %w", name, err)
		}
		abs, err := worker.AbsLocation(path)
		if err != nil {
			return nil, err
		}
		if err := s.Catalog.RegisterLocation(ctx, name, format, abs, nil, nil, false); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flightSQL connects to the Flight SQL server of --connect
// flightsql://HOST:PORT and registers the --register tables there.
func (f *sessionFlags) flightSQL(ctx context.Context) (engine.Runner, func(), error) {
	if f.sec.token != "" || f.sec.cert != "" || f.sec.key != "" {
		return nil, nil, fmt.Errorf("--token, --tls-cert and --tls-key are for the scheduler's own protocol; Flight SQL takes --user and --password (and --tls-ca with flightsql+tls://)")
	}
	pw := f.password
	if pw == "" && f.user != "" {
		pw = os.Getenv("ARBALEST_FLIGHTSQL_PASSWORD")
	}
	fr, err := remote.DialFlightSQL(ctx, f.connect, remote.FlightSQLOptions{User: f.user, Password: pw, CAFile: f.sec.ca})
	if err != nil {
		return nil, nil, err
	}
	for _, reg := range f.registers {
		name, path, ok := strings.Cut(reg, "=")
		if !ok || name == "" || path == "" {
			fr.Close()
			return nil, nil, fmt.Errorf("--register %q: expected name=path", reg)
		}
		format, err := worker.FormatFromPath(path)
		if err != nil {
			fr.Close()
			return nil, nil, fmt.Errorf("--register %s: %w", name, err)
		}
		abs, err := worker.AbsLocation(path)
		if err != nil {
			fr.Close()
			return nil, nil, err
		}
		ddl := fmt.Sprintf("CREATE OR REPLACE EXTERNAL TABLE %s STORED AS %s LOCATION '%s'", name, strings.ToUpper(format), strings.ReplaceAll(abs, "'", "''"))
		if err := fr.Run(ctx, ddl, func(*engine.Result) error { return nil }); err != nil {
			fr.Close()
			return nil, nil, fmt.Errorf("--register %s: %w", name, err)
		}
	}
	return fr, func() { fr.Close() }, nil
}
