"""Allure results: the writer of the tests' results (each request a step, the exchanges in one attachment per
test), and the extras written after the run: the environment, the categories failures are sorted into, and one
result per requirement (its verdict and the check that decided it) beside the results of the tests."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import allure_commons
import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import ATTACHMENT_PATTERN, Attachment, Status, TestResult, TestStepResult
from allure_commons.types import AttachmentType
from allure_pytest.listener import AllureListener

RESULTS_DIR = "allure-results"
LISTENER_NAME = "allure_listener"  # allure-pytest's listener, as it registers it with pytest
MAX_TRANSCRIPTS = 40  # exchanges of one test whose full transcript is attached (the last ones; every one is a step)
SEPARATOR = "\n\n" + "=" * 78 + "\n\n"

CATEGORIES = [
    {"name": "Target broken (not a conformance verdict)", "matchedStatuses": ["broken", "failed"],
     "messageRegex": ".*(TargetError|the target (did not answer|could not be reached|answered 50[234]|kept "
                     "answering 429|redirects)|not JSON).*"},
    {"name": "Requirement failed (non-conformant)", "matchedStatuses": ["failed"]},
    {"name": "Not verified", "matchedStatuses": ["skipped"], "messageRegex": ".*not verified.*"},
    {"name": "Known deviation", "matchedStatuses": ["skipped"], "messageRegex": ".*(XFAIL|known deviation).*"},
    {"name": "Suite problem", "matchedStatuses": ["broken"]},
]


def results_dir(report_dir: Path) -> Path:
    """Where allure-pytest writes its results."""
    return report_dir / RESULTS_DIR


class ResultsWriter(AllureFileLogger):
    """allure-pytest's file writer, made to write two files per test: the requests of a test (its fixtures' included,
    in order) become steps of its result, named by method, path and status, and their transcripts one attachment
    (a step and an attachment file per request, and a container file per fixture per test, were most of the files
    and of the time Allure took)."""

    def __init__(self, report_dir: str) -> None:
        super().__init__(report_dir, clean=False)  # (allure-pytest's own writer cleaned the folder already)
        self._folder = Path(report_dir)
        self._held: tuple[str, Sequence[tuple[Any, float]]] | None = None

    def hold(self, test_name: str, exchanges: Sequence[tuple[Any, float]]) -> None:
        """The exchanges of the test that is ending (each with the time its answer came), for its result."""
        self._held = (test_name, exchanges)

    @allure_commons.hookimpl
    def report_result(self, result: TestResult) -> None:
        """Write a test's result, its requests as steps and their transcripts attached when they are held for it."""
        held, self._held = self._held, None
        if held is not None and held[0] == result.name and held[1]:  # (its own test's: results come one test at a time)
            result.steps.extend(exchange_steps(held[1]))
            result.attachments.append(self._attach_transcripts(held[1]))
        # json.dumps in one go (json.dump to a file encodes piece by piece in Python: three times slower)
        text = json.dumps(result, default=_fields, ensure_ascii=False)
        (self._folder / result.file_pattern.format(prefix=uuid.uuid4())).write_text(text, encoding="utf-8")

    def _attach_transcripts(self, exchanges: Sequence[tuple[Any, float]]) -> Attachment:
        """Write the transcripts of a test's exchanges into one attachment file."""
        file_name = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext=AttachmentType.TEXT.extension)
        (self._folder / file_name).write_text(transcripts(exchanges), encoding="utf-8")
        shown = min(len(exchanges), MAX_TRANSCRIPTS)
        name = f"exchanges #{len(exchanges) - shown + 1}-#{len(exchanges)}" if len(exchanges) > 1 else "exchange #1"
        return Attachment(name=name, source=file_name, type=AttachmentType.TEXT.mime_type)


def _fields(item: Any) -> dict[str, Any]:
    """An Allure model object's fields as allure-python writes them: the empty ones left out."""
    return {name: value for name, value in vars(item).items() if value or value is False}


def exchange_steps(exchanges: Sequence[tuple[Any, float]]) -> list[TestStepResult]:
    """One step per request, numbered in order: "#3 POST /path -> 201", timed from its answer back."""
    steps = []
    for number, (exchange, answered) in enumerate(exchanges, 1):
        stop = round(answered * 1000)
        steps.append(TestStepResult(name=step_name(number, exchange), status=Status.PASSED,
                                    start=stop - round(exchange.elapsed * 1000), stop=stop))
    return steps


def step_name(number: int, exchange: Any) -> str:
    """"#3 POST /path -> 201" (the exchange's operation: its path is parsed once per URL, client/session.py)."""
    return f"#{number} {exchange.operation} -> {exchange.status}"


