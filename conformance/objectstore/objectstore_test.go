// Package objectstore checks that tables in an S3-compatible object store
// (MinIO on loopback, started by .ci/minio.sh) give the same answers as
// the same files on local disk, and that bad locations fail clearly.
//
//	.ci/minio.sh start && eval "$(.ci/minio.sh env)"
//	go test -count=1 ./conformance/objectstore/
//
// Without the MinIO environment the tests skip, unless
// ARBALEST_OBJECTSTORE_REQUIRED=1, when they fail.
package objectstore

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/cmd/arbalest/remote"
	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/workers/go/executor"
)

const bucket = "arbalest-conformance"

type server struct {
	endpoint, access, secret string
	client                   *minio.Client
}

// need returns the MinIO server from the environment, or skips (fails
// when ARBALEST_OBJECTSTORE_REQUIRED=1).
func need(t *testing.T) *server {
	t.Helper()
	s := &server{
		endpoint: os.Getenv("ARBALEST_MINIO_ENDPOINT"),
		access:   os.Getenv("ARBALEST_MINIO_ACCESS_KEY"),
		secret:   os.Getenv("ARBALEST_MINIO_SECRET_KEY"),
	}
	if s.endpoint == "" || s.access == "" || s.secret == "" {
		msg := "set ARBALEST_MINIO_ENDPOINT, ARBALEST_MINIO_ACCESS_KEY and ARBALEST_MINIO_SECRET_KEY (eval \"$(.ci/minio.sh env)\")"
		if os.Getenv("ARBALEST_OBJECTSTORE_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	u, err := url.Parse(s.endpoint)
	if err != nil || u.Host == "" {
		t.Fatalf("ARBALEST_MINIO_ENDPOINT %q: expected http://host:port", s.endpoint)
	}
	s.client, err = minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.access, s.secret, ""),
		Secure:       u.Scheme == "https",
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, bucket)
	if err != nil {
		t.Fatalf("MinIO at %s: %v", s.endpoint, err)
	}
	if !ok {
		if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatalf("MinIO at %s: make bucket: %v", s.endpoint, err)
		}
	}
	return s
}

// options is the OPTIONS clause naming the server and its credentials.
func (s *server) options(access, secret string) string {
	return fmt.Sprintf("OPTIONS ('aws_endpoint' '%s', 'aws_allow_http' 'true', 'aws_access_key_id' '%s', 'aws_secret_access_key' '%s', 'aws_region' 'us-east-1')",
		s.endpoint, access, secret)
}

// put uploads data as key unless an object of that size is there.
func (s *server) put(t *testing.T, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if info, err := s.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err == nil && info.Size == int64(len(data)) {
		return
	}
	if _, err := s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
}

