"""Who may do what: the access table of every operation, tenant isolation between two platforms.

Each operation's valid request (see `operation_requests.py`) is built on objects of the platform under
test (what no case changes, the module's cases share), then sent as another caller. A refused request
must change nothing (its `state()` is compared before and after, read as the DM admin).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, setup
from conformance.client.objects import GROUP_SUGGESTIONS, RBAC_POLICIES, SUGGESTIONS, Objects, credentials_path
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.operation_requests import (
    FILTERED,
    HIDDEN,
    OPERATIONS,
    Prepared,
    Requests,
    Shared,
    allowance,
    operation_id,
    refusal,
    served,
)
from conformance.scenarios.paths import PROGRAM_ASSIGNMENTS
from conformance.verdicts import not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"

# ---------------------------------------------------------------------------- every operation, every caller


# Each license, role or group the DM admin creates stays for good (the API deletes none of them): the create
# scenarios (test_program_licenses, test_user_licenses, test_rbac_role_group_creation) are the evidence that the DM
# admin is served there.
SERVED_ELSEWHERE = {"dm_admin": ("POST /api/catalog/licenses/program/create/", "POST /api/catalog/licenses/user/create/",
                                 "POST /api/core/rbac/roles/", "POST /api/core/rbac/groups/")}


def _params(*callers: str) -> list[Any]:
    """One case per operation, naming the requirements of what `callers` may or may not do there."""
    params = []
    for op in OPERATIONS:
        if any(op in SERVED_ELSEWHERE.get(caller, ()) for caller in callers):
            continue
        ids: list[str] = []
        for caller in callers:
            rule = refusal(caller, op)
            ids += rule[1] if rule is not None else allowance(caller, op) or ()
        params.append(pytest.param(op, id=operation_id(op), marks=pytest.mark.requirement(*dict.fromkeys(ids))))
    return params


def _foreign_list_leaks(exchange: Exchange, prepared: Prepared, platform_key: str) -> list[Any]:
    """Items of this platform in a list another platform's admin received."""
    body = exchange.json()
    assert isinstance(body, dict) and isinstance(body.get("results"), list), \
        f"{exchange.operation}: a 200 list answer must be an object with results\n{exchange.describe()}"
    mine = set(prepared.platform_objects.values())
    return [item.get("id") for item in body["results"]
            if (item.get("platform") or {}).get("key") == platform_key or item.get("platform_key") == platform_key
            or item.get("id") in mine]


def refused(client: ApiClient, caller: str, prepared: Prepared, platform_key: str) -> None:
    """`caller` sends the prepared request: refused as the access table says (a list may instead leave this
    platform's objects out), and nothing changes; the evidence speaks for each requirement of the rule."""
    rule = refusal(caller, prepared.operation)
    assert rule is not None
    statuses, requirements = rule
    before = prepared.state()
    exchange = prepared.send(client)
    prepared.succeeded(exchange)  # a wrongly accepted create must still be cleaned up
    after = prepared.state()
    for requirement in requirements:
        with check(requirement):
            expect_status(exchange, *statuses, why=f"the {caller} has no right to this operation on {platform_key}")
            if exchange.status == FILTERED:  # another platform's admin listing this platform's objects
                leaked = _foreign_list_leaks(exchange, prepared, platform_key)
                assert not leaked, (f"{exchange.operation}: another platform's admin was shown this platform's "
                                    f"objects {leaked}\n{exchange.describe()}")
            assert after == before, (f"{prepared.operation}: a refused request by the {caller} changed the data\n"
                                     f"  before: {before}\n  after:  {after}")


def _requirements(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The requirement IDs the case's marker names (the access table's, for this caller and operation)."""
    return tuple(rid for mark in request.node.iter_markers("requirement") for rid in mark.args)


@pytest.mark.parametrize("operation", _params("dm_admin"))
def test_the_dm_admin_is_served(operation: str, objects: Objects, shared_objects: Shared, admin: ApiClient,
                                request: pytest.FixtureRequest) -> None:
    """The DM admin's key, sent as 'Authorization: Api-Token <key>', is served on every operation."""
    served(admin, "DM admin", Requests(objects, shared_objects).prepare(operation), _requirements(request))


@pytest.mark.parametrize("operation", _params("platform_admin"))
def test_the_platform_admin_is_served_on_its_platform_except_license_writes(
    operation: str, objects: Objects, shared_objects: Shared, settings: Settings, platform_admin: ApiClient,
    request: pytest.FixtureRequest
) -> None:
    prepared = Requests(objects, shared_objects).prepare(operation)
    if refusal("platform_admin", operation) is not None:
        refused(platform_admin, "platform_admin", prepared, settings.platform_key)
    else:
        served(platform_admin, "platform_admin", prepared, _requirements(request))


@pytest.mark.parametrize("operation", _params("learner"))
def test_a_non_admin_user_is_refused_and_changes_nothing(
    operation: str, objects: Objects, shared_objects: Shared, settings: Settings, learner: ApiClient
) -> None:
    refused(learner, "learner", Requests(objects, shared_objects).prepare(operation), settings.platform_key)


