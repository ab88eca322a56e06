"""Every way to misuse the command line ends with one line and the documented exit code."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.conftest import clean_env, run_cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize(
    ("args", "config", "env", "code", "message"),
    [
        (["--profile", "turbo"], None, {}, 2, "invalid choice: 'turbo'"),
        (["--base-url", "not a url"], None, {}, 2, "must be an http(s) URL"),
        ([], "[keys]\ndm_admin = \"NO_SUCH_VARIABLE\"\n", {}, 2, "NO_SUCH_VARIABLE is not set"),
        ([], "[run]\ntimeout = 0\n", {}, 2, "must be more than 0 seconds"),
        ([], "[target\n", {}, 2, "is not valid TOML"),
        ([], None, {"CONFORMANCE_PROFILE": "fast"}, 2, "unknown profile 'fast'"),
        (["--config", "missing.toml"], None, {}, 2, "does not exist"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], config: str | None, env: dict[str, str],
                             code: int, message: str) -> None:
    if config is not None:
        (tmp_path / "bad.toml").write_text(config)
        args = ["--config", str(tmp_path / "bad.toml"), *args]
    done = run_cli("run", *args, report_dir=tmp_path / "reports", env=clean_env(env))
    assert done.code == code, done.stdout + done.stderr
    assert message in last_line(done.stderr)
    assert "Traceback" not in done.stderr


def test_unreachable_target_exits_3(tmp_path: Path) -> None:
    done = run_cli("run", "--base-url", f"http://127.0.0.1:{free_port()}", report_dir=tmp_path / "r")
    assert done.code == 3, done.stdout + done.stderr
    assert "unreachable" in last_line(done.stderr)


def test_report_dir_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_cli("run", "--report-dir", str(blocker / "reports"), report_dir=tmp_path / "r")
    assert done.code == 2, done.stdout + done.stderr
    assert "not writable" in last_line(done.stderr)


def test_invalid_contract_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n")
    done = run_cli("spec", "--contract", str(broken), report_dir=tmp_path / "r")
    assert done.code == 2
    assert "is invalid" in last_line(done.stderr)
    broken.write_text("openapi: [unclosed\n")
    done = run_cli("spec", "--contract", str(broken), report_dir=tmp_path / "r")
    assert done.code == 2 and "not valid YAML" in last_line(done.stderr)


def test_spec_lists_the_operations(tmp_path: Path) -> None:
    done = run_cli("spec", report_dir=tmp_path / "r")
    assert done.code == 0, done.stderr
    assert "POST /api/catalog/licenses/program/update/" in done.stdout


BROKEN_IMPORT = """
import sys

import _pytest.assertion.rewrite as rewrite

BROKEN = "conformance.scenarios.licenses"
original = rewrite.AssertionRewritingHook.find_spec


def find_spec(self, name, path=None, target=None):
    if name == BROKEN:
        raise ImportError("planted import failure in the packaged suite")
    return original(self, name, path, target)


rewrite.AssertionRewritingHook.find_spec = find_spec  # the suite's modules are imported through this hook
from conformance.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_a_suite_module_that_cannot_be_imported_exits_2_with_the_reason(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", BROKEN_IMPORT, "run", "--profile", "smoke", "--report-dir",
                           str(tmp_path / "r")], capture_output=True, text=True, env=clean_env(), timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "could not be loaded" in last_line(done.stderr) and "planted import failure" in last_line(done.stderr)
    assert "Traceback" not in last_line(done.stderr)