def transcripts(exchanges: Sequence[tuple[Any, float]]) -> str:
    """The last MAX_TRANSCRIPTS exchanges as text (keys masked), each under its step's name."""
    first = max(len(exchanges) - MAX_TRANSCRIPTS, 0)
    parts = [f"(#1-#{first}: steps only; the transcripts of the last {MAX_TRANSCRIPTS} follow)"] if first else []
    parts += [f"{step_name(number, exchange)}\n\n{exchange.transcript()}"
              for number, (exchange, _) in enumerate(exchanges[first:], first + 1)]
    return SEPARATOR.join(parts) + "\n"


class ResultsListener(AllureListener):
    """allure-pytest's listener without its bookkeeping of fixtures (a container per fixture per test, every fixture
    finalizer wrapped and timed: most of the time Allure took once the files were few). A fixture that breaks still
    makes its test's result broken, with the error; its requests are steps of the test like the test's own."""

    pytest_fixture_setup = None  # (not a function: pytest registers no hook under this name)
    pytest_fixture_post_finalizer = None

    def _update_fixtures_children(self, item: pytest.Item) -> None:
        """Nothing: the containers it links a test to are made by the fixture hooks left out above."""


def install_writer(config: pytest.Config) -> ResultsWriter | None:
    """Put a ResultsWriter and a ResultsListener in the places of allure-pytest's own (None when Allure writes
    nothing); the originals go back at the end of the run, where allure-pytest unregisters them."""
    manager = allure_commons.plugin_manager
    logger = next((plugin for plugin in manager.get_plugins() if type(plugin) is AllureFileLogger), None)
    listener = config.pluginmanager.get_plugin(LISTENER_NAME)
    if logger is None or type(listener) is not AllureListener:
        return None
    writer = ResultsWriter(os.path.abspath(config.getoption("allure_report_dir")))
    lean = ResultsListener(config)
    for old, new in ((logger, writer), (listener, lean)):
        manager.unregister(old)
        manager.register(new)
    config.pluginmanager.unregister(listener)
    config.pluginmanager.register(lean, LISTENER_NAME)

    def restore() -> None:
        for old, new in ((logger, writer), (listener, lean)):
            manager.unregister(new)
            manager.register(old)

    config.add_cleanup(restore)
    return writer


def write_extras(report_dir: Path, summary: dict[str, Any]) -> None:
    """environment.properties and categories.json next to the results (Allure reads both)."""
    folder = results_dir(report_dir)
    if not folder.is_dir():
        return
    target = summary.get("target", {})
    environment = {
        "suite.version": summary.get("suite_version"), "contract.version": summary.get("contract", {}).get("version"),
        "target": target.get("description"), "platform": target.get("platform_key"),
        "profile": summary.get("profile"), "seed": summary.get("seed"), "run.id": summary.get("run_id"),
        "verdict": summary.get("verdict"),
    }
    lines = [f"{key}={_escape(value)}" for key, value in environment.items()]
    (folder / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    for entry in summary.get("requirements", []):
        if entry["verdict"] not in ("not covered", "not selected"):
            result = requirement_result(entry, summary.get("run_id", ""))
            (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result) + "\n", encoding="utf-8")


STATUS = {"passed": "passed", "failed": "failed", "warning": "passed", "flaky": "failed", "known deviation": "skipped",
          "not verified": "skipped"}


def requirement_result(entry: dict[str, Any], run_id: str) -> dict[str, Any]:
    """An Allure result for one requirement: its verdict, grouped by area, topic and ID like its tests."""
    rid = entry["id"]
    status = STATUS.get(entry["verdict"], "unknown")
    if entry["verdict"] == "flaky" and entry.get("level") != "MUST":
        status = "passed"
    message = f"{entry['verdict']}: {entry.get('reason') or 'every check of it held'}"
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/{rid}")), "historyId": f"requirement/{rid}",
        "name": f"{rid}: {entry.get('title', '')}", "fullName": f"requirements.{rid}", "status": status,
        "statusDetails": {"message": message, "trace": f"decided by {entry.get('decided_by') or '-'}; tests: "
                                                       + ", ".join(entry.get("tests", []))},
        "labels": [{"name": "epic", "value": rid.split("-")[0]}, {"name": "feature", "value": rid.rsplit("-", 1)[0]},
                   {"name": "story", "value": rid}, {"name": "suite", "value": "requirements"},
                   {"name": "severity", "value": {"MUST": "critical", "SHOULD": "normal"}.get(entry.get("level", ""), "minor")},
                   {"name": "tag", "value": entry["verdict"]}],
        "parameters": [], "steps": [], "attachments": [],
    }


def _escape(value: Any) -> str:
    return str(value if value is not None else "none").replace("\\", "\\\\").replace("\n", " ")
