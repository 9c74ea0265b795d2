package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/plugins"
	"github.com/arbalest/arbalest/plugins/pluginpb"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// Schema asks scan plugin name for a table's schema and estimated row
// count (-1 when unknown).
func (m *Manager) Schema(ctx context.Context, name, location string, options map[string]string) (*arrow.Schema, int64, error) {
	p, ok := m.Plugin(name)
	if !ok {
		return nil, 0, fmt.Errorf("no plugin named %s is loaded", name)
	}
	if info := p.Info(); info == nil || !info.GetScan() {
		return nil, 0, fmt.Errorf("plugin %s is not a data source", name)
	}
	conn, err := p.client(ctx)
	if err != nil {
		return nil, 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	resp, err := pluginpb.NewScanServiceClient(conn).GetSchema(cctx, &pluginpb.GetSchemaRequest{Table: &pluginpb.Table{Location: location, Options: options}})
	if err != nil {
		return nil, 0, p.callError(ctx, cctx, "GetSchema", err)
	}
	s, err := plugins.DecodeSchema(resp.GetSchema())
	if err != nil {
		return nil, 0, fmt.Errorf("plugin %s: GetSchema: %w", name, err)
	}
	if s.NumFields() == 0 {
		return nil, 0, fmt.Errorf("plugin %s: GetSchema returned a schema without columns", name)
	}
	rows := int64(-1)
	if st := resp.GetStatistics(); st != nil {
		rows = st.GetRowCount()
	}
	return s, rows, nil
}

// callError explains a failed unary call.
func (p *Plugin) callError(ctx, cctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return p.describe(what, fmt.Errorf("no answer within %s (timed out)", p.cfg.Timeout))
	}
	return p.describe(what, err)
}

type scanProvider struct{ p *Plugin }

func (s *scanProvider) Name() string { return s.p.cfg.Name }

// PlanScan implements logical.ScanProvider.
func (s *scanProvider) PlanScan(ctx context.Context, src *logical.TableSource, projection []int, filters []logical.Expr, limit int64, parallelism int) (*logical.ScanPlan, error) {
	p := s.p
	req := &pluginpb.PlanScanRequest{
		Table: &pluginpb.Table{Location: src.Location, Options: src.Options},
		Limit: limit, TargetParallelism: uint32(max(parallelism, 1)), FilterCount: uint32(len(filters)),
	}
	if projection != nil {
		req.Projection = &pluginpb.Projection{}
		for _, c := range projection {
			req.Projection.Columns = append(req.Projection.Columns, uint32(c))
		}
	}
	if len(filters) > 0 {
		ee, err := producer.ToExtendedExpression(filters, logical.FromArrow(src.Schema, src.Name), nil)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: writing the filters: %w", p.cfg.Name, err)
		}
		if req.Filters, err = proto.Marshal(ee); err != nil {
			return nil, err
		}
	}
	conn, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	resp, err := pluginpb.NewScanServiceClient(conn).PlanScan(cctx, req)
	if err != nil {
		return nil, p.callError(ctx, cctx, "PlanScan of table "+src.Name, err)
	}
	if len(resp.GetVerdicts()) > len(filters) {
		return nil, fmt.Errorf("plugin %s: PlanScan gave %d verdicts for %d filters", p.cfg.Name, len(resp.GetVerdicts()), len(filters))
	}
	out := &logical.ScanPlan{RowCount: -1, Explain: resp.GetExplain(), Verdicts: make([]logical.FilterVerdict, len(filters))}
	for i, v := range resp.GetVerdicts() {
		switch v {
		case pluginpb.FilterVerdict_FILTER_VERDICT_EXACT:
			out.Verdicts[i] = logical.FilterExact
		case pluginpb.FilterVerdict_FILTER_VERDICT_INEXACT:
			out.Verdicts[i] = logical.FilterInexact
		}
	}
	if st := resp.GetStatistics(); st != nil {
		out.RowCount = st.GetRowCount()
	}
	for _, sp := range resp.GetSplits() {
		out.Splits = append(out.Splits, sp.GetTicket())
	}
	return out, nil
}

// ReadSplit implements logical.ScanProvider.
func (s *scanProvider) ReadSplit(ctx context.Context, src *logical.TableSource, schema *arrow.Schema, split []byte) (logical.BatchReader, error) {
	p := s.p
	conn, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	wd := newWatchdog(p.cfg.Timeout, cancel)
	stream, err := flight.NewClientFromConn(conn, nil).DoGet(sctx, &flight.Ticket{Ticket: split})
	if err != nil {
		wd.stop()
		cancel()
		return nil, p.callError(ctx, sctx, "reading a split of table "+src.Name, err)
	}
	return &splitReader{p: p, table: src.Name, schema: schema, stream: stream, cancel: cancel, wd: wd}, nil
}

type splitReader struct {
	p      *Plugin
	table  string
	schema *arrow.Schema
	stream flight.FlightService_DoGetClient
	r      *flight.Reader
	cancel context.CancelFunc
	wd     *watchdog
	done   bool
}

func (r *splitReader) fail(ctx context.Context, err error) error {
	r.done = true
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return r.p.describe("reading a split of table "+r.table, r.wd.err(err))
}

// Next implements logical.BatchReader.
func (r *splitReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.done {
		return nil, io.EOF
	}
	r.wd.progress()
	if r.r == nil {
		fr, err := flight.NewRecordReader(r.stream)
		if err != nil {
			if errors.Is(err, io.EOF) {
				// A split without rows may send no schema at all.
				r.done = true
				return nil, io.EOF
			}
			return nil, r.fail(ctx, err)
		}
		r.r = fr
		if err := plugins.SameSchema(r.schema, fr.Schema()); err != nil {
			return nil, r.fail(ctx, fmt.Errorf("wrong schema: %w", err))
		}
	}
	if r.r.Next() {
		b := r.r.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := r.r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, r.fail(ctx, err)
	}
	r.done = true
	return nil, io.EOF
}

// Close implements logical.BatchReader.
func (r *splitReader) Close() error {
	r.wd.stop()
	r.cancel()
	if r.r != nil {
		r.r.Release()
	}
	return nil
}
