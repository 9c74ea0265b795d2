// Package cluster_test runs the engine as a cluster of processes on
// loopback (one scheduler, several executors, the arbalest binary of
// $ARBALEST_BIN) and checks TPC-H answers against DuckDB under failures:
// executors killed mid-query, cancelled jobs, many concurrent clients.
// `make test` sets the environment; without it the tests skip.
package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/remote"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/sdk/client"
)

// env is what the tests need from `make test`.
type env struct {
	bin, data, python string
}

func needEnv(t *testing.T) env {
	t.Helper()
	e := env{bin: os.Getenv("ARBALEST_BIN"), data: os.Getenv("ARBALEST_TPCH_SF01"), python: os.Getenv("ARBALEST_PYTHON")}
	if e.bin == "" || e.data == "" || e.python == "" {
		t.Skip("set ARBALEST_BIN, ARBALEST_TPCH_SF01 and ARBALEST_PYTHON (make test does)")
	}
	return e
}

var (
	answersOnce sync.Once
	answers     map[int][][]tpch.Value
	answersErr  error
)

// duckdb computes the 22 answers once per test binary.
func duckdb(t *testing.T, e env) map[int][][]tpch.Value {
	t.Helper()
	answersOnce.Do(func() {
		var qs []int
		for q := 1; q <= 22; q++ {
			qs = append(qs, q)
		}
		answers, answersErr = tpch.DuckDBAnswers(context.Background(), e.python, e.data, qs)
	})
	if answersErr != nil {
		t.Fatal(answersErr)
	}
	return answers
}

