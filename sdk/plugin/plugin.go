// Package plugin is the Go SDK for writing Arbalest plugins: data sources
// (scan plugins with projection, filter and limit pushdown) and
// user-defined scalar and aggregate functions. A plugin is a small main:
//
//	func main() {
//		plugin.Serve(&plugin.Plugin{
//			Name:      "geo",
//			Functions: []plugin.Function{&plugin.Scalar{Name: "haversine_km", ...}},
//		})
//	}
//
// The host (an Arbalest scheduler or executor) starts the binary with
// hashicorp/go-plugin over gRPC; Serve speaks that protocol and the
// Arbalest plugin protocol (plugins/proto/arbalest/plugin/v1). The types
// are those of plugins/author, which also serves the bundled plugins;
// docs/plugins.md is the guide, examples/plugins has complete plugins.
package plugin

import "github.com/arbalest/arbalest/plugins/author"

type (
	// Plugin is what a plugin binary provides.
	Plugin = author.Plugin
	// Table names a table of a data source (LOCATION and OPTIONS).
	Table = author.Table
	// Statistics are estimates; -1 when unknown.
	Statistics = author.Statistics
	// Verdict is what a data source does with one pushed filter.
	Verdict = author.Verdict
	// DataSource is a scan plugin.
	DataSource = author.DataSource
	// ScanRequest is what the engine asks of a data source.
	ScanRequest = author.ScanRequest
	// ScanPlan is a data source's answer.
	ScanPlan = author.ScanPlan
	// Split is one independently readable part of a scan.
	Split = author.Split
	// Volatility says when a function's result may be reused.
	Volatility = author.Volatility
	// Function is *Scalar or *Aggregate.
	Function = author.Function
	// Scalar is a scalar user-defined function.
	Scalar = author.Scalar
	// Aggregate is a user-defined aggregate function.
	Aggregate = author.Aggregate
	// GroupsAccumulator accumulates an aggregate over many groups.
	GroupsAccumulator = author.GroupsAccumulator
)

// Filter verdicts.
const (
	Unsupported = author.Unsupported
	Inexact     = author.Inexact
	Exact       = author.Exact
)

// Volatilities.
const (
	Immutable = author.Immutable
	Stable    = author.Stable
	Volatile  = author.Volatile
)

// Unknown is Statistics with nothing known.
var Unknown = author.Unknown

// Serve runs p as a plugin of the host that started this process and
// returns when the host stops it.
func Serve(p *Plugin) { author.Serve(p) }
