package logical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Stage fragments. The stage planner cuts a plan at its exchanges into
// stages; each stage's plan reads the earlier stages' outputs through
// ShuffleRead leaves and writes its own output through a ShuffleWrite
// root. In Substrait they are a ReadRel.extension_table and an
// ExtensionSingleRel whose details are planpb.ShuffleRead and
// planpb.ShuffleWrite (docs/protocol.md).

// ShuffleKind is how a stage's output is partitioned for its consumers.
type ShuffleKind int

const (
	// ShuffleHash sends each row to partition
	// pmod(murmur3_x86_32(keys, 42), Partitions) (Spark's encoding).
	ShuffleHash ShuffleKind = iota
	// ShuffleBroadcast writes one partition that every consumer task reads
	// in full.
	ShuffleBroadcast
	// ShuffleSingle writes one partition that one consumer task reads.
	ShuffleSingle
)

var shuffleKindNames = [...]string{"hash", "broadcast", "single"}

func (k ShuffleKind) String() string { return shuffleKindNames[k] }

// ShuffleLocation is where one map task of a stage wrote its output.
type ShuffleLocation struct {
	// MapPartition is the partition (task) of the producing stage.
	MapPartition int
	// ExecutorID is the executor that ran it.
	ExecutorID string
	// FlightAddress is host:port of that executor's Flight service.
	FlightAddress string
	// Path is the directory of the task's output files on that executor,
	// for co-located reads.
	Path string
}

// ShuffleRead reads output partitions of an earlier stage. Stage and the
// schema are fixed by the stage planner; JobID, Partitions and Locations
// are filled in for each task when it is launched.
type ShuffleRead struct {
	JobID string
	Stage int
	// Partitions are the producing stage's output partitions to read.
	Partitions []int
	// Locations has one entry per map task of the producing stage.
	Locations []ShuffleLocation
	schema    *Schema
}

// NewShuffleRead reads stage's output, whose rows have the given schema.
func NewShuffleRead(stage int, schema *Schema) *ShuffleRead {
	return &ShuffleRead{Stage: stage, schema: schema}
}

func (s *ShuffleRead) Schema() *Schema            { return s.schema }
func (s *ShuffleRead) Children() []Plan           { return nil }
func (s *ShuffleRead) WithChildren(_ []Plan) Plan { return s }
func (s *ShuffleRead) String() string {
	out := fmt.Sprintf("ShuffleRead: stage=%d", s.Stage)
	if s.Partitions != nil {
		parts := make([]string, len(s.Partitions))
		for i, p := range s.Partitions {
			parts[i] = fmt.Sprint(p)
		}
		out += " partitions=[" + strings.Join(parts, ",") + "]"
	}
	if s.Locations != nil {
		out += fmt.Sprintf(" maps=%d", len(s.Locations))
	}
	return out
}

// ShuffleWrite is the root of a stage fragment: it partitions its input's
// rows for the next stage.
type ShuffleWrite struct {
	Input Plan
	Kind  ShuffleKind
	// Keys are the input columns hashed by ShuffleHash.
	Keys []int
	// Partitions is the number of output partitions (1 unless ShuffleHash).
	Partitions int
	// Compression of the Arrow IPC shuffle files: "lz4" or "zstd".
	Compression string
}

func (s *ShuffleWrite) Schema() *Schema  { return s.Input.Schema() }
func (s *ShuffleWrite) Children() []Plan { return []Plan{s.Input} }
func (s *ShuffleWrite) WithChildren(c []Plan) Plan {
	n := *s
	n.Input = c[0]
	return &n
}
func (s *ShuffleWrite) String() string {
	out := "ShuffleWrite: " + s.Kind.String()
	if s.Kind == ShuffleHash {
		in := s.Input.Schema()
		keys := make([]string, len(s.Keys))
		for i, k := range s.Keys {
			if k >= 0 && k < in.Len() {
				keys[i] = in.Fields[k].Name
			} else {
				keys[i] = fmt.Sprintf("#%d", k)
			}
		}
		out += fmt.Sprintf("(%s) partitions=%d", strings.Join(keys, ", "), s.Partitions)
	}
	if s.Compression != "" {
		out += " compression=" + s.Compression
	}
	return out
}

// ShuffleHashable reports whether the shuffle hash (Spark's Murmur3
// encoding, docs/protocol.md) is defined for values of type t: ShuffleHash
// keys must be of such types.
func ShuffleHashable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DURATION,
		arrow.DECIMAL64, arrow.DECIMAL128, arrow.STRING, arrow.BINARY, arrow.LARGE_STRING,
		arrow.LARGE_BINARY, arrow.STRING_VIEW, arrow.BINARY_VIEW:
		return true
	case arrow.DICTIONARY:
		return ShuffleHashable(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}
