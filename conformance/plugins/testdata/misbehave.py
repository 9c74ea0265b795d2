"""A Python plugin that misbehaves on demand, for the failure tests.

misbehave(mode) is a scalar function: 'ok' gives 1, 'error' raises,
'wrong_type' returns strings, 'wrong_length' returns one row too many,
'crash' ends the process, 'hang' never answers. The data source 'rows'
reads 'rows' rows of (id int64); its option 'mode' chooses: 'crash' and
'hang' after the first batch, 'wrong_schema' sends a string column,
'error' raises in read().
"""

import json
import os
import time

import pyarrow as pa

import arbalest

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False)])


@arbalest.udf(args=[pa.string()], returns=pa.int64(), volatility="volatile")
def misbehave(mode):
    m = mode[0].as_py()
    n = len(mode)
    if m == "error":
        raise ValueError("misbehave was asked to fail")
    if m == "wrong_type":
        return pa.array(["x"] * n)
    if m == "wrong_length":
        return pa.array([1] * (n + 1), type=pa.int64())
    if m == "crash":
        os._exit(3)
    if m == "hang":
        time.sleep(3600)
    return pa.array([1] * n, type=pa.int64())


class Rows(arbalest.DataSource):
    def schema(self, table):
        return SCHEMA

    def plan(self, table, projection, filters, limit, parallelism):
        n = int(table.options.get("rows", "1000"))
        ticket = json.dumps({"rows": n, "mode": table.options.get("mode", "")}).encode()
        return arbalest.Plan(splits=[arbalest.Split(ticket)], verdicts=[arbalest.Verdict.UNSUPPORTED] * len(filters))

    def read(self, split):
        s = json.loads(split)
        mode = s["mode"]
        if mode == "error":
            raise RuntimeError("rows: read was asked to fail")
        for start in range(0, s["rows"], 1000):
            if start > 0 and mode == "crash":
                os._exit(4)
            if start > 0 and mode == "hang":
                time.sleep(3600)
            ids = pa.array(range(start, min(s["rows"], start + 1000)), type=pa.int64())
            if mode == "wrong_schema":
                yield pa.record_batch([pa.array([str(i) for i in ids.to_pylist()])], names=["id"])
            else:
                yield pa.record_batch([ids], schema=SCHEMA)


if __name__ == "__main__":
    arbalest.serve(source=Rows(), functions=[misbehave], name="misbehave")
