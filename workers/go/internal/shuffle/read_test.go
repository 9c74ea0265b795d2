package shuffle

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/substrait/logical"
)

const testJob = "job_1"

// checkGoroutines verifies, after every cleanup registered later (servers
// stopped), that the test left no goroutine running.
func checkGoroutines(t *testing.T) {
	t.Cleanup(func() {
		goleak.VerifyNone(t, goleak.IgnoreTopFunction("runtime/pprof.profileWriter"))
	})
}

// cluster is two executors' shuffle roots, B served over Flight.
type cluster struct {
	rootA, rootB string
	memW         *memory.CheckedAllocator // writers
	memS         *memory.CheckedAllocator // Flight service
	svcB         *FlightService
	srvB         *Server
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{
		rootA: t.TempDir(), rootB: t.TempDir(),
		memW: memory.NewCheckedAllocator(memory.NewGoAllocator()),
		memS: memory.NewCheckedAllocator(memory.NewGoAllocator()),
	}
	c.svcB = NewFlightService(c.rootB, c.memS)
	srv, err := Serve("127.0.0.1:0", c.svcB)
	if err != nil {
		t.Fatal(err)
	}
	c.srvB = srv
	t.Cleanup(func() {
		if err := c.srvB.Stop(); err != nil {
			t.Error(err)
		}
		c.memW.AssertSize(t, 0)
		c.memS.AssertSize(t, 0)
	})
	return c
}

// deadAddr is a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// writeStage writes maps map tasks of stage, the even ones on executor A
// and the odd ones on B, and returns their inputs (the caller releases
// them) and locations. A's locations carry a dead Flight address, so a
// read of them only succeeds from disk.
func (c *cluster) writeStage(t *testing.T, stage, maps int, spec WriteSpec) ([]arrow.RecordBatch, []logical.ShuffleLocation) {
	t.Helper()
	var all []arrow.RecordBatch
	var locs []logical.ShuffleLocation
	dead := deadAddr(t)
	for m := range maps {
		in := makeBatches(t, c.memW, 3, 200, uint64(100*stage+m))
		// Distinct ids across maps.
		for i, b := range in {
			in[i] = shiftIDs(t, c.memW, b, int64(m)*1_000_000)
		}
		all = append(all, in...)
		loc := logical.ShuffleLocation{MapPartition: m, ExecutorID: "A", FlightAddress: dead}
		root := c.rootA
		if m%2 == 1 {
			loc.ExecutorID, loc.FlightAddress, root = "B", c.srvB.Addr(), c.rootB
		}
		dir := TaskDir(root, testJob, stage, m)
		if _, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, spec, dir, c.memW); err != nil {
			t.Fatal(err)
		}
		// B stands for another machine: its directory is not visible here,
		// so its outputs come over Flight.
		if loc.ExecutorID == "A" {
			loc.Path = dir
		} else {
			loc.Path = filepath.Join(t.TempDir(), "elsewhere")
		}
		locs = append(locs, loc)
	}
	return all, locs
}

// shiftIDs returns b with id column + delta, releasing b.
func shiftIDs(t *testing.T, mem memory.Allocator, b arrow.RecordBatch, delta int64) arrow.RecordBatch {
	t.Helper()
	defer b.Release()
	ids := b.Column(0).(interface{ Int64Values() []int64 }).Int64Values()
	bld := array.NewInt64Builder(mem)
	defer bld.Release()
	for _, v := range ids {
		bld.Append(v + delta)
	}
	col := bld.NewArray()
	defer col.Release()
	cols := slices.Clone(b.Columns())
	cols[0] = col
	return array.NewRecordBatch(testSchema, cols, b.NumRows())
}

// readAll drains a reader, retaining its batches.
func readAll(t *testing.T, r *Reader) ([]arrow.RecordBatch, error) {
	t.Helper()
	var out []arrow.RecordBatch
	for {
		b, err := r.Next(context.Background())
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b.Retain()
		out = append(out, b)
	}
}

