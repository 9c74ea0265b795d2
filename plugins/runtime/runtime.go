// Package runtime starts and talks to plugin processes: the host side of
// the plugin protocol (plugins/proto/arbalest/plugin/v1). The scheduler
// uses it to plan (schemas, PlanScan, function signatures) and executors
// to run (splits, function calls); in standalone mode they share one.
//
// Plugins run under hashicorp/go-plugin over gRPC only, with AutoMTLS,
// a versioned plugin set and raised message limits. A plugin is started
// when the manager starts, checked (health) before use after a failure,
// restarted after a crash for the next query (at most maxRestarts a
// minute), and killed when the manager closes; on Linux the kernel kills
// plugins whose host died (PR_SET_PDEATHSIG), and the SDKs exit when
// their parent changes. Every call is bounded: a plugin that makes no
// progress for its timeout fails the call with an error naming it.
package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/plugins"
	"github.com/arbalest/arbalest/plugins/pluginpb"
	"github.com/arbalest/arbalest/substrait/logical"
)

// DefaultTimeout bounds a plugin call without progress.
const DefaultTimeout = 60 * time.Second

// maxRestarts bounds restarts of one plugin within a minute.
const maxRestarts = 5

// Options configure a Manager.
type Options struct {
	// Python is the interpreter for *.py plugins (default: $ARBALEST_PYTHON,
	// then python3).
	Python string
	// PythonPath is prepended to PYTHONPATH for *.py plugins: the folder
	// holding the arbalest Python package (default: $ARBALEST_PYTHONPATH).
	PythonPath string
	// Self is the arbalest binary, for builtin:<name> plugins (default:
	// the running executable), started as `Self plugin serve <name>`.
	Self string
	// Timeout is the default per-call timeout.
	Timeout time.Duration
	// Log receives the plugins' log lines (default: os.Stderr).
	Log io.Writer
}

// Manager owns the plugins of one process.
type Manager struct {
	opts    Options
	plugins map[string]*Plugin
	order   []string

	mu      sync.RWMutex
	funcs   map[string]*logical.Function // by lower-case name
	closed  bool
	closers []io.Closer
}

// New makes a manager for cfgs; Start starts the plugins.
func New(cfgs []Config, o Options) (*Manager, error) {
	if o.Self == "" {
		if exe, err := os.Executable(); err == nil {
			o.Self = exe
		}
	}
	if o.Python == "" {
		o.Python = os.Getenv("ARBALEST_PYTHON")
	}
	if o.PythonPath == "" {
		o.PythonPath = os.Getenv("ARBALEST_PYTHONPATH")
	}
	// In a checkout, bin/arbalest finds the SDK in sdk/python and the
	// interpreter the Makefile set up in .venv.
	if root := filepath.Dir(filepath.Dir(o.Self)); o.Self != "" {
		if o.PythonPath == "" && isFile(filepath.Join(root, "sdk", "python", "arbalest", "__init__.py")) {
			o.PythonPath = filepath.Join(root, "sdk", "python")
		}
		if o.Python == "" && isFile(filepath.Join(root, ".venv", "bin", "python")) {
			o.Python = filepath.Join(root, ".venv", "bin", "python")
		}
	}
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	m := &Manager{opts: o, plugins: map[string]*Plugin{}, funcs: map[string]*logical.Function{}}
	for _, c := range cfgs {
		if err := c.check(); err != nil {
			return nil, err
		}
		k := strings.ToLower(c.Name)
		if _, dup := m.plugins[k]; dup {
			return nil, fmt.Errorf("plugin %s is configured twice", c.Name)
		}
		if c.Timeout <= 0 {
			c.Timeout = o.Timeout
		}
		m.plugins[k] = &Plugin{cfg: c, m: m}
		m.order = append(m.order, k)
	}
	return m, nil
}

