"""Every reference reading alone: the ci profile, on the topics of the requirements each switch touches, against
a reference serving only that switch. Run it when the reference, the catalog or a scenario changes; the project's
tests run all alternates at once and each side of a conflict (tests/integration/test_readings.py).

    python benchmarks/readings_matrix.py [--switch NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine  # noqa: F401

from conformance.reference.readings import SWITCHES, Readings
from tests.integration.conftest import run_against
from tests.integration.test_readings import BAD_VERDICTS, bad_requirements, topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switch", action="append", default=[], help="only these switches (repeatable)")
    args = parser.parse_args()
    print(machine())
    chosen = [s for s in SWITCHES if not args.switch or s.name in args.switch]
    failing = 0
    for switch in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            done = run_against(Readings.parse([switch.name]), Path(tmp), *topics(switch.requirements))
            wall = time.perf_counter() - started
            bad = bad_requirements(done) if (done.report_dir / "summary.json").is_file() else \
                [{"id": "-", "verdict": "no summary", "reason": done.stderr[-200:]}]
            failing += bool(bad) or done.code != 0
            print(f"{switch.name:<32} exit {done.code}  {wall:5.1f} s  "
                  + ("ok" if not bad else "; ".join(f"{b['id']} {b['verdict']}: {b['reason'][:80]}" for b in bad)),
                  flush=True)
    print(f"{len(chosen) - failing} of {len(chosen)} switches conformant alone ({', '.join(BAD_VERDICTS)} count against)")


if __name__ == "__main__":
    main()
