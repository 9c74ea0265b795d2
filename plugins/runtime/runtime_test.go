package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

var (
	buildOnce sync.Once
	pluginBin string
	buildErr  error
)

// testPlugin builds testdata/testplugin once per test binary.
func testPlugin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arbalest-testplugin-")
		if err != nil {
			buildErr = err
			return
		}
		pluginBin = filepath.Join(dir, "testplugin")
		out, err := exec.Command("go", "build", "-o", pluginBin, "./testdata/testplugin").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building the test plugin: %v", buildErr)
	}
	return pluginBin
}

func startManager(t *testing.T, cfgs ...Config) (*Manager, *bytes.Buffer) {
	t.Helper()
	var log syncBuffer
	m, err := New(cfgs, Options{Log: &log, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, &log.b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func int64s(vals ...int64) arrow.Array {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for _, v := range vals {
		if v < 0 {
			b.AppendNull()
		} else {
			b.Append(v)
		}
	}
	return b.NewArray()
}

func strs(vals ...string) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}

func TestFunctionsAndCalls(t *testing.T) {
	m, _ := startManager(t, Config{Name: "tp", Path: testPlugin(t)})
	var names []string
	for _, f := range m.Functions() {
		names = append(names, f.Name+":"+f.Kind.String())
		if f.URN != "extension:arbalest-tests:testplugin" || f.Provider != "tp" {
			t.Errorf("%s: URN %q provider %q", f.Name, f.URN, f.Provider)
		}
	}
	if got := strings.Join(names, ","); got != "add_one:scalar,misbehave:scalar,my_sum:aggregate,shout:scalar" {
		t.Fatalf("functions: %s", got)
	}
	yaml := m.ExtensionYAMLs()["extension:arbalest-tests:testplugin"]
	if !strings.Contains(yaml, "urn: extension:arbalest-tests:testplugin") || !strings.Contains(yaml, "name: add_one") || !strings.Contains(yaml, "value: i64") {
		t.Errorf("extension YAML:\n%s", yaml)
	}
	f, _ := m.LookupFunction("ADD_ONE")
	ctx := context.Background()
	in := int64s(1, -1, 41)
	defer in.Release()
	// Many concurrent calls share pooled streams.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				out, err := f.Impl.(logical.ScalarImpl).EvalScalar(ctx, []arrow.Array{in}, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if got := out.String(); got != "[2 (null) 42]" {
					t.Errorf("add_one = %s", got)
				}
				out.Release()
			}
		}()
	}
	wg.Wait()

	agg, _ := m.LookupFunction("my_sum")
	for _, phase := range []logical.AggregatePhase{logical.AggregateComplete, logical.AggregatePartial} {
		s, err := agg.Impl.(logical.AggregateImpl).OpenAggregate(ctx, phase)
		if err != nil {
			t.Fatal(err)
		}
		g := array.NewUint32Builder(memory.DefaultAllocator)
		g.AppendValues([]uint32{0, 1, 0, 2}, nil)
		groups := g.NewArray()
		vals := int64s(5, 7, 6, -1)
		if err := s.Update(ctx, groups, []arrow.Array{vals}); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := s.Finish(ctx, func(b arrow.RecordBatch) error {
			for i := 1; i < int(b.NumCols()); i++ {
				got = append(got, b.Column(i).String())
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		want := "[11 7 (null)]"
		if phase == logical.AggregatePartial {
			want = "[11 7 0],[2 1 0]"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("phase %d: %v, want %s", phase, got, want)
		}
		groups.Release()
		vals.Release()
	}
}

func TestScan(t *testing.T) {
	m, _ := startManager(t, Config{Name: "tp", Path: testPlugin(t)})
	ctx := context.Background()
	schema, rows, err := m.Schema(ctx, "tp", "t", map[string]string{"rows": "2500"})
	if err != nil || rows != 2500 || schema.NumFields() != 3 {
		t.Fatalf("schema %v rows %d err %v", schema, rows, err)
	}
	prov, ok := m.Provider("tp")
	if !ok {
		t.Fatal("no provider")
	}
	src := &logical.TableSource{Name: "t", Format: "tp", Options: map[string]string{"rows": "2500"}, Schema: schema, RowCount: rows}
	gt := &logical.Call{Func: "gt", Args: []logical.Expr{&logical.ColumnRef{Index: 0, T: arrow.PrimitiveTypes.Int64}, &logical.Literal{Value: int64(2000), T: arrow.PrimitiveTypes.Int64}}, T: arrow.FixedWidthTypes.Boolean}
	plan, err := prov.PlanScan(ctx, src, []int{2, 0}, []logical.Expr{gt}, -1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Splits) != 3 || plan.Verdicts[0] != logical.FilterExact || !strings.Contains(plan.Explain, "id > 2000") {
		t.Fatalf("plan %+v", plan)
	}
	out := arrow.NewSchema([]arrow.Field{schema.Field(2), schema.Field(0)}, nil)
	total := int64(0)
	for _, sp := range plan.Splits {
		r, err := prov.ReadSplit(ctx, src, out, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			total += b.NumRows()
			b.Release()
		}
		r.Close()
	}
	if total != 499 {
		t.Errorf("read %d rows, want 499", total)
	}
}

func readAll(ctx context.Context, prov logical.ScanProvider, src *logical.TableSource) error {
	plan, err := prov.PlanScan(ctx, src, nil, nil, -1, 1)
	if err != nil {
		return err
	}
	for _, sp := range plan.Splits {
		r, err := prov.ReadSplit(ctx, src, src.Schema, sp)
		if err != nil {
			return err
		}
		for {
			b, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return err
			}
			b.Release()
		}
		r.Close()
	}
	return nil
}

func TestFailures(t *testing.T) {
	m, log := startManager(t, Config{Name: "tp", Path: testPlugin(t), Timeout: 2 * time.Second})
	defer func() {
		if t.Failed() {
			t.Log(log.String())
		}
	}()
	ctx := context.Background()
	prov, _ := m.Provider("tp")
	p, _ := m.Plugin("tp")
	schema, _, _ := m.Schema(ctx, "tp", "t", nil)
	table := func(mode string) *logical.TableSource {
		return &logical.TableSource{Name: "t_" + mode, Format: "tp", Options: map[string]string{"rows": "5000", "mode": mode}, Schema: schema}
	}
	if err := readAll(ctx, prov, table("")); err != nil {
		t.Fatal(err)
	}
	pid := p.PID()
	err := readAll(ctx, prov, table("crash"))
	if err == nil || !strings.Contains(err.Error(), "plugin tp crashed") {
		t.Fatalf("crash: %v", err)
	}
	// Restarted for the next query.
	if err := readAll(ctx, prov, table("")); err != nil {
		t.Fatalf("after a crash: %v", err)
	}
	if p.PID() == pid || p.PID() == 0 {
		t.Errorf("plugin was not restarted (pid %d → %d)", pid, p.PID())
	}
	start := time.Now()
	err = readAll(ctx, prov, table("hang"))
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "plugin tp") {
		t.Fatalf("hang: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hang took %s", d)
	}
	err = readAll(ctx, prov, table("wrong_schema"))
	if err == nil || !strings.Contains(err.Error(), "wrong schema") {
		t.Fatalf("wrong schema: %v", err)
	}
	if _, _, err := m.Schema(ctx, "tp", "x", map[string]string{"rows": "many"}); err == nil || !strings.Contains(err.Error(), `option rows: "many"`) {
		t.Fatalf("bad option: %v", err)
	}
	f, _ := m.LookupFunction("misbehave")
	call := func(mode string) error {
		a := strs(mode)
		defer a.Release()
		out, err := f.Impl.(logical.ScalarImpl).EvalScalar(ctx, []arrow.Array{a}, 1)
		if out != nil {
			out.Release()
		}
		return err
	}
	for _, c := range [][2]string{
		{"error", "misbehave was asked to fail"}, {"wrong_type", "returned 1 rows of utf8"},
		{"hang", "timed out"}, {"crash", "plugin tp crashed"}, {"wrong_type", "returned 1 rows of utf8"},
	} {
		mode, want := c[0], c[1]
		if err := call(mode); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("misbehave(%s): %v, want %q", mode, err, want)
		}
		if err := call("ok"); err != nil {
			t.Errorf("after misbehave(%s): %v", mode, err)
		}
	}
}

