package scan

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// pluginNode reads a plugin data source: its splits, dealt round-robin to
// the partitions, each read through the plugin (Flight DoGet on the
// plugin process).
type pluginNode struct {
	src        *logical.TableSource
	schema     *arrow.Schema
	plan       *logical.ScanPlan
	limit      int64
	partitions int
}

// NewPluginScan plans the scan of a plugin's table. plan is the plugin's
// scan plan (nil: ask it now, without filters).
func NewPluginScan(ctx context.Context, src *logical.TableSource, projection []int, limit int64, plan *logical.ScanPlan, partitions int) (exec.Node, error) {
	if src.Provider == nil {
		return nil, fmt.Errorf("scan of table %s: plugin %s is not loaded in this process", src.Name, src.Format)
	}
	fields := make([]arrow.Field, 0, src.Schema.NumFields())
	if projection == nil {
		fields = append(fields, src.Schema.Fields()...)
	} else {
		for _, p := range projection {
			if p < 0 || p >= src.Schema.NumFields() {
				return nil, fmt.Errorf("scan of table %s: projection index %d out of range for %d columns", src.Name, p, src.Schema.NumFields())
			}
			fields = append(fields, src.Schema.Field(p))
		}
	}
	if plan == nil {
		var err error
		if plan, err = src.Provider.PlanScan(ctx, src, projection, nil, limit, partitions); err != nil {
			return nil, fmt.Errorf("table %s: %w", src.Name, err)
		}
	}
	return &pluginNode{src: src, schema: arrow.NewSchema(fields, nil), plan: plan, limit: limit,
		partitions: max(1, min(partitions, len(plan.Splits)))}, nil
}

func (n *pluginNode) Schema() *arrow.Schema { return n.schema }
func (n *pluginNode) Children() []exec.Node { return nil }
func (n *pluginNode) Partitions() int       { return n.partitions }
func (n *pluginNode) String() string {
	return fmt.Sprintf("PluginScan: %s plugin=%s %s", n.src.Name, n.src.Format, n.plan)
}

func (n *pluginNode) Execute(ctx context.Context, p int, _ *exec.TaskContext) (exec.Stream, error) {
	if p < 0 || p >= n.partitions {
		return nil, fmt.Errorf("plugin scan: partition %d of %d", p, n.partitions)
	}
	var splits [][]byte
	for i := p; i < len(n.plan.Splits); i += n.partitions {
		splits = append(splits, n.plan.Splits[i])
	}
	return &pluginStream{n: n, splits: splits, left: n.limit}, nil
}

type pluginStream struct {
	n      *pluginNode
	splits [][]byte
	r      logical.BatchReader
	cur    arrow.RecordBatch
	left   int64 // rows still wanted; -1: all
	closed bool
}

func (s *pluginStream) Schema() *arrow.Schema { return s.n.schema }

func (s *pluginStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	for !s.closed && s.left != 0 {
		if s.r == nil {
			if len(s.splits) == 0 {
				break
			}
			r, err := s.n.src.Provider.ReadSplit(ctx, s.n.src, s.n.schema, s.splits[0])
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", s.n.src.Name, err)
			}
			s.splits, s.r = s.splits[1:], r
		}
		b, err := s.r.Next(ctx)
		if errors.Is(err, io.EOF) {
			s.r.Close()
			s.r = nil
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", s.n.src.Name, err)
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if s.left > 0 && b.NumRows() > s.left {
			nb := b.NewSlice(0, s.left)
			b.Release()
			b = nb
		}
		if s.left > 0 {
			s.left -= b.NumRows()
		}
		s.cur = b
		return b, nil
	}
	return nil, io.EOF
}

func (s *pluginStream) Close() error {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	s.closed = true
	return nil
}
