package shuffle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// checkWritten reads back every partition file of stats and checks the
// stats, the schema, and that the rows are exactly in's rows. It returns
// the batches of each partition (the caller releases them).
func checkWritten(t *testing.T, mem memory.Allocator, in []arrow.RecordBatch, stats []PartitionStats, dir string, n int) [][]arrow.RecordBatch {
	t.Helper()
	if len(stats) != n {
		t.Fatalf("%d partition stats, want %d", len(stats), n)
	}
	parts := make([][]arrow.RecordBatch, n)
	var all []arrow.RecordBatch
	for p, st := range stats {
		if st.Partition != p || st.Path != PartitionPath(dir, p) {
			t.Fatalf("stats[%d] = %+v", p, st)
		}
		fi, err := os.Stat(st.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != st.Bytes {
			t.Errorf("partition %d: stats say %d bytes, file has %d", p, st.Bytes, fi.Size())
		}
		schema, bs := readIPCFile(t, mem, st.Path)
		if !schema.Equal(testSchema) {
			t.Fatalf("partition %d schema %s, want %s", p, schema, testSchema)
		}
		var rows int64
		for _, b := range bs {
			rows += b.NumRows()
		}
		if rows != st.Rows {
			t.Errorf("partition %d: stats say %d rows, file has %d", p, st.Rows, rows)
		}
		parts[p] = bs
		all = append(all, bs...)
	}
	if got, want := rowKeys(all), rowKeys(in); !slices.Equal(got, want) {
		t.Fatalf("rows differ: got %d rows, want %d", len(got), len(want))
	}
	// Only the final files remain: no temporaries.
	for _, name := range listDir(t, dir) {
		if !strings.HasPrefix(name, "part-") || !strings.HasSuffix(name, ".arrow") {
			t.Errorf("unexpected file %s left in %s", name, dir)
		}
	}
	if got := len(listDir(t, dir)); got != n {
		t.Errorf("%d files in %s, want %d", got, dir, n)
	}
	return parts
}

func TestWriteHashRouting(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name    string
		keys    []int
		n       int
		batches int
	}{
		{"int64", []int{0}, 8, 20},
		{"int32 nulls", []int{3}, 5, 20},
		{"string nulls", []int{7}, 3, 20},
		{"bool int8 decimal", []int{1, 2, 6}, 7, 20},
		{"float date timestamp string", []int{5, 8, 9, 7}, 11, 20},
		{"int64 one partition", []int{4}, 1, 20},
		// More files than are kept open at once, many of them empty.
		{"more partitions than rows", []int{0}, 500, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			in := makeBatches(t, mem, tc.batches, 300, uint64(len(tc.name)))
			defer releaseAll(in)
			dir := filepath.Join(t.TempDir(), "map-0")
			spec := WriteSpec{Kind: logical.ShuffleHash, Keys: tc.keys, Partitions: tc.n, BatchRows: 1000}
			stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, spec, dir, mem)
			if err != nil {
				t.Fatal(err)
			}
			parts := checkWritten(t, mem, in, stats, dir, tc.n)
			for p, bs := range parts {
				for bi, b := range bs {
					for i, want := range wantPartitions(t, b, tc.keys, tc.n) {
						if want != p {
							t.Fatalf("partition %d batch %d row %d (%s) hashes to partition %d", p, bi, i, rowKey(b, i), want)
						}
					}
					// Coalesced: only a file's last batch is below the target.
					if bi < len(bs)-1 && b.NumRows() < 1000 {
						t.Errorf("partition %d batch %d has %d rows: not coalesced to 1000", p, bi, b.NumRows())
					}
				}
				releaseAll(bs)
			}
		})
	}
}

func TestWriteBroadcastAndSingle(t *testing.T) {
	checkGoroutines(t)
	for _, kind := range []logical.ShuffleKind{logical.ShuffleBroadcast, logical.ShuffleSingle} {
		t.Run(kind.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			in := makeBatches(t, mem, 5, 100, 3)
			defer releaseAll(in)
			dir := t.TempDir()
			stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, WriteSpec{Kind: kind}, dir, mem)
			if err != nil {
				t.Fatal(err)
			}
			parts := checkWritten(t, mem, in, stats, dir, 1)
			// Small input batches are coalesced into one, in input order.
			if len(parts[0]) != 1 {
				t.Errorf("%d batches, want 1 coalesced batch", len(parts[0]))
			}
			col := parts[0][0].Column(0).(*array.Int64).Int64Values()
			for i, v := range col {
				if v != int64(i) {
					t.Fatalf("row %d has id %d: order not kept", i, v)
				}
			}
			releaseAll(parts[0])

			if _, err := Write(context.Background(), &sliceInput{schema: testSchema}, WriteSpec{Kind: kind, Partitions: 3}, t.TempDir(), mem); err == nil || !strings.Contains(err.Error(), "one partition") {
				t.Errorf("%s with 3 partitions: got %v, want an error", kind, err)
			}
		})
	}
}

