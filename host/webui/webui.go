// Package webui is the scheduler's observability surface: a JSON REST API
// over the scheduler's read-only snapshots, a Prometheus endpoint, and a
// self-contained single-page web UI that draws jobs, their stage graphs,
// tasks and executors from that API.
//
// Handler serves these paths:
//
//	GET  /api/jobs                       {"jobs": [job summary, ...]}, newest first
//	GET  /api/jobs/{id}                  the job with "stage_list", each stage with
//	                                     its "task_list" (tasks without "operators")
//	GET  /api/jobs/{id}/stages/{stage}   one stage: plan and tasks with their
//	                                     per-operator metrics ("operators")
//	POST /api/jobs/{id}/cancel           cancels a running job; answers the job
//	                                     summary (409 if the job already ended)
//	GET  /api/executors                  {"executors": [...]}, each with
//	                                     "heartbeat_age_ms"
//	GET  /api/metrics                    {"counters": {...}, "gauges": {...}}
//	GET  /metrics                        the same in the Prometheus text format
//	GET  /                               the web UI (/app.js, /style.css, /favicon.svg)
//
// Every /api answer is JSON. Errors are {"error": "..."} with the status
// code saying what went wrong: 400 for a malformed stage id, 401 without
// the token, 403 for a cross-site POST, 404 for an unknown job, stage or
// endpoint, 405 (with an Allow header) for a wrong method, 409 for
// cancelling a job that has ended. With Options.Token set, /api and
// /metrics need "Authorization: Bearer <token>"; the UI's static files
// do not (they hold no data), and the UI asks for the token.
package webui

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/arbalest/arbalest/host/scheduler"
)

// Options configures Handler.
type Options struct {
	// Token, when not empty, is the bearer token every /api and /metrics
	// request must carry ("Authorization: Bearer <token>").
	Token string
}

// Handler serves the REST API, the Prometheus endpoint and the web UI of
// s. The API is read-only except for cancelling a job.
func Handler(s *scheduler.Scheduler, opts Options) http.Handler {
	return &handler{sched: s, token: opts.Token, csrf: http.NewCrossOriginProtection(), now: time.Now}
}

type handler struct {
	sched *scheduler.Scheduler
	token string
	csrf  *http.CrossOriginProtection
	now   func() time.Time
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api" || strings.HasPrefix(p, "/api/"):
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !h.authorized(w, r) {
			return
		}
		h.api(w, r, strings.TrimPrefix(strings.TrimPrefix(p, "/api"), "/"))
	case p == "/metrics":
		w.Header().Set("Cache-Control", "no-store")
		if !h.authorized(w, r) {
			return
		}
		if !allow(w, r, http.MethodGet) {
			return
		}
		h.prometheus(w, r)
	default:
		serveStatic(w, r)
	}
}

