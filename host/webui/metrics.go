package webui

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/arbalest/arbalest/host/scheduler"
)

// gauges are the scheduler's current levels.
type gauges struct {
	// JobsQueued are active jobs that have not started a task yet;
	// JobsRunning are the other active jobs.
	JobsRunning int `json:"jobs_running"`
	JobsQueued  int `json:"jobs_queued"`
	Executors   int `json:"executors"`
	SlotsTotal  int `json:"slots_total"`
	SlotsUsed   int `json:"slots_used"`
	// TasksRunning and TasksPending count the tasks of active jobs.
	TasksRunning int `json:"tasks_running"`
	TasksPending int `json:"tasks_pending"`
}

// metricsSnapshot is the answer of /api/metrics.
type metricsSnapshot struct {
	Counters scheduler.Counters `json:"counters"`
	Gauges   gauges             `json:"gauges"`
}

func (h *handler) snapshot() metricsSnapshot {
	m := metricsSnapshot{Counters: h.sched.Counters()}
	g := &m.Gauges
	for _, js := range h.sched.Jobs() {
		if terminal(js.State) {
			continue
		}
		info, ok := h.sched.Job(js.ID)
		if !ok || terminal(info.State) {
			continue // ended or forgotten since the list was taken
		}
		running := 0
		for _, st := range info.Stages {
			running += st.Running
			g.TasksPending += st.Tasks - st.Done - st.Running
		}
		g.TasksRunning += running
		if info.State == "queued" || (running == 0 && info.TasksDone == 0) {
			g.JobsQueued++
		} else {
			g.JobsRunning++
		}
	}
	for _, e := range h.sched.ExecutorList() {
		g.Executors++
		g.SlotsTotal += e.Slots
		g.SlotsUsed += e.Used
	}
	return m
}

// promContentType is the Prometheus text exposition format, version 0.0.4.
const promContentType = "text/plain; version=0.0.4; charset=utf-8"

// family is one metric family of the exposition.
type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels [][2]string
	value  int64
}

func (h *handler) prometheus(w http.ResponseWriter, _ *http.Request) {
	body := exposition(h.snapshot())
	w.Header().Set("Content-Type", promContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// exposition renders a snapshot in the Prometheus text format.
func exposition(m metricsSnapshot) []byte {
	c, g := m.Counters, m.Gauges
	one := func(v int64) []sample { return []sample{{value: v}} }
	outcome := func(kv ...any) []sample {
		var out []sample
		for i := 0; i < len(kv); i += 2 {
			out = append(out, sample{labels: [][2]string{{"outcome", kv[i].(string)}}, value: kv[i+1].(int64)})
		}
		return out
	}
	fams := []family{
		{"arbalest_scheduler_jobs_submitted_total", "Jobs submitted to the scheduler.", "counter", one(c.JobsSubmitted)},
		{"arbalest_scheduler_jobs_finished_total", "Jobs that ended, by outcome.", "counter",
			outcome("succeeded", c.JobsSucceeded, "failed", c.JobsFailed, "cancelled", c.JobsCancelled)},
		{"arbalest_scheduler_tasks_launched_total", "Task attempts launched on executors.", "counter", one(c.TasksLaunched)},
		{"arbalest_scheduler_tasks_finished_total", "Task attempts that ended, by outcome.", "counter",
			outcome("succeeded", c.TasksSucceeded, "failed", c.TasksFailed)},
		{"arbalest_scheduler_fetch_failures_total", "Tasks that could not read a shuffle input (its writer runs again).", "counter", one(c.FetchFailures)},
		{"arbalest_scheduler_executors_lost_total", "Executors declared lost after missing their heartbeats.", "counter", one(c.ExecutorsLost)},
		{"arbalest_scheduler_jobs", "Active jobs: queued (no task started yet) or running.", "gauge", []sample{
			{labels: [][2]string{{"state", "queued"}}, value: int64(g.JobsQueued)},
			{labels: [][2]string{{"state", "running"}}, value: int64(g.JobsRunning)},
		}},
		{"arbalest_scheduler_executors", "Live executors.", "gauge", one(int64(g.Executors))},
		{"arbalest_scheduler_slots", "Task slots of the live executors.", "gauge", one(int64(g.SlotsTotal))},
		{"arbalest_scheduler_slots_used", "Task slots of the live executors that run a task.", "gauge", one(int64(g.SlotsUsed))},
		{"arbalest_scheduler_tasks_running", "Tasks of active jobs running on an executor.", "gauge", one(int64(g.TasksRunning))},
		{"arbalest_scheduler_tasks_pending", "Tasks of active jobs waiting to run.", "gauge", one(int64(g.TasksPending))},
	}
	var b bytes.Buffer
	for _, f := range fams {
		b.WriteString("# HELP ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(escapeHelp(f.help))
		b.WriteString("\n# TYPE ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(f.typ)
		b.WriteByte('\n')
		for _, s := range f.samples {
			b.WriteString(f.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l[0])
					b.WriteString(`="`)
					b.WriteString(escapeLabel(l[1]))
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(s.value, 10))
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
