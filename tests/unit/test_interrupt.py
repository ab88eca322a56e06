"""A stopped run (SIGTERM or Ctrl-C) ends with exit 130, even when pytest fails while it describes the stop."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from conformance import runner
from conformance.config import Settings


def _describing_the_stop_fails(args: list[str], plugins: list[Any]) -> int:
    """pytest.main as it behaves when a stop lands on an instruction with no line number: the session ends and
    cleans up, then describing the KeyboardInterrupt fails (Python 3.11 leaves that traceback entry's line None)."""
    try:
        signal.raise_signal(signal.SIGTERM)
    except KeyboardInterrupt:
        raise TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'") from None
    raise AssertionError("the run's SIGTERM handler did not stop it")


def test_a_stop_that_pytest_fails_to_describe_is_still_an_interrupted_run(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    monkeypatch.setattr(runner.pytest, "main", _describing_the_stop_fails)
    outcome = runner.run(Settings(report_dir=tmp_path, workers=1), quiet=True)
    assert (outcome.code, outcome.reason) == (runner.EXIT_INTERRUPTED,
                                              "interrupted: the run was stopped before it finished")
    assert signal.getsignal(signal.SIGTERM) is not runner._interrupt  # the handlers are given back
    assert signal.getsignal(signal.SIGINT) is not runner._interrupt


def test_an_error_of_a_run_nobody_stopped_is_not_taken_for_a_stop(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    def broken(args: list[str], plugins: list[Any]) -> int:
        raise TypeError("a bug")

    monkeypatch.setattr(runner.pytest, "main", broken)
    with pytest.raises(TypeError, match="a bug"):
        runner.run(Settings(report_dir=tmp_path, workers=1), quiet=True)
