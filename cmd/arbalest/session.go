package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
	worker "github.com/arbalest/arbalest/workers/go"
)

// sessionFlags are the flags every command that runs queries shares.
type sessionFlags struct {
	registers   multiFlag
	memoryLimit string
	partitions  int
}

func (f *sessionFlags) add(fs *flag.FlagSet) {
	fs.Var(&f.registers, "register", "register a table: name=path (format from the extension or the folder's files); repeatable")
	fs.StringVar(&f.memoryLimit, "memory-limit", "", "memory limit for a query's operators, e.g. 2GB (default: none)")
	fs.IntVar(&f.partitions, "partitions", 0, "target parallelism (default: number of CPUs)")
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
