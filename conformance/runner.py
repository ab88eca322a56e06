"""One conformance run: check the inputs, reach the target, run the packaged suite, decide the exit code."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.config import ROLES, Settings
from conformance.errors import EXIT_CONFORMANT, EXIT_NON_CONFORMANT, EXIT_TARGET, EXIT_USAGE, TargetError, UsageError
from conformance.redaction import scrub
from conformance.results import RunResult
from conformance.run_context import BROKEN_FILE, RATE_FILE, RunContext
from conformance.spec.catalog import Catalog, load_catalog
from conformance.spec.loader import SPEC_VARIABLE, VALIDATED_VARIABLE, cache_dir, load_contract
from conformance.workers import choose as choose_workers

PREFLIGHT_PATH = "/api/catalog/licenses/program/"
PREFLIGHT_TIMEOUT = 15.0
SUITE_PACKAGES = ("conformance.scenarios", "conformance.properties")
# The plugins a run loads, by name, with entry-point autoloading off: whatever other pytest plugins are installed
# where the suite runs cannot change its behaviour, and pytest does not assertion-rewrite every module of every
# installed plugin's distribution (schemathesis and hypothesis alone are over 300) in each process of a run.
SUITE_PLUGINS = ("conformance.pytest_plugin", "allure_pytest.plugin", "pytest_rerunfailures", "xdist.plugin")
AUTOLOAD_VARIABLE = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
EXIT_INTERRUPTED = 130
HYPOTHESIS_STORAGE_VARIABLE = "HYPOTHESIS_STORAGE_DIRECTORY"
_STOP_ASKED = threading.Event()  # set by a SIGTERM or Ctrl-C during a run (_interrupt)
PROCESS_STARTED = time.time()  # (as soon as this module is imported: the start-up time includes the imports)


@dataclass(slots=True)
class Outcome:
    """The exit code of a run and its one-line reason."""

    code: int
    reason: str


def run(settings: Settings, *, quiet: bool = False, extra_args: tuple[str, ...] = ()) -> Outcome:
    """Run the suite once; every problem comes back as an Outcome, never as a traceback."""
    check_report_dir(settings.report_dir)
    _forget_rate(settings.report_dir)  # the request rate every process of the run shares starts afresh
    if settings.spec is not None:
        load_contract(settings.spec)  # validated here, exit 2 when it is not a valid contract
        os.environ[SPEC_VARIABLE] = str(settings.spec.resolve())  # every process of the run uses it
    os.environ[VALIDATED_VARIABLE] = load_contract().sha256  # the workers need not validate it again
    load_catalog()
    if not settings.embedded:
        preflight(settings)
    os.environ.setdefault("CONFORMANCE_RUN_ID", secrets.token_hex(4))
    # what hypothesis works out from the suite's modules (their constants, Unicode tables) is kept in the suite's
    # cache folder: not worked out again in every folder a run starts from, and no .hypothesis folder left there
    os.environ.setdefault(HYPOTHESIS_STORAGE_VARIABLE, str(cache_dir() / "hypothesis"))
    grabber = _ResultGrabber()
    live = sys.stdout.isatty() and not quiet
    plugins: list[object] = [grabber]
    workers = choose_workers(settings.workers)
    settings = settings.with_target(workers=workers.count)
    if not quiet:
        print(f"workers: {workers.count} ({workers.reason})", flush=True)
    args = pytest_args(settings, quiet, live) + list(extra_args)
    if live:  # one live progress line instead of pytest's dots; the closing lines are printed below
        from conformance.reporting.progress import LiveProgress

        plugins.append(LiveProgress())
        args += ["-p", "no:terminal"]
    _STOP_ASKED.clear()
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGTERM, signal.SIGINT)}
    autoload = os.environ.get(AUTOLOAD_VARIABLE)
    os.environ[AUTOLOAD_VARIABLE] = "1"  # inherited by the workers of a parallel run
    try:
        code = pytest.main(args, plugins=[RunContext(settings, PROCESS_STARTED), *plugins])
    except Exception:
        # A stop can land on an instruction with no line number, and pytest then fails while it describes the
        # interruption, after the session has ended and cleaned up (Python 3.11 gives such a traceback entry no
        # line): the run was still stopped, not broken.
        if not _STOP_ASKED.is_set():
            raise
        code = pytest.ExitCode.INTERRUPTED
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if autoload is None:
            os.environ.pop(AUTOLOAD_VARIABLE, None)
        else:
            os.environ[AUTOLOAD_VARIABLE] = autoload
    _forget_rate(settings.report_dir)
    if live:
        for line in grabber.closing_lines():
            print(line)
    scrub_reports(settings.report_dir, grabber.keys)  # before anything is derived or archived from the reports
    if grabber.summary_path is not None:
        deriving = time.time()
        derive_reports(settings.report_dir, grabber.summary_path)
        scrub_reports(settings.report_dir, grabber.keys, since=deriving)  # what deriving wrote (not every result again)
    if grabber.collect_errors:
        return Outcome(EXIT_USAGE, f"the suite could not be loaded: {scrub(grabber.collect_errors[0], grabber.keys)}")
    code = pytest.ExitCode.TESTS_FAILED if grabber.stopped_by_target else code  # not an interruption: exit 3
    outcome = decide(int(code), grabber.result)
    if grabber.result is not None and grabber.result.cleanup_problems:
        problems = grabber.result.cleanup_problems
        outcome.reason += (f"; cleanup: {len(problems)} object(s) could not be undone, kept in the ledger for the next "
                           f"run (first: {scrub(problems[0], grabber.keys)})")
    return outcome


def derive_reports(report_dir: Path, summary_path: Path) -> None:
    """From this run's summary.json: JUnit and Allure extras, report.html, the history entry, then the time all that
    took (timings.reports, from summary.json written, key scrubbing included, and timings.total, from the process
    start) written into summary.json before the results bundle seals it."""
    import json

    from conformance.reporting import allure, bundle, history, html, junit

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    junit.add_requirements(report_dir, summary)
    allure.write_extras(report_dir, summary)
    html.write(report_dir, summary)
    history.append(report_dir, summary)
    now = time.time()
    timings = summary.setdefault("timings", {})
    timings["reports"] = round(now - summary_path.stat().st_mtime, 2)
    timings["total"] = round(now - PROCESS_STARTED, 2)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    bundle.write(report_dir, summary)


def _forget_rate(report_dir: Path) -> None:
    for name in (RATE_FILE, RATE_FILE + ".lock", RATE_FILE + "-wal", RATE_FILE + "-shm", BROKEN_FILE):
        (report_dir / name).unlink(missing_ok=True)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM and Ctrl-C: stop the run as Ctrl-C always did (KeyboardInterrupt), remembering that a stop was asked."""
    _STOP_ASKED.set()
    raise KeyboardInterrupt


