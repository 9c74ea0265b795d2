package exec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// ChildReplacer is implemented by nodes that can be rebuilt over new
// children. Instrument uses it to wrap every level of a plan; a node
// without it is measured as a whole, its subtree unmeasured.
type ChildReplacer interface {
	// WithNewChildren returns a new node like the receiver over children
	// (same count and schemas as Children()).
	WithNewChildren(children []Node) (Node, error)
}

// expectChildren validates the argument of WithNewChildren.
func expectChildren(n Node, c []Node, want int) error {
	if len(c) != want {
		return fmt.Errorf("%s: %d children given, expected %d", n.String(), len(c), want)
	}
	for i, k := range c {
		if k == nil {
			return fmt.Errorf("%s: child %d is nil", n.String(), i)
		}
	}
	return nil
}

// Instrument wraps every node of the tree rooted at n so that each of its
// streams counts rows, batches and the time spent in Next (children
// included) into tc.Metrics.For(original node). Print the result with
// FormatAnalyze.
func Instrument(n Node) Node {
	if _, ok := n.(*instrumented); ok {
		return n
	}
	inner := n
	if kids := n.Children(); len(kids) > 0 {
		if cr, ok := n.(ChildReplacer); ok {
			wrapped := make([]Node, len(kids))
			for i, k := range kids {
				wrapped[i] = Instrument(k)
			}
			if rebuilt, err := cr.WithNewChildren(wrapped); err == nil {
				inner = rebuilt
			}
		}
	}
	return &instrumented{orig: n, inner: inner}
}

// instrumented measures the streams of inner under the key orig.
type instrumented struct {
	orig, inner Node
}

var _ Node = (*instrumented)(nil)

func (w *instrumented) Schema() *arrow.Schema { return w.inner.Schema() }
func (w *instrumented) Children() []Node      { return w.inner.Children() }
func (w *instrumented) Partitions() int       { return w.inner.Partitions() }
func (w *instrumented) String() string        { return w.orig.String() }

func (w *instrumented) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	om := metricsFor(tc, w.orig)
	t := time.Now()
	s, err := w.inner.Execute(ctx, p, tc)
	if om != nil {
		om.Nanos.Add(since(t))
	}
	if err != nil || om == nil {
		return s, err
	}
	return &instrumentedStream{in: s, om: om, inner: w.inner, tc: tc}, nil
}

type instrumentedStream struct {
	in     Stream
	om     *OperatorMetrics
	inner  Node
	tc     *TaskContext
	closed bool
}

func (s *instrumentedStream) Schema() *arrow.Schema { return s.in.Schema() }

func (s *instrumentedStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	t := time.Now()
	b, err := s.in.Next(ctx)
	s.om.Nanos.Add(since(t))
	if err == nil {
		s.om.Rows.Add(b.NumRows())
		s.om.Batches.Add(1)
	}
	return b, err
}

func (s *instrumentedStream) Close() error {
	t := time.Now()
	err := s.in.Close()
	s.om.Nanos.Add(since(t))
	if !s.closed && s.tc.Metrics != nil {
		s.closed = true
		// Operators record memory under the node that ran (the rebuilt one).
		if im := s.tc.Metrics.Lookup(s.inner); im != nil && im != s.om {
			s.om.RecordPeak(im.PeakMem.Load())
			for {
				cur, v := s.om.Spills.Load(), im.Spills.Load()
				if v <= cur || s.om.Spills.CompareAndSwap(cur, v) {
					break
				}
			}
		}
	}
	return err
}

// FormatAnalyze renders the plan rooted at n (the instrumented tree or the
// original one) with each operator's rows, batches, time, peak memory and
// spills from m: the EXPLAIN ANALYZE text.
func FormatAnalyze(n Node, m *Metrics) string {
	var b strings.Builder
	var walk func(n Node, depth int)
	walk = func(n Node, depth int) {
		key := n
		if w, ok := n.(*instrumented); ok {
			key = w.orig
		}
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.String())
		if n.Partitions() != 1 {
			fmt.Fprintf(&b, " partitions=%d", n.Partitions())
		}
		var om *OperatorMetrics
		if m != nil {
			om = m.Lookup(key)
		}
		if om == nil {
			b.WriteString(" [not executed]")
		} else {
			fmt.Fprintf(&b, " [rows=%d batches=%d time=%s", om.Rows.Load(), om.Batches.Load(),
				time.Duration(om.Nanos.Load()).Round(time.Microsecond))
			if pm := om.PeakMem.Load(); pm > 0 {
				fmt.Fprintf(&b, " peak_mem=%s", formatBytes(pm))
			}
			if sp := om.Spills.Load(); sp > 0 {
				fmt.Fprintf(&b, " spills=%d", sp)
			}
			b.WriteByte(']')
		}
		b.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
