"""Generated tests for every operation of the contract: schema-valid cases (documented status, content
type and body), schema-violating cases (4xx, never 5xx), and requests without a valid key (401)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from hypothesis import assume, given, seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.openapi.checks import UndefinedStatusCode

from conformance.generation.profiles import Generation
from conformance.properties.contract import (
    DOCUMENTED_STATUS,
    NULL_WHEN_NOT_SENT,
    SCHEMA_REQUIREMENTS,
    SERVER_ERROR,
    covers,
    is_rbac,
    operation_ids,
    operations,
    requirements_for,
    violating_operations,
)
from conformance.properties.filling import fill_negative, fill_positive
from conformance.properties.judging import (
    Findings,
    acceptance_requirement,
    broken_by_hand,
    can_be_malformed,
    check_failures,
    check_findings,
    one_reading_accepts,
    openapi_core_findings,
    request_violations,
)
from conformance.properties.pool import Pool
from conformance.properties.reporting import Caller, Stats, body_excerpt, reproduction
from conformance.verdicts import not_verified

OPERATIONS = operation_ids()
ANSWER_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]  # of a 2xx answer


def _params(kind: str, *, smoke: bool = False) -> list[Any]:
    """One test per operation; schema-violating tests only where the published document gives a request
    something to break (the credentials reads and delete take only free-form path strings)."""
    marks = [pytest.mark.smoke] if smoke else []
    return [pytest.param(label, id=op_id, marks=[pytest.mark.requirement(*requirements_for(label, kind)), *marks])
            for label, op_id in OPERATIONS if kind != "negative" or can_be_malformed(label)]


def _attach(request: pytest.FixtureRequest, stats: Stats, generation: Generation) -> None:
    """The test's figures for the report (in place of any it attached before)."""
    properties = request.node.user_properties
    properties[:] = [item for item in properties if item[0] != "operation_stats"]
    properties.append(("operation_stats", stats.as_json(generation)))


def _over_budget(budget_end: float | None) -> bool:
    return budget_end is not None and time.perf_counter() > budget_end


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@cache
def _strategy(label: str, mode: GenerationMode) -> Any:
    """Schemathesis' strategy for the operation's cases of this mode, made once for every test that draws them."""
    return (violating_operations() if mode == GenerationMode.NEGATIVE else operations())[label].as_strategy(
        generation_mode=mode)


def _generate(label: str, kind: str, mode: GenerationMode, generation: Generation, budget_end: float | None,
              request: pytest.FixtureRequest, send: Callable[[Any, random.Random, Stats], None]) -> Stats:
    """Draw the profile's cases of this kind for the operation and `send(case, rng, stats)` each (until the time
    budget runs out); the operation's figures go to the report whatever happens, and an operation the budget
    never reached is not verified."""
    stats = Stats(label, kind)

    @generation.hypothesis_settings(kind, label)
    @seed(generation.seed)
    @given(case=_strategy(label, mode), pick=st.integers(0, 2**16))
    def check(case: Any, pick: int) -> None:
        if not _over_budget(budget_end):
            send(case, random.Random(pick), stats)

    try:
        check()
    except Unsatisfiable:  # every case drawn was set aside (see send): nothing judged, which the checks report
        pass
    finally:
        _attach(request, stats, generation)
    if not stats.cases and _over_budget(budget_end):
        not_verified("the time budget of the profile ran out before this operation was tried")
    return stats


def left_out_as_asked(case: Any, message: str) -> bool:
    """True when the answer lacks only the users or groups that the request asked to leave out
    (include_users=false / include_groups=false): one documented reading omits the field instead of sending an
    empty array (catalog: omit-excluded-members on CORE-RBAC-009, CORE-RBAC-011, CORE-GRP-008)."""
    query = case.query or {}
    for field, flag in (("users", "include_users"), ("groups", "include_groups")):
        if str(query.get(flag)).lower() == "false" and re.search(rf"""['"]{field}['"] is a required property""",
                                                                 message):
            other = re.findall(r"""['"](\w+)['"] is a required property""", message)
            if set(other) <= {field, "users" if str(query.get("include_users")).lower() == "false" else field,
                              "groups" if str(query.get("include_groups")).lower() == "false" else field}:
                return True
    return False


