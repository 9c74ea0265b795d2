package author

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arbalest/arbalest/plugins"
	"github.com/arbalest/arbalest/plugins/pluginpb"
)

// Serve runs p as a plugin of the host that started this process and
// returns when the host stops it. Run by hand (not by a host), it prints
// that it is a plugin and exits with status 1.
func Serve(p *Plugin) {
	srv, err := newServer(p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "arbalest plugin %s: %v\n", p.Name, err)
		os.Exit(1)
	}
	go exitWithParent()
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{plugins.ProtocolVersion: {plugins.PluginKey: srv}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, plugins.ServerOptions()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin." + p.Name, Output: os.Stderr, Level: hclog.Warn}),
	})
}

// exitWithParent ends the process when the host that started it is gone
// (reparented), so a killed host leaves no plugin behind even where the
// host could not ask the kernel to do it.
func exitWithParent() {
	ppid := os.Getppid()
	for {
		time.Sleep(time.Second)
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}

// server implements go-plugin's GRPCPlugin and the plugin's services.
type server struct {
	goplugin.NetRPCUnsupportedPlugin
	p      *Plugin
	info   *pluginpb.GetInfoResponse
	scalar map[string]*Scalar
	agg    map[string]*Aggregate
}

// GRPCServer registers the plugin's services.
func (s *server) GRPCServer(_ *goplugin.GRPCBroker, g *grpc.Server) error {
	pluginpb.RegisterPluginServiceServer(g, &infoService{s: s})
	if s.p.Source != nil {
		pluginpb.RegisterScanServiceServer(g, &scanService{src: s.p.Source})
	}
	flight.RegisterFlightServiceServer(g, &flightService{s: s})
	return nil
}

// GRPCClient is the host's side; a plugin process never calls it.
func (s *server) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the plugin SDK has no client side")
}

func newServer(p *Plugin) (*server, error) {
	if p.Name == "" {
		return nil, errors.New("plugin has no name")
	}
	s := &server{p: p, scalar: map[string]*Scalar{}, agg: map[string]*Aggregate{}}
	info := &pluginpb.GetInfoResponse{Name: p.Name, Version: p.Version, ProtocolVersion: plugins.ProtocolVersion, Scan: p.Source != nil}
	if p.Source != nil {
		info.ScanCapabilities = &pluginpb.ScanCapabilities{Projection: true, Filters: true, Limit: true, Splits: true}
	}
	var decls []plugins.FunctionDecl
	for _, f := range p.Functions {
		var d plugins.FunctionDecl
		switch f := f.(type) {
		case *Scalar:
			if f.Eval == nil {
				return nil, fmt.Errorf("scalar function %s has no Eval", f.Name)
			}
			d = plugins.FunctionDecl{Name: f.Name, Kind: pluginpb.FunctionKind_FUNCTION_KIND_SCALAR, Args: f.Args, Result: f.Result,
				Volatility: volatility(f.Volatility), Description: f.Description, NullOnNull: f.NullOnNull}
			s.scalar[f.Name] = f
		case *Aggregate:
			if f.New == nil {
				return nil, fmt.Errorf("aggregate function %s has no New", f.Name)
			}
			d = plugins.FunctionDecl{Name: f.Name, Kind: pluginpb.FunctionKind_FUNCTION_KIND_AGGREGATE, Args: f.Args, Result: f.Result,
				State: f.State, Volatility: volatility(f.Volatility), Description: f.Description}
			s.agg[f.Name] = f
		default:
			return nil, fmt.Errorf("function %T is neither *Scalar nor *Aggregate", f)
		}
		if d.Name == "" || d.Result == nil {
			return nil, fmt.Errorf("a function has no name or no result type")
		}
		if _, dup := s.scalar[d.Name]; dup && d.Kind == pluginpb.FunctionKind_FUNCTION_KIND_AGGREGATE {
			return nil, fmt.Errorf("function %s is declared twice", d.Name)
		}
		decls = append(decls, d)
	}
	if len(decls) > 0 {
		owner := p.Owner
		if owner == "" {
			owner = "plugin"
		}
		urn := "extension:" + owner + ":" + p.Name
		yaml, sigs, err := plugins.DeclareFunctions(urn, decls)
		if err != nil {
			return nil, err
		}
		info.ExtensionUrn, info.ExtensionYaml, info.Functions = urn, yaml, sigs
	}
	s.info = info
	return s, nil
}

