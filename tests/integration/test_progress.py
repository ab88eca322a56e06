"""On a terminal the run shows one live progress line and a closing table; elsewhere a plain log."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import clean_env, run_cli

SELECTION = ("--requirement", "CAT-SEAT-00")


def test_a_terminal_gets_live_progress_and_the_closing_table(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = clean_env({"COLUMNS": "120", "TERM": "xterm"})
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", *SELECTION, "--report-dir",
                             str(tmp_path / "r")], stdout=follower, stderr=follower, cwd=tmp_path, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=240) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "tests" in screen and "failed" in screen and "conformance" in screen
    assert "area" in screen and "verdict: conformant" in screen
    assert "....." not in screen, "pytest's dots are replaced by the progress line"


def test_a_pipe_gets_a_plain_log(tmp_path: Path) -> None:
    done = run_cli("run", *SELECTION, "--report-dir", str(tmp_path / "r"), report_dir=tmp_path / "r")
    assert done.code == 0
    assert "\x1b[" not in done.stdout, "no terminal control codes when the output is not a terminal"
    assert "verdict: conformant" in done.stdout and "passed" in done.stdout
