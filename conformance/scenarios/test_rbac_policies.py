"""RBAC policies: create, retrieve, replace, patch, membership, delete, validation and the list filters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.support import RBAC_POLICIES, expect_status, need, rbac_policy, walk_pages
from conformance.verdicts import not_verified

WRITE_ONLY = ("role_id", "platform_key", "users_to_add", "users_to_remove", "groups_to_add", "groups_to_remove")
GROUPS = "/api/core/rbac/groups/"
ROLES = "/api/core/rbac/roles/"


def is_uuid4(value: Any) -> bool:
    try:
        return isinstance(value, str) and uuid.UUID(value).version == 4
    except ValueError:
        return False


def policy_of(exchange: Exchange, *statuses: int, why: str) -> dict[str, Any]:
    """The policy in an answer; asserts the status and that no write-only field is echoed (CORE-RBAC-017)."""
    body = expect_status(exchange, *statuses, why=why).json()
    assert isinstance(body, dict), f"{exchange.operation}: a policy answer must be a JSON object\n{exchange.describe()}"
    echoed = [name for name in WRITE_ONLY if name in body]
    assert not echoed, f"{exchange.operation}: write-only fields {echoed} appear in the answer\n{exchange.describe()}"
    return body


def user_ids(policy: dict[str, Any]) -> set[Any]:
    return {u.get("id") for u in policy.get("users") or []}


def group_ids(policy: dict[str, Any]) -> set[Any]:
    return {g.get("id") for g in policy.get("groups") or []}


def essentials(policy: dict[str, Any]) -> dict[str, Any]:
    """What a policy is: name, resources, role, platform, users, groups."""
    return {"name": policy.get("name"), "resources": policy.get("resources"), "role": (policy.get("role") or {}).get("id"),
            "platform": (policy.get("platform") or {}).get("key"), "users": sorted(user_ids(policy), key=str),
            "groups": sorted(group_ids(policy), key=str), "is_internal": policy.get("is_internal")}


def retrieve(admin: ApiClient, policy_id: int) -> dict[str, Any]:
    return policy_of(admin.get(rbac_policy(policy_id)), 200, why="retrieving an existing policy")


def resources(objects: Objects, what: str) -> list[str]:
    return [f"/conformance/{objects.ledger.run_id}/{what}"]


def _record(objects: Objects, exchange: Exchange, platform_key: str) -> None:
    """A policy the test created with a raw request goes into the cleanup ledger."""
    if exchange.status in (200, 201):
        body = exchange.json()
        if isinstance(body, dict) and "id" in body:
            objects.entries.append(objects.ledger.record("rbac_policy", policy_id=body["id"], platform_key=platform_key))


def gone_id(objects: Objects, settings: Settings) -> int:
    """The id of a policy that existed and was deleted: an id that names no policy."""
    policy = objects.rbac_policy()
    expect_status(objects.admin.delete(rbac_policy(policy["id"]), params={"platform_key": settings.platform_key}),
                  204, why="deleting a policy")
    return int(policy["id"])


# ---------------------------------------------------------------------------- create, retrieve, replace, patch, delete


@pytest.mark.smoke
@pytest.mark.requirement("CORE-RBAC-012", "CORE-RBAC-016", "CORE-RBAC-017", "CORE-RBAC-027", "CORE-RBAC-028",
                         "CORE-RBAC-030", "CORE-RBAC-034", "CORE-RBAC-037", "CORE-RBAC-038")
def test_policy_lifecycle(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    other_role = fixtures.role_ids[1] if len(fixtures.role_ids) > 1 else role
    (user,), (group,) = need(fixtures.user_ids, 1, "user_ids"), need(fixtures.group_ids, 1, "group_ids")

    name = objects.name("policy")
    sent = {"name": name, "resources": resources(objects, "a"), "role_id": role, "platform_key": platform,
            "users_to_add": [user], "groups_to_add": [group], "is_internal": True}
    exchange = admin.post(RBAC_POLICIES, sent)
    _record(objects, exchange, platform)
    created = policy_of(exchange, 201, why="creating a policy")
    expected = {"name": name, "resources": sent["resources"], "role": role, "platform": platform,
                "users": [user], "groups": [group], "is_internal": False}
    assert essentials(created) == expected, f"the created policy is {essentials(created)}, expected {expected}"
    policy_id = created["id"]
    assert essentials(retrieve(admin, policy_id)) == expected, "retrieving the policy must show what was created"

    unnamed = admin.post(RBAC_POLICIES, {"resources": resources(objects, "b"), "role_id": role, "platform_key": platform})
    _record(objects, unnamed, platform)
    default_name = policy_of(unnamed, 201, why="creating a policy without a name").get("name")
    assert is_uuid4(default_name), f"a policy created without name must be named by a UUID4, it is {default_name!r}"

    replacement = {"name": f"{name}-replaced", "resources": resources(objects, "c"), "role_id": other_role,
                   "platform_key": platform, "is_internal": True}
    replaced = policy_of(admin.put(rbac_policy(policy_id), replacement), 200, why="PUT with every required field")
    got = essentials(replaced)
    want = {"name": replacement["name"], "resources": replacement["resources"], "role": other_role, "is_internal": False}
    assert {k: got[k] for k in want} == want, f"PUT must replace name, resources and role (is_internal ignored): {got}"
    assert essentials(retrieve(admin, policy_id)) == got, "retrieving after PUT must show the replaced policy"

    before = essentials(retrieve(admin, policy_id))
    patched = policy_of(admin.patch(rbac_policy(policy_id), {"resources": resources(objects, "d")}), 200,
                        why="PATCH of resources only")
    assert essentials(patched) == {**before, "resources": resources(objects, "d")}, \
        f"PATCH of resources must change only resources:\n  before: {before}\n  after:  {essentials(patched)}"
    patched = policy_of(admin.patch(rbac_policy(policy_id), {"name": f"{name}-patched", "is_internal": True}), 200,
                        why="PATCH of the name (is_internal is read-only)")
    expected_after = {**before, "resources": resources(objects, "d"), "name": f"{name}-patched"}
    assert essentials(patched) == expected_after, f"PATCH must change only the name; got {essentials(patched)}"
    assert essentials(retrieve(admin, policy_id)) == expected_after, "retrieving after PATCH must show the patch"

    expect_status(admin.delete(rbac_policy(policy_id)), 400, why="DELETE without platform_key")
    assert essentials(retrieve(admin, policy_id)) == expected_after, "a DELETE without platform_key deleted or changed"
    deleted = admin.delete(rbac_policy(policy_id), params={"platform_key": platform})
    expect_status(deleted, 204, why="DELETE with the policy's platform_key")
    expect_status(admin.get(rbac_policy(policy_id)), 404, why="a deleted policy is gone")


@pytest.mark.requirement("CORE-RBAC-018", "CORE-RBAC-019", "CORE-RBAC-017")
def test_membership_changes_on_create_put_and_patch(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    u1, u2, u3 = need(fixtures.user_ids, 3, "user_ids")
    g1, g2 = need(fixtures.group_ids, 2, "group_ids")
    (role,) = need(fixtures.role_ids, 1, "role_ids")

    created = objects.rbac_policy(users_to_add=[u1, u2], groups_to_add=[g1])
    assert (user_ids(created), group_ids(created)) == ({u1, u2}, {g1}), \
        f"create with users_to_add/groups_to_add: users {user_ids(created)}, groups {group_ids(created)}"
    assert not [n for n in WRITE_ONLY if n in created], f"write-only fields echoed on create: {created}"
    path = rbac_policy(created["id"])

    patched = policy_of(admin.patch(path, {"users_to_remove": [u1], "groups_to_add": [g2]}), 200, why="PATCH membership")
    assert (user_ids(patched), group_ids(patched)) == ({u2}, {g1, g2}), \
        f"PATCH users_to_remove [{u1}], groups_to_add [{g2}]: users {user_ids(patched)}, groups {group_ids(patched)}"
    retrieved = retrieve(admin, created["id"])
    assert (user_ids(retrieved), group_ids(retrieved)) == ({u2}, {g1, g2}), "the membership change must persist"

    body = {"name": created["name"], "resources": created["resources"], "role_id": role, "platform_key": platform,
            "users_to_add": [u3], "users_to_remove": [u2], "groups_to_remove": [g1]}
    replaced = policy_of(admin.put(path, body), 200, why="PUT with membership changes")
    assert u3 in user_ids(replaced) and u2 not in user_ids(replaced), \
        f"PUT users_to_add [{u3}], users_to_remove [{u2}]: users are {user_ids(replaced)}"
    assert g1 not in group_ids(replaced), f"PUT groups_to_remove [{g1}]: groups are {group_ids(replaced)}"
    patched = policy_of(admin.patch(path, {"users_to_add": [u1], "groups_to_remove": [g2]}), 200, why="PATCH membership")
    assert u1 in user_ids(patched) and g2 not in group_ids(patched), \
        f"PATCH users_to_add [{u1}], groups_to_remove [{g2}]: users {user_ids(patched)}, groups {group_ids(patched)}"


@pytest.mark.requirement("CORE-RBAC-031")
def test_put_without_name(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    policy = objects.rbac_policy()
    no_name = {"resources": resources(objects, "unnamed"), "role_id": role, "platform_key": settings.platform_key}
    renamed = policy_of(objects.admin.put(rbac_policy(policy["id"]), no_name), 200, why="PUT without name").get("name")
    assert renamed == policy["name"] or is_uuid4(renamed), \
        f"a PUT without name leaves the previous name or a UUID4; the name is {renamed!r}"


@pytest.mark.requirement("CORE-RBAC-039")
def test_delete_through_another_platform_key_is_404(objects: Objects, settings: Settings) -> None:
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    policy = objects.rbac_policy()
    refused = objects.admin.delete(rbac_policy(policy["id"]), params={"platform_key": settings.other_platform_key})
    expect_status(refused, 404, 403, why="the policy is not on the platform named")
    assert essentials(retrieve(objects.admin, policy["id"])) == essentials(policy), "the refused DELETE changed the policy"


# ---------------------------------------------------------------------------- refused writes


@pytest.mark.requirement("CORE-RBAC-013", "CORE-RBAC-014", "CORE-RBAC-015", "CORE-RBAC-025", "CORE-RBAC-041")
def test_invalid_creates_are_refused_and_create_nothing(objects: Objects, settings: Settings,
                                                        fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    missing_user = max(need(fixtures.user_ids, 1, "user_ids")) + 10_000_000
    missing_group = max(need(fixtures.group_ids, 1, "group_ids")) + 10_000_000
    name = objects.name("refused")
    valid = {"name": name, "resources": resources(objects, "refused"), "role_id": role, "platform_key": platform}
    cases = {
        "without role_id": {k: v for k, v in valid.items() if k != "role_id"},
        "without platform_key": {k: v for k, v in valid.items() if k != "platform_key"},
        "without resources": {k: v for k, v in valid.items() if k != "resources"},
        "with a user id that names no user": {**valid, "users_to_add": [missing_user]},
        "with a group id that names no group": {**valid, "groups_to_add": [missing_group]},
        "with a name of 256 characters": {**valid, "name": "n" * 256},
    }
    for what, body in cases.items():
        exchange = admin.post(RBAC_POLICIES, body)
        _record(objects, exchange, platform)
        expect_status(exchange, 400, why=f"a policy {what}")
    leftovers = [p.get("id") for p in walk_pages(admin, RBAC_POLICIES, {"platform_key": platform, "name": name})]
    assert not leftovers, f"refused creates left policies {leftovers}"


@pytest.mark.requirement("CORE-RBAC-032", "CORE-RBAC-036", "CORE-RBAC-041", "CORE-RBAC-025")
def test_invalid_put_and_patch_are_refused_and_change_nothing(objects: Objects, settings: Settings,
                                                              fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    missing_user = max(need(fixtures.user_ids, 1, "user_ids")) + 10_000_000
    missing_group = max(need(fixtures.group_ids, 1, "group_ids")) + 10_000_000
    policy = objects.rbac_policy()
    path, before = rbac_policy(policy["id"]), essentials(policy)
    full = {"name": f"{policy['name']}-x", "resources": resources(objects, "x"), "role_id": role, "platform_key": platform}
    puts = {
        "without resources": {k: v for k, v in full.items() if k != "resources"},
        "without role_id": {k: v for k, v in full.items() if k != "role_id"},
        "without platform_key": {k: v for k, v in full.items() if k != "platform_key"},
        "with a name of 256 characters": {**full, "name": "n" * 256},
        "with a user id that names no user": {**full, "users_to_add": [missing_user]},
    }
    for what, body in puts.items():
        expect_status(admin.put(path, body), 400, why=f"PUT {what}")
        assert essentials(retrieve(admin, policy["id"])) == before, f"a refused PUT {what} changed the policy"
    patches = {
        "with resources not a list": {"resources": "/not/a/list"},
        "with a name of 256 characters": {"name": "n" * 256},
        "with a group id that names no group": {"groups_to_add": [missing_group]},
        "with role_id not an integer": {"role_id": "three"},
    }
    for what, body in patches.items():
        expect_status(admin.patch(path, body), 400, why=f"PATCH {what}")
        assert essentials(retrieve(admin, policy["id"])) == before, f"a refused PATCH {what} changed the policy"


@pytest.mark.requirement("CORE-RBAC-026")
def test_resources_that_are_not_strings_are_refused(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    """What makes a resource path invalid is not documented: the suite sends only values that are not strings."""
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    policy = objects.rbac_policy()
    before = essentials(policy)
    body = {"name": objects.name("bad-resources"), "resources": [1, {"path": "/x"}], "role_id": role,
            "platform_key": platform}
    exchange = admin.post(RBAC_POLICIES, body)
    _record(objects, exchange, platform)
    expect_status(exchange, 400, why="resources that are not strings")
    expect_status(admin.put(rbac_policy(policy["id"]), {**body, "name": policy["name"]}), 400,
                  why="PUT with resources that are not strings")
    expect_status(admin.patch(rbac_policy(policy["id"]), {"resources": [7]}), 400,
                  why="PATCH with resources that are not strings")
    assert essentials(retrieve(admin, policy["id"])) == before, "a refused change of resources changed the policy"


@pytest.mark.requirement("CORE-RBAC-029", "CORE-RBAC-033", "CORE-RBAC-035", "CORE-RBAC-040")
def test_a_policy_id_that_names_nothing_is_404(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    path = rbac_policy(gone_id(objects, settings))
    body = {"name": objects.name("ghost"), "resources": resources(objects, "ghost"), "role_id": role,
            "platform_key": platform}
    expect_status(admin.get(path), 404, why="retrieving a policy that does not exist")
    expect_status(admin.put(path, body), 404, why="PUT on a policy that does not exist")
    expect_status(admin.patch(path, {"name": body["name"]}), 404, why="PATCH on a policy that does not exist")
    expect_status(admin.delete(path, params={"platform_key": platform}), 404, why="DELETE of a policy that does not exist")
    assert not list(walk_pages(admin, RBAC_POLICIES, {"platform_key": platform, "name": body["name"]})), \
        "a PUT or PATCH on a missing policy created one"


def _foreign(admin: ApiClient, settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    other = settings.other_platform_key
    if not other:
        not_verified("needs a second platform (set target.other_platform_key)")
    return (list(walk_pages(admin, ROLES, {"platform_key": other})),
            list(walk_pages(admin, GROUPS, {"platform_key": other})))


@pytest.mark.requirement("CORE-RBAC-023")
def test_users_and_groups_of_another_platform_are_refused(objects: Objects, settings: Settings,
                                                          fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    _, groups = _foreign(admin, settings)
    own_users = set(fixtures.user_ids)
    foreign_users = [u["id"] for g in groups for u in g.get("users") or [] if u.get("id") not in own_users]
    if not groups or not foreign_users:
        not_verified("the second platform lists no group with a member to try")
    policy = objects.rbac_policy()
    path, before = rbac_policy(policy["id"]), essentials(policy)
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    name = objects.name("foreign-members")
    for what, extra in (("a user of another platform", {"users_to_add": [foreign_users[0]]}),
                        ("a group of another platform", {"groups_to_add": [groups[0]["id"]]})):
        body = {"name": name, "resources": resources(objects, "f"), "role_id": role, "platform_key": platform, **extra}
        exchange = admin.post(RBAC_POLICIES, body)
        _record(objects, exchange, platform)
        expect_status(exchange, 400, why=f"creating a policy with {what}")
        expect_status(admin.put(path, {**body, "name": policy["name"]}), 400, why=f"PUT with {what}")
        expect_status(admin.patch(path, extra), 400, why=f"PATCH with {what}")
        assert essentials(retrieve(admin, policy["id"])) == before, f"a refused change with {what} changed the policy"
    assert not list(walk_pages(admin, RBAC_POLICIES, {"platform_key": platform, "name": name})), \
        "a refused create left a policy"


@pytest.mark.requirement("CORE-RBAC-024")
def test_a_role_of_another_platform_is_refused(objects: Objects, settings: Settings) -> None:
    admin, platform = objects.admin, settings.platform_key
    roles, _ = _foreign(admin, settings)
    if not roles:
        not_verified("the second platform lists no role")
    foreign_role = roles[0]["id"]
    policy = objects.rbac_policy()
    path, before = rbac_policy(policy["id"]), essentials(policy)
    name = objects.name("foreign-role")
    body = {"name": name, "resources": resources(objects, "r"), "role_id": foreign_role, "platform_key": platform}
    exchange = admin.post(RBAC_POLICIES, body)
    _record(objects, exchange, platform)
    expect_status(exchange, 400, why="creating a policy with a role of another platform")
    expect_status(admin.put(path, {**body, "name": policy["name"]}), 400, why="PUT with a role of another platform")
    expect_status(admin.patch(path, {"role_id": foreign_role}), 400, why="PATCH with a role of another platform")
    assert essentials(retrieve(admin, policy["id"])) == before, "a refused change of role changed the policy"


# ---------------------------------------------------------------------------- the list and its filters


def listed(admin: ApiClient, **params: Any) -> dict[Any, dict[str, Any]]:
    return {p.get("id"): p for p in walk_pages(admin, RBAC_POLICIES, params)}


@pytest.mark.requirement("CORE-RBAC-001", "CORE-RBAC-002", "CORE-RBAC-003", "CORE-RBAC-004", "CORE-RBAC-005",
                         "CORE-RBAC-006", "CORE-RBAC-007", "CORE-RBAC-008", "CORE-RBAC-009", "CORE-RBAC-010",
                         "CORE-RBAC-011", "CORE-RBAC-017")
def test_policy_list_filters(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role_a,) = need(fixtures.role_ids, 1, "role_ids")
    role_b = fixtures.role_ids[1] if len(fixtures.role_ids) > 1 else None
    need(fixtures.group_ids, 1, "group_ids")
    groups = {g["id"]: g for g in walk_pages(admin, GROUPS, {"platform_key": platform})}
    missing = [g for g in fixtures.group_ids if g not in groups]
    assert not missing, f"fixture groups {missing} are not in the group list of {platform}"
    for group in fixtures.group_ids:  # a group with members, and two fixture users outside it
        members = {u.get("id"): u for u in groups[group].get("users") or []}
        outsiders = [u for u in fixtures.user_ids if u not in members]
        if members and len(outsiders) >= 2:
            break
    else:
        not_verified("needs a fixture group with members and two fixture users outside it")
    direct, other = outsiders[0], outsiders[1]

    marker = f"Filter-{objects.ledger.run_id}"
    a = objects.rbac_policy(name=f"{objects.name('policy')}-{marker}-A", role_id=role_a, users_to_add=[direct],
                            groups_to_add=[group])
    b = objects.rbac_policy(name=f"{objects.name('policy')}-{marker}-B", role_id=role_b or role_a,
                            users_to_add=[other])
    people = {u.get("id"): u for u in a.get("users") or []}
    if not people.get(direct, {}).get("username") or not people.get(direct, {}).get("email"):
        raise AssertionError(f"the policy's users must show username and email: {a.get('users')}")

    page = expect_status(admin.get(RBAC_POLICIES, params={"platform_key": platform}), 200, why="listing policies").json()
    assert isinstance(page, dict) and isinstance(page.get("count"), int) and isinstance(page.get("results"), list), \
        f"the policy list must be a page with count and results, got {str(page)[:300]}"

    everything = listed(admin, platform_key=platform)
    assert {a["id"], b["id"]} <= set(everything), "both new policies must be listed on their platform"
    foreign = [i for i, p in everything.items() if (p.get("platform") or {}).get("key") != platform]
    assert not foreign, f"platform_key={platform} lists policies of other platforms: {foreign}"
    echoed = sorted({n for p in everything.values() for n in WRITE_ONLY if n in p})
    assert not echoed, f"the policy list echoes write-only fields {echoed}"

    mine = {"platform_key": platform, "name": marker}

    def check(what: str, params: dict[str, Any], present: set[Any], absent: set[Any]) -> dict[Any, dict[str, Any]]:
        found = listed(admin, **params)
        assert present <= set(found), f"{what}: policies {sorted(present - set(found))} are missing"
        assert not absent & set(found), f"{what}: policies {sorted(absent & set(found))} must not be listed"
        return found

    by_role = check(f"role_id={role_a}", {"platform_key": platform, "role_id": role_a}, {a["id"]},
                    {b["id"]} if role_b else set())
    wrong = [i for i, p in by_role.items() if (p.get("role") or {}).get("id") != role_a]
    assert not wrong, f"role_id={role_a} lists policies of other roles: {wrong}"
    by_name = check("name (partial, other case)", {"platform_key": platform, "name": marker.swapcase()[2:]},
                    {a["id"], b["id"]}, set())
    wrong = [i for i, p in by_name.items() if marker.swapcase()[2:].lower() not in str(p.get("name")).lower()]
    assert not wrong, f"the name filter lists policies whose name does not contain it: {wrong}"
    check("name matching one", {**mine, "name": f"{marker}-a"}, {a["id"]}, {b["id"]})

    user = people[direct]
    check("username (direct, other case)", {**mine, "username": user["username"].swapcase()}, {a["id"]}, {b["id"]})
    check("email (direct, other case)", {**mine, "email": user["email"].swapcase()}, {a["id"]}, {b["id"]})
    member = next(iter(members.values()))
    if member.get("username"):
        check("username of a member of the policy's group", {**mine, "username": member["username"].upper()},
              {a["id"]}, {b["id"]})
    if member.get("email"):
        check("email of a member of the policy's group", {**mine, "email": member["email"].upper()}, {a["id"]}, {b["id"]})
    group_name = groups[group].get("name")
    if not group_name:
        not_verified(f"group {group} has no name to filter by")
    check("group (other case)", {**mine, "group": str(group_name).swapcase()}, {a["id"]}, {b["id"]})

    full = listed(admin, **mine)
    assert direct in user_ids(full[a["id"]]) and group in group_ids(full[a["id"]]), \
        "without include_users / include_groups a listed policy shows its users and groups"
    assert other in user_ids(full[b["id"]])
    for flag, field in (("include_users", "users"), ("include_groups", "groups")):
        lean = listed(admin, **mine, **{flag: False})
        carrying = [i for i, p in lean.items() if p.get(field)]
        assert not carrying, f"{flag}=false: policies {carrying} still carry {field}"
        assert {a["id"], b["id"]} <= set(lean), f"{flag}=false must not drop policies"
        explicit = listed(admin, **mine, **{flag: True})
        assert direct in user_ids(explicit[a["id"]]) if field == "users" else group in group_ids(explicit[a["id"]])
