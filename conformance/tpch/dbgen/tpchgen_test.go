package dbgen

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// tpchgenCLI finds tpchgen-cli (the Rust port of dbgen the Makefile
// installs) in $ARBALEST_VENV/bin or on PATH.
func tpchgenCLI() string {
	if v := os.Getenv("ARBALEST_VENV"); v != "" {
		p := filepath.Join(v, "bin", "tpchgen-cli")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("tpchgen-cli"); err == nil {
		return p
	}
	return ""
}

// TestMatchesTPCHGenCLI generates SF 0.01 with Generate and with
// tpchgen-cli and compares the eight Parquet files: the Parquet column
// types, then every row.
func TestMatchesTPCHGenCLI(t *testing.T) {
	cli := tpchgenCLI()
	if cli == "" {
		t.Skip("tpchgen-cli not found in $ARBALEST_VENV/bin or on PATH (make setup installs it)")
	}
	const sf = 0.01
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	theirs, ours := t.TempDir(), t.TempDir()
	cmd := exec.CommandContext(ctx, cli, "parquet", "--scale-factor", "0.01", "--output-dir", theirs)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cli, err, out)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	if _, err := Generate(ctx, ours, Options{ScaleFactor: sf, Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	for _, tb := range Tables {
		ourFile, err := file.OpenParquetFile(filepath.Join(ours, tb.String()+".parquet"), false)
		if err != nil {
			t.Fatal(err)
		}
		theirFile, err := file.OpenParquetFile(filepath.Join(theirs, tb.String()+".parquet"), false)
		if err != nil {
			t.Fatal(err)
		}
		ourSchema, theirSchema := ourFile.MetaData().Schema, theirFile.MetaData().Schema
		if ourSchema.NumColumns() != theirSchema.NumColumns() {
			t.Fatalf("%s: %d columns, tpchgen-cli has %d", tb, ourSchema.NumColumns(), theirSchema.NumColumns())
		}
		for i := 0; i < ourSchema.NumColumns(); i++ {
			o, th := ourSchema.Column(i), theirSchema.Column(i)
			if o.Name() != th.Name() || o.PhysicalType() != th.PhysicalType() || !sameLogicalType(o.LogicalType(), th.LogicalType()) ||
				o.SchemaNode().RepetitionType() != th.SchemaNode().RepetitionType() {
				t.Errorf("%s column %d: %s %s %s, tpchgen-cli has %s %s %s", tb, i,
					o.Name(), o.PhysicalType(), o.LogicalType(), th.Name(), th.PhysicalType(), th.LogicalType())
			}
		}
		ourTbl := readTable(t, ourFile, mem)
		theirTbl := readTable(t, theirFile, mem)
		compareTables(t, tb.String(), ourTbl, theirTbl)
		ourTbl.Release()
		theirTbl.Release()
		ourFile.Close()
		theirFile.Close()
	}
}

func readTable(t *testing.T, f *file.Reader, mem memory.Allocator) arrow.Table {
	t.Helper()
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// sameLogicalType compares logical types, taking a signed integer
// annotation of a column's own width (which arrow-go writes and arrow-rs
// leaves out) as no annotation.
func sameLogicalType(a, b schema.LogicalType) bool {
	plain := func(l schema.LogicalType) schema.LogicalType {
		if i, ok := l.(schema.IntLogicalType); ok && i.IsSigned() && (i.BitWidth() == 32 || i.BitWidth() == 64) {
			return schema.NoLogicalType{}
		}
		return l
	}
	return plain(a).Equals(plain(b))
}
