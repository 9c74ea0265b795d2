#!/usr/bin/env bash
# Regenerates the Python protobuf and gRPC modules under
# arbalest_worker/_proto/ (committed) with the project venv's grpc_tools
# (grpcio-tools==1.76.0, protoc 31.1: the code needs protobuf >= 6.31.1, < 7
# at run time), the same way as sdk/python/gen_proto.sh.
#
# Sources:
#   substrait/proto/arbalest/cluster/v1/cluster.proto   the cluster protocol
#   substrait/proto/arbalest/plan/v1/plan.proto         the fragment details
# The Substrait messages come from substrait-protobuf (not generated here).
# Flight needs no generated code: the executor serves DoGet through a
# generic handler (arbalest_worker/flight.py) and reads with pyarrow.flight.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}

if [ "$("$py" -c 'import grpc_tools, importlib.metadata as m; print(m.version("grpcio-tools"))')" != "1.76.0" ]; then
	echo "gen_proto.sh: $py needs grpcio-tools==1.76.0" >&2
	exit 1
fi

out=$here/arbalest_worker/_proto
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" -m grpc_tools.protoc -I "$root/substrait/proto" --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
	arbalest/cluster/v1/cluster.proto arbalest/plan/v1/plan.proto

# Flatten into one package with package-relative imports (protoc writes
# "from arbalest.cluster.v1 import cluster_pb2", which would resolve against
# the SDK's top-level arbalest package).
find "$out" -maxdepth 1 -name '*_pb2*.py*' -delete
find "$tmp" -name '*_pb2*.py*' | while read -r f; do
	sed -E 's/^from arbalest\.(cluster|plan)\.v1 import ([a-z_0-9]+_pb2)/from arbalest_worker._proto import \2/' "$f" >"$out/$(basename "$f")"
done
rm -f "$out/plan_pb2_grpc.py"  # plan.proto declares no service
ls "$out"
