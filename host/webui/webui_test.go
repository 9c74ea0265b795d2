package webui

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/logical"
)

func TestJobList(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})

	var empty jobList
	decode(t, do(t, h, "GET", "/api/jobs"), 200, &empty)
	if empty.Jobs == nil || len(empty.Jobs) != 0 {
		t.Fatalf("no jobs: got %#v, want an empty list", empty.Jobs)
	}

	first := plan(t, "SELECT o_id FROM orders WHERE o_total > 10", 2)
	second := plan(t, joinQuery, 3)
	id1 := submit(t, s, "SELECT o_id FROM orders WHERE o_total > 10", first)
	id2 := submit(t, s, joinQuery, second)

	var got jobList
	decode(t, do(t, h, "GET", "/api/jobs"), 200, &got)
	if len(got.Jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(got.Jobs))
	}
	// Newest first.
	j2, j1 := got.Jobs[0], got.Jobs[1]
	if j2.ID != id2 || j1.ID != id1 {
		t.Fatalf("jobs %s, %s; want %s, %s", j2.ID, j1.ID, id2, id1)
	}
	for _, c := range []struct {
		got   scheduler.JobSummary
		query string
		n     int
		tasks int
	}{
		{j1, "SELECT o_id FROM orders WHERE o_total > 10", len(first.Stages), totalTasks(first.Stages)},
		{j2, joinQuery, len(second.Stages), totalTasks(second.Stages)},
	} {
		if c.got.Query != c.query || c.got.State != "running" || c.got.Session != "session-1" || c.got.Stages != c.n ||
			c.got.TasksTotal != c.tasks || c.got.TasksDone != 0 || c.got.Created.IsZero() || !c.got.Ended.IsZero() {
			t.Errorf("job %s: %+v; want query %q, running, %d stages, %d tasks", c.got.ID, c.got, c.query, c.n, c.tasks)
		}
	}
	// The trailing slash and HEAD are accepted.
	decode(t, do(t, h, "GET", "/api/jobs/"), 200, &got)
	if res := do(t, h, "HEAD", "/api/jobs"); res.StatusCode != 200 {
		t.Fatalf("HEAD /api/jobs: %d", res.StatusCode)
	}
}

func TestJobDetail(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	job := plan(t, joinQuery, 3)
	if len(job.Stages) < 3 {
		t.Fatalf("the join query planned into %d stages; the test needs a graph", len(job.Stages))
	}
	id := submit(t, s, joinQuery, job)

	var got scheduler.JobInfo
	decode(t, do(t, h, "GET", "/api/jobs/"+id), 200, &got)
	if got.ID != id || got.Query != joinQuery || got.State != "running" || got.JobSummary.Stages != len(job.Stages) {
		t.Fatalf("job: %+v", got.JobSummary)
	}
	if len(got.Stages) != len(job.Stages) {
		t.Fatalf("%d stages, want %d", len(got.Stages), len(job.Stages))
	}
	withInputs := 0
	for i, st := range got.Stages {
		want := job.Stages[i]
		if st.ID != want.ID || !slices.Equal(st.Inputs, want.Inputs) || st.Tasks != want.Tasks || len(st.Task) != want.Tasks ||
			st.Done != 0 || st.Running != 0 || st.Plan != logical.Format(want.Plan.Input) {
			t.Errorf("stage %d: %+v; want id %d, inputs %v, %d tasks, plan\n%s", i, st, want.ID, want.Inputs, want.Tasks, logical.Format(want.Plan.Input))
		}
		if st.Output != strings.TrimPrefix(want.Plan.String(), "ShuffleWrite: ") {
			t.Errorf("stage %d output %q, want from %q", i, st.Output, want.Plan.String())
		}
		if len(st.Inputs) > 0 {
			withInputs++
		}
		for p, task := range st.Task {
			if task.Partition != p || task.State != "pending" || task.Executor != "" || task.Operators != "" {
				t.Errorf("stage %d task %d: %+v", st.ID, p, task)
			}
		}
	}
	if withInputs == 0 {
		t.Fatal("no stage reads another: the graph has no edges")
	}
	// The job's answer leaves out per-task operator metrics (the stage's
	// answer has them); check the field is absent, not just empty.
	res := do(t, h, "GET", "/api/jobs/"+id)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), `"operators"`) {
		t.Fatal("the job answer carries operator metrics")
	}

	wantError(t, do(t, h, "GET", "/api/jobs/job-nope"), 404, `job "job-nope" not found`)
}

