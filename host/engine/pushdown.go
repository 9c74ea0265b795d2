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
// limit. Filters the plugin applies exactly leave the plan (they become
// the scan's SourceFilters, over the table's columns), so the columns only
// they read are no longer projected, and the plan (and EXPLAIN) carries
// what was pushed. parallelism is the number of splits to ask for.
func PushToPlugins(ctx context.Context, p logical.Plan, parallelism int) (logical.Plan, error) {
	if !hasPluginScan(p) {
		return p, nil
	}
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	// First pass: verdicts; exact filters move into the scans and out of
	// the Filters above them.
	moved := map[*logical.Scan][]string{}
	p, err := logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		switch x := n.(type) {
		case *logical.Scan:
			s, m, err := planPluginScan(ctx, x, parallelism)
			if err == nil && len(m) > 0 {
				moved[s] = m
			}
			return s, err
		case *logical.Filter:
			return dropExact(x, moved), nil
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	// Columns only exact filters read go, and a LIMIT that now sits on a
	// scan bounds it (both drop Pushed where the scan changed) ...
	if p, err = optimizer.Run(p, []optimizer.Rule{optimizer.PruneColumns{}, optimizer.PushDownLimit{}}); err != nil {
		return nil, err
	}
	// ... and those scans are planned again.
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		if x, ok := n.(*logical.Scan); ok {
			s, m, err := planPluginScan(ctx, x, parallelism)
			if err == nil && len(m) > 0 {
				// Exact filters found only now would be applied twice;
				// harmless, but the plugin changed its mind.
				return nil, fmt.Errorf("table %s: plugin %s called filters exact only on a second look: %v", x.Source.Name, x.Source.Format, m)
			}
			return s, err
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

// planPluginScan asks s's plugin for its scan plan (unless s has a current
// one). It offers the scan's SourceFilters (which must stay exact) and its
// pushable Filters; the Filters the plugin calls exact move to
// SourceFilters; moved has their text over the scan's columns, for the
// Filter above to drop.
func planPluginScan(ctx context.Context, s *logical.Scan, parallelism int) (_ *logical.Scan, moved []string, _ error) {
	if s.Source.Provider == nil || s.Pushed != nil && s.Pushed.Limit == s.Limit {
		return s, nil, nil
	}
	offered := slices.Clone(s.SourceFilters)
	mapping := map[int]int{}
	for i := range s.Schema().Len() {
		mapping[i] = i
		if s.Projection != nil {
			mapping[i] = s.Projection[i]
		}
	}
	var fromScan []int // index in s.Filters of each offered filter after the SourceFilters
	for i, f := range s.Filters {
		if !pushable(f) {
			continue
		}
		tf, err := logical.RemapColumns(f, mapping)
		if err != nil {
			return nil, nil, fmt.Errorf("pushing filter %s to plugin %s: %w", f, s.Source.Format, err)
		}
		offered = append(offered, tf)
		fromScan = append(fromScan, i)
	}
	plan, err := s.Source.Provider.PlanScan(ctx, s.Source, s.Projection, offered, s.Limit, parallelism)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s: %w", s.Source.Name, err)
	}
	plan.Limit = s.Limit
	c := *s
	c.SourceFilters = nil
	var exactScan []int
	for i, f := range offered {
		exact := i < len(plan.Verdicts) && plan.Verdicts[i] == logical.FilterExact
		if i < len(s.SourceFilters) {
			if !exact {
				return nil, nil, fmt.Errorf("table %s: plugin %s first called filter %s exact, then not", s.Source.Name, s.Source.Format, f)
			}
		} else if exact {
			exactScan = append(exactScan, fromScan[i-len(s.SourceFilters)])
		}
		if exact {
			c.SourceFilters = append(c.SourceFilters, f)
			plan.Exact = append(plan.Exact, f.String())
		}
	}
	// The exact filters leave the scan's Filters (hints over its columns).
	c.Filters = nil
	for i, f := range s.Filters {
		if !slices.Contains(exactScan, i) {
			c.Filters = append(c.Filters, f)
		} else {
			moved = append(moved, f.String())
		}
	}
	c.Pushed = plan
	return &c, moved, nil
}

// dropExact removes from a Filter right above a plugin scan the
// conjuncts the plugin applies exactly.
func dropExact(f *logical.Filter, moved map[*logical.Scan][]string) logical.Plan {
	s, ok := f.Input.(*logical.Scan)
	if !ok || len(moved[s]) == 0 {
		return f
	}
	var keep []logical.Expr
	for _, c := range logical.SplitConjunction(f.Cond) {
		if !slices.Contains(moved[s], c.String()) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return s
	}
	return &logical.Filter{Input: s, Cond: logical.And(keep...)}
}
