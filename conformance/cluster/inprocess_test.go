package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/cmd/arbalest/remote"
	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/conformance/tpch/dbgen"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/workers/go/executor"
)

// TestInProcessCluster runs the 22 TPC-H queries (SF 0.01, small row
// groups so scans split over tasks) on a standalone cluster in this
// process — scheduler, two executors, Flight shuffle, the Go client — and
// compares every answer with the local engine's. It needs nothing from the
// environment, so `go test -race` covers the whole distributed path.
func TestInProcessCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	data := t.TempDir()
	if _, err := dbgen.Generate(ctx, data, dbgen.Options{ScaleFactor: 0.01, RowGroupRows: 4000, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	local := standalone.NewSession(engine.ExecOptions{Partitions: 2})
	if err := tpch.Register(ctx, local, data); err != nil {
		t.Fatal(err)
	}
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(),
		scheduler.Config{Partitions: 3, BroadcastRows: 1000, Logf: t.Logf}, executor.Config{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if err := st.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, st.Scheduler.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &remote.Runner{C: c}
	if err := tpch.Register(ctx, r, data); err != nil {
		t.Fatal(err)
	}
	for q := 1; q <= 22; q++ {
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatalf("q%02d locally: %v", q, want.Err)
		}
		got := tpch.Run(ctx, r, q)
		if got.Err != nil {
			t.Fatalf("q%02d on the cluster: %v", q, got.Err)
		}
		if err := tpch.Compare(got.Rows, want.Rows); err != nil {
			t.Fatalf("q%02d: cluster and local engine differ: %v", q, err)
		}
	}
}
