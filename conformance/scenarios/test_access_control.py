"""Who may do what: the access table of every operation, tenant isolation between two platforms.

Each operation's valid request (see `_requests.py`) is built on objects of the platform under test,
then sent as another caller. A refused request must change nothing (its `state()` is compared
before and after, read as the DM admin).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import GROUP_SUGGESTIONS, RBAC_POLICIES, SUGGESTIONS, Objects, credentials_path
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.scenarios._requests import (
    ASSIGNMENT_OPS,
    CREDENTIAL_OPS,
    LICENSE_WRITES,
    OPERATIONS,
    PROGRAM_LICENSE_LIST,
    RBAC_LISTS,
    RBAC_OPS,
    SUGGESTION_OPS,
    Prepared,
    Requests,
    expect_success,
    operation_id,
)
from conformance.scenarios.support import PROGRAM_ASSIGNMENTS, expect_status, walk_pages
from conformance.verdicts import not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"
HIDDEN = (403, 404)  # a foreign object reported as forbidden or as absent (the catalog accepts both)

# ---------------------------------------------------------------------------- the access table


def refusal(caller: str, op: str) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """(accepted statuses, requirement IDs) when `caller` must be refused on this platform's `op`; else None."""
    if op in LICENSE_WRITES:
        return (403,), (LICENSE_WRITES[op],)
    if caller == "platform_admin":
        return None
    if caller == "learner":
        for ops, rid in ((ASSIGNMENT_OPS, "CAT-ACL-011"), (SUGGESTION_OPS, "CAT-ACL-015"),
                         (CREDENTIAL_OPS, "CRED-ACL-004"), (RBAC_OPS, "CORE-ACL-006")):
            if op in ops:
                return (403,), (rid,)
        assert op == PROGRAM_LICENSE_LIST
        return (403,), ("CAT-ACL-008",)
    # another platform's admin
    if op == PROGRAM_LICENSE_LIST:
        return (403,), ("CAT-ACL-007",)
    if op in ASSIGNMENT_OPS:
        return HIDDEN, ("CAT-ACL-010", "CAT-ACL-017")
    if op in SUGGESTION_OPS:
        return (403,), ("CAT-ACL-014", "CAT-ACL-017")
    if op in CREDENTIAL_OPS:
        return (403,), ("CRED-ACL-003",)
    if op in RBAC_LISTS:
        return (403, 200), ("CORE-ACL-004",)
    if op == "POST /api/core/rbac/policies/":
        return (403,), ("CORE-ACL-005",)
    return (404, 403), ("CORE-ACL-003",)


def allowance(caller: str, op: str) -> tuple[str, ...] | None:
    """Requirement IDs saying `caller` may perform `op` on this platform; None when it may not."""
    if caller == "platform_admin":
        if op in LICENSE_WRITES:
            return None
        for ops, rid in (((PROGRAM_LICENSE_LIST,), "CAT-ACL-006"), (ASSIGNMENT_OPS, "CAT-ACL-009"),
                         (SUGGESTION_OPS, "CAT-ACL-013"), (CREDENTIAL_OPS, "CRED-ACL-002"), (RBAC_OPS, "CORE-ACL-002")):
            if op in ops:
                return (rid,)
        raise AssertionError(op)
    ids = ["GEN-AUTH-004"]
    for ops, rid in (((PROGRAM_LICENSE_LIST,), "CAT-ACL-005"), (SUGGESTION_OPS, "CAT-ACL-012"),
                     (CREDENTIAL_OPS, "CRED-ACL-001"), (RBAC_OPS, "CORE-ACL-001")):
        if op in ops:
            ids.append(rid)
    if op in LICENSE_WRITES:
        ids.append(LICENSE_WRITES[op])
    return tuple(ids)


def _refusal_params() -> list[Any]:
    params = []
    for caller in ("learner", "other_admin", "platform_admin"):
        for op in OPERATIONS:
            rule = refusal(caller, op)
            if rule is not None:
                params.append(pytest.param(caller, op, id=f"{caller}-{operation_id(op)}",
                                           marks=pytest.mark.requirement(*rule[1])))
    return params


def _allowed_params() -> list[Any]:
    params = []
    for caller in ("admin", "platform_admin"):
        for op in OPERATIONS:
            ids = allowance("dm_admin" if caller == "admin" else caller, op)
            if ids is not None:
                params.append(pytest.param(caller, op, id=f"{caller}-{operation_id(op)}",
                                           marks=pytest.mark.requirement(*ids)))
    return params


