package stages

import (
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
)

// tpchCatalog is TPC-H at scale factor 1 with the engine's types.
func tpchCatalog() *sqltest.Catalog { return sqltest.TPCH(true, true) }

// testCatalog has small generic tables for targeted tests.
func testCatalog() *sqltest.Catalog {
	return sqltest.NewCatalog(
		sqltest.Table("big", 10000000, true, "k:i64 k32:i32 g:s v:i64 x:d15 f:f64 b:bool w:d30 iv:iv"),
		sqltest.Table("big2", 5000000, true, "k:i64 k32:i32 g:s v:i64 x:d15 f:f64 b:bool w:d30 iv:iv"),
		sqltest.Table("small", 100, true, "k:i64 k32:i32 name:s x:d15"),
	)
}

// bindScript binds a SQL script and returns its query plans, optimized.
func bindScript(t *testing.T, cat *sqltest.Catalog, script string) []logical.Plan {
	t.Helper()
	plans, err := cat.Bind(script)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range plans {
		if plans[i], err = optimizer.Optimize(p); err != nil {
			t.Fatalf("optimize: %v\n%s", err, logical.Format(p))
		}
	}
	return plans
}

// planSQL binds, optimizes and plans one query.
func planSQL(t *testing.T, cat *sqltest.Catalog, query string, cfg Config) (logical.Plan, *Job) {
	t.Helper()
	plans := bindScript(t, cat, query)
	if len(plans) != 1 {
		t.Fatalf("%d queries in %q", len(plans), query)
	}
	job, err := Plan(plans[0], cfg)
	if err != nil {
		t.Fatalf("Plan: %v\n%s", err, logical.Format(plans[0]))
	}
	checkJob(t, plans[0], job, cfg)
	return plans[0], job
}

