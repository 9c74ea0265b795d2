package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.uber.org/goleak"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/host/stages"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// catalog is a fixed set of tables for the binder.
type catalog map[string]*logical.TableSource

func (c catalog) LookupTable(name string) (*logical.TableSource, bool) {
	t, ok := c[strings.ToLower(name)]
	return t, ok
}

func (c catalog) LookupView(string) (string, bool) { return "", false }

func (c catalog) TableNames() []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	return out
}

func testCatalog() catalog {
	i64, s := arrow.PrimitiveTypes.Int64, logical.Utf8
	tbl := func(name string, rows int64, fs ...arrow.Field) *logical.TableSource {
		return &logical.TableSource{Name: name, Format: "parquet", Location: "/data/" + name + ".parquet",
			Schema: arrow.NewSchema(fs, nil), RowCount: rows}
	}
	return catalog{
		"orders": tbl("orders", 10_000_000, arrow.Field{Name: "o_id", Type: i64, Nullable: true},
			arrow.Field{Name: "o_cust", Type: i64, Nullable: true}, arrow.Field{Name: "o_total", Type: i64, Nullable: true}),
		"customer": tbl("customer", 5_000_000, arrow.Field{Name: "c_id", Type: i64, Nullable: true},
			arrow.Field{Name: "c_name", Type: s, Nullable: true}),
	}
}

// joinQuery joins two large tables (a hash join on both sides) and
// aggregates: several stages with inputs.
const joinQuery = "SELECT c_name, sum(o_total) AS total FROM orders JOIN customer ON o_cust = c_id GROUP BY c_name ORDER BY total DESC"

// plan binds, optimizes and cuts a query into stages.
func plan(t *testing.T, query string, partitions int) *stages.Job {
	t.Helper()
	parsed, err := sql.Parse(query)
	if err != nil {
		t.Fatalf("parse %q: %v", query, err)
	}
	if len(parsed) != 1 {
		t.Fatalf("%d statements in %q", len(parsed), query)
	}
	st, err := sql.Bind(parsed[0], testCatalog())
	if err != nil {
		t.Fatalf("bind %q: %v", query, err)
	}
	q, ok := st.(*sql.Query)
	if !ok {
		t.Fatalf("%q is not a query", query)
	}
	p, err := optimizer.Optimize(q.Plan)
	if err != nil {
		t.Fatalf("optimize %q: %v", query, err)
	}
	job, err := stages.Plan(p, stages.Config{Partitions: partitions})
	if err != nil {
		t.Fatalf("stages %q: %v", query, err)
	}
	return job
}

// newScheduler starts a scheduler without executors; jobs submitted to it
// stay pending.
func newScheduler(t *testing.T) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(scheduler.Config{Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// submit submits a planned query and returns the job id.
func submit(t *testing.T, s *scheduler.Scheduler, query string, job *stages.Job) string {
	t.Helper()
	id, err := s.Submit(job, "", "session-1", query, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// do runs one request through h.
func do(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res
}

// decode checks the status and JSON content type of res and decodes its
// body into v, rejecting unknown fields.
func decode(t *testing.T, res *http.Response, status int, v any) {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", res.Request.Method, res.Request.URL, res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: content type %q", res.Request.Method, res.Request.URL, ct)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", res.Request.Method, res.Request.URL, body, err)
	}
}

// wantError checks an error answer: status and a message containing want.
func wantError(t *testing.T, res *http.Response, status int, want string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	decode(t, res, status, &e)
	if !strings.Contains(e.Error, want) {
		t.Fatalf("%s %s: error %q, want it to mention %q", res.Request.Method, res.Request.URL, e.Error, want)
	}
}
