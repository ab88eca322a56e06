"""Records of a run: one per check, one per test, one per requirement, one for the whole run.

A requirement's verdict is the fold of its own checks over every test that names it (never of the
tests' outcomes as a whole):

- failed: one of its checks failed (a SHOULD or MAY requirement: warning); known deviation when every
  failed check is covered by an entry of the deviations file;
- flaky: a check failed and passed when the test was replayed;
- passed: at least one of its checks ran and every check of it, in every test, held;
- not verified: otherwise, with the reason (no key, no probe, read-only, a refused setup request with
  the server's answer, an earlier step that did not hold, the target failed).

A test that names one requirement and runs no explicit check is that requirement's check as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.spec.catalog import Catalog

if TYPE_CHECKING:
    from conformance.deviations import Deviation

PASSED = "passed"
FAILED = "failed"
NOT_VERIFIED = "not verified"
NOT_COVERED = "not covered"
NOT_SELECTED = "not selected"
TARGET_ERROR = "target error"
KNOWN_DEVIATION = "known deviation"
FLAKY = "flaky"
WARNING = "warning"  # a failed check (or test) whose requirements are all SHOULD or MAY


@dataclass(slots=True)
class CheckRecord:
    """One check of one test: the requirement it is evidence for and how it ended."""

    requirement: str
    outcome: str  # passed | failed | not verified | target error
    message: str = ""
    nodeid: str = ""
    first_failure: str = ""  # the failure of the first attempt, when the test was replayed and this passed


@dataclass(slots=True)
class TestRecord:
    """The outcome of one suite test, with the checks it ran."""

    __test__ = False  # not a test class, despite the name

    nodeid: str
    requirements: tuple[str, ...]
    outcome: str = PASSED  # passed | failed | warning | flaky | not verified | target error
    message: str = ""
    duration: float = 0.0
    deviation: str | None = None  # the reason of a known-deviation entry that covered a failure of this test
    first_failure: str = ""  # the failure of the first attempt, when the test was replayed
    checks: list[CheckRecord] = field(default_factory=list)
    first_failures: dict[str, str] = field(default_factory=dict)  # requirement -> its failure in the first attempt

    def evidence(self, requirement: str) -> list[CheckRecord]:
        """The checks of this test that speak about `requirement`."""
        own = [c for c in self.checks if c.requirement == requirement]
        if own:
            return own
        if self.requirements == (requirement,):  # the test as a whole is the check of its only requirement
            outcome = {WARNING: FAILED, KNOWN_DEVIATION: FAILED}.get(self.outcome, self.outcome)
            first = self.first_failure if outcome in (PASSED, FLAKY) else ""
            return [CheckRecord(requirement, PASSED if outcome == FLAKY else outcome, self.message, self.nodeid,
                                first)]
        reason = "no check of it ran in this test"
        if self.outcome not in (PASSED, FLAKY) and self.message:
            reason += f": the test stopped first ({self.message.splitlines()[0]})"
        return [CheckRecord(requirement, TARGET_ERROR if self.outcome == TARGET_ERROR else NOT_VERIFIED, reason,
                            self.nodeid)]


@dataclass(frozen=True, slots=True)
class RequirementVerdict:
    """What the run says about one catalog requirement, and the check that decided it."""

    id: str
    verdict: str
    tests: tuple[str, ...]
    reason: str = ""
    decided_by: str = ""  # the test whose check decided the verdict
    checks: int = 0  # how many checks of it ran


@dataclass(slots=True)
class RunResult:
    """Everything a report needs about a run."""

    tests: list[TestRecord] = field(default_factory=list)
    deselected: set[str] = field(default_factory=set)  # requirement IDs of tests left out by the selection
    deviations: tuple[Deviation, ...] = ()
    cleanup_problems: list[str] = field(default_factory=list)  # objects the run created and could not undo
    timings: dict[str, float] = field(default_factory=dict)  # seconds: startup, generated tests, scenarios, cleanup

    def counts(self) -> dict[str, int]:
        """How many tests ended each way."""
        out = {PASSED: 0, FAILED: 0, WARNING: 0, NOT_VERIFIED: 0, TARGET_ERROR: 0, KNOWN_DEVIATION: 0, FLAKY: 0}
        for test in self.tests:
            out[test.outcome] += 1
        return out

    def failing(self, catalog: Catalog) -> list[RequirementVerdict]:
        """The verdicts that make the run non-conformant: a failed requirement, a flaky MUST."""
        levels = {rid: req.level for rid, req in catalog.requirements.items()}
        return [v for v in self.verdicts(catalog)
                if v.verdict == FAILED or (v.verdict == FLAKY and levels.get(v.id) == "MUST")]

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
        verdicts = []
        for req_id, requirement in catalog.requirements.items():
            tests = by_req.get(req_id, [])
            evidence = [c for t in tests for c in t.evidence(req_id)]
            verdict = fold(req_id, requirement.level, evidence, self.deviations)
            if not evidence:
                verdict = _uncovered(req_id, requirement.observable, req_id in self.deselected)
                if verdict.verdict == NOT_COVERED and self.target_broken:
                    verdict = RequirementVerdict(req_id, NOT_VERIFIED, (), "the run stopped when the target broke")
            verdicts.append(RequirementVerdict(verdict.id, verdict.verdict, tuple(t.nodeid for t in tests),
                                               verdict.reason, verdict.decided_by, len(evidence)))
        return verdicts


def fold(req_id: str, level: str, evidence: Iterable[CheckRecord],
         deviations: tuple[Deviation, ...] = ()) -> RequirementVerdict:
    """The verdict of one requirement from its checks (see the module docstring)."""
    checks = list(evidence)
    active = [d for d in deviations if not d.expired()]

    def covering(c: CheckRecord) -> Deviation | None:
        return next((d for d in active if d.matches(c.nodeid, (c.requirement,))), None)

    def verdict(kind: str, c: CheckRecord, reason: str | None = None) -> RequirementVerdict:
        text = c.message if reason is None else reason
        return RequirementVerdict(req_id, kind, (), text.splitlines()[0] if text else "", c.nodeid)

    failed = [c for c in checks if c.outcome == FAILED]
    excused = [c for c in failed if covering(c)]
    if len(excused) < len(failed):
        first = next(c for c in failed if not covering(c))
        expired = next((d for d in deviations if d.expired() and d.matches(first.nodeid, (req_id,))), None)
        reason = f"expired deviation ({expired.reason}) no longer excuses this failure: {first.message}" \
            if expired else None
        return verdict(FAILED if level == "MUST" else WARNING, first, reason)
    if excused:
        return verdict(KNOWN_DEVIATION, excused[0], covering(excused[0]).reason)  # type: ignore[union-attr]
    covered = [c for c in checks if covering(c)]
    if covered and all(c.outcome == PASSED for c in covered):
        return verdict(FAILED, covered[0], "deviation no longer needed: every check of it passes now; remove its "
                                           f"entry from the deviations file ({covering(covered[0]).reason})")  # type: ignore[union-attr]
    flaky = [c for c in checks if c.outcome == PASSED and c.first_failure]
    if flaky:
        return verdict(FLAKY, flaky[0], f"failed, then passed when replayed; first attempt: {flaky[0].first_failure}")
    broken = [c for c in checks if c.outcome == TARGET_ERROR]
    if broken:
        return verdict(NOT_VERIFIED, broken[0], f"the target failed: {broken[0].message}")
    unverified = [c for c in checks if c.outcome != PASSED]
    if unverified:
        return verdict(NOT_VERIFIED, unverified[0])
    if checks:
        return verdict(PASSED, checks[0], "")
    return RequirementVerdict(req_id, NOT_COVERED, (), "no test verifies it yet")


def _uncovered(req_id: str, observable: str, deselected: bool) -> RequirementVerdict:
    if deselected:
        return RequirementVerdict(req_id, NOT_SELECTED, (), "its tests were left out by the selection")
    if observable == "none":
        return RequirementVerdict(req_id, NOT_VERIFIED, (), "not observable from outside the target")
    return RequirementVerdict(req_id, NOT_COVERED, (), "no test verifies it yet")
