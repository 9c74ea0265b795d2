package sql_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// TestRepairNullabilityIsNoOp checks that the optimizer's nullability
// repair finds nothing to repair in binder output: every column reference
// already carries the nullability of the column it reads.
func TestRepairNullabilityIsNoOp(t *testing.T) {
	scripts := append([]string(nil), sql.RefQueries...)
	files, _ := filepath.Glob("../../../shared/tpch/queries/q*.sql")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, string(b))
	}
	for _, s := range scripts {
		p := sql.BindQueryForTest(t, s)
		if r := optimizer.RepairNullability(p); r != p {
			t.Errorf("nullability repaired in the plan of %q:\n%s", s, logical.Format(p))
		}
	}
}
