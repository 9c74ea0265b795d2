package join

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// The randomized tests join tables with many duplicate keys, NULLs and
// multi-column keys, in batches much smaller than the match bursts, and
// compare with a reference nested-loop implementation of the semantics.

var (
	xSchema = arrow.NewSchema([]arrow.Field{
		{Name: "k1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "k2", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
)

func randomRows(rng *rand.Rand, n, keys int) [][]any {
	strs := []string{"", "a", "bb", "a much longer string value"}
	rows := make([][]any, n)
	for i := range rows {
		var k1, k2, v any = rng.IntN(keys), strs[rng.IntN(len(strs))], rng.IntN(1000)
		if rng.IntN(20) == 0 {
			k1 = nil
		}
		if rng.IntN(20) == 0 {
			k2 = nil
		}
		if rng.IntN(20) == 0 {
			v = nil
		}
		rows[i] = []any{k1, k2, v}
	}
	return rows
}

// refCond is the reference join condition: keys equal (NULL when a key is
// NULL) and the residual v_right > 10 * v_left when set. It returns
// (value, known).
func refCond(l, r []any, multi, resid bool) (bool, bool) {
	known := true
	val := true
	cmp := func(a, b any) {
		if a == nil || b == nil {
			known = false
		} else if a != b {
			val = false
		}
	}
	cmp(l[0], r[0])
	if multi {
		cmp(l[1], r[1])
	}
	if !val {
		return false, true // false AND anything is false
	}
	if resid {
		if l[2] == nil || r[2] == nil {
			known = false
		} else if !(r[2].(int) > 10*l[2].(int)) {
			return false, true
		}
	}
	return val, known
}

func renderCells(cells ...[]any) string {
	var parts []string
	for _, cs := range cells {
		for _, c := range cs {
			if c == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, fmt.Sprint(c))
			}
		}
	}
	return strings.Join(parts, "|")
}

// referenceJoin computes the expected rows, or ErrScalarSubquery.
func referenceJoin(jt logical.JoinType, nullAware, multi, resid bool, L, R [][]any) ([]string, error) {
	nulls := []any{nil, nil, nil}
	var out []string
	rMatched := make([]bool, len(R))
	for _, l := range L {
		matches, unknown := 0, false
		for j, r := range R {
			v, known := refCond(l, r, multi, resid)
			if !known {
				// The condition is NULL for this pair: it counts for the
				// NULL rules of mark and NOT IN (logical.JoinMark).
				unknown = true
				continue
			}
			if v {
				matches++
				rMatched[j] = true
				if jt == logical.JoinInner || jt == logical.JoinLeft || jt == logical.JoinRight ||
					jt == logical.JoinFull || jt == logical.JoinSingle {
					out = append(out, renderCells(l, r))
				}
			}
		}
		markNull := matches == 0 && unknown
		switch jt {
		case logical.JoinLeft, logical.JoinFull:
			if matches == 0 {
				out = append(out, renderCells(l, nulls))
			}
		case logical.JoinSingle:
			if matches > 1 {
				return nil, ErrScalarSubquery
			}
			if matches == 0 {
				out = append(out, renderCells(l, nulls))
			}
		case logical.JoinSemi:
			if matches > 0 {
				out = append(out, renderCells(l))
			}
		case logical.JoinAnti:
			if matches == 0 && (!nullAware || !markNull) {
				out = append(out, renderCells(l))
			}
		case logical.JoinMark:
			m := any(matches > 0)
			if markNull {
				m = nil
			}
			out = append(out, renderCells(l, []any{m}))
		}
	}
	if jt == logical.JoinRight || jt == logical.JoinFull {
		for j, r := range R {
			if !rMatched[j] {
				out = append(out, renderCells(nulls, r))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func TestJoinsRandomized(t *testing.T) {
	forEachLeftFirst(t, testJoinsRandomized)
}

func testJoinsRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	L := randomRows(rng, 800, 60)
	R := randomRows(rng, 500, 60)
	uniqueR := [][]any{}
	seen := map[any]bool{}
	for _, r := range R {
		if r[0] != nil && !seen[r[0]] {
			seen[r[0]] = true
			uniqueR = append(uniqueR, r)
		}
	}
	types := []logical.JoinType{logical.JoinInner, logical.JoinLeft, logical.JoinRight, logical.JoinFull,
		logical.JoinSemi, logical.JoinAnti, logical.JoinMark}
	residual := pred("test_gt10", col(5), col(2))
	for _, direct := range indexKinds {
		forceIndex = direct
		for _, jt := range types {
			for _, multi := range []bool{false, true} {
				if multi && (direct == indexRank || direct == indexPacked) {
					continue // string keys: the hashed table, as for indexHashed
				}
				for _, resid := range []bool{false, true} {
					for _, computed := range []bool{false, true} {
						name := fmt.Sprintf("%s/index=%v/multi=%v/resid=%v/computed=%v", jt, direct, multi, resid, computed)
						t.Run(name, func(t *testing.T) {
							runRandom(t, jt, false, multi, resid, computed, L, R, residual)
						})
					}
				}
			}
		}
		t.Run(fmt.Sprintf("not_in/index=%v", direct), func(t *testing.T) {
			runRandom(t, logical.JoinAnti, true, false, true, false, L, rowsNotNullKey(R), residual)
		})
		t.Run(fmt.Sprintf("single/index=%v", direct), func(t *testing.T) {
			runRandom(t, logical.JoinSingle, false, false, false, false, L, uniqueR, residual)
		})
		t.Run(fmt.Sprintf("single_error/index=%v", direct), func(t *testing.T) {
			runRandom(t, logical.JoinSingle, false, false, false, false, L, R, residual)
		})
	}
	forceIndex = indexAuto
}

func runRandom(t *testing.T, jt logical.JoinType, nullAware, multi, resid, computed bool, L, R [][]any, residual logical.Expr) {
	var k2 logical.Expr
	if multi {
		k2 = strCol(1)
	}
	runRandomOn(t, randomSetup{schema: xSchema, k2: k2, rParts: 2}, jt, nullAware, resid, computed, L, R, residual)
}

// randomSetup is the shape of a randomized join: the schema of both
// sides, the second key column (nil for a single key) and the number of
// build partitions.
type randomSetup struct {
	schema *arrow.Schema
	k2     logical.Expr
	rParts int
}

func runRandomOn(t *testing.T, su randomSetup, jt logical.JoinType, nullAware, resid, computed bool, L, R [][]any, residual logical.Expr) {
	t.Helper()
	multi := su.k2 != nil
	want, wantErr := referenceJoin(jt, nullAware, multi, resid, L, R)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, su.schema, L, 3, 37, false)
	defer l.release()
	r := split(t, mem, su.schema, R, su.rParts, 53, false)
	defer r.release()
	var lk, rk []logical.Expr
	if computed {
		neg := func(i int) logical.Expr {
			return &logical.Call{Func: "negate", Args: []logical.Expr{col(i)}, T: arrow.PrimitiveTypes.Int64, NullableOut: true}
		}
		lk, rk = []logical.Expr{neg(0)}, []logical.Expr{neg(0)}
	} else {
		lk, rk = []logical.Expr{col(0)}, []logical.Expr{col(0)}
	}
	if multi {
		lk, rk = append(lk, su.k2), append(rk, su.k2)
	}
	var cond logical.Expr
	if resid {
		cond = residual
	}
	node, err := NewHashJoin(l, r, jt, lk, rk, cond, nullAware, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	tc.BatchSize = 16
	got, err := drain(context.Background(), node, tc, true, 37)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("got error %v, want %v", err, wantErr)
		}
	} else {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %d rows, want %d\nfirst difference: %s", len(got), len(want), firstDiff(got, want))
		}
	}
	if u := tc.Mem.Used(); u != 0 {
		t.Errorf("memory pool still holds %d bytes", u)
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
