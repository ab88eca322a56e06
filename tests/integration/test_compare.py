"""`conformance report --compare` names exactly the requirements whose verdict changed between two runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store
from tests.integration.conftest import run_cli, write_target_config

SELECTION = ("--requirement", "CAT-SEAT", "--requirement", "CORE-RBAC-02")


def run_once(tmp_path: Path, out: Path) -> dict[str, str]:
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        env = write_target_config(tmp_path / "t.toml", server)
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), *SELECTION, "--report-dir", str(out),
                       report_dir=out, env=env)
    assert done.code in (0, 1), done.stdout + done.stderr
    return {r["id"]: r["verdict"] for r in done.summary()["requirements"]}


def test_compare_names_the_requirements_a_broken_rule_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    clean = run_once(tmp_path, out)
    monkeypatch.setattr(Store, "delete_program_assignment", lambda self, *a, **k: True)
    broken = run_once(tmp_path, out)
    changed = {req for req in clean if clean[req] != broken[req]}
    assert "CAT-SEAT-003" in changed

    done = run_cli("report", "--compare", "--report-dir", str(out), report_dir=out)
    assert done.code == 0, done.stderr
    named = set(re.findall(r"^\s+((?:CAT|CORE|CRED|GEN)-[A-Z]+-\d{3})", done.stdout, re.MULTILINE))
    assert named == changed, done.stdout
    section = done.stdout.split("newly failing:", 1)[1].split("fixed:", 1)[0]
    assert "CAT-SEAT-003" in section