func TestReaderLocalAndRemote(t *testing.T) {
	checkGoroutines(t)
	c := newCluster(t)
	const n = 4
	in, locs := c.writeStage(t, 1, 4, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{7, 3}, Partitions: n})
	defer releaseAll(in)
	// Slice what B serves into small messages.
	c.svcB.MaxBatchBytes = 8 << 10

	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)
	cache := NewClientCache(nil)
	defer cache.Close()
	var got []arrow.RecordBatch
	for p := range n {
		r, err := OpenReader(context.Background(), ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{p}, Locations: locs},
			ReaderConfig{LocalExecutorID: "A", Clients: cache}, memR)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := readAll(t, r)
		if cerr := r.Close(); cerr != nil {
			t.Error(cerr)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if !b.Schema().Equal(testSchema) {
				t.Fatalf("batch schema %s", b.Schema())
			}
			for _, want := range wantPartitions(t, b, []int{7, 3}, n) {
				if want != p {
					t.Fatalf("read of partition %d returned a row of partition %d", p, want)
				}
			}
		}
		got = append(got, bs...)
	}
	defer releaseAll(got)
	if g, w := rowKeys(got), rowKeys(in); !slices.Equal(g, w) {
		t.Fatalf("read %d rows, wrote %d (or they differ)", len(g), len(w))
	}
}

func TestReaderBroadcastAllPartitions(t *testing.T) {
	checkGoroutines(t)
	c := newCluster(t)
	in, locs := c.writeStage(t, 2, 3, WriteSpec{Kind: logical.ShuffleBroadcast})
	defer releaseAll(in)
	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)
	// No local executor: everything, A's files included, would go over
	// Flight, and A's address is dead; so serve A too.
	svcA := NewFlightService(c.rootA, memR)
	srvA, err := Serve("127.0.0.1:0", svcA)
	if err != nil {
		t.Fatal(err)
	}
	defer srvA.Stop()
	for i := range locs {
		if locs[i].ExecutorID == "A" {
			locs[i].FlightAddress = srvA.Addr()
		}
	}
	r, err := OpenReader(context.Background(), ReadRequest{Schema: testSchema, JobID: testJob, Stage: 2, Partitions: []int{0}, Locations: locs}, ReaderConfig{Concurrency: 2}, memR)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	defer releaseAll(got)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if g, w := rowKeys(got), rowKeys(in); !slices.Equal(g, w) {
		t.Fatalf("read %d rows, wrote %d (or they differ)", len(g), len(w))
	}
}

// fetchErr reads everything and returns the FetchError it fails with.
func fetchErr(t *testing.T, req ReadRequest, cfg ReaderConfig, mem memory.Allocator) *FetchError {
	t.Helper()
	start := time.Now()
	r, err := OpenReader(context.Background(), req, cfg, mem)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := readAll(t, r)
	releaseAll(bs)
	r.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing took %s", d)
	}
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v (%T), want a *FetchError", err, err)
	}
	return fe
}

func TestReaderErrors(t *testing.T) {
	checkGoroutines(t)
	c := newCluster(t)
	in, locs := c.writeStage(t, 1, 2, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 2})
	releaseAll(in)
	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)
	req := func(locs ...logical.ShuffleLocation) ReadRequest {
		return ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{0, 1}, Locations: locs}
	}
	cfg := ReaderConfig{LocalExecutorID: "A"}

	t.Run("missing remote file", func(t *testing.T) {
		loc := locs[1]
		loc.MapPartition = 7
		fe := fetchErr(t, req(locs[0], loc), cfg, memR)
		if fe.MapPartition != 7 || fe.ExecutorID != "B" || fe.Addr != c.srvB.Addr() || fe.Stage != 1 {
			t.Errorf("error names %+v", fe)
		}
		if status.Code(fe) != codes.NotFound || !strings.Contains(fe.Error(), "map 7") {
			t.Errorf("got %v, want NotFound naming map 7", fe)
		}
	})
	t.Run("missing local file without address", func(t *testing.T) {
		loc := locs[0]
		loc.Path += "-gone"
		loc.FlightAddress = ""
		fe := fetchErr(t, req(loc), cfg, memR)
		if !errors.Is(fe, ErrNoSource) || fe.MapPartition != 0 {
			t.Errorf("got %v", fe)
		}
	})
	t.Run("missing local file falls back to Flight", func(t *testing.T) {
		// B's file read as if B were local but its directory moved: the
		// reader asks B's Flight service, which has it.
		loc := locs[1]
		loc.Path += "-moved"
		r, err := OpenReader(context.Background(), req(loc), ReaderConfig{LocalExecutorID: "B"}, memR)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := readAll(t, r)
		releaseAll(bs)
		r.Close()
		if err != nil || len(bs) == 0 {
			t.Fatalf("got %d batches, %v", len(bs), err)
		}
	})
	t.Run("dead address", func(t *testing.T) {
		loc := locs[1]
		loc.FlightAddress = deadAddr(t)
		fe := fetchErr(t, req(loc), cfg, memR)
		if status.Code(fe) != codes.Unavailable || fe.Addr != loc.FlightAddress {
			t.Errorf("got %v, want Unavailable naming %s", fe, loc.FlightAddress)
		}
	})
	wrong := arrow.NewSchema(slices.Clone(testSchema.Fields()), nil)
	wrong = arrow.NewSchema(append(wrong.Fields()[:3], arrow.Field{Name: "i64", Type: arrow.BinaryTypes.String}), nil)
	for name, loc := range map[string]logical.ShuffleLocation{"wrong schema local": locs[0], "wrong schema remote": locs[1]} {
		t.Run(name, func(t *testing.T) {
			r := req(loc)
			r.Schema = wrong
			fe := fetchErr(t, r, cfg, memR)
			if !errors.Is(fe, ErrSchemaMismatch) || !strings.Contains(fe.Error(), "10 columns") {
				t.Errorf("got %v", fe)
			}
		})
	}
	t.Run("bad request", func(t *testing.T) {
		if _, err := OpenReader(context.Background(), ReadRequest{Schema: testSchema, JobID: "../x"}, cfg, memR); err == nil {
			t.Error("bad job id accepted")
		}
	})
}

