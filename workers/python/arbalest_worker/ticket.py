"""Flight tickets of shuffle and result partitions, and where their files are.

Ticket format version 1 (docs/protocol.md section 6): one UTF-8 JSON object
of at most 1024 bytes with exactly the members

    {"v":1,"job":"<job id>","stage":<int>,"map":<int>,"partition":<int>}

The ticket names the file <work-dir>/<job>/stage-<stage>/map-<map>/part-<partition>.arrow
on the serving executor.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass

__all__ = [
    "TICKET_VERSION",
    "BadTicket",
    "Ticket",
    "validate_job_id",
    "task_dir",
    "partition_path",
    "remove_job",
    "remove_stage",
    "sweep",
]

TICKET_VERSION = 1
MAX_TICKET_BYTES = 1024
_MAX_INT32 = 2**31 - 1
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MEMBERS = ("v", "job", "stage", "map", "partition")


class BadTicket(ValueError):
    """A ticket that is not version 1 of the format (INVALID_ARGUMENT)."""


def validate_job_id(job: str) -> None:
    """Raises ValueError unless job is 1 to 64 characters of [A-Za-z0-9_-]:
    a job id can then never escape the work directory."""
    if not isinstance(job, str) or not _JOB_ID.fullmatch(job):
        raise ValueError(f"job id {job!r} must be 1 to 64 characters of [A-Za-z0-9_-]")


@dataclass(frozen=True)
class Ticket:
    job: str
    stage: int
    map: int
    partition: int

    def __str__(self) -> str:
        return f"job {self.job} stage {self.stage} map {self.map} partition {self.partition}"

    def validate(self) -> None:
        try:
            validate_job_id(self.job)
        except ValueError as e:
            raise BadTicket(f"bad ticket: {e}") from None
        for name in ("stage", "map", "partition"):
            v = getattr(self, name)
            if type(v) is not int or v < 0 or v > _MAX_INT32:
                raise BadTicket(f"bad ticket: {name} {v!r} is not an integer in [0, 2^31-1]")

    def encode(self) -> bytes:
        """The ticket bytes (validated as decode would)."""
        self.validate()
        return json.dumps(
            {"v": TICKET_VERSION, "job": self.job, "stage": self.stage, "map": self.map, "partition": self.partition},
            separators=(",", ":"),
        ).encode()

    @staticmethod
    def decode(raw: bytes) -> "Ticket":
        """Parses and validates a version 1 ticket; raises BadTicket."""
        if not raw:
            raise BadTicket("bad ticket: empty")
        if len(raw) > MAX_TICKET_BYTES:
            raise BadTicket(f"bad ticket: {len(raw)} bytes, the limit is {MAX_TICKET_BYTES}")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadTicket("bad ticket: not UTF-8") from None

        def no_duplicates(pairs):
            seen = {}
            for k, v in pairs:
                if k in seen:
                    raise BadTicket(f"bad ticket: member {k!r} appears twice")
                seen[k] = v
            return seen

        def no_constant(name):
            raise BadTicket(f"bad ticket: {name} is not a number")

        try:
            obj = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
        except BadTicket:
            raise
        except ValueError as e:
            raise BadTicket(f"bad ticket: {e}") from None
        if not isinstance(obj, dict):
            raise BadTicket("bad ticket: not a JSON object")
        unknown = sorted(set(obj) - set(_MEMBERS))
        if unknown:
            raise BadTicket(f"bad ticket: unknown member {unknown[0]!r}")
        for m in _MEMBERS:
            if m not in obj:
                raise BadTicket(f"bad ticket: missing {m!r}")
        v = obj["v"]
        if type(v) is not int:
            raise BadTicket(f"bad ticket: version {v!r} is not an integer")
        if v != TICKET_VERSION:
            raise BadTicket(f"bad ticket: version {v}, this executor reads version {TICKET_VERSION}")
        if not isinstance(obj["job"], str):
            raise BadTicket("bad ticket: job is not a string")
        t = Ticket(obj["job"], obj["stage"], obj["map"], obj["partition"])
        t.validate()
        return t


def task_dir(root: str, job: str, stage: int, map_partition: int) -> str:
    """The directory of map task map_partition of stage in job under root
    (callers validate job)."""
    return os.path.join(root, job, f"stage-{stage}", f"map-{map_partition}")


def partition_path(dir_: str, partition: int) -> str:
    """The file of output partition `partition` in a task directory."""
    return os.path.join(dir_, f"part-{partition}.arrow")


def remove_job(root: str, job: str) -> None:
    """Deletes every file of job under root (a job without files is fine)."""
    validate_job_id(job)
    _rmtree(os.path.join(root, job))


def remove_stage(root: str, job: str, stage: int) -> None:
    """Deletes the files of one stage of job under root."""
    validate_job_id(job)
    _rmtree(os.path.join(root, job, f"stage-{int(stage)}"))


def _rmtree(d: str) -> None:
    """Removes d; removals of the same job may run at once (its stages
    and then all of it), so entries vanishing underneath are fine."""
    for _ in range(5):
        if not os.path.isdir(d):
            return
        try:
            shutil.rmtree(d)
            return
        except FileNotFoundError:
            continue
    shutil.rmtree(d, ignore_errors=True)


def _newest_mtime(path: str) -> float:
    newest = os.lstat(path).st_mtime
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except FileNotFoundError:
                pass  # removed while we walk: a concurrent removal
    return newest


def sweep(root: str, max_age_s: float, now: float | None = None) -> list[str]:
    """Removes the job directories under root whose newest entry is older
    than max_age_s (what crashed executors leave behind); returns their
    ids. Entries whose names are not job ids are left alone."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = os.listdir(root)
    except FileNotFoundError:
        return removed
    for name in entries:
        path = os.path.join(root, name)
        if not _JOB_ID.fullmatch(name) or not os.path.isdir(path):
            continue
        try:
            if now - _newest_mtime(path) > max_age_s:
                shutil.rmtree(path)
                removed.append(name)
        except FileNotFoundError:
            continue
    return removed
