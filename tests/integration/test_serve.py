"""`conformance serve`: starts the reference, keeps keys off the screen, and refuses bad input in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.integration.conftest import clean_env


@contextmanager
def served(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "serve", *args], cwd=tmp_path, text=True,
                            env=env or clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        banner = ""
        deadline = time.monotonic() + 30
        while "http://" not in banner and time.monotonic() < deadline and proc.poll() is None:
            banner += proc.stdout.readline() if proc.stdout else ""
        yield proc, banner
    finally:
        proc.terminate()
        proc.communicate(timeout=20)  # also closes the pipes


def test_serve_generates_missing_keys_into_a_private_file_and_prints_none(tmp_path: Path) -> None:
    with served(tmp_path, "--port", "0") as (proc, banner):
        url = banner[banner.index("http://"):].split()[0]
        keys_file = tmp_path / "reference-keys.env"
        assert keys_file.is_file() and (keys_file.stat().st_mode & 0o077) == 0
        exports = dict(line.removeprefix("export ").split("=", 1) for line in keys_file.read_text().splitlines())
        assert set(exports) == {"CONFORMANCE_DM_ADMIN_KEY", "CONFORMANCE_PLATFORM_ADMIN_KEY",
                                "CONFORMANCE_OTHER_ADMIN_KEY", "CONFORMANCE_LEARNER_KEY",
                                "CONFORMANCE_DEPARTMENT_ADMIN_KEY"}
        assert all(value not in banner for value in exports.values())
        answer = httpx.get(f"{url}/api/catalog/licenses/program/",
                           headers={"Authorization": f"Api-Token {exports['CONFORMANCE_DM_ADMIN_KEY']}"})
        assert answer.status_code == 200


def test_serve_keeps_data_in_its_database_file(tmp_path: Path) -> None:
    env = clean_env({"CONFORMANCE_DM_ADMIN_KEY": "dm-key-for-this-test"})
    headers = {"Authorization": "Api-Token dm-key-for-this-test"}
    for attempt in range(2):
        with served(tmp_path, "--port", "0", "--database", str(tmp_path / "ref.sqlite"), env=env) as (_, banner):
            url = banner[banner.index("http://"):].split()[0]
            if attempt == 0:
                body = {"platform_key": "alpha", "program_key": "program-v1:alpha+data+2024",
                        "program_id": "program-v1:alpha+data+2024", "name": "kept", "count": 1,
                        "started": "2026-01-01T00:00:00Z", "external_id": "kept-across-restarts"}
                assert httpx.post(f"{url}/api/catalog/licenses/program/create/", json=body, headers=headers).is_success
            else:
                found = httpx.get(f"{url}/api/catalog/licenses/program/", headers=headers,
                                  params={"external_id": "kept-across-restarts"}).json()
                assert found["count"] == 1


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "conformance", "serve", "--port", str(port)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, env=clean_env())
    assert done.returncode == 2
    assert "choose another --port" in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    missing = subprocess.run([sys.executable, "-m", "conformance", "serve", "--database", str(tmp_path / "no" / "x.db")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60, env=clean_env())
    assert missing.returncode == 2 and "folder does not exist" in missing.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(4096))
    broken = subprocess.run([sys.executable, "-m", "conformance", "serve", "--port", "0", "--database", str(garbage)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, env=clean_env())
    assert broken.returncode == 2 and "cannot be used" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "conformance", "serve", "--port", "70000"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env=clean_env())
    assert done.returncode == 2 and "between 0 and 65535" in done.stderr
