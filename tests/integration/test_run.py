"""Whole runs against the reference: the embedded default target, and a separately started server."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.reference.server import ReferenceServer
from tests.integration.conftest import KEY_VARIABLES, ServedRun, clean_env, run_cli, write_target_config

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
    assert_five_outputs(tmp_path / "reports")
    allure_results = tmp_path / "reports" / "allure-results"
    results = [json.loads(p.read_text()) for p in allure_results.glob("*-result.json")]
    seat = [r for r in results if r["name"] == "test_unassigning_frees_a_seat"]
    assert seat and seat[0]["steps"], "each request of a test is a step"
    steps = [step["name"] for step in seat[0]["steps"]]
    assert steps[0].startswith("#1 ") and any(" POST /api/" in s and " -> 20" in s for s in steps), steps
    (attachment,) = seat[0]["attachments"]  # the test's exchanges, in order, in one attachment
    transcript = (allure_results / attachment["source"]).read_text()
    assert "POST http" in transcript and "reproduce: curl" in transcript, "exchanges are attached"
    assert transcript.index(steps[-2]) < transcript.index(steps[-1])
    assert not list(allure_results.glob("*-container.json")), "no fixture failed: no fixture container is written"
    assert {"CAT-SEAT-003"} <= {label["value"] for label in seat[0]["labels"] if label["name"] == "story"}
    assert (tmp_path / "reports" / "allure-results" / "environment.properties").is_file()
    by_requirement = {r["fullName"]: r for r in results if r.get("fullName", "").startswith("requirements.")}
    assert by_requirement["requirements.CAT-SEAT-003"]["status"] == "passed"
    assert "decided by" in by_requirement["requirements.CAT-SEAT-003"]["statusDetails"]["trace"]
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    (requirements,) = junit.findall("testsuite[@name='requirements']")
    cases = {case.get("name"): case for case in requirements.findall("testcase")}
    assert set(cases) == {r["id"] for r in summary["requirements"]}
    verdict = {p.get("name"): p.get("value") for p in cases["CAT-SEAT-003"].iter("property")}
    assert verdict["verdict"] == "passed" and verdict["decided_by"], verdict
    timings = summary["timings"]
    assert timings["startup"] > 0 and timings["generated_tests"] > 0 and timings["scenarios"] > 0, timings
    assert "time: start-up" in done.stdout
    assert "verdict: conformant" in done.stdout
    assert "conformance: conformant (exit 0)" in done.stdout
    assert not (tmp_path / ".hypothesis").exists(), "hypothesis keeps its data in the cache folder, not where a run starts"
    assert not list((tmp_path / "reports").glob("ledger*")), "the embedded reference's ledger is kept in memory"


def assert_every_observable_requirement_passed(summary: dict[str, Any]) -> None:
    """On the reference (every key, the probe, every fixture) each requirement the API or the probe can show has
    checks that ran and held: a "not verified" here is a check that is missing or never reached."""
    undecided = {r["id"]: r["reason"] for r in summary["requirements"]
                 if r["observable"] != "none" and r["verdict"] != "passed"}
    assert not undecided, f"requirements not passed on the reference: {undecided}"


FIVE_OUTPUTS = ("junit.xml", "summary.json", "report.html", "allure-results", "history")


def assert_five_outputs(report_dir: Path) -> None:
    for name in FIVE_OUTPUTS:
        path = report_dir / name
        assert path.exists() and (path.is_file() or any(path.iterdir())), f"{name} is missing from {report_dir}"


def test_run_against_conformance_serve_with_the_sample_config(tmp_path: Path) -> None:
    """As a vendor would: `conformance serve` in one process, `conformance run --config` in another."""
    sample = Path(__file__).resolve().parents[2] / "conformance.example.toml"
    env = clean_env({var: f"key-{secrets.token_hex(8)}" for var in KEY_VARIABLES.values()})
    server = subprocess.Popen([sys.executable, "-m", "conformance", "serve", "--port", "0"], cwd=tmp_path, env=env,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        banner = server.stdout.readline() if server.stdout else ""
        url = banner[banner.index("http://"):].split()[0]
        config = tmp_path / "vendor.toml"
        config.write_text(sample.read_text().replace("https://staging.example.com", url))
        done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                       "--requirement", "CAT-SEAT", "--requirement", "CORE-RBAC-02", report_dir=tmp_path / "out",
                       env=env)
    finally:
        server.terminate()
        server.communicate(timeout=20)
    assert done.code == 0, done.stdout + done.stderr
    assert done.verdict_of("CAT-SEAT-003") == "passed" and done.verdict_of("CORE-RBAC-020") == "passed"
    assert_five_outputs(tmp_path / "out")


def test_run_against_a_served_reference_with_a_config(served_ci_run: ServedRun) -> None:
    done = served_ci_run.done
    assert done.code == 0, done.stdout + done.stderr
    counts = done.summary()["counts"]["tests"]
    assert counts["failed"] == 0 and counts.get("warning", 0) == 0, counts  # the baseline of tests/faults
    assert_every_observable_requirement_passed(done.summary())
    assert done.summary()["target"]["base_url"] == served_ci_run.server.base_url
    assert_five_outputs(done.report_dir)  # (no key in any of them: tests/integration/test_secrets.py)


def test_without_a_probe_history_requirements_are_not_verified(tmp_path: Path, reference: ReferenceServer) -> None:
    config = tmp_path / "target.toml"
    env = write_target_config(config, reference, probe=False)
    done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                   "--requirement", "CAT-LICUPD-01", "--requirement", "CAT-SEAT-003", report_dir=tmp_path / "out", env=env)
    assert done.code == 0, done.stdout + done.stderr
    assert done.verdict_of("CAT-LICUPD-010") == "not verified"
    assert done.verdict_of("CAT-LICUPD-011") == "not verified"
    assert done.verdict_of("CAT-SEAT-003") == "passed"


DEPARTMENT = ("CAT-ACL-016", "CAT-ACL-019", "CAT-ACL-020", "CAT-SUG-005", "CAT-SUGG-005")


def test_the_department_requirements_need_the_department_admin_key(tmp_path: Path, served_ci_run: ServedRun,
                                                                   reference: ReferenceServer) -> None:
    """With the optional department-admin key (the shared served run) they are verified; a config that names no such
    key leaves them "not verified" with the reason."""
    for requirement in DEPARTMENT:
        assert served_ci_run.done.verdict_of(requirement) == "passed", requirement
    config = tmp_path / "target.toml"
    env = write_target_config(config, reference)
    config.write_text(config.read_text().replace('department_admin = "CONFORMANCE_DEPARTMENT_ADMIN_KEY"\n', ""))
    env.pop("CONFORMANCE_DEPARTMENT_ADMIN_KEY")
    selection = [arg for requirement in DEPARTMENT for arg in ("--requirement", requirement)]
    done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"), *selection,
                   report_dir=tmp_path / "out", env=env)
    assert done.code in (0, 2), done.stdout + done.stderr  # 2: nothing could be verified
    reasons = {r["id"]: r.get("reason") or "" for r in done.summary()["requirements"] if r["id"] in DEPARTMENT}
    assert reasons and all(done.verdict_of(requirement) == "not verified" for requirement in reasons), reasons
    assert all("department-admin key" in reason for reason in reasons.values()), reasons
