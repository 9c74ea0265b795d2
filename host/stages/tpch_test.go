package stages

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

const tpchQueries = "../../conformance/tpch/queries"

// TestTPCH plans the 22 TPC-H queries at scale factor 1 statistics with 4
// partitions and checks every invariant of the contract.
func TestTPCH(t *testing.T) {
	for _, cfg := range []Config{
		{Partitions: 4, BroadcastRows: DefaultBroadcastRows},
		{Partitions: 4}, // nothing broadcast unless required
		{Partitions: 3, BroadcastRows: 1 << 40, Compression: "zstd"}, // everything broadcast that may be
	} {
		for q := 1; q <= 22; q++ {
			name := fmt.Sprintf("q%02d", q)
			t.Run(fmt.Sprintf("%s/p%d/b%d", name, cfg.Partitions, cfg.BroadcastRows), func(t *testing.T) {
				text, err := os.ReadFile(filepath.Join(tpchQueries, name+".sql"))
				if err != nil {
					t.Fatal(err)
				}
				plans := bindScript(t, tpchCatalog(), string(text))
				if len(plans) != 1 {
					t.Fatalf("%d queries", len(plans))
				}
				job, err := Plan(plans[0], cfg)
				if err != nil {
					t.Fatalf("Plan: %v\n%s", err, logical.Format(plans[0]))
				}
				checkJob(t, plans[0], job, cfg)
				if testing.Verbose() && os.Getenv("STAGES_EXPLAIN") != "" {
					t.Logf("\n%s", job)
				}
			})
		}
	}
}

// TestTPCHOnePartition: with one partition every query is a single stage.
func TestTPCHOnePartition(t *testing.T) {
	cfg := Config{Partitions: 1, BroadcastRows: DefaultBroadcastRows}
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		text, err := os.ReadFile(filepath.Join(tpchQueries, name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		plans := bindScript(t, tpchCatalog(), string(text))
		job, err := Plan(plans[0], cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkJob(t, plans[0], job, cfg)
		if len(job.Stages) != 1 || job.Stages[0].Tasks != 1 {
			t.Errorf("%s: %d stages, want 1\n%s", name, len(job.Stages), job)
		}
	}
}
