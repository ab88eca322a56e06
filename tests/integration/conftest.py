"""Helpers for whole runs: the CLI in a subprocess, a reference server in this process, its config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.reference import fixtures
from conformance.reference.readings import Readings
from conformance.reference.server import ReferenceServer

KEY_VARIABLES = {
    "dm_admin": "CONFORMANCE_DM_ADMIN_KEY",
    "platform_admin": "CONFORMANCE_PLATFORM_ADMIN_KEY",
    "other_platform_admin": "CONFORMANCE_OTHER_ADMIN_KEY",
    "learner": "CONFORMANCE_LEARNER_KEY",
    "department_admin": "CONFORMANCE_DEPARTMENT_ADMIN_KEY",
}


@dataclass
class Completed:
    """A finished CLI run."""

    code: int
    stdout: str
    stderr: str
    report_dir: Path

    def summary(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "summary.json").read_text())

    def verdict_of(self, requirement: str) -> str:
        (entry,) = [r for r in self.summary()["requirements"] if r["id"] == requirement]
        return str(entry["verdict"])


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without any CONFORMANCE_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "PYTEST_XDIST_"))}
    env.update(extra or {})
    return env


def run_cli(*args: str, report_dir: Path, env: dict[str, str] | None = None, timeout: float = 600) -> Completed:
    """`python -m conformance ...` in a subprocess."""
    proc = subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          env=env if env is not None else clean_env(), timeout=timeout, cwd=report_dir.parent)
    return Completed(proc.returncode, proc.stdout, proc.stderr, report_dir)


def write_target_config(path: Path, server: ReferenceServer, *, probe: bool = True) -> dict[str, str]:
    """A target config for a running reference server; returns the environment holding its keys."""
    probe_line = f'probe_url = "{server.base_url}{fixtures.PROBE_PATH}"' if probe else ""
    path.write_text(f"""
[target]
base_url = "{server.base_url}"
platform_key = "{fixtures.PLATFORM_KEY}"
other_platform_key = "{fixtures.OTHER_PLATFORM_KEY}"
{probe_line}

[keys]
{chr(10).join(f'{role} = "{var}"' for role, var in KEY_VARIABLES.items())}

[fixtures]
user_ids = {list(fixtures.USER_IDS)}
group_ids = {list(fixtures.GROUP_IDS)}
program_keys = {json.dumps(list(fixtures.PROGRAM_KEYS))}
role_ids = {list(fixtures.ROLE_IDS)}
internal_policy_ids = {list(fixtures.INTERNAL_POLICY_IDS)}
""")
    keys = server.keys
    return clean_env({var: getattr(keys, role) for role, var in KEY_VARIABLES.items()})


def run_against(readings: Readings | None, tmp_path: Path, *selection: str) -> Completed:
    """The ci profile (narrowed by `selection`: --requirement flags) against a reference on a loopback port serving
    `readings` (None: its own), started in this process (so a test can break one of its rules first)."""
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:", readings=readings)
    server.start()
    try:
        env = write_target_config(tmp_path / "target.toml", server)
        return run_cli("run", "--config", str(tmp_path / "target.toml"), "--profile", "ci", *selection,
                       "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)
    finally:
        server.stop()


@pytest.fixture
def reference() -> Iterator[ReferenceServer]:
    """A reference server on a loopback port, in this process (so a test can break one of its rules)."""
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    server.start()
    try:
        yield server
    finally:
        server.stop()
