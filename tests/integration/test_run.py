"""Whole runs against the reference: the embedded default target, and a separately started server."""

from __future__ import annotations

from pathlib import Path

from conformance.reference.server import ReferenceServer
from tests.integration.conftest import run_cli, write_target_config

NAMED_SCENARIOS = ("CAT-LICUPD-010", "CAT-LICUPD-011", "CAT-SEAT-001", "CAT-SEAT-002", "CAT-SEAT-003",
                   "CORE-RBAC-020", "CORE-RBAC-021", "CORE-RBAC-022")


def test_run_without_a_target_uses_the_embedded_reference_and_passes(tmp_path: Path) -> None:
    done = run_cli("run", "--report-dir", str(tmp_path / "reports"), report_dir=tmp_path / "reports")
    assert done.code == 0, done.stdout + done.stderr
    summary = done.summary()
    assert summary["verdict"] == "conformant"
    assert summary["target"]["embedded"] is True
    assert summary["counts"]["tests"]["failed"] == 0
    for requirement in NAMED_SCENARIOS:
        assert done.verdict_of(requirement) == "passed", requirement
    assert (tmp_path / "reports" / "junit.xml").is_file()
    assert "verdict: conformant" in done.stdout
    assert "conformance: conformant (exit 0)" in done.stdout


def test_run_against_a_served_reference_with_a_config(tmp_path: Path, reference: ReferenceServer) -> None:
    config = tmp_path / "target.toml"
    env = write_target_config(config, reference)
    done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env)
    assert done.code == 0, done.stdout + done.stderr
    assert done.summary()["target"]["base_url"] == reference.base_url
    keys = [v for k, v in env.items() if k.endswith("_KEY") and k.startswith("CONFORMANCE_")]
    outputs = [done.stdout, done.stderr] + [p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()]
    for key in keys:
        assert all(key not in text for text in outputs), "a key appeared in the output"


def test_without_a_probe_history_requirements_are_not_verified(tmp_path: Path, reference: ReferenceServer) -> None:
    config = tmp_path / "target.toml"
    env = write_target_config(config, reference, probe=False)
    done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env)
    assert done.code == 0, done.stdout + done.stderr
    assert done.verdict_of("CAT-LICUPD-010") == "not verified"
    assert done.verdict_of("CAT-LICUPD-011") == "not verified"
    assert done.verdict_of("CAT-SEAT-003") == "passed"
