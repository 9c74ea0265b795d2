"""Arbalest plugins in Python: user-defined functions and data sources.

A Python file of functions, a data source, or both runs as an Arbalest
plugin with no Go code: the host starts ``python -m arbalest.plugin FILE``
(or the file itself, when it ends with ``arbalest.serve()``) and talks to it
over gRPC with hashicorp/go-plugin's protocol and Arrow Flight.

    import arbalest
    import pyarrow as pa
    import pyarrow.compute as pc

    @arbalest.udf(args=[pa.string()], returns=pa.int64())
    def word_count(s):
        return pc.list_value_length(pc.utf8_split_whitespace(s))

    if __name__ == "__main__":
        arbalest.serve()
"""

from .client import ClientError, Connection, connect
from .filters import Filter
from .functions import AggregateFunction, FunctionError, ScalarFunction, udaf, udf
from .server import Plugin, PluginError, discover, serve
from .source import DataSource, Plan, Split, Statistics, Table, Verdict

__version__ = "0.1.0"

__all__ = [
    "udf",
    "udaf",
    "ScalarFunction",
    "AggregateFunction",
    "FunctionError",
    "DataSource",
    "Table",
    "Plan",
    "Split",
    "Verdict",
    "Statistics",
    "Filter",
    "Plugin",
    "PluginError",
    "serve",
    "discover",
    "connect",
    "Connection",
    "ClientError",
]
