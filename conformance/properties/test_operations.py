"""Generated tests for every operation of the contract: schema-valid cases (documented status, content
type and body), schema-violating cases (4xx, never 5xx), and requests without a valid key (401)."""

from __future__ import annotations

import dataclasses
import random
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.schemas import PayloadAlternatives
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from conformance.client.ledger import load_leftovers
from conformance.generation.profiles import Generation
from conformance.properties.support import (
    ASSIGNMENT_LICENSE,
    DOCUMENTED_STATUS,
    NO_SUCH_ID,
    NULL_WHEN_NOT_SENT,
    SCHEMA_REQUIREMENTS,
    SERVER_ERROR,
    Caller,
    Findings,
    Pool,
    Stats,
    acceptance_requirement,
    body_excerpt,
    can_be_malformed,
    check_failures,
    check_findings,
    covers,
    fill_negative,
    fill_positive,
    is_rbac,
    one_reading_accepts,
    openapi_core_findings,
    operation_ids,
    operations,
    reproduction,
    request_violations,
    requirements_for,
)
from conformance.verdicts import not_verified

OPERATIONS = operation_ids()
SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
GROUP_SUGGESTIONS = "/api/catalog/suggestions/program/manage/group/"
# the create-or-update operations: (the list that shows who holds what, the field naming the holder, bulk?)
SUGGESTION_WRITES = {
    f"POST {SUGGESTIONS}": (SUGGESTIONS, "user_id", False),
    f"POST {GROUP_SUGGESTIONS}": (GROUP_SUGGESTIONS, "group_id", False),
    f"POST {SUGGESTIONS}bulk/": (SUGGESTIONS, "user_id", True),
}
POLICY_WRITES = ("POST /api/core/rbac/policies/", "PUT /api/core/rbac/policies/{id}/", "PATCH /api/core/rbac/policies/{id}/")
MAX_PAGES = 200  # a suggestion list longer than this is not walked to its end (its pairs then count as held)


# ---- a generated case touches only what the run created ------------------------------------------

class OwnPairsOnly:
    """Keeps the generated suggestion writes of one test off the (user or group, program) pairs that held a
    suggestion the run did not create when the test began: the POST is create-or-update, so on such a pair it would
    change, and the cleanup would then delete, someone else's suggestion (a real user's)."""

    def __init__(self, label: str, pool: Pool) -> None:
        self.label, self.pool = label, pool
        self.path, self.holder_key, self.bulk = SUGGESTION_WRITES.get(label, ("", "", False))
        self._held: set[tuple[str, str]] | None = None
        self.set_aside = 0

    def held(self) -> set[tuple[str, str]] | None:
        """(holder, program) pairs holding a suggestion on the platform, read once; None when they cannot be read."""
        if self._held is None and self.path:
            self._held = held_pairs(self.pool, self.path, self.holder_key)
        return self._held

    def _items(self, case: Any) -> list[dict[str, Any]]:
        body = case.body if isinstance(case.body, dict) else {}
        if self.bulk:
            items = body.get("suggestion_data")
            return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
        return [body]

    def retarget(self, case: Any, rng: random.Random) -> bool:
        """Move every pair the case names that is held onto a free one; False (the case is set aside) when one
        cannot be moved."""
        if not self.path:
            return True
        held = self.held()
        fx = self.pool.settings.fixtures
        holders = fx.user_ids if self.holder_key == "user_id" else fx.group_ids
        free = [(h, p) for h in holders for p in fx.program_keys if (str(h), p) not in (held or set())]
        for item in self._items(case):
            if held is not None and (str(item.get(self.holder_key)), str(item.get("program_key"))) not in held:
                continue
            if held is None or not free:
                self.set_aside += 1
                return False
            holder, program = rng.choice(free)
            item[self.holder_key] = str(holder) if isinstance(item.get(self.holder_key), str) else holder
            item["program_key"] = program
            if "program_id" in item:
                item["program_id"] = program
        return True

    def untouched(self, case: Any) -> bool:
        """True when no pair the case names (as generated) holds a suggestion: a schema-violating case is not
        moved (that could mend it), it is set aside."""
        if not self.path:
            return True
        held = self.held()
        touches = held is None or any((str(i.get(self.holder_key)), str(i.get("program_key"))) in held
                                      for i in self._items(case))
        self.set_aside += touches
        return not touches

    def note(self) -> str:
        return (f"; {self.set_aside} case(s) set aside: they named a (holder, program) pair holding a suggestion the "
                "run did not create, and no free pair was left" if self.set_aside else "")


