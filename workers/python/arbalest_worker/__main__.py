"""python -m arbalest_worker: run a Python executor of an Arbalest cluster."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile

from .executor import Config, Executor


def _address(s: str) -> str:
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{s!r} is not HOST:PORT")
    return s


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m arbalest_worker",
                                description="Run a Python executor of an Arbalest cluster.")
    p.add_argument("--scheduler", type=_address, default="127.0.0.1:50050", help="the scheduler's address (HOST:PORT)")
    p.add_argument("--addr", type=_address, default="127.0.0.1:0",
                   help="address to serve tasks and Flight data on (HOST:PORT; port 0 picks one)")
    p.add_argument("--advertise", type=_address, default=None, help="HOST:PORT others reach this executor at (default: --addr)")
    p.add_argument("--slots", type=int, default=2, help="tasks run at once")
    p.add_argument("--work-dir", default="", help="directory for shuffle and result files (default: a new temporary directory)")
    p.add_argument("--token", default=os.environ.get("ARBALEST_TOKEN", ""),
                   help="bearer token required on (and sent with) every call; default $ARBALEST_TOKEN")
    p.add_argument("--id", default="", help="executor id (default: a new one)")
    p.add_argument("--shuffle-over-flight", action="store_true",
                   help="read other executors' shuffle outputs over Flight even when their files are on this machine")
    p.add_argument("--functions", default=None,
                   help="comma-separated functions to advertise and accept instead of the verified list "
                        "(\"all\" for every function: for trying functions out)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    a = p.parse_args(argv)
    logging.basicConfig(level=getattr(logging, a.log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if a.slots < 1:
        p.error(f"--slots must be at least 1, got {a.slots}")
    functions = None
    if a.functions is not None:
        functions = [] if a.functions.strip() == "all" else [f.strip() for f in a.functions.split(",") if f.strip()]
    work_dir = a.work_dir or tempfile.mkdtemp(prefix="arbalest-py-executor-")
    ex = Executor(Config(scheduler=a.scheduler, listen=a.addr, advertise=a.advertise or "", slots=a.slots,
                         work_dir=work_dir, token=a.token, id=a.id, flight_only=a.shuffle_over_flight,
                         functions=functions))
    try:
        ex.start()
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    # The same ready line as the Go executor (tests wait for it).
    print(f"executor {ex.id} serving on {ex.addr} ({a.slots} slots, work dir {work_dir}, python engine)",
          file=sys.stderr, flush=True)

    def on_signal(signum, frame):
        ex._stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ex.wait()
    ex.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
