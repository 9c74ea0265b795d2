package producer

import (
	"fmt"
	"strings"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/planpb"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/types/known/anypb"
)

// localFiles reads a table source as one local_files item: its location
// (a file, folder or glob) with a planpb.FileFormat that carries the
// format and the table's options.
func localFiles(src *logical.TableSource) (*pb.ReadRel_LocalFiles_, error) {
	if src.Location == "" {
		return nil, fmt.Errorf("table has no location")
	}
	switch src.Format {
	case "parquet", "csv", "json", "arrow":
	default:
		return nil, fmt.Errorf("not supported: inlining a table of format %q", src.Format)
	}
	ff, err := anypb.New(&planpb.FileFormat{Format: src.Format, Options: src.Options, Table: src.Name})
	if err != nil {
		return nil, err
	}
	item := &pb.ReadRel_LocalFiles_FileOrFiles{FileFormat: &pb.ReadRel_LocalFiles_FileOrFiles_Extension{Extension: ff}}
	if strings.ContainsAny(src.Location, "*?[") {
		item.PathType = &pb.ReadRel_LocalFiles_FileOrFiles_UriPathGlob{UriPathGlob: src.Location}
	} else {
		item.PathType = &pb.ReadRel_LocalFiles_FileOrFiles_UriPath{UriPath: src.Location}
	}
	return &pb.ReadRel_LocalFiles_{LocalFiles: &pb.ReadRel_LocalFiles{Items: []*pb.ReadRel_LocalFiles_FileOrFiles{item}}}, nil
}

// pluginScan writes the scan of a plugin's table, planned already (its
// splits), as a ReadRel.extension_table whose detail is planpb.PluginScan.
func pluginScan(n *logical.Scan) (*pb.ReadRel_ExtensionTable_, error) {
	if n.Pushed == nil {
		return nil, fmt.Errorf("the scan of plugin %s was not planned (no splits)", n.Source.Format)
	}
	msg := &planpb.PluginScan{Plugin: n.Source.Format, Table: n.Source.Name, Location: n.Source.Location,
		Options: n.Source.Options, Splits: n.Pushed.Splits, Explain: n.Pushed.Explain, ExactFilters: n.Pushed.Exact}
	detail, err := anypb.New(msg)
	if err != nil {
		return nil, err
	}
	return &pb.ReadRel_ExtensionTable_{ExtensionTable: &pb.ReadRel_ExtensionTable{Detail: detail}}, nil
}

// shuffleRead writes a ShuffleRead leaf as a ReadRel.extension_table
// whose detail is planpb.ShuffleRead; the rows' schema is the base schema.
func (pr *producer) shuffleRead(n *logical.ShuffleRead) (*pb.Rel, error) {
	bs, err := pr.schemaStruct(n.Schema())
	if err != nil {
		return nil, fmt.Errorf("shuffle read of stage %d: %w", n.Stage, err)
	}
	msg := &planpb.ShuffleRead{JobId: n.JobID, StageId: uint32(n.Stage)}
	for _, p := range n.Partitions {
		msg.Partitions = append(msg.Partitions, uint32(p))
	}
	for _, l := range n.Locations {
		msg.Locations = append(msg.Locations, &planpb.ShuffleLocation{
			MapPartition: uint32(l.MapPartition), ExecutorId: l.ExecutorID, FlightAddress: l.FlightAddress, Path: l.Path,
		})
	}
	detail, err := anypb.New(msg)
	if err != nil {
		return nil, err
	}
	return &pb.Rel{RelType: &pb.Rel_Read{Read: &pb.ReadRel{
		BaseSchema: bs,
		ReadType:   &pb.ReadRel_ExtensionTable_{ExtensionTable: &pb.ReadRel_ExtensionTable{Detail: detail}},
	}}}, nil
}

// shuffleWrite writes a stage fragment's root as an ExtensionSingleRel
// whose detail is planpb.ShuffleWrite.
func (pr *producer) shuffleWrite(n *logical.ShuffleWrite) (*pb.Rel, error) {
	in, err := pr.rel(n.Input)
	if err != nil {
		return nil, err
	}
	msg := &planpb.ShuffleWrite{Compression: n.Compression}
	switch n.Kind {
	case logical.ShuffleHash:
		if n.Partitions < 1 {
			return nil, fmt.Errorf("shuffle write with %d partitions", n.Partitions)
		}
		h := &planpb.HashPartitioning{Partitions: uint32(n.Partitions)}
		for _, k := range n.Keys {
			if k < 0 || k >= n.Input.Schema().Len() {
				return nil, fmt.Errorf("shuffle write key %d out of range for %d columns", k, n.Input.Schema().Len())
			}
			h.KeyFields = append(h.KeyFields, uint32(k))
		}
		msg.Partitioning = &planpb.ShuffleWrite_Hash{Hash: h}
	case logical.ShuffleBroadcast:
		msg.Partitioning = &planpb.ShuffleWrite_Broadcast{Broadcast: &planpb.Broadcast{}}
	case logical.ShuffleSingle:
		msg.Partitioning = &planpb.ShuffleWrite_Single{Single: &planpb.Single{}}
	default:
		return nil, fmt.Errorf("shuffle write kind %d", n.Kind)
	}
	detail, err := anypb.New(msg)
	if err != nil {
		return nil, err
	}
	return &pb.Rel{RelType: &pb.Rel_ExtensionSingle{ExtensionSingle: &pb.ExtensionSingleRel{Input: in, Detail: detail}}}, nil
}