// stallService sends one message (app metadata only) and then nothing
// until the call ends.
type stallService struct {
	flight.BaseFlightServer
	started chan struct{}
	once    sync.Once
}

func (s *stallService) DoGet(_ *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	w := flight.NewRecordWriter(stream, ipc.WithSchema(testSchema))
	if err := w.WriteMetadata([]byte("hello")); err != nil {
		return err
	}
	s.once.Do(func() { close(s.started) })
	<-stream.Context().Done()
	return stream.Context().Err()
}

func TestReaderTimeouts(t *testing.T) {
	checkGoroutines(t)
	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)

	t.Run("idle", func(t *testing.T) {
		svc := &stallService{started: make(chan struct{})}
		srv, err := Serve("127.0.0.1:0", svc)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop()
		loc := logical.ShuffleLocation{MapPartition: 3, ExecutorID: "S", FlightAddress: srv.Addr()}
		start := time.Now()
		fe := fetchErr(t, ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{0}, Locations: []logical.ShuffleLocation{loc}},
			ReaderConfig{IdleTimeout: 300 * time.Millisecond}, memR)
		if !errors.Is(fe, ErrFetchTimeout) || !strings.Contains(fe.Error(), "idle") {
			t.Errorf("got %v, want an idle timeout", fe)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("idle timeout of 300ms took %s", d)
		}
	})
	t.Run("connect", func(t *testing.T) {
		// A listener that accepts and never speaks.
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var conns []net.Conn
		var mu sync.Mutex
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		defer func() {
			lis.Close()
			<-done
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		}()
		loc := logical.ShuffleLocation{MapPartition: 1, ExecutorID: "S", FlightAddress: lis.Addr().String()}
		start := time.Now()
		fe := fetchErr(t, ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{0}, Locations: []logical.ShuffleLocation{loc}},
			ReaderConfig{ConnectTimeout: 300 * time.Millisecond}, memR)
		if !errors.Is(fe, ErrFetchTimeout) || !strings.Contains(fe.Error(), "connect timeout") {
			t.Errorf("got %v, want a connect timeout", fe)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("connect timeout of 300ms took %s", d)
		}
	})
}

func TestReaderEarlyCloseAndCancel(t *testing.T) {
	checkGoroutines(t)
	c := newCluster(t)
	in, locs := c.writeStage(t, 1, 6, WriteSpec{Kind: logical.ShuffleSingle, BatchRows: 100})
	releaseAll(in)
	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)
	req := ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{0}, Locations: locs}

	// Close after one batch, with fetchers blocked on a full queue.
	r, err := OpenReader(context.Background(), req, ReaderConfig{LocalExecutorID: "A", Concurrency: 2}, memR)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := r.Next(context.Background()); err != io.EOF {
		t.Fatalf("Next after Close: %v", err)
	}

	// The context of Execute ends: Next fails.
	ctx, cancel := context.WithCancel(context.Background())
	r, err = OpenReader(ctx, req, ReaderConfig{LocalExecutorID: "A"}, memR)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		_, err = r.Next(context.Background())
		if err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	r.Close()
}

