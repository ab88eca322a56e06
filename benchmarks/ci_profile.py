"""Time a whole `conformance run --profile ci` against the embedded reference (not a test).

    python benchmarks/ci_profile.py [--report-dir DIR] [--max-wait SECONDS]

Prints the wall time, the number of generated requests (counted by the property tests and written to
summary.json's `operations` section; the embedded reference and its probe stop with the run) and the
per-operation shares of schema-valid cases answered 2xx. Exits 1 when a share is below 50% for an
operation that documents a 2xx, or when the run takes longer than 60 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import load1, machine, wait_for_quiet

BUDGET_SECONDS = 60.0
MIN_SHARE = 0.5


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report-dir", default="/tmp/conformance-ci-benchmark")
    parser.add_argument("--max-wait", type=float, default=1200.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    report_dir = Path(args.report_dir)
    print(f"machine: {machine()}")
    load = wait_for_quiet(max_wait=args.max_wait)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--profile", "ci", "--report-dir",
                           str(report_dir)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    operations = summary.get("operations", {})
    generated = sum(row["cases"] for row in operations.values())
    durations = {"properties": 0.0, "scenarios": 0.0}
    for test in summary["tests"]:
        module = Path(test["nodeid"].split("::")[0]).name  # node IDs may carry the package path or not
        part = "properties" if module in ("test_operations.py", "test_stateful.py") else "scenarios"
        durations[part] += test["duration"]
    print(f"exit {done.returncode}; wall time {wall:.1f}s (budget {BUDGET_SECONDS:.0f}s); "
          f"1-min load before {load:.2f}, after {load1():.2f}")
    print(f"test time: properties {durations['properties']:.1f}s, scenarios {durations['scenarios']:.1f}s")
    print(f"generated requests: {generated} over {len(operations)} operations; tests: {summary['counts']['tests']}")
    low = []
    for name, row in sorted(operations.items(), key=lambda r: (r[1]["share_2xx"] is None, r[1]["share_2xx"] or 0)):
        share = row["share_2xx"]
        print(f"  {share if share is not None else '-':>6}  {row['schema_valid_cases']:>4} valid  "
              f"{row['cases']:>4} sent  {name}")
        if share is not None and row.get("documents_2xx", True) and share < MIN_SHARE:
            low.append(name)
    if low:
        print(f"below {MIN_SHARE:.0%}: {', '.join(low)}")
    return 1 if low or wall > BUDGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
