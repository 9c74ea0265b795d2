#!/usr/bin/env bash
# Regenerates the Python protobuf and gRPC modules under arbalest/_proto/
# (committed) with the project venv's grpc_tools (grpcio-tools==1.76.0,
# protoc 31.1: the code needs protobuf >= 6.31.1, < 7 at run time).
#
# Sources:
#   plugins/proto/arbalest/plugin/v1/plugin.proto        the plugin protocol
#   sdk/python/proto/arrow/flight/protocol/*.proto        our Flight subset
#   go-plugin v1.7.0 internal/plugin/*.proto              broker, controller, stdio
#                                                         (from the Go module cache)
# grpc.health.v1 comes from the grpcio-health-checking package and the
# Substrait messages from substrait-protobuf; neither is generated here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
goplugin_version=v1.7.0

if [ "$("$py" -c 'import grpc_tools, importlib.metadata as m; print(m.version("grpcio-tools"))')" != "1.76.0" ]; then
	echo "gen_proto.sh: $py needs grpcio-tools==1.76.0" >&2
	exit 1
fi

modcache=$(cd "$root" && go env GOMODCACHE)
goplugin=$modcache/github.com/hashicorp/go-plugin@$goplugin_version
if [ ! -d "$goplugin" ]; then
	(cd "$root" && go mod download "github.com/hashicorp/go-plugin@$goplugin_version")
fi

out=$here/arbalest/_proto
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # gen INCLUDE_DIR FILE...
	local inc=$1
	shift
	"$py" -m grpc_tools.protoc -I "$inc" --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" "$@"
}
gen "$root/plugins/proto" arbalest/plugin/v1/plugin.proto
gen "$here/proto" arrow/flight/protocol/flight_subset.proto
gen "$goplugin/internal" plugin/grpc_broker.proto plugin/grpc_controller.proto plugin/grpc_stdio.proto

# Flatten into one package and make the generated imports package-relative
# (protoc writes "from arbalest.plugin.v1 import plugin_pb2", which would
# resolve against the top-level package).
find "$out" -maxdepth 1 -name '*_pb2*.py*' -delete
find "$tmp" -name '*_pb2*.py*' | while read -r f; do
	sed -E 's/^from (arbalest\.plugin\.v1|arrow\.flight\.protocol|plugin) import ([a-z_0-9]+_pb2)/from arbalest._proto import \2/' "$f" >"$out/$(basename "$f")"
done
ls "$out"
