package storage

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTP(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	mux := http.NewServeMux()
	mux.HandleFunc("/data.bin", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "data.bin", time.Time{}, bytes.NewReader(data))
	})
	mux.HandleFunc("/norange.bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000")
		if r.Method == http.MethodGet {
			w.Write(data)
		}
	})
	mux.HandleFunc("/private.bin", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	h := NewHTTP()
	h.Backoff = time.Millisecond

	objs, err := h.List(ctx, srv.URL+"/data.bin", nil)
	if err != nil || len(objs) != 1 || objs[0].Size != int64(len(data)) {
		t.Fatalf("list: %v %v", objs, err)
	}
	r, _ := h.Open(ctx, objs[0])
	buf := make([]byte, 25)
	if n, err := r.ReadAt(buf, 9990); n != 10 || err != io.EOF || string(buf[:n]) != "0123456789" {
		t.Fatalf("read at the end: %d %v %q", n, err, buf[:n])
	}
	if n, err := r.ReadAt(buf, 3); n != 25 || err != nil || string(buf) != "3456789012345678901234567" {
		t.Fatalf("read: %d %v %q", n, err, buf)
	}
	for path, want := range map[string]string{
		"/missing.bin": "no such file (HTTP 404)",
		"/private.bin": "access denied",
	} {
		_, err := h.List(ctx, srv.URL+path, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), srv.URL+path) {
			t.Errorf("%s: %v, want %q and the location", path, err, want)
		}
	}
	objs, err = h.List(ctx, srv.URL+"/norange.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ = h.Open(ctx, objs[0])
	if _, err := r.ReadAt(buf, 100); err == nil || !strings.Contains(err.Error(), "ignores Range") {
		t.Errorf("a server without ranges: %v", err)
	}
	if _, err := h.List(ctx, srv.URL+"/*.bin", nil); err == nil || !strings.Contains(err.Error(), "globs are not supported") {
		t.Errorf("glob: %v", err)
	}
	if _, err := New("https://example.com/x.parquet", nil); err != nil {
		t.Errorf("New(https): %v", err)
	}
}
