"""Footprint on a long-lived target: what repeated ci runs leave behind, and whether a big target slows a run.

    python benchmarks/footprint.py [--runs 5] [--prefill 10000]

Part 1: one reference server (one database) and `--runs` ci runs against it, one after the other. For each run:
the license rows it added (program + user; licenses have no delete operation: a run retires them into a pool
and reuses retired ones before it creates any, client/objects.py), the other objects it left (every deletable
table should be back where it was), its wall time and whether its verdicts equal the first run's; for the last run,
the tests its rows came from (each license create of the in-process reference, matched by time to the test running
then, from the run's Allure results). Target: the first run adds any, every later run at most 10 rows; flat wall
times; identical verdicts.

Part 2: ci against a reference whose platform under test already holds `--prefill` licenses (inserted straight
into the store), against an empty one, in the same session: the ratio of the wall times (target: <= 1.2x).
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, load1, machine, run_suite, target_env  # noqa: F401

from conformance.reference import fixtures
from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store

LICENSE_TABLES = ("program_licenses", "user_licenses")
UNDELETABLE = {*LICENSE_TABLES, "license_history"}
CREATED_AT: list[tuple[float, str]] = []  # (epoch ms, kind) of every license the reference of this process creates


def _log_license_creates() -> None:
    """Note the time of every license create of the in-process reference (to find the test that sent it)."""
    original = Store.create_license

    def noted(self: Store, kind: str, *args: Any, **kwargs: Any) -> Any:
        CREATED_AT.append((time.time() * 1000, kind))
        return original(self, kind, *args, **kwargs)

    Store.create_license = noted  # type: ignore[method-assign]


def tests_of(report_dir: Path) -> list[tuple[float, float, str]]:
    """(start ms, stop ms, test) of every test of a run, from its Allure results."""
    found = []
    for path in (report_dir / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        values = ",".join(str(p.get("value")) for p in result.get("parameters", []))
        name = str(result.get("fullName") or result.get("name")) + (f"[{values}]" if values else "")
        found.append((float(result.get("start", 0)), float(result.get("stop", 0)), name))
    return found


def rows_by_test(created: list[tuple[float, str]], report_dir: Path) -> list[tuple[int, str, str]]:
    """(rows, kind, test) of the license creates of one run, by the test running when the reference created them."""
    tests = tests_of(report_dir)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for at, kind in created:
        running = [t for t in tests if t[0] - 5 <= at <= t[1] + 5]
        test = min(running, key=lambda t: t[1] - t[0])[2] if running else "(between tests)"
        counts[(kind, test)] += 1
    return sorted(((n, kind, test) for (kind, test), n in counts.items()), key=lambda row: (-row[0], row[2]))


def state(server: ReferenceServer) -> dict[str, int]:
    headers = {"Authorization": f"Api-Token {server.keys.dm_admin}"}
    return dict(httpx.get(f"{server.base_url}/conformance-probe/v1/state", headers=headers, timeout=30).json()["objects"])


def ci_run(server: ReferenceServer, work: Path, label: str) -> tuple[float, dict[str, str], int | None]:
    env = target_env(server, work / f"{label}.toml")
    started = time.perf_counter()
    done = run_suite(["--config", str(work / f"{label}.toml"), "--profile", "ci"], work / label, env=env)
    return time.perf_counter() - started, done.verdicts(), done.code


def repeated_runs(runs: int, work: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ReferenceServer(host="127.0.0.1", port=0, database=":memory:") as server:
        first_verdicts: dict[str, str] | None = None
        for index in range(1, runs + 1):
            before = state(server)
            first_create = len(CREATED_AT)
            wall, verdicts, code = ci_run(server, work, f"run{index}")
            after = state(server)
            first_verdicts = first_verdicts or verdicts
            per_table = {t: after[t] - before[t] for t in LICENSE_TABLES}
            added = sum(per_table.values())
            left = {t: after[t] - before[t] for t in after if t not in UNDELETABLE and after[t] != before[t]}
            rows.append({"run": index, "exit": code, "wall_s": round(wall, 1), "license_rows_added": added,
                         "program_user": [per_table["program_licenses"], per_table["user_licenses"]],
                         "other_objects_left": left, "same_verdicts": verdicts == first_verdicts,
                         "load": round(load1(), 2)})
            print(f"run {index}: exit {code}, {wall:6.1f} s, license rows added {added:4d} (program "
                  f"{per_table['program_licenses']}, user {per_table['user_licenses']}), objects left {left or 'none'}, "
                  f"verdicts {'identical' if verdicts == first_verdicts else 'DIFFERENT'} (load {load1():.2f})", flush=True)
            if index == runs:  # where a later run's rows come from
                for count, kind, test in rows_by_test(CREATED_AT[first_create:], work / f"run{index}"):
                    print(f"    {count} {kind} license row(s): {test}", flush=True)
    return rows


def prefill(server: ReferenceServer, count: int) -> None:
    """`count` program licenses on the platform under test, written straight into the store."""
    store = server.app.state.store
    platform = store.get_platform_by_key(fixtures.PLATFORM_KEY)
    program = fixtures.PROGRAM_KEYS[0]
    for i in range(count):
        store.create_license("program", platform["id"], {"name": f"customer-license-{i}", "count": 10,
                                                         "external_id": f"customer-{i}"}, program_key=program)


def big_target(count: int, work: Path) -> dict[str, Any]:
    walls: dict[str, float] = {}
    for label, size in (("empty", 0), ("prefilled", count)):
        with ReferenceServer(host="127.0.0.1", port=0, database=":memory:") as server:
            started = time.perf_counter()
            prefill(server, size)
            fill = time.perf_counter() - started
            wall, _, code = ci_run(server, work, label)
            walls[label] = wall
            print(f"{label:>9}: {size} licenses on {fixtures.PLATFORM_KEY} (filled in {fill:.1f} s), ci exit {code}, "
                  f"{wall:.1f} s (load {load1():.2f})", flush=True)
    ratio = walls["prefilled"] / walls["empty"]
    print(f"ratio prefilled/empty: {ratio:.2f}x (target <= 1.2x)")
    return {"empty_s": round(walls["empty"], 1), "prefilled_s": round(walls["prefilled"], 1), "ratio": round(ratio, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prefill", type=int, default=10_000)
    args = parser.parse_args()
    print(machine())
    _log_license_creates()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = repeated_runs(args.runs, work)
        later = [r["license_rows_added"] for r in rows[1:]]
        print(f"license rows added: first run {rows[0]['license_rows_added']}, later runs max {max(later, default=0)} "
              f"(target <= 10); wall times {[r['wall_s'] for r in rows]}")
        big_target(args.prefill, work)


if __name__ == "__main__":
    main()
