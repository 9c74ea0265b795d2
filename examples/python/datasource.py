"""A data source for Arbalest, in Python: a generated table of numbered rows.

    CREATE EXTERNAL TABLE numbers STORED AS numbers OPTIONS (rows '100000');
    SELECT id, label FROM numbers WHERE id >= 500 AND category = 'odd' LIMIT 10;

Each row i (0 <= i < rows) is (id = i, x = i / 8, label = 'row-<i>',
category = 'even' or 'odd'). The source takes over what it can:

- projection: only the requested columns are built;
- filters: comparisons of id with a constant narrow the id range; simple
  comparisons of the other columns are applied while reading; both are
  exact, so the engine drops them (anything else is left to the engine);
- limit: each split stops after that many rows;
- splits: the id range is cut into as many parts as the engine would like.

A split is JSON: everything needed to read it in any process.
"""

import json

import pyarrow as pa
import pyarrow.compute as pc

import arbalest

SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("x", pa.float64(), nullable=False),
    pa.field("label", pa.string(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
])

BATCH_ROWS = 64 * 1024

# Simple filters applied while reading: op -> how to test a column.
_OPS = {
    "==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
    ">": pc.greater, ">=": pc.greater_equal,
}


def _rows(table):
    try:
        n = int(table.options.get("rows", "1000"))
    except ValueError:
        raise ValueError(f"numbers: option rows={table.options['rows']!r} is not an integer") from None
    if n < 0:
        raise ValueError(f"numbers: option rows={n} is negative")
    return n


class Numbers(arbalest.DataSource):
    name = "numbers"

    def schema(self, table):
        _rows(table)  # fail early on a bad option
        return SCHEMA

    def statistics(self, table):
        return arbalest.Statistics(row_count=_rows(table))

    def plan(self, table, projection, filters, limit, parallelism):
        lo, hi = 0, _rows(table)
        verdicts, kept, explained = [], [], []
        for f in filters:
            verdict = arbalest.Verdict.UNSUPPORTED
            if f.is_simple and f.op in _OPS and _comparable(f.column, f.value):
                if f.column == "id" and isinstance(f.value, int):
                    lo, hi = _narrow(lo, hi, f.op, f.value)
                kept.append([f.column, f.op, f.value])
                verdict = arbalest.Verdict.EXACT
                explained.append(str(f))
            verdicts.append(verdict)
        columns = projection if projection is not None else SCHEMA.names
        hi = max(lo, hi)
        step = max(1, -(-(hi - lo) // parallelism))
        splits = []
        for start in range(lo, hi, step):
            end = min(hi, start + step)
            splits.append(arbalest.Split(
                json.dumps({"start": start, "end": end, "columns": columns, "filters": kept,
                            "limit": limit}).encode(),
                row_count=end - start))
        explain = f"ids [{lo}, {hi}) in {len(splits)} splits"
        if explained:
            explain += ", filters: " + " AND ".join(explained)
        if limit is not None:
            explain += f", limit {limit}"
        return arbalest.Plan(splits=splits, verdicts=verdicts, explain=explain, row_count=hi - lo)

    def read(self, split):
        s = json.loads(split)
        left = s["limit"]
        for start in range(s["start"], s["end"], BATCH_ROWS):
            if left is not None and left <= 0:
                return
            batch = _generate(start, min(s["end"], start + BATCH_ROWS))
            for column, op, value in s["filters"]:
                batch = batch.filter(_OPS[op](batch.column(column), pa.scalar(value, batch.schema.field(column).type)))
            if left is not None:
                batch = batch.slice(0, left)
                left -= batch.num_rows
            yield batch.select(s["columns"])


def _comparable(column, value):
    """Whether read() can compare the column with the value."""
    if isinstance(value, bool) or column not in SCHEMA.names:
        return False
    t = SCHEMA.field(column).type
    if pa.types.is_integer(t):
        return isinstance(value, int)
    if pa.types.is_floating(t):
        return isinstance(value, (int, float))
    return isinstance(value, str)


def _narrow(lo, hi, op, v):
    if op == "==":
        return max(lo, v), min(hi, v + 1)
    if op == ">":
        return max(lo, v + 1), hi
    if op == ">=":
        return max(lo, v), hi
    if op == "<":
        return lo, min(hi, v)
    if op == "<=":
        return lo, min(hi, v + 1)
    return lo, hi


def _generate(start, end):
    ids = pa.array(range(start, end), type=pa.int64())
    return pa.record_batch([
        ids,
        pc.divide(pc.cast(ids, pa.float64()), 8.0),
        pc.binary_join_element_wise("row-", pc.cast(ids, pa.string()), ""),
        pc.if_else(pc.equal(pc.bit_wise_and(ids, 1), 0), "even", "odd"),
    ], schema=SCHEMA)


plugin = arbalest.Plugin("numbers", version="1.0.0", source=Numbers())

if __name__ == "__main__":
    arbalest.serve(plugin)
