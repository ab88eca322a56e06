"""Records of a run: one per test, one per requirement, one for the whole run."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.spec.catalog import Catalog

PASSED = "passed"
FAILED = "failed"
NOT_VERIFIED = "not verified"
NOT_COVERED = "not covered"
NOT_SELECTED = "not selected"
TARGET_ERROR = "target error"
KNOWN_DEVIATION = "known deviation"
FLAKY = "flaky"
WARNING = "warning"  # a failed test whose requirements are all SHOULD or MAY


@dataclass(slots=True)
class TestRecord:
    """The outcome of one suite test."""

    __test__ = False  # not a test class, despite the name

    nodeid: str
    requirements: tuple[str, ...]
    outcome: str = PASSED  # passed | failed | not verified | target error
    message: str = ""
    duration: float = 0.0
    deviation: str | None = None  # the reason of a known-deviation entry that covered this test
    first_failure: str = ""  # the failure of the first attempt, when the test was replayed


@dataclass(frozen=True, slots=True)
class RequirementVerdict:
    """What the run says about one catalog requirement."""

    id: str
    verdict: str
    tests: tuple[str, ...]
    reason: str = ""


@dataclass(slots=True)
class RunResult:
    """Everything a report needs about a run."""

    tests: list[TestRecord] = field(default_factory=list)
    deselected: set[str] = field(default_factory=set)  # requirement IDs of tests left out by the selection

    def counts(self) -> dict[str, int]:
        """How many tests ended each way."""
        out = {PASSED: 0, FAILED: 0, WARNING: 0, NOT_VERIFIED: 0, TARGET_ERROR: 0, KNOWN_DEVIATION: 0, FLAKY: 0}
        for test in self.tests:
            out[test.outcome] += 1
        return out

    @property
    def failed(self) -> bool:
        """True when any test found the target non-conformant, or a deviation entry outlived its failure."""
        return any(t.outcome == FAILED for t in self.tests) or self._stale_deviations()

    def _stale_deviations(self) -> bool:
        by_reason: dict[str, list[TestRecord]] = {}
        for test in self.tests:
            if test.deviation:
                by_reason.setdefault(test.deviation, []).append(test)
        return any(all(t.outcome == PASSED for t in group) for group in by_reason.values())

    @property
    def target_broken(self) -> bool:
        """True when the target stopped any test from reaching a verdict."""
        return any(t.outcome == TARGET_ERROR for t in self.tests)

    def verdicts(self, catalog: Catalog) -> list[RequirementVerdict]:
        """One verdict per catalog requirement, in catalog order."""
        by_req: dict[str, list[TestRecord]] = {}
        for test in self.tests:
            for req in test.requirements:
                by_req.setdefault(req, []).append(test)
        verdicts = [_verdict(req_id, catalog.requirements[req_id].observable, by_req.get(req_id, []))
                    for req_id in catalog.requirements]
        return [RequirementVerdict(v.id, NOT_SELECTED, v.tests, "its tests were left out by the selection")
                if v.verdict == NOT_COVERED and v.id in self.deselected else v for v in verdicts]


def _verdict(req_id: str, observable: str, tests: list[TestRecord]) -> RequirementVerdict:
    names = tuple(t.nodeid for t in tests)
    outcomes = {t.outcome for t in tests}
    if FAILED in outcomes:
        return RequirementVerdict(req_id, FAILED, names, _first(tests, FAILED))
    if WARNING in outcomes:
        return RequirementVerdict(req_id, WARNING, names, _first(tests, WARNING))
    if KNOWN_DEVIATION in outcomes:
        return RequirementVerdict(req_id, KNOWN_DEVIATION, names, _first(tests, KNOWN_DEVIATION))
    if tests and all(t.deviation and t.outcome == PASSED for t in tests):
        return RequirementVerdict(req_id, FAILED, names, "deviation no longer needed: every test of it passes now; "
                                  f"remove its entry from the deviations file ({tests[0].deviation})")
    if FLAKY in outcomes:
        return RequirementVerdict(req_id, FLAKY, names, _first(tests, FLAKY))
    if PASSED in outcomes:
        return RequirementVerdict(req_id, PASSED, names)
    if TARGET_ERROR in outcomes:
        return RequirementVerdict(req_id, NOT_VERIFIED, names, "the target failed: " + _first(tests, TARGET_ERROR))
    if NOT_VERIFIED in outcomes:
        return RequirementVerdict(req_id, NOT_VERIFIED, names, _first(tests, NOT_VERIFIED))
    if observable == "none":
        return RequirementVerdict(req_id, NOT_VERIFIED, names, "not observable from outside the target")
    return RequirementVerdict(req_id, NOT_COVERED, names, "no test verifies it yet")


def _first(tests: list[TestRecord], outcome: str) -> str:
    return next(t.message for t in tests if t.outcome == outcome).splitlines()[0] if tests else ""
