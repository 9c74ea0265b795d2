"""Drive Arbalest through the Python SDK's client (arbalest.connect).

Run by TestPythonClient (client_test.go): it reads a JSON request on stdin
(uri, username, password, tables, queries, Substrait plans in hex) and
writes a JSON answer on stdout with the rows of each query and plan as
text, for the Go side to compare with the embedded engine. What it can
check on its own (a wrong password and a bad URI are refused with a
ClientError, a closed connection refuses work, a DDL is seen by the next
statement) it checks, exiting non-zero with a message.
"""

import datetime
import decimal
import json
import sys

import pyarrow as pa

import arbalest


def text(v):
    """A value as the embedded engine prints it (None is SQL NULL)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (datetime.date, decimal.Decimal)):
        return str(v)
    return str(v)


def rows_of(table):
    if not isinstance(table, pa.Table):
        fail(f"expected a pyarrow.Table, got {type(table).__name__}")
    cols = [c.to_pylist() for c in table.columns]
    return [[text(col[r]) for col in cols] for r in range(table.num_rows)]


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def expect_client_error(what, fn, needle):
    try:
        fn()
    except arbalest.ClientError as e:
        if needle.lower() not in str(e).lower():
            fail(f"{what}: error {e!r} does not mention {needle!r}")
        return str(e)
    fail(f"{what}: no ClientError")


def main():
    req = json.load(sys.stdin)
    out = {}
    uri, user, pw = req["uri"], req["username"], req["password"]

    out["wrong_password"] = expect_client_error(
        "wrong password", lambda: arbalest.connect(uri, user, pw + "x"), "unauthenticated"
    )
    expect_client_error("bad scheme", lambda: arbalest.connect("http://" + uri.split("://")[1]), "scheme")
    expect_client_error("no port", lambda: arbalest.connect("grpc://localhost"), "port")
    expect_client_error("half credentials", lambda: arbalest.connect(uri, user), "both")

    with arbalest.connect(uri, username=user, password=pw) as conn:
        for name, loc in sorted(req["tables"].items()):
            loc = loc.replace("'", "''")
            conn.execute(f"CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{loc}'")
        out["queries"] = {k: rows_of(conn.sql(q)) for k, q in req["queries"].items()}
        out["param"] = rows_of(
            conn.sql("SELECT count(*) AS n FROM lineitem WHERE l_quantity < ? AND l_returnflag = ?", (24, "R"))
        )
        out["plans"] = {k: rows_of(conn.substrait(bytes.fromhex(p))) for k, p in req["plans"].items()}
        out["plans_json"] = {k: rows_of(conn.substrait(p)) for k, p in req["plans_json"].items()}
        conn.execute("CREATE VIEW few AS SELECT * FROM nation WHERE n_regionkey = 1")
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM few")
        out["view_count"] = cur.fetchone()[0]
        cur.close()
        try:
            conn.sql("SELECT no_such_column FROM nation")
            fail("a bad column was accepted")
        except arbalest.ClientError:
            fail("a statement's error should be the driver's, not a ClientError")
        except Exception as e:  # the driver's PEP 249 error
            out["error"] = str(e)
    expect_client_error("closed connection", lambda: conn.sql("SELECT 1"), "closed")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
