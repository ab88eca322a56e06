"""Kill matrix (a benchmark, not a test): which planted faults each way of testing catches, and how fast.

    python benchmarks/kill_matrix.py [--faults SUBSTRING ...] [--budget SECONDS] [--columns ci,full,st]

For every fault of `tests/faults` (or those whose name contains one of the --faults substrings) a
reference server starts in this process with the fault applied (a fresh one per column), and:

- ci:   `conformance run --profile ci` (the whole profile, no time budget, no --requirement selection);
- full: `conformance run --profile full`, stopped (SIGTERM: it still writes summary.json) after --budget s;
- st:   plain schemathesis, `st run --checks all <contract> --url <base> -H 'Authorization: Api-Token <DM admin
        key>' --max-time <budget> --seed <seed>`.

The suite catches a fault when the requirement it violates is failed or warning in summary.json; its time
to the first failure is read from the progress line (first F/E, from process start). Schemathesis catches
a fault when it reports a failure (operation, check, failure type) that a run against the clean reference
(the baseline, same budget and seed, measured first in the same session) did not. Its time is the first
such failure's scenario end, from process start.

A schemathesis catch is also counted the strict way: only new failures on an operation of the violated
requirement (the catalog lists them) count, since a new failure elsewhere cannot be the fault's doing.
`--from-json FILE` prints the totals of a saved matrix again without measuring.

Unless --no-extras, the same run also measures, on the clean reference: the wall time of the whole `ci` and
`full` profiles (no budget; both must pass with zero failed tests), and the suite's client overhead (requests
per second through its ApiClient against a plain httpx loop sending the same requests, `overhead.py`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import fmt_time, load1, machine, reference, run_schemathesis, run_suite, target_env, wait_for_quiet
from overhead import measure_overhead

from conformance.spec.catalog import load_catalog
from tests.faults.registry import all_faults

CAUGHT = ("failed", "warning")
COLUMNS = ("ci", "full", "st")


def suite_cell(fault_patch, violates: str, profile: str, work: Path, budget: float | None) -> dict:
    with reference(fault_patch) as server:
        env = target_env(server, work / "target.toml")
        run = run_suite(["--config", str(work / "target.toml"), "--profile", profile], work / "out", env, budget)
    verdict = run.verdict(violates)
    failed = [t["nodeid"] for t in (run.summary or {}).get("tests", []) if t["outcome"] in CAUGHT]
    return {"caught": verdict in CAUGHT, "verdict": verdict, "time": run.first_failure if verdict in CAUGHT else None,
            "first_failure": run.first_failure, "wall": round(run.wall, 1), "code": run.code,
            "interrupted": run.interrupted, "failing_tests": len(failed)}


def st_cell(fault_patch, work: Path, budget: float, seed: int, baseline: set) -> dict:
    with reference(fault_patch) as server:
        run = run_schemathesis(server, work / "st", budget, seed)
    novel = {k: t for k, t in run.failures.items() if k not in baseline}
    return {"caught": bool(novel), "time": min(novel.values()) if novel else None, "wall": round(run.wall, 1),
            "failures": len(run.failures), "novel": sorted(" ".join(k) for k in novel)[:5],
            "novel_all": sorted(" ".join(k) for k in novel)}


def clean_profile(profile: str, work: Path) -> dict:
    """The whole profile against the clean reference, no budget: its wall time and whether it passed."""
    with reference() as server:
        env = target_env(server, work / "target.toml")
        run = run_suite(["--config", str(work / "target.toml"), "--profile", profile], work / "out", env)
    summary = run.summary or {}
    failed = [t["nodeid"] for t in summary.get("tests", []) if t["outcome"] == "failed"]
    requests = sum(o.get("cases", 0) for o in summary.get("operations", {}).values())
    return {"wall": round(run.wall, 1), "code": run.code, "verdict": summary.get("verdict"), "failed_tests": failed,
            "tests": len(summary.get("tests", [])), "generated_requests": requests}


def on_fault_operations(row: dict) -> list[str]:
    """The new schemathesis failures of a row that are on an operation of the violated requirement: the ones
    that can be the fault's doing. A new failure elsewhere is noise the baseline did not happen to produce."""
    operations = load_catalog().requirements[row["violates"]].operations
    return [sig for sig in row["st"]["novel_all"] if any(sig.startswith(f"{op} ") for op in operations)]


def totals(rows: list[dict], columns: list[str]) -> None:
    """Kill rates, times to the first failure and their ratios, printed."""
    rates = {}
    for column in columns:
        cells = [r[column] for r in rows]
        caught = [c for c in cells if c["caught"]]
        times = [c["time"] for c in caught if c["time"] is not None]
        rates[column] = len(caught) / len(cells)
        median = statistics.median(times) if times else None
        print(f"  {column:<5} caught {len(caught)}/{len(cells)} = {rates[column]:.0%}; "
              f"median time to first failure {fmt_time(median)}")
    if "st" in columns:
        attributable = [r for r in rows if r["st"]["caught"] and on_fault_operations(r)]
        rates["st (attributable)"] = len(attributable) / len(rows)
        print(f"  st counting only new failures on the violated requirement's operations: caught "
              f"{len(attributable)}/{len(rows)} = {rates['st (attributable)']:.0%}")
        for column in ("ci", "full"):
            if column not in columns:
                continue
            for st_rate in ("st", "st (attributable)"):
                ratio = f"{rates[column] / rates[st_rate]:.2f}x" if rates[st_rate] else "inf (plain st caught none)"
                print(f"  kill rate {column} / {st_rate}: {ratio}")
            both = [(r[column]["time"], r["st"]["time"]) for r in rows
                    if r[column]["caught"] and r["st"]["caught"] and r[column]["time"] and r["st"]["time"]]
            if both:
                print(f"  time to first failure, {len(both)} faults both catch: median ratio {column}/st "
                      f"{statistics.median(a / b for a, b in both):.2f}")
    if "st" in columns and len(rows) > 1:  # a "new" failure in every faulty run is likely baseline noise
        common = set.intersection(*(set(r["st"]["novel_all"]) for r in rows))
        if common:
            print(f"  st: new in every faulty run (likely false positives the baseline missed): {sorted(common)}")
    if "ci" in columns:
        missed = [r["fault"] for r in rows if not r["ci"]["caught"]]
        print(f"  not caught by ci: {missed or 'none'}")
        walls = [r["ci"]["wall"] for r in rows]
        print(f"  ci wall per faulty run: median {statistics.median(walls):.1f}s, max {max(walls):.1f}s")