func TestWriteCompression(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// Repetitive data compresses well.
	bld := array.NewRecordBuilder(mem, testSchema)
	for i := range 20000 {
		bld.Field(0).(*array.Int64Builder).Append(int64(i % 7))
		for c := 1; c < testSchema.NumFields(); c++ {
			if c == 7 {
				bld.Field(c).(*array.StringBuilder).Append("repeated text repeated text")
			} else {
				bld.Field(c).AppendNull()
			}
		}
	}
	b := bld.NewRecordBatch()
	bld.Release()
	defer b.Release()
	in := []arrow.RecordBatch{b}

	sizes := map[string]int64{}
	for _, codec := range []string{"none", "lz4", "zstd", ""} {
		dir := t.TempDir()
		stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 2, Compression: codec}, dir, mem)
		if err != nil {
			t.Fatalf("%q: %v", codec, err)
		}
		for _, bs := range checkWritten(t, mem, in, stats, dir, 2) {
			releaseAll(bs)
		}
		sizes[codec] = stats[0].Bytes + stats[1].Bytes
	}
	for _, codec := range []string{"lz4", "zstd", ""} {
		if sizes[codec]*3 > sizes["none"] {
			t.Errorf("%q wrote %d bytes, uncompressed %d: not compressed", codec, sizes[codec], sizes["none"])
		}
	}
	if sizes[""] != sizes["lz4"] {
		t.Errorf("default compression wrote %d bytes, lz4 %d", sizes[""], sizes["lz4"])
	}
	if _, err := Write(context.Background(), &sliceInput{schema: testSchema}, WriteSpec{Kind: logical.ShuffleSingle, Compression: "snappy"}, t.TempDir(), mem); err == nil || !strings.Contains(err.Error(), "snappy") {
		t.Errorf("unknown codec: got %v", err)
	}
}

func TestWriteEmptyInput(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	empty := makeBatches(t, mem, 1, 0, 1)
	defer releaseAll(empty)
	for name, in := range map[string][]arrow.RecordBatch{"no batches": nil, "zero-row batch": empty} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{3}, Partitions: 4}, dir, mem)
			if err != nil {
				t.Fatal(err)
			}
			for _, bs := range checkWritten(t, mem, nil, stats, dir, 4) {
				if len(bs) != 0 {
					t.Errorf("%d batches in an empty partition", len(bs))
				}
			}
			for _, st := range stats {
				if st.Rows != 0 || st.Bytes == 0 {
					t.Errorf("empty partition stats %+v: want 0 rows in a non-empty (schema) file", st)
				}
			}
		})
	}
}

func TestWriteCancelAndErrorsLeaveNoFiles(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := makeBatches(t, mem, 20, 500, 9)
	defer releaseAll(in)
	boom := errors.New("upstream failed")
	for _, tc := range []struct {
		name string
		hook func(cancel context.CancelFunc) func(int) error
		want error
	}{
		{"cancel", func(cancel context.CancelFunc) func(int) error {
			return func(i int) error {
				if i == 15 {
					cancel()
				}
				return nil
			}
		}, context.Canceled},
		{"input error", func(context.CancelFunc) func(int) error {
			return func(i int) error {
				if i == 15 {
					return boom
				}
				return nil
			}
		}, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := filepath.Join(t.TempDir(), "out")
			// Small batches so files were opened and written before the failure.
			spec := WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 4, BatchRows: 100}
			_, err := Write(ctx, &sliceInput{schema: testSchema, batches: in, hook: tc.hook(cancel)}, spec, dir, mem)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Fatalf("files left after failure: %v", names)
			}
		})
	}
}

func TestWriteOverwritesEarlierAttempt(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	first := makeBatches(t, mem, 2, 50, 1)
	defer releaseAll(first)
	second := makeBatches(t, mem, 3, 70, 2)
	defer releaseAll(second)
	spec := WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 3}
	if _, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: first}, spec, dir, mem); err != nil {
		t.Fatal(err)
	}
	stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: second}, spec, dir, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range checkWritten(t, mem, second, stats, dir, 3) {
		releaseAll(bs)
	}
}

func TestWriteSpecErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	listSchema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)}}, nil)
	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		spec   WriteSpec
		want   string
	}{
		{"no partitions", testSchema, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}}, "must be positive"},
		{"no keys", testSchema, WriteSpec{Kind: logical.ShuffleHash, Partitions: 2}, "at least one key"},
		{"key out of range", testSchema, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{10}, Partitions: 2}, "out of range"},
		{"unhashable key", listSchema, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 2}, "unsupported key type"},
		{"unknown kind", testSchema, WriteSpec{Kind: logical.ShuffleKind(9)}, "unknown shuffle kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "x")
			_, err := Write(context.Background(), &sliceInput{schema: tc.schema}, tc.spec, dir, mem)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A batch whose columns disagree with the input schema.
	other := makeBatches(t, mem, 1, 10, 1)
	defer releaseAll(other)
	bad := arrow.NewSchema(slices.Clone(testSchema.Fields()[:9]), nil)
	_, err := Write(context.Background(), &sliceInput{schema: bad, batches: other}, WriteSpec{Kind: logical.ShuffleSingle}, t.TempDir(), mem)
	if err == nil || !strings.Contains(err.Error(), "columns") {
		t.Fatalf("mismatched batch: got %v", err)
	}
}

// TestWriteMemoryBudget routes to many partitions under a small budget:
// buffers are written early, into more files than are kept open (so
// files are closed and reopened), and the result is unchanged.
func TestWriteMemoryBudget(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := makeBatches(t, mem, 10, 1000, 5)
	defer releaseAll(in)
	dir := t.TempDir()
	spec := WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 3 * maxOpenFiles, MemoryBudget: 64 << 10}
	var peak int
	hook := func(int) error {
		peak = max(peak, mem.CurrentAlloc())
		return nil
	}
	stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in, hook: hook}, spec, dir, mem)
	if err != nil {
		t.Fatal(err)
	}
	inBytes := 0
	for _, b := range in {
		inBytes += int(batchBytes(b))
	}
	// The input itself is held by the test; the writer adds little.
	if peak-inBytes > 1<<20 {
		t.Errorf("writer held %d bytes over its input with a 64 KiB budget", peak-inBytes)
	}
	for _, bs := range checkWritten(t, mem, in, stats, dir, 3*maxOpenFiles) {
		releaseAll(bs)
	}
}

func TestWriteCutsLargeBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := makeBatches(t, mem, 1, 10000, 5)
	defer releaseAll(in)
	dir := t.TempDir()
	stats, err := Write(context.Background(), &sliceInput{schema: testSchema, batches: in}, WriteSpec{Kind: logical.ShuffleSingle, BatchRows: 1000}, dir, mem)
	if err != nil {
		t.Fatal(err)
	}
	parts := checkWritten(t, mem, in, stats, dir, 1)
	if len(parts[0]) != 10 {
		t.Errorf("%d batches, want 10 of 1000 rows", len(parts[0]))
	}
	releaseAll(parts[0])
}

// TestWriteDictionaryColumns covers schemas with dictionary columns,
// written with one IPC encoder per partition.
func TestWriteDictionaryColumns(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: dt, Nullable: true},
	}, nil)
	var in []arrow.RecordBatch
	for bi := range 6 {
		bld := array.NewRecordBuilder(mem, schema)
		for i := range 200 {
			bld.Field(0).(*array.Int64Builder).Append(int64(bi*200 + i))
			db := bld.Field(1).(*array.BinaryDictionaryBuilder)
			if i%9 == 0 {
				db.AppendNull()
			} else if err := db.AppendString(strings.Repeat("v", bi+1) + string(rune('a'+i%5))); err != nil {
				t.Fatal(err)
			}
		}
		in = append(in, bld.NewRecordBatch())
		bld.Release()
	}
	defer releaseAll(in)
	dir := t.TempDir()
	stats, err := Write(context.Background(), &sliceInput{schema: schema, batches: in}, WriteSpec{Kind: logical.ShuffleHash, Keys: []int{1}, Partitions: 3, BatchRows: 250}, dir, mem)
	if err != nil {
		t.Fatal(err)
	}
	var got []arrow.RecordBatch
	for p, st := range stats {
		s, bs := readIPCFile(t, mem, st.Path)
		if !s.Equal(schema) {
			t.Fatalf("schema %s", s)
		}
		for _, b := range bs {
			for i, want := range wantPartitions(t, b, []int{1}, 3) {
				if want != p {
					t.Fatalf("row %s in partition %d, hashes to %d", rowKey(b, i), p, want)
				}
			}
		}
		got = append(got, bs...)
	}
	defer releaseAll(got)
	if g, w := rowKeys(got), rowKeys(in); !slices.Equal(g, w) {
		t.Fatalf("rows differ: %d vs %d", len(g), len(w))
	}
}
