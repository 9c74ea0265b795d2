package stages

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

// close ends f's stage with a ShuffleWrite of the given kind and returns
// the new stage's ID.
func (pl *planner) close(f frag, kind logical.ShuffleKind, keys []int, partitions int) int {
	id := len(pl.stages)
	w := &logical.ShuffleWrite{Input: f.plan, Kind: kind, Keys: keys, Partitions: partitions, Compression: pl.cfg.Compression}
	inputs := slices.Clone(f.inputs)
	slices.Sort(inputs)
	pl.stages = append(pl.stages, &Stage{ID: id, Plan: w, Tasks: f.tasks, Inputs: slices.Compact(inputs)})
	return id
}

// gather moves all of f's rows into one task.
func (pl *planner) gather(f frag) frag {
	id := pl.close(f, logical.ShuffleSingle, nil, 1)
	return frag{plan: newRead(id, f.plan.Schema()), tasks: 1, inputs: []int{id}}
}

// broadcast ends f's stage with a broadcast write and returns the read
// that gives every task of a consumer all of its rows.
func (pl *planner) broadcast(f frag) *logical.ShuffleRead {
	id := pl.close(f, logical.ShuffleBroadcast, nil, 1)
	return newRead(id, f.plan.Schema())
}

// newRead reads stage id, whose output has schema s. The read gets its own
// copy of the schema: stage plans share no mutable state.
func newRead(id int, s *logical.Schema) *logical.ShuffleRead {
	return logical.NewShuffleRead(id, logical.NewSchema(slices.Clone(s.Fields)...))
}

// repartition hash partitions f's rows on keys (expressions over f's
// output, of hashable types) into n partitions. Keys that are not plain
// columns are computed into extra columns before the write, which hashes
// columns only, and dropped after the read, so the result has f's schema.
func (pl *planner) repartition(f frag, keys []logical.Expr, n int) frag {
	schema := f.plan.Schema()
	cols := make([]int, len(keys))
	var extra []logical.Expr
	for i, k := range keys {
		if c, ok := k.(*logical.ColumnRef); ok {
			cols[i] = c.Index
			continue
		}
		cols[i] = schema.Len() + len(extra)
		extra = append(extra, k)
	}
	input := f.plan
	if len(extra) > 0 {
		exprs, names, quals := passThrough(schema)
		for i, e := range extra {
			exprs = append(exprs, e)
			names = append(names, fmt.Sprintf("__hash_key%d", i))
			quals = append(quals, "")
		}
		input = logical.NewProject(input, exprs, names, quals)
	}
	id := pl.close(f.with(input), logical.ShuffleHash, cols, n)
	var out logical.Plan = newRead(id, input.Schema())
	if len(extra) > 0 {
		exprs, names, quals := passThrough(schema)
		out = logical.NewProject(out, exprs, names, quals)
	}
	return frag{plan: out, tasks: n, hash: [][]logical.Expr{keys}, inputs: []int{id}}
}

// passThrough lists a projection passing every column of s unchanged.
func passThrough(s *logical.Schema) (exprs []logical.Expr, names, quals []string) {
	for i, f := range s.Fields {
		exprs = append(exprs, logical.Col(s, i))
		names = append(names, f.Name)
		quals = append(quals, f.Qualifier)
	}
	return exprs, names, quals
}

// canon is a key for comparing expressions: its text without the display
// names of column references.
func canon(e logical.Expr) string {
	out, err := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		if c, ok := n.(*logical.ColumnRef); ok {
			return &logical.ColumnRef{Index: c.Index, T: c.T, CanBeNull: c.CanBeNull}, nil
		}
		if l, ok := n.(*logical.Literal); ok {
			// Literal text does not show every type (1 for int32 and int64).
			return &logical.Cast{Input: l, T: l.T}, nil
		}
		return n, nil
	})
	if err != nil {
		return e.String()
	}
	return out.String()
}

// dedupe drops expressions equal to an earlier one.
func dedupe(es []logical.Expr) []logical.Expr {
	seen := map[string]bool{}
	out := es[:0:0]
	for _, e := range es {
		if c := canon(e); !seen[c] {
			seen[c] = true
			out = append(out, e)
		}
	}
	return out
}

