package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestScheme(t *testing.T) {
	for loc, want := range map[string]string{
		"s3://bkt/k":        "s3",
		"S3://b/k":          "s3",
		"gs://b":            "gs",
		"/data/x.parquet":   "",
		"data/x.parquet":    "",
		`C:\data\x.parquet`: "",
		"file:///tmp/x":     "file",
		"a/b://c":           "",
	} {
		if got := Scheme(loc); got != want {
			t.Errorf("Scheme(%q) = %q, want %q", loc, got, want)
		}
	}
	if IsRemote("file:///tmp/x") || !IsRemote("s3://bkt/") {
		t.Error("IsRemote")
	}
	if _, err := New("gs://b/x", nil); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("gs:// must be refused clearly, got %v", err)
	}
}

func TestSplitOptions(t *testing.T) {
	f, s := SplitOptions(map[string]string{"header": "true", "AWS_Region": "eu"})
	if len(f) != 1 || f["header"] != "true" || len(s) != 1 || s["aws_region"] != "eu" {
		t.Fatalf("got %v %v", f, s)
	}
	orig := map[string]string{"header": "true"}
	if f, s := SplitOptions(orig); s != nil || len(f) != 1 {
		t.Fatalf("got %v %v", f, s)
	}
}

func TestParseS3Config(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "envid", "AWS_SECRET_ACCESS_KEY": "envsecret",
		"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
	}
	getenv := func(k string) string { return env[k] }
	c, err := ParseS3Config(nil, getenv)
	if err != nil || c.AccessKeyID != "envid" || c.SecretAccessKey != "envsecret" || c.Region != "eu-west-1" || c.Endpoint != "http://127.0.0.1:9" || !c.AllowHTTP {
		t.Fatalf("env: %+v %v", c, err)
	}
	env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:10"
	if c, _ := ParseS3Config(nil, getenv); c.Endpoint != "http://127.0.0.1:10" {
		t.Fatalf("AWS_ENDPOINT_URL_S3 must win: %+v", c)
	}
	c, err = ParseS3Config(map[string]string{"aws_access_key_id": "o", "aws_secret_access_key": "os", "aws_endpoint": "http://h:1", "aws_region": "r"}, getenv)
	if err != nil || c.AccessKeyID != "o" || c.SecretAccessKey != "os" || c.Region != "r" || c.Endpoint != "http://h:1" || c.AllowHTTP {
		t.Fatalf("options: %+v %v", c, err)
	}
	// An http endpoint from OPTIONS needs aws_allow_http.
	if _, err := NewS3FromConfig(c); err == nil || !strings.Contains(err.Error(), "aws_allow_http") {
		t.Fatalf("plain http endpoint must be refused without aws_allow_http: %v", err)
	}
	c.AllowHTTP = true
	if _, err := NewS3FromConfig(c); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseS3Config(map[string]string{"aws_access_key_id": "o"}, getenv); err == nil {
		t.Fatal("a key id without a secret must be refused")
	}
	if _, err := ParseS3Config(map[string]string{"aws_secret": "x"}, getenv); err == nil || !strings.Contains(err.Error(), "aws_secret") {
		t.Fatalf("unknown option: %v", err)
	}
	if _, err := ParseS3Config(map[string]string{"aws_allow_http": "maybe"}, getenv); err == nil {
		t.Fatal("bad boolean must be refused")
	}
	if _, err := NewS3FromConfig(S3Config{Endpoint: "http://h:1/path", AllowHTTP: true}); err == nil {
		t.Fatal("endpoint with a path must be refused")
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("t/a.parquet", "aaaa")
	write("t/year=2024/b.parquet", "bb")
	write("t/_SUCCESS", "")
	write("t/.hidden/c.parquet", "c")
	write("t/notes.txt", "x")
	ctx := context.Background()
	keep := func(p string) bool { return strings.HasSuffix(p, ".parquet") }
	objs, err := Local{}.List(ctx, filepath.Join(dir, "t"), keep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{{filepath.Join(dir, "t/a.parquet"), 4}, {filepath.Join(dir, "t/year=2024/b.parquet"), 2}}
	if fmt.Sprint(objs) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", objs, want)
	}
	objs, err = Local{}.List(ctx, filepath.Join(dir, "t/year=*/*.parquet"), keep)
	if err != nil || len(objs) != 1 || objs[0].Size != 2 {
		t.Fatalf("glob: %v %v", objs, err)
	}
	if _, err := (Local{}).List(ctx, filepath.Join(dir, "nope"), keep); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	r, err := Local{}.Open(ctx, want[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 2)
	if n, err := r.ReadAt(buf, 2); n != 2 || err != nil || string(buf) != "aa" || r.Size() != 4 {
		t.Fatalf("ReadAt: %d %v %q", n, err, buf)
	}
}

// fakeS3 serves one object "b/k" with body, through handler hooks.
func fakeS3(t *testing.T, h http.HandlerFunc) *S3 {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s, err := NewS3FromConfig(S3Config{
		Endpoint: srv.URL, AllowHTTP: true, AccessKeyID: "id", SecretAccessKey: "very-secret-key",
		Attempts: 3, Backoff: 10 * time.Millisecond, Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func s3Err(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><BucketName>bkt</BucketName></Error>`, code, msg)
}

func TestS3ErrorsNameLocation(t *testing.T) {
	ctx := context.Background()
	t.Run("access denied", func(t *testing.T) {
		var calls atomic.Int32
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			s3Err(w, 403, "InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.")
		})
		_, err := s.List(ctx, "s3://bkt/tpch/", nil)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/tpch/") || !strings.Contains(err.Error(), "access denied") {
			t.Fatalf("got %v", err)
		}
		if strings.Contains(err.Error(), "very-secret-key") {
			t.Fatal("secret in error")
		}
		if calls.Load() != 1 {
			t.Fatalf("a 403 must not be retried: %d calls", calls.Load())
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.WriteHeader(404)
				return
			}
			s3Err(w, 404, "NoSuchBucket", "The specified bucket does not exist")
		})
		_, err := s.List(ctx, "s3://bkt/tpch/lineitem.parquet", nil)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/tpch/lineitem.parquet") || !strings.Contains(err.Error(), `bucket "bkt" does not exist`) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("server errors are retried", func(t *testing.T) {
		var calls atomic.Int32
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			s3Err(w, 503, "SlowDown", "Please reduce your request rate.")
		})
		rd, _ := s.Open(ctx, Object{Path: "s3://bkt/k", Size: 10})
		_, err := rd.ReadAt(make([]byte, 4), 0)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/k") || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Fatalf("got %v", err)
		}
		if calls.Load() != 3 {
			t.Fatalf("want 3 attempts, got %d", calls.Load())
		}
	})
	t.Run("stalled server times out", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		rd, _ := s.Open(ctx, Object{Path: "s3://bkt/k", Size: 10})
		start := time.Now()
		_, err := rd.ReadAt(make([]byte, 4), 0)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/k") {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %s: attempts are not bounded", d)
		}
	})
	t.Run("connection cut mid-read", func(t *testing.T) {
		var calls atomic.Int32
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			n := calls.Add(1)
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Length", "4")
			w.Header().Set("Content-Range", "bytes 0-3/10")
			w.WriteHeader(http.StatusPartialContent)
			if n < 2 {
				w.Write([]byte("ab")) // then the handler returns: body cut short
				return
			}
			w.Write([]byte("abcd"))
		})
		rd, _ := s.Open(ctx, Object{Path: "s3://bkt/k", Size: 10})
		buf := make([]byte, 4)
		if n, err := rd.ReadAt(buf, 0); err != nil || n != 4 || string(buf) != "abcd" {
			t.Fatalf("the retry must recover: %d %v %q", n, err, buf)
		}
		if calls.Load() != 2 {
			t.Fatalf("want 2 calls, got %d", calls.Load())
		}
	})
	t.Run("object shorter than listed", func(t *testing.T) {
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			s3Err(w, 416, "InvalidRange", "The requested range is not satisfiable")
		})
		rd, _ := s.Open(ctx, Object{Path: "s3://bkt/k", Size: 100})
		_, err := rd.ReadAt(make([]byte, 4), 90)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/k") || !strings.Contains(err.Error(), "shorter than listed") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ranges", func(t *testing.T) {
		body := []byte("0123456789")
		s := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			var a, b int
			if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b); err != nil {
				t.Errorf("no range: %q", r.Header.Get("Range"))
			}
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(body)))
			w.WriteHeader(http.StatusPartialContent)
			io.Copy(w, bytes.NewReader(body[a:b+1]))
		})
		rd, _ := s.Open(ctx, Object{Path: "s3://bkt/k", Size: int64(len(body))})
		buf := make([]byte, 4)
		if n, err := rd.ReadAt(buf, 3); n != 4 || err != nil || string(buf) != "3456" {
			t.Fatalf("%d %v %q", n, err, buf)
		}
		// Past the end: fewer bytes and io.EOF, as io.ReaderAt says.
		if n, err := rd.ReadAt(buf, 8); n != 2 || err != io.EOF || string(buf[:2]) != "89" {
			t.Fatalf("%d %v %q", n, err, buf)
		}
		if n, err := rd.ReadAt(buf, 10); n != 0 || err != io.EOF {
			t.Fatalf("%d %v", n, err)
		}
	})
}
