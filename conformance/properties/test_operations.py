"""Generated tests for every operation of the contract: schema-valid cases (documented status, content
type and body), schema-violating cases (4xx, never 5xx), and requests without a valid key (401)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conformance.generation.profiles import Generation
from conformance.properties.support import (
    NEGATIVE_CHECKS,
    POSITIVE_CHECKS,
    Caller,
    Pool,
    Stats,
    body_excerpt,
    fill_negative,
    fill_positive,
    is_rbac,
    one_reading_accepts,
    openapi_core_errors,
    operation_ids,
    operations,
    reproduction,
    requirements_for,
    run_checks,
    violates_contract,
)
from conformance.verdicts import not_verified

OPERATIONS = operation_ids()


def _params(kind: str, *, smoke: bool = False) -> list[Any]:
    marks = [pytest.mark.smoke] if smoke else []
    return [pytest.param(label, id=op_id, marks=[pytest.mark.requirement(*requirements_for(label, kind)), *marks])
            for label, op_id in OPERATIONS]


def _attach(request: pytest.FixtureRequest, stats: Stats, generation: Generation) -> None:
    request.node.user_properties.append(("operation_stats", stats.as_json(generation)))


def _over_budget(budget_end: float | None) -> bool:
    return budget_end is not None and time.perf_counter() > budget_end


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _generate(label: str, kind: str, mode: GenerationMode, generation: Generation, budget_end: float | None,
              request: pytest.FixtureRequest, send: Callable[[Any, random.Random, Stats], None]) -> Stats:
    """Draw the profile's cases of this kind for the operation and `send(case, rng, stats)` each (until the time
    budget runs out); the operation's figures go to the report whatever happens, and an operation the budget
    never reached is not verified."""
    operation = operations()[label]
    stats = Stats(label, kind)

    @generation.hypothesis_settings(kind)
    @seed(generation.seed)
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 2**16))
    def check(case: Any, pick: int) -> None:
        if not _over_budget(budget_end):
            send(case, random.Random(pick), stats)

    try:
        check()
    finally:
        _attach(request, stats, generation)
    if not stats.cases:
        not_verified("the time budget of the profile ran out before this operation was tried")
    return stats


def _refused(headline: str, problems: list[str], caller: Caller, response: Any, generation: Generation,
             request: pytest.FixtureRequest) -> AssertionError:
    """The failure of one generated case: what was wrong, what came back, and how to send it again."""
    return AssertionError(f"{headline}:\n  - " + "\n  - ".join(problems) +
                          f"\n  received: {response.status_code} {body_excerpt(response)}\n"
                          + reproduction(caller, response, generation, request.node.nodeid))


@pytest.mark.parametrize("label", _params("positive", smoke=True))
def test_schema_valid_cases(label: str, pool: Pool, admin_caller: Caller, generation: Generation,
                            budget_end: float | None, request: pytest.FixtureRequest) -> None:
    """Schema-valid data, pointed at existing objects: a documented status, content type and body."""
    unauthenticated: list[int] = []  # cases where the DM admin's 'Api-Token <key>' was refused (GEN-AUTH-004 is MAY)

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        response = admin_caller.send(case)
        stats.add(response.status_code)
        body = _json_or_none(response)
        if response.status_code == 401:
            unauthenticated.append(response.status_code)
            return
        if 200 <= response.status_code < 300:
            pool.record_created(label, case, body)
        problems = run_checks(case, response, POSITIVE_CHECKS)
        problems += openapi_core_errors(case, response)
        if 200 <= response.status_code < 300 and label.endswith("/create/") and isinstance(body, dict):
            sent = case.body if isinstance(case.body, dict) else {}
            for name in ("expired", "external_id"):
                if sent.get(name) is None and name in body and body[name] is not None:
                    problems.append(f"a license created without {name} answered {name}={body[name]!r}, not null")
        if problems:
            raise _refused(f"{label}: a schema-valid request was answered {response.status_code} in a way the "
                           "contract does not allow", problems, admin_caller, response, generation, request)

    stats = _generate(label, "positive", GenerationMode.POSITIVE, generation, budget_end, request, send)
    if unauthenticated:
        not_verified(f"the DM admin key sent as 'Api-Token <key>' was refused with 401 on {len(unauthenticated)} of "
                     f"{stats.cases} cases (the prefix is not in the vendor documents: GEN-AUTH-004 is MAY)")


@pytest.mark.parametrize("label", _params("negative"))
def test_schema_violating_cases(label: str, pool: Pool, admin_caller: Caller, generation: Generation,
                                budget_end: float | None, request: pytest.FixtureRequest) -> None:
    """Schema-violating data (wrong types, missing required fields, ...): a 4xx, never a 5xx."""
    if generation.profile.negative_examples == 0:
        not_verified(f"profile {generation.profile.name} generates no schema-violating cases")

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        if not fill_negative(case, pool, rng) or not violates_contract(case, admin_caller):
            return
        if one_reading_accepts(label, case.body):  # a server following that reading may accept it
            return
        response = admin_caller.send(case)
        stats.add(response.status_code)
        if 200 <= response.status_code < 300:
            pool.record_created(label, case, _json_or_none(response))
        problems = []
        if response.status_code >= 500:
            problems.append(f"a server error ({response.status_code}) instead of a 4xx refusal")
        problems += run_checks(case, response, NEGATIVE_CHECKS)
        if problems:
            raise _refused(f"{label}: a request that violates the contract was answered {response.status_code}; "
                           "expected a 4xx refusal", problems, admin_caller, response, generation, request)

    _generate(label, "negative", GenerationMode.NEGATIVE, generation, budget_end, request, send)


@pytest.mark.parametrize("label", _params("auth", smoke=True))
def test_requests_without_a_valid_key(label: str, pool: Pool, anonymous_caller: Caller, wrong_key_caller: Caller,
                                      generation: Generation, budget_end: float | None,
                                      request: pytest.FixtureRequest) -> None:
    """A generated request with no key, and with a key no server issued: 401 (RBAC: 401 or 403)."""
    allowed = (401, 403) if is_rbac(label) else (401,)

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        for caller, what in ((anonymous_caller, "without an Authorization header"),
                             (wrong_key_caller, "with a key the server never issued")):
            response = caller.send(case)
            stats.add(response.status_code)
            if 200 <= response.status_code < 300:
                pool.record_created(label, case, _json_or_none(response))
            # The body of a 401 (GEN-AUTH-007, SHOULD) is the scenario test_a_401_answer_is_json_with_a_string_detail.
            if response.status_code not in allowed:
                raise _refused(f"{label}: a request {what} was not refused as documented",
                               [f"expected {' or '.join(map(str, allowed))}, got {response.status_code}"],
                               caller, response, generation, request)

    _generate(label, "auth", GenerationMode.POSITIVE, generation, budget_end, request, send)