// hashEncoding names how the shuffle hash encodes values of type t: two
// types with the same encoding hash equal values alike.
func hashEncoding(t arrow.DataType) string {
	if d, ok := t.(*arrow.DictionaryType); ok {
		return hashEncoding(d.ValueType)
	}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16:
		return "int"
	case arrow.INT64, arrow.UINT32, arrow.UINT64:
		return "long"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "utf8"
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return "binary"
	}
	if p, s, ok := logical.DecimalParams(t); ok {
		if p <= logical.MaxDecimal64Precision {
			return fmt.Sprintf("decimal-long/%d", s)
		}
		return fmt.Sprintf("decimal-bytes/%d", s)
	}
	return t.Fingerprint()
}

// typeEqual is arrow.TypeEqual (nil-safe).
func typeEqual(a, b arrow.DataType) bool {
	if a == nil || b == nil {
		return a == b
	}
	return arrow.TypeEqual(a, b)
}

// hashable keeps the keys the shuffle hash can hash, without duplicates.
// Partitioning on a subset of keys still brings equal keys together.
func hashable(keys []logical.Expr) []logical.Expr {
	var out []logical.Expr
	for _, k := range keys {
		if logical.ShuffleHashable(k.Type()) {
			out = append(out, k)
		}
	}
	return dedupe(out)
}

// hashableColumns lists the columns of s of hashable types.
func hashableColumns(s *logical.Schema) []int {
	var out []int
	for i, f := range s.Fields {
		if logical.ShuffleHashable(f.Type) {
			out = append(out, i)
		}
	}
	return out
}

// columnKeys returns the columns of the first key list of hash made of
// plain column references only, nil when there is none.
func columnKeys(hash [][]logical.Expr) []int {
	for _, keys := range hash {
		if cols, ok := plainColumns(keys); ok {
			return cols
		}
	}
	return nil
}

func plainColumns(keys []logical.Expr) ([]int, bool) {
	cols := make([]int, len(keys))
	for i, k := range keys {
		c, ok := k.(*logical.ColumnRef)
		if !ok {
			return nil, false
		}
		cols[i] = c.Index
	}
	return cols, len(cols) > 0
}

// hasColumnKeys reports whether one key list of hash is exactly the
// columns cols, in order.
func hasColumnKeys(hash [][]logical.Expr, cols []int) bool {
	for _, keys := range hash {
		if got, ok := plainColumns(keys); ok && slices.Equal(got, cols) {
			return true
		}
	}
	return false
}

// commonColumnHash is the partitioning of a set operation over ins (which
// all have the same task count): the key lists of plain columns that every
// input is partitioned on, referring to schema.
func commonColumnHash(ins []frag, schema *logical.Schema) [][]logical.Expr {
	var out [][]logical.Expr
	for _, keys := range ins[0].keys() {
		cols, ok := plainColumns(keys)
		if !ok {
			continue
		}
		all := true
		for _, f := range ins[1:] {
			all = all && hasColumnKeys(f.keys(), cols)
		}
		if all {
			out = append(out, logical.Cols(schema, cols))
		}
	}
	return out
}

// partitionedWithin returns the first key list of hash whose every key is
// one of keys (so rows with equal keys share a partition), nil if none.
func partitionedWithin(hash [][]logical.Expr, keys []logical.Expr) []logical.Expr {
	set := map[string]bool{}
	for _, k := range keys {
		set[canon(k)] = true
	}
	for _, ks := range hash {
		ok := len(ks) > 0
		for _, k := range ks {
			ok = ok && set[canon(k)]
		}
		if ok {
			return ks
		}
	}
	return nil
}

// projectHash carries hash key lists through a projection computing exprs
// (giving schema): a key the projection outputs becomes a reference to
// that output, a key over columns the projection passes through is
// rewritten over them, and a key list with any other key is lost.
func projectHash(hash [][]logical.Expr, exprs []logical.Expr, schema *logical.Schema) [][]logical.Expr {
	if len(hash) == 0 {
		return nil
	}
	outputs := map[string]int{}
	passed := map[int]int{}
	for i := len(exprs) - 1; i >= 0; i-- {
		outputs[canon(exprs[i])] = i
		if c, ok := exprs[i].(*logical.ColumnRef); ok {
			passed[c.Index] = i
		}
	}
	var out [][]logical.Expr
	for _, keys := range hash {
		mapped := make([]logical.Expr, 0, len(keys))
		for _, k := range keys {
			if i, ok := outputs[canon(k)]; ok {
				mapped = append(mapped, logical.Col(schema, i))
				continue
			}
			if m, err := logical.RemapColumns(k, passed); err == nil {
				mapped = append(mapped, m)
			}
		}
		if len(mapped) == len(keys) {
			out = append(out, mapped)
		}
	}
	return out
}