def _case_failure(headline: str, problem: str, caller: Caller, response: Any, generation: Generation,
                  request: pytest.FixtureRequest) -> str:
    """One broken rule of one generated case: what was wrong, what came back, and how to send it again."""
    return (f"{headline}:\n  - {problem}\n  received: {response.status_code} {body_excerpt(response)}\n"
            + reproduction(caller, response, generation, request.node.nodeid))


@pytest.mark.parametrize("label", _params("positive", smoke=True))
def test_schema_valid_cases(label: str, pool: Pool, admin_caller: Caller, generation: Generation,
                            budget_end: float | None, request: pytest.FixtureRequest) -> None:
    """Schema-valid data, pointed at existing objects: a documented status (GEN-STATUS-002), never a 5xx
    (GEN-STATUS-007), and a 2xx answer of the documented content type and schema (the GEN-SCHEMA requirements),
    each judged and reported on its own."""
    findings = Findings(requirements_for(label, "positive"))
    schema_rules = [rid for rid in SCHEMA_REQUIREMENTS if covers(rid, label)]  # the answer rules of this operation
    unauthenticated: list[int] = []  # cases where the DM admin's 'Api-Token <key>' was refused (GEN-AUTH-004 is MAY)
    headline = f"{label}: a schema-valid request"
    set_aside = pool.set_aside[label]

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        before = pool.before_send(label, case)
        response = admin_caller.send(case)
        status = response.status_code
        stats.add(status)
        if status == 401:
            unauthenticated.append(status)
            return
        body = _json_or_none(response)
        success = 200 <= status < 300
        if success:
            pool.record_created(label, case, body, before)

        def judge(rid: str, problem: str | None) -> None:
            findings.judge(rid, problem and _case_failure(headline, problem, admin_caller, response, generation,
                                                          request))

        judge(SERVER_ERROR, f"a server error ({status})" if status >= 500 else None)
        # schemathesis' checks in one pass (its status check raises UndefinedStatusCode alone)
        failures = check_failures(case, response, ANSWER_CHECKS if success else [status_code_conformance])
        undocumented = [m for _, m in check_findings([f for f in failures if isinstance(f, UndefinedStatusCode)], label)]
        judge(DOCUMENTED_STATUS, undocumented[0] if undocumented else None)
        if not success:
            return  # the published document gives only 2xx answers a body (an error body is GEN-STATUS-001's)
        judge_answer(case, response, body, judge, [f for f in failures if not isinstance(f, UndefinedStatusCode)])

    def judge_answer(case: Any, response: Any, body: Any, judge: Callable[[str, str | None], None],
                     failures: list[Any]) -> None:
        """The 2xx answer's content type, schema and formats (`failures`: schemathesis' content type and schema
        checks), and (license creates) the fields not sent."""
        problems = check_findings(failures, label)
        problems += openapi_core_findings(case, response)
        problems = [(rid, message) for rid, message in problems if not left_out_as_asked(case, message)]
        for rid in schema_rules:
            judge(rid, next((message for broken, message in problems if broken == rid), None))
        if label.endswith("/create/") and isinstance(body, dict):
            sent = case.body if isinstance(case.body, dict) else {}
            for name, rid in NULL_WHEN_NOT_SENT.items():
                if sent.get(name) is None and name in body:
                    judge(rid, None if body[name] is None else
                          f"a license created without {name} answered {name}={body[name]!r}, not null")

    stats = _generate(label, "positive", GenerationMode.POSITIVE, generation, budget_end, request, send)
    findings.report(f"no case came to this rule ({stats.cases} case(s) sent, {len(unauthenticated)} refused with 401 "
                    f"to the key sent as 'Api-Token <key>': GEN-AUTH-004 is MAY{pool.set_aside_note(label, set_aside)})")