func volatility(v Volatility) pluginpb.Volatility {
	switch v {
	case Stable:
		return pluginpb.Volatility_VOLATILITY_STABLE
	case Volatile:
		return pluginpb.Volatility_VOLATILITY_VOLATILE
	}
	return pluginpb.Volatility_VOLATILITY_IMMUTABLE
}

type infoService struct {
	pluginpb.UnimplementedPluginServiceServer
	s *server
}

func (i *infoService) GetInfo(context.Context, *pluginpb.GetInfoRequest) (*pluginpb.GetInfoResponse, error) {
	return i.s.info, nil
}

type scanService struct {
	pluginpb.UnimplementedScanServiceServer
	src DataSource
}

func table(t *pluginpb.Table) Table {
	if t == nil {
		return Table{Options: map[string]string{}}
	}
	opts := t.Options
	if opts == nil {
		opts = map[string]string{}
	}
	return Table{Location: t.Location, Options: opts}
}

func (s *scanService) GetSchema(ctx context.Context, req *pluginpb.GetSchemaRequest) (_ *pluginpb.GetSchemaResponse, err error) {
	defer guard("GetSchema", &err)
	schema, st, err := s.src.Schema(ctx, table(req.Table))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if schema == nil {
		return nil, status.Error(codes.Internal, "the data source returned no schema")
	}
	return &pluginpb.GetSchemaResponse{Schema: plugins.EncodeSchema(schema), Statistics: stats(st)}, nil
}

func stats(s Statistics) *pluginpb.Statistics {
	return &pluginpb.Statistics{RowCount: s.RowCount, TotalBytes: s.TotalBytes}
}

func (s *scanService) PlanScan(ctx context.Context, req *pluginpb.PlanScanRequest) (_ *pluginpb.PlanScanResponse, err error) {
	defer guard("PlanScan", &err)
	t := table(req.Table)
	schema, _, err := s.src.Schema(ctx, t)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sr := &ScanRequest{Table: t, Schema: schema, Limit: req.Limit, Parallelism: int(req.TargetParallelism)}
	if req.Projection != nil {
		sr.Projection = make([]int, len(req.Projection.Columns))
		for i, c := range req.Projection.Columns {
			if int(c) >= schema.NumFields() {
				return nil, status.Errorf(codes.InvalidArgument, "projection column %d out of range for %d columns", c, schema.NumFields())
			}
			sr.Projection[i] = int(c)
		}
	}
	if len(req.Filters) > 0 {
		if sr.Filters, err = plugins.DecodeFilters(req.Filters, schema); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	plan, err := s.src.PlanScan(ctx, sr)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	out := &pluginpb.PlanScanResponse{Statistics: stats(plan.Stats), Explain: plan.Explain}
	for i := range sr.Filters {
		v := pluginpb.FilterVerdict_FILTER_VERDICT_UNSUPPORTED
		if i < len(plan.Verdicts) {
			switch plan.Verdicts[i] {
			case Exact:
				v = pluginpb.FilterVerdict_FILTER_VERDICT_EXACT
			case Inexact:
				v = pluginpb.FilterVerdict_FILTER_VERDICT_INEXACT
			}
		}
		out.Verdicts = append(out.Verdicts, v)
	}
	for _, sp := range plan.Splits {
		out.Splits = append(out.Splits, &pluginpb.Split{Ticket: sp.Ticket, Statistics: stats(sp.Stats)})
	}
	return out, nil
}

type flightService struct {
	flight.BaseFlightServer
	s *server
}

// DoGet reads one split.
func (f *flightService) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) (err error) {
	defer guard("reading a split", &err)
	src := f.s.p.Source
	if src == nil {
		return status.Error(codes.Unimplemented, "this plugin has no data source")
	}
	var w *flight.Writer
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	err = src.ReadSplit(stream.Context(), t.Ticket, func(b arrow.RecordBatch) error {
		if w == nil {
			w = flight.NewRecordWriter(stream, ipc.WithSchema(b.Schema()))
		}
		return w.Write(b)
	})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

// guard turns a panic in the plugin author's code into an error, so one
// bad call fails that call and not the plugin.
func guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = status.Errorf(codes.Internal, "%s panicked: %v", what, r)
	}
}

func safeEval(ctx context.Context, mem memory.Allocator, fn *Scalar, b arrow.RecordBatch) (res arrow.Array, err error) {
	defer guard(fn.Name, &err)
	res, err = fn.Eval(ctx, mem, b.Columns(), int(b.NumRows()))
	if err == nil && res == nil {
		err = fmt.Errorf("returned no array")
	}
	return res, err
}

