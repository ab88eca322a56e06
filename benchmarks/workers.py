"""Parallel speed-up (a benchmark, not a test): `conformance run --profile full` with one and with two workers.

    python benchmarks/workers.py [--profile full] [--report-dir DIR]

Both runs target the embedded reference (one reference per worker). Prints both wall times, the speed-up
(target >= 1.6x on 2 cores) and whether both runs give the same verdict for every requirement. Exits 1
when the verdicts differ or the speed-up is below the target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import load1, machine, run_suite, wait_for_quiet

TARGET_SPEEDUP = 1.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full")
    parser.add_argument("--report-dir", type=Path, default=Path("/tmp/conformance-workers-benchmark"))
    parser.add_argument("--max-wait", type=float, default=1200.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    runs = {}
    for workers in (1, 2):
        load = wait_for_quiet(max_wait=args.max_wait)
        run = run_suite(["--profile", args.profile, "--workers", str(workers)], args.report_dir / f"w{workers}")
        runs[workers] = run
        counts = (run.summary or {}).get("counts", {}).get("requirements")
        print(f"--workers {workers}: wall {run.wall:.1f}s, exit {run.code}, load before {load:.2f}, "
              f"after {load1():.2f}; requirements {counts}", flush=True)
    one, two = runs[1], runs[2]
    speedup = one.wall / two.wall
    a, b = one.verdicts(), two.verdicts()
    differ = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
    print(f"speed-up (1 worker / 2 workers): {speedup:.2f}x (target >= {TARGET_SPEEDUP}x)")
    print(f"verdicts: {len(a)} requirements; " + ("identical" if not differ else f"{len(differ)} differ: {differ}"))
    return 0 if not differ and speedup >= TARGET_SPEEDUP and one.summary and two.summary else 1


if __name__ == "__main__":
    sys.exit(main())