// Start starts every plugin and reads what it provides. A plugin that
// fails to start is an error naming it (the others are stopped).
func (m *Manager) Start(ctx context.Context) error {
	for _, k := range m.order {
		p := m.plugins[k]
		if _, err := p.client(ctx); err != nil {
			m.Close()
			return err
		}
	}
	return nil
}

// Names lists the configured plugins.
func (m *Manager) Names() []string { return append([]string(nil), m.order...) }

// Plugin returns a plugin by name.
func (m *Manager) Plugin(name string) (*Plugin, bool) {
	if m == nil {
		return nil, false
	}
	p, ok := m.plugins[strings.ToLower(name)]
	return p, ok
}

// Provider returns the data source of a scan plugin.
func (m *Manager) Provider(name string) (logical.ScanProvider, bool) {
	p, ok := m.Plugin(name)
	if !ok {
		return nil, false
	}
	info := p.Info()
	if info == nil || !info.GetScan() {
		return nil, false
	}
	return &scanProvider{p: p}, true
}

// Functions lists every plugin function, sorted by name.
func (m *Manager) Functions() []*logical.Function {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*logical.Function, 0, len(m.funcs))
	for _, f := range m.funcs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupFunction finds a plugin function by name (case-insensitive).
func (m *Manager) LookupFunction(name string) (*logical.Function, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.funcs[strings.ToLower(name)]
	return f, ok
}

// ResolveFunction finds a function by extension URN and name (urn ""
// matches any plugin).
func (m *Manager) ResolveFunction(urn, name string) (*logical.Function, bool) {
	f, ok := m.LookupFunction(name)
	if !ok || (urn != "" && f.URN != urn) {
		return nil, false
	}
	return f, true
}

// ExtensionYAMLs returns each function plugin's extension YAML by URN.
func (m *Manager) ExtensionYAMLs() map[string]string {
	out := map[string]string{}
	for _, k := range m.order {
		if info := m.plugins[k].Info(); info != nil && info.GetExtensionUrn() != "" {
			out[info.GetExtensionUrn()] = info.GetExtensionYaml()
		}
	}
	return out
}

// register records a plugin's functions (after its first start).
func (m *Manager) register(p *Plugin, info *pluginpb.GetInfoResponse) error {
	fs, err := plugins.Functions(p.cfg.Name, info, func(f *logical.Function) any {
		if f.Kind == logical.AggregateFunction {
			return &aggregateImpl{p: p, f: f}
		}
		return &scalarImpl{p: p, f: f}
	})
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range fs {
		if prev, dup := m.funcs[f.Name]; dup && prev.Provider != p.cfg.Name {
			return fmt.Errorf("function %s is provided by both plugin %s and plugin %s", f.Name, prev.Provider, p.cfg.Name)
		}
		if _, ok := m.funcs[f.Name]; !ok {
			m.funcs[f.Name] = f
		}
	}
	return nil
}

// Close stops every plugin (gracefully, then by force) and waits for them.
func (m *Manager) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	m.closed = true
	closers := m.closers
	m.closers = nil
	m.mu.Unlock()
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var wg sync.WaitGroup
	for _, p := range m.plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
	return nil
}

func (m *Manager) isClosed() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.closed
}

// Plugin is one configured plugin and its process, when running.
type Plugin struct {
	cfg Config
	m   *Manager

	mu       sync.Mutex
	proc     *goplugin.Client
	conn     *grpc.ClientConn
	info     *pluginpb.GetInfoResponse
	restarts []time.Time
	pool     map[string][]*exchange // open scalar exchanges by function
	// suspect is set after a failed call: the next use checks health.
	suspect bool
}

