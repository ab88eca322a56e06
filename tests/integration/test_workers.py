"""Parallel runs give the same verdicts as serial ones."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import run_cli

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