// authorized checks the bearer token; it answers 401 when it is missing
// or wrong.
func (h *handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h.token == "" {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		// Comparing digests takes the same time whatever the lengths.
		got, want := sha256.Sum256([]byte(strings.TrimSpace(tok))), sha256.Sum256([]byte(h.token))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="arbalest"`)
	msg := "missing bearer token"
	if r.Header.Get("Authorization") != "" {
		msg = "invalid bearer token"
	}
	writeError(w, http.StatusUnauthorized, msg)
	return false
}

// api routes /api/<rest>.
func (h *handler) api(w http.ResponseWriter, r *http.Request, rest string) {
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	switch {
	case len(seg) == 1 && seg[0] == "jobs":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, jobList{Jobs: h.sched.Jobs()})
		}
	case len(seg) == 2 && seg[0] == "jobs" && seg[1] != "":
		if allow(w, r, http.MethodGet) {
			h.job(w, seg[1])
		}
	case len(seg) == 3 && seg[0] == "jobs" && seg[1] != "" && seg[2] == "cancel":
		if allow(w, r, http.MethodPost) {
			h.cancel(w, r, seg[1])
		}
	case len(seg) == 4 && seg[0] == "jobs" && seg[1] != "" && seg[2] == "stages":
		if allow(w, r, http.MethodGet) {
			h.stage(w, seg[1], seg[3])
		}
	case len(seg) == 1 && seg[0] == "executors":
		if allow(w, r, http.MethodGet) {
			h.executors(w)
		}
	case len(seg) == 1 && seg[0] == "metrics":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, h.snapshot())
		}
	default:
		writeError(w, http.StatusNotFound, "no API endpoint "+r.URL.Path)
	}
}

// allow answers 405 unless r uses method (GET also admits HEAD).
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	allowed := method
	if method == http.MethodGet {
		allowed = "GET, HEAD"
	}
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+" (use "+method+")")
	return false
}

type jobList struct {
	Jobs []scheduler.JobSummary `json:"jobs"`
}

func (h *handler) job(w http.ResponseWriter, id string) {
	info, ok := h.sched.Job(id)
	if !ok {
		writeError(w, http.StatusNotFound, "job "+strconv.Quote(id)+" not found")
		return
	}
	// The per-operator metrics of every task would make the job's
	// answer large; the stage endpoint has them.
	for i := range info.Stages {
		for j := range info.Stages[i].Task {
			info.Stages[i].Task[j].Operators = ""
		}
	}
	if info.Stages == nil {
		info.Stages = []scheduler.StageInfo{}
	}
	writeJSON(w, http.StatusOK, info)
}

func (h *handler) stage(w http.ResponseWriter, id, stage string) {
	n, err := strconv.Atoi(stage)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, "stage "+strconv.Quote(stage)+" is not a stage id (a non-negative integer)")
		return
	}
	info, ok := h.sched.Job(id)
	if !ok {
		writeError(w, http.StatusNotFound, "job "+strconv.Quote(id)+" not found")
		return
	}
	for _, st := range info.Stages {
		if st.ID == n {
			writeJSON(w, http.StatusOK, st)
			return
		}
	}
	writeError(w, http.StatusNotFound, "job "+id+" has no stage "+strconv.Itoa(n))
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request, id string) {
	if err := h.csrf.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "cross-origin request refused: "+err.Error())
		return
	}
	info, ok := h.sched.Job(id)
	if !ok {
		writeError(w, http.StatusNotFound, "job "+strconv.Quote(id)+" not found")
		return
	}
	if terminal(info.State) {
		writeError(w, http.StatusConflict, "job "+id+" has already "+info.State)
		return
	}
	if err := h.sched.Cancel(id); err != nil {
		// The job was forgotten between the two calls.
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	// The job may have ended on its own just before: the answer says
	// which state it ended in.
	if info, ok = h.sched.Job(id); !ok {
		writeError(w, http.StatusNotFound, "job "+strconv.Quote(id)+" not found")
		return
	}
	writeJSON(w, http.StatusOK, info.JobSummary)
}

// terminal reports whether a job state (scheduler.JobSummary.State) is
// final.
func terminal(state string) bool {
	switch state {
	case "succeeded", "failed", "cancelled":
		return true
	}
	return false
}

// executorView is an executor with the age of its last heartbeat, measured
// on the scheduler's clock (the browser's may differ).
type executorView struct {
	scheduler.ExecutorInfo
	HeartbeatAgeMs int64 `json:"heartbeat_age_ms"`
}

type executorList struct {
	Executors []executorView `json:"executors"`
}

func (h *handler) executors(w http.ResponseWriter) {
	now := h.now()
	exs := h.sched.ExecutorList()
	out := executorList{Executors: make([]executorView, 0, len(exs))}
	for _, e := range exs {
		out.Executors = append(out.Executors, executorView{ExecutorInfo: e, HeartbeatAgeMs: max(0, now.Sub(e.LastSeen).Milliseconds())})
	}
	writeJSON(w, http.StatusOK, out)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		// Every value here is plain data; failing to encode one is a bug.
		code = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorBody{Error: "encoding the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
