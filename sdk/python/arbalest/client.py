"""A Python client of an Arbalest cluster, over Flight SQL (ADBC).

    import arbalest

    with arbalest.connect("grpc://127.0.0.1:32010", username="analyst", password="secret") as conn:
        conn.sql("CREATE EXTERNAL TABLE lineitem STORED AS PARQUET LOCATION '/data/lineitem.parquet'")
        table = conn.sql("SELECT l_returnflag, count(*) AS n FROM lineitem GROUP BY 1")  # a pyarrow.Table

The scheduler serves Flight SQL when started with ``--flightsql HOST:PORT``
(docs/flightsql.md). The connection is one Arbalest session: tables, views
and settings made on it are seen by its later statements only.

The ADBC Flight SQL driver (``pip install adbc-driver-flightsql
adbc-driver-manager``) is imported only when a connection is made, so
plugins, which import ``arbalest`` too, do not need it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Optional, Sequence, Union

__all__ = ["connect", "Connection", "ClientError"]

# The URI schemes of the ADBC Flight SQL driver, and ours that map to them.
_SCHEMES = {
    "grpc": "grpc",
    "grpc+tcp": "grpc+tcp",
    "grpc+tls": "grpc+tls",
    "flightsql": "grpc",
    "flightsql+tls": "grpc+tls",
}


class ClientError(Exception):
    """A connection could not be made or used (bad URI, login refused,
    driver missing). Errors of statements are the driver's PEP 249
    exceptions (``adbc_driver_manager.ProgrammingError`` and so on), whose
    message is the server's."""


