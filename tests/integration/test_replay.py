"""A failure is replayed before it counts: one that does not reproduce is flaky (a flaky MUST still fails the gate),
one that does is a failure."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store
from tests.integration.conftest import run_cli, write_target_config


def run_seat_test(tmp_path: Path, *extra: str) -> Any:
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        env = write_target_config(tmp_path / "t.toml", server)
        return run_cli("run", "--config", str(tmp_path / "t.toml"), "--requirement", "CAT-SEAT-003", *extra,
                       "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)


def test_a_failure_that_does_not_reproduce_is_flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Store.delete_program_assignment
    first = threading.Event()

    def keeps_the_seat_once(self: Store, *args: Any, **kwargs: Any) -> Any:
        if not first.is_set():
            first.set()
            return True  # claims success, deletes nothing: only the first time
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "delete_program_assignment", keeps_the_seat_once)
    done = run_seat_test(tmp_path)
    assert done.code == 1, "a flaky MUST fails the gate\n" + done.stdout + done.stderr
    assert done.verdict_of("CAT-SEAT-003") == "flaky"
    flaky = [t for t in done.summary()["tests"] if t["outcome"] == "flaky"]
    assert flaky and "failed, then passed when replayed" in flaky[0]["message"]
    assert "flaky" in done.stdout


def test_a_failure_that_reproduces_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "delete_program_assignment", lambda self, *a, **k: True)
    done = run_seat_test(tmp_path)
    assert done.code == 1
    failed = [t for t in done.summary()["tests"] if t["outcome"] == "failed"]
    assert failed and "reproduced when replayed" in failed[0]["message"]
