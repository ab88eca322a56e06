"""Turns pytest's reports into the run's records (RunResult), and writes them when the session ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance.checks import REQUIREMENT_KEY
from conformance.config import Settings
from conformance.results import (
    FAILED,
    FLAKY,
    KNOWN_DEVIATION,
    NOT_VERIFIED,
    PASSED,
    TARGET_ERROR,
    WARNING,
    CheckRecord,
    RunResult,
    TestRecord,
)
from conformance.selection import Selection
from conformance.target import Target

TARGET_ERROR_PROPERTY = "conformance_target_error"
GENERATED_MODULES = ("test_operations.py", "test_stateful.py")  # conformance.properties
PENDING = "pending"
REQUIREMENTS_PROPERTY = "requirements"
OPERATION_STATS_PROPERTY = "operation_stats"


class ResultCollector:
    """A pytest plugin object that records the outcome of every suite test."""

    def __init__(self, config: pytest.Config, settings: Settings, *, started: float,
                 leftovers: Callable[[Target], list[str]]) -> None:
        self.config = config
        self.settings = settings
        self._leftovers = leftovers  # undoes what the workers left in the ledger; returns what could not be undone
        self.result = RunResult()
        self.target: Target | None = None
        self._records: dict[str, TestRecord] = {}
        self._pending: dict[str, list[CheckRecord]] = {}  # checks of a test whose attempt has not ended yet
        self.operation_stats: list[dict[str, Any]] = []  # per generated test: what it sent and got back
        self._started = started  # epoch seconds when the run's process started
        self._first_test: float | None = None

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self._first_test is None:
            self._first_test = time.time()

    def attach(self, target: Target) -> None:
        """Remember the target once it is up (for the summary and for scrubbing keys)."""
        self.target = target

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and not _is_check(report):
            self._take_operation_stats(report)
        props = dict(report.user_properties)
        if REQUIREMENTS_PROPERTY not in props:
            return
        record = self._records.get(report.nodeid)
        if record is None:
            record = TestRecord(report.nodeid, tuple(str(props[REQUIREMENTS_PROPERTY]).split()), outcome=PENDING)
            self._records[report.nodeid] = record
            self.result.tests.append(record)
        if _is_check(report):
            self._take_check(record, report, props)
            return
        record.duration += report.duration
        if report.outcome == "rerun":  # the first, failed attempt of a replayed test: its checks are set aside
            record.first_failure = self._scrub(_message(report, props))
            for check in self._pending.pop(report.nodeid, []):
                if check.outcome == FAILED:
                    record.first_failures.setdefault(check.requirement, check.message)
            return
        if report.when == "call":
            record.checks.extend(self._pending.pop(report.nodeid, []))
            for check in record.checks:
                if check.outcome == PASSED and check.requirement in record.first_failures:
                    check.first_failure = record.first_failures[check.requirement]
        outcome = _outcome(report, props)
        if outcome == PASSED and record.first_failure:
            outcome = FLAKY
        if outcome == FAILED and not self._binding(record):
            outcome = WARNING
        if outcome is not None and _rank(outcome) > _rank(record.outcome):
            record.outcome, record.message = outcome, self._scrub(_message(report, props))
            if outcome == FLAKY:
                record.message = f"failed, then passed when replayed; first attempt: {record.first_failure}"
            elif outcome == FAILED and record.first_failure:
                record.message += " (reproduced when replayed)"

    def _take_check(self, record: TestRecord, report: pytest.TestReport, props: dict[str, Any]) -> None:
        """One check (a subtest named by its requirement) of a running test."""
        requirement = str(report.context.kwargs.get(REQUIREMENT_KEY, ""))  # type: ignore[attr-defined]
        if requirement not in record.requirements:
            return
        outcome = _outcome(report, props) or PASSED
        message = self._scrub(_message(report, props)) if outcome != PASSED else ""
        self._pending.setdefault(record.nodeid, []).append(CheckRecord(requirement, outcome, message, record.nodeid))

    def _take_operation_stats(self, report: pytest.TestReport) -> None:
        import json

        for name, value in report.user_properties:
            if name != OPERATION_STATS_PROPERTY:
                continue
            try:
                stats = json.loads(value) if isinstance(value, str) else dict(value)
            except (TypeError, ValueError):
                continue
            if isinstance(stats, dict) and "operation" in stats:
                self.operation_stats.append({**stats, "nodeid": report.nodeid})

    def _binding(self, record: TestRecord) -> bool:
        """Does a failure of this test break a MUST? (SHOULD and MAY failures are warnings.)"""
        from conformance.spec.catalog import load_catalog

        requirements = load_catalog().requirements
        return any(requirements[r].level == "MUST" for r in record.requirements if r in requirements)

    def _note_selection(self) -> None:
        """Requirements outside a narrowed selection are 'not selected' (workers deselect out of our sight)."""
        from conformance.spec.catalog import load_catalog

        selection = Selection.from_config(self.config, smoke=self.settings.profile == "smoke")
        if selection.narrowed:
            self.result.deselected.update(r for r in load_catalog().requirements if not selection.matches(r))

    def _timings(self, tests_done: float, cleaned: float) -> dict[str, float]:
        """Seconds spent starting up (process start to the first test), in generated tests and scenarios (summed over
        workers), and undoing what the run left at its end."""
        def generated(nodeid: str) -> bool:
            return nodeid.split("::")[0].rsplit("/", 1)[-1] in GENERATED_MODULES

        def summed(kind: bool) -> float:
            return round(sum(t.duration for t in self.result.tests if generated(t.nodeid) == kind), 2)
        first = self._first_test or tests_done
        return {"startup": round(first - self._started, 2), "generated_tests": summed(True),
                "scenarios": summed(False), "tests_wall": round(tests_done - first, 2),
                "cleanup": round(cleaned - tests_done, 2), "total_to_summary": round(cleaned - self._started, 2)}

    def _note_deviations(self) -> None:
        """Deviations excuse single checks (conformance.results.fold); a test is a known deviation when every
        failure it had is excused."""
        from conformance.results import fold

        self.result.deviations = self.settings.deviations
        if not self.result.deviations:
            return
        for test in self.result.tests:
            if test.outcome not in (FAILED, WARNING):
                continue
            folds = [fold(r, "MUST", test.evidence(r), self.result.deviations) for r in test.requirements]
            excused = [f for f in folds if f.verdict == KNOWN_DEVIATION]
            if excused and not any(f.verdict == FAILED for f in folds):
                test.outcome, test.deviation, test.message = KNOWN_DEVIATION, excused[0].reason, excused[0].reason

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.result.deselected.update(rid for mark in item.iter_markers("requirement") for rid in mark.args)

    def _scrub(self, text: str) -> str:
        from conformance.redaction import scrub

        keys = self.target.settings.keys.revealed() if self.target else []
        return scrub(text, keys)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for record in self.result.tests:
            if record.outcome == PENDING:
                record.outcome, record.message = NOT_VERIFIED, "the test did not run to its end"
        if hasattr(self.config, "workerinput"):
            return  # a worker: its reports travel to the controller, which writes the summary
        if self.target is None and self.result.tests:
            self.target = _controller_target(self.settings)
        self._note_selection()
        self._note_deviations()
        tests_done = time.time()
        if self.target is not None:
            self.result.cleanup_problems = self._leftovers(self.target)
        self.result.timings = self._timings(tests_done, time.time())
        if not self.result.tests or self.target is None:
            return
        from conformance.reporting.summary import write_reports

        self.written = write_reports(self.result, self.target, self.config, operations=self.operation_stats)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not self.result.tests or self.target is None:
            return  # (a worker's terminal goes nowhere: the controller prints the closing lines of the whole run)
        from conformance.reporting.summary import terminal_lines

        for line in terminal_lines(self.result, self.target, operations=self.operation_stats):
            terminalreporter.write_line(line)


def _controller_target(settings: Settings) -> Target:
    """Under pytest-xdist the controller runs no test: describe the target from the settings."""
    import os

    description = "embedded reference implementation (one per worker)" if settings.embedded else str(settings.base_url)
    return Target(settings, os.environ.get("CONFORMANCE_RUN_ID", "unknown"), description, embedded=settings.embedded)


def _is_check(report: pytest.TestReport) -> bool:
    """A check of a suite test (a pytest subtest carrying its requirement)."""
    context = getattr(report, "context", None)
    return context is not None and REQUIREMENT_KEY in getattr(context, "kwargs", {})


def _outcome(report: pytest.TestReport, props: dict[str, Any]) -> str | None:
    if TARGET_ERROR_PROPERTY in props and report.failed:
        return TARGET_ERROR
    if report.failed:
        return FAILED
    if report.skipped:
        return NOT_VERIFIED
    if report.when == "call" and report.passed:
        return PASSED
    return None


def _rank(outcome: str) -> int:
    return {PENDING: -1, PASSED: 0, FLAKY: 1, NOT_VERIFIED: 1, KNOWN_DEVIATION: 1, WARNING: 2, FAILED: 2,
            TARGET_ERROR: 3}[outcome]


def _message(report: pytest.TestReport, props: dict[str, Any]) -> str:
    if TARGET_ERROR_PROPERTY in props:
        return str(props[TARGET_ERROR_PROPERTY])
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longreprtext or report.outcome)
