package logical

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// FunctionKind says whether a user-defined function is scalar or aggregate.
type FunctionKind int

const (
	ScalarFunction FunctionKind = iota
	AggregateFunction
)

func (k FunctionKind) String() string {
	if k == AggregateFunction {
		return "aggregate"
	}
	return "scalar"
}

// Volatility says when a function's result may be reused.
type Volatility int

const (
	// Immutable: same arguments, same result; constant calls may be folded.
	Immutable Volatility = iota
	// Stable: same result within one query.
	Stable
	// Volatile: may change from call to call.
	Volatile
)

func (v Volatility) String() string {
	return [...]string{"immutable", "stable", "volatile"}[v]
}

// Function is a user-defined function: one a plugin or a native library
// provides. The binder resolves calls to it by name; plans name it by URN
// and name. Args are exact: callers cast arguments to them.
type Function struct {
	Name string
	// URN of the Substrait extension that declares it.
	URN string
	// Provider names the plugin or library that implements it (for
	// messages and EXPLAIN).
	Provider   string
	Kind       FunctionKind
	Args       []arrow.Field
	Result     arrow.Field
	State      []arrow.Field // aggregates: the intermediate state
	Volatility Volatility
	// NullOnNull: a NULL argument gives NULL without calling the function.
	NullOnNull bool
	// Impl runs the function: a ScalarImpl or an AggregateImpl. Nil in a
	// process that only plans.
	Impl any
}

// Signature renders name(arg types) -> result.
func (f *Function) Signature() string {
	args := make([]string, len(f.Args))
	for i, a := range f.Args {
		args[i] = a.Type.String()
	}
	return fmt.Sprintf("%s(%s) -> %s", f.Name, strings.Join(args, ", "), f.Result.Type)
}

// ScalarImpl evaluates a scalar function over argument arrays of rows rows
// (already of the declared types). The result has rows rows and the
// declared result type; the caller releases it.
type ScalarImpl interface {
	EvalScalar(ctx context.Context, args []arrow.Array, rows int) (arrow.Array, error)
}

// AggregatePhase is the step an aggregate session performs.
type AggregatePhase int

const (
	// AggregateComplete updates over raw inputs and evaluates.
	AggregateComplete AggregatePhase = iota
	// AggregatePartial updates over raw inputs and returns states.
	AggregatePartial
	// AggregateFinal merges states and evaluates.
	AggregateFinal
)

// AggregateImpl opens aggregate sessions. A session receives rows tagged
// with group numbers and, at Finish, returns one row per group seen.
type AggregateImpl interface {
	OpenAggregate(ctx context.Context, phase AggregatePhase) (AggregateSession, error)
}

// AggregateSession is one running aggregation (one operator partition).
type AggregateSession interface {
	// Update sends rows: groups[i] is row i's group; cols are the
	// arguments (Complete, Partial) or the state columns (Final).
	Update(ctx context.Context, groups arrow.Array, cols []arrow.Array) error
	// Finish returns, through emit, batches whose first column is the
	// group (uint32) and whose other columns are the result (Complete,
	// Final) or the state (Partial). Emitted batches are borrowed.
	Finish(ctx context.Context, emit func(arrow.RecordBatch) error) error
	// Close ends the session (also after an error).
	Close() error
}

// FilterVerdict is what a data source does with a pushed filter.
type FilterVerdict int

const (
	// FilterUnsupported: the source ignores it.
	FilterUnsupported FilterVerdict = iota
	// FilterInexact: the source uses it to skip data; the engine still applies it.
	FilterInexact
	// FilterExact: every row the source returns passes it.
	FilterExact
)

func (v FilterVerdict) String() string {
	return [...]string{"unsupported", "inexact", "exact"}[v]
}

// ScanProvider is a data source that is not a set of files: a plugin.
// TableSource.Provider holds it.
type ScanProvider interface {
	// Name is the plugin name (the STORED AS name).
	Name() string
	// PlanScan asks the source how it will read src: projection (nil =
	// all columns) and filters over the full table schema, limit (-1 =
	// none) and the parallelism the engine would like.
	PlanScan(ctx context.Context, src *TableSource, projection []int, filters []Expr, limit int64, parallelism int) (*ScanPlan, error)
	// ReadSplit reads one split; its batches have the projected schema.
	ReadSplit(ctx context.Context, src *TableSource, schema *arrow.Schema, split []byte) (BatchReader, error)
}

// BatchReader streams record batches.
type BatchReader interface {
	// Next returns the next batch (owned by the caller) or io.EOF.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// ScanPlan is a data source's answer to PlanScan.
type ScanPlan struct {
	// Verdicts has one entry per filter.
	Verdicts []FilterVerdict
	// Splits are opaque; reading all of them reads the scan.
	Splits [][]byte
	// RowCount is an estimate, -1 when unknown.
	RowCount int64
	// Explain describes what the source will do (no secrets).
	Explain string
	// Limit is the limit the plan was made with (-1: none).
	Limit int64
	// Exact lists the filters (by their text) the source applies exactly;
	// the engine does not apply them again.
	Exact []string
}

// String renders the pushdown for EXPLAIN.
func (p *ScanPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "splits=%d", len(p.Splits))
	if len(p.Exact) > 0 {
		fmt.Fprintf(&b, " exact_filters=[%s]", strings.Join(p.Exact, ", "))
	}
	if p.Limit >= 0 {
		fmt.Fprintf(&b, " pushed_limit=%d", p.Limit)
	}
	if p.Explain != "" {
		fmt.Fprintf(&b, " source=[%s]", p.Explain)
	}
	return b.String()
}

// Volatile reports whether a call may give a different result each time
// it is evaluated (random(), a volatile user-defined function): such calls
// are never folded or shared.
func (c *Call) Volatile() bool {
	return c.Func == "random" || c.UDF != nil && c.UDF.Volatility == Volatile
}