// Name is the configured name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Info is the plugin's GetInfo answer (nil before it first started).
func (p *Plugin) Info() *pluginpb.GetInfoResponse {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

// Timeout is the per-call timeout of the plugin.
func (p *Plugin) Timeout() time.Duration { return p.cfg.Timeout }

// client returns a connection to the running plugin, starting or
// restarting it when needed.
func (p *Plugin) client(ctx context.Context) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m.isClosed() {
		return nil, fmt.Errorf("plugin %s: the plugin manager is closed", p.cfg.Name)
	}
	if p.proc != nil && !p.proc.Exited() {
		if !p.suspect {
			return p.conn, nil
		}
		if err := p.ping(); err == nil {
			p.suspect = false
			return p.conn, nil
		}
		p.killLocked()
	}
	if p.proc != nil {
		// It was running and is gone: a crash (or a failed health check).
		now := time.Now()
		recent := p.restarts[:0]
		for _, t := range p.restarts {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		p.restarts = recent
		if len(recent) >= maxRestarts {
			return nil, fmt.Errorf("plugin %s: crashed %d times within a minute; not restarting it until a minute has passed", p.cfg.Name, len(recent))
		}
		p.restarts = append(p.restarts, now)
		p.closePoolLocked()
		p.proc, p.conn = nil, nil
	}
	if err := p.startLocked(ctx); err != nil {
		return nil, err
	}
	return p.conn, nil
}

func (p *Plugin) ping() error {
	cp, err := p.proc.Client()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cp.Ping() }()
	select {
	case err := <-done:
		return err
	case <-time.After(p.cfg.Timeout):
		return fmt.Errorf("no answer to the health check within %s", p.cfg.Timeout)
	}
}

// command builds the plugin's command line.
func (p *Plugin) command() (*exec.Cmd, string, error) {
	c := p.cfg
	var cmd *exec.Cmd
	file := c.Path
	switch {
	case strings.HasPrefix(c.Path, builtinPrefix):
		if p.m.opts.Self == "" {
			return nil, "", fmt.Errorf("plugin %s: cannot find the arbalest binary for %s", c.Name, c.Path)
		}
		file = p.m.opts.Self
		cmd = exec.Command(p.m.opts.Self, append([]string{"plugin", "serve", strings.TrimPrefix(c.Path, builtinPrefix)}, c.Args...)...)
	case strings.HasSuffix(c.Path, ".py"):
		abs, err := filepath.Abs(c.Path)
		if err != nil {
			return nil, "", err
		}
		file = abs
		cmd = exec.Command(p.m.opts.Python, append([]string{"-m", "arbalest.plugin", abs}, c.Args...)...)
		if pp := p.m.opts.PythonPath; pp != "" {
			if old := os.Getenv("PYTHONPATH"); old != "" {
				pp += string(os.PathListSeparator) + old
			}
			cmd.Env = append(cmd.Env, "PYTHONPATH="+pp)
		}
		cmd.Env = append(cmd.Env, "PYTHONUNBUFFERED=1")
	default:
		cmd = exec.Command(c.Path, c.Args...)
	}
	cmd.Env = append(os.Environ(), cmd.Env...)
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if st, err := os.Stat(file); err != nil {
		return nil, "", fmt.Errorf("plugin %s: %w", c.Name, err)
	} else if st.IsDir() {
		return nil, "", fmt.Errorf("plugin %s: %s is a folder", c.Name, file)
	}
	return cmd, file, nil
}

// verify checks the pinned checksum of the plugin file.
func (p *Plugin) verify(file string) error {
	if p.cfg.SHA256 == "" {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin %s: reading %s: %w", p.cfg.Name, file, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, p.cfg.SHA256) {
		return fmt.Errorf("plugin %s: %s has SHA-256 %s, but %s is pinned; refusing to start it", p.cfg.Name, file, got, strings.ToLower(p.cfg.SHA256))
	}
	return nil
}

type hostPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (hostPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host does not serve plugins")
}