def held_pairs(pool: Pool, path: str, holder_key: str) -> set[tuple[str, str]] | None:
    """(holder, program_key) of every suggestion of the platform under test that the run did not create (its own are
    in its ledger); None when the list cannot be read whole."""
    admin = pool.objects.admin
    kind = "program_suggestion" if holder_key == "user_id" else "group_suggestion"
    recorded = [*pool.ledger.entries, *(load_leftovers(pool.ledger.path) if pool.ledger.path else [])]
    own = {str(e.get("suggestion_id")) for e in recorded if e.get("kind") == kind}
    exchange = admin.get(path, params={"platform_key": pool.settings.platform_key, "page_size": 100})
    held: set[tuple[str, str]] = set()
    for _ in range(MAX_PAGES):
        body = exchange.json() if exchange.status == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            return None
        held |= {(str(i.get(holder_key)), str(i.get("program_key"))) for i in body["results"]
                 if isinstance(i, dict) and str(i.get("id")) not in own}
        link = body.get("next_page", body.get("next"))
        if not link:
            return held
        exchange = admin.get(link)
    return None


def run_owned_resources(body: Any, run_id: str) -> None:
    """The resources of a generated policy write, moved under the run's own prefix (/conformance/<run id>/...): a
    policy the run creates or changes grants its users (real ones: the fixtures) nothing on the platform's real
    resources. Items that are not strings (a schema-violating case's violation) stay as generated."""
    if not isinstance(body, dict) or not isinstance(body.get("resources"), list):
        return
    body["resources"] = [f"/conformance/{run_id}/generated/{n}-{re.sub(r'[^A-Za-z0-9_.-]', '', item)[:40]}"
                         if isinstance(item, str) else item for n, item in enumerate(body["resources"])]


def _an_id(value: Any) -> bool:
    """True for a value a server may read as an object id (an integer, or a string of digits)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())


def _same_kind(value: Any, own: int) -> Any:
    return str(own) if isinstance(value, str) else own


def point_ids_at_own_objects(case: Any, pool: Pool) -> None:
    """A schema-violating case may still be served (a server may ignore what it does not check): each identifier in
    it that a server may read as one names the run's own license, or, on a DELETE, no object at all, so even a
    served case changes nothing the run did not create. Its type is kept, so the case stays as malformed."""
    method, path = case.operation.label.split(" ", 1)
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body if isinstance(case.body, dict) else {}
    own_license = None
    if path in ASSIGNMENT_LICENSE:
        own_license = (pool.program_license if ASSIGNMENT_LICENSE[path] == "program" else pool.user_license)["id"]
    elif path.endswith("/update/"):
        own_license = (pool.program_update_license if "/program/" in path else pool.user_update_license)["id"]
    for part in (query, body):
        if own_license is not None and _an_id(part.get("license_id")):
            part["license_id"] = _same_kind(part["license_id"], own_license)
    if path.endswith("/update/") and isinstance(body.get("external_id"), str):
        body["external_id"] = pool.unique("external")  # the other way to name a license: one that names none
    if method == "DELETE":
        for name in ("assignment_id", "suggestion_id"):
            if _an_id(query.get(name)):
                query[name] = _same_kind(query[name], NO_SUCH_ID)


def own_objects_only(case: Any, pairs: OwnPairsOnly, pool: Pool, rng: random.Random) -> None:
    """A schema-valid case, filled: its suggestion pairs moved off held ones (else it is set aside) and its policy
    resources under the run's prefix."""
    assume(pairs.retarget(case, rng))
    if case.operation.label in POLICY_WRITES:
        run_owned_resources(case.body, pool.ledger.run_id)


def sent_as_json(operation: Any) -> Any:
    """The operation with its JSON request body alone: generated cases go out as JSON. The contract also declares
    the published form and multipart media types; those encodings have their own scenario (test_media_types)."""
    json_bodies = [body for body in operation.body if body.media_type == "application/json"]
    return dataclasses.replace(operation, body=PayloadAlternatives(json_bodies)) if json_bodies else operation


