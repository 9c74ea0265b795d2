"""Data sources: tables the engine reads through a Python plugin.

Subclass DataSource::

    class Numbers(arbalest.DataSource):
        def schema(self, table):
            return pa.schema([("n", pa.int64())])

        def plan(self, table, projection, filters, limit, parallelism):
            return arbalest.Plan(splits=[b"0", b"1"])

        def read(self, split):
            yield pa.record_batch(...)

A table is ``CREATE EXTERNAL TABLE t STORED AS <plugin> [LOCATION '...']
OPTIONS (...)``: ``Table.location`` and ``Table.options``. ``plan`` decides
which filters the source applies and cuts the scan into splits (opaque
bytes); ``read`` streams one split's rows, in any process that runs the
plugin, so a split must carry everything needed to read it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence, Union

import pyarrow as pa

from .filters import Filter

__all__ = ["DataSource", "Table", "Plan", "Split", "Verdict", "Statistics"]

class Verdict(enum.Enum):
    """What a source does with a pushed filter."""

    #: Ignored: the engine applies the filter.
    UNSUPPORTED = "unsupported"
    #: Used to skip data, but rows failing it may come back: the engine
    #: applies it too.
    INEXACT = "inexact"
    #: Every row the source returns passes it: the engine does not apply it.
    EXACT = "exact"

    @classmethod
    def of(cls, v: Union["Verdict", str, bool, None]) -> "Verdict":
        """Accepts a Verdict, its name or value ("exact", "INEXACT"), True
        (exact), False or None (unsupported)."""
        if isinstance(v, Verdict):
            return v
        if v is None or v is False:
            return cls.UNSUPPORTED
        if v is True:
            return cls.EXACT
        if isinstance(v, str):
            try:
                return cls(v.lower())
            except ValueError:
                pass
        raise ValueError(f"{v!r} is not a filter verdict (exact, inexact or unsupported)")


@dataclass(frozen=True)
class Statistics:
    """Estimates; None when unknown."""

    row_count: Optional[int] = None
    total_bytes: Optional[int] = None


@dataclass
class Table:
    """A table of a data source."""

    location: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    #: The table's full schema, set while planning a scan (what ``schema``
    #: returned), so ``plan`` need not compute it again.
    schema: Optional[pa.Schema] = None


@dataclass
class Split:
    """One independently readable part of a scan: ``data`` comes back to
    DataSource.read (in any process running the plugin)."""

    data: bytes
    row_count: Optional[int] = None
    total_bytes: Optional[int] = None


@dataclass
class Plan:
    """A source's answer to a scan: the splits (bytes, str or Split), a
    verdict per filter (missing ones are unsupported), an estimate of the
    rows, and what the source will do, for EXPLAIN (no secrets)."""

    splits: Sequence[Union[bytes, str, Split]] = ()
    verdicts: Sequence[Union[Verdict, str, bool, None]] = ()
    explain: str = ""
    row_count: Optional[int] = None


class DataSource:
    """Base class of a data source. Subclasses implement schema, plan and
    read; statistics is optional.

    The class attributes say what the source takes over from the engine; a
    source that does not look at, say, ``limit`` may leave it True (the
    engine still stops after the limit) but should set ``projection =
    False`` when ``read`` returns all columns whatever the projection.
    """

    #: read returns only the projected columns, in the projection's order.
    projection: bool = True
    #: plan looks at the filters and gives verdicts.
    filters: bool = True
    #: plan may use the limit to read less.
    limit: bool = True
    #: plan may return more than one split.
    splits: bool = True

    #: The source's name in error messages (default: the class name).
    name: Optional[str] = None

    def schema(self, table: Table) -> pa.Schema:
        """The table's schema."""
        raise NotImplementedError(f"{type(self).__name__}.schema")

    def statistics(self, table: Table) -> Optional[Statistics]:
        """Estimates for the whole table, or None (the default)."""
        return None

    def plan(self, table: Table, projection: Optional[list[str]], filters: list[Filter],
             limit: Optional[int], parallelism: int) -> Plan:
        """Plans a scan.

        projection: the column names to return, in order (None: all);
        filters: the pushed filters (ANDed), each to answer with a verdict
        in Plan.verdicts; limit: at most this many rows are needed (None:
        all), only given when the engine applies no filter after the source;
        parallelism: how many splits the engine would like.
        """
        raise NotImplementedError(f"{type(self).__name__}.plan")

    def read(self, split: bytes) -> Iterable[pa.RecordBatch]:
        """Yields the split's rows as record batches (or Tables) with the
        projected schema."""
        raise NotImplementedError(f"{type(self).__name__}.read")

    def __str__(self) -> str:
        return self.name or type(self).__name__
