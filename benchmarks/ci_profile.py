"""The ci profile side by side with plain schemathesis and the physical limit of this machine (not a test).

    python benchmarks/ci_profile.py [--max-wait SECONDS] [--repeat N] [--skip-st] [--skip-variants]

In one session, on a quiet machine if one can be had:

1. the ci profile against a reference served from this process, which counts every request that reaches it:
   wall time, requests, requests per second;
2. `conformance run --profile ci` on the embedded reference (the README's main command, workers `auto`),
   `--repeat` times (3), with a raw httpx loop sending as many requests as such a run sends (counted in one more,
   untimed, run: a little fewer than the served run, which also undoes everything at its end), one after the other
   (what one connection on this machine can do at most), before the first run and after each (the machine's speed
   drifts: each run is set against the mean of the loops just before and after it): the median wall time, the
   workers auto chose, the run's own timings (summary.json `timings`), each run's requests per second against its
   loops'; the shares of schema-valid cases answered 2xx;
3. the same with `--workers 1`, `--workers 2` and `--embedded-reference process` (the reference in a child
   process), once each, with their verdicts compared to the median run's;
4. plain `st run --checks all` on the same contract and target with the same seed: wall time, requests;

then the ratios. Exits 1 when a share of valid cases answered 2xx is below 50% for an operation documenting a 2xx.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from _common import CONTRACT, Counting, load1, machine, target_env, wait_for_quiet

from conformance.reference.server import ReferenceServer

MIN_SHARE = 0.5
SEED = 20_240_917  # the ci profile's fixed seed


def counting_server() -> tuple[ReferenceServer, list[int]]:
    """A reference on a loopback port whose every HTTP request is counted (count[0])."""
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    count = [0]
    server.app.add_middleware(Counting, count=count)
    server.start()
    return server, count


def embedded(work: Path, *extra: str) -> tuple[float, int, dict[str, Any]]:
    report_dir = work / ("embedded" + "".join(extra).replace("-", "_"))
    # as on a user's machine: Python keeps the compiled modules (and pytest the rewritten test modules) between runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("CONFORMANCE_")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--profile", "ci", "--report-dir",
                           str(report_dir), *extra], capture_output=True, text=True, check=False, cwd=work, env=env)
    wall = time.perf_counter() - started
    return wall, done.returncode, json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))


def embedded_requests(work: Path) -> int:
    """The requests one default run sends to its embedded references (an untimed run that counts them: an embedded
    run sends a few fewer than a served one, which also undoes everything at its end)."""
    counts = work / "counts"
    counts.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env.update(COUNT_REQUESTS_DIR=str(counts), PYTEST_ADDOPTS="-p _count_requests",
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-m", "conformance", "run", "--profile", "ci", "--report-dir", str(work / "counted")],
                   capture_output=True, text=True, check=False, cwd=work, env=env)
    return sum(int(path.read_text(encoding="utf-8")) for path in counts.iterdir())


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    """Requirement -> verdict of one run."""
    return {r["id"]: r["verdict"] for r in summary.get("requirements", [])}


def served(work: Path) -> tuple[float, int, int]:
    server, count = counting_server()
    try:
        env = target_env(server, work / "served.toml")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "conformance", "run", "--config", str(work / "served.toml"),
                               "--profile", "ci", "--report-dir", str(work / "served")], capture_output=True,
                              text=True, check=False, cwd=work, env=env)
        return time.perf_counter() - started, count[0], done.returncode
    finally:
        server.stop()


def schemathesis(work: Path) -> tuple[float, int, int | None]:
    server, count = counting_server()
    try:
        st = Path(sys.executable).parent / "st"
        command = [str(st), "run", "--checks", "all", str(CONTRACT), "--url", server.base_url, "-H",
                   f"Authorization: Api-Token {server.keys.dm_admin}", "--seed", str(SEED), "--no-color"]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900, cwd=work)
            code: int | None = done.returncode
        except subprocess.TimeoutExpired:
            code = None
        return time.perf_counter() - started, count[0], code
    finally:
        server.stop()


def raw_loop(requests: int) -> float:
    with ReferenceServer(host="127.0.0.1", port=0, database=":memory:") as server:
        headers = {"Authorization": f"Api-Token {server.keys.dm_admin}"}
        with httpx.Client(base_url=server.base_url, headers=headers) as client:
            started = time.perf_counter()
            for _ in range(requests):
                client.get("/api/catalog/licenses/program/", params={"platform_key": "alpha", "page_size": 10})
            return time.perf_counter() - started


def shares(summary: dict[str, Any]) -> list[str]:
    low = []
    for name, row in sorted(summary.get("operations", {}).items()):
        share = row["share_2xx"]
        if share is not None and row.get("documents_2xx", True) and share < MIN_SHARE:
            low.append(f"{name} ({share:.0%})")
    return low


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--skip-st", action="store_true", help="leave plain schemathesis out")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the embedded ci profile (the median is kept)")
    parser.add_argument("--skip-variants", action="store_true",
                        help="leave out --workers 1, --workers 2 and the child-process reference")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = wait_for_quiet(max_wait=args.max_wait)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        served_wall, requests, served_code = served(work)  # every request counted at the server
        rate = requests / served_wall
        print(f"ci, served reference:   exit {served_code}, {served_wall:.1f} s wall, {requests} requests, {rate:.0f} req/s")
        requests = embedded_requests(work)
        print(f"ci, embedded reference: {requests} requests (counted in an untimed run)")
        # a raw loop of as many requests before the first default run and after each: this machine's speed drifts
        # from minute to minute, so each run is set against the mean of the loops just before and just after it
        runs, loops = [], [raw_loop(requests)]
        for n in range(max(1, args.repeat)):
            runs.append(embedded(work))
            loops.append(raw_loop(requests))
            limit = requests / statistics.mean(loops[-2:])
            print(f"  run {n + 1}: {runs[-1][0]:.1f} s wall, workers {runs[-1][2].get('workers')}; raw loops before and "
                  f"after {requests / loops[-2]:.0f} and {requests / loops[-1]:.0f} req/s; ratio "
                  f"{requests / runs[-1][0] / limit:.2f}", flush=True)
        walls = [r[0] for r in runs]
        raws = [statistics.mean(pair) for pair in pairwise(loops)]
        ratios = [raw / wall for wall, raw in zip(walls, raws, strict=True)]
        wall, code, summary = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        timings = summary.get("timings", {})
        print(f"ci, embedded reference: exit {code}, median {wall:.1f} s wall of {len(runs)} "
              f"({', '.join(f'{w:.1f}' for w in walls)}; mean {statistics.mean(walls):.1f}); workers "
              f"{[r[2].get('workers') for r in runs]}; timings {timings}")
        raw = statistics.median(raws)
        print(f"raw httpx loop:         {requests} requests, median {raw:.1f} s, {requests / raw:.0f} req/s "
              f"(each: {', '.join(f'{requests / loop:.0f}' for loop in loops)} req/s)")
        print(f"ratio: served ci run (1 worker) requests per second / raw loop = {rate / (requests / raw):.2f}")
        print(f"ratio: default ci run's requests per second / the raw loops around it = median "
              f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) (target >= 0.5)")
        if not args.skip_variants:
            for extra in (("--workers", "1"), ("--workers", "2"), ("--embedded-reference", "process")):
                other_wall, other_code, other = embedded(work, *extra)
                same = "same verdicts" if verdicts(other) == verdicts(summary) else "VERDICTS DIFFER"
                print(f"ci, {' '.join(extra)}: exit {other_code}, {other_wall:.1f} s wall ({other_wall / wall:.2f} of the "
                      f"median above), {same}; timings {other.get('timings', {})}")
        if not args.skip_st:
            st_wall, st_requests, st_code = schemathesis(work)
            print(f"st run --checks all:    exit {st_code}, {st_wall:.1f} s wall, {st_requests} requests, "
                  f"{st_requests / st_wall:.0f} req/s")
            print(f"ratio: ci wall / st wall = {wall / st_wall:.2f}; ci requests / st requests = "
                  f"{requests / max(1, st_requests):.2f}")
        low = shares(summary)
        print(f"1-min load before {load:.2f}, after {load1():.2f}")
        if low:
            print(f"below {MIN_SHARE:.0%} of valid cases answered 2xx: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