def _params(kind: str, *, smoke: bool = False) -> list[Any]:
    """One test per operation; schema-violating tests only where the published document gives a request
    something to break (the credentials reads and delete take only free-form path strings)."""
    marks = [pytest.mark.smoke] if smoke else []
    return [pytest.param(label, id=op_id, marks=[pytest.mark.requirement(*requirements_for(label, kind)), *marks])
            for label, op_id in OPERATIONS if kind != "negative" or can_be_malformed(label)]


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
    operation = sent_as_json(operations()[label])
    stats = Stats(label, kind)

    @generation.hypothesis_settings(kind, label)
    @seed(generation.seed)
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 2**16))
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
    unauthenticated: list[int] = []  # cases where the DM admin's 'Api-Token <key>' was refused (GEN-AUTH-004 is MAY)
    headline = f"{label}: a schema-valid request"
    pairs = OwnPairsOnly(label, pool)

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        own_objects_only(case, pairs, pool, rng)
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
        undocumented = [m for _, m in check_findings(check_failures(case, response, [status_code_conformance]),
                                                     label, admin_caller, response)]
        judge(DOCUMENTED_STATUS, undocumented[0] if undocumented else None)
        if not success:
            return  # the published document gives only 2xx answers a body (an error body is GEN-STATUS-001's)
        judge_answer(case, response, body, judge)

    def judge_answer(case: Any, response: Any, body: Any, judge: Callable[[str, str | None], None]) -> None:
        """The 2xx answer's content type, schema and formats, and (license creates) the fields not sent."""
        problems = check_findings(check_failures(case, response, [content_type_conformance, response_schema_conformance]),
                                  label, admin_caller, response)
        problems += openapi_core_findings(case, response)
        problems = [(rid, message) for rid, message in problems if not left_out_as_asked(case, message)]
        for rid in SCHEMA_REQUIREMENTS:
            if covers(rid, label):
                judge(rid, next((message for broken, message in problems if broken == rid), None))
        if label.endswith("/create/") and isinstance(body, dict):
            sent = case.body if isinstance(case.body, dict) else {}
            for name, rid in NULL_WHEN_NOT_SENT.items():
                if sent.get(name) is None and name in body:
                    judge(rid, None if body[name] is None else
                          f"a license created without {name} answered {name}={body[name]!r}, not null")

    stats = _generate(label, "positive", GenerationMode.POSITIVE, generation, budget_end, request, send)
    findings.report(f"no case came to this rule ({stats.cases} case(s) sent, {len(unauthenticated)} refused with 401 "
                    f"to the key sent as 'Api-Token <key>': GEN-AUTH-004 is MAY{pairs.note()})")


@pytest.mark.parametrize("label", _params("negative"))
def test_schema_violating_cases(label: str, pool: Pool, admin_caller: Caller, generation: Generation,
                                budget_end: float | None, request: pytest.FixtureRequest) -> None:
    """Data that breaks the published document (wrong types, missing required fields, ...; never only what the
    contract adds to it): never a 5xx (GEN-STATUS-007), a documented status (GEN-STATUS-002), and not served."""
    if generation.profile.negative_examples == 0:
        not_verified(f"profile {generation.profile.name} generates no schema-violating cases")
    findings = Findings(requirements_for(label, "negative"))
    headline = f"{label}: a request that breaks the published document"
    pairs = OwnPairsOnly(label, pool)

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        # a case that breaks nothing the server sees, only what the contract adds to the published document, or
        # nothing a documented reading refuses is set aside, and hypothesis draws another one in its place; so is
        # one naming a suggestion pair someone else's suggestion holds (a server may still serve it)
        filled = fill_negative(case, pool, rng)
        if filled:
            point_ids_at_own_objects(case, pool)
            if label in POLICY_WRITES:
                run_owned_resources(case.body, pool.ledger.run_id)
        violations = request_violations(case, admin_caller) if filled else []
        assume(bool(violations) and not one_reading_accepts(label, case.body) and pairs.untouched(case))
        before = pool.before_send(label, case)
        response = admin_caller.send(case)
        status = response.status_code
        stats.add(status)
        if 200 <= status < 300:
            pool.record_created(label, case, _json_or_none(response), before)

        def judge(rid: str, problem: str | None) -> None:
            findings.judge(rid, problem and _case_failure(headline, problem, admin_caller, response, generation,
                                                          request))

        judge(SERVER_ERROR, f"a server error ({status}) instead of a 4xx refusal" if status >= 500 else None)
        undocumented = [m for _, m in check_findings(check_failures(case, response, [status_code_conformance]),
                                                     label, admin_caller, response)]
        judge(DOCUMENTED_STATUS, undocumented[0] if undocumented else None)
        broken = ", ".join(f"{v.location} {v.name}".strip() for v in violations)
        for rid in dict.fromkeys(filter(None, (acceptance_requirement(label, v) for v in violations))):
            judge(rid, f"served ({status}) although it breaks the published document ({broken}); expected a 4xx"
                  if 200 <= status < 300 else None)

    stats = _generate(label, "negative", GenerationMode.NEGATIVE, generation, budget_end, request, send)
    findings.report(f"no generated case broke the published document in a way this rule judges ({stats.cases} sent"
                    f"{pairs.note()})")


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

    pairs = OwnPairsOnly(label, pool)  # a server that wrongly serves a request without a key must change nothing else

    def send(case: Any, rng: random.Random, stats: Stats) -> None:
        fill_positive(case, pool, rng)
        own_objects_only(case, pairs, pool, rng)
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
    findings.report(f"no request was sent ({stats.cases}{pairs.note()})")
