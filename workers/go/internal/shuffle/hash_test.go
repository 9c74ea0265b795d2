package shuffle

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

type vectorColumn struct {
	Type      string            `json:"type"`
	Precision int32             `json:"precision"`
	Scale     int32             `json:"scale"`
	Values    []json.RawMessage `json:"values"`
}

type vectorCase struct {
	Name       string             `json:"name"`
	Columns    []vectorColumn     `json:"columns"`
	Hashes     []int32            `json:"hashes"`
	Partitions map[string][]int32 `json:"partitions"`
}

func loadVectors(t *testing.T) []vectorCase {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "conformance", "shuffle_hash", "vectors.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var doc struct {
		Seed  uint32       `json:"seed"`
		Cases []vectorCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing vectors: %v", err)
	}
	if doc.Seed != Seed {
		t.Fatalf("vectors use seed %d, implementation %d", doc.Seed, Seed)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases in vectors.json")
	}
	return doc.Cases
}

func parseFloat(t *testing.T, raw json.RawMessage) float64 {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		case "-0.0":
			return math.Copysign(0, -1)
		}
		t.Fatalf("bad float %q", s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func buildColumn(t *testing.T, mem memory.Allocator, c vectorColumn) arrow.Array {
	t.Helper()
	var dt arrow.DataType
	switch c.Type {
	case "bool":
		dt = arrow.FixedWidthTypes.Boolean
	case "int8":
		dt = arrow.PrimitiveTypes.Int8
	case "int16":
		dt = arrow.PrimitiveTypes.Int16
	case "int32":
		dt = arrow.PrimitiveTypes.Int32
	case "int64":
		dt = arrow.PrimitiveTypes.Int64
	case "date32":
		dt = arrow.FixedWidthTypes.Date32
	case "timestamp_us":
		dt = &arrow.TimestampType{Unit: arrow.Microsecond}
	case "float32":
		dt = arrow.PrimitiveTypes.Float32
	case "float64":
		dt = arrow.PrimitiveTypes.Float64
	case "decimal":
		if c.Precision <= 18 {
			dt = &arrow.Decimal64Type{Precision: c.Precision, Scale: c.Scale}
		} else {
			dt = &arrow.Decimal128Type{Precision: c.Precision, Scale: c.Scale}
		}
	case "utf8":
		dt = arrow.BinaryTypes.String
	case "binary":
		dt = arrow.BinaryTypes.Binary
	default:
		t.Fatalf("unknown vector type %q", c.Type)
	}
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, raw := range c.Values {
		if string(raw) == "null" {
			b.AppendNull()
			continue
		}
		var err error
		switch bb := b.(type) {
		case *array.BooleanBuilder:
			var v bool
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.Int8Builder:
			var v int8
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.Int16Builder:
			var v int16
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.Int32Builder:
			var v int32
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.Int64Builder:
			var v int64
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.Date32Builder:
			var v int32
			err = json.Unmarshal(raw, &v)
			bb.Append(arrow.Date32(v))
		case *array.TimestampBuilder:
			var v int64
			err = json.Unmarshal(raw, &v)
			bb.Append(arrow.Timestamp(v))
		case *array.Float32Builder:
			bb.Append(float32(parseFloat(t, raw)))
		case *array.Float64Builder:
			bb.Append(parseFloat(t, raw))
		case *array.Decimal64Builder:
			var s string
			err = json.Unmarshal(raw, &s)
			v, _ := strconv.ParseInt(s, 10, 64)
			bb.Append(decimal.Decimal64(v))
		case *array.Decimal128Builder:
			var s string
			err = json.Unmarshal(raw, &s)
			bi, ok := new(big.Int).SetString(s, 10)
			if !ok {
				t.Fatalf("bad decimal %q", s)
			}
			bb.Append(decimal128.FromBigInt(bi))
		case *array.StringBuilder:
			var v string
			err = json.Unmarshal(raw, &v)
			bb.Append(v)
		case *array.BinaryBuilder:
			var v string
			err = json.Unmarshal(raw, &v)
			bs, herr := hex.DecodeString(v)
			if herr != nil {
				t.Fatal(herr)
			}
			bb.Append(bs)
		}
		if err != nil {
			t.Fatalf("%s value %s: %v", c.Type, raw, err)
		}
	}
	return b.NewArray()
}

func TestConformanceVectors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range loadVectors(t) {
		t.Run(tc.Name, func(t *testing.T) {
			cols := make([]arrow.Array, len(tc.Columns))
			for i, c := range tc.Columns {
				cols[i] = buildColumn(t, mem, c)
				defer cols[i].Release()
			}
			got := make([]uint32, len(tc.Hashes))
			if err := Hash(cols, got); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.Hashes {
				if int32(got[i]) != want {
					t.Errorf("row %d: hash %d, want %d", i, int32(got[i]), want)
				}
			}
			if len(tc.Partitions) == 0 {
				t.Fatal("case has no partition vectors")
			}
			for ns, want := range tc.Partitions {
				n, err := strconv.Atoi(ns)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int32, len(want))
				if err := PartitionIDs(cols, n, ids); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if ids[i] != want[i] {
						t.Errorf("n=%d row %d: partition %d, want %d", n, i, ids[i], want[i])
					}
				}
			}
		})
	}
}

