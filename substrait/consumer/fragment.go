package consumer

import (
	"fmt"
	"regexp"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/planpb"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

// jobIDPattern is what a job id may look like (it names directories).
var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// shuffleRead reads a stage fragment's input: an extension_table whose
// detail is planpb.ShuffleRead.
func shuffleRead(t *pb.ReadRel_ExtensionTable, base *logical.Schema) (logical.Plan, error) {
	var m planpb.ShuffleRead
	if t.GetDetail() == nil {
		return nil, fmt.Errorf("extension_table without detail")
	}
	if err := t.GetDetail().UnmarshalTo(&m); err != nil {
		return nil, fmt.Errorf("not supported: extension_table of type %s (%v)", t.GetDetail().GetTypeUrl(), err)
	}
	if m.GetJobId() != "" && !jobIDPattern.MatchString(m.GetJobId()) {
		return nil, fmt.Errorf("shuffle read: invalid job id %q", m.GetJobId())
	}
	r := logical.NewShuffleRead(int(m.GetStageId()), base)
	r.JobID = m.GetJobId()
	for _, p := range m.GetPartitions() {
		r.Partitions = append(r.Partitions, int(p))
	}
	seen := map[uint32]bool{}
	for i, l := range m.GetLocations() {
		if seen[l.GetMapPartition()] {
			return nil, fmt.Errorf("shuffle read of stage %d: location %d repeats map partition %d", m.GetStageId(), i, l.GetMapPartition())
		}
		seen[l.GetMapPartition()] = true
		r.Locations = append(r.Locations, logical.ShuffleLocation{
			MapPartition: int(l.GetMapPartition()), ExecutorID: l.GetExecutorId(), FlightAddress: l.GetFlightAddress(), Path: l.GetPath(),
		})
	}
	return r, nil
}

// extensionSingle reads a stage fragment's root: an ExtensionSingleRel
// whose detail is planpb.ShuffleWrite.
func (x *relCtx) extensionSingle(e *pb.ExtensionSingleRel) (logical.Plan, error) {
	if e.GetDetail() == nil {
		return nil, fmt.Errorf("extension_single without detail")
	}
	var m planpb.ShuffleWrite
	if err := e.GetDetail().UnmarshalTo(&m); err != nil {
		return nil, fmt.Errorf("not supported: extension_single of type %s (%v)", e.GetDetail().GetTypeUrl(), err)
	}
	in, err := x.input(e.GetInput())
	if err != nil {
		return nil, err
	}
	w := &logical.ShuffleWrite{Input: in, Compression: m.GetCompression(), Partitions: 1}
	switch m.GetCompression() {
	case "", "lz4", "zstd":
	default:
		return nil, fmt.Errorf("shuffle write: unknown compression %q", m.GetCompression())
	}
	switch p := m.GetPartitioning().(type) {
	case *planpb.ShuffleWrite_Hash:
		w.Kind = logical.ShuffleHash
		w.Partitions = int(p.Hash.GetPartitions())
		if w.Partitions < 1 || w.Partitions > 1<<16 {
			return nil, fmt.Errorf("shuffle write: %d hash partitions", w.Partitions)
		}
		if len(p.Hash.GetKeyFields()) == 0 {
			return nil, fmt.Errorf("shuffle write: hash partitioning without keys")
		}
		for _, k := range p.Hash.GetKeyFields() {
			if int(k) >= in.Schema().Len() {
				return nil, fmt.Errorf("shuffle write: key field %d out of range for %d columns", k, in.Schema().Len())
			}
			w.Keys = append(w.Keys, int(k))
		}
	case *planpb.ShuffleWrite_Broadcast:
		w.Kind = logical.ShuffleBroadcast
	case *planpb.ShuffleWrite_Single:
		w.Kind = logical.ShuffleSingle
	default:
		return nil, fmt.Errorf("shuffle write without partitioning")
	}
	return w, nil
}

// ProviderResolver is implemented by a TableResolver that has data source
// plugins: stage fragments name them in PluginScan leaves.
type ProviderResolver interface {
	Provider(name string) (logical.ScanProvider, bool)
}

// pluginScan reads the scan of a plugin's table in a stage fragment: an
// extension_table whose detail is planpb.PluginScan.
func (x *relCtx) pluginScan(r *pb.ReadRel, t *pb.ReadRel_ExtensionTable, base *logical.Schema, alias string) (logical.Plan, error) {
	var m planpb.PluginScan
	if err := t.GetDetail().UnmarshalTo(&m); err != nil {
		return nil, fmt.Errorf("plugin scan: %w", err)
	}
	if m.GetPlugin() == "" {
		return nil, fmt.Errorf("plugin scan of table %q names no plugin", m.GetTable())
	}
	if r.GetFilter() != nil {
		return nil, fmt.Errorf("plugin scan of table %s: a filter on the read is not supported (filters go above it)", m.GetTable())
	}
	src := &logical.TableSource{Name: m.GetTable(), Format: m.GetPlugin(), Location: m.GetLocation(), Options: m.GetOptions(),
		Schema: base.Arrow(), RowCount: -1}
	if pr, ok := x.c.r.(ProviderResolver); ok && x.c.r != nil {
		if p, ok := pr.Provider(m.GetPlugin()); ok {
			src.Provider = p
		}
	}
	if src.Provider == nil {
		return nil, fmt.Errorf("table %s: plugin %s is not loaded in this process (start it with --plugin %s=PATH)", m.GetTable(), m.GetPlugin(), m.GetPlugin())
	}
	p, err := x.scanOf(r, src, base, alias)
	if err != nil {
		return nil, err
	}
	s, ok := p.(*logical.Scan)
	if !ok {
		return nil, fmt.Errorf("plugin scan of table %s: unexpected read shape", m.GetTable())
	}
	s.Pushed = &logical.ScanPlan{Splits: m.GetSplits(), Explain: m.GetExplain(), Exact: m.GetExactFilters(), Limit: s.Limit, RowCount: -1}
	return s, nil
}
