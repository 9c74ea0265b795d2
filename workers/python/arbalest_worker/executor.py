"""The Python executor process: registers with the scheduler, heartbeats,
runs the tasks it is given in its slots and serves its shuffle and result
files with Flight, on one gRPC port (ExecutorService and Flight DoGet),
as docs/protocol.md describes.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import socket
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from typing import Optional

import grpc

from . import __version__
from .contract import UnsupportedPlan
from ._proto import cluster_pb2 as cpb
from ._proto import cluster_pb2_grpc as cgrpc
from .engine import TaskCancelled
from .flight import flight_handler
from .fragment import SUPPORTED_FORMATS, SUPPORTED_FUNCTIONS, SUPPORTED_RELATIONS, Fragment, missing
from .shuffle import MAX_MESSAGE_BYTES, FetchFailure, FlightClients
from .task import TaskEnv, TaskSpec, run_task
from .ticket import Ticket, remove_job, remove_stage, sweep, task_dir, validate_job_id

__all__ = ["Config", "Executor", "BUSY_REASON"]

log = logging.getLogger("arbalest_worker")

# The rejection reason that means "try later" (docs/protocol.md section 2).
BUSY_REASON = "no free slot"
RPC_TIMEOUT = 5.0
REPORT_RETRY_S = 60.0
DAY = 24 * 3600.0


@dataclass
class Config:
    scheduler: str
    listen: str = "127.0.0.1:0"
    advertise: str = ""
    slots: int = 2
    work_dir: str = ""
    token: str = ""
    id: str = ""
    # Read other executors' shuffle files over Flight even when they are
    # on this machine.
    flight_only: bool = False
    sweep_age_s: float = DAY
    # The functions to advertise and accept (None: SUPPORTED_FUNCTIONS;
    # an empty list means all, as in Capabilities). For narrowing the
    # executor's share of the work, or for trying functions out.
    functions: Optional[list] = None


def new_id() -> str:
    return f"exec-py-{socket.gethostname()}-{os.getpid()}-{time.time_ns() % 1_000_000_000}"


def _key(t: cpb.TaskId):
    return (t.job_id, t.stage_id, t.partition)


def _task_str(t: cpb.TaskId) -> str:
    return f"job {t.job_id} stage {t.stage_id} task {t.partition} attempt {t.attempt}"


class _Running:
    def __init__(self, tid: cpb.TaskId):
        self.id = tid
        self.cancelled = threading.Event()


class _TokenCheck(grpc.ServerInterceptor):
    """Requires "authorization: Bearer <token>" on every call."""

    def __init__(self, token: str):
        self._want = f"Bearer {token}".encode()

        def deny(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
        self._deny_unary = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)

    def intercept_service(self, continuation, details):
        for k, v in details.invocation_metadata or ():
            if k == "authorization" and hmac.compare_digest(v.encode(), self._want):
                return continuation(details)
        if details.method.endswith("/DoGet"):
            return self._deny_stream
        return self._deny_unary


class _Service(cgrpc.ExecutorServiceServicer):
    def __init__(self, ex: "Executor"):
        self.ex = ex

    def LaunchTasks(self, request, context):
        return self.ex.launch(request)

    def CancelTasks(self, request, context):
        for t in request.tasks:
            self.ex.cancel_task(t)
        if request.job_id:
            self.ex.cancel_job(request.job_id)
        return cpb.CancelTasksResponse()

    def RemoveJobFiles(self, request, context):
        try:
            validate_job_id(request.job_id)
        except ValueError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        try:
            if not request.stages:
                self.ex.removed(request.job_id, None)
                self.ex.cancel_job(request.job_id)
                remove_job(self.ex.cfg.work_dir, request.job_id)
            else:
                for s in request.stages:
                    self.ex.removed(request.job_id, s)
                    remove_stage(self.ex.cfg.work_dir, request.job_id, s)
        except OSError as e:
            context.abort(grpc.StatusCode.INTERNAL, f"removing files of job {request.job_id}: {e}")
        return cpb.RemoveJobFilesResponse()


class Executor:
    """A running executor. start() serves and registers in the background;
    stop() cancels the tasks and stops serving."""

    def __init__(self, cfg: Config):
        if cfg.slots < 1:
            raise ValueError(f"executor needs at least one slot, got {cfg.slots}")
        if not cfg.work_dir:
            raise ValueError("executor needs a work directory")
        if not cfg.scheduler:
            raise ValueError("executor needs the scheduler's address")
        os.makedirs(cfg.work_dir, exist_ok=True)
        cfg.work_dir = os.path.abspath(cfg.work_dir)
        self.cfg = cfg
        self.id = cfg.id or new_id()
        self.functions = list(SUPPORTED_FUNCTIONS) if cfg.functions is None else list(cfg.functions)
        self.addr = ""
        self._lock = threading.Lock()
        self._tombstones = {}
        self._running: dict[tuple, _Running] = {}
        self._heartbeat_s = 2.0
        self.scheduler_id = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Slots are counted in _running; the pool has room for tasks whose
        # threads still retry their status report after the slot is freed.
        self._pool = futures.ThreadPoolExecutor(max_workers=2 * cfg.slots, thread_name_prefix="task")
        self.clients = FlightClients(cfg.token)
        self._server: Optional[grpc.Server] = None
        self._channel: Optional[grpc.Channel] = None
        self._sched: Optional[cgrpc.SchedulerServiceStub] = None
        self.registered = threading.Event()

    # ---- life cycle ----

    def start(self) -> None:
        opts = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0)]
        interceptors = [_TokenCheck(self.cfg.token)] if self.cfg.token else []
        # Threads: ExecutorService calls plus one per concurrent DoGet stream.
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=max(16, 4 * self.cfg.slots), thread_name_prefix="rpc"),
                             options=opts, interceptors=interceptors)
        cgrpc.add_ExecutorServiceServicer_to_server(_Service(self), server)
        server.add_generic_rpc_handlers((flight_handler(self.cfg.work_dir),))
        try:
            port = server.add_insecure_port(self.cfg.listen)
        except RuntimeError as e:
            raise OSError(f"executor listen on {self.cfg.listen}: {e}") from None
        if port == 0:
            raise OSError(f"executor listen on {self.cfg.listen}: cannot bind")
        host = self.cfg.listen.rsplit(":", 1)[0]
        self.addr = self.cfg.advertise or f"{host}:{port}"
        server.start()
        self._server = server
        self._channel = grpc.insecure_channel(self.cfg.scheduler, options=opts + [
            ("grpc.max_reconnect_backoff_ms", 2000), ("grpc.min_reconnect_backoff_ms", 100)])
        self._sched = cgrpc.SchedulerServiceStub(self._channel)
        for target, name in ((self._heartbeat_loop, "heartbeat"), (self._sweep_loop, "sweep")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, grace: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            for r in self._running.values():
                r.cancelled.set()
        if self._server is not None:
            self._server.stop(grace).wait(grace + 1)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for t in self._threads:
            t.join(timeout=5)
        self.clients.close()
        if self._channel is not None:
            self._channel.close()

    def wait(self) -> None:
        self._stop.wait()

    def _metadata(self):
        return (("authorization", f"Bearer {self.cfg.token}"),) if self.cfg.token else None

    def executor_metadata(self) -> cpb.ExecutorMetadata:
        caps = cpb.Capabilities(engine="python", relations=list(SUPPORTED_RELATIONS),
                                functions=self.functions, file_formats=list(SUPPORTED_FORMATS))
        return cpb.ExecutorMetadata(id=self.id, grpc_address=self.addr, flight_address=self.addr,
                                    slots=self.cfg.slots, capabilities=caps, version=f"arbalest-python {__version__}")

    # ---- registration and heartbeats ----

    def _heartbeat_loop(self) -> None:
        registered = False
        backoff = 0.1
        failing_since = None
        last_logged = 0.0
        while not self._stop.is_set():
            if not registered:
                try:
                    resp = self._sched.RegisterExecutor(cpb.RegisterExecutorRequest(executor=self.executor_metadata()),
                                                        timeout=RPC_TIMEOUT, metadata=self._metadata())
                    registered = True
                    backoff = 0.1
                    with self._lock:
                        self.scheduler_id = resp.scheduler_id
                        if resp.heartbeat_interval_ms > 0:
                            self._heartbeat_s = resp.heartbeat_interval_ms / 1000.0
                        wait = self._heartbeat_s
                    self.registered.set()
                    log.info("executor %s registered with scheduler %s (%s)", self.id, self.cfg.scheduler, resp.scheduler_id)
                except grpc.RpcError as e:
                    now = time.monotonic()
                    if now - last_logged >= 10:
                        if e.code() == grpc.StatusCode.UNAUTHENTICATED:
                            log.error("executor %s: the scheduler refused the token: %s", self.id, e.details())
                        else:
                            log.warning("executor %s: registering with %s: %s: %s (retrying)", self.id,
                                        self.cfg.scheduler, e.code().name, e.details())
                        last_logged = now
                    wait = backoff
                    backoff = min(2 * backoff, 2.0)
            else:
                with self._lock:
                    running = [r.id for r in self._running.values()]
                    free = self.cfg.slots - len(self._running)
                    wait = self._heartbeat_s
                req = cpb.HeartbeatRequest(executor_id=self.id, running=running,
                                           load=cpb.ExecutorLoad(free_slots=max(free, 0), disk_used_bytes=0))
                try:
                    resp = self._sched.Heartbeat(req, timeout=RPC_TIMEOUT, metadata=self._metadata())
                    if resp.reregister:
                        registered = False
                        wait = 0
                    for t in resp.cancel:
                        self.cancel_task(t)
                    if failing_since is not None:
                        log.info("executor %s: heartbeats reach the scheduler again", self.id)
                        failing_since = None
                except grpc.RpcError as e:
                    if self._stop.is_set():
                        return
                    # The first failure and then one line every 10 s: a
                    # restarting scheduler should not flood the log.
                    now = time.monotonic()
                    if failing_since is None or now - last_logged >= 10:
                        log.warning("executor %s: heartbeat: %s: %s", self.id, e.code().name, e.details())
                        last_logged = now
                    if failing_since is None:
                        failing_since = now
            self._stop.wait(wait)

    def _sweep_loop(self) -> None:
        every = min(self.cfg.sweep_age_s / 4, 3600.0)
        while not self._stop.is_set():
            try:
                removed = sweep(self.cfg.work_dir, self.cfg.sweep_age_s)
                if removed:
                    log.info("executor %s: swept %d old job directories", self.id, len(removed))
            except OSError as e:
                log.warning("executor %s: sweep: %s", self.id, e)
            self._stop.wait(every)

    # ---- tasks ----

    def launch(self, req: cpb.LaunchTasksRequest) -> cpb.LaunchTasksResponse:
        resp = cpb.LaunchTasksResponse()
        for d in req.tasks:
            tid = d.task
            reason = None
            frag = None
            try:
                validate_job_id(tid.job_id)
                frag = Fragment(d.plan)
                reason = missing(frag.requirements(), functions=self.functions or None)
                if reason is None:
                    frag.check()
            except UnsupportedPlan as e:
                reason = str(e)
            except ValueError as e:
                reason = f"cannot read the task: {e}"
            except Exception as e:  # a fragment that breaks the reader must not break the service
                reason = f"cannot read the fragment: {type(e).__name__}: {e}"
            if reason is None and "memory_limit" in d.settings:
                try:
                    int(d.settings["memory_limit"])
                except ValueError:
                    reason = f"memory_limit {d.settings['memory_limit']!r} is not a byte count"
            if reason is not None:
                resp.rejected.add(task=tid, reason=reason)
                continue
            k = _key(tid)
            with self._lock:
                if len(self._running) >= self.cfg.slots or self._stop.is_set():
                    resp.rejected.add(task=tid, reason=BUSY_REASON)
                    continue
                old = self._running.get(k)
                if old is not None:
                    old.cancelled.set()
                run = _Running(tid)
                self._running[k] = run
            spec = TaskSpec(tid.job_id, tid.stage_id, tid.partition, tid.attempt, d.task_count, frag, dict(d.settings))
            self._pool.submit(self._run, spec, run)
        return resp

    def cancel_task(self, tid: cpb.TaskId) -> None:
        with self._lock:
            r = self._running.get(_key(tid))
            if r is not None and r.id.attempt == tid.attempt:
                r.cancelled.set()

    # Files removed while a task of theirs still ran would come back when
    # it finishes: remember removals for a while and drop such outputs.
    TOMBSTONE_S = 3600.0

    def removed(self, job_id: str, stage) -> None:
        now = time.monotonic()
        with self._lock:
            self._tombstones[(job_id, stage)] = now
            for k, t in list(self._tombstones.items()):
                if now - t > self.TOMBSTONE_S:
                    del self._tombstones[k]

    def _is_removed(self, job_id: str, stage: int) -> bool:
        with self._lock:
            return (job_id, None) in self._tombstones or (job_id, stage) in self._tombstones

    def cancel_job(self, job_id: str) -> None:
        with self._lock:
            for k, r in self._running.items():
                if k[0] == job_id:
                    r.cancelled.set()

    def _run(self, spec: TaskSpec, run: _Running) -> None:
        tid = run.id
        st = cpb.TaskStatus(task=tid, executor_id=self.id)
        env = TaskEnv(self.id, self.cfg.work_dir, self.clients, self.cfg.flight_only)
        try:
            res = run_task(spec, env, run.cancelled)
            st.state = cpb.TASK_STATE_SUCCEEDED
            for o in res.outputs:
                tk = Ticket(spec.job_id, spec.stage, spec.partition, o.partition).encode()
                st.outputs.add(partition=o.partition, rows=o.rows, bytes=o.bytes, ticket=tk)
            st.metrics.CopyFrom(cpb.TaskMetrics(elapsed_ms=int(res.elapsed_s * 1000), output_rows=res.output_rows,
                                                peak_memory_bytes=res.input_bytes, operators=res.operators))
            st.output_dir = os.path.abspath(task_dir(self.cfg.work_dir, spec.job_id, spec.stage, spec.partition))
        except TaskCancelled as e:
            st.state = cpb.TASK_STATE_CANCELLED
            st.error = f"cancelled: {e}"
        except FetchFailure as e:
            st.state = cpb.TASK_STATE_FAILED
            st.error = str(e)
            st.fetch_failure.CopyFrom(cpb.FetchFailure(executor_id=e.executor_id, stage_id=e.stage,
                                                       map_partition=e.map_partition))
        except BaseException as e:  # every failure is reported, never lost
            if run.cancelled.is_set():
                st.state = cpb.TASK_STATE_CANCELLED
                st.error = f"cancelled: {e}"
            else:
                st.state = cpb.TASK_STATE_FAILED
                st.error = f"{type(e).__name__}: {e}" if not isinstance(e, (UnsupportedPlan, RuntimeError, ValueError, OSError)) else str(e)
        if st.state == cpb.TASK_STATE_SUCCEEDED:
            log.info("executor %s: %s succeeded in %d ms (%d rows)", self.id, _task_str(tid),
                     st.metrics.elapsed_ms, st.metrics.output_rows)
        elif st.state == cpb.TASK_STATE_FAILED:
            log.warning("executor %s: %s failed: %s", self.id, _task_str(tid), st.error)
        if self._is_removed(spec.job_id, spec.stage):
            # The job (or stage) ended while this task ran: its files go.
            shutil.rmtree(task_dir(self.cfg.work_dir, spec.job_id, spec.stage, spec.partition), ignore_errors=True)
            if st.state == cpb.TASK_STATE_SUCCEEDED:
                st.Clear()
                st.task.CopyFrom(tid)
                st.executor_id = self.id
                st.state = cpb.TASK_STATE_CANCELLED
                st.error = "cancelled: its job's files were removed while it ran"
        with self._lock:
            cur = self._running.get(_key(tid))
            if cur is run:
                del self._running[_key(tid)]
        self._report(st)

    def _report(self, st: cpb.TaskStatus) -> None:
        """Sends a task status, retrying for a minute: the scheduler may be
        restarting; if it never gets the report it runs the task again."""
        started = time.monotonic()
        deadline = started + REPORT_RETRY_S
        backoff = 0.1
        req = cpb.UpdateTaskStatusRequest(executor_id=self.id, statuses=[st])
        while True:
            try:
                self._sched.UpdateTaskStatus(req, timeout=RPC_TIMEOUT, metadata=self._metadata())
                return
            except grpc.RpcError as e:
                # A stopping executor tries for a few seconds only.
                limit = deadline if not self._stop.is_set() else min(deadline, started + 5)
                if time.monotonic() > limit:
                    log.warning("executor %s: giving up reporting %s: %s", self.id, _task_str(st.task), e.details())
                    return
                time.sleep(backoff)
                backoff = min(2 * backoff, 2.0)
