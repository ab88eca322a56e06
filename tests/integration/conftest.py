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
from conformance.reference.server import ReceivedRequest, ReferenceServer, RequestLog

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
    """The environment without any CONFORMANCE_* setting but one worker (the project's tests run many runs side by
    side: a run's own workers would only crowd them), and without a hypothesis storage folder (a run picks its own),
    plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONFORMANCE_", "PYTEST_XDIST_", "HYPOTHESIS_STORAGE_DIRECTORY"))}
    env["CONFORMANCE_WORKERS"] = "1"
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


def probe_state(server: ReferenceServer) -> dict[str, Any]:
    """The reference's hidden state (counts of every table) through its probe."""
    import httpx

    headers = {"Authorization": f"Api-Token {server.keys.dm_admin}"}
    return httpx.get(f"{server.base_url}{fixtures.PROBE_PATH}/v1/state", headers=headers).json()


def license_rows(server: ReferenceServer) -> int:
    objects = probe_state(server)["objects"]
    return int(objects["program_licenses"] + objects["user_licenses"])


@dataclass
class ServedRun:
    """One whole ci run against a served reference with every key, the probe and a request log: several tests
    judge the same run (each whole ci run costs about 40 s of the project's 10-minute budget)."""

    server: ReferenceServer
    env: dict[str, str]
    config: Path
    done: Completed
    objects_before: dict[str, int]
    objects_after: dict[str, int]
    license_rows_before: int
    license_rows_after: int
    requests: list[ReceivedRequest]


@pytest.fixture(scope="session")
def served_ci_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedRun]:
    """The ci profile once against a served reference; what the reference held before and after, and what it received.
    A test that runs again against the same server (test_cleanup's second run) does so after the others read this."""
    tmp_path = tmp_path_factory.mktemp("served-ci")
    log = RequestLog()
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:", request_log=log)
    server.start()
    try:
        env = write_target_config(tmp_path / "target.toml", server)
        objects_before, rows_before = probe_state(server)["objects"], license_rows(server)
        done = run_cli("run", "--config", str(tmp_path / "target.toml"), "--profile", "ci",
                       "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)
        yield ServedRun(server, env, tmp_path / "target.toml", done, objects_before, probe_state(server)["objects"],
                        rows_before, license_rows(server), list(log.requests))
    finally:
        server.stop()
