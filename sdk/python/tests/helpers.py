"""Shared test setup: makes the SDK importable without installing it, and
gives the repository paths the tests use."""

import os
import sys

SDK = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPO = os.path.abspath(os.path.join(SDK, "..", ".."))
EXAMPLES = os.path.join(REPO, "examples", "python")

# gRPC's C core logs failed TLS handshakes (which some tests provoke) to
# stderr; set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

if SDK not in sys.path:
    sys.path.insert(0, SDK)


def example(name: str) -> str:
    return os.path.join(EXAMPLES, name)


def plugin_env(**extra) -> dict:
    """The environment of a plugin process started by the tests."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SDK + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for k in ("PLUGIN_CLIENT_CERT", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_PROTOCOL_VERSIONS",
              "ARBALEST_PLUGIN", "ARBALEST_PLUGIN_TLS", "PLUGIN_MULTIPLEX_GRPC"):
        env.pop(k, None)
    env.update(extra)
    return env
