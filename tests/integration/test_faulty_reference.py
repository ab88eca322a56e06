"""Each named scenario catches a reference with the matching rule broken."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.reference.server import ReferenceServer
from conformance.reference.store import Store
from tests.integration.conftest import run_cli, write_target_config


def no_history(self: Store, *args: Any, **kwargs: Any) -> None:
    """The update goes through but leaves no history record."""


def never_frees(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_but_keep_the_seat(self: Store, *args: Any, **kwargs: Any) -> Any:
        return True  # claims success, deletes nothing
    return delete_but_keep_the_seat


FAULTS = {
    "history not written": ("record_license_history", lambda original: no_history, "CAT-LICUPD-010"),
    "unassign keeps the seat": ("delete_program_assignment", never_frees, "CAT-SEAT-003"),
    "internal policies shown": ("is_hidden_policy", lambda original: (lambda self, *a, **k: False), "CORE-RBAC-020"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_scenario_catches_broken_rule(fault: str, tmp_path: Path, reference: ReferenceServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    method, make, requirement = FAULTS[fault]
    monkeypatch.setattr(Store, method, make(getattr(Store, method)))
    config = tmp_path / "target.toml"
    env = write_target_config(config, reference)
    done = run_cli("run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env)
    assert done.code == 1, done.stdout + done.stderr
    assert done.verdict_of(requirement) == "failed"
    assert f"FAILED {requirement}" in done.stdout
    assert "non-conformant" in done.stderr