@pytest.mark.parametrize("label", _params("negative"))
def test_schema_violating_cases(label: str, pool: Pool, admin_caller: Caller, generation: Generation,
                                budget_end: float | None, request: pytest.FixtureRequest) -> None:
    """Data that breaks the published document (wrong types, missing required fields, ...; never only what the
    contract adds to it): never a 5xx (GEN-STATUS-007), a documented status (GEN-STATUS-002), and not served."""
    if generation.profile.negative_examples == 0:
        not_verified(f"profile {generation.profile.name} generates no schema-violating cases")
    findings = Findings(requirements_for(label, "negative"))
    headline = f"{label}: a request that breaks the published document"
    set_aside = pool.set_aside[label]
    sent: list[Any] = []  # the cases sent (the last one is the model of a case broken by hand, below)

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        # a case that breaks nothing the server sees, only what the contract adds to the published document, or
        # nothing a documented reading refuses is set aside, and hypothesis draws another one in its place; so is
        # one naming a suggestion pair someone else's suggestion holds (a server may still serve it). The cheap
        # tests come first: openapi-core reads only the cases they keep.
        assume(fill_negative(case, pool, rng) and not one_reading_accepts(label, case.body))
        violations = request_violations(case, admin_caller)
        assume(bool(violations))
        send_and_judge(case, violations, stats, pool.before_send(label, case))

    def send_and_judge(case: Any, violations: list[Any], stats: Stats, before: Any) -> None:
        response = admin_caller.send(case)
        sent.append(case)
        status = response.status_code
        stats.add(status)
        if 200 <= status < 300:
            pool.record_created(label, case, _json_or_none(response), before)

        def judge(rid: str, problem: str | None) -> None:
            findings.judge(rid, problem and _case_failure(headline, problem, admin_caller, response, generation,
                                                          request))

        judge(SERVER_ERROR, f"a server error ({status}) instead of a 4xx refusal" if status >= 500 else None)
        undocumented = [m for _, m in check_findings(check_failures(case, response, [status_code_conformance]), label)]
        judge(DOCUMENTED_STATUS, undocumented[0] if undocumented else None)
        broken = ", ".join(f"{v.location} {v.name}".strip() for v in violations)
        for rid in dict.fromkeys(filter(None, (acceptance_requirement(label, v) for v in violations))):
            judge(rid, f"served ({status}) although it breaks the published document ({broken}); expected a 4xx"
                  if 200 <= status < 300 else None)

    stats = _generate(label, "negative", GenerationMode.NEGATIVE, generation, budget_end, request, send)
    for rule in findings.unjudged_acceptance() if sent else ():
        # no drawn case came to this rule: one more case, the last one sent with that part broken by hand, so the
        # rule's verdict does not rest on what a few draws happened to break
        made = broken_by_hand(sent[-1], rule)
        violations = request_violations(made, admin_caller) if made is not None else []
        if rule in {acceptance_requirement(label, v) for v in violations}:
            free, before = pool.free_to_send(label, made)
            if free:  # (a case naming a suggestion pair someone else's suggestion holds is set aside, as drawn ones are)
                send_and_judge(made, violations, stats, before)
                _attach(request, stats, generation)  # the figures again, this case counted
    findings.report(f"no generated case broke the published document in a way this rule judges ({stats.cases} sent"
                    f"{pool.set_aside_note(label, set_aside)})")


@pytest.mark.parametrize("label", _params("auth", smoke=True))
def test_requests_without_a_valid_key(label: str, pool: Pool, anonymous_caller: Caller, wrong_key_caller: Caller,
                                      generation: Generation, budget_end: float | None,
                                      request: pytest.FixtureRequest) -> None:
    """A generated request with no key (GEN-AUTH-001) and with a key no server issued (GEN-AUTH-002): 401;
    on RBAC operations 401 or 403 for either (GEN-AUTH-006)."""
    allowed = (401, 403) if is_rbac(label) else (401,)
    findings = Findings(requirements_for(label, "auth"))
    callers = ((anonymous_caller, "without an Authorization header", "GEN-AUTH-006" if is_rbac(label) else "GEN-AUTH-001"),
               (wrong_key_caller, "with a key the server never issued", "GEN-AUTH-006" if is_rbac(label) else "GEN-AUTH-002"))

    set_aside = pool.set_aside[label]  # a server that wrongly serves a request without a key must change nothing else

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        before = pool.before_send(label, case)
        for caller, what, rid in callers:
            response = caller.send(case)
            stats.add(response.status_code)
            if 200 <= response.status_code < 300:
                pool.record_created(label, case, _json_or_none(response), before)
            # The body of a 401 (GEN-AUTH-007, SHOULD) is the scenario test_a_401_answer_is_json_with_a_string_detail.
            wrong = response.status_code not in allowed
            findings.judge(rid, wrong and _case_failure(
                f"{label}: a request {what} was not refused as documented",
                f"expected {' or '.join(map(str, allowed))}, got {response.status_code}", caller, response, generation,
                request) or None)

    stats = _generate(label, "auth", GenerationMode.POSITIVE, generation, budget_end, request, send)
    findings.report(f"no request was sent ({stats.cases}{pool.set_aside_note(label, set_aside)})")
