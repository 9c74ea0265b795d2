// Package standalone composes the host (catalog, optimizer, sessions) with
// the native Go worker in one process: the embedded default.
package standalone

import (
	"context"

	"github.com/arbalest/arbalest/host/catalog"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/substrait/logical"
	worker "github.com/arbalest/arbalest/workers/go"
)

// Executor runs queries on the native worker in this process.
type Executor struct{}

var _ engine.Executor = Executor{}

func options(o engine.ExecOptions) worker.Options {
	return worker.Options{MemoryLimit: o.MemoryLimit, Partitions: o.Partitions, Analyze: o.Analyze}
}

// Execute starts a query.
func (Executor) Execute(ctx context.Context, p logical.Plan, o engine.ExecOptions) (engine.Stream, error) {
	return worker.Run(ctx, p, options(o))
}

// ExplainPhysical renders the physical plan.
func (Executor) ExplainPhysical(p logical.Plan, o engine.ExecOptions) (string, error) {
	return worker.Explain(p, options(o))
}

// Analyze renders the metrics of a finished query.
func (Executor) Analyze(s engine.Stream) string {
	if r, ok := s.(*worker.Result); ok {
		return r.Analyze()
	}
	return ""
}

// NewSession returns a session with an empty catalog on the local worker.
func NewSession(o engine.ExecOptions) *engine.Session {
	return engine.NewSession(catalog.New(worker.Infer), Executor{}, o)
}