def _foreign_list_leaks(exchange: Exchange, prepared: Prepared, platform_key: str) -> list[Any]:
    """Items of this platform in a list another platform's admin received."""
    body = exchange.json()
    assert isinstance(body, dict) and isinstance(body.get("results"), list), \
        f"{exchange.operation}: a 200 list answer must be an object with results\n{exchange.describe()}"
    mine = set(prepared.platform_objects.values())
    return [item.get("id") for item in body["results"]
            if (item.get("platform") or {}).get("key") == platform_key or item.get("id") in mine]


@pytest.mark.parametrize(("caller", "operation"), _refusal_params())
def test_callers_without_rights_are_refused_and_change_nothing(
    caller: str, operation: str, objects: Objects, settings: Settings, request: pytest.FixtureRequest
) -> None:
    client: ApiClient = request.getfixturevalue(caller)
    rule = refusal(caller, operation)
    assert rule is not None
    statuses = rule[0]
    prepared = Requests(objects).prepare(operation)
    before = prepared.state()
    exchange = prepared.send(client)
    prepared.succeeded(exchange)  # a wrongly accepted create must still be cleaned up
    expect_status(exchange, *statuses, why=f"{caller} has no right to this operation on {settings.platform_key}")
    if exchange.status == 200:  # another platform's admin listing this platform's RBAC objects
        leaked = _foreign_list_leaks(exchange, prepared, settings.platform_key)
        assert not leaked, (f"{exchange.operation}: another platform's admin was shown this platform's objects "
                            f"{leaked}\n{exchange.describe()}")
    after = prepared.state()
    assert after == before, (f"{operation}: a refused request by {caller} changed the data\n"
                             f"  before: {before}\n  after:  {after}")


@pytest.mark.parametrize(("caller", "operation"), _allowed_params())
def test_admins_may_perform_the_operations_of_their_platform(
    caller: str, operation: str, objects: Objects, request: pytest.FixtureRequest
) -> None:
    client: ApiClient = request.getfixturevalue(caller)
    prepared = Requests(objects).prepare(operation)
    exchange = prepared.send(client)
    prepared.succeeded(exchange)
    expect_success(exchange, f"the {caller} may perform this operation on its own platform")
    if operation.startswith("DELETE"):
        gone = prepared.state()
        if isinstance(gone, tuple):  # a retrieve after a delete
            assert gone[0] == 404, f"{operation}: the deleted object can still be retrieved ({gone[0]})"


# ---------------------------------------------------------------------------- tenant isolation


def _other_platform(settings: Settings) -> str:
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    return settings.other_platform_key


@pytest.mark.requirement("CAT-ACL-017")
def test_a_platform_admin_never_sees_or_changes_another_platforms_catalog_objects(
    objects: Objects, other_admin: ApiClient, settings: Settings
) -> None:
    """This platform's objects are foreign to the other platform's admin, asking with its own platform_key."""
    other = _other_platform(settings)
    requests = Requests(objects)
    license_ = objects.program_license(count=3)
    assignment = objects.assignment("program", license_["id"], requests.user)
    suggestion = objects.program_suggestion(requests.user)
    group_suggestion = objects.group_suggestion(requests.group)

    listed = other_admin.get(PROGRAM_ASSIGNMENTS, params={"license_id": license_["id"], "platform_key": other})
    expect_status(listed, *HIDDEN, why="the license belongs to another platform")
    for path, item in ((SUGGESTIONS, suggestion), (GROUP_SUGGESTIONS, group_suggestion)):
        own = other_admin.get(path, params={"platform_key": other})
        expect_status(own, 200, why="an admin lists the suggestions of its own platform")
        shown = [s.get("id") for s in walk_pages(other_admin, path, {"platform_key": other}) if s.get("id") == item["id"]]
        assert not shown, f"GET {path}: another platform's suggestion {item['id']} is listed for platform {other}"
        refused = other_admin.delete(path, params={"platform_key": other, "suggestion_id": item["id"]})
        expect_status(refused, *HIDDEN, why="the suggestion belongs to another platform")
    refused = other_admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_["id"],
                                                              "assignment_id": assignment["id"], "platform_key": other})
    expect_status(refused, *HIDDEN, why="the assignment belongs to another platform")

    users = [a.get("user_id") for a in walk_pages(objects.admin, PROGRAM_ASSIGNMENTS, {"license_id": license_["id"]})]
    assert users == [requests.user], f"the assignment must survive the foreign admin's delete; the license holds {users}"
    for path, item in ((SUGGESTIONS, suggestion), (GROUP_SUGGESTIONS, group_suggestion)):
        ids = [s.get("id") for s in walk_pages(objects.admin, path, {"platform_key": settings.platform_key})]
        assert item["id"] in ids, f"suggestion {item['id']} must survive the foreign admin's delete"


