package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
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
	sec         securityFlags
	plugins     pluginFlags
}

func (f *sessionFlags) add(fs *flag.FlagSet) {
	fs.Var(&f.registers, "register", "register a table: name=path (format from the extension or the folder's files); repeatable")
	fs.StringVar(&f.memoryLimit, "memory-limit", "", "memory limit for a query's operators, e.g. 2GB (default: none)")
	fs.IntVar(&f.partitions, "partitions", 0, "target parallelism (default: number of CPUs)")
	fs.StringVar(&f.connect, "connect", "", "run on the cluster whose scheduler is at HOST:PORT instead of in this process")
	f.sec.add(fs)
	f.plugins.add(fs)
}

// runner returns where statements run: this process, or the cluster of
// --connect. close releases it.
func (f *sessionFlags) runner(ctx context.Context) (r engine.Runner, close func(), err error) {
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
		abs, err := filepath.Abs(path)
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
		abs, err := filepath.Abs(path)
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