@pytest.mark.parametrize("operation", _params("other_admin"))
def test_another_platforms_admin_is_refused_and_changes_nothing(
    operation: str, objects: Objects, shared_objects: Shared, settings: Settings, other_admin: ApiClient
) -> None:
    refused(other_admin, "other_admin", Requests(objects, shared_objects).prepare(operation), settings.platform_key)


# ---------------------------------------------------------------------------- tenant isolation


def _other_platform(settings: Settings) -> str:
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    return settings.other_platform_key


@pytest.mark.requirement("CAT-ACL-017")
def test_a_platform_admin_never_sees_or_changes_another_platforms_catalog_objects(
    objects: Objects, shared_objects: Shared, other_admin: ApiClient, settings: Settings
) -> None:
    """This platform's objects are foreign to the other platform's admin, asking with its own platform_key (the
    license only holds the test's own assignment, removed when the test ends: the module's license)."""
    other = _other_platform(settings)
    requests = Requests(objects)
    license_ = shared_objects.license("program", 5)
    assignment = objects.assignment("program", license_["id"], requests.user)
    suggestion = objects.program_suggestion(*requests.free_pair(SUGGESTIONS, "user_id"))
    group_suggestion = objects.group_suggestion(*requests.free_pair(GROUP_SUGGESTIONS, "group_id"))

    listed = other_admin.get(PROGRAM_ASSIGNMENTS, params={"license_id": license_["id"], "platform_key": other})
    expect_status(listed, *HIDDEN, why="the license belongs to another platform")
    for path, item in ((SUGGESTIONS, suggestion), (GROUP_SUGGESTIONS, group_suggestion)):
        setup(other_admin.get(path, params={"platform_key": other}), "the other admin lists its own suggestions", 200)
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
def test_deleting_a_suggestion_through_another_platform_key_is_refused(objects: Objects, settings: Settings) -> None:
    """The suggestion_id of one platform's suggestion with the other platform's key: 404 (names nothing there) or
    403 (the platform_key fails the permission check); either way nothing is deleted."""
    other = _other_platform(settings)
    requests = Requests(objects)
    admin = objects.admin
    for path, item in ((SUGGESTIONS, objects.program_suggestion(*requests.free_pair(SUGGESTIONS, "user_id"))),
                       (GROUP_SUGGESTIONS, objects.group_suggestion(*requests.free_pair(GROUP_SUGGESTIONS, "group_id")))):
        refused = admin.delete(path, params={"platform_key": other, "suggestion_id": item["id"]})
        expect_status(refused, *HIDDEN, why="the suggestion is not on the platform named by platform_key")
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
    original = setup(admin.get(here), "retrieving the credential", 200).json()

    listed = admin.get(credentials_path(other_org, user))
    expect_status(listed, 200, *HIDDEN, why="another org's credential list (403 or 404 when the org is not the caller's "
                                           "to see)")
    if listed.status == 200:
        assert entity not in listed.text, \
            f"credential {entity!r} of org {settings.org!r} is listed under org {other_org!r}\n{listed.describe()}"
    there = credentials_path(other_org, user, entity)
    # 404 (no such credential there) or 403 (documented on these operations: not the caller's to reach there)
    expect_status(admin.get(there), *HIDDEN, why="the credential is not in that org")
    expect_status(admin.put(there, {"name": "conformance-must-not-apply", "credential_id": entity,
                                    "credential_url": "https://credentials.example/x", "revoked": True,
                                    "issuer": "conformance-issuer"}), *HIDDEN, why="the credential is not in that org")
    expect_status(admin.delete(there), *HIDDEN, why="the credential is not in that org")
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
    body = {"name": objects.name("foreign-policy"), "resources": [f"/conformance/{objects.ledger.run_id}/foreign"],
            "role_id": roles[0]["id"], "platform_key": other}  # the run's own resource: a slip grants nothing real
    created = setup(admin.post(RBAC_POLICIES, body), "the DM admin creates a policy on the other platform", 200, 201)
    foreign = created.json()["id"]
    objects.entries.append(objects.ledger.record("rbac_policy", policy_id=foreign, platform_key=other))

    for path in (RBAC_POLICIES, ROLES, GROUPS):
        exchange = platform_admin.get(path)
        expect_status(exchange, 200, 400, 403, why="an unfiltered list (400 or 403 if platform_key is required)")
        if exchange.status != 200:
            continue
        items = list(walk_pages(platform_admin, path, {}))
        strangers = [i.get("id") for i in items if (i.get("platform") or {}).get("key") not in (None, settings.platform_key)]
        assert not strangers, f"GET {path} without platform_key shows another platform's objects {strangers}"
        if path == RBAC_POLICIES:
            assert foreign not in {i.get("id") for i in items}, \
                f"the other platform's policy {foreign} is in the platform admin's policy list"
