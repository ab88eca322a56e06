"""Severity follows the level: a broken SHOULD is a warning, a broken MUST a failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse

from conformance.reference import errors
from conformance.reference.server import ReferenceServer
from conformance.spec.catalog import load_catalog
from tests.integration.conftest import run_cli, write_target_config


def test_a_broken_should_requirement_is_a_warning_not_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_catalog().requirements["GEN-AUTH-007"].level == "SHOULD"
    original = errors.error_response

    def no_detail_on_401(status_code: int, detail: str, headers: Any = None) -> JSONResponse:
        if status_code == 401:
            return JSONResponse({"message": detail}, status_code=401, headers=headers)
        return original(status_code, detail, headers)

    monkeypatch.setattr(errors, "error_response", no_detail_on_401)
    with ReferenceServer(host="127.0.0.1", port=0) as server:
        env = write_target_config(tmp_path / "t.toml", server)
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--requirement", "GEN-AUTH-007",
                       "--report-dir", str(tmp_path / "o"), report_dir=tmp_path / "o", env=env)
    tests = done.summary()["tests"]
    should_only = [t for t in tests if t["requirements"] == ["GEN-AUTH-007"]]
    assert should_only and all(t["outcome"] == "warning" for t in should_only), should_only
    binding = [t for t in tests if t["outcome"] == "failed"]
    assert all(any(load_catalog().requirements[r].level == "MUST" for r in t["requirements"]) for t in binding)
    assert done.code == (1 if binding else 0), done.stdout + done.stderr
