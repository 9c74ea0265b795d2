package objectstore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
)

// TestTPCHOverHTTP serves the TPC-H files from a loopback HTTP file server
// (ranged GETs) and checks the 22 answers against the local files'.
func TestTPCHOverHTTP(t *testing.T) {
	dir := tpchDir(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	local := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	if err := tpch.Register(ctx, local, dir); err != nil {
		t.Fatal(err)
	}
	remote := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	for _, tbl := range tpch.Tables {
		ddl := fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS PARQUET LOCATION '%s/%s.parquet'", tbl, srv.URL, tbl)
		if err := run(ctx, remote, ddl); err != nil {
			t.Fatal(err)
		}
	}
	for q := 1; q <= 22; q++ {
		want, got := tpch.Run(ctx, local, q), tpch.Run(ctx, remote, q)
		if want.Err != nil || got.Err != nil {
			t.Fatalf("q%02d: local %v, http %v", q, want.Err, got.Err)
		}
		if err := tpch.Compare(got.Rows, want.Rows); err != nil {
			t.Errorf("q%02d over http: %v", q, err)
		}
	}
	err := run(ctx, remote, fmt.Sprintf("CREATE EXTERNAL TABLE gone STORED AS PARQUET LOCATION '%s/nothing.parquet'", srv.URL))
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/nothing.parquet") || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: %v", err)
	}
}