// proc is a child process with its output captured.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the binary; ready is matched against its stderr lines and
// its first submatch returned.
func start(t *testing.T, e env, name string, ready *regexp.Regexp, args ...string) (*proc, string) {
	t.Helper()
	p, v, err := startProc(e, name, ready, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	return p, v
}

func tryStart(e env, name string, ready *regexp.Regexp, args ...string) (*proc, error) {
	p, _, err := startProc(e, name, ready, args...)
	return p, err
}

func startProc(e env, name string, ready *regexp.Regexp, args ...string) (*proc, string, error) {
	return startCmd(exec.Command(e.bin, args...), name, ready)
}

// startCmd runs cmd; ready is matched against its stderr lines and its
// first submatch returned.
func startCmd(cmd *exec.Cmd, name string, ready *regexp.Regexp) (*proc, string, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	p := &proc{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = io.MultiWriter(p.out, pw)
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %v", name, err)
	}
	go func() {
		cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[len(m)-1]
				sent = true
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case v := <-found:
		return p, v, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready:\n%s", name, p.out.String())
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, "", fmt.Errorf("%s not ready after 30s:\n%s", name, p.out.String())
	}
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// testCluster is a scheduler and executors, each its own process.
type testCluster struct {
	t         *testing.T
	e         env
	addr      string
	schedArgs []string
	sched     *proc
	execs     []*proc
	dirs      []string
	n         int
	// execFlags are added to every executor's command line.
	execFlags []string
}

var schedReady = regexp.MustCompile(`scheduler serving on (\S+)`)

func newCluster(t *testing.T, e env, executors, slots int, schedArgs ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, e: e}
	c.start(executors, slots, schedArgs...)
	return c
}

// start starts the scheduler and the executors and waits until they
// answer.
func (c *testCluster) start(executors, slots int, schedArgs ...string) {
	t, e := c.t, c.e
	t.Helper()
	c.addr = freeAddr(t)
	c.schedArgs = append([]string{"scheduler", "--addr", c.addr, "--heartbeat", "250ms", "--executor-timeout", "2s", "--partitions", "4"}, schedArgs...)
	c.sched, _ = start(t, e, "scheduler", regexp.MustCompile(`scheduler serving on (\S+)`), c.schedArgs...)
	for i := 0; i < executors; i++ {
		c.addExecutor(slots)
	}
	cl := c.client()
	defer cl.Close()
	// Wait for every executor to register: a trivial query needs one.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := cl.SQL(context.Background(), "SELECT 1")
		if err == nil {
			res.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready: %v\n%s", err, c.sched.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port nobody listens on (the
// scheduler keeps its address across restarts).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// restartScheduler kills the scheduler and starts it again on the same
// address with the same flags.
func (c *testCluster) restartScheduler() {
	c.t.Helper()
	c.sched.cmd.Process.Signal(syscall.SIGKILL)
	<-c.sched.done
	old := c.sched.out.String()
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment
		c.sched, err = tryStart(c.e, "scheduler", regexp.MustCompile(`scheduler serving on (\S+)`), c.schedArgs...)
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("restarting the scheduler: %v", err)
	}
	c.t.Cleanup(func() { c.sched.kill() })
	c.sched.out.Write([]byte("--- (before the restart)\n" + tail(old, 3000) + "--- (restarted)\n"))
}

func (c *testCluster) addExecutor(slots int) *proc {
	dir := filepath.Join(c.t.TempDir(), fmt.Sprintf("executor-%d", c.n))
	c.n++
	args := append([]string{"executor", "--scheduler", c.addr, "--addr", "127.0.0.1:0", "--slots", fmt.Sprint(slots), "--work-dir", dir}, c.execFlags...)
	p, _ := start(c.t, c.e, fmt.Sprintf("executor %d", c.n), regexp.MustCompile(`executor (\S+) serving on`), args...)
	c.execs = append(c.execs, p)
	c.dirs = append(c.dirs, dir)
	return p
}

func (c *testCluster) client() *client.Client {
	cl, err := client.Dial(context.Background(), c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

func (c *testCluster) runner() (*remote.Runner, func()) {
	cl := c.client()
	return &remote.Runner{C: cl}, func() { cl.Close() }
}

// filesLeft lists the job files on the executors' disks.
func (c *testCluster) filesLeft() []string {
	var out []string
	for _, d := range c.dirs {
		filepath.Walk(d, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				out = append(out, path)
			}
			return nil
		})
	}
	return out
}

// waitNoFiles waits until the executors removed every job file.
func (c *testCluster) waitNoFiles(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := c.filesLeft()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d files left on the executors, e.g. %s", len(left), left[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *testCluster) check(q int, res *tpch.Result, want map[int][][]tpch.Value) {
	c.t.Helper()
	if res.Err != nil {
		c.t.Fatalf("q%02d: %v\n%s", q, res.Err, c.logs())
	}
	if err := tpch.Compare(res.Rows, want[q]); err != nil {
		c.t.Fatalf("q%02d: wrong answer vs DuckDB: %v", q, err)
	}
}

// logs is the tail of every process's output, for failures.
func (c *testCluster) logs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- scheduler:\n%s\n", tail(c.sched.out.String(), 6000))
	for _, e := range c.execs {
		fmt.Fprintf(&b, "--- %s:\n%s\n", e.name, tail(e.out.String(), 3000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestTPCH runs the 22 queries on one scheduler and three executors that
// read each other's shuffle outputs over Flight, as on separate machines.
func TestTPCH(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	c := &testCluster{t: t, e: e, execFlags: []string{"--shuffle-over-flight"}}
	c.start(3, 2)
	r, done := c.runner()
	defer done()
	ctx := context.Background()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	for q := 1; q <= 22; q++ {
		res := tpch.Run(ctx, r, q)
		c.check(q, res, want)
		t.Logf("q%02d %d rows in %s", q, len(res.Rows), res.Elapsed.Round(time.Millisecond))
	}
	c.waitNoFiles(10 * time.Second)
}

// TestExecutorKilled kills an executor while each query runs; the queries
// still give the right answers, on the executors left and a new one.
func TestExecutorKilled(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	c := newCluster(t, e, 3, 2)
	r, done := c.runner()
	defer done()
	ctx := context.Background()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	for i, q := range []int{1, 3, 9, 18, 21} {
		victim := c.execs[i%len(c.execs)]
		resc := make(chan *tpch.Result, 1)
		go func() { resc <- tpch.Run(ctx, r, q) }()
		time.Sleep(time.Duration(150+100*i) * time.Millisecond)
		victim.cmd.Process.Signal(syscall.SIGKILL)
		<-victim.done
		// Replace it so the cluster keeps its size.
		c.execs[i%len(c.execs)] = c.addExecutor(2)
		select {
		case res := <-resc:
			c.check(q, res, want)
			t.Logf("q%02d survived a killed executor: %d rows in %s", q, len(res.Rows), res.Elapsed.Round(time.Millisecond))
		case <-time.After(3 * time.Minute):
			t.Fatalf("q%02d did not end within 3 minutes after an executor was killed\n%s", q, c.logs())
		}
	}
}

// TestCancel cancels a running job: its tasks stop and its files go.
func TestCancel(t *testing.T) {
	e := needEnv(t)
	c := newCluster(t, e, 2, 2)
	r, done := c.runner()
	defer done()
	ctx := context.Background()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	cl := r.C
	// A cross join of lineitem with itself runs far longer than the test.
	q := "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_orderkey + b.l_orderkey = 7"
	id, err := cl.Submit(ctx, submitSQL(q))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := cl.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := cl.Wait(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.GetState().String() != "JOB_STATE_CANCELLED" {
		t.Fatalf("job state %s after cancel", st.GetState())
	}
	c.waitNoFiles(15 * time.Second)
	// The cluster still works.
	res := tpch.Run(ctx, r, 6)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
}

// TestConcurrentClients runs TPC-H queries from 16 clients at once.
func TestConcurrentClients(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	c := newCluster(t, e, 3, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, done := c.runner()
			defer done()
			// Every client is a session of its own (Q15 creates and drops
			// a view of the same name in each).
			if err := tpch.Register(ctx, r, e.data); err != nil {
				errs <- fmt.Errorf("client %d: %v", i, err)
				return
			}
			for _, q := range []int{1 + i%22, 1 + (i+7)%22} {
				res := tpch.Run(ctx, r, q)
				if res.Err != nil {
					errs <- fmt.Errorf("client %d q%02d: %v", i, q, res.Err)
					return
				}
				if err := tpch.Compare(res.Rows, want[q]); err != nil {
					errs <- fmt.Errorf("client %d q%02d: %v", i, q, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.waitNoFiles(15 * time.Second)
}

// testRestart kills the scheduler while queries run and starts it again
// with the same state: every query still gives the right answer, and at
// least one job was resumed by the new scheduler (not only resubmitted).
func testRestart(t *testing.T, e env, schedArgs ...string) {
	want := duckdb(t, e)
	c := newCluster(t, e, 3, 2, schedArgs...)
	r, done := c.runner()
	defer done()
	ctx := context.Background()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	for i, q := range []int{9, 21, 18, 13, 2} {
		resc := make(chan *tpch.Result, 1)
		go func() { resc <- tpch.Run(ctx, r, q) }()
		time.Sleep(time.Duration(100+60*i) * time.Millisecond)
		c.restartScheduler()
		select {
		case res := <-resc:
			c.check(q, res, want)
			t.Logf("q%02d survived a scheduler restart: %d rows in %s", q, len(res.Rows), res.Elapsed.Round(time.Millisecond))
		case <-time.After(3 * time.Minute):
			t.Fatalf("q%02d did not end within 3 minutes after the scheduler restarted\n%s", q, c.logs())
		}
	}
	// The tables survived the restarts too (the session was replayed).
	res := tpch.Run(ctx, r, 6)
	c.check(6, res, want)
	if !strings.Contains(c.sched.out.String(), "resumed") {
		t.Errorf("no job was resumed by a restarted scheduler (the kills came too late?)\n%s", c.logs())
	}
}

// TestSchedulerRestart restarts a scheduler that keeps its state in a
// directory.
func TestSchedulerRestart(t *testing.T) {
	e := needEnv(t)
	testRestart(t, e, "--state", t.TempDir())
}

// TestSchedulerRestartEtcd restarts a scheduler that keeps its state in a
// real etcd server ($ARBALEST_ETCD_BIN, started here on loopback).
func TestSchedulerRestartEtcd(t *testing.T) {
	e := needEnv(t)
	bin := os.Getenv("ARBALEST_ETCD_BIN")
	if bin == "" {
		t.Skip("set ARBALEST_ETCD_BIN to an etcd binary (make test does)")
	}
	client, peer := freeAddr(t), freeAddr(t)
	p, _ := start(t, env{bin: bin}, "etcd", regexp.MustCompile(`(ready to serve client requests|serving client requests on|serving insecure client requests)`),
		"--name", "arbalest-test", "--data-dir", t.TempDir(),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "arbalest-test=http://"+peer)
	_ = p
	testRestart(t, e, "--etcd", client)
}
