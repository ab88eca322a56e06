"""The pytest plugin: options, markers, the target and session fixtures, result collection."""

from __future__ import annotations

import functools
import gc
import os
import secrets
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import checking
from conformance.config import Settings, load_settings
from conformance.errors import ConformanceToolError, TargetError
from conformance.frames import with_stack_room
from conformance.reporting.collector import TARGET_ERROR_PROPERTY, ResultCollector
from conformance.run_context import RUN_PLUGIN, SETTINGS_INPUT
from conformance.selection import AREA_MARKERS, Selection, requirement_ids
from conformance.spec.catalog import load_catalog
from conformance.target import Target, start_target

if TYPE_CHECKING:
    from conformance.client.ledger import Ledger
    from conformance.client.probe import Probe
    from conformance.client.session import ApiClient, Session
    from conformance.reporting.allure import ResultsWriter

SUITE_PACKAGE = "conformance."
# Garbage collection during a run: the objects of the collected suite (schemathesis' schema, hypothesis'
# strategies, the modules) are frozen out of every later collection, and the youngest generation is collected
# after 10,000 allocations instead of 700. Measured on the ci profile: 2747 collections taking 3.0 s of a
# 30 s run, then 976 taking 1.3 s (benchmarks/RESULTS.md). Only in runs of the packaged suite.
GC_THRESHOLDS = (10_000, 50, 100)
_TARGET = pytest.StashKey[Target]()
_COLLECTOR = pytest.StashKey[ResultCollector]()
_SETTINGS = pytest.StashKey[Settings]()
_GC_BEFORE = pytest.StashKey[tuple[int, ...]]()
_ALLURE = pytest.StashKey["ResultsWriter"]()

# The suite's helper modules get pytest's assertion messages too (its test modules and conftests always do).
pytest.register_assert_rewrite("conformance.scenarios", "conformance.properties")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "ibl-data-manager conformance suite")
    group.addoption("--conformance-config", default=None,
                    help="target config file (TOML), for pytest run by hand (`conformance run` hands its settings over)")
    group.addoption("--conformance-requirement", action="append", default=[], metavar="ID",
                    help="run only tests of this requirement ID or ID prefix (repeatable), e.g. CAT-SEAT")
    group.addoption("--conformance-area", action="append", default=[], choices=sorted(AREA_MARKERS),
                    help="run only the tests of this area (repeatable)")
    group.addoption("--conformance-operation", action="append", default=[], metavar="OPERATION",
                    help='run only tests of requirements on this operation (repeatable), e.g. "GET /api/core/rbac/roles/"')


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | pytest.ExitCode | None:
    """The whole session (collection, tests, teardown), run by the other implementations of this hook as always, from
    a frame with room below it: far fewer memory maps under the suite's deep call stacks (conformance/frames.py)."""
    others = config.pluginmanager.subset_hook_caller("pytest_cmdline_main", remove_plugins=[sys.modules[__name__]])
    return with_stack_room(others, config=config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): catalog requirement IDs the test verifies")
    config.addinivalue_line("markers", "smoke: part of the smoke profile")
    for marker, area in AREA_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: tests of {area} requirements (added from the IDs)")
    run = config.pluginmanager.get_plugin(RUN_PLUGIN)
    collector = ResultCollector(config, settings_of(config), started=run.started if run else time.time(),
                                leftovers=drain_leftovers)
    config.stash[_COLLECTOR] = collector
    config.pluginmanager.register(collector, "conformance-collector")
    if _packaged_run(config):  # collection imports the suite's libraries: fewer collections of young objects there too
        config.stash[_GC_BEFORE] = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)


def pytest_collection_finish(session: pytest.Session) -> None:
    if _packaged_run(session.config):
        gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _GC_BEFORE in config.stash:  # (a run of the packaged suite: pytest_configure)
        gc.set_threshold(*config.stash[_GC_BEFORE])
        # What is alive now is frozen too, and what was frozen stays so: the process ends soon, and its last
        # collections over all these objects (0.1-0.2 s in a worker, while the controller waits for it to exit:
        # benchmarks/RESULTS.md, section 8) are left out.
        gc.freeze()


def _packaged_run(config: pytest.Config) -> bool:
    """Is this `conformance run` (or one of its workers), not pytest run by hand or the project's own tests?"""
    workerinput = getattr(config, "workerinput", None) or {}
    return config.pluginmanager.get_plugin(RUN_PLUGIN) is not None or SETTINGS_INPUT in workerinput


