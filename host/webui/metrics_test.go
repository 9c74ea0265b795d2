package webui

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// promFamily is a parsed metric family.
type promFamily struct {
	typ, help string
	// samples maps a series (name{sorted labels}) to its value.
	samples map[string]float64
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseProm parses the Prometheus text format (0.0.4) strictly: every
// line is a HELP, a TYPE or a sample; every sample belongs to a family
// declared by a TYPE line before it; a family's lines are contiguous;
// HELP and TYPE come at most once per family; series are unique; label
// values use only the format's escapes; counters end in _total.
func parseProm(text string) (map[string]*promFamily, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the exposition does not end with a line feed")
	}
	fams := map[string]*promFamily{}
	var cur string
	done := map[string]bool{}
	enter := func(name string) (*promFamily, error) {
		if name != cur {
			if done[name] {
				return nil, fmt.Errorf("family %s is not contiguous", name)
			}
			if cur != "" {
				done[cur] = true
			}
			cur = name
		}
		f := fams[name]
		if f == nil {
			f = &promFamily{samples: map[string]float64{}}
			fams[name] = f
		}
		return f, nil
	}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n++
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			kw := line[2:6]
			name, rest, ok := strings.Cut(line[7:], " ")
			if !ok || !metricName.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad %s line %q", n, kw, line)
			}
			f, err := enter(name)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			if kw == "HELP" {
				if f.help != "" {
					return nil, fmt.Errorf("line %d: second HELP for %s", n, name)
				}
				if _, err := unescape(rest, false); err != nil {
					return nil, fmt.Errorf("line %d: HELP text: %v", n, err)
				}
				f.help = rest
				continue
			}
			if f.typ != "" {
				return nil, fmt.Errorf("line %d: second TYPE for %s", n, name)
			}
			if len(f.samples) > 0 {
				return nil, fmt.Errorf("line %d: TYPE of %s after its samples", n, name)
			}
			switch rest {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				return nil, fmt.Errorf("line %d: unknown type %q", n, rest)
			}
			if rest == "counter" && !strings.HasSuffix(name, "_total") {
				return nil, fmt.Errorf("line %d: counter %s does not end in _total", n, name)
			}
			f.typ = rest
		case strings.HasPrefix(line, "#"):
			return nil, fmt.Errorf("line %d: unexpected comment %q", n, line)
		default:
			series, value, err := parseSample(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			name, _, _ := strings.Cut(series, "{")
			f, err := enter(name)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			if f.typ == "" {
				return nil, fmt.Errorf("line %d: sample of %s without a TYPE line before it", n, name)
			}
			if _, dup := f.samples[series]; dup {
				return nil, fmt.Errorf("line %d: duplicate series %s", n, series)
			}
			if f.typ == "counter" && (value < 0 || math.IsNaN(value)) {
				return nil, fmt.Errorf("line %d: counter %s is %v", n, series, value)
			}
			f.samples[series] = value
		}
	}
	for name, f := range fams {
		if f.typ == "" {
			return nil, fmt.Errorf("family %s has no TYPE", name)
		}
		if len(f.samples) == 0 {
			return nil, fmt.Errorf("family %s has no samples", name)
		}
	}
	return fams, nil
}

// parseSample parses `name{l="v",...} value [timestamp]` and returns the
// series with its labels sorted.
func parseSample(line string) (string, float64, error) {
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", 0, fmt.Errorf("no value in %q", line)
	}
	name := line[:i]
	if !metricName.MatchString(name) {
		return "", 0, fmt.Errorf("bad metric name %q", name)
	}
	rest := line[i:]
	var labels []string
	if rest[0] == '{' {
		rest = rest[1:]
		seen := map[string]bool{}
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return "", 0, fmt.Errorf("bad labels in %q", line)
			}
			ln := rest[:eq]
			if !labelName.MatchString(ln) || strings.HasPrefix(ln, "__") || seen[ln] {
				return "", 0, fmt.Errorf("bad or repeated label name %q in %q", ln, line)
			}
			seen[ln] = true
			rest = rest[eq+2:]
			end := -1
			for j := 0; j < len(rest); j++ {
				if rest[j] == '\\' {
					j++
					continue
				}
				if rest[j] == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return "", 0, fmt.Errorf("unterminated label value in %q", line)
			}
			v, err := unescape(rest[:end], true)
			if err != nil {
				return "", 0, fmt.Errorf("label %s in %q: %v", ln, line, err)
			}
			labels = append(labels, ln+"="+strconv.Quote(v))
			rest = rest[end+1:]
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return "", 0, fmt.Errorf("expected , or } after label %s in %q", ln, line)
			}
		}
	}
	if !strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "  ") {
		return "", 0, fmt.Errorf("expected one space before the value in %q", line)
	}
	fields := strings.Split(rest[1:], " ")
	if len(fields) > 2 {
		return "", 0, fmt.Errorf("trailing text in %q", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", 0, fmt.Errorf("value of %q: %v", line, err)
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return "", 0, fmt.Errorf("timestamp of %q: %v", line, err)
		}
	}
	slices.Sort(labels)
	series := name
	if len(labels) > 0 {
		series += "{" + strings.Join(labels, ",") + "}"
	}
	return series, v, nil
}