def _driver_uri(uri: str) -> str:
    """The driver's URI for ``uri``: ``HOST:PORT``, ``grpc://HOST:PORT``,
    ``grpc+tls://HOST:PORT`` or ``flightsql[+tls]://HOST:PORT``."""
    if not isinstance(uri, str) or not uri.strip():
        raise ClientError("arbalest.connect: give the Flight SQL address, e.g. grpc://127.0.0.1:32010")
    uri = uri.strip()
    if "://" not in uri:
        uri = "grpc://" + uri
    parts = urllib.parse.urlsplit(uri)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ClientError(
            f"arbalest.connect: unsupported scheme {parts.scheme!r} in {uri!r} "
            f"(use one of {', '.join(sorted(_SCHEMES))}, or HOST:PORT)"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise ClientError(f"arbalest.connect: bad port in {uri!r}: {e}") from None
    if not parts.hostname or port is None:
        raise ClientError(f"arbalest.connect: {uri!r} needs a host and a port (HOST:PORT)")
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise ClientError(
            f"arbalest.connect: {uri!r} has a path, query or user; give credentials with username= and password="
        )
    return f"{scheme}://{parts.netloc}"


def _import_driver():
    try:
        import adbc_driver_flightsql
        import adbc_driver_flightsql.dbapi
        import adbc_driver_manager
    except ImportError as e:
        raise ClientError(
            "arbalest.connect needs the ADBC Flight SQL driver: "
            "pip install adbc-driver-flightsql adbc-driver-manager "
            f"(import failed: {e})"
        ) from None
    return adbc_driver_flightsql, adbc_driver_manager


def connect(
    uri: str,
    username: Optional[str] = None,
    password: Optional[str] = None,
    *,
    session: Optional[str] = None,
    tls_root_certs: Optional[str] = None,
    timeout: Optional[float] = None,
) -> "Connection":
    """Connect to an Arbalest scheduler's Flight SQL server.

    ``uri`` is ``HOST:PORT``, ``grpc://HOST:PORT`` (or ``flightsql://``),
    or ``grpc+tls://HOST:PORT`` when the cluster serves TLS. ``username``
    and ``password`` log in with basic auth (both or neither; without them
    the server must allow anonymous clients, which it does on loopback
    only). ``session`` names the Arbalest session of an anonymous client
    (logged-in clients get their own). ``tls_root_certs`` is the PEM of the
    CA that signed the cluster's certificate; ``timeout`` (seconds) bounds
    each query, update and fetch.
    """
    if (username is None) != (password is None):
        raise ClientError("arbalest.connect: give both username and password, or neither")
    target = _driver_uri(uri)
    fsql, manager = _import_driver()
    db_kwargs: dict[str, str] = {}
    if username is not None:
        db_kwargs[manager.DatabaseOptions.USERNAME.value] = username
        db_kwargs[manager.DatabaseOptions.PASSWORD.value] = password
    if session is not None:
        db_kwargs[fsql.DatabaseOptions.RPC_CALL_HEADER_PREFIX.value + "x-arbalest-session"] = session
    if tls_root_certs is not None:
        db_kwargs[fsql.DatabaseOptions.TLS_ROOT_CERTS.value] = tls_root_certs
    if timeout is not None:
        if timeout <= 0:
            raise ClientError(f"arbalest.connect: timeout must be positive (got {timeout})")
        for opt in (fsql.DatabaseOptions.TIMEOUT_QUERY, fsql.DatabaseOptions.TIMEOUT_UPDATE, fsql.DatabaseOptions.TIMEOUT_FETCH):
            db_kwargs[opt.value] = str(float(timeout))
    try:
        # autocommit: the server has no transactions, and the driver would
        # otherwise try to begin one.
        conn = fsql.dbapi.connect(target, db_kwargs=db_kwargs, autocommit=True)
    except manager.Error as e:
        raise ClientError(f"arbalest.connect: connecting to {target}: {e}") from e
    return Connection(conn, target)


class Connection:
    """A connection to Arbalest: one session on the cluster.

    ``sql`` and ``substrait`` return ``pyarrow.Table``; ``cursor`` gives
    the PEP 249 cursor of the ADBC driver for row-wise access. Close it (or
    use ``with``) to release the driver's resources.
    """

    def __init__(self, adbc_conn: Any, uri: str):
        self._conn = adbc_conn
        self.uri = uri

    @property
    def adbc(self) -> Any:
        """The underlying ``adbc_driver_manager.dbapi.Connection``."""
        self._check_open()
        return self._conn

    def _check_open(self) -> None:
        if self._conn is None:
            raise ClientError(f"arbalest: the connection to {self.uri} is closed")

    def cursor(self) -> Any:
        """A PEP 249 cursor of this connection (same session)."""
        self._check_open()
        return self._conn.cursor()

    def sql(self, query: str, parameters: Optional[Sequence[Any]] = None):
        """Run one SQL statement and return its result as a ``pyarrow.Table``.

        Parameters are written ``?`` or ``$1, $2, ...`` and bound as typed
        values, never as SQL text. DDL (``CREATE EXTERNAL TABLE``, ``CREATE
        VIEW``, ``SET``) returns its (possibly empty) result too.
        """
        if not isinstance(query, str):
            raise TypeError(f"sql: the statement must be a str (got {type(query).__name__}); use substrait() for plans")
        return self._run(query, parameters)

    def substrait(self, plan: Union[bytes, bytearray, memoryview, str]):
        """Run a Substrait plan and return its result as a ``pyarrow.Table``.

        ``plan`` is a serialized ``substrait.Plan`` (binary protobuf) or its
        JSON (a ``str``, or bytes starting with ``{``). Its named tables are
        looked up in this connection's session.
        """
        if isinstance(plan, str):
            plan = plan.encode("utf-8")
        elif isinstance(plan, (bytearray, memoryview)):
            plan = bytes(plan)
        elif not isinstance(plan, bytes):
            raise TypeError(f"substrait: the plan must be bytes or a JSON str (got {type(plan).__name__})")
        if not plan:
            raise ValueError("substrait: the plan is empty")
        return self._run(plan, None)

    def execute(self, statement: str, parameters: Optional[Sequence[Any]] = None) -> None:
        """Run a statement for its effect (DDL, SET), discarding any result."""
        self.sql(statement, parameters)

    def _run(self, operation: Union[str, bytes], parameters: Optional[Sequence[Any]]):
        self._check_open()
        cur = self._conn.cursor()
        try:
            cur.execute(operation, parameters)
            return cur.fetch_arrow_table()
        finally:
            cur.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"<arbalest.Connection {self.uri} ({state})>"
