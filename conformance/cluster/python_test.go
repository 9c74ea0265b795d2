package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/arbalest/arbalest/conformance/tpch"
)

// addPythonExecutor starts a Python executor (workers/python) of the
// cluster.
func (c *testCluster) addPythonExecutor(slots int) *proc {
	c.t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		c.t.Fatal(err)
	}
	dir := filepath.Join(c.t.TempDir(), fmt.Sprintf("py-executor-%d", c.n))
	c.n++
	cmd := exec.Command(c.e.python, "-m", "arbalest_worker", "--scheduler", c.addr, "--addr", "127.0.0.1:0",
		"--slots", fmt.Sprint(slots), "--work-dir", dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "workers", "python"))
	p, _, err := startCmd(cmd, fmt.Sprintf("python executor %d", c.n), regexp.MustCompile(`executor (\S+) serving on`))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { p.kill() })
	c.execs = append(c.execs, p)
	c.dirs = append(c.dirs, dir)
	return p
}

// getJSON reads a scheduler REST answer.
func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// tasksByEngine counts the tasks of every job in the scheduler's records
// by the engine of the executor that ran them.
func tasksByEngine(t *testing.T, web string) map[string]int {
	var exs struct {
		Executors []struct{ ID, Engine string } `json:"executors"`
	}
	getJSON(t, web+"/api/executors", &exs)
	engine := map[string]string{}
	for _, e := range exs.Executors {
		engine[e.ID] = e.Engine
	}
	var jobs struct {
		Jobs []struct{ ID string } `json:"jobs"`
	}
	getJSON(t, web+"/api/jobs", &jobs)
	out := map[string]int{}
	for _, j := range jobs.Jobs {
		var job struct {
			Stages []struct {
				Tasks []struct{ Executor, State string } `json:"task_list"`
			} `json:"stage_list"`
		}
		getJSON(t, web+"/api/jobs/"+j.ID, &job)
		for _, st := range job.Stages {
			for _, tk := range st.Tasks {
				if tk.Executor != "" {
					out[engine[tk.Executor]]++
				}
			}
		}
	}
	return out
}

// TestMixedCluster runs TPC-H 22/22 on a scheduler, a Go executor and a
// Python executor: every answer is verified, and the jobs' records show
// tasks of both kinds of executor.
func TestMixedCluster(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	web := freeAddr(t)
	c := &testCluster{t: t, e: e}
	c.start(1, 2, "--http", web)
	c.addPythonExecutor(2)
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
	n := tasksByEngine(t, "http://"+web)
	t.Logf("tasks by engine: %v", n)
	if n["go"] == 0 || n["python"] == 0 {
		t.Errorf("tasks by engine %v: want tasks on both the Go and the Python executor", n)
	}
	c.waitNoFiles(15 * time.Second)
}

// TestPythonExecutorKilled kills the Python executor while queries run:
// they still give the verified answers (its work is redone).
func TestPythonExecutorKilled(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	c := &testCluster{t: t, e: e}
	c.start(1, 2)
	py := c.addPythonExecutor(2)
	r, done := c.runner()
	defer done()
	ctx := context.Background()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	for i, q := range []int{3, 9, 18} {
		resc := make(chan *tpch.Result, 1)
		go func() { resc <- tpch.Run(ctx, r, q) }()
		time.Sleep(time.Duration(200+100*i) * time.Millisecond)
		py.cmd.Process.Signal(syscall.SIGKILL)
		<-py.done
		select {
		case res := <-resc:
			c.check(q, res, want)
			t.Logf("q%02d survived a killed Python executor: %d rows in %s", q, len(res.Rows), res.Elapsed.Round(time.Millisecond))
		case <-time.After(3 * time.Minute):
			t.Fatalf("q%02d did not end within 3 minutes after the Python executor was killed\n%s", q, c.logs())
		}
		py = c.addPythonExecutor(2)
	}
}
