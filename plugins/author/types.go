// Package author is the plugin side of the Arbalest plugin protocol: the
// types a plugin implements and Serve, which speaks go-plugin and the
// protocol for it. Plugin authors use it through sdk/plugin (the same
// types); the plugins bundled in this repository use it directly.
package author

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/substrait-io/substrait-go/v8/expr"
)

// Plugin is what a plugin binary provides.
type Plugin struct {
	// Name and Version identify the plugin in messages and EXPLAIN.
	Name    string
	Version string
	// Owner is the owner part of the function extension's URN
	// (extension:<Owner>:<Name>); default "plugin".
	Owner string
	// Source is the plugin's data source; nil when it has none.
	Source DataSource
	// Functions are *Scalar and *Aggregate values.
	Functions []Function
}

// Table names a table of a data source: CREATE EXTERNAL TABLE t STORED AS
// <plugin> [LOCATION 'location'] OPTIONS (key 'value', ...).
type Table struct {
	Location string
	Options  map[string]string
}

// Statistics are estimates; -1 when unknown.
type Statistics struct {
	RowCount   int64
	TotalBytes int64
}

// Unknown is Statistics with nothing known.
var Unknown = Statistics{RowCount: -1, TotalBytes: -1}

// Verdict is what a data source does with one pushed filter.
type Verdict int

const (
	// Unsupported: ignored; the engine applies the filter.
	Unsupported Verdict = iota
	// Inexact: used to skip data, but rows that fail it may come back.
	Inexact
	// Exact: every row returned passes the filter.
	Exact
)

// DataSource is a scan plugin.
type DataSource interface {
	// Schema returns the table's schema and statistics.
	Schema(ctx context.Context, t Table) (*arrow.Schema, Statistics, error)
	// PlanScan decides how to read a table: which filters it applies and
	// the splits. Splits must be self-contained (any process running the
	// plugin may read any split).
	PlanScan(ctx context.Context, req *ScanRequest) (*ScanPlan, error)
	// ReadSplit streams one split's rows with the projected schema.
	// emit borrows the batch.
	ReadSplit(ctx context.Context, split []byte, emit func(arrow.RecordBatch) error) error
}

// ScanRequest is what the engine asks of a data source.
type ScanRequest struct {
	Table Table
	// Schema is the table's full schema.
	Schema *arrow.Schema
	// Projection lists the columns to return (indexes into Schema), in
	// order; nil means all.
	Projection []int
	// Filters are boolean conjuncts over Schema. Return a Verdict for each.
	Filters []expr.Expression
	// Limit: at most this many rows are needed; -1 means all.
	Limit int64
	// Parallelism is how many splits the engine would like.
	Parallelism int
}

// ScanPlan is a data source's answer.
type ScanPlan struct {
	// Verdicts, one per filter (missing ones are Unsupported).
	Verdicts []Verdict
	Splits   []Split
	Stats    Statistics
	// Explain says what the source does, for EXPLAIN (no secrets).
	Explain string
}

// Split is one independently readable part of a scan.
type Split struct {
	// Ticket is opaque to the engine and comes back to ReadSplit.
	Ticket []byte
	Stats  Statistics
}

// Volatility says when a function's result may be reused.
type Volatility int

const (
	Immutable Volatility = iota
	Stable
	Volatile
)

// Function is *Scalar or *Aggregate.
type Function interface{ function() }

// Scalar is a scalar user-defined function.
type Scalar struct {
	Name string
	// Args are the argument types; the engine casts to them.
	Args        []arrow.DataType
	Result      arrow.DataType
	Volatility  Volatility
	Description string
	// NullOnNull: rows with a NULL argument give NULL without Eval seeing
	// them (the engine handles them).
	NullOnNull bool
	// Eval computes rows results; args have rows rows each. The result is
	// released by the caller.
	Eval func(ctx context.Context, mem memory.Allocator, args []arrow.Array, rows int) (arrow.Array, error)
}

// Aggregate is a user-defined aggregate function.
type Aggregate struct {
	Name   string
	Args   []arrow.DataType
	Result arrow.DataType
	// State are the columns of the intermediate state (partial → final).
	State       []arrow.Field
	Volatility  Volatility
	Description string
	// New makes an accumulator for one aggregation (many groups).
	New func() GroupsAccumulator
}

// GroupsAccumulator accumulates many groups at once. Groups are numbered
// from 0; an accumulator grows to the largest group it is given, and a
// group that was never updated has the empty aggregation's value.
type GroupsAccumulator interface {
	// Update adds rows: groups[i] is row i's group, args the arguments.
	Update(groups []uint32, args []arrow.Array) error
	// Merge adds states (as returned by State): groups[i] is row i's group.
	Merge(groups []uint32, states []arrow.Array) error
	// State returns the state columns, one row per group 0..n-1.
	State(mem memory.Allocator, n int) ([]arrow.Array, error)
	// Evaluate returns the results, one row per group 0..n-1.
	Evaluate(mem memory.Allocator, n int) (arrow.Array, error)
}

func (*Scalar) function()    {}
func (*Aggregate) function() {}