func TestChecksumPin(t *testing.T) {
	bin := testPlugin(t)
	data, _ := os.ReadFile(bin)
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	startManager(t, Config{Name: "tp", Path: bin, SHA256: good})
	bad := strings.Repeat("0", 64)
	m, err := New([]Config{{Name: "tp", Path: bin, SHA256: bad}}, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is pinned; refusing to start it") {
		t.Fatalf("bad checksum: %v", err)
	}
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	// A zombie still answers signal 0; read its state.
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(st))
	return len(f) > 2 && f[2] != "Z"
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d is still running", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCloseStopsPlugins(t *testing.T) {
	m, _ := startManager(t, Config{Name: "tp", Path: testPlugin(t)})
	p, _ := m.Plugin("tp")
	pid := p.PID()
	if !alive(pid) {
		t.Fatalf("plugin pid %d not running", pid)
	}
	m.Close()
	waitGone(t, pid)
	if _, err := p.client(context.Background()); err == nil {
		t.Error("a closed manager started a plugin")
	}
}

// TestHostKilled: a host killed with SIGKILL leaves no plugin behind.
func TestHostKilled(t *testing.T) {
	if os.Getenv("ARBALEST_TEST_HOST") == "1" {
		m, err := New([]Config{{Name: "tp", Path: os.Getenv("ARBALEST_TEST_PLUGIN")}}, Options{Log: io.Discard})
		if err != nil {
			os.Exit(2)
		}
		if err := m.Start(context.Background()); err != nil {
			os.Exit(3)
		}
		p, _ := m.Plugin("tp")
		os.Stdout.WriteString(strconv.Itoa(p.PID()) + "\n")
		time.Sleep(time.Hour)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostKilled$")
	cmd.Env = append(os.Environ(), "ARBALEST_TEST_HOST=1", "ARBALEST_TEST_PLUGIN="+testPlugin(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 32)
	n, _ := io.ReadAtLeast(out, buf, 2)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || !alive(pid) {
		t.Fatalf("host printed %q", buf[:n])
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitGone(t, pid)
}

// TestBrokenPooledStream: a pooled stream that broke while idle is
// replaced; a call error never reads as the end of a stream.
func TestBrokenPooledStream(t *testing.T) {
	m, _ := startManager(t, Config{Name: "tp", Path: testPlugin(t)})
	f, _ := m.LookupFunction("add_one")
	impl := f.Impl.(logical.ScalarImpl)
	in := int64s(1, 2)
	defer in.Release()
	ctx := context.Background()
	for range 2 {
		out, err := impl.EvalScalar(ctx, []arrow.Array{in}, 2)
		if err != nil {
			t.Fatal(err)
		}
		out.Release()
		p, _ := m.Plugin("tp")
		p.mu.Lock()
		for _, e := range p.pool["add_one"] {
			e.cancel()
		}
		p.mu.Unlock()
	}
	if err := (&Plugin{cfg: Config{Name: "x"}, m: m}).describe("reading", io.EOF); errors.Is(err, io.EOF) {
		t.Errorf("%v wraps io.EOF", err)
	}
}
