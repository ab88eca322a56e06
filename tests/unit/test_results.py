"""Requirement verdicts from each requirement's own checks, and the exit code of a run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conformance.deviations import Deviation
from conformance.errors import EXIT_CONFORMANT, EXIT_NON_CONFORMANT, EXIT_TARGET, EXIT_USAGE
from conformance.results import (
    FAILED,
    FLAKY,
    KNOWN_DEVIATION,
    NOT_COVERED,
    NOT_VERIFIED,
    PASSED,
    TARGET_ERROR,
    WARNING,
    CheckRecord,
    RunResult,
    TestRecord,
)
from conformance.runner import decide
from conformance.spec.catalog import Catalog, Requirement


def catalog(*ids: str, observable: str = "api", should: tuple[str, ...] = ()) -> Catalog:
    reqs = {i: Requirement(i, "SHOULD" if i in should else "MUST", "t", ("GET /x",), "s", "q", observable) for i in ids}
    return Catalog(Path("x"), reqs, ("GET /x",))


def verdicts(result: RunResult, *ids: str, **kw: object) -> dict[str, str]:
    return {v.id: v.verdict for v in result.verdicts(catalog(*ids, **kw))}  # type: ignore[arg-type]


def lifecycle(*checks: tuple[str, str, str], outcome: str = FAILED, message: str = "contains 1 failed subtest") -> TestRecord:
    """A test naming A, B and C whose checks ended as given."""
    test = TestRecord("t::lifecycle", ("R-A-001", "R-B-001", "R-C-001"), outcome, message)
    test.checks = [CheckRecord(r, o, m, test.nodeid) for r, o, m in checks]
    return test


def test_a_failing_check_fails_its_own_requirement_only() -> None:
    test = lifecycle(("R-A-001", PASSED, ""), ("R-B-001", FAILED, "echoed field differs"), ("R-C-001", PASSED, ""))
    result = RunResult([test])
    assert verdicts(result, "R-A-001", "R-B-001", "R-C-001") == {"R-A-001": PASSED, "R-B-001": FAILED, "R-C-001": PASSED}
    (failed,) = [v for v in result.verdicts(catalog("R-A-001", "R-B-001", "R-C-001")) if v.verdict == FAILED]
    assert failed.reason == "echoed field differs" and failed.decided_by == "t::lifecycle"


def test_a_requirement_whose_check_never_ran_is_not_verified_with_the_reason() -> None:
    test = lifecycle(("R-A-001", PASSED, ""), outcome=NOT_VERIFIED,
                     message="not verified: the server refused a setup request (creating a license): 400 'no seats'")
    found = {v.id: v for v in RunResult([test]).verdicts(catalog("R-A-001", "R-B-001", "R-C-001"))}
    assert found["R-A-001"].verdict == PASSED
    for rid in ("R-B-001", "R-C-001"):
        assert found[rid].verdict == NOT_VERIFIED
        assert "refused a setup request" in found[rid].reason and "no seats" in found[rid].reason


def test_a_check_that_builds_on_a_failed_one_is_not_verified() -> None:
    test = lifecycle(("R-A-001", FAILED, "create answered 500"),
                     ("R-B-001", NOT_VERIFIED, "an earlier step of the test did not hold (R-A-001 failed)"),
                     ("R-C-001", PASSED, ""))
    assert verdicts(RunResult([test]), "R-A-001", "R-B-001", "R-C-001") == \
        {"R-A-001": FAILED, "R-B-001": NOT_VERIFIED, "R-C-001": PASSED}


def test_passed_needs_every_check_in_every_test_to_hold() -> None:
    one = TestRecord("t::one", ("R-A-001",), PASSED)
    other = TestRecord("t::other", ("R-A-001",), NOT_VERIFIED, "not verified: needs the probe")
    found = {v.id: v for v in RunResult([one, other]).verdicts(catalog("R-A-001"))}
    assert found["R-A-001"].verdict == NOT_VERIFIED and "probe" in found["R-A-001"].reason
    assert verdicts(RunResult([one, TestRecord("t::third", ("R-A-001",), PASSED)]), "R-A-001") == {"R-A-001": PASSED}


def test_a_test_of_one_requirement_is_its_check_as_a_whole() -> None:
    result = RunResult([TestRecord("a", ("R-A-001",), FAILED, "boom"), TestRecord("c", ("R-C-001",), NOT_VERIFIED, "x")])
    found = {v.id: v for v in result.verdicts(catalog("R-A-001", "R-C-001", "R-D-001"))}
    assert found["R-A-001"].verdict == FAILED and found["R-A-001"].reason == "boom"
    assert found["R-C-001"].verdict == NOT_VERIFIED
    assert found["R-D-001"].verdict == NOT_COVERED


def test_when_the_target_broke_what_the_run_never_reached_is_not_verified() -> None:
    result = RunResult([TestRecord("e", ("R-E-001",), TARGET_ERROR, "unreachable")])
    found = {v.id: v for v in result.verdicts(catalog("R-D-001", "R-E-001"))}
    assert found["R-E-001"].verdict == NOT_VERIFIED and "target" in found["R-E-001"].reason
    assert found["R-D-001"].verdict == NOT_VERIFIED and "target broke" in found["R-D-001"].reason


def test_a_test_of_several_requirements_without_their_checks_passes_none_of_them() -> None:
    result = RunResult([TestRecord("t::bare", ("R-A-001", "R-B-001"), PASSED)])
    assert verdicts(result, "R-A-001", "R-B-001") == {"R-A-001": NOT_VERIFIED, "R-B-001": NOT_VERIFIED}


def test_a_deviation_on_one_requirement_leaves_the_others_failures_visible() -> None:
    test = lifecycle(("R-A-001", FAILED, "a broke"), ("R-B-001", FAILED, "b broke"), ("R-C-001", PASSED, ""))
    result = RunResult([test], deviations=(Deviation("ticket 1", requirement="R-A-001"),))
    assert verdicts(result, "R-A-001", "R-B-001", "R-C-001") == \
        {"R-A-001": KNOWN_DEVIATION, "R-B-001": FAILED, "R-C-001": PASSED}
    assert decide(1, result, catalog("R-A-001", "R-B-001", "R-C-001")).code == EXIT_NON_CONFORMANT


def test_a_deviation_no_longer_needed_fails_and_an_expired_one_excuses_nothing() -> None:
    passing = lifecycle(("R-A-001", PASSED, ""), ("R-B-001", PASSED, ""), ("R-C-001", PASSED, ""), outcome=PASSED)
    stale = RunResult([passing], deviations=(Deviation("fixed now", requirement="R-A-001"),))
    (found,) = [v for v in stale.verdicts(catalog("R-A-001", "R-B-001", "R-C-001")) if v.id == "R-A-001"]
    assert found.verdict == FAILED and "no longer needed" in found.reason
    failing = lifecycle(("R-A-001", FAILED, "a broke"))
    expired = RunResult([failing], deviations=(Deviation("old", requirement="R-A-001", expires=dt.date(2000, 1, 1)),))
    (found,) = [v for v in expired.verdicts(catalog("R-A-001", "R-B-001", "R-C-001")) if v.id == "R-A-001"]
    assert found.verdict == FAILED and "expired deviation (old)" in found.reason


def test_a_check_that_failed_then_passed_on_replay_is_flaky_and_a_flaky_must_fails_the_gate() -> None:
    test = lifecycle(("R-A-001", PASSED, ""), ("R-B-001", PASSED, ""), outcome=PASSED)
    test.checks[0].first_failure = "timed out once"
    result = RunResult([test])
    assert verdicts(result, "R-A-001", "R-B-001") == {"R-A-001": FLAKY, "R-B-001": PASSED}
    outcome = decide(0, result, catalog("R-A-001", "R-B-001"))
    assert outcome.code == EXIT_NON_CONFORMANT and "flaky" in outcome.reason
    soft = decide(0, result, catalog("R-A-001", "R-B-001", should=("R-A-001",)))
    assert soft.code == EXIT_CONFORMANT and "1 flaky" in soft.reason


def test_unobservable_requirements_are_not_verified_rather_than_uncovered() -> None:
    (verdict,) = RunResult([]).verdicts(catalog("R-A-001", observable="none"))
    assert verdict.verdict == NOT_VERIFIED


def test_exit_codes_follow_the_worst_outcome() -> None:
    one = catalog("R-A-001")
    ok = RunResult([TestRecord("a", ("R-A-001",), PASSED), TestRecord("b", ("R-A-001",), PASSED)])
    assert decide(0, ok, one).code == EXIT_CONFORMANT
    assert decide(1, RunResult([TestRecord("a", ("R-A-001",), FAILED)]), one).code == EXIT_NON_CONFORMANT
    broken = RunResult([TestRecord("a", ("R-A-001",), FAILED), TestRecord("b", ("R-A-001",), TARGET_ERROR)])
    assert decide(1, broken, one).code == EXIT_TARGET
    nothing = RunResult([TestRecord("a", ("R-A-001",), NOT_VERIFIED, "not verified: needs writes (read-only run)")])
    assert decide(0, nothing, one).code == EXIT_USAGE
    assert decide(5, None).code == EXIT_USAGE
    assert decide(4, None).code == EXIT_USAGE


def test_warnings_do_not_make_a_run_non_conformant() -> None:
    result = RunResult([TestRecord("a", ("R-A-001",), PASSED), TestRecord("b", ("R-B-001",), WARNING, "soft")])
    cat = catalog("R-A-001", "R-B-001", should=("R-B-001",))
    assert {v.id: v.verdict for v in result.verdicts(cat)} == {"R-A-001": PASSED, "R-B-001": WARNING}
    outcome = decide(0, result, cat)
    assert outcome.code == EXIT_CONFORMANT and "1 warning" in outcome.reason
