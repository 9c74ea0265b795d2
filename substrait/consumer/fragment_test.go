package consumer_test

import (
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"google.golang.org/protobuf/proto"
)

// Stage fragments round-trip: shuffle reads with their per-task fields,
// shuffle writes of every kind, avg_merge with its declared type, and
// scans inlined as local files carrying the table's format and options,
// read back without any catalog.
func TestFragmentRoundTrip(t *testing.T) {
	csv := &logical.TableSource{Name: "o", Format: "csv", Location: "/data/o/*.csv", Options: map[string]string{"header": "true", "delimiter": "|"},
		Schema: ordersSrc.Schema, RowCount: -1}
	scan := logical.NewScan(csv, "", []int{1, 2})
	read := logical.NewShuffleRead(3, scan.Schema())
	read.JobID = "job-1"
	read.Partitions = []int{2}
	read.Locations = []logical.ShuffleLocation{{MapPartition: 0, ExecutorID: "e1", FlightAddress: "127.0.0.1:1", Path: "/w/j/0"}, {MapPartition: 1, ExecutorID: "e2", FlightAddress: "127.0.0.1:2"}}
	u := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{scan, read}}
	us := u.Schema()
	sum := &logical.AggregateCall{Func: "sum", Args: []logical.Expr{logical.Col(us, 1)}, T: logical.DecimalType(38, 2)}
	cnt := &logical.AggregateCall{Func: "count", Args: []logical.Expr{logical.Col(us, 1)}, T: logical.Int64}
	partial := logical.NewAggregate(u, []logical.Expr{logical.Col(us, 0)}, []string{"k"}, nil, []*logical.AggregateCall{sum, cnt}, []string{"s", "c"})
	ps := partial.Schema()
	merge := &logical.AggregateCall{Func: "avg_merge", Args: []logical.Expr{logical.Col(ps, 1), logical.Col(ps, 2)}, T: logical.DecimalType(19, 6)}
	final := logical.NewAggregate(partial, []logical.Expr{logical.Col(ps, 0)}, []string{"k"}, nil, []*logical.AggregateCall{merge}, []string{"avg"})
	for _, w := range []*logical.ShuffleWrite{
		{Input: final, Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 8, Compression: "zstd"},
		{Input: final, Kind: logical.ShuffleBroadcast, Partitions: 1, Compression: "lz4"},
		{Input: final, Kind: logical.ShuffleSingle, Partitions: 1},
	} {
		p, err := producer.ToProtoWith(w, producer.Options{InlineTables: true})
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := consumer.FromBytes(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g, want := logical.Format(got), logical.Format(w); g != want {
			t.Fatalf("round trip\n got %s\nwant %s", g, want)
		}
		back := got.(*logical.ShuffleWrite)
		var gotRead *logical.ShuffleRead
		var gotScan *logical.Scan
		_, _ = logical.Transform(back, func(n logical.Plan) (logical.Plan, error) {
			switch x := n.(type) {
			case *logical.ShuffleRead:
				gotRead = x
			case *logical.Scan:
				gotScan = x
			}
			return n, nil
		})
		if gotRead == nil || gotRead.JobID != "job-1" || len(gotRead.Locations) != 2 || gotRead.Locations[0].Path != "/w/j/0" || gotRead.Partitions[0] != 2 {
			t.Fatalf("shuffle read = %+v", gotRead)
		}
		if gotScan == nil || gotScan.Source.Format != "csv" || gotScan.Source.Location != "/data/o/*.csv" || gotScan.Source.Options["delimiter"] != "|" {
			t.Fatalf("inlined scan = %+v", gotScan.Source)
		}
	}
}

func TestFragmentInvalid(t *testing.T) {
	read := logical.NewShuffleRead(1, logical.FromArrow(ordersSrc.Schema, ""))
	read.JobID = "../etc"
	p, err := producer.ToProto(&logical.ShuffleWrite{Input: read, Kind: logical.ShuffleSingle, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(p)
	if _, err := consumer.FromBytes(b, nil); err == nil || !strings.Contains(err.Error(), "invalid job id") {
		t.Fatalf("err = %v", err)
	}
}