// TestSparkKnownValues pins values printed by Spark itself.
func TestSparkKnownValues(t *testing.T) {
	if got := int32(HashInt(1, Seed)); got != -559580957 {
		t.Errorf("hash(1) = %d, want -559580957", got)
	}
	// SELECT hash('Spark', array(123), 2) = -1321691492 in the Spark docs.
	h := HashBytes([]byte("Spark"), Seed)
	h = HashInt(123, h)
	h = HashInt(2, h)
	if int32(h) != -1321691492 {
		t.Errorf("hash('Spark', array(123), 2) = %d, want -1321691492", int32(h))
	}
}

func TestSlicedAndDictionaryColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	vals := []string{"x", "BUILDING", "", "a", "BUILDING", "zz"}
	for i, v := range vals {
		if i == 3 {
			sb.AppendNull()
		} else {
			sb.Append(v)
		}
	}
	plain := sb.NewArray()
	defer plain.Release()
	want := make([]uint32, plain.Len())
	if err := Hash([]arrow.Array{plain}, want); err != nil {
		t.Fatal(err)
	}

	// A slice hashes like the same rows of the whole.
	sl := array.NewSlice(plain, 2, 6)
	defer sl.Release()
	got := make([]uint32, 4)
	if err := Hash([]arrow.Array{sl}, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i+2] {
			t.Errorf("slice row %d: %d, want %d", i, got[i], want[i+2])
		}
	}

	// A dictionary hashes like its decoded values.
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	for i, v := range vals {
		if i == 3 {
			db.AppendNull()
		} else if err := db.AppendString(v); err != nil {
			t.Fatal(err)
		}
	}
	dict := db.NewArray()
	defer dict.Release()
	got = make([]uint32, len(vals))
	if err := Hash([]arrow.Array{dict}, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("dictionary row %d: %d, want %d", i, got[i], want[i])
		}
	}
	if int32(got[3]) != int32(Seed) {
		t.Errorf("NULL row hash %d, want the seed", got[3])
	}
}

func TestErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.AppendValues([]int32{1, 2, 3}, nil)
	a := b.NewArray()
	defer a.Release()
	if err := PartitionIDs([]arrow.Array{a}, 0, make([]int32, 3)); err == nil {
		t.Error("n = 0 accepted")
	}
	if err := Hash([]arrow.Array{a}, make([]uint32, 2)); err == nil {
		t.Error("row count mismatch accepted")
	}
	if err := CheckKeyType(arrow.ListOf(arrow.PrimitiveTypes.Int32)); err == nil {
		t.Error("list key type accepted")
	}
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	defer lb.Release()
	lb.AppendNull()
	la := lb.NewArray()
	defer la.Release()
	if err := Hash([]arrow.Array{la}, make([]uint32, 1)); err == nil {
		t.Error("list column hashed without error")
	}
}

func BenchmarkPartitionIDsInt64(b *testing.B) {
	mem := memory.NewGoAllocator()
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	for i := range 8192 {
		ib.Append(int64(i) * 7919)
	}
	a := ib.NewArray()
	defer a.Release()
	out := make([]int32, a.Len())
	b.SetBytes(8 * 8192)
	for b.Loop() {
		if err := PartitionIDs([]arrow.Array{a}, 16, out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPartitionIDsMatchesPmod checks the division-free pmod against the
// definition for many hashes and partition counts.
func TestPartitionIDsMatchesPmod(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	x := uint64(88172645463325252)
	for range 20000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.Append(int64(x))
	}
	a := b.NewArray()
	defer a.Release()
	cols := []arrow.Array{a}
	h := make([]uint32, a.Len())
	if err := Hash(cols, h); err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, a.Len())
	for _, n := range []int{1, 2, 3, 7, 10, 16, 200, 1000, 65537, 1<<31 - 1} {
		if err := PartitionIDs(cols, n, ids); err != nil {
			t.Fatal(err)
		}
		for i, v := range h {
			want := ((int64(int32(v)) % int64(n)) + int64(n)) % int64(n)
			if int64(ids[i]) != want {
				t.Fatalf("n=%d hash %d: partition %d, want %d", n, int32(v), ids[i], want)
			}
		}
	}
}
