"""The Arbalest Python executor: a worker in any Arbalest cluster, on the
protocol of docs/protocol.md, next to the Go executors.

Start it with ``python -m arbalest_worker --scheduler HOST:PORT``.
"""

__version__ = "0.1.0"
