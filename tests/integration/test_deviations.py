"""Known deviations: a listed failure is a known deviation, a fixed one is flagged, an expired one fails again."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store
from tests.integration.conftest import run_cli, write_target_config


def deviations(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "deviations.yaml"
    path.write_text(f"target: reference\ndeviations:\n{entry}")
    return path


def run(tmp_path: Path, server: ReferenceServer, devs: Path) -> object:
    env = write_target_config(tmp_path / "t.toml", server)
    return run_cli("run", "--config", str(tmp_path / "t.toml"), "--deviations", str(devs), "--requirement",
                   "CAT-SEAT-003", "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)


SEAT = '  - requirement: CAT-SEAT-003\n    reason: "seat freed asynchronously (ticket 42)"\n'


def test_listed_failure_is_a_known_deviation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "delete_program_assignment", lambda self, *a, **k: True)
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        done = run(tmp_path, server, deviations(tmp_path, SEAT))
    assert done.verdict_of("CAT-SEAT-003") == "known deviation"
    # the broken unassign also breaks CAT-SEAT-001 (usage_count) in the same test: an entry for one requirement
    # never hides another requirement's failure
    assert done.verdict_of("CAT-SEAT-001") == "failed"
    assert done.code == 1, done.stdout + done.stderr
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        both = SEAT + '  - requirement: CAT-SEAT-001\n    reason: "usage_count lags the unassign (ticket 42)"\n'
        done = run(tmp_path, server, deviations(tmp_path, both))
    assert done.code == 0, done.stdout + done.stderr
    assert done.verdict_of("CAT-SEAT-003") == done.verdict_of("CAT-SEAT-001") == "known deviation"


def test_deviation_that_now_passes_is_flagged(tmp_path: Path, reference: ReferenceServer) -> None:
    done = run(tmp_path, reference, deviations(tmp_path, SEAT))
    assert done.code == 1, done.stdout + done.stderr
    entry = [r for r in done.summary()["requirements"] if r["id"] == "CAT-SEAT-003"][0]
    assert entry["verdict"] == "failed" and "deviation no longer needed" in entry["reason"]


def test_expired_deviation_counts_as_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "delete_program_assignment", lambda self, *a, **k: True)
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        done = run(tmp_path, server, deviations(tmp_path, SEAT + "    expires: 2020-01-01\n"))
    assert done.code == 1, done.stdout + done.stderr
    assert done.verdict_of("CAT-SEAT-003") == "failed"


def test_bad_deviations_file_is_a_usage_error(tmp_path: Path, reference: ReferenceServer) -> None:
    done = run(tmp_path, reference, deviations(tmp_path, "  - requirement: CAT-SEAT-003\n"))
    assert done.code == 2
    assert "needs a reason" in done.stderr
