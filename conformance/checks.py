"""Per-requirement checks: each assertion of a scenario says which requirement it is evidence for.

    with check("CRED-CRUD-009"):
        expect_status(admin.get(missing), 404, why="no such credential")

A check is a pytest subtest (pytest >= 9) named by its requirement: a failed check is reported on its
own and the test goes on, so one finding never hides another and never decides another requirement's
verdict. The collector folds the checks of every test into one verdict per requirement
(`conformance.results`). A check that depends on an earlier one starts with `needs(earlier)`: when the
earlier check did not pass, the later one is "not verified" instead of failing for a reason of
someone else's. A setup request the server refused ends the test through `setup_refused`: its
requirements are "not verified", with the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import TargetError
from conformance.verdicts import not_verified

if TYPE_CHECKING:
    from conformance.client.session import Exchange

REQUIREMENT_KEY = "requirement"  # the subtest keyword that carries the requirement ID


@dataclass(slots=True)
class Check:
    """One check of a running test: its requirement and, once it ended, whether it held."""

    requirement: str
    outcome: str = "running"  # running | passed | failed | not verified

    @property
    def held(self) -> bool:
        """True once the check ran to its end without a failure."""
        return self.outcome == "passed"


@dataclass(slots=True)
class _Scope:
    """The checks of the test that is running now."""

    subtests: Any
    nodeid: str
    requirements: tuple[str, ...]
    checks: list[Check] = field(default_factory=list)


_SCOPE: ContextVar[_Scope | None] = ContextVar("conformance_check_scope", default=None)


@contextmanager
def checking(subtests: Any, nodeid: str, requirements: tuple[str, ...]) -> Iterator[None]:
    """Open the check scope of one suite test (the plugin does this around every suite test)."""
    token = _SCOPE.set(_Scope(subtests, nodeid, requirements))
    try:
        yield
    finally:
        _SCOPE.reset(token)


@contextmanager
def check(requirement: str) -> Iterator[Check]:
    """Evidence about `requirement`: a failure inside is reported against it alone, and the test goes on."""
    scope = _SCOPE.get()
    if scope is None:
        raise RuntimeError("check() is only available inside a conformance suite test")
    if requirement not in scope.requirements:
        raise RuntimeError(f"{scope.nodeid} checks {requirement} but its requirement marker does not name it")
    current = Check(requirement)
    scope.checks.append(current)
    escaped: TargetError | None = None
    with scope.subtests.test(msg=requirement, **{REQUIREMENT_KEY: requirement}):
        try:
            yield current
        except TargetError as exc:  # the target broke: this check is not verified and the test stops
            escaped, current.outcome = exc, "not verified"
            not_verified(f"the target failed: {exc}")
        except pytest.skip.Exception:
            current.outcome = "not verified"
            raise
        except BaseException:
            current.outcome = "failed"
            raise
        current.outcome = "passed"
    if escaped is not None:
        raise escaped


def needs(*earlier: Check) -> None:
    """Inside a check: go on only when the earlier checks it builds on held; otherwise not verified."""
    for step in earlier:
        if not step.held:
            not_verified(f"an earlier step of the test did not hold ({step.requirement} {step.outcome})")


def setup_refused(exchange: Exchange, what: str) -> None:
    """End the test as not verified: the server refused (or failed) a request the test only needed as setup."""
    not_verified(f"the server refused a setup request ({what}): {exchange.operation} answered "
                 f"{exchange.status} {exchange.text[:200]!r}")


def setup(exchange: Exchange, what: str, *accepted: int) -> Exchange:
    """The answer of a setup request when its status is one of `accepted` (default 2xx); else not verified."""
    ok = exchange.status in accepted if accepted else 200 <= exchange.status < 300
    if not ok:
        setup_refused(exchange, what)
    return exchange
