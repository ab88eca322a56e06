"""The end of a run, with and without freezing what is alive when a pytest session ends (a benchmark, not a test).

    python benchmarks/session_end.py [--rounds N] [--max-wait SECONDS]

`conformance run --profile ci` on the embedded reference (2 workers), `--rounds` times each way, alternating: how
long the controller waits for its workers to exit after their last test (xdist's teardown of the nodes), how long the
controller takes from the end of its pytest session to its own exit (the derived reports, then the exit), and the
wall time; without the freeze through the `_session_end` plugin's switch. Then the medians and their ratios.

Exits 1 when the verdicts differ or the freeze does not shorten the wait for the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import load1, machine, print_ab_medians, same_verdicts, wait_for_quiet

FIGURES = ("teardown_nodes", "after_session", "wall")


def one_run(work: Path, name: str, freeze: bool) -> dict[str, Any]:
    figures_file = work / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env.update(PYTEST_ADDOPTS="-p _session_end", SESSION_END_FILE=str(figures_file),
               SESSION_END_NO_FREEZE="0" if freeze else "1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])))
    report_dir = work / name
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--profile", "ci", "--workers", "2",
                           "--report-dir", str(report_dir)], capture_output=True, text=True, check=False, cwd=work,
                          env=env)
    ended = time.time()
    wall = time.perf_counter() - started
    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    return {"teardown_nodes": figures["teardown_nodes"], "after_session": ended - figures["unconfigured"],
            "wall": wall, "code": done.returncode,
            "verdicts": {r["id"]: r["verdict"] for r in summary.get("requirements", [])}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = wait_for_quiet(max_wait=args.max_wait)
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(max(1, args.rounds)):
            for freeze in (False, True):
                run = one_run(Path(tmp), f"{'freeze' if freeze else 'plain'}{n}", freeze)
                runs[freeze].append(run)
                print(f"  round {n + 1}, {'with' if freeze else 'without'} the freeze: exit {run['code']}, "
                      f"workers' exit waited {run['teardown_nodes']:.3f} s, controller after its session "
                      f"{run['after_session']:.3f} s, wall {run['wall']:.1f} s", flush=True)
    medians = print_ab_medians(runs, FIGURES)  # (seconds)
    same = same_verdicts(runs)
    print(f"verdicts: {'identical in every run' if same else 'DIFFER'}; 1-min load before {load:.2f}, after {load1():.2f}")
    return 0 if same and medians[True]["teardown_nodes"] < medians[False]["teardown_nodes"] else 1


if __name__ == "__main__":
    sys.exit(main())
