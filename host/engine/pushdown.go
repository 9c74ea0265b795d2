package engine

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
)

// PushToPlugins plans the scans of plugin data sources in an optimized
// plan: each such Scan asks its plugin (PlanScan) for splits, offering its
// projection, its filters and, when a LIMIT sits right above it, the
// limit. Filters the plugin applies exactly are removed from the Filter
// above the scan. The plan (and EXPLAIN) then carries what was pushed.
// parallelism is the number of splits to ask for.
func PushToPlugins(ctx context.Context, p logical.Plan, parallelism int) (logical.Plan, error) {
	if !hasPluginScan(p) {
		return p, nil
	}
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	// First pass: verdicts, and the exact filters out of the way.
	p, err := logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		switch x := n.(type) {
		case *logical.Scan:
			return planPluginScan(ctx, x, parallelism, nil)
		case *logical.Filter:
			return dropExact(x), nil
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	// A LIMIT that now sits on a scan bounds it (this drops Pushed where
	// the scan changed) ...
	if p, err = optimizer.Run(p, []optimizer.Rule{optimizer.PushDownLimit{}}); err != nil {
		return nil, err
	}
	// ... and those scans are planned again with it.
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		if x, ok := n.(*logical.Scan); ok && x.Source.Provider != nil && (x.Pushed == nil || x.Pushed.Limit != x.Limit) {
			return planPluginScan(ctx, x, parallelism, exactOf(p, x))
		}
		return n, nil
	})
}

func hasPluginScan(p logical.Plan) bool {
	if s, ok := p.(*logical.Scan); ok && s.Source.Provider != nil {
		return true
	}
	return slices.ContainsFunc(p.Children(), hasPluginScan)
}

// exactOf finds the exact filters an earlier pass removed for a scan that
// was planned again (the plugin must still call them exact).
func exactOf(_ logical.Plan, s *logical.Scan) []string {
	if s.Pushed != nil {
		return s.Pushed.Exact
	}
	return nil
}

// pushable reports whether a filter may go to a plugin: no subqueries, no
// user-defined or volatile calls.
func pushable(e logical.Expr) bool {
	ok := true
	logical.WalkExpr(e, func(x logical.Expr) bool {
		switch c := x.(type) {
		case *logical.Call:
			if c.UDF != nil || c.Volatile() {
				ok = false
			}
		case *logical.Subquery, *logical.OuterRef:
			ok = false
		}
		return ok
	})
	return ok
}

// planPluginScan asks s's plugin for its scan plan. mustBeExact are
// filters an earlier PlanScan called exact (and which are gone from the
// plan): they must still be.
func planPluginScan(ctx context.Context, s *logical.Scan, parallelism int, mustBeExact []string) (logical.Plan, error) {
	if s.Source.Provider == nil || s.Pushed != nil && s.Pushed.Limit == s.Limit {
		return s, nil
	}
	// Filters go over the table's full schema: map the scan's columns back.
	var offered []logical.Expr
	var texts []string
	for _, f := range s.Filters {
		if !pushable(f) {
			continue
		}
		mapping := map[int]int{}
		for i := range s.Schema().Len() {
			mapping[i] = i
			if s.Projection != nil {
				mapping[i] = s.Projection[i]
			}
		}
		tf, err := logical.RemapColumns(f, mapping)
		if err != nil {
			return nil, fmt.Errorf("pushing filter %s to plugin %s: %w", f, s.Source.Format, err)
		}
		offered = append(offered, tf)
		texts = append(texts, f.String())
	}
	plan, err := s.Source.Provider.PlanScan(ctx, s.Source, s.Projection, offered, s.Limit, parallelism)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", s.Source.Name, err)
	}
	plan.Limit = s.Limit
	for i, v := range plan.Verdicts {
		if v == logical.FilterExact {
			plan.Exact = append(plan.Exact, texts[i])
		}
	}
	for _, e := range mustBeExact {
		if !slices.Contains(plan.Exact, e) {
			return nil, fmt.Errorf("table %s: plugin %s first called filter %s exact, then not", s.Source.Name, s.Source.Format, e)
		}
	}
	c := *s
	c.Pushed = plan
	return &c, nil
}

// dropExact removes from a Filter right above a plugin scan the
// conjuncts the plugin applies exactly.
func dropExact(f *logical.Filter) logical.Plan {
	s, ok := f.Input.(*logical.Scan)
	if !ok || s.Pushed == nil || len(s.Pushed.Exact) == 0 {
		return f
	}
	var keep []logical.Expr
	for _, c := range logical.SplitConjunction(f.Cond) {
		if !slices.Contains(s.Pushed.Exact, c.String()) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return s
	}
	return &logical.Filter{Input: s, Cond: logical.And(keep...)}
}
