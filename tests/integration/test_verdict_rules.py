"""The verdict rules on a whole run: a check decides its own requirement only, and a refused setup request
leaves the test's requirements "not verified" with the server's answer (conformance/checks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.reference.errors import BadRequest
from conformance.reference.store import Store
from tests.integration.conftest import Completed, run_against


def _verdicts(done: Completed) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in done.summary()["requirements"]}


def test_one_failing_check_fails_its_requirement_and_the_tests_other_checks_still_decide_theirs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The credential lifecycle test names nine requirements; a delete that keeps the credential breaks one."""
    monkeypatch.setattr(Store, "delete_credential", lambda self, platform_id, credential_id: True)
    done = run_against(None, tmp_path, "--requirement", "CRED-CRUD-014")
    found = _verdicts(done)
    assert done.code == 1, done.stdout + done.stderr
    assert found["CRED-CRUD-014"]["verdict"] == "failed"
    assert found["CRED-CRUD-014"]["decided_by"].endswith("test_credential_lifecycle") or \
        "test_credential" in found["CRED-CRUD-014"]["decided_by"]
    lifecycle = next(t for t in done.summary()["tests"] if t["nodeid"].endswith("test_credential_lifecycle"))
    outcomes = {c["requirement"]: c["outcome"] for c in lifecycle["checks"]}
    assert outcomes["CRED-CRUD-014"] == "failed"
    for independent in ("CRED-CRUD-001", "CRED-CRUD-008", "CRED-CRUD-009", "CRED-CRUD-010"):
        assert outcomes[independent] == "passed", (independent, outcomes)
        assert found[independent]["verdict"] != "failed", (independent, found[independent])
    assert outcomes.get("CRED-CRUD-015") == "not verified", "a check built on the failed delete must not fail"


def test_a_setup_request_the_server_refuses_leaves_the_requirements_not_verified_with_its_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Store, platform_id: int, fields: dict[str, Any], url_for: Any) -> dict[str, Any]:
        raise BadRequest("credentials are closed for maintenance")

    monkeypatch.setattr(Store, "create_credential", refuse)
    done = run_against(None, tmp_path, "--requirement", "CRED-CRUD-008")
    found = _verdicts(done)
    assert found["CRED-CRUD-008"]["verdict"] == "not verified", found["CRED-CRUD-008"]
    assert "closed for maintenance" in found["CRED-CRUD-008"]["reason"]
    lifecycle = next(t for t in done.summary()["tests"] if t["nodeid"].endswith("test_credential_lifecycle"))
    assert [c["outcome"] for c in lifecycle["checks"] if c["requirement"] == "CRED-CRUD-009"] == ["passed"], \
        "a check that needs no setup still runs"
    assert found["CRED-CRUD-001"]["verdict"] in ("failed", "not verified")  # creating is what CRED-CRUD-001 checks