func totalTasks(sts []*stages.Stage) int {
	n := 0
	for _, st := range sts {
		n += st.Tasks
	}
	return n
}

func TestStageDetail(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	job := plan(t, joinQuery, 2)
	id := submit(t, s, joinQuery, job)
	for _, want := range job.Stages {
		var st scheduler.StageInfo
		decode(t, do(t, h, "GET", "/api/jobs/"+id+"/stages/"+strconv.Itoa(want.ID)), 200, &st)
		if st.ID != want.ID || st.Tasks != want.Tasks || len(st.Task) != want.Tasks || !slices.Equal(st.Inputs, want.Inputs) ||
			st.Plan != logical.Format(want.Plan.Input) {
			t.Errorf("stage %d: %+v", want.ID, st)
		}
	}
	last := job.Stages[len(job.Stages)-1].ID
	wantError(t, do(t, h, "GET", "/api/jobs/"+id+"/stages/"+strconv.Itoa(last+1)), 404, "has no stage "+strconv.Itoa(last+1))
	wantError(t, do(t, h, "GET", "/api/jobs/"+id+"/stages/x"), 400, `stage "x" is not a stage id`)
	wantError(t, do(t, h, "GET", "/api/jobs/"+id+"/stages/-1"), 400, `stage "-1"`)
	wantError(t, do(t, h, "GET", "/api/jobs/"+id+"/stages/99999999999999999999"), 400, "not a stage id")
	wantError(t, do(t, h, "GET", "/api/jobs/job-nope/stages/0"), 404, `job "job-nope" not found`)
}

