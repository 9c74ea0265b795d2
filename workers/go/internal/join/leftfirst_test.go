package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// leftFirstModes are the strategies the semi, anti and mark joins are
// tested with: the right side indexed, the left side indexed, the left
// side buffered past a small bound, then replayed as the probe, and both
// sides buffered, the right one indexed from its buffered batches.
var leftFirstModes = []struct {
	name        string
	mode        leftFirstMode
	maxRows     int64
	rightFactor int64
}{
	{"right_index", leftFirstNever, 1 << 20, 1},
	{"left_index", leftFirstAlways, 1 << 20, 1},
	{"left_overflow", leftFirstAuto, 3, 1},
	{"right_small", leftFirstAuto, 1 << 20, 1000},
}

// forEachLeftFirst runs f under every left-first mode.
func forEachLeftFirst(t *testing.T, f func(t *testing.T)) {
	defer func() { forceLeftFirst, leftFirstMaxRows, leftFirstRightFactor = leftFirstAuto, 1<<20, 1 }()
	for _, m := range leftFirstModes {
		forceLeftFirst, leftFirstMaxRows, leftFirstRightFactor = m.mode, m.maxRows, m.rightFactor
		t.Run(m.name, f)
	}
}

// TestLeftFirstSequentialPartitions runs the partitions of semi, anti and
// mark joins one after another, each closed before the next starts: the
// first reads every left and right partition itself.
func TestLeftFirstSequentialPartitions(t *testing.T) {
	forEachLeftFirst(t, func(t *testing.T) {
		for _, c := range joinCases {
			if c.nested || (c.jt != logical.JoinSemi && c.jt != logical.JoinAnti && c.jt != logical.JoinMark) {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				right := c.right
				if right == nil {
					right = rRows
				}
				l := split(t, mem, lSchema, lRows, 4, 1, false)
				defer l.release()
				r := split(t, mem, rSchema, right, 3, 2, false)
				defer r.release()
				node, err := buildJoin(c, l, r, CollectBuild)
				if err != nil {
					t.Fatal(err)
				}
				tc := exec.NewTaskContext()
				tc.Alloc = mem
				tc.BatchSize = 2
				got, err := drain(context.Background(), node, tc, false, 2)
				if err != nil {
					t.Fatal(err)
				}
				if want := expected[c.want]; !slices.Equal(got, want) {
					t.Fatalf("rows differ\n got: %q\nwant: %q", got, want)
				}
				if u := tc.Mem.Used(); u != 0 {
					t.Errorf("memory pool still holds %d bytes", u)
				}
			})
		}
	})
}

// TestLeftFirstEarlyCloseAndErrors closes semi, anti and mark joins after
// one batch per partition, and fails either input: nothing leaks.
func TestLeftFirstEarlyCloseAndErrors(t *testing.T) {
	forEachLeftFirst(t, func(t *testing.T) {
		for _, jt := range []logical.JoinType{logical.JoinSemi, logical.JoinAnti, logical.JoinMark} {
			t.Run(fmt.Sprintf("%s/early_close", jt), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				l := split(t, mem, lSchema, lRows, 3, 1, false)
				defer l.release()
				r := split(t, mem, rSchema, rRows, 2, 1, false)
				defer r.release()
				node, err := NewHashJoin(l, r, jt, keyLK, keyRK, nil, false, CollectBuild)
				if err != nil {
					t.Fatal(err)
				}
				tc := exec.NewTaskContext()
				tc.Alloc = mem
				tc.BatchSize = 1
				ctx := context.Background()
				var streams []exec.Stream
				for p := range node.Partitions() {
					s, err := node.Execute(ctx, p, tc)
					if err != nil {
						t.Fatal(err)
					}
					streams = append(streams, s)
					if p == 1 {
						continue // never started
					}
					if _, err := s.Next(ctx); err != nil && !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
				}
				for _, s := range streams {
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if u := tc.Mem.Used(); u != 0 {
					t.Errorf("memory pool still holds %d bytes", u)
				}
			})
			for _, failRight := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/fail_right=%v", jt, failRight), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					l := split(t, mem, lSchema, lRows, 2, 1, false)
					defer l.release()
					r := split(t, mem, rSchema, rRows, 2, 1, false)
					defer r.release()
					if failRight {
						r.failAt = 3
					} else {
						l.failAt = 3
					}
					node, err := NewHashJoin(l, r, jt, keyLK, keyRK, rvNot20, false, CollectBuild)
					if err != nil {
						t.Fatal(err)
					}
					tc := exec.NewTaskContext()
					tc.Alloc = mem
					if _, err := drain(context.Background(), node, tc, true, 1024); err == nil || !strings.Contains(err.Error(), "test source failure") {
						t.Fatalf("got %v, want the input's error", err)
					}
					if u := tc.Mem.Used(); u != 0 {
						t.Errorf("memory pool still holds %d bytes", u)
					}
				})
			}
		}
	})
}