// unescape undoes the format's escapes: \\ and \n, and \" in label values.
func unescape(s string, label bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || (label && c == '"') {
			return "", fmt.Errorf("unescaped %q in %q", c, s)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("dangling backslash in %q", s)
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case '"':
			if !label {
				return "", fmt.Errorf(`\" in a HELP text %q`, s)
			}
			b.WriteByte('"')
		default:
			return "", fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return b.String(), nil
}

func TestParsePromRejects(t *testing.T) {
	// The parser must catch what it claims to, or the exposition test
	// below proves nothing.
	for _, bad := range []string{
		"a_total 1\n",                       // no TYPE
		"# TYPE a counter\na 1\n",           // counter without _total
		"# TYPE a_total counter\na_total 1", // no final line feed
		"# TYPE a gauge\na 1\na 2\n",        // duplicate series
		"# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n", // not contiguous
		"# TYPE a gauge\na{x=\"1} 1\n",                                      // unterminated label
		"# TYPE a gauge\na{x=\"\\q\"} 1\n",                                  // bad escape
		"# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",                            // repeated label
		"# TYPE a gauge\na one\n",                                           // bad value
		"# TYPE a gauge\na  1\n",                                            // two spaces
		"# TYPE a gauge\n# TYPE a gauge\na 1\n",                             // two TYPEs
		"# TYPE a gauge\n",                                                  // no samples
		"# TYPE a gauge\n# comment\na 1\n",                                  // stray comment
		"# TYPE a_total counter\na_total -1\n",                              // negative counter
		"# TYPE a gauge\na{1x=\"v\"} 1\n",                                   // bad label name
		"# TYPE a gauge\na 1\n# HELP a late\n# HELP a again\n",              // two HELPs
	} {
		if _, err := parseProm(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	fams, err := parseProm("# HELP a A \\\\ help\\n.\n# TYPE a gauge\na{x=\"q\\\"\\n\\\\\",y=\"\"} 1.5 1700000000000\na 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := fams["a"].samples[`a{x="q\"\n\\",y=""}`]; got != 1.5 {
		t.Fatalf("parsed %v", fams["a"].samples)
	}
}

func TestPrometheus(t *testing.T) {
	s := newScheduler(t)
	h := Handler(s, Options{})
	job := plan(t, joinQuery, 2)
	submit(t, s, joinQuery, job)
	id := submit(t, s, "SELECT count(*) FROM orders", plan(t, "SELECT count(*) FROM orders", 2))
	if err := s.Cancel(id); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(&clusterpb.ExecutorMetadata{Id: "e1", GrpcAddress: "127.0.0.1:1", FlightAddress: "127.0.0.1:2", Slots: 3}); err != nil {
		t.Fatal(err)
	}

	res := do(t, h, "GET", "/metrics")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("GET /metrics: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	fams, err := parseProm(string(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "arbalest_scheduler_") || f.help == "" {
			t.Errorf("family %s: help %q", name, f.help)
		}
	}
	// The executor is real to the scheduler, so the join job's tasks
	// may be in flight towards it (and fail): compare what cannot move.
	want := map[string]struct {
		typ   string
		value float64
	}{
		"arbalest_scheduler_jobs_submitted_total":                     {"counter", 2},
		`arbalest_scheduler_jobs_finished_total{outcome="cancelled"}`: {"counter", 1},
		`arbalest_scheduler_jobs_finished_total{outcome="succeeded"}`: {"counter", 0},
		`arbalest_scheduler_jobs_finished_total{outcome="failed"}`:    {"counter", 0},
		"arbalest_scheduler_executors":                                {"gauge", 1},
		"arbalest_scheduler_slots":                                    {"gauge", 3},
		"arbalest_scheduler_executors_lost_total":                     {"counter", 0},
		"arbalest_scheduler_fetch_failures_total":                     {"counter", 0},
	}
	for series, w := range want {
		name, _, _ := strings.Cut(series, "{")
		f := fams[name]
		if f == nil {
			t.Errorf("no family %s", name)
			continue
		}
		if f.typ != w.typ || f.samples[series] != w.value {
			t.Errorf("%s: %s %v, want %s %v", series, f.typ, f.samples[series], w.typ, w.value)
		}
		if _, ok := f.samples[series]; !ok {
			t.Errorf("no series %s", series)
		}
	}
	for _, name := range []string{"arbalest_scheduler_tasks_launched_total", "arbalest_scheduler_tasks_finished_total",
		"arbalest_scheduler_slots_used", "arbalest_scheduler_tasks_running", "arbalest_scheduler_tasks_pending", "arbalest_scheduler_jobs"} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	if f := fams["arbalest_scheduler_jobs"]; f != nil {
		q, r := f.samples[`arbalest_scheduler_jobs{state="queued"}`], f.samples[`arbalest_scheduler_jobs{state="running"}`]
		if q+r != 1 || len(f.samples) != 2 {
			t.Errorf("active jobs %v, want one (queued or running)", f.samples)
		}
	}
}

func TestExposition(t *testing.T) {
	// Every number lands in its series, and label values are escaped.
	m := metricsSnapshot{
		Counters: scheduler.Counters{JobsSubmitted: 11, JobsSucceeded: 7, JobsFailed: 2, JobsCancelled: 1, TasksLaunched: 90,
			TasksSucceeded: 80, TasksFailed: 5, FetchFailures: 3, ExecutorsLost: 1},
		Gauges: gauges{JobsRunning: 4, JobsQueued: 6, Executors: 3, SlotsTotal: 12, SlotsUsed: 9, TasksRunning: 9, TasksPending: 40},
	}
	fams, err := parseProm(string(exposition(m)))
	if err != nil {
		t.Fatalf("%v\n%s", err, exposition(m))
	}
	want := map[string]float64{
		"arbalest_scheduler_jobs_submitted_total":                      11,
		`arbalest_scheduler_jobs_finished_total{outcome="succeeded"}`:  7,
		`arbalest_scheduler_jobs_finished_total{outcome="failed"}`:     2,
		`arbalest_scheduler_jobs_finished_total{outcome="cancelled"}`:  1,
		"arbalest_scheduler_tasks_launched_total":                      90,
		`arbalest_scheduler_tasks_finished_total{outcome="succeeded"}`: 80,
		`arbalest_scheduler_tasks_finished_total{outcome="failed"}`:    5,
		"arbalest_scheduler_fetch_failures_total":                      3,
		"arbalest_scheduler_executors_lost_total":                      1,
		`arbalest_scheduler_jobs{state="queued"}`:                      6,
		`arbalest_scheduler_jobs{state="running"}`:                     4,
		"arbalest_scheduler_executors":                                 3,
		"arbalest_scheduler_slots":                                     12,
		"arbalest_scheduler_slots_used":                                9,
		"arbalest_scheduler_tasks_running":                             9,
		"arbalest_scheduler_tasks_pending":                             40,
	}
	n := 0
	for _, f := range fams {
		n += len(f.samples)
	}
	if n != len(want) {
		t.Errorf("%d series, want %d", n, len(want))
	}
	for series, v := range want {
		name, _, _ := strings.Cut(series, "{")
		if f := fams[name]; f == nil || f.samples[series] != v {
			t.Errorf("%s: want %v; family %+v", series, v, f)
		}
	}
	if got, want := escapeLabel("a\\b\"c\nd"), `a\\b\"c\nd`; got != want {
		t.Errorf("escapeLabel: %s, want %s", got, want)
	}
	if got, want := escapeHelp("a\\b\"c\nd"), `a\\b"c\nd`; got != want {
		t.Errorf("escapeHelp: %s, want %s", got, want)
	}
}