// tpchDir is the local TPC-H SF 0.1 data.
func tpchDir(t *testing.T) string {
	dir := os.Getenv("ARBALEST_TPCH_SF01")
	if dir == "" {
		dir = filepath.Join("..", "..", "data", "sf0.1")
	}
	if _, err := os.Stat(filepath.Join(dir, "lineitem.parquet")); err != nil {
		msg := fmt.Sprintf("no TPC-H SF 0.1 data in %s (set ARBALEST_TPCH_SF01)", dir)
		if os.Getenv("ARBALEST_OBJECTSTORE_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

func run(ctx context.Context, s engine.Runner, sql string) error {
	return s.Run(ctx, sql, func(r *engine.Result) error {
		_, err := engine.CollectText(ctx, r.Stream)
		return err
	})
}

// TestTPCHFromS3 uploads TPC-H SF 0.1, registers it from s3:// and checks
// the 22 answers against the same files read from local disk.
func TestTPCHFromS3(t *testing.T) {
	srv := need(t)
	dir := tpchDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	uploadTPCH(t, srv, dir)

	local := standalone.NewSession(engine.ExecOptions{})
	if err := tpch.Register(ctx, local, dir); err != nil {
		t.Fatal(err)
	}
	remote := standalone.NewSession(engine.ExecOptions{})
	for i, tbl := range tpch.Tables {
		if i == 0 {
			// One table with the endpoint and credentials from the
			// standard environment, as --register gets them.
			t.Setenv("AWS_ENDPOINT_URL_S3", srv.endpoint)
			t.Setenv("AWS_ACCESS_KEY_ID", srv.access)
			t.Setenv("AWS_SECRET_ACCESS_KEY", srv.secret)
			t.Setenv("AWS_REGION", "us-east-1")
			loc := fmt.Sprintf("s3://%s/tpch/%s/", bucket, tbl)
			if err := remote.Catalog.RegisterLocation(ctx, tbl, "parquet", loc, nil, nil, false); err != nil {
				t.Fatalf("register %s from the environment: %v", loc, err)
			}
			continue
		}
		ddl := fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS PARQUET LOCATION 's3://%s/tpch/%s/' %s", tbl, bucket, tbl, srv.options(srv.access, srv.secret))
		if err := run(ctx, remote, ddl); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
	}
	for q := 1; q <= 22; q++ {
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatalf("q%02d on local files: %v", q, want.Err)
		}
		got := tpch.Run(ctx, remote, q)
		if got.Err != nil {
			t.Errorf("q%02d from s3: %v", q, got.Err)
			continue
		}
		if err := tpch.Compare(got.Rows, want.Rows); err != nil {
			t.Errorf("q%02d from s3 differs from local files: %v", q, err)
			continue
		}
		t.Logf("q%02d: %d rows, s3 %s, local %s", q, len(got.Rows), got.Elapsed.Round(time.Millisecond), want.Elapsed.Round(time.Millisecond))
	}
}

// TestBadLocations checks that each failure names the location, says
// what is wrong, leaks no secret and comes back in bounded time.
func TestBadLocations(t *testing.T) {
	srv := need(t)
	dir := tpchDir(t)
	nation, err := os.ReadFile(filepath.Join(dir, "nation.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	srv.put(t, "bad/truncated/nation.parquet", nation[:len(nation)/2])

	const wrongSecret = "not-the-secret-at-all"
	cases := []struct {
		name, location, options string
		want                    []string
	}{
		{"missing bucket", "s3://arbalest-no-such-bucket/tpch/", srv.options(srv.access, srv.secret),
			[]string{"s3://arbalest-no-such-bucket/tpch/", "does not exist"}},
		{"wrong credentials", "s3://" + bucket + "/tpch/nation/", srv.options(srv.access, wrongSecret),
			[]string{"s3://" + bucket + "/tpch/nation/", "access denied"}},
		{"unknown key id", "s3://" + bucket + "/tpch/nation/", srv.options("nobody", wrongSecret),
			[]string{"s3://" + bucket + "/tpch/nation/", "access denied"}},
		{"missing prefix", "s3://" + bucket + "/no/such/prefix/", srv.options(srv.access, srv.secret),
			[]string{"s3://" + bucket + "/no/such/prefix/", "no such object or prefix"}},
		{"truncated object", "s3://" + bucket + "/bad/truncated/", srv.options(srv.access, srv.secret),
			[]string{"s3://" + bucket + "/bad/truncated/nation.parquet", "Parquet"}},
		{"unreachable endpoint", "s3://" + bucket + "/tpch/nation/", strings.Replace(srv.options(srv.access, srv.secret), srv.endpoint, "http://127.0.0.1:1", 1),
			[]string{"s3://" + bucket + "/tpch/nation/"}},
	}
	s := standalone.NewSession(engine.ExecOptions{})
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			ddl := fmt.Sprintf("CREATE EXTERNAL TABLE bad%d STORED AS PARQUET LOCATION '%s' %s", i, c.location, c.options)
			err := run(ctx, s, ddl)
			if err == nil {
				t.Fatalf("%s: no error", c.location)
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: hung for %s", c.location, time.Since(start))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{srv.secret, wrongSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a secret", err)
				}
			}
			t.Logf("%s (%s)", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestTextAndArrowFormatsFromS3 reads CSV, newline-delimited JSON and Arrow
// IPC (file and stream) objects, as folders of several objects.
func TestTextAndArrowFormatsFromS3(t *testing.T) {
	srv := need(t)
	var csv1, csv2, js strings.Builder
	csv1.WriteString("id,name,price\n")
	csv2.WriteString("id,name,price\n")
	for i := range 2000 {
		b := &csv1
		if i >= 1000 {
			b = &csv2
		}
		fmt.Fprintf(b, "%d,\"name, %d\",%d.%02d\n", i, i, i, i%100)
		fmt.Fprintf(&js, "{\"id\": %d, \"name\": \"name, %d\", \"price\": %d.%02d}\n", i, i, i, i%100)
	}
	srv.put(t, "fmt/csv/part-0.csv", []byte(csv1.String()))
	srv.put(t, "fmt/csv/part-1.csv", []byte(csv2.String()))
	srv.put(t, "fmt/json/part-0.json", []byte(js.String()))
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String}}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := range 2000 {
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		bld.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name, %d", i))
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	var file, stream bytes.Buffer
	fw, err := ipc.NewFileWriter(&file, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(rec)
	fw.Close()
	sw := ipc.NewWriter(&stream, ipc.WithSchema(schema))
	sw.Write(rec)
	sw.Close()
	srv.put(t, "fmt/arrow/file.arrow", file.Bytes())
	srv.put(t, "fmt/arrows/stream.arrows", stream.Bytes())

	s := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := srv.options(srv.access, srv.secret)
	for _, c := range []struct{ name, format, loc, want string }{
		{"c", "CSV", "fmt/csv/", "2000|1999000|name, 999"},
		{"j", "JSON", "fmt/json/", "2000|1999000|name, 999"},
		{"a", "ARROW", "fmt/arrow/", "2000|1999000|name, 999"},
		{"s", "ARROW", "fmt/arrows/", "2000|1999000|name, 999"},
	} {
		ddl := fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS %s LOCATION 's3://%s/%s' %s", c.name, c.format, bucket, c.loc, opts)
		if c.format == "CSV" {
			ddl = fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS CSV WITH HEADER ROW LOCATION 's3://%s/%s' %s", c.name, bucket, c.loc, opts)
		}
		if err := run(ctx, s, ddl); err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		var got string
		err := s.Run(ctx, fmt.Sprintf("SELECT count(*), sum(id), max(name) FROM %s WHERE id < 1000 OR id >= 1000", c.name), func(r *engine.Result) error {
			rows, err := engine.CollectText(ctx, r.Stream)
			if err == nil && len(rows) == 1 {
				var parts []string
				for _, v := range rows[0] {
					parts = append(parts, v.Text)
				}
				got = strings.Join(parts, "|")
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		if got != c.want {
			t.Errorf("%s from %s: got %s, want %s", c.format, c.loc, got, c.want)
		}
	}
}

// uploadTPCH puts each TPC-H table as a folder (prefix) of one file, with
// a marker file the listing must skip.
func uploadTPCH(t *testing.T, srv *server, dir string) {
	t.Helper()
	for _, tbl := range tpch.Tables {
		data, err := os.ReadFile(filepath.Join(dir, tbl+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		srv.put(t, fmt.Sprintf("tpch/%s/part-0.parquet", tbl), data)
		srv.put(t, fmt.Sprintf("tpch/%s/_SUCCESS", tbl), nil)
	}
}

// TestTPCHFromS3OnCluster runs the 22 queries from s3:// on a scheduler
// and two executors (in one process, over gRPC and Flight): the executors
// read their splits from the object store with the table's OPTIONS.
func TestTPCHFromS3OnCluster(t *testing.T) {
	srv := need(t)
	dir := tpchDir(t)
	uploadTPCH(t, srv, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	local := standalone.NewSession(engine.ExecOptions{})
	if err := tpch.Register(ctx, local, dir); err != nil {
		t.Fatal(err)
	}
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(), scheduler.Config{Partitions: 3, Logf: func(string, ...any) {}},
		executor.Config{Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if err := st.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, st.Scheduler.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &remote.Runner{C: c}
	for _, tbl := range tpch.Tables {
		ddl := fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS PARQUET LOCATION 's3://%s/tpch/%s/' %s", tbl, bucket, tbl, srv.options(srv.access, srv.secret))
		if err := run(ctx, r, ddl); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
	}
	for q := 1; q <= 22; q++ {
		want, got := tpch.Run(ctx, local, q), tpch.Run(ctx, r, q)
		if want.Err != nil || got.Err != nil {
			t.Fatalf("q%02d: local %v, cluster from s3 %v", q, want.Err, got.Err)
		}
		if err := tpch.Compare(got.Rows, want.Rows); err != nil {
			t.Errorf("q%02d on the cluster from s3: %v", q, err)
		}
	}
}
