"""Writes the generated data files of the sqllogictest corpus.

Run from this folder with a Python that has pyarrow:
    python make_data.py
It writes orders.parquet, and big.csv plus big.parquet (the same 1500 rows;
the Parquet file has several row groups). The output is deterministic; the
files are committed next to this script. The other CSV files are written by
hand.
"""
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq


def orders():
    rows = [
        # o_id, cust, amount, odate, ts, flag, qty, price
        (1, "acme", Decimal("100.50"), dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 9, 30), True, 3, 33.5),
        (2, "acme", Decimal("20.00"), dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 23, 0), False, 1, 20.0),
        (3, "globex", Decimal("999.99"), dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 12, 15, 30), True, 10, 99.999),
        (4, "globex", Decimal("-15.25"), dt.date(2023, 12, 31), dt.datetime(2023, 12, 31, 0, 0), None, -1, 15.25),
        (5, "", Decimal("0.00"), dt.date(2024, 3, 1), dt.datetime(2024, 3, 1, 1, 2, 3), False, 0, 0.0),
        (6, None, Decimal("42.42"), None, None, True, None, None),
        (7, "initech", None, dt.date(2024, 3, 15), dt.datetime(2024, 3, 15, 14, 45), True, 7, 1.25),
        (8, "acme", Decimal("100.50"), dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 18, 0), True, 3, 33.5),
        (9, "umbrella", Decimal("12345678.90"), dt.date(2022, 6, 30), dt.datetime(2022, 6, 30, 6, 0), False, 2, -7.5),
        (10, "initech", Decimal("7.77"), dt.date(2024, 3, 15), dt.datetime(2024, 3, 15, 8, 0), False, 5, 2.5),
    ]
    cols = list(zip(*rows))
    schema = pa.schema([
        ("o_id", pa.int64()),
        ("cust", pa.string()),
        ("amount", pa.decimal128(10, 2)),
        ("odate", pa.date32()),
        ("ts", pa.timestamp("us")),
        ("flag", pa.bool_()),
        ("qty", pa.int32()),
        ("price", pa.float64()),
    ])
    arrays = [pa.array(c, type=f.type) for c, f in zip(cols, schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def big():
    """1500 rows with repeating keys, negative values, NULLs and ties."""
    n = 1500
    ids = list(range(1, n + 1))
    k = [i % 37 for i in ids]
    v = [None if i % 101 == 0 else (i * 7919) % 1000 - 500 for i in ids]
    s = ["" if i % 97 == 0 else None if i % 89 == 0 else "s%d" % (i % 13) for i in ids]
    d = [Decimal((i * 31) % 20000 - 10000).scaleb(-2) for i in ids]
    schema = pa.schema([
        ("id", pa.int32()),
        ("k", pa.int32()),
        ("v", pa.int32()),
        ("s", pa.string()),
        ("d", pa.decimal128(10, 2)),
    ])
    cols = [ids, k, v, s, d]
    arrays = [pa.array(c, type=f.type) for c, f in zip(cols, schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_csv(table, path):
    """Writes table as CSV: NULL as an empty field, the empty string as \"\"."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(table.column_names) + "\n")
        for row in zip(*(table.column(i).to_pylist() for i in range(table.num_columns))):
            out = []
            for v in row:
                if v is None:
                    out.append("")
                elif v == "":
                    out.append('""')
                else:
                    out.append(str(v))
            f.write(",".join(out) + "\n")


if __name__ == "__main__":
    pq.write_table(orders(), "orders.parquet", compression="zstd")
    b = big()
    pq.write_table(b, "big.parquet", compression="zstd", row_group_size=400)
    write_csv(b, "big.csv")