func (hostPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

func (p *Plugin) startLocked(ctx context.Context) error {
	cmd, file, err := p.command()
	if err != nil {
		return err
	}
	if err := p.verify(file); err != nil {
		return err
	}
	reapWithHost(cmd)
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin." + p.cfg.Name, Output: p.m.opts.Log, Level: hclog.Warn})
	proc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{plugins.ProtocolVersion: {plugins.PluginKey: hostPlugin{}}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		StartTimeout:     min(p.cfg.Timeout, 30*time.Second),
		GRPCDialOptions:  plugins.DialOptions(),
	})
	fail := func(err error) error {
		proc.Kill()
		return fmt.Errorf("plugin %s: starting %s: %w", p.cfg.Name, file, err)
	}
	var cp goplugin.ClientProtocol
	if err := onStarterThread(func() error {
		var err error
		cp, err = proc.Client()
		return err
	}); err != nil {
		return fail(err)
	}
	raw, err := cp.Dispense(plugins.PluginKey)
	if err != nil {
		return fail(err)
	}
	conn := raw.(*grpc.ClientConn)
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	info, err := pluginpb.NewPluginServiceClient(conn).GetInfo(cctx, &pluginpb.GetInfoRequest{ProtocolVersion: plugins.ProtocolVersion})
	if err != nil {
		return fail(fmt.Errorf("GetInfo: %w", err))
	}
	if info.GetProtocolVersion() != plugins.ProtocolVersion {
		return fail(fmt.Errorf("it speaks plugin protocol %d, the host speaks %d", info.GetProtocolVersion(), plugins.ProtocolVersion))
	}
	first := p.info == nil
	p.proc, p.conn, p.info, p.suspect = proc, conn, info, false
	if first {
		if err := p.m.register(p, info); err != nil {
			p.killLocked()
			p.proc = nil
			return err
		}
	}
	return nil
}

// failed notes a failed call: a dead process is restarted on next use, a
// live one is health-checked first.
func (p *Plugin) failed() {
	p.mu.Lock()
	p.suspect = true
	p.mu.Unlock()
}

// describe turns a call error into one that names the plugin and says
// whether the process died.
func (p *Plugin) describe(what string, err error) error {
	err = notEOF(err)
	p.failed()
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	// go-plugin notices an exit asynchronously: give it a moment when the
	// connection broke.
	dead := proc != nil && proc.Exited()
	if proc != nil && !dead && status.Code(err) == codes.Unavailable {
		for i := 0; i < 20 && !dead; i++ {
			time.Sleep(25 * time.Millisecond)
			dead = proc.Exited()
		}
	}
	if dead {
		return fmt.Errorf("plugin %s crashed during %s (it is restarted for the next query): %w", p.cfg.Name, what, err)
	}
	return fmt.Errorf("plugin %s: %s: %w", p.cfg.Name, what, err)
}

func (p *Plugin) killLocked() {
	p.closePoolLocked()
	if p.proc != nil {
		p.proc.Kill()
	}
}

func (p *Plugin) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked()
	p.proc, p.conn = nil, nil
}

// PID is the plugin process's id, 0 when it is not running.
func (p *Plugin) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.Exited() {
		return 0
	}
	if rc := p.proc.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// AddFunctions adds functions that run in this process (native libraries
// loaded through the C Data Interface); names must not clash.
func (m *Manager) AddFunctions(fs []*logical.Function) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range fs {
		if prev, dup := m.funcs[f.Name]; dup {
			return fmt.Errorf("function %s is provided by both %s and %s", f.Name, prev.Provider, f.Provider)
		}
		m.funcs[f.Name] = f
	}
	return nil
}

// AddCloser closes c when the manager closes (native libraries whose
// functions were added).
func (m *Manager) AddCloser(c io.Closer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closers = append(m.closers, c)
}

// notEOF keeps a failed call from reading as the end of a stream: gRPC
// reports a broken stream to the sender as io.EOF, and a wrapped io.EOF
// would make the engine take an error for the end of the data.
func notEOF(err error) error {
	if err != nil && errors.Is(err, io.EOF) {
		return fmt.Errorf("%s (the plugin ended the stream)", err.Error())
	}
	return err
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