@pytest.mark.requirement("CAT-ACL-018")
def test_deleting_a_suggestion_through_another_platform_key_is_404(objects: Objects, settings: Settings) -> None:
    """The suggestion_id of one platform's suggestion with the other platform's key names nothing there."""
    other = _other_platform(settings)
    requests = Requests(objects)
    admin = objects.admin
    for path, item in ((SUGGESTIONS, objects.program_suggestion(requests.user)),
                       (GROUP_SUGGESTIONS, objects.group_suggestion(requests.group))):
        refused = admin.delete(path, params={"platform_key": other, "suggestion_id": item["id"]})
        expect_status(refused, 404, why="the suggestion is not on the platform named by platform_key")
        ids = [s.get("id") for s in walk_pages(admin, path, {"platform_key": settings.platform_key})]
        assert item["id"] in ids, f"DELETE {path} through another platform_key deleted suggestion {item['id']}"


@pytest.mark.requirement("CRED-ACL-005")
def test_a_credential_is_invisible_through_another_org(objects: Objects, settings: Settings) -> None:
    """The other org is the second platform's (its platform key: the org unless the target says otherwise)."""
    other_org = _other_platform(settings)
    if other_org == settings.org:
        not_verified("the second platform has the same org")
    admin = objects.admin
    user = Requests(objects).user
    credential = objects.credential(user)
    entity = credential["credential_id"]
    here = credentials_path(settings.org, user, entity)
    original = expect_status(admin.get(here), 200).json()

    listed = admin.get(credentials_path(other_org, user))
    expect_status(listed, 200, 404, why="another org's credential list (404 when that org is unknown)")
    if listed.status == 200:
        assert entity not in listed.text, \
            f"credential {entity!r} of org {settings.org!r} is listed under org {other_org!r}\n{listed.describe()}"
    there = credentials_path(other_org, user, entity)
    expect_status(admin.get(there), 404, why="the credential is not in that org")
    expect_status(admin.put(there, {"name": "conformance-must-not-apply", "credential_id": entity,
                                    "credential_url": "https://credentials.example/x", "revoked": True,
                                    "issuer": "conformance-issuer"}), 404, why="the credential is not in that org")
    expect_status(admin.delete(there), 404, why="the credential is not in that org")
    after = expect_status(admin.get(here), 200, why="the credential must survive").json()
    assert after == original, f"requests through another org changed the credential:\n  {original}\n  {after}"


@pytest.mark.requirement("CORE-ACL-007")
def test_a_platform_admins_unfiltered_rbac_lists_show_only_its_platform(
    objects: Objects, platform_admin: ApiClient, other_admin: ApiClient, settings: Settings
) -> None:
    other = _other_platform(settings)
    admin = objects.admin
    roles = list(walk_pages(admin, ROLES, {"platform_key": other}))
    if not roles:
        not_verified(f"the second platform {other!r} lists no role to build a policy with")
    body = {"name": objects.name("foreign-policy"), "resources": ["/conformance/foreign"], "role_id": roles[0]["id"],
            "platform_key": other}
    created = expect_status(admin.post(RBAC_POLICIES, body), 201, 200, why="the DM admin creates a policy anywhere")
    foreign = created.json()["id"]
    objects.entries.append(objects.ledger.record("rbac_policy", policy_id=foreign, platform_key=other))

    for path in (RBAC_POLICIES, ROLES, GROUPS):
        exchange = platform_admin.get(path)
        expect_status(exchange, 200, 403, why="an unfiltered list (403 if platform_key is required)")
        if exchange.status == 403:
            continue
        items = list(walk_pages(platform_admin, path, {}))
        strangers = [i.get("id") for i in items if (i.get("platform") or {}).get("key") not in (None, settings.platform_key)]
        assert not strangers, f"GET {path} without platform_key shows another platform's objects {strangers}"
        if path == RBAC_POLICIES:
            assert foreign not in {i.get("id") for i in items}, \
                f"the other platform's policy {foreign} is in the platform admin's policy list"