def mark(cell: dict | None) -> str:
    if cell is None:
        return "n/a"
    return f"yes {fmt_time(cell['time'])}" if cell["caught"] else "no"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", action="append", default=[], metavar="SUBSTRING",
                        help="run only faults whose name contains SUBSTRING (repeatable)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per fault for full and st (default 60)")
    parser.add_argument("--columns", default=",".join(COLUMNS), help="which of ci,full,st to run")
    parser.add_argument("--seed", type=int, default=20240917, help="schemathesis seed (default 20240917)")
    parser.add_argument("--baseline-runs", type=int, default=1,
                        help="clean schemathesis runs whose failures form the baseline (default 1)")
    parser.add_argument("--json", type=Path, help="also write the matrix as JSON here")
    parser.add_argument("--max-wait", type=float, default=1200.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="measure nothing: print the totals of a matrix saved with --json")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the clean-reference profile wall times and the client overhead")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        print(f"totals over {len(saved['rows'])} faults of {args.from_json}:")
        totals(saved["rows"], [c for c in COLUMNS if c in saved["rows"][0]])
        return 0
    columns = [c for c in args.columns.split(",") if c]
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        parser.error(f"unknown columns: {sorted(unknown)}")
    faults = {n: f for n, f in sorted(all_faults().items())
              if not args.faults or any(s.lower() in n.lower() for s in args.faults)}
    if not faults:
        parser.error("no fault matches")

    print(f"machine: {machine()}")
    start_load = wait_for_quiet(max_wait=args.max_wait)
    print(f"faults: {len(faults)}; columns: {', '.join(columns)}; budget {args.budget:.0f}s (full, st)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="kill-matrix-"))
    started = time.perf_counter()

    clean: dict[str, dict] = {}
    if not args.no_extras:
        for profile in ("ci", "full"):
            clean[profile] = clean_profile(profile, work / f"clean-{profile}")
            c = clean[profile]
            print(f"clean reference, --profile {profile} (no budget): wall {c['wall']}s, exit {c['code']}, "
                  f"verdict {c['verdict']}, {c['tests']} tests, {len(c['failed_tests'])} failed, "
                  f"{c['generated_requests']} generated requests", flush=True)

    baseline: set = set()
    base_info = None
    if "st" in columns:
        walls = []
        for _ in range(args.baseline_runs):  # the union: false positives vary a little from run to run
            with reference() as server:
                base = run_schemathesis(server, work / "st-clean", args.budget, args.seed)
            baseline |= set(base.failures)
            walls.append(round(base.wall, 1))
        base_info = {"failures": len(baseline), "walls": walls,
                     "signatures": sorted(" ".join(k) for k in baseline)}
        print(f"baseline: plain schemathesis on the clean reference ({args.baseline_runs} run(s)): "
              f"{len(baseline)} distinct failures (false positives), {', '.join(f'{w}s' for w in walls)}", flush=True)

    rows = []
    header = f"{'fault':<80} {'requirement':<16} {'ci':>12} {'full':>12} {'plain st':>12}  load"
    print(header)
    for name, fault in faults.items():
        load = load1()
        row = {"fault": name, "violates": fault.violates, "load": round(load, 2)}
        if "ci" in columns:
            row["ci"] = suite_cell(fault.patch, fault.violates, "ci", work / "ci", None)
        if "full" in columns:
            row["full"] = suite_cell(fault.patch, fault.violates, "full", work / "full", args.budget)
        if "st" in columns:
            row["st"] = st_cell(fault.patch, work / "st", args.budget, args.seed, baseline)
        rows.append(row)
        print(f"{name[:80]:<80} {fault.violates:<16} {mark(row.get('ci')):>12} {mark(row.get('full')):>12} "
              f"{mark(row.get('st')):>12}  {load:.2f}", flush=True)

    total = time.perf_counter() - started
    print(f"\ntotals over {len(rows)} faults ({total / 60:.1f} min, load at start {start_load:.2f}):")
    totals(rows, columns)
    overhead = None
    if not args.no_extras:
        result = measure_overhead(iterations=200, rounds=5)
        overhead = {"rates": result.rates, "ratio": round(result.ratio, 3), "load": round(load1(), 2)}
        print("client overhead against one reference (5 rounds x 200 iterations x 5 requests per client):")
        for line in result.lines():
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "baseline": base_info, "budget": args.budget,
                                         "clean": clean, "overhead": overhead,
                                         "seed": args.seed, "start_load": start_load, "minutes": total / 60},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