def collector_of(config: pytest.Config) -> ResultCollector:
    """The result collector of a pytest run."""
    return config.stash[_COLLECTOR]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    suite_items = [item for item in items if is_suite_item(item)]
    if not suite_items:
        return
    catalog = load_catalog()
    for item in suite_items:
        ids = requirement_ids(item)
        if not ids:
            raise pytest.UsageError(f"{item.nodeid} names no requirement: add @pytest.mark.requirement(...)")
        unknown = catalog.unknown(set(ids))
        if unknown:
            raise pytest.UsageError(f"{item.nodeid} names requirements the catalog lacks: {', '.join(sorted(unknown))}")
        item.user_properties.append(("requirements", " ".join(ids)))
        for marker, area in AREA_MARKERS.items():
            if any(rid.startswith(area + "-") for rid in ids):
                item.add_marker(getattr(pytest.mark, marker))
        _label_for_allure(item, ids)
    selection = Selection.from_config(config, smoke=settings_of(config).profile == "smoke")
    keep = [i for i in items if not is_suite_item(i) or selection.keeps(i)]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def _label_for_allure(item: pytest.Item, ids: tuple[str, ...]) -> None:
    """Group the test by area (epic), topic (feature) and requirement (story) in Allure; link each ID."""
    for area in sorted({rid.split("-")[0] for rid in ids}):
        item.add_marker(_allure_label(area, "epic"))
    for topic in sorted({rid.rsplit("-", 1)[0] for rid in ids}):
        item.add_marker(_allure_label(topic, "feature"))
    for rid in ids:
        item.add_marker(_allure_label(rid, "story"))
        item.add_marker(_allure_link(rid))


@functools.cache
def _allure_label(value: str, label_type: str) -> pytest.MarkDecorator:
    """One marker object per label, shared by every test that has it (marks are immutable)."""
    return pytest.mark.allure_label(value, label_type=label_type)


@functools.cache
def _allure_link(rid: str) -> pytest.MarkDecorator:
    """The link of a requirement ID to its entry in the catalog."""
    return pytest.mark.allure_link(f"requirements.yaml#{rid}", link_type="requirement", name=rid)


