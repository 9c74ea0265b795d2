"""File scans of stage fragments: which files and row groups a task reads.

Every task of a stage must agree on the split, whichever executor (Go or
Python) runs it: task p of n reads split p, and each row is read by
exactly one task. The split is the Go executor's (workers/go/internal/scan):

- the files of a local_files item are the matches of the path (a file, a
  folder walked recursively for the format's extensions, skipping names
  that start with '.' or '_', or a glob), sorted by path;
- Parquet: the non-empty row groups of all files in order are dealt in
  contiguous runs of about equal rows over min(n, row groups) parts: a row
  group goes to the part its midpoint falls in. Then each task may skip
  the row groups of its part that the item's best_effort_filter proves
  hold no matching row (prune.py); the split does not depend on pruning;
- CSV, JSON, Arrow: the files are dealt over min(n, files) parts, largest
  first, each to the part with the fewest bytes so far; a part reads its
  files in name order.

Several items in one ReadRel are split independently (a union of scans).
"""

from __future__ import annotations

import glob as globmod
import os
from dataclasses import dataclass, field
from typing import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import UnsupportedPlan

__all__ = [
    "EXTENSIONS",
    "normalize_format",
    "list_files",
    "DataFile",
    "parquet_split",
    "file_split",
    "read_split",
    "ScanItem",
]

EXTENSIONS = {
    "parquet": (".parquet", ".parq", ".pq"),
    "csv": (".csv", ".tsv"),
    "json": (".json", ".jsonl", ".ndjson"),
    "arrow": (".arrow", ".arrows", ".ipc", ".feather"),
}

_ALIASES = {"parquet": "parquet", "csv": "csv", "tsv": "csv", "json": "json", "ndjson": "json", "jsonl": "json",
            "arrow": "arrow", "ipc": "arrow", "feather": "arrow", "arrows": "arrow"}


class ScanError(RuntimeError):
    """A table's files cannot be read (missing, corrupt, wrong columns)."""


def normalize_format(fmt: str) -> str:
    f = _ALIASES.get(fmt.strip().lower())
    if f is None:
        raise UnsupportedPlan(f"unknown file format {fmt!r} (expected parquet, csv, json or arrow)")
    return f


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int


def _is_glob(p: str) -> bool:
    return any(c in p for c in "*?[")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("_")


def list_files(fmt: str, location: str) -> list[DataFile]:
    """The data files of a table location, sorted by path (see the module
    doc). Raises ScanError when there is none."""
    if not location:
        raise ScanError("scan: empty table location")
    exts = EXTENSIONS[fmt]
    roots = [location]
    if _is_glob(location):
        roots = sorted(globmod.glob(location, include_hidden=True))
        if not roots:
            raise ScanError(f"scan: {location}: no file matches the pattern")
    out: list[DataFile] = []
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as e:
            raise ScanError(f"scan: {e}") from None
        if not os.path.isdir(root):
            out.append(DataFile(root, st.st_size))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
            for name in sorted(filenames):
                if _hidden(name) or not name.lower().endswith(exts):
                    continue
                p = os.path.join(dirpath, name)
                try:
                    out.append(DataFile(p, os.stat(p).st_size))
                except OSError as e:
                    raise ScanError(f"scan: {e}") from None
    if not out:
        raise ScanError(f"scan: {location}: no {fmt} files (looked for {', '.join(exts)})")
    out.sort(key=lambda f: f.path)
    dedup = [out[0]]
    for f in out[1:]:
        if f.path != dedup[-1].path:
            dedup.append(f)
    return dedup


def file_split(files: Sequence[DataFile], tasks: int, partition: int) -> list[int]:
    """The indexes (into files) that task `partition` of `tasks` reads, for
    formats split by file."""
    n = max(min(tasks, len(files)), 1)
    groups: list[list[int]] = [[] for _ in range(n)]
    sizes = [0] * n
    # Largest first, name order among equal sizes (a stable sort).
    order = sorted(range(len(files)), key=lambda i: -files[i].size)
    for i in order:
        best = min(range(n), key=lambda g: (sizes[g], g))
        groups[best].append(i)
        sizes[best] += files[i].size
    if partition >= n:
        return []
    return sorted(groups[partition])


def parquet_split(row_groups: Sequence[tuple[int, int, int]], tasks: int, partition: int) -> list[tuple[int, int]]:
    """The (file, row group) pairs that task `partition` of `tasks` reads,
    given the kept row groups as (file, row group, rows) in order."""
    np_ = max(1, min(tasks, len(row_groups)))
    total = sum(r[2] for r in row_groups)
    parts: list[list[tuple[int, int]]] = [[] for _ in range(np_)]
    i = 0
    acc = 0
    for p in range(np_):
        bound = float(total) * float(p + 1) / float(np_)
        start = i
        while i < len(row_groups):
            left = len(row_groups) - i
            if i > start and (left <= np_ - p - 1 or (p < np_ - 1 and float(acc) + float(row_groups[i][2]) / 2 > bound)):
                break
            f, rg, rows = row_groups[i]
            parts[p].append((f, rg))
            acc += rows
            i += 1
    if partition >= np_:
        return []
    return parts[partition]


