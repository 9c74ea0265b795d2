package slt

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
)

// TestSLT runs every testdata/*.slt file in a fresh standalone session.
// Paths inside the files are relative to this package's folder.
func TestSLT(t *testing.T) {
	files, err := filepath.Glob("testdata/*.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .slt files found in testdata")
	}
	total, failed := 0, 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := standalone.NewSession(engine.ExecOptions{Partitions: 2})
			fails, n, err := RunFile(context.Background(), s, f)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			failed += len(fails)
			for _, e := range fails {
				t.Error(e)
			}
		})
	}
	t.Logf("sqllogictest: %d records in %d files, %d failed", total, len(files), failed)
}
