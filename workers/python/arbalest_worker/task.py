"""Running one task of a stage fragment to completion."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field

import pyarrow as pa

from .contract import engine_schema
from .engine import TaskCancelled, run_plan
from .fragment import Fragment, ScanLeaf, ShuffleLeaf, ValuesLeaf, table_name
from .scan import read_split
from .shuffle import FlightClients, PartitionStats, ShuffleWriter, read_shuffle
from .ticket import task_dir

__all__ = ["TaskSpec", "TaskEnv", "TaskResult", "run_task"]


@dataclass
class TaskSpec:
    job_id: str
    stage: int
    partition: int
    attempt: int
    tasks: int
    fragment: Fragment
    settings: dict = field(default_factory=dict)


@dataclass
class TaskEnv:
    executor_id: str
    work_dir: str
    clients: FlightClients
    flight_only: bool = False


@dataclass
class TaskResult:
    outputs: list[PartitionStats]
    output_rows: int
    elapsed_s: float
    operators: str
    # The bytes of the task's inputs held in memory (a lower bound of its
    # peak: DataFusion's own operator memory is not counted).
    input_bytes: int = 0


def _engine_table(schema: pa.Schema, batches) -> pa.Table:
    """Batches of a contract schema as a table DataFusion reads: its types
    (decimal128 for decimal64), columns named c0, c1, ..."""
    es = engine_schema(schema)
    es = pa.schema([f.with_name(f"c{i}") for i, f in enumerate(es)])
    if isinstance(batches, pa.Table):
        t = batches
    else:
        t = pa.Table.from_batches(list(batches), schema=schema)
    t = t.rename_columns(es.names)
    return t.cast(es) if not t.schema.equals(es) else t


def run_task(spec: TaskSpec, env: TaskEnv, cancelled: threading.Event) -> TaskResult:
    """Reads the task's inputs, runs the fragment and writes its output
    partitions under task_dir(work_dir, job, stage, partition). Raises
    FetchFailure when an input cannot be read and TaskCancelled when
    cancelled."""
    start = time.monotonic()
    frag = spec.fragment
    if spec.tasks < 1 or not 0 <= spec.partition < spec.tasks:
        raise ValueError(f"task {spec.partition} of {spec.tasks}")
    tables = {}
    for leaf in frag.leaves():
        if cancelled.is_set():
            raise TaskCancelled("cancelled")
        if isinstance(leaf, ShuffleLeaf):
            if not leaf.read.job_id or not leaf.read.locations:
                raise ValueError(f"shuffle read of stage {leaf.read.stage_id} without locations")
            batches = read_shuffle(leaf.read, leaf.schema, env.executor_id, env.work_dir, env.clients,
                                   cancelled, flight_only=env.flight_only)
            tables[table_name(leaf.index)] = _engine_table(leaf.schema, batches)
        elif isinstance(leaf, ScanLeaf):
            parts = [read_split(it, spec.tasks, spec.partition) for it in leaf.items]
            tables[table_name(leaf.index)] = _engine_table(leaf.schema, pa.concat_tables(parts))
        elif isinstance(leaf, ValuesLeaf):
            if spec.partition != 0:
                tables[table_name(leaf.index)] = _engine_table(leaf.schema, [])
    if cancelled.is_set():
        raise TaskCancelled("cancelled")
    ep = frag.engine_plan(spec.partition)
    out_dir = task_dir(env.work_dir, spec.job_id, spec.stage, spec.partition)
    writer = ShuffleWriter(frag.output_schema, frag.write, out_dir)
    memory_limit = int(spec.settings.get("memory_limit", "0") or 0)
    # Spill files live under .spill (a name job removal and the sweep never
    # take for a job).
    spill_root = os.path.join(env.work_dir, ".spill")
    spill = ""
    try:
        if memory_limit > 0:
            os.makedirs(spill_root, exist_ok=True)
            spill = tempfile.mkdtemp(prefix="task-", dir=spill_root)
        for b in run_plan(ep, tables, frag.output_schema, cancelled, memory_limit=memory_limit, spill_dir=spill):
            writer.add(b)
        if cancelled.is_set():
            raise TaskCancelled("cancelled")
        stats = writer.finish()
    except BaseException:
        writer.abort()
        raise
    finally:
        if spill:
            shutil.rmtree(spill, ignore_errors=True)
    rows = sum(s.rows for s in stats)
    inputs = ", ".join(f"{n}: {t.num_rows} rows" for n, t in tables.items())
    operators = f"Python executor (DataFusion) task {spec.partition} of {spec.tasks}; inputs [{inputs}]; output {rows} rows"
    held = sum(t.nbytes for t in tables.values())
    return TaskResult(stats, rows, time.monotonic() - start, operators, held)
