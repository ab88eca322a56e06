"""Requirement verdicts from test outcomes, and the exit code of a run."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import EXIT_CONFORMANT, EXIT_NON_CONFORMANT, EXIT_TARGET, EXIT_USAGE
from conformance.results import FAILED, NOT_COVERED, NOT_VERIFIED, PASSED, TARGET_ERROR, RunResult, TestRecord
from conformance.runner import decide
from conformance.spec.catalog import Catalog, Requirement


def catalog(*ids: str, observable: str = "api") -> Catalog:
    reqs = {i: Requirement(i, "MUST", "t", ("GET /x",), "s", "q", observable) for i in ids}
    return Catalog(Path("x"), reqs, ("GET /x",))


def test_verdicts_combine_the_tests_of_each_requirement() -> None:
    result = RunResult([
        TestRecord("a", ("R-A-001", "R-B-001"), PASSED),
        TestRecord("b", ("R-B-001",), FAILED, "boom"),
        TestRecord("c", ("R-C-001",), NOT_VERIFIED, "not verified: needs probe"),
        TestRecord("d", ("R-E-001",), TARGET_ERROR, "unreachable"),
    ])
    verdicts = {v.id: v for v in result.verdicts(catalog("R-A-001", "R-B-001", "R-C-001", "R-D-001", "R-E-001"))}
    assert verdicts["R-A-001"].verdict == PASSED
    assert verdicts["R-B-001"].verdict == FAILED and verdicts["R-B-001"].reason == "boom"
    assert verdicts["R-C-001"].verdict == NOT_VERIFIED
    assert verdicts["R-D-001"].verdict == NOT_COVERED
    assert verdicts["R-E-001"].verdict == NOT_VERIFIED and "target" in verdicts["R-E-001"].reason


def test_unobservable_requirements_are_not_verified_rather_than_uncovered() -> None:
    (verdict,) = RunResult([]).verdicts(catalog("R-A-001", observable="none"))
    assert verdict.verdict == NOT_VERIFIED


def test_exit_codes_follow_the_worst_outcome() -> None:
    ok = RunResult([TestRecord("a", ("R",), PASSED), TestRecord("b", ("R",), NOT_VERIFIED)])
    assert decide(0, ok).code == EXIT_CONFORMANT
    assert decide(1, RunResult([TestRecord("a", ("R",), FAILED)])).code == EXIT_NON_CONFORMANT
    assert decide(1, RunResult([TestRecord("a", ("R",), FAILED), TestRecord("b", ("R",), TARGET_ERROR)])).code == EXIT_TARGET
    assert decide(5, None).code == EXIT_USAGE
    assert decide(4, None).code == EXIT_USAGE


def test_warnings_do_not_make_a_run_non_conformant() -> None:
    from conformance.results import WARNING

    result = RunResult([TestRecord("a", ("R-A-001",), PASSED), TestRecord("b", ("R-B-001",), WARNING, "soft")])
    verdicts = {v.id: v.verdict for v in result.verdicts(catalog("R-A-001", "R-B-001"))}
    assert verdicts == {"R-A-001": PASSED, "R-B-001": WARNING}
    outcome = decide(0, result)
    assert outcome.code == EXIT_CONFORMANT and "1 warning" in outcome.reason
