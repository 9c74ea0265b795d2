package webui_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/host/webui"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/workers/go/executor"
)

func TestZZDemo(t *testing.T) {
	if os.Getenv("WEBUI_DEMO") == "" {
		t.Skip()
	}
	bin := chromium(t)
	ctx := context.Background()
	var lg logs
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(),
		scheduler.Config{Partitions: 8, BroadcastRows: 1, Logf: lg.logf}, executor.Config{Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	st.WaitReady(20 * time.Second)
	c, _ := client.Dial(ctx, st.Scheduler.Addr())
	defer c.Close()
	for _, tb := range []string{"lineitem", "orders", "customer", "nation"} {
		r, err := c.SQL(ctx, "CREATE EXTERNAL TABLE "+tb+" STORED AS PARQUET LOCATION '/tmp/tpch01/"+tb+".parquet'")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	srv, _ := webui.Serve("127.0.0.1:0", webui.Handler(st.Scheduler.Sched, webui.Options{}))
	defer srv.Close()
	q := `SELECT n_name, o_orderpriority, count(*), sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey
WHERE l_comment NOT LIKE '%<b>%' GROUP BY n_name, o_orderpriority ORDER BY revenue DESC`
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 6; i++ {
			r, err := c.SQL(ctx, q)
			if err != nil {
				done <- err
				return
			}
			for r.Next() {
			}
			r.Close()
		}
		done <- nil
	}()
	time.Sleep(1500 * time.Millisecond)
	var id string
	for _, j := range st.Scheduler.Sched.Jobs() {
		if j.State == "running" {
			id = j.ID
		}
	}
	t.Logf("job %s", id)
	os.Setenv("ARBALEST_SCREENSHOT_DIR", "/tmp/webui-demo")
	screenshot(t, bin, srv.URL()+"/#/jobs/"+id, "running-job")
	screenshot(t, bin, srv.URL()+"/#/executors", "running-executors")
	screenshot(t, bin, srv.URL()+"/", "running-jobs")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	screenshot(t, bin, srv.URL()+"/#/jobs/"+id+"/stages/2", "done-job")
}
