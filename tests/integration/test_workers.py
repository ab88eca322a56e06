"""Parallel runs give the same verdicts as serial ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import clean_env, run_cli

SELECTION = ("--requirement", "CAT-SEAT", "--requirement", "CORE-RBAC", "--requirement", "CRED-CRUD")


def verdicts(tmp_path: Path, workers: int) -> dict[str, str]:
    out = tmp_path / f"w{workers}"
    done = run_cli("run", "--workers", str(workers), *SELECTION, "--report-dir", str(out), report_dir=out)
    assert done.code == 0, done.stdout + done.stderr
    return {r["id"]: r["verdict"] for r in done.summary()["requirements"]}


def test_two_workers_give_the_same_verdicts_as_one(tmp_path: Path) -> None:
    serial, parallel = verdicts(tmp_path, 1), verdicts(tmp_path, 2)
    assert serial == parallel
    assert list(serial.values()).count("passed") > 30


def test_a_foreign_pytest_plugin_installed_beside_the_suite_cannot_change_its_verdict(tmp_path: Path) -> None:
    """A pytest plugin installed in the same environment (here one that fails every test it sees, in every
    process) is not loaded by a run, serial or parallel: the run loads only the plugins it names."""
    site = tmp_path / "site"
    dist = site / "sabotage_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sabotage-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nsabotage = sabotage_plugin\n")
    (site / "sabotage_plugin.py").write_text(
        "import pytest\n\n"
        "@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_runtest_call(item):\n"
        "    raise AssertionError('sabotaged by a foreign plugin')\n")
    env = clean_env({"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))})
    probe = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; "
                            "print([e.name for e in m.entry_points(group='pytest11')])"],
                           env=env, capture_output=True, text=True, check=True)
    assert "sabotage" in probe.stdout  # the plugin is installed: plain pytest would load it
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        done = run_cli("run", "--workers", workers, "--requirement", "CAT-SEAT", "--report-dir", str(out),
                       report_dir=out, env=env)
        assert done.code == 0, done.stdout + done.stderr
        assert "sabotaged" not in (out / "junit.xml").read_text()


def test_two_workers_against_a_live_target_share_one_rate_limit_and_one_ledger(tmp_path: Path) -> None:
    """The request rate is measured where it matters, at the server: no one-second window holds more requests
    than the limit, though two processes send them; the one ledger both workers wrote is drained."""
    import bisect
    import time
    from typing import Any

    from conformance.reference.server import ReferenceServer
    from tests.integration.conftest import write_target_config

    limit = 20
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    stamps: list[float] = []

    class Stamped:  # an ASGI middleware: when each API request reached the server
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/api/"):
                stamps.append(time.monotonic())
            await self.app(scope, receive, send)

    server.app.add_middleware(Stamped)
    server.start()
    try:
        env = write_target_config(tmp_path / "t.toml", server)
        out = tmp_path / "out"
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--workers", "2", "--rate-limit", str(limit),
                       "--requirement", "CAT-SEAT", "--report-dir", str(out), report_dir=out, env=env)
    finally:
        server.stop()
    assert done.code == 0, done.stdout + done.stderr
    stamps.sort()
    busiest = max(bisect.bisect_right(stamps, t + 1.0) - i for i, t in enumerate(stamps))
    assert len(stamps) > 2 * limit, f"only {len(stamps)} requests: too few to tell"
    assert busiest <= limit + 1, f"{busiest} requests within one second, with --rate-limit {limit}"
    assert not list(out.glob("ledger*.jsonl")), "the run's ledger was not drained"