@dataclass
class ScanItem:
    """One local_files item of a ReadRel, resolved for reading."""
    fmt: str
    location: str
    options: dict
    table: str
    # The columns the scan outputs (names and contract types, in order).
    schema: pa.Schema
    # Conjuncts of the best_effort_filter over the output columns, as
    # prune.Pred trees; empty when none can be used.
    prune: list = field(default_factory=list)


def _find_column(names: Sequence[str], want: str) -> int:
    """An exact match, else a unique case-insensitive one; -1 if absent."""
    if want in names:
        return list(names).index(want)
    found = -1
    for i, n in enumerate(names):
        if n.lower() == want.lower():
            if found >= 0:
                return -1
            found = i
    return found


def _conform(col: pa.ChunkedArray | pa.Array, target: pa.DataType, name: str, path: str, table: str) -> pa.ChunkedArray:
    """A column read from a file converted to its contract type: dictionary
    decoded, views and large strings to utf8/binary, decimals to the
    declared width, timestamps to the declared unit."""
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    if col.type.equals(target):
        return col
    t = col.type
    if pa.types.is_dictionary(t):
        col = pa.chunked_array([c.dictionary_decode() for c in col.chunks], type=t.value_type)
        if col.type.equals(target):
            return col
    try:
        return col.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise ScanError(f"scan: {path}: column {name!r} has type {col.type}, table {table} expects {target}: {e}") from None


def _select(tbl: pa.Table, schema: pa.Schema, path: str, table: str) -> pa.Table:
    cols = []
    for f in schema:
        k = _find_column(tbl.column_names, f.name)
        if k < 0:
            raise ScanError(f"scan: {path}: no column {f.name!r} (table {table} expects it)")
        cols.append(_conform(tbl.column(k), f.type, f.name, path, table))
    if not cols:
        raise UnsupportedPlan("a scan must read at least one column")
    return pa.Table.from_arrays(cols, schema=schema)


def _parquet_columns(pf: pq.ParquetFile, schema: pa.Schema, path: str, table: str) -> list[str]:
    names = pf.schema_arrow.names
    out = []
    for f in schema:
        k = _find_column(names, f.name)
        if k < 0:
            raise ScanError(f"scan: {path}: no column {f.name!r} (table {table} expects it)")
        out.append(names[k])
    return out


def read_split(item: ScanItem, tasks: int, partition: int) -> pa.Table:
    """The rows of item that task `partition` of `tasks` reads, with the
    item's schema (contract types)."""
    from . import prune

    files = list_files(item.fmt, item.location)
    pieces: list[pa.Table] = []
    if item.fmt == "parquet":
        opened = []
        kept: list[tuple[int, int, int]] = []
        for fi, df in enumerate(files):
            try:
                pf = pq.ParquetFile(df.path)
            except (OSError, pa.ArrowException) as e:
                raise ScanError(f"scan: {df.path}: not a readable Parquet file: {e}") from None
            cols = _parquet_columns(pf, item.schema, df.path, item.table)
            opened.append((pf, cols))
            md = pf.metadata
            for rg in range(md.num_row_groups):
                rgm = md.row_group(rg)
                if rgm.num_rows == 0:
                    continue
                kept.append((fi, rg, rgm.num_rows))
        mine = parquet_split(kept, tasks, partition)
        by_file: dict[int, list[int]] = {}
        for fi, rg in mine:
            pf, cols = opened[fi]
            if item.prune and not prune.may_match(item.prune, pf, pf.metadata.row_group(rg), item.schema, cols):
                continue
            by_file.setdefault(fi, []).append(rg)
        for fi in sorted(by_file):
            pf, cols = opened[fi]
            try:
                t = pf.read_row_groups(by_file[fi], columns=cols, use_threads=False)
            except (OSError, pa.ArrowException) as e:
                raise ScanError(f"scan: {files[fi].path}: {e}") from None
            pieces.append(_select(t, item.schema, files[fi].path, item.table))
    else:
        for fi in file_split(files, tasks, partition):
            pieces.append(_read_file(item, files[fi].path))
    if not pieces:
        return item.schema.empty_table()
    return pa.concat_tables(pieces)


def _read_file(item: ScanItem, path: str) -> pa.Table:
    if item.fmt == "arrow":
        try:
            with open(path, "rb") as f:
                magic = f.read(6)
            if magic == b"ARROW1":
                t = pa.ipc.open_file(path).read_all()
            else:
                with pa.OSFile(path, "rb") as f:
                    t = pa.ipc.open_stream(f).read_all()
        except (OSError, pa.ArrowException) as e:
            raise ScanError(f"scan: {path}: not a readable Arrow IPC file or stream: {e}") from None
        return _select(t, item.schema, path, item.table)
    raise UnsupportedPlan(f"reading {item.fmt} files is not supported by the Python executor")
