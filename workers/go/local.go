package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/scan"
	"github.com/arbalest/arbalest/workers/go/internal/storage"
)

// Options are the per-query settings of the local executor.
type Options struct {
	// MemoryLimit bounds the operators' state in bytes; 0 = none.
	MemoryLimit int64
	// Partitions is the parallelism; 0 = the number of CPUs.
	Partitions int
	// Analyze collects per-operator metrics.
	Analyze bool
	// SpillDir is where spill files go; "" = the system temp dir.
	SpillDir string
	// Alloc is the allocator; nil = the Go allocator.
	Alloc memory.Allocator
}

func (o Options) partitions() int {
	if o.Partitions > 0 {
		return o.Partitions
	}
	return runtime.GOMAXPROCS(0)
}

// Infer reads the schema and an estimated row count of a table's files.
func Infer(ctx context.Context, format, location string, options map[string]string) (*arrow.Schema, int64, error) {
	if format == "" {
		f, err := scan.FormatFromPath(location)
		if err != nil {
			return nil, 0, err
		}
		format = f
	}
	return scan.Infer(ctx, format, location, options)
}

// FormatFromPath guesses a table format from a file extension or the files
// in a folder.
func FormatFromPath(path string) (string, error) { return scan.FormatFromPath(path) }

// Explain renders the physical plan of p.
func Explain(p logical.Plan, o Options) (string, error) {
	n, err := Plan(p, PlannerConfig{Partitions: o.partitions()})
	if err != nil {
		return "", err
	}
	return exec.Format(n), nil
}

// Run plans and starts p in this process. The result streams; Close it.
func Run(ctx context.Context, p logical.Plan, o Options) (*Result, error) {
	node, err := Plan(p, PlannerConfig{Partitions: o.partitions()})
	if err != nil {
		return nil, err
	}
	if node.Partitions() > 1 {
		node = exec.NewCoalesce(node)
	}
	if o.Analyze {
		node = exec.Instrument(node)
	}
	spill, err := os.MkdirTemp(o.SpillDir, "arbalest-spill-")
	if err != nil {
		return nil, fmt.Errorf("creating spill directory: %w", err)
	}
	tc := exec.NewTaskContext()
	if o.Alloc != nil {
		tc.Alloc = o.Alloc
	}
	tc.Mem = exec.NewMemoryPool(o.MemoryLimit)
	tc.SpillDir = spill
	tc.Partitions = o.partitions()
	ctx, cancel := context.WithCancel(ctx)
	stream, err := node.Execute(ctx, 0, tc)
	if err != nil {
		cancel()
		os.RemoveAll(spill)
		return nil, err
	}
	return &Result{node: node, stream: stream, tc: tc, cancel: cancel, spill: spill}, nil
}

// Result is a running query.
type Result struct {
	node   exec.Node
	stream exec.Stream
	tc     *exec.TaskContext
	cancel context.CancelFunc
	spill  string
	once   sync.Once
	err    error
}

// Schema is the result schema.
func (r *Result) Schema() *arrow.Schema { return r.node.Schema() }

// Next returns the next batch (borrowed until the next call), io.EOF at the end.
func (r *Result) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := r.stream.Next(ctx)
	if err != nil && !errors.Is(err, io.EOF) && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %v", exec.ErrCanceled, ctx.Err())
	}
	return b, err
}

// Close stops the query and frees everything it holds.
func (r *Result) Close() error {
	r.once.Do(func() {
		r.err = r.stream.Close()
		r.cancel()
		os.RemoveAll(r.spill)
	})
	return r.err
}

// PeakMemory is the most operator state held at once, in bytes.
func (r *Result) PeakMemory() int64 { return r.tc.Mem.Peak() }

// Analyze renders the plan with per-operator metrics (Options.Analyze).
func (r *Result) Analyze() string { return exec.FormatAnalyze(r.node, r.tc.Metrics) }

// IsRemote reports whether a location is in an object store (s3://...)
// rather than a local path.
func IsRemote(location string) bool { return storage.IsRemote(location) }

// AbsLocation makes a local path absolute; object store locations stay
// as they are.
func AbsLocation(location string) (string, error) {
	if storage.IsRemote(location) {
		return location, nil
	}
	return filepath.Abs(location)
}