func TestRoutingErrors(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	id := submit(t, s, joinQuery, plan(t, joinQuery, 2))
	for _, c := range []struct {
		method, path, allow string
	}{
		{"POST", "/api/jobs", "GET, HEAD"},
		{"DELETE", "/api/jobs/" + id, "GET, HEAD"},
		{"PUT", "/api/jobs/" + id + "/stages/0", "GET, HEAD"},
		{"GET", "/api/jobs/" + id + "/cancel", "POST"},
		{"POST", "/api/executors", "GET, HEAD"},
		{"POST", "/api/metrics", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
	} {
		res := do(t, h, c.method, c.path)
		if got := res.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		wantError(t, res, 405, "method "+c.method+" not allowed")
	}
	for _, p := range []string{"/api", "/api/", "/api/nope", "/api/jobs/" + id + "/stages", "/api/jobs/" + id + "/nope",
		"/api/jobs/" + id + "/stages/0/tasks", "/api/jobs//cancel", "/api/executors/x"} {
		wantError(t, do(t, h, "GET", p), 404, "no API endpoint")
	}
	// The job was not touched by any of it.
	if info, _ := s.Job(id); info.State != "running" {
		t.Fatalf("job state %s", info.State)
	}
}

func TestCancel(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	id := submit(t, s, joinQuery, plan(t, joinQuery, 2))

	// A cross-site form cannot cancel a job.
	wantError(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel", "Sec-Fetch-Site", "cross-site"), 403, "cross-origin")
	wantError(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel", "Origin", "http://evil.example"), 403, "cross-origin")
	if info, _ := s.Job(id); info.State != "running" {
		t.Fatalf("after refused cancels: state %s", info.State)
	}

	var got scheduler.JobSummary
	decode(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel", "Sec-Fetch-Site", "same-origin"), 200, &got)
	if got.ID != id || got.State != "cancelled" || got.Ended.IsZero() {
		t.Fatalf("cancelled job: %+v", got)
	}
	if info, _ := s.Job(id); info.State != "cancelled" {
		t.Fatalf("scheduler says %s", info.State)
	}
	wantError(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel"), 409, "has already cancelled")
	wantError(t, do(t, h, "POST", "/api/jobs/job-nope/cancel"), 404, `job "job-nope" not found`)
	if c := s.Counters(); c.JobsCancelled != 1 {
		t.Fatalf("%d jobs cancelled", c.JobsCancelled)
	}
}

func TestExecutors(t *testing.T) {
	s := newScheduler(t)
	now := time.Now()
	h := &handler{sched: s, csrf: http.NewCrossOriginProtection(), now: func() time.Time { return now }}

	var none executorList
	decode(t, do(t, h, "GET", "/api/executors"), 200, &none)
	if none.Executors == nil || len(none.Executors) != 0 {
		t.Fatalf("no executors: %#v", none.Executors)
	}
	// Registration only records the executor (the connection is lazy,
	// and without jobs nothing is launched on it).
	for _, e := range []*clusterpb.ExecutorMetadata{
		{Id: "exec-b", GrpcAddress: "127.0.0.1:1", FlightAddress: "127.0.0.1:2", Slots: 2, Capabilities: &clusterpb.Capabilities{Engine: "go"}},
		{Id: "exec-a", GrpcAddress: "127.0.0.1:3", FlightAddress: "127.0.0.1:4", Slots: 4},
	} {
		if err := s.Register(e); err != nil {
			t.Fatal(err)
		}
	}
	now = time.Now().Add(1500 * time.Millisecond)
	var got executorList
	decode(t, do(t, h, "GET", "/api/executors"), 200, &got)
	if len(got.Executors) != 2 {
		t.Fatalf("%d executors", len(got.Executors))
	}
	a, b := got.Executors[0], got.Executors[1]
	if a.ID != "exec-a" || a.Slots != 4 || a.Used != 0 || a.GRPCAddress != "127.0.0.1:3" || a.FlightAddress != "127.0.0.1:4" {
		t.Errorf("first executor %+v", a)
	}
	if b.ID != "exec-b" || b.Slots != 2 || b.Engine != "go" {
		t.Errorf("second executor %+v", b)
	}
	for _, e := range got.Executors {
		if e.LastSeen.IsZero() || e.HeartbeatAgeMs < 1500 || e.HeartbeatAgeMs > 1500+time.Since(e.LastSeen).Milliseconds() {
			t.Errorf("executor %s: last seen %v, heartbeat age %d ms", e.ID, e.LastSeen, e.HeartbeatAgeMs)
		}
	}

	var m metricsSnapshot
	decode(t, do(t, h, "GET", "/api/metrics"), 200, &m)
	if m.Gauges.Executors != 2 || m.Gauges.SlotsTotal != 6 || m.Gauges.SlotsUsed != 0 {
		t.Fatalf("gauges %+v", m.Gauges)
	}
}

func TestMetricsJSON(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	var m metricsSnapshot
	decode(t, do(t, h, "GET", "/api/metrics"), 200, &m)
	if m != (metricsSnapshot{}) {
		t.Fatalf("idle scheduler: %+v", m)
	}
	a, b := plan(t, joinQuery, 2), plan(t, "SELECT count(*) FROM orders", 3)
	submit(t, s, joinQuery, a)
	idB := submit(t, s, "SELECT count(*) FROM orders", b)
	decode(t, do(t, h, "GET", "/api/metrics"), 200, &m)
	want := gauges{JobsQueued: 2, TasksPending: totalTasks(a.Stages) + totalTasks(b.Stages)}
	if m.Gauges != want || m.Counters != (scheduler.Counters{JobsSubmitted: 2}) {
		t.Fatalf("two pending jobs: %+v, want gauges %+v and 2 jobs submitted", m, want)
	}
	if err := s.Cancel(idB); err != nil {
		t.Fatal(err)
	}
	decode(t, do(t, h, "GET", "/api/metrics"), 200, &m)
	want = gauges{JobsQueued: 1, TasksPending: totalTasks(a.Stages)}
	if m.Gauges != want || m.Counters != (scheduler.Counters{JobsSubmitted: 2, JobsCancelled: 1}) {
		t.Fatalf("after a cancel: %+v, want gauges %+v", m, want)
	}
}

func TestAuth(t *testing.T) {
	s := newScheduler(t)
	const token = "s3cret-t0ken"
	h := Handler(s, Options{Token: token})
	id := submit(t, s, joinQuery, plan(t, joinQuery, 2))
	for _, p := range []string{"/api/jobs", "/api/jobs/" + id, "/api/jobs/" + id + "/stages/0", "/api/executors", "/api/metrics", "/metrics", "/api/nope"} {
		res := do(t, h, "GET", p)
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without a token: no WWW-Authenticate", p)
		}
		wantError(t, res, 401, "missing bearer token")
		wantError(t, do(t, h, "GET", p, "Authorization", "Bearer wrong"), 401, "invalid bearer token")
		wantError(t, do(t, h, "GET", p, "Authorization", "Basic "+token), 401, "invalid bearer token")
		wantError(t, do(t, h, "GET", p, "Authorization", "Bearer "+token+"x"), 401, "invalid bearer token")
		if res := do(t, h, "GET", p, "Authorization", "Bearer "+token); res.StatusCode == 401 {
			t.Errorf("GET %s with the token: 401", p)
		}
	}
	// Cancelling needs the token too.
	wantError(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel"), 401, "missing bearer token")
	if info, _ := s.Job(id); info.State != "running" {
		t.Fatalf("unauthorized cancel ran: %s", info.State)
	}
	var got scheduler.JobSummary
	decode(t, do(t, h, "POST", "/api/jobs/"+id+"/cancel", "Authorization", "bearer "+token), 200, &got)
	if got.State != "cancelled" {
		t.Fatalf("state %s", got.State)
	}
	// The UI's files hold no data and load without the token.
	for _, p := range []string{"/", "/index.html", "/app.js", "/style.css", "/favicon.svg"} {
		if res := do(t, h, "GET", p); res.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}

func TestStatic(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	for path, want := range map[string]struct{ ctype, contains string }{
		"/":            {"text/html; charset=utf-8", `<script src="app.js" defer></script>`},
		"/index.html":  {"text/html; charset=utf-8", `<link rel="stylesheet" href="style.css">`},
		"/app.js":      {"text/javascript; charset=utf-8", "function esc("},
		"/style.css":   {"text/css; charset=utf-8", "svg.dag"},
		"/favicon.svg": {"image/svg+xml", "<svg"},
	} {
		res := do(t, h, "GET", path)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != want.ctype || !strings.Contains(string(body), want.contains) {
			t.Errorf("GET %s: %d %q, body contains %q: %v", path, res.StatusCode, res.Header.Get("Content-Type"), want.contains,
				strings.Contains(string(body), want.contains))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", path)
			continue
		}
		if res := do(t, h, "GET", path, "If-None-Match", etag); res.StatusCode != 304 {
			t.Errorf("GET %s with its ETag: %d", path, res.StatusCode)
		}
	}
	// Mounted under a prefix, the UI and the API still answer.
	mounted := http.StripPrefix("/ui", h)
	if res := do(t, mounted, "GET", "/ui/"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("GET /ui/: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var jobs jobList
	decode(t, do(t, mounted, "GET", "/ui/api/jobs"), 200, &jobs)
	if res := do(t, h, "GET", "/nope.js"); res.StatusCode != 404 {
		t.Errorf("GET /nope.js: %d", res.StatusCode)
	}
	if res := do(t, h, "POST", "/"); res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestServe(t *testing.T) {
	s := newScheduler(t)
	srv, err := Serve("127.0.0.1:0", Handler(s, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") || srv.URL() != "http://"+srv.Addr() {
		t.Fatalf("addr %s, url %s", srv.Addr(), srv.URL())
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	res, err := client.Get(srv.URL() + "/api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	var got jobList
	decode(t, res, 200, &got)
	client.CloseIdleConnections()
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := client.Get(srv.URL() + "/api/jobs"); err == nil {
		t.Fatal("the server still answers after Close")
	}

	if _, err := Serve("127.0.0.1:99999", Handler(s, Options{})); err == nil || !strings.Contains(err.Error(), "127.0.0.1:99999") {
		t.Fatalf("bad address: %v", err)
	}
	if _, err := Serve("127.0.0.1:0", nil); err == nil {
		t.Fatal("nil handler accepted")
	}
}
