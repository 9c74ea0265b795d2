package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// TestMinIO lists and reads a real server (.ci/minio.sh). It skips
// without the MinIO environment unless ARBALEST_OBJECTSTORE_REQUIRED=1.
func TestMinIO(t *testing.T) {
	endpoint, access, secret := os.Getenv("ARBALEST_MINIO_ENDPOINT"), os.Getenv("ARBALEST_MINIO_ACCESS_KEY"), os.Getenv("ARBALEST_MINIO_SECRET_KEY")
	if endpoint == "" || access == "" || secret == "" {
		if os.Getenv("ARBALEST_OBJECTSTORE_REQUIRED") == "1" {
			t.Fatal("ARBALEST_MINIO_ENDPOINT, ARBALEST_MINIO_ACCESS_KEY and ARBALEST_MINIO_SECRET_KEY are not set")
		}
		t.Skip("set ARBALEST_MINIO_* (eval \"$(.ci/minio.sh env)\")")
	}
	s, err := NewS3(map[string]string{OptEndpoint: endpoint, OptAllowHTTP: "true", OptAccessKeyID: access, OptSecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const bkt = "arbalest-storage-test"
	if ok, err := s.core.BucketExists(ctx, bkt); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := s.core.MakeBucket(ctx, bkt, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	objects := map[string]string{
		"t/a.parquet":             "0123456789",
		"t/year=2024/b.parquet":   "bb",
		"t/year=2025/c.parquet":   "ccc",
		"t/_SUCCESS":              "",
		"t/.tmp/d.parquet":        "d",
		"t/notes.txt":             "x",
		"t2/only.parquet":         "o",
		"single/file.parquet":     "single",
		"single/file.parquet.bak": "bak",
	}
	for k, v := range objects {
		if _, err := s.core.Client.PutObject(ctx, bkt, k, bytes.NewReader([]byte(v)), int64(len(v)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pq := func(p string) bool { return strings.HasSuffix(p, ".parquet") }
	list := func(loc string) string {
		objs, err := s.List(ctx, loc, pq)
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprint(objs)
	}
	base := "s3://" + bkt + "/"
	for loc, want := range map[string]string{
		base + "t":                     fmt.Sprint([]Object{{base + "t/a.parquet", 10}, {base + "t/year=2024/b.parquet", 2}, {base + "t/year=2025/c.parquet", 3}}),
		base + "t/":                    fmt.Sprint([]Object{{base + "t/a.parquet", 10}, {base + "t/year=2024/b.parquet", 2}, {base + "t/year=2025/c.parquet", 3}}),
		base + "t/year=*":              fmt.Sprint([]Object{{base + "t/year=2024/b.parquet", 2}, {base + "t/year=2025/c.parquet", 3}}),
		base + "t/year=2025/*.parquet": fmt.Sprint([]Object{{base + "t/year=2025/c.parquet", 3}}),
		base + "single/file.parquet":   fmt.Sprint([]Object{{base + "single/file.parquet", 6}}),
	} {
		if got := list(loc); got != want {
			t.Errorf("List(%s) = %s, want %s", loc, got, want)
		}
	}
	if got := list(base + "nothing/here/"); !strings.Contains(got, "no such object or prefix") {
		t.Errorf("missing prefix: %s", got)
	}
	r, err := s.Open(ctx, Object{Path: base + "t/a.parquet", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	sr := io.NewSectionReader(r, 0, r.Size())
	if _, err := sr.Seek(-4, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(sr)
	if err != nil || string(tail) != "6789" {
		t.Fatalf("tail: %q %v", tail, err)
	}
	// Listed larger than it is: a clear error, not a hang or garbage.
	r, _ = s.Open(ctx, Object{Path: base + "t2/only.parquet", Size: 100})
	if _, err := r.ReadAt(make([]byte, 10), 50); err == nil || !strings.Contains(err.Error(), base+"t2/only.parquet") {
		t.Fatalf("short object: %v", err)
	}
}