def pytest_args(settings: Settings, quiet: bool, live: bool = False) -> list[str]:
    """The pytest command line for the packaged suite (the settings travel as an object, not as options)."""
    report_dir = settings.report_dir
    args = ["-c", str(Path(__file__).with_name("suite.ini")), "--rootdir", str(Path.cwd()),
            f"--junitxml={report_dir / 'junit.xml'}", "-o", "junit_family=xunit2", "-o", "junit_suite_name=ibl-conformance",
            f"--alluredir={report_dir / 'allure-results'}", "--clean-alluredir",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--pyargs", *SUITE_PACKAGES]
    if not live:
        args += ["-q" if not quiet else "-qq", "-rfE", "--tb=short"]
    if settings.workers is not None and settings.workers > 1:
        # tests, not files, are shared out: the generated tests of one operation kind all live in one module
        args += ["-n", str(settings.workers), "--dist", "worksteal"]
    for plugin in SUITE_PLUGINS:
        args += ["-p", plugin]
    return args


def decide(pytest_code: int, result: RunResult | None, catalog: Catalog | None = None) -> Outcome:
    """Map pytest's exit code and the run's records to the suite's exit codes."""
    if pytest_code == pytest.ExitCode.INTERRUPTED:
        return Outcome(EXIT_INTERRUPTED, "interrupted: the run was stopped before it finished")
    if pytest_code == pytest.ExitCode.USAGE_ERROR:
        return Outcome(EXIT_USAGE, "the suite could not start: see the error above")
    if pytest_code == pytest.ExitCode.NO_TESTS_COLLECTED or result is None or not result.tests:
        return Outcome(EXIT_USAGE, "no conformance test was selected: check the selection options")
    if pytest_code == pytest.ExitCode.INTERNAL_ERROR:
        return Outcome(EXIT_USAGE, "the suite failed internally: please report it with the output above")
    if result.target_broken:
        first = next(t for t in result.tests if t.outcome == "target error")
        return Outcome(EXIT_TARGET, f"the target broke during the run: {first.message}")
    catalog = catalog or load_catalog()
    failing = result.failing(catalog)
    if failing:
        flaky = sum(1 for v in failing if v.verdict == "flaky")
        detail = f", {flaky} of them flaky" if flaky else ""
        return Outcome(EXIT_NON_CONFORMANT, f"non-conformant: {len(failing)} requirement(s) failed{detail} "
                                            f"(first: {failing[0].id}: {failing[0].reason})")
    verdicts = result.verdicts(catalog)
    if not any(v.verdict in ("passed", "known deviation", "flaky", "warning") for v in verdicts):
        if any("read-only" in t.message for t in result.tests):
            return Outcome(EXIT_USAGE, "nothing could be verified: the selected tests all need writes, "
                                       "which a read-only run does not send")
        return Outcome(EXIT_USAGE, "nothing could be verified: give the target's keys, fixtures and probe "
                                   "(see conformance.example.toml)")
    notes = [f"{n} {what}" for what in ("warning", "flaky") if (n := sum(1 for v in verdicts if v.verdict == what))]
    return Outcome(EXIT_CONFORMANT, "conformant" + (f" ({', '.join(notes)}: see the report)" if notes else ""))


def check_report_dir(report_dir: Path) -> None:
    """Make sure the report dir exists and can be written."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"report dir {report_dir} is not writable ({exc.strerror or exc}): "
                         "choose another with --report-dir") from None


def preflight(settings: Settings) -> None:
    """Reach the target once, then once per configured key: unreachable or broken is exit 3, a refused key exit 2."""
    from conformance.client.session import Session  # (the HTTP clients load only when a run sends from this process)

    assert settings.base_url is not None
    probe_settings = settings.with_target(timeout=min(settings.timeout, PREFLIGHT_TIMEOUT), read_only=True)
    session = Session(probe_settings)
    params = {"platform_key": settings.platform_key, "page_size": 1}
    try:
        session.anonymous.get(PREFLIGHT_PATH, params=params)
        for role in ROLES:
            client = session.as_role(role)
            if client is not None and client.get(PREFLIGHT_PATH, params=params).status == 401:
                raise UsageError(f"the target refused the key in {settings.keys.variables[role]} (401): "
                                 "check that variable holds a valid key for this target")
    except TargetError as exc:
        raise TargetError(f"target {settings.base_url} {_unreachable(str(exc))}") from None
    finally:
        session.close()


def _unreachable(message: str) -> str:
    detail = message.split(": ", 1)[1] if ": " in message else message
    return f"is unreachable or broken: {detail}; check the URL and that the server is up"


def scrub_reports(report_dir: Path, keys: list[str], since: float | None = None) -> None:
    """Belt and braces: remove any key value from every file the run wrote (or, with `since`, wrote from that
    moment on), archives included."""
    if not keys or not report_dir.is_dir():
        return
    needles = [key.encode() for key in keys if key]
    folders = [str(report_dir)]
    while folders:  # (os.scandir: a file's type comes with its name; its time is asked for only with `since`)
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif not entry.is_file() or (since is not None and entry.stat().st_mtime < since - 1):  # (1 s: coarse clocks)
                    continue
                elif entry.name.endswith((".json", ".jsonl", ".xml", ".html", ".txt", ".md", ".properties")):
                    data = Path(entry.path).read_bytes()
                    if any(needle in data for needle in needles):  # (decoded and rewritten only when a key is there)
                        Path(entry.path).write_text(scrub(data.decode("utf-8", errors="replace"), keys), encoding="utf-8")
                elif entry.name.endswith(".zip"):
                    _scrub_archive(Path(entry.path), keys)


def _scrub_archive(path: Path, keys: list[str]) -> None:
    """Rewrite a zip archive whose members hold a key value (its manifest digests are then stale: the bundle is
    built from scrubbed files in the first place, so this only catches what slipped through)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    cleaned = {name: scrub(data.decode("utf-8", errors="replace"), keys).encode() for name, data in members.items()}
    if any(cleaned[name] != data for name, data in members.items() if _is_text(data)):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, cleaned[name] if _is_text(data) else data)


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _ResultGrabber:
    """A tiny pytest plugin that hands the collector's records back to the runner."""

    def __init__(self) -> None:
        self.result: RunResult | None = None
        self.keys: list[str] = []
        self.summary_path: Path | None = None
        self.collect_errors: list[str] = []  # a suite module that failed to import or collect
        self.stopped_by_target = False  # the run stopped early because the target broke (not interrupted)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        reason = session.shouldstop
        self.stopped_by_target = isinstance(reason, str) and reason.startswith("the target broke")
        self._collector: Any = None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
            cause = next((line.lstrip("E ").strip() for line in reversed(lines) if line.startswith("E ")),
                         lines[-1] if lines else "collection failed")
            self.collect_errors.append(f"{report.nodeid or 'the suite'}: {cause}")

    def closing_lines(self) -> list[str]:
        """Failures with their first lines, then the per-area table (for runs without pytest's terminal)."""
        if self._collector is None or self._collector.target is None or self.result is None:
            return []
        from conformance.reporting.summary import terminal_lines

        lines = []
        for test in self.result.tests:
            if test.outcome in ("failed", "warning", "target error", "flaky"):
                message = test.message.splitlines()
                lines.append(f"{test.outcome.upper()} {test.nodeid}: {message[0] if message else ''}")
                lines += [f"    {m.strip()}" for m in message[1:] if m.strip().startswith(("reproduce:", "received:"))]
        return lines + terminal_lines(self.result, self._collector.target,
                                      operations=getattr(self._collector, "operation_stats", None))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from conformance.pytest_plugin import collector_of  # (imported by pytest first, so it is assertion-rewritten)

        collector = collector_of(config)
        self._collector = collector
        self.result = collector.result
        self.summary_path = getattr(collector, "written", None)
        if collector.target is not None:
            self.keys = collector.target.settings.keys.revealed()


def print_reason(outcome: Outcome) -> None:
    """The one closing line of a run."""
    stream = sys.stdout if outcome.code == EXIT_CONFORMANT else sys.stderr
    print(f"conformance: {outcome.reason} (exit {outcome.code})", file=stream)
