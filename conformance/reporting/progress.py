"""Live progress on a terminal: tests done of total, failures so far, elapsed time (rich)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class LiveProgress:
    """A pytest plugin object that draws one progress line while the suite runs."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=False)
        self.failed = 0
        self._progress = Progress(
            TextColumn("[bold]conformance[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("tests"),
            TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(), console=self.console,
            transient=False,
        )
        self._task: Any = None

    def _start(self, total: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("run", total=total, failed=0)
        else:
            self._progress.update(self._task, total=total)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput") and session.items:
            self._start(len(session.items))

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._start(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._task is None:
            return
        if report.failed and report.outcome != "rerun":
            self.failed += 1
            self._progress.update(self._task, failed=self.failed)
        if report.when == "teardown":
            self._progress.advance(self._task)

    def pytest_sessionfinish(self) -> None:
        if self._task is not None:
            self._progress.stop()
