"""The frame with room on the frame stack (conformance/frames.py), with and without (a benchmark, not a test).

    python benchmarks/stack_room.py [--rounds N] [--workers W] [--max-wait SECONDS]

1. Calls in and out at every depth of a new thread's first chunk ends (CALLS calls a depth): the worst time a call at
   any depth, plain and below `with_stack_room`.
2. `conformance run --profile ci` on the embedded reference, `--rounds` times each way, alternating (the machine's
   speed drifts): wall, user and system CPU, minor page faults (fresh pages) of the run's processes, and verdicts;
   without the room through the `_no_stack_room` plugin. Then the medians and their ratios (with : without).

Exits 1 when the verdicts differ or the room does not lower the minor page faults.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import Any

from _common import load1, machine, print_ab_medians, same_verdicts, wait_for_quiet

from conformance.frames import with_stack_room

CALLS = 2000


def _small_leaf() -> int:
    return 1


# a leaf whose frame is larger than one of _calls_at, so at some depth it never fits into what is left of a chunk
_leaf = FunctionType(_small_leaf.__code__.replace(co_stacksize=_small_leaf.__code__.co_stacksize + 64), globals())


def _calls_at(depth: int) -> int:
    return _calls_at(depth - 1) if depth else sum(_leaf() for _ in range(CALLS))


def _plain(function: Callable[..., Any], /, *args: Any) -> Any:
    return function(*args)


def worst_call(call: Callable[..., Any]) -> tuple[float, int]:
    """(microseconds a call at the worst depth, that depth), in a new thread whose frames start a chunk of their own."""
    worst = [(0.0, 0)]

    def measure() -> None:
        for depth in range(320):
            started = time.perf_counter()
            call(_calls_at, depth)
            worst[0] = max(worst[0], ((time.perf_counter() - started) / CALLS * 1e6, depth))

    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
    return worst[0]


def one_run(work: Path, name: str, room: bool, workers: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    if not room:
        env.update(PYTEST_ADDOPTS="-p _no_stack_room",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])))
    report_dir = work / name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--profile", "ci", "--workers", workers,
                           "--report-dir", str(report_dir)], capture_output=True, text=True, check=False, cwd=work,
                          env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    return {"wall": wall, "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt, "code": done.returncode,
            "verdicts": {r["id"]: r["verdict"] for r in summary.get("requirements", [])}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    plain, roomy = worst_call(_plain), worst_call(with_stack_room)
    print(f"a call at the worst depth: plain {plain[0]:.2f} us (depth {plain[1]}), below the room {roomy[0]:.2f} us "
          f"(depth {roomy[1]}): {roomy[0] / plain[0]:.2f}x")
    load = wait_for_quiet(max_wait=args.max_wait)
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(max(1, args.rounds)):
            for room in (False, True):
                run = one_run(Path(tmp), f"{'room' if room else 'plain'}{n}", room, args.workers)
                runs[room].append(run)
                print(f"  round {n + 1}, {'with' if room else 'without'} the room: exit {run['code']}, "
                      f"{run['wall']:.1f} s wall, {run['user']:.2f} s user, {run['sys']:.2f} s system, "
                      f"{run['faults']} minor faults", flush=True)
    medians = print_ab_medians(runs, ("wall", "user", "sys", "faults"))
    cpu = {room: statistics.median(r["user"] + r["sys"] for r in rs) for room, rs in runs.items()}
    print(f"median CPU (user + system): without {cpu[False]:.2f} s, with {cpu[True]:.2f} s "
          f"({cpu[True] / cpu[False]:.2f}x)")
    same = same_verdicts(runs)
    print(f"verdicts: {'identical in every run' if same else 'DIFFER'}; 1-min load before {load:.2f}, after {load1():.2f}")
    return 0 if same and medians[True]["faults"] < medians[False]["faults"] else 1


if __name__ == "__main__":
    sys.exit(main())