@pytest.fixture(autouse=True)
def _conformance_checks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every suite test runs in a check scope: `conformance.checks.check` reports against one requirement."""
    if not is_suite_item(request.node):
        yield
        return
    with checking(request.getfixturevalue("subtests"), request.node.nodeid, requirement_ids(request.node)):
        yield


@pytest.fixture(autouse=True)
def _conformance_attachments(request: pytest.FixtureRequest) -> Iterator[None]:
    """Before the first suite test, the ledger (and with it the cleanup of a killed run's leftovers); in Allure
    runs, every exchange of a suite test (keys masked), its fixtures' included, kept for its result."""
    if not is_suite_item(request.node):
        yield
        return
    request.getfixturevalue("conformance_ledger")
    writer: ResultsWriter | None = request.config.stash.get(_ALLURE, None)
    if writer is None:
        yield
        return
    session: Session = request.getfixturevalue("conformance_session")
    seen: list[tuple[Any, float]] = []

    def observe(exchange: Any) -> None:
        seen.append((exchange, time.time()))

    session.wire.observers.append(observe)
    try:
        yield
    finally:
        session.wire.observers.remove(observe)
        writer.hold(request.node.name, seen)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.getoption("allure_report_dir", None):  # (trylast: after allure-pytest set up its writer and listener)
        from conformance.reporting.allure import install_writer

        writer = install_writer(session.config)
        if writer is not None:
            session.config.stash[_ALLURE] = writer


def is_suite_item(item: pytest.Item) -> bool:
    """True for tests shipped in the suite package (not the project's own tests)."""
    module = getattr(item, "module", None)
    return module is not None and module.__name__.startswith(SUITE_PACKAGE)


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings: the runner's, a worker's copy of them, or (pytest run by hand) the config and environment."""
    if _SETTINGS not in config.stash:
        config.stash[_SETTINGS] = _find_settings(config)
    return config.stash[_SETTINGS]


def _find_settings(config: pytest.Config) -> Settings:
    run = config.pluginmanager.get_plugin(RUN_PLUGIN)
    if run is not None:
        return run.settings  # type: ignore[no-any-return]
    workerinput = getattr(config, "workerinput", None)
    if workerinput and SETTINGS_INPUT in workerinput:
        return Settings.from_json(workerinput[SETTINGS_INPUT])
    try:
        return load_settings(config.getoption("conformance_config"))
    except ConformanceToolError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def conformance_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target under test; the embedded reference is started here when no base URL is set."""
    config = request.config
    if _TARGET not in config.stash:
        target = start_target(settings_of(config), run_id=os.environ.get("CONFORMANCE_RUN_ID")
                              or secrets.token_hex(4))
        config.stash[_TARGET] = target
        config.stash[_COLLECTOR].attach(target)
        request.addfinalizer(target.close)
    yield config.stash[_TARGET]


@pytest.fixture(scope="session")
def conformance_settings(conformance_target: Target) -> Settings:
    """The run's settings, with the target's address and keys filled in."""
    return conformance_target.settings


@pytest.fixture(scope="session")
def conformance_session(conformance_target: Target) -> Iterator[Session]:
    """The HTTP session to the target."""
    from conformance.client.session import Session  # (the HTTP clients: in the processes that run tests only)

    session = Session(conformance_target.settings)
    yield session
    session.close()


def cleanup_client(session: Session) -> ApiClient | None:
    """The caller that undoes what the run created: the DM admin, else the platform admin."""
    return session.as_role("dm_admin") or session.as_role("platform_admin")


def drain_leftovers(target: Target) -> list[str]:
    """What the run created and could not undo: the workers undid their own; whatever is still in the ledger
    file is tried once more here, and what stays is reported (and kept for the next run)."""
    settings = target.settings
    if target.embedded or settings.read_only:
        return list(dict.fromkeys(target.cleanup_problems))
    from conformance.client.ledger import LEDGER_NAME, drain
    from conformance.client.session import Session

    path = settings.report_dir / LEDGER_NAME
    if not path.is_file():
        return list(dict.fromkeys(target.cleanup_problems))
    session = Session(settings)
    try:
        client = cleanup_client(session)
        return drain(path, client) if client is not None else [f"{path}: no key to undo its entries with"]
    finally:
        session.close()


@pytest.fixture(scope="session")
def conformance_ledger(conformance_session: Session, conformance_target: Target,
                       request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """The run's cleanup ledger; leftovers of an interrupted earlier run are cleaned first."""
    from conformance.client.ledger import LEDGER_NAME, Ledger, drain

    settings = conformance_target.settings
    workerinput = getattr(request.config, "workerinput", None)  # not the environment: a parent may leak it
    worker = str(workerinput.get("workerid")) if workerinput else "main"
    path = None if conformance_target.embedded else settings.report_dir / LEDGER_NAME  # (in memory: nothing outlives)
    client = cleanup_client(conformance_session)
    if path is not None and client is not None and not settings.read_only:
        run_id = conformance_target.run_id
        for old in sorted(settings.report_dir.glob("ledger*.jsonl")):  # (ledger-gw*.jsonl: older versions)
            conformance_target.cleanup_problems.extend(drain(old, client, keep=lambda e: e.get("run_id") == run_id))
    ledger = Ledger(path, conformance_target.run_id, worker=worker)
    yield ledger
    if client is not None and not conformance_target.embedded:  # (an embedded reference's data ends with this process)
        ledger.undo_all(client)
    conformance_target.cleanup_problems.extend(ledger.problems)


@pytest.fixture(scope="session")
def conformance_probe(conformance_session: Session, conformance_settings: Settings) -> Probe:
    """The hidden-state probe; the test is reported not verified when the target has none."""
    if not conformance_settings.probe_url:
        pytest.skip("not verified: needs the hidden-state probe (set target.probe_url)")
    client = conformance_session.as_role("dm_admin")
    if client is None:
        pytest.skip("not verified: the probe needs the DM admin key")
    from conformance.client.probe import Probe

    return Probe(client, conformance_settings.probe_url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(TargetError):
        report.user_properties = [*report.user_properties, (TARGET_ERROR_PROPERTY, str(call.excinfo.value))]
        item.session.shouldstop = f"the target broke: {call.excinfo.value}"  # the rest would only wait on it
    return report