// DoExchange runs a function call (see pluginpb.FunctionCall).
func (f *flightService) DoExchange(stream flight.FlightService_DoExchangeServer) (err error) {
	defer guard("function call", &err)
	r, err := flight.NewRecordReader(stream)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return status.Errorf(codes.InvalidArgument, "reading the call: %v", err)
	}
	defer r.Release()
	desc := r.LatestFlightDescriptor()
	if desc == nil {
		return status.Error(codes.InvalidArgument, "the first message has no FlightDescriptor with the FunctionCall")
	}
	call, err := plugins.DecodeCall(desc.Cmd)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	ctx := stream.Context()
	mem := memory.DefaultAllocator
	if call.Phase == pluginpb.FunctionPhase_FUNCTION_PHASE_SCALAR {
		fn, ok := f.s.scalar[call.Function]
		if !ok {
			return status.Errorf(codes.NotFound, "no scalar function %q", call.Function)
		}
		return runScalar(ctx, mem, fn, r, stream)
	}
	fn, ok := f.s.agg[call.Function]
	if !ok {
		return status.Errorf(codes.NotFound, "no aggregate function %q", call.Function)
	}
	return runAggregate(mem, fn, call.Phase, r, stream)
}

func runScalar(ctx context.Context, mem memory.Allocator, fn *Scalar, r *flight.Reader, stream flight.FlightService_DoExchangeServer) error {
	out := arrow.NewSchema([]arrow.Field{{Name: "result", Type: fn.Result, Nullable: true}}, nil)
	w := flight.NewRecordWriter(stream, ipc.WithSchema(out))
	defer w.Close()
	for r.Next() {
		b := r.RecordBatch()
		if int(b.NumCols()) != len(fn.Args) {
			return status.Errorf(codes.InvalidArgument, "%s takes %d arguments, got %d columns", fn.Name, len(fn.Args), b.NumCols())
		}
		res, err := safeEval(ctx, mem, fn, b)
		if err != nil {
			return status.Errorf(codes.Internal, "%s: %v", fn.Name, err)
		}
		if res.Len() != int(b.NumRows()) || !arrow.TypeEqual(res.DataType(), fn.Result) {
			n, t := res.Len(), res.DataType()
			res.Release()
			return status.Errorf(codes.Internal, "%s returned %d rows of %s for %d rows of %s", fn.Name, n, t, b.NumRows(), fn.Result)
		}
		rec := newBatch(out, []arrow.Array{res}, b.NumRows())
		err = w.Write(rec)
		rec.Release()
		res.Release()
		if err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func runAggregate(mem memory.Allocator, fn *Aggregate, phase pluginpb.FunctionPhase, r *flight.Reader, stream flight.FlightService_DoExchangeServer) error {
	acc := fn.New()
	n := 0
	for r.Next() {
		b := r.RecordBatch()
		groups, err := plugins.GroupColumn(b)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "%s: %v", fn.Name, err)
		}
		for _, g := range groups {
			n = max(n, int(g)+1)
		}
		cols := b.Columns()[1:]
		if phase == pluginpb.FunctionPhase_FUNCTION_PHASE_FINAL {
			err = acc.Merge(groups, cols)
		} else {
			err = acc.Update(groups, cols)
		}
		if err != nil {
			return status.Errorf(codes.Internal, "%s: %v", fn.Name, err)
		}
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var cols []arrow.Array
	var fields []arrow.Field
	if phase == pluginpb.FunctionPhase_FUNCTION_PHASE_PARTIAL {
		st, err := acc.State(mem, n)
		if err != nil {
			return status.Errorf(codes.Internal, "%s state: %v", fn.Name, err)
		}
		cols, fields = st, fn.State
	} else {
		res, err := acc.Evaluate(mem, n)
		if err != nil {
			return status.Errorf(codes.Internal, "%s: %v", fn.Name, err)
		}
		cols, fields = []arrow.Array{res}, []arrow.Field{{Name: "result", Type: fn.Result, Nullable: true}}
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	rec, err := plugins.GroupedBatch(mem, fields, cols, n)
	if err != nil {
		return status.Errorf(codes.Internal, "%s: %v", fn.Name, err)
	}
	defer rec.Release()
	w := flight.NewRecordWriter(stream, ipc.WithSchema(rec.Schema()))
	defer w.Close()
	return w.Write(rec)
}

func newBatch(s *arrow.Schema, cols []arrow.Array, n int64) arrow.RecordBatch {
	return array.NewRecordBatch(s, cols, n)
}
