package webui_test

import (
	"context"
	"io"
	"net/http"
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
	os.Setenv("ARBALEST_SCREENSHOT_DIR", "/tmp/webui-demo")
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
	q2 := `SELECT a.l_returnflag, count(*) FROM lineitem a JOIN lineitem b ON a.l_suppkey = b.l_suppkey GROUP BY a.l_returnflag`
	go func() {
		r, err := c.SQL(ctx, q2)
		t.Logf("heavy query: %v", err)
		if err == nil {
			r.Close()
		}
	}()
	time.Sleep(2 * time.Second)
	for _, j := range st.Scheduler.Sched.Jobs() {
		if j.State == "running" {
			screenshot(t, bin, srv.URL()+"/#/jobs/"+j.ID, "heavy-job")
			screenshot(t, bin, srv.URL()+"/", "heavy-jobs")
			res, err := http.Post(srv.URL()+"/api/jobs/"+j.ID+"/cancel", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			t.Logf("cancel: %d %s", res.StatusCode, b)
			time.Sleep(500 * time.Millisecond)
			screenshot(t, bin, srv.URL()+"/", "cancelled-jobs")
		}
	}
	q := `SELECT n_name, o_orderpriority, count(*), sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey
WHERE l_comment NOT LIKE '%<b>%' GROUP BY n_name, o_orderpriority ORDER BY revenue DESC`
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 4; i++ {
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
	time.Sleep(700 * time.Millisecond)
	var id string
	for _, j := range st.Scheduler.Sched.Jobs() {
		if j.State == "running" {
			id = j.ID
		}
	}
	t.Logf("job %s", id)
	screenshot(t, bin, srv.URL()+"/#/jobs/"+id, "running-job")
	screenshot(t, bin, srv.URL()+"/#/executors", "running-executors")
	screenshot(t, bin, srv.URL()+"/", "running-jobs")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	screenshot(t, bin, srv.URL()+"/#/jobs/"+id+"/stages/2", "done-job")
}
