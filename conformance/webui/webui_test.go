// Package webui_test checks the scheduler's web UI in a real browser: it
// runs a multi-stage query on an in-process cluster, serves the UI, and
// drives headless Chromium over the job page (the stage graph as SVG,
// the stage's tasks and operator metrics) and the executors page, saving
// screenshots. Without Chromium (Debian package "chromium") it skips.
package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/host/webui"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/workers/go/executor"
)

// chromium finds the browser: $ARBALEST_CHROMIUM, or chromium on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ARBALEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (install Debian's chromium package, or set ARBALEST_CHROMIUM); skipping the browser test")
	return ""
}

// logs collects the cluster's log lines; they are printed if the test
// fails.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// injection is a customer name that would become an element if the UI
// put text into the page unescaped. The query names it.
const injection = `<img src=x onerror=alert(1)>`

const query = `SELECT c.region, count(*) AS n, sum(o.amount) AS total
FROM orders o JOIN customers c ON o.cust = c.id
WHERE c.name <> '` + injection + `'
GROUP BY c.region ORDER BY c.region`

// writeData writes the two CSV tables and returns the query's expected
// answer: region -> (count, sum).
func writeData(t *testing.T, dir string) map[string][2]int64 {
	t.Helper()
	regions := []string{"africa", "america", "asia", "europe", "oceania"}
	var cust, ord bytes.Buffer
	cust.WriteString("id,name,region\n")
	region := map[int]string{}
	excluded := map[int]bool{}
	for i := 0; i < 300; i++ {
		name := "customer-" + strconv.Itoa(i)
		if i%50 == 7 {
			name = injection
			excluded[i] = true
		}
		region[i] = regions[(i*7)%len(regions)]
		fmt.Fprintf(&cust, "%d,%s,%s\n", i, name, region[i])
	}
	want := map[string][2]int64{}
	ord.WriteString("id,cust,amount\n")
	for i := 0; i < 5000; i++ {
		c, amount := (i*31)%320, int64(i%97)
		fmt.Fprintf(&ord, "%d,%d,%d\n", i, c, amount)
		if r, ok := region[c]; ok && !excluded[c] {
			w := want[r]
			want[r] = [2]int64{w[0] + 1, w[1] + amount}
		}
	}
	for name, b := range map[string]*bytes.Buffer{"customers.csv": &cust, "orders.csv": &ord} {
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// runQuery registers the tables, runs the query and checks its answer;
// it returns the query's job id.
func runQuery(t *testing.T, ctx context.Context, addr, dir string, want map[string][2]int64) string {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	c, err := client.Dial(ctx, addr, client.WithAllocator(alloc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run := func(sql string) *client.Result {
		t.Helper()
		res, err := c.SQL(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return res
	}
	for _, ddl := range []string{
		"CREATE EXTERNAL TABLE customers (id BIGINT, name VARCHAR, region VARCHAR) STORED AS CSV LOCATION '" + filepath.Join(dir, "customers.csv") + "'",
		"CREATE EXTERNAL TABLE orders (id BIGINT, cust BIGINT, amount BIGINT) STORED AS CSV LOCATION '" + filepath.Join(dir, "orders.csv") + "'",
	} {
		if err := run(ddl).Close(); err != nil {
			t.Fatal(err)
		}
	}
	res := run(query)
	defer res.Close()
	got := map[string][2]int64{}
	var order []string
	for res.Next() {
		rec := res.RecordBatch()
		if rec.NumCols() != 3 {
			t.Fatalf("result has %d columns: %s", rec.NumCols(), rec.Schema())
		}
		reg, ok1 := rec.Column(0).(*array.String)
		n, ok2 := rec.Column(1).(*array.Int64)
		sum, ok3 := rec.Column(2).(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("result schema %s", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			got[reg.Value(i)] = [2]int64{n.Value(i), sum.Value(i)}
			order = append(order, reg.Value(i))
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || !sort.StringsAreSorted(order) {
		t.Fatalf("answer %v in order %v, want %v", got, order, want)
	}
	return res.JobID()
}

// getJSON reads one API answer.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	res, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// browser runs headless Chromium once over url with the given mode
// flags (--dump-dom or --screenshot=...) and returns its standard output.
// The page's JavaScript runs for 5 s of virtual time first (the clock
// stands still while requests are in flight, so the API answers arrive).
func browser(t *testing.T, bin, url string, mode ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless=new",
		"--no-sandbox", // tests run as root in containers
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--no-first-run",
		"--no-default-browser-check",
		"--mute-audio",
		"--hide-scrollbars",
		"--force-device-scale-factor=1",
		"--run-all-compositor-stages-before-draw",
		"--virtual-time-budget=5000",
		"--window-size=1440,1100",
		"--user-data-dir=" + t.TempDir(),
	}, mode...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	// Chromium starts helper processes: the whole group goes on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(mode, " "), err, stderr.String())
	}
	// Helpers that outlived the browser are not left behind.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return stdout.Bytes()
}

// screenshot renders url into name.png under t.TempDir() (and under
// $ARBALEST_SCREENSHOT_DIR when set) and checks it is a real picture.
func screenshot(t *testing.T, bin, url, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".png")
	browser(t, bin, url, "--screenshot="+path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	checkPicture(t, name, img)
	if dir := os.Getenv("ARBALEST_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s: %s (%d bytes)", name, path, len(data))
}

// checkPicture rejects blank or broken renderings: the page must fill the
// window and show many colours (text, bars, badges), with a good share of
// the pixels different from the background.
func checkPicture(t *testing.T, name string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != 1440 || b.Dy() != 1100 {
		t.Fatalf("screenshot %s is %dx%d, want 1440x1100", name, b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	top, total := 0, 0
	for _, n := range colours {
		top = max(top, n)
		total += n
	}
	if len(colours) < 64 || float64(top) > 0.9*float64(total) {
		t.Fatalf("screenshot %s looks blank: %d colours, the commonest covers %.0f%%", name, len(colours), 100*float64(top)/float64(total))
	}
}

var (
	stageBox = regexp.MustCompile(`<g class="stage [^"]*" data-stage="(\d+)" transform="translate\(([\d.]+),([\d.]+)\)"`)
	edgePath = regexp.MustCompile(`<path class="edge[^"]*" data-from="(\d+)" data-to="(\d+)"`)
	execRow  = regexp.MustCompile(`<tr class="executor-row" data-executor="([^"]+)"`)
	jobRow   = regexp.MustCompile(`<tr class="job-row" data-job="([^"]+)"`)
)

func TestWebUI(t *testing.T) {
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var lg logs
	defer func() {
		if t.Failed() {
			t.Logf("cluster log:\n%s", lg.String())
		}
	}()
	dir := t.TempDir()
	want := writeData(t, dir)
	// BroadcastRows 1 makes the join a hash join: both sides shuffle, so
	// the job has a graph with fan-in, not a chain.
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(),
		scheduler.Config{Partitions: 3, BroadcastRows: 1, Logf: lg.logf}, executor.Config{Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if err := st.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	jobID := runQuery(t, ctx, st.Scheduler.Addr(), dir, want)

	srv, err := webui.Serve("127.0.0.1:0", webui.Handler(st.Scheduler.Sched, webui.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	base := srv.URL() + "/"

	// What the page must show, from the API.
	var job scheduler.JobInfo
	getJSON(t, base+"api/jobs/"+jobID, &job)
	if job.State != "succeeded" || len(job.Stages) < 4 {
		t.Fatalf("job %s: %s with %d stages; the test wants a finished job with a stage graph", jobID, job.State, len(job.Stages))
	}
	var wantStages, wantEdges []string
	for _, s := range job.Stages {
		wantStages = append(wantStages, strconv.Itoa(s.ID))
		for _, in := range s.Inputs {
			wantEdges = append(wantEdges, fmt.Sprintf("%d->%d", in, s.ID))
		}
	}
	final := job.Stages[len(job.Stages)-1]
	var finalStage scheduler.StageInfo
	getJSON(t, base+"api/jobs/"+jobID+"/stages/"+strconv.Itoa(final.ID), &finalStage)
	operators := ""
	for _, task := range finalStage.Task {
		if task.State != "done" || task.Executor == "" {
			t.Fatalf("final stage task %+v", task)
		}
		if operators == "" {
			operators = task.Operators
		}
	}
	if operators == "" {
		t.Fatal("no task of the final stage reported operator metrics")
	}

	// The job page: the stage graph, one box per stage and one edge per
	// input; the final stage's tasks and operator metrics below it.
	dom := string(browser(t, bin, base+"#/jobs/"+jobID, "--dump-dom"))
	var gotStages, gotEdges []string
	at := map[string][2]float64{}
	for _, m := range stageBox.FindAllStringSubmatch(dom, -1) {
		gotStages = append(gotStages, m[1])
		x, _ := strconv.ParseFloat(m[2], 64)
		y, _ := strconv.ParseFloat(m[3], 64)
		at[m[1]] = [2]float64{x, y}
	}
	for _, m := range edgePath.FindAllStringSubmatch(dom, -1) {
		gotEdges = append(gotEdges, m[1]+"->"+m[2])
		// Layered left to right: every input is drawn left of its reader.
		if at[m[1]][0] >= at[m[2]][0] {
			t.Errorf("stage %s at %v is not left of its reader, stage %s at %v", m[1], at[m[1]], m[2], at[m[2]])
		}
	}
	// Boxes in the same layer do not overlap (a box is 122 high).
	for a, pa := range at {
		for b, pb := range at {
			if a < b && pa[0] == pb[0] && math.Abs(pa[1]-pb[1]) < 122 {
				t.Errorf("stages %s and %s overlap at %v and %v", a, b, pa, pb)
			}
		}
	}
	slices.Sort(gotStages)
	slices.Sort(wantStages)
	slices.Sort(gotEdges)
	slices.Sort(wantEdges)
	if !slices.Equal(gotStages, wantStages) || !slices.Equal(gotEdges, wantEdges) {
		t.Fatalf("stage graph: boxes %v, edges %v; want boxes %v, edges %v\n%s", gotStages, gotEdges, wantStages, wantEdges, dom)
	}
	if n := strings.Count(dom, `<svg class="dag"`); n != 1 {
		t.Fatalf("%d stage graphs on the job page", n)
	}
	for _, s := range []string{
		`<span class="badge succeeded">succeeded</span>`,
		fmt.Sprintf(`<h2>Stage %d</h2>`, final.ID),
		`<pre class="operators">`,
		// Query text is escaped: it shows as text, never as markup.
		`&lt;img src=x onerror=alert(1)&gt;`,
	} {
		if !strings.Contains(dom, s) {
			t.Fatalf("the job page lacks %s\n%s", s, dom)
		}
	}
	if strings.Contains(dom, `<img src="x"`) {
		t.Fatal("the query text was put into the page as HTML")
	}
	if n := strings.Count(dom, `<tr class="task-row`); n != final.Tasks {
		t.Fatalf("%d task rows for the final stage's %d tasks", n, final.Tasks)
	}
	firstLine, _, _ := strings.Cut(operators, "\n")
	if !strings.Contains(dom, htmlEscape(firstLine)) {
		t.Fatalf("the operator metrics %q are not on the page", firstLine)
	}

	// Another stage, through its own address.
	first := job.Stages[0]
	dom = string(browser(t, bin, base+"#/jobs/"+jobID+"/stages/"+strconv.Itoa(first.ID), "--dump-dom"))
	if !strings.Contains(dom, fmt.Sprintf(`<g class="stage done selected" data-stage="%d"`, first.ID)) ||
		!strings.Contains(dom, fmt.Sprintf(`<h2>Stage %d</h2>`, first.ID)) ||
		strings.Count(dom, `<tr class="task-row`) != first.Tasks {
		t.Fatalf("stage %d page:\n%s", first.ID, dom)
	}

	// The executors page: one row per executor, with its load.
	dom = string(browser(t, bin, base+"#/executors", "--dump-dom"))
	var gotExecs []string
	for _, m := range execRow.FindAllStringSubmatch(dom, -1) {
		gotExecs = append(gotExecs, m[1])
	}
	var wantExecs []string
	for _, e := range st.Scheduler.Sched.ExecutorList() {
		wantExecs = append(wantExecs, e.ID)
	}
	if !slices.Equal(gotExecs, wantExecs) || strings.Count(dom, "0 / 2 slots") != len(wantExecs) {
		t.Fatalf("executors page shows %v, want %v with 0 / 2 slots each\n%s", gotExecs, wantExecs, dom)
	}

	// The job list.
	dom = string(browser(t, bin, base, "--dump-dom"))
	if m := jobRow.FindAllStringSubmatch(dom, -1); len(m) == 0 || !slices.ContainsFunc(m, func(s []string) bool { return s[1] == jobID }) {
		t.Fatalf("the job list does not show %s\n%s", jobID, dom)
	}

	// With a token, the page asks for it (a dialog, not a blocking
	// prompt) and shows no data.
	locked, err := webui.Serve("127.0.0.1:0", webui.Handler(st.Scheduler.Sched, webui.Options{Token: "t0ken"}))
	if err != nil {
		t.Fatal(err)
	}
	defer locked.Close()
	dom = string(browser(t, bin, locked.URL()+"/", "--dump-dom"))
	if !regexp.MustCompile(`<dialog id="token-dialog"[^>]* open=""`).MatchString(dom) || jobRow.MatchString(dom) ||
		!strings.Contains(dom, "missing bearer token") {
		t.Fatalf("the token-protected page:\n%s", dom)
	}

	join := final.ID
	for _, s := range job.Stages {
		if len(s.Inputs) >= 2 {
			join = s.ID
			break
		}
	}
	screenshot(t, bin, base+"#/jobs/"+jobID+"/stages/"+strconv.Itoa(join), "job")
	screenshot(t, bin, base+"#/executors", "executors")
	screenshot(t, bin, base, "jobs")
	screenshot(t, bin, locked.URL()+"/", "token")
}

// htmlEscape escapes text the way the DOM serializer does in text nodes.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}
