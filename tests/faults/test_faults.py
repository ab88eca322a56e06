"""Every planted defect is caught: the ci profile, run against the broken reference with the tests of the
violated requirement selected, fails that requirement (a SHOULD or MAY one is reported as a warning). The clean
reference passes the whole profile with no failure (tests/integration/test_run.py); the whole-profile run
against each fault is the kill matrix of benchmarks/kill_matrix.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference.server import ReferenceServer
from conformance.spec.catalog import load_catalog
from tests.faults.registry import all_faults
from tests.integration.conftest import run_cli, write_target_config

FAULTS = all_faults()


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_caught(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fault = FAULTS[name]
    fault.patch(monkeypatch)
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    server.start()
    try:
        env = write_target_config(tmp_path / "target.toml", server)
        done = run_cli("run", "--config", str(tmp_path / "target.toml"), "--profile", "ci", "--requirement",
                       fault.violates, "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)
    finally:
        server.stop()
    binding = load_catalog().requirements[fault.violates].level == "MUST"
    expected = "failed" if binding else "warning"  # a broken SHOULD or MAY is reported, as a warning
    assert done.verdict_of(fault.violates) == expected, \
        f"{fault.violates} is {done.verdict_of(fault.violates)!r}, not {expected}:\n{done.stdout}\n{done.stderr}"
    if binding:
        assert done.code == 1, f"the run did not fail (exit {done.code}):\n{done.stdout}\n{done.stderr}"


def test_every_fault_names_a_catalog_requirement() -> None:
    catalog = load_catalog()
    unknown = {f.name: f.violates for f in FAULTS.values() if f.violates not in catalog}
    assert not unknown, f"faults naming unknown requirements: {unknown}"
