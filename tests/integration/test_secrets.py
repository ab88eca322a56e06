"""Keys never leave the process: not in stdout, logs, JUnit, Allure, summary, HTML, history, bundle or curl."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conformance.reference.app import ReferenceKeys
from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store
from tests.integration.conftest import run_cli, write_target_config

KEYS = ReferenceKeys(dm_admin="RECOGNISABLE-dm-admin-key-7f3a9c", platform_admin="RECOGNISABLE-alpha-admin-key-51d2",
                     other_platform_admin="RECOGNISABLE-beta-admin-key-88e0", learner="RECOGNISABLE-learner-key-0b4f")


def everything_written(folder: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    texts[f"{path.name}!{name}"] = archive.read(name).decode("utf-8", "replace")
        else:
            texts[str(path.relative_to(folder))] = path.read_bytes().decode("utf-8", "replace")
    return texts


def test_no_key_appears_in_any_output_even_when_tests_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "delete_program_assignment", lambda self, *a, **k: True)  # failures carry evidence
    with ReferenceServer(host="127.0.0.1", port=0, keys=KEYS) as server:
        env = write_target_config(tmp_path / "t.toml", server)
        out = tmp_path / "out"
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--report-dir", str(out),
                       "--requirement", "CAT-SEAT", "--requirement", "CORE-RBAC-02", report_dir=out, env=env)
    assert done.code == 1, done.stdout + done.stderr
    written = everything_written(out)
    assert any(name.startswith("allure-results") for name in written)
    assert any("curl" in text for text in written.values()), "failures carry a curl reproduction"
    assert any("$CONFORMANCE_DM_ADMIN_KEY" in text for text in written.values())
    outputs = {"stdout": done.stdout, "stderr": done.stderr, **written}
    for key in (KEYS.dm_admin, KEYS.platform_admin, KEYS.other_platform_admin, KEYS.learner):
        leaks = [name for name, text in outputs.items() if key in text]
        assert not leaks, f"a key appeared in {leaks}"
