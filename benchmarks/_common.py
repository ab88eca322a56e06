"""Shared helpers of the benchmarks (not tests): load check, a reference server, suite and schemathesis runs."""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/x.py` puts benchmarks/ first, not the repository
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from conformance.reference.server import ReferenceServer  # noqa: E402

CONTRACT = ROOT / "openapi" / "ibl-data-manager.yaml"
PROGRESS = set(".FEsxXfwR")  # pytest progress characters (R: a failure being replayed)
FAILURE_MARKS = set("RFE")  # R: the first attempt failed (the run replays it)


class Counting:
    """ASGI middleware: every HTTP request the app answers is added to count[0]."""

    def __init__(self, app: Any, count: list[int]) -> None:
        self.app = app
        self.count = count

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count[0] += 1
        await self.app(scope, receive, send)


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def machine() -> str:
    """A one-line description of this machine."""
    return f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def wait_for_quiet(threshold: float = 1.5, max_wait: float = 1200.0, step: float = 60.0) -> float:
    """Wait (up to `max_wait`) until the 1-minute load is below `threshold`; returns the load measured at the start.

    Gives up after `max_wait` and measures anyway: the caller records the load it got.
    """
    waited = 0.0
    while True:
        load = load1()
        print(f"[load] 1-min load {load:.2f} (uptime: {_uptime()})", flush=True)
        if load < threshold:
            return load
        if waited >= max_wait:
            print(f"[load] still {load:.2f} >= {threshold} after {waited:.0f}s: measuring anyway", flush=True)
            return load
        time.sleep(step)
        waited += step


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


@contextmanager
def reference(patch: Callable[[pytest.MonkeyPatch], None] | None = None) -> Iterator[ReferenceServer]:
    """A reference server in this process on a loopback port, with `patch` (a planted fault) applied first."""
    mp = pytest.MonkeyPatch()
    try:
        if patch is not None:
            patch(mp)
        server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        mp.undo()


def target_env(server: ReferenceServer, config: Path) -> dict[str, str]:
    """Write a target config for `server` to `config`; returns the environment holding its keys."""
    from tests.integration.conftest import write_target_config

    config.parent.mkdir(parents=True, exist_ok=True)
    env = write_target_config(config, server)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class SuiteRun:
    """One `conformance run`."""

    code: int | None
    wall: float
    first_failure: float | None  # seconds from start to the first F/E progress mark
    interrupted: bool
    summary: dict[str, Any] | None
    output: str = field(repr=False, default="")

    def verdict(self, requirement: str) -> str | None:
        if not self.summary:
            return None
        for entry in self.summary["requirements"]:
            if entry["id"] == requirement:
                return str(entry["verdict"])
        return None

    def verdicts(self) -> dict[str, str]:
        return {r["id"]: r["verdict"] for r in (self.summary or {}).get("requirements", [])}


def run_suite(args: list[str], report_dir: Path, env: dict[str, str] | None = None,
              budget: float | None = None) -> SuiteRun:
    """`python -m conformance run ARGS --report-dir DIR`; SIGTERM after `budget` seconds (the run then stops
    like Ctrl-C and still writes its summary). The progress line is read as it comes to time the first failure."""
    report_dir.mkdir(parents=True, exist_ok=True)
    summary_path = report_dir / "summary.json"
    summary_path.unlink(missing_ok=True)
    env = dict(env if env is not None else os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", *args, "--report-dir", str(report_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=report_dir.parent,
                            start_new_session=True)
    first: list[float] = []
    chunks: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        in_progress = True
        while True:
            byte = proc.stdout.read(1)
            if not byte:
                return
            char = byte.decode("utf-8", "replace")
            chunks.append(char)
            if in_progress:
                if char in FAILURE_MARKS and not first:
                    first.append(time.perf_counter() - started)
                elif char not in PROGRESS and not char.isspace():
                    in_progress = False

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    interrupted = False
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        interrupted = True
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    wall = time.perf_counter() - started
    reader.join(timeout=5)
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else None
    return SuiteRun(proc.returncode, wall, first[0] if first else None, interrupted, summary, "".join(chunks))


@dataclass
class StRun:
    """One plain `st run`."""

    code: int | None
    wall: float
    failures: dict[tuple[str, str, str], float]  # (operation, check, failure type) -> seconds to its first report
    output: str = field(repr=False, default="")


def run_schemathesis(server: ReferenceServer, report_dir: Path, budget: float, seed: int) -> StRun:
    """`st run --checks all CONTRACT --url BASE -H 'Authorization: Api-Token KEY' --max-time BUDGET`."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for old in report_dir.glob("*.ndjson"):
        old.unlink()
    st = Path(sys.executable).parent / "st"
    command = [str(st), "run", "--checks", "all", str(CONTRACT), "--url", server.base_url,
               "-H", f"Authorization: Api-Token {server.keys.dm_admin}", "--max-time", str(int(budget)),
               "--seed", str(seed), "--report", "ndjson", "--report-dir", str(report_dir), "--no-color"]
    started_wall, started = time.time(), time.perf_counter()
    try:  # --max-time bounds fuzzing and stateful testing; the outer timeout is a safety net
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=budget + 120)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, output = None, str(exc.stdout or "")
    wall = time.perf_counter() - started
    failures: dict[tuple[str, str, str], float] = {}
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished.get("status") not in ("failure", "error"):
                continue
            at = float(finished.get("timestamp", started_wall)) - started_wall
            for checks in (finished.get("recorder") or {}).get("checks", {}).values():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    info = (check.get("failure_info") or {}).get("failure") or {}
                    key = (str(info.get("operation", "?")), str(check.get("name")), str(info.get("type", "?")))
                    failures[key] = min(at, failures.get(key, at))
            if finished.get("status") == "error":
                key = (str((finished.get("recorder") or {}).get("label", "?")), "error", "error")
                failures[key] = min(at, failures.get(key, at))
    return StRun(code, wall, failures, output)


def fmt_time(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"


def print_ab_medians(runs: dict[bool, list[dict[str, Any]]], figures: Sequence[str]) -> dict[bool, dict[str, float]]:
    """Alternating runs without (False) and with (True) a change: print the median of each figure both ways and their
    ratio (with : without), and return the medians."""
    medians = {variant: {key: statistics.median(r[key] for r in rs) for key in figures} for variant, rs in runs.items()}
    for key in figures:
        print(f"median {key}: without {medians[False][key]:.3f}, with {medians[True][key]:.3f} "
              f"({medians[True][key] / medians[False][key]:.2f}x)")
    return medians


def same_verdicts(runs: dict[bool, list[dict[str, Any]]]) -> bool:
    """True when every run gave every requirement the verdict the first run without the change gave it."""
    return all(r["verdicts"] == runs[False][0]["verdicts"] for rs in runs.values() for r in rs)
