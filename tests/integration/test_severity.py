"""Severity follows the level: a broken SHOULD is a warning (exit 0), a broken MUST a failure (exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.server import ReferenceServer
from conformance.spec.catalog import load_catalog
from tests.faults.registry import all_faults
from tests.integration.conftest import run_cli, write_target_config


def test_a_broken_should_requirement_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = load_catalog()
    should = [f for f in all_faults().values() if catalog.requirements[f.violates].level == "SHOULD"]
    if not should:
        pytest.fail("no planted fault breaks a SHOULD requirement: add one to tests/faults")
    fault = sorted(should, key=lambda f: f.name)[0]
    fault.patch(monkeypatch)
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        env = write_target_config(tmp_path / "t.toml", server)
        selection = [arg for prefix in fault.select for arg in ("--requirement", prefix)]
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), *selection, "--report-dir", str(tmp_path / "o"),
                       report_dir=tmp_path / "o", env=env)
    verdict = done.verdict_of(fault.violates)
    must_failed = [r["id"] for r in done.summary()["requirements"] if r["verdict"] == "failed"]
    if must_failed:  # the same fault also broke a MUST: then the run is non-conformant, rightly
        assert done.code == 1
    else:
        assert done.code == 0, done.stdout + done.stderr
        assert "warning" in done.stdout
    assert verdict in ("warning", "failed")
