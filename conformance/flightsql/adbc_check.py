"""Drive Arbalest's Flight SQL server with the ADBC Flight SQL driver.

Run by TestADBC (adbc_test.go): it reads a JSON request on stdin
(uri, username, password, data directory, queries) and writes a JSON
answer on stdout: the tables adbc_get_objects lists (with their column
counts), and the rows of each query as text for the Go side to compare
with the embedded engine. It checks on its own what it can (a wrong
password is refused, the tables are listed, parameters bind) and exits
non-zero with a message when something is wrong.
"""

import datetime
import decimal
import json
import sys

import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_manager


def text(v):
    """A value as the embedded engine prints it (None is SQL NULL)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return str(v)


def rows_of(table):
    cols = [c.to_pylist() for c in table.columns]
    return [[text(col[r]) for col in cols] for r in range(table.num_rows)]


def connect(req, password):
    return flightsql.connect(
        req["uri"],
        db_kwargs={
            adbc_driver_manager.DatabaseOptions.USERNAME.value: req["username"],
            adbc_driver_manager.DatabaseOptions.PASSWORD.value: password,
        },
        autocommit=True,
    )


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def main():
    req = json.load(sys.stdin)
    out = {}

    # A wrong password is refused at connect (the driver logs in then).
    try:
        bad = connect(req, req["password"] + "-wrong")
        with bad.cursor() as cur:
            cur.execute("SELECT 1")
        fail("a wrong password was accepted")
    except adbc_driver_manager.Error as e:
        if "password" not in str(e).lower() and "unauthenticated" not in str(e).lower():
            fail(f"wrong password: unexpected error {e!r}")

    with connect(req, req["password"]) as conn:
        with conn.cursor() as cur:
            for name, location in req["tables"].items():
                loc = location.replace("'", "''")
                cur.execute(f"CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{loc}'")
                cur.fetchall()

        objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
        tables = {}
        for catalog in objects:
            for schema in catalog["catalog_db_schemas"] or []:
                for table in schema["db_schema_tables"] or []:
                    tables[table["table_name"]] = {
                        "catalog": catalog["catalog_name"],
                        "schema": schema["db_schema_name"],
                        "type": table["table_type"],
                        "columns": [c["column_name"] for c in table["table_columns"] or []],
                    }
        for name in req["tables"]:
            if name not in tables:
                fail(f"adbc_get_objects does not list {name}: {sorted(tables)}")
        out["tables"] = tables

        info = conn.adbc_get_info()
        out["vendor"] = info.get("vendor_name")

        out["queries"] = {}
        with conn.cursor() as cur:
            for key, sql in req["queries"].items():
                cur.execute(sql)
                out["queries"][key] = rows_of(cur.fetch_arrow_table())

            # Parameters go through a prepared statement.
            cur.execute(
                "SELECT count(*) AS n FROM lineitem WHERE l_quantity < ? AND l_returnflag = ?",
                parameters=(24, "R"),
            )
            out["param"] = rows_of(cur.fetch_arrow_table())

            # An engine error comes back with its message.
            try:
                cur.execute("SELECT no_such_column FROM lineitem")
                cur.fetchall()
                fail("a bad query succeeded")
            except adbc_driver_manager.Error as e:
                out["error"] = str(e)

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