func TestFlightServiceTickets(t *testing.T) {
	checkGoroutines(t)
	c := newCluster(t)
	in, _ := c.writeStage(t, 1, 2, WriteSpec{Kind: logical.ShuffleSingle})
	releaseAll(in)
	client, err := DialFlight(context.Background(), c.srvB.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	get := func(tkt []byte) (rows int64, batches int, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := client.DoGet(ctx, &flight.Ticket{Ticket: tkt})
		if err != nil {
			return 0, 0, err
		}
		rdr, err := flight.NewRecordReader(stream)
		if err != nil {
			return 0, 0, err
		}
		defer rdr.Release()
		for rdr.Next() {
			rows += rdr.RecordBatch().NumRows()
			batches++
		}
		return rows, batches, rdr.Err()
	}
	good, _ := EncodeTicket(Ticket{Job: testJob, Stage: 1, Map: 1, Partition: 0})
	if rows, batches, err := get(good); err != nil || rows != 600 || batches != 1 {
		t.Fatalf("good ticket: %d rows in %d batches, %v; want 600 in 1", rows, batches, err)
	}
	// Batches above MaxBatchBytes are sent in slices.
	c.svcB.MaxBatchBytes = 4 << 10
	if rows, batches, err := get(good); err != nil || rows != 600 || batches < 5 {
		t.Fatalf("sliced: %d rows in %d batches, %v; want 600 in several", rows, batches, err)
	}
	for name, tc := range map[string]struct {
		tkt  string
		code codes.Code
	}{
		"traversal job":     {`{"v":1,"job":"../../etc","stage":1,"map":1,"partition":0}`, codes.InvalidArgument},
		"slash job":         {`{"v":1,"job":"a/b","stage":1,"map":1,"partition":0}`, codes.InvalidArgument},
		"raw path":          {`../../etc/passwd`, codes.InvalidArgument},
		"negative map":      {`{"v":1,"job":"j","stage":1,"map":-1,"partition":0}`, codes.InvalidArgument},
		"unknown version":   {`{"v":2,"job":"j","stage":1,"map":1,"partition":0}`, codes.InvalidArgument},
		"missing partition": {`{"v":1,"job":"j","stage":1,"map":1}`, codes.InvalidArgument},
		"empty":             {``, codes.InvalidArgument},
		"not written":       {`{"v":1,"job":"job_1","stage":1,"map":1,"partition":5}`, codes.NotFound},
		"other job":         {`{"v":1,"job":"job_2","stage":1,"map":1,"partition":0}`, codes.NotFound},
	} {
		_, _, err := get([]byte(tc.tkt))
		if status.Code(err) != tc.code {
			t.Errorf("%s: got %v, want %s", name, err, tc.code)
		}
		if tc.code == codes.NotFound && !strings.Contains(err.Error(), "map 1") {
			t.Errorf("%s: NotFound does not name the ticket: %v", name, err)
		}
	}
}

// A location whose files are on this machine is read from disk whatever
// executor wrote it, unless FlightOnly asks for Flight.
func TestReaderColocated(t *testing.T) {
	checkGoroutines(t)
	root := t.TempDir()
	dir := TaskDir(root, testJob, 1, 0)
	memW := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memW.AssertSize(t, 0)
	in := makeBatches(t, memW, 1, 100, 7)
	defer releaseAll(in)
	if _, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, WriteSpec{Kind: logical.ShuffleSingle}, dir, memW); err != nil {
		t.Fatal(err)
	}
	memR := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer memR.AssertSize(t, 0)
	loc := logical.ShuffleLocation{MapPartition: 0, ExecutorID: "other", FlightAddress: deadAddr(t), Path: dir}
	req := ReadRequest{Schema: testSchema, JobID: testJob, Stage: 1, Partitions: []int{0}, Locations: []logical.ShuffleLocation{loc}}
	r, err := OpenReader(context.Background(), req, ReaderConfig{LocalExecutorID: "me"}, memR)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := readAll(t, r)
	rows := 0
	for _, b := range bs {
		rows += int(b.NumRows())
	}
	releaseAll(bs)
	r.Close()
	if err != nil || rows != 100 {
		t.Fatalf("co-located read: %d rows, %v", rows, err)
	}
	fe := fetchErr(t, req, ReaderConfig{LocalExecutorID: "me", FlightOnly: true}, memR)
	if fe.Addr != loc.FlightAddress {
		t.Fatalf("FlightOnly read from %s, want the Flight address %s", fe.Addr, loc.FlightAddress)
	}
}
