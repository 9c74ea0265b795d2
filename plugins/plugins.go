// Package plugins holds what the host and plugin authors share about the
// Arbalest plugin protocol: the go-plugin handshake and the conversions
// between the protocol's messages and Arrow and logical types. The
// protocol itself is plugins/proto/arbalest/plugin/v1 (Go: pluginpb); the
// host side is plugins/runtime, the Go authoring SDK is sdk/plugin, the
// Python SDK is sdk/python, native in-process functions are
// plugins/native.
package plugins

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the plugin protocol version (the go-plugin app
// protocol version and GetInfo's protocol_version).
const ProtocolVersion = 1

// PluginKey names the one plugin in the go-plugin plugin set.
const PluginKey = "arbalest"

// Handshake is the go-plugin handshake. The magic cookie only keeps a
// plugin binary from being run by hand by mistake; it is not security.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ARBALEST_PLUGIN",
	MagicCookieValue: "arbalest-plugin-v1",
}

// MaxMessageSize bounds gRPC messages both ways: schemas, plans and
// batches grow large, and batches are sliced to a few MiB.
const MaxMessageSize = 256 << 20

// window is the gRPC flow-control window: batches of a few MiB go in one
// round trip instead of waiting for window updates every 64 KiB.
const window = 32 << 20

// ServerOptions are the gRPC server options of a plugin.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window)}
}

// DialOptions are the gRPC client options of the host.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window)}
}

// EncodeSchema writes a schema as the protocol's bytes (an encapsulated
// IPC schema message, as in Flight's SchemaResult).
func EncodeSchema(s *arrow.Schema) []byte {
	return flight.SerializeSchema(s, memory.DefaultAllocator)
}

// DecodeSchema reads a schema written by EncodeSchema (or by pyarrow's
// Schema.serialize).
func DecodeSchema(b []byte) (*arrow.Schema, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty schema")
	}
	s, err := flight.DeserializeSchema(b, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", err)
	}
	return s, nil
}

// FieldsSchema is a schema of the given types named arg0, arg1, ...
// (nullable).
func FieldsSchema(prefix string, types []arrow.DataType) *arrow.Schema {
	fs := make([]arrow.Field, len(types))
	for i, t := range types {
		fs[i] = arrow.Field{Name: fmt.Sprintf("%s%d", prefix, i), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// SameSchema checks that got has want's column names and types (nullability
// and metadata are not compared).
func SameSchema(want, got *arrow.Schema) error {
	if want.NumFields() != got.NumFields() {
		return fmt.Errorf("%d columns, want %d (%s)", got.NumFields(), want.NumFields(), want)
	}
	for i := range want.NumFields() {
		w, g := want.Field(i), got.Field(i)
		if !arrow.TypeEqual(w.Type, g.Type) {
			return fmt.Errorf("column %d (%s) is %s, want %s", i, w.Name, g.Type, w.Type)
		}
	}
	return nil
}
