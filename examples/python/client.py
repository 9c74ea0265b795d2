"""Query an Arbalest cluster from Python: results come back as pyarrow tables.

Start a cluster with Flight SQL, then run this with the TPC-H data:

    arbalest standalone --flightsql 127.0.0.1:32010 &
    python examples/python/client.py 127.0.0.1:32010 data/sf0.1

With credentials (``arbalest scheduler --flightsql-user analyst`` and
``$ARBALEST_FLIGHTSQL_PASSWORD``), pass ``--user analyst`` and set
``ARBALEST_PASSWORD``. Needs ``pip install adbc-driver-flightsql
adbc-driver-manager`` besides the arbalest package (sdk/python).
"""

import argparse
import os
import sys

import arbalest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address", help="the scheduler's Flight SQL address, HOST:PORT or grpc[+tls]://HOST:PORT")
    ap.add_argument("data", help="a directory of TPC-H Parquet files (lineitem.parquet, ...)")
    ap.add_argument("--user", help="Flight SQL user (the password is read from $ARBALEST_PASSWORD)")
    args = ap.parse_args()

    password = os.environ.get("ARBALEST_PASSWORD") if args.user else None
    if args.user and password is None:
        sys.exit("set ARBALEST_PASSWORD for --user")
    lineitem = os.path.abspath(os.path.join(args.data, "lineitem.parquet"))

    with arbalest.connect(args.address, username=args.user, password=password) as conn:
        # Tables registered on a connection belong to its session.
        conn.execute(f"CREATE EXTERNAL TABLE lineitem STORED AS PARQUET LOCATION '{lineitem}'")

        table = conn.sql(
            """
            SELECT l_returnflag, l_linestatus, count(*) AS orders, sum(l_extendedprice) AS revenue
            FROM lineitem
            WHERE l_shipdate <= DATE '1998-09-02'
            GROUP BY l_returnflag, l_linestatus
            ORDER BY l_returnflag, l_linestatus
            """
        )
        print(table.to_pandas() if _has_pandas() else table)

        # Parameters are bound as values, never spliced into the SQL.
        small = conn.sql("SELECT count(*) AS n FROM lineitem WHERE l_quantity < ?", (5,))
        print("lines with fewer than 5 items:", small.column("n")[0].as_py())


def _has_pandas():
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
