"""DataFusion side of the Substrait interop suite (conformance/interop).

usage:
  python datafusion_interop.py produce DATA_DIR OUT_DIR qNN.sql [...]
      Plans each TPC-H query with DataFusion over the Parquet tables in
      DATA_DIR and writes its Substrait plan (binary protobuf) to
      OUT_DIR/qNN.pb. Prints JSON {"<n>": null | "<error>"}.
  python datafusion_interop.py consume DATA_DIR qNN.pb [...]
      Runs each Substrait plan with DataFusion's consumer over the same
      tables. Prints JSON {"<n>": {"rows": [[cell text or null, ...]]} |
      {"error": "<error>"}}.

Cells are rendered like conformance/tpch/duckdb_answers.py so that the Go
side compares them with the same rule.
"""
import datetime
import decimal
import json
import os
import re
import sys

from datafusion import SessionConfig, SessionContext
from datafusion.substrait import Consumer, Serde

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


def context(data):
    # Two partitions: the machine is shared, and the answers do not depend on it.
    ctx = SessionContext(SessionConfig().with_target_partitions(2))
    for t in TABLES:
        path = os.path.join(data, t + ".parquet")
        if not os.path.exists(path):
            path = os.path.join(data, t)
        ctx.register_parquet(t, path)
    return ctx


def cell(v):
    if v is None:
        return None
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    return str(v)


def statements(text):
    """Splits a query file into statements, dropping comment lines."""
    out = []
    for stmt in text.split(";"):
        body = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
        if body:
            out.append(body)
    return out


def datafusion_sql(text):
    # DataFusion's parser does not take the interval field precision of
    # `interval '90' day (3)` (Q1); `interval '90 days'` is the same value.
    return re.sub(r"interval\s+'(\d+)'\s+day\s*\(\s*\d+\s*\)", r"interval '\1 days'", text, flags=re.I)


def query_number(path):
    return str(int(re.search(r"q(\d+)\.(sql|pb)$", path).group(1)))


def produce(data, out_dir, files):
    report = {}
    for f in files:
        n = query_number(f)
        try:
            ctx = context(data)
            query = None
            for stmt in statements(datafusion_sql(open(f).read())):
                low = stmt.lower()
                if low.startswith("create view"):
                    # Q15: the view lives in this context only; the plan of
                    # the query inlines its definition.
                    ctx.sql(stmt).collect()
                elif low.startswith("drop view"):
                    continue  # dropping it before serializing would lose it
                elif query is None:
                    query = stmt
            if query is None:
                raise ValueError("no query in " + f)
            b = Serde.serialize_bytes(query, ctx)
            with open(os.path.join(out_dir, "q%02d.pb" % int(n)), "wb") as w:
                w.write(b)
            report[n] = None
        except Exception as e:  # reported per query, the run goes on
            report[n] = "%s: %s" % (type(e).__name__, e)
    json.dump(report, sys.stdout)


def consume(data, files):
    ctx = context(data)
    report = {}
    for f in files:
        n = query_number(f)
        try:
            plan = Serde.deserialize_bytes(open(f, "rb").read())
            lp = Consumer.from_substrait_plan(ctx, plan)
            table = ctx.create_dataframe_from_logical_plan(lp).to_arrow_table()
            rows = [[cell(v) for v in r.values()] for r in table.to_pylist()] if table.num_columns else []
            # to_pylist keys rows by column name, which loses duplicate names.
            if table.num_columns and len(table.column_names) != len(set(table.column_names)):
                cols = [c.to_pylist() for c in table.columns]
                rows = [[cell(c[i]) for c in cols] for i in range(table.num_rows)]
            report[n] = {"rows": rows}
        except Exception as e:
            report[n] = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump(report, sys.stdout)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("produce", "consume"):
        sys.exit(__doc__)
    if sys.argv[1] == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        consume(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    main()
