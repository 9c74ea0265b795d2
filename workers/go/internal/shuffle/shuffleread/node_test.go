package shuffleread_test

import (
	"context"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle/shuffleread"
)

type batches struct {
	schema *arrow.Schema
	bs     []arrow.RecordBatch
}

func (s *batches) Schema() *arrow.Schema { return s.schema }
func (s *batches) Next(context.Context) (arrow.RecordBatch, error) {
	if len(s.bs) == 0 {
		return nil, io.EOF
	}
	b := s.bs[0]
	s.bs = s.bs[1:]
	return b, nil
}

// TestNode writes two map tasks, one local and one served over Flight, and
// reads one partition back through the exec.Node.
func TestNode(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	localRoot, remoteRoot := t.TempDir(), t.TempDir()
	srv, err := shuffle.Serve("127.0.0.1:0", shuffle.NewFlightService(remoteRoot, mem))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	const rows, n = 1000, 4
	var locs []logical.ShuffleLocation
	for m, root := range []string{localRoot, remoteRoot} {
		b := array.NewInt64Builder(mem)
		for i := range rows {
			b.Append(int64(m*rows + i))
		}
		col := b.NewArray()
		b.Release()
		batch := array.NewRecordBatch(schema, []arrow.Array{col}, rows)
		col.Release()
		dir := shuffle.TaskDir(root, "j1", 3, m)
		_, err := shuffle.Write(context.Background(), &batches{schema: schema, bs: []arrow.RecordBatch{batch}},
			shuffle.WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: n}, dir, mem)
		batch.Release()
		if err != nil {
			t.Fatal(err)
		}
		loc := logical.ShuffleLocation{MapPartition: m, ExecutorID: "local", Path: dir}
		if m == 1 {
			loc.ExecutorID, loc.FlightAddress = "remote", srv.Addr()
		}
		locs = append(locs, loc)
	}

	var node exec.Node = shuffleread.New(schema, "j1", 3, []int{2}, locs, shuffle.ReaderConfig{LocalExecutorID: "local"})
	if got, want := node.String(), "ShuffleRead: stage=3 partitions=[2] maps=2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	if _, err := node.Execute(context.Background(), 1, tc); err == nil {
		t.Error("partition 1 of a one-partition node executed")
	}
	st, err := node.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[int64]bool{}
	for {
		b, err := st.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int32, b.NumRows())
		if err := shuffle.PartitionIDs([]arrow.Array{b.Column(0)}, n, ids); err != nil {
			t.Fatal(err)
		}
		for i, v := range b.Column(0).(*array.Int64).Int64Values() {
			if ids[i] != 2 || seen[v] {
				t.Fatalf("row %d: partition %d, seen before %v", v, ids[i], seen[v])
			}
			seen[v] = true
		}
	}
	// Both maps contributed: the expected rows of partition 2 are the
	// keys 0..1999 that hash there.
	all := array.NewInt64Builder(mem)
	for i := range 2 * rows {
		all.Append(int64(i))
	}
	arr := all.NewArray()
	all.Release()
	defer arr.Release()
	ids := make([]int32, arr.Len())
	if err := shuffle.PartitionIDs([]arrow.Array{arr}, n, ids); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, id := range ids {
		if id == 2 {
			want++
		}
	}
	if len(seen) != want {
		t.Errorf("read %d rows, want %d", len(seen), want)
	}
}
