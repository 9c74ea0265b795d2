"""Generated protobuf and gRPC modules (see gen_proto.sh); do not edit."""
