package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/arbalest/arbalest/plugins/native"
	"github.com/arbalest/arbalest/plugins/postgres"
	"github.com/arbalest/arbalest/plugins/runtime"
	"github.com/arbalest/arbalest/sdk/plugin"
)

// pluginFlags load plugins: --plugin name=path (repeatable),
// --plugin-config FILE, --plugin-timeout.
type pluginFlags struct {
	specs   multiFlag
	config  string
	native  multiFlag
	timeout time.Duration
}

func (f *pluginFlags) add(fs *flag.FlagSet) {
	fs.Var(&f.specs, "plugin", "load a plugin: name=path[,sha256=HEX][,timeout=30s]; path is an executable, a Python file (.py) or builtin:postgres; repeatable")
	fs.StringVar(&f.config, "plugin-config", "", "YAML or JSON file listing plugins (plugins: [{name, path, args, env, sha256, timeout}])")
	fs.DurationVar(&f.timeout, "plugin-timeout", runtime.DefaultTimeout, "fail a plugin call that makes no progress for this long")
	fs.Var(&f.native, "native", "load a native UDF library (C ABI of plugins/native/arbalest_udf.h) into this process; repeatable")
}

func (f *pluginFlags) any() bool { return len(f.specs) > 0 || f.config != "" || len(f.native) > 0 }

// start starts the plugins; nil when none are configured.
func (f *pluginFlags) start(ctx context.Context) (*runtime.Manager, error) {
	if !f.any() {
		return nil, nil
	}
	var cfgs []runtime.Config
	if f.config != "" {
		c, err := runtime.LoadFile(f.config)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, c...)
	}
	for _, s := range f.specs {
		c, err := runtime.ParseFlag(s)
		if err != nil {
			return nil, fmt.Errorf("--plugin: %w", err)
		}
		cfgs = append(cfgs, c)
	}
	m, err := runtime.New(cfgs, runtime.Options{Timeout: f.timeout})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := m.Start(sctx); err != nil {
		return nil, err
	}
	for _, path := range f.native {
		lib, err := native.Load(path)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("--native: %w", err)
		}
		m.AddCloser(lib)
		if err := m.AddFunctions(lib.Functions()); err != nil {
			m.Close()
			return nil, fmt.Errorf("--native %s: %w", path, err)
		}
	}
	return m, nil
}

// builtinPlugins are the plugins bundled in the binary, served by
// `arbalest plugin serve NAME` (a host starts them for builtin:NAME).
var builtinPlugins = map[string]func() *plugin.Plugin{
	"postgres": postgres.Plugin,
}

// cmdPlugin runs `arbalest plugin serve NAME` and `arbalest plugin list`.
func cmdPlugin(_ context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("plugin: expected serve NAME or list")
	}
	switch args[0] {
	case "list":
		names := make([]string, 0, len(builtinPlugins))
		for n := range builtinPlugins {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(stdout, strings.Join(names, "\n"))
		return nil
	case "serve":
		if len(args) != 2 {
			return errors.New("plugin serve: expected the name of a bundled plugin")
		}
		mk, ok := builtinPlugins[args[1]]
		if !ok {
			return fmt.Errorf("plugin serve: no bundled plugin %q (see arbalest plugin list)", args[1])
		}
		if os.Getenv("ARBALEST_PLUGIN") == "" {
			return fmt.Errorf("plugin serve %s: this runs a plugin for an Arbalest host; load it with --plugin NAME=builtin:%s", args[1], args[1])
		}
		plugin.Serve(mk())
		return nil
	}
	return fmt.Errorf("plugin: unknown subcommand %q (serve, list)", args[0])
}