// checkJob checks the contract of a job planned from p, independently of
// Job.Validate.
func checkJob(t *testing.T, p logical.Plan, job *Job, cfg Config) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nplan:\n%s\njob:\n%s", fmt.Sprintf(format, args...), logical.Format(p), job)
	}
	if len(job.Stages) == 0 {
		fail("no stages")
	}
	readers := map[int][]int{}
	for i, s := range job.Stages {
		if s.ID != i {
			fail("stage at %d has ID %d", i, s.ID)
		}
		if s.Plan == nil {
			fail("stage %d has no ShuffleWrite root", i)
		}
		if s.Tasks < 1 {
			fail("stage %d has %d tasks", i, s.Tasks)
		}
		if want := cmp(cfg.Compression, "lz4"); s.Plan.Compression != want {
			fail("stage %d compression %q, want %q", i, s.Plan.Compression, want)
		}
		if s.Plan.Kind == logical.ShuffleHash {
			if s.Plan.Partitions != cfg.Partitions {
				fail("stage %d hash writes %d partitions, want %d", i, s.Plan.Partitions, cfg.Partitions)
			}
			for _, k := range s.Plan.Keys {
				if k < 0 || k >= s.Plan.Schema().Len() {
					fail("stage %d hash key %d out of range", i, k)
				}
			}
		} else if s.Plan.Partitions != 1 {
			fail("stage %d %s write has %d partitions", i, s.Plan.Kind, s.Plan.Partitions)
		}
		if err := optimizer.Validate(s.Plan.Input); err != nil {
			fail("stage %d plan invalid: %v", i, err)
		}
		var reads []int
		hasScan := false
		var walk func(n logical.Plan, root bool)
		walk = func(n logical.Plan, root bool) {
			switch x := n.(type) {
			case *logical.ShuffleWrite:
				if !root {
					fail("stage %d has a ShuffleWrite below its root", i)
				}
			case *logical.ShuffleRead:
				if x.Stage < 0 || x.Stage >= i {
					fail("stage %d reads stage %d (not topologically ordered)", i, x.Stage)
				}
				src := job.Stages[x.Stage]
				want, got := src.Plan.Schema(), x.Schema()
				if want.Len() != got.Len() {
					fail("stage %d reads stage %d with %d columns, it writes %d", i, x.Stage, got.Len(), want.Len())
				}
				for c := range want.Fields {
					w, g := want.Fields[c], got.Fields[c]
					if !arrow.TypeEqual(w.Type, g.Type) || w.Nullable != g.Nullable {
						fail("stage %d reads column %d of stage %d as %s nullable=%t; written as %s nullable=%t",
							i, c, x.Stage, g, g.Nullable, w, w.Nullable)
					}
				}
				switch src.Plan.Kind {
				case logical.ShuffleHash:
					if src.Plan.Partitions != s.Tasks {
						fail("stage %d (%d tasks) reads hash stage %d of %d partitions", i, s.Tasks, x.Stage, src.Plan.Partitions)
					}
				case logical.ShuffleSingle:
					if s.Tasks != 1 {
						fail("stage %d (%d tasks) reads single stage %d", i, s.Tasks, x.Stage)
					}
				}
				reads = append(reads, x.Stage)
				readers[x.Stage] = append(readers[x.Stage], i)
			case *logical.Scan:
				hasScan = true
			}
			for _, c := range n.Children() {
				walk(c, false)
			}
		}
		walk(s.Plan, true)
		slices.Sort(reads)
		reads = slices.Compact(reads)
		if !slices.Equal(reads, s.Inputs) && !(len(reads) == 0 && len(s.Inputs) == 0) {
			fail("stage %d reads %v, Inputs says %v", i, reads, s.Inputs)
		}
		if hasScan && len(reads) == 0 && s.Tasks != cfg.Partitions {
			fail("leaf stage %d scans with %d tasks, want %d", i, s.Tasks, cfg.Partitions)
		}
	}
	for i := range len(job.Stages) - 1 {
		if len(readers[i]) == 0 {
			fail("stage %d is read by no stage", i)
		}
	}
	final := job.Final()
	if final.Plan.Kind != logical.ShuffleSingle {
		fail("final stage writes %s", final.Plan.Kind)
	}
	want, got := p.Schema(), final.Plan.Schema()
	if want.Len() != got.Len() {
		fail("result has %d columns, want %d", got.Len(), want.Len())
	}
	for i, f := range want.Fields {
		g := got.Fields[i]
		if f.Name != g.Name || !arrow.TypeEqual(f.Type, g.Type) || f.Nullable != g.Nullable {
			fail("result column %d is %s nullable=%t, want %s nullable=%t", i, g, g.Nullable, f, f.Nullable)
		}
	}
	if !job.Schema.Arrow().Equal(p.Schema().Arrow()) {
		fail("job schema %s, want %s", job.Schema, p.Schema())
	}
	if ordered(p) && final.Tasks != 1 {
		fail("ORDER BY query ends in a stage of %d tasks", final.Tasks)
	}
	if err := job.Validate(); err != nil {
		fail("Validate: %v", err)
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ordered reports whether p's result is ordered: a Sort below only
// Projects, Filters and Limits from the root.
func ordered(p logical.Plan) bool {
	for {
		switch n := p.(type) {
		case *logical.Sort:
			return true
		case *logical.Project, *logical.Filter, *logical.Limit:
			p = n.Children()[0]
		default:
			return false
		}
	}
}

// nodes lists the nodes of type T in the plans of job's stages, with their
// stage IDs.
func nodes[T logical.Plan](job *Job) (out []T, stage []int) {
	for _, s := range job.Stages {
		var walk func(p logical.Plan)
		walk = func(p logical.Plan) {
			if n, ok := p.(T); ok {
				out = append(out, n)
				stage = append(stage, s.ID)
			}
			for _, c := range p.Children() {
				walk(c)
			}
		}
		walk(s.Plan)
	}
	return out, stage
}

// writes counts the stages writing each kind.
func writes(job *Job) map[logical.ShuffleKind]int {
	out := map[logical.ShuffleKind]int{}
	for _, s := range job.Stages {
		out[s.Plan.Kind]++
	}
	return out
}
