"""RBAC policies: create, retrieve, replace, patch, membership, delete and validation (the list: test_rbac_policy_list).

Every policy the suite creates grants only paths under /conformance/<run id>/, which nothing serves: a run
never grants anything on the real resources of a live platform.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.paths import RBAC_POLICIES, rbac_policy
from conformance.scenarios.policies import (
    GROUPS,
    ROLES,
    essentials,
    gone_id,
    group_ids,
    is_uuid4,
    made,
    missing_ids,
    named,
    new_policy,
    policy_of,
    post,
    resources,
    retrieve,
    user_ids,
    write_only_echoed,
)
from conformance.verdicts import need, not_verified

# ---------------------------------------------------------------------------- create, retrieve, replace, patch, delete


@pytest.mark.smoke
@pytest.mark.requirement("CORE-RBAC-012", "CORE-RBAC-016", "CORE-RBAC-017", "CORE-RBAC-027", "CORE-RBAC-028",
                         "CORE-RBAC-030", "CORE-RBAC-034", "CORE-RBAC-037", "CORE-RBAC-038")
def test_policy_lifecycle(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    other_role = fixtures.role_ids[1] if len(fixtures.role_ids) > 1 else role
    (user,), (group,) = need(fixtures.user_ids, 1, "user_ids"), need(fixtures.group_ids, 1, "group_ids")
    answers: list[Exchange] = []  # every policy answer: none may echo a write-only field (CORE-RBAC-017)

    name = objects.name("policy")
    sent = {"name": name, "resources": resources(objects, "a"), "role_id": role, "platform_key": platform,
            "users_to_add": [user], "groups_to_add": [group]}
    created_answer = post(objects, sent)
    answers.append(created_answer)
    created = made(created_answer, "creating a policy")
    policy_id, path = created["id"], rbac_policy(created["id"])

    with check("CORE-RBAC-012"):
        expect_status(created_answer, 201, why="creating a policy")
        got, want = essentials(created), {"name": name, "resources": sent["resources"], "role": role, "platform": platform}
        assert {k: got[k] for k in want} == want, f"the created policy is {got}, expected {want}"
    with check("CORE-RBAC-028"):
        shown = retrieve(admin, policy_id, answers)
        absent = [f for f in ("id", "role", "platform", "resources", "users", "groups") if f not in shown]
        assert not absent, f"the retrieved policy lacks {absent}: {shown}"
        assert essentials(shown) == essentials(created), \
            f"retrieving the policy must show what was created:\n  created: {essentials(created)}\n  shown: {essentials(shown)}"

    with check("CORE-RBAC-016"):
        unnamed = post(objects, {"resources": resources(objects, "b"), "role_id": role, "platform_key": platform})
        answers.append(unnamed)
        default_name = policy_of(unnamed, 201, 200, why="creating a policy without a name").get("name")
        assert is_uuid4(default_name), f"a policy created without name must be named by a UUID4, it is {default_name!r}"

    with check("CORE-RBAC-027"):
        assert created.get("is_internal") is False, f"a tenant's policy must show is_internal false: {created}"
        flagged_answer = post(objects, {"name": objects.name("flagged"), "resources": resources(objects, "f"),
                                        "role_id": role, "platform_key": platform, "is_internal": True})
        flagged = policy_of(flagged_answer, 201, 200, why="creating a policy with is_internal (read-only) true")
        flagged_path = rbac_policy(flagged["id"])
        full = {"name": flagged["name"], "resources": resources(objects, "f"), "role_id": role, "platform_key": platform}
        for exchange in (flagged_answer, admin.put(flagged_path, {**full, "is_internal": True}),
                         admin.patch(flagged_path, {"is_internal": True})):
            answers.append(exchange)
            shown = policy_of(exchange, 201, 200, why="is_internal is read-only: the value sent is ignored")
            assert shown.get("is_internal") is False, \
                f"{exchange.operation}: is_internal sent true is read-only; the policy shows {shown.get('is_internal')!r}"
        assert retrieve(admin, flagged["id"], answers).get("is_internal") is False, \
            "after create, PUT and PATCH sending is_internal true, the policy must stay is_internal false"

    with check("CORE-RBAC-030"):
        replacement = {"name": f"{name}-replaced", "resources": resources(objects, "c"), "role_id": other_role,
                       "platform_key": platform}
        replaced = admin.put(path, replacement)
        answers.append(replaced)
        got = essentials(policy_of(replaced, 200, why="PUT with every required field"))
        want = {"name": replacement["name"], "resources": replacement["resources"], "role": other_role}
        assert {k: got[k] for k in want} == want, f"PUT must replace name, resources and role: {got}"
        assert essentials(retrieve(admin, policy_id, answers)) == got, "retrieving after PUT must show the replaced policy"

    with check("CORE-RBAC-034"):
        before = essentials(retrieve(admin, policy_id, answers))
        patched = admin.patch(path, {"resources": resources(objects, "d")})
        answers.append(patched)
        after = essentials(policy_of(patched, 200, why="PATCH of resources only"))
        assert after == {**before, "resources": resources(objects, "d")}, \
            f"PATCH of resources must change only resources:\n  before: {before}\n  after:  {after}"
        renamed = admin.patch(path, {"name": f"{name}-patched"})
        answers.append(renamed)
        expected_after = {**before, "resources": resources(objects, "d"), "name": f"{name}-patched"}
        after = essentials(policy_of(renamed, 200, why="PATCH of the name only"))
        assert after == expected_after, f"PATCH of the name must change only the name; got {after}"
        assert essentials(retrieve(admin, policy_id, answers)) == expected_after, "retrieving after PATCH must show it"

    with check("CORE-RBAC-038") as kept:
        before = essentials(retrieve(admin, policy_id, answers))
        # platform_key is required; the operation documents 403 and 404 but no 400: any refusal is a fair reading
        expect_status(admin.delete(path), 400, 403, 404, why="DELETE without the required platform_key")
        assert essentials(retrieve(admin, policy_id, answers)) == before, "a DELETE without platform_key deleted or changed"
    with check("CORE-RBAC-037"):
        needs(kept)
        expect_status(admin.delete(path, params={"platform_key": platform}), 204,
                      why="DELETE with the policy's platform_key")
        expect_status(admin.get(path), 404, why="a deleted policy is gone")

    with check("CORE-RBAC-017"):
        echoed = write_only_echoed(answers)
        assert not echoed, f"policy answers echo write-only fields: {echoed}"


def membership(exchange: Exchange, why: str) -> tuple[set[Any], set[Any]]:
    """The user and group ids of the policy in a 200 answer."""
    policy = policy_of(exchange, 200, 201, why=why)
    return user_ids(policy), group_ids(policy)


@pytest.mark.requirement("CORE-RBAC-018", "CORE-RBAC-019", "CORE-RBAC-017")
def test_membership_changes_on_create_put_and_patch(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    u1, u2, u3 = need(fixtures.user_ids, 3, "user_ids")
    g1, g2 = need(fixtures.group_ids, 2, "group_ids")
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    answers: list[Exchange] = []

    created_answer = post(objects, {"name": objects.name("members"), "resources": resources(objects, "members"),
                                    "role_id": role, "platform_key": platform, "users_to_add": [u1, u2],
                                    "groups_to_add": [g1]})
    answers.append(created_answer)
    created = made(created_answer, "creating a policy with users and groups")
    path = rbac_policy(created["id"])
    with check("CORE-RBAC-018"):
        assert user_ids(created) == {u1, u2}, f"create with users_to_add [{u1}, {u2}]: users {user_ids(created)}"
    with check("CORE-RBAC-019"):
        assert group_ids(created) == {g1}, f"create with groups_to_add [{g1}]: groups {group_ids(created)}"

    patched = admin.patch(path, {"users_to_remove": [u1], "groups_to_add": [g2]})
    shown = admin.get(path)
    answers += [patched, shown]
    with check("CORE-RBAC-018"):
        for exchange in (patched, shown):
            users, _ = membership(exchange, "PATCH users_to_remove, then GET")
            assert users == {u2}, f"{exchange.operation} after PATCH users_to_remove [{u1}]: users {users}"
    with check("CORE-RBAC-019"):
        for exchange in (patched, shown):
            _, groups = membership(exchange, "PATCH groups_to_add, then GET")
            assert groups == {g1, g2}, f"{exchange.operation} after PATCH groups_to_add [{g2}]: groups {groups}"

    body = {"name": created["name"], "resources": created.get("resources") or resources(objects, "members"),
            "role_id": role, "platform_key": platform, "users_to_add": [u3], "users_to_remove": [u2],
            "groups_to_add": [g2], "groups_to_remove": [g1]}  # g2 is a member already: adding it again keeps it
    replaced = admin.put(path, body)
    answers.append(replaced)
    with check("CORE-RBAC-018"):
        users, _ = membership(replaced, "PUT with membership changes")
        assert u3 in users and u2 not in users, f"PUT users_to_add [{u3}], users_to_remove [{u2}]: users are {users}"
    with check("CORE-RBAC-019"):
        _, groups = membership(replaced, "PUT with membership changes")
        assert g1 not in groups and g2 in groups, f"PUT groups_to_remove [{g1}], groups_to_add [{g2}]: groups are {groups}"

    # role_id and platform_key name the policy's own role and platform: a PATCH may carry them and change nothing
    patched = admin.patch(path, {"users_to_add": [u1], "groups_to_remove": [g2], "role_id": role, "platform_key": platform})
    answers.append(patched)
    with check("CORE-RBAC-018"):
        users, _ = membership(patched, "PATCH membership")
        assert u1 in users, f"PATCH users_to_add [{u1}]: users are {users}"
    with check("CORE-RBAC-019"):
        _, groups = membership(patched, "PATCH membership")
        assert g2 not in groups, f"PATCH groups_to_remove [{g2}]: groups are {groups}"

    with check("CORE-RBAC-017"):
        echoed = write_only_echoed(answers)
        assert not echoed, f"policy answers echo write-only fields: {echoed}"


@pytest.mark.requirement("CORE-RBAC-031")
def test_put_without_name(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    policy = new_policy(objects, settings)
    no_name = {"resources": resources(objects, "unnamed"), "role_id": role, "platform_key": settings.platform_key}
    renamed = policy_of(objects.admin.put(rbac_policy(policy["id"]), no_name), 200, why="PUT without name").get("name")
    assert renamed == policy["name"] or is_uuid4(renamed), \
        f"a PUT without name leaves the previous name or a UUID4; the name is {renamed!r}"


@pytest.mark.requirement("CORE-RBAC-039")
def test_delete_through_another_platform_key_is_refused(objects: Objects, settings: Settings) -> None:
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    policy = new_policy(objects, settings)
    refused = objects.admin.delete(rbac_policy(policy["id"]), params={"platform_key": settings.other_platform_key})
    expect_status(refused, 404, 403, why="the policy is not on the platform named")
    assert essentials(retrieve(objects.admin, policy["id"])) == essentials(policy), "the refused DELETE changed the policy"


# ---------------------------------------------------------------------------- refused writes


@pytest.mark.requirement("CORE-RBAC-013", "CORE-RBAC-014", "CORE-RBAC-015", "CORE-RBAC-025", "CORE-RBAC-041")
def test_invalid_creates_are_refused_and_create_nothing(objects: Objects, settings: Settings,
                                                        fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    missing_user, missing_group = missing_ids(fixtures)

    def refused(what: str, drop: str = "", **extra: Any) -> None:
        """POST a policy `what` (without `drop`, with `extra`): 400, and no policy of that name appears."""
        name = objects.name("refused")
        valid = {"name": name, "resources": resources(objects, "refused"), "role_id": role, "platform_key": platform}
        body = {**{k: v for k, v in valid.items() if k != drop}, **extra}
        expect_status(post(objects, body), 400, why=f"a policy {what}")
        leftovers = named(admin, settings, name)
        assert not leftovers, f"the refused create of a policy {what} left policies {leftovers}"

    with check("CORE-RBAC-013"):
        refused("without role_id", drop="role_id")
    with check("CORE-RBAC-014"):
        refused("without platform_key", drop="platform_key")
    with check("CORE-RBAC-015"):
        refused("without resources", drop="resources")
    with check("CORE-RBAC-025"):
        refused("with a user id that names no user", users_to_add=[missing_user])
        refused("with a group id that names no group", groups_to_add=[missing_group])
    with check("CORE-RBAC-041"):
        exchange = post(objects, {"name": "n" * 256, "resources": resources(objects, "long"), "role_id": role,
                                  "platform_key": platform})
        expect_status(exchange, 400, why="a policy with a name of 256 characters")


@pytest.mark.requirement("CORE-RBAC-032", "CORE-RBAC-036", "CORE-RBAC-041", "CORE-RBAC-025")
def test_invalid_put_and_patch_are_refused_and_change_nothing(objects: Objects, settings: Settings,
                                                              fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    missing_user, missing_group = missing_ids(fixtures)
    policy = new_policy(objects, settings)
    path, before = rbac_policy(policy["id"]), essentials(policy)
    full = {"name": f"{policy['name']}-x", "resources": resources(objects, "x"), "role_id": role, "platform_key": platform}

    def refused(method: str, what: str, body: dict[str, Any]) -> None:
        """A PUT or PATCH `what` is refused with 400 and leaves the policy as it was."""
        expect_status(admin.request(method, path, json_body=body), 400, why=f"{method} {what}")
        assert essentials(retrieve(admin, policy["id"])) == before, f"a refused {method} {what} changed the policy"

    with check("CORE-RBAC-032"):
        for field in ("resources", "role_id", "platform_key"):
            refused("PUT", f"without {field}", {k: v for k, v in full.items() if k != field})
    with check("CORE-RBAC-041"):
        refused("PUT", "with a name of 256 characters", {**full, "name": "n" * 256})
        refused("PATCH", "with a name of 256 characters", {"name": "n" * 256})
    with check("CORE-RBAC-025"):
        refused("PUT", "with a user id that names no user", {**full, "users_to_add": [missing_user]})
        refused("PATCH", "with a group id that names no group", {"groups_to_add": [missing_group]})
    with check("CORE-RBAC-036"):
        refused("PATCH", "with resources not a list", {"resources": "/not/a/list"})
        refused("PATCH", "with role_id not an integer", {"role_id": "three"})


@pytest.mark.requirement("CORE-RBAC-026")
def test_resources_that_are_not_strings_are_refused(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    """What makes a resource path invalid is not documented: the suite sends only items no reading takes for a
    string (objects, booleans; a number could be converted to its text)."""
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    policy = new_policy(objects, settings)
    before = essentials(policy)
    not_paths = [{"path": resources(objects, "object")[0]}, True]
    body = {"name": objects.name("bad-resources"), "resources": not_paths, "role_id": role, "platform_key": platform}
    expect_status(post(objects, body), 400, why="resources that are not strings")
    expect_status(admin.put(rbac_policy(policy["id"]), {**body, "name": policy["name"]}), 400,
                  why="PUT with resources that are not strings")
    expect_status(admin.patch(rbac_policy(policy["id"]), {"resources": [False]}), 400,
                  why="PATCH with resources that are not strings")
    assert essentials(retrieve(admin, policy["id"])) == before, "a refused change of resources changed the policy"


@pytest.mark.requirement("CORE-RBAC-029", "CORE-RBAC-033", "CORE-RBAC-035", "CORE-RBAC-040")
def test_a_policy_id_that_names_nothing_is_404(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    path = rbac_policy(gone_id(objects, settings))
    with check("CORE-RBAC-029"):
        expect_status(admin.get(path), 404, why="retrieving a policy that does not exist")
    with check("CORE-RBAC-033"):
        name = objects.name("ghost-put")
        body = {"name": name, "resources": resources(objects, "ghost"), "role_id": role, "platform_key": platform}
        expect_status(admin.put(path, body), 404, why="PUT on a policy that does not exist")
        assert not named(admin, settings, name), "a PUT on a missing policy created one"
    with check("CORE-RBAC-035"):
        name = objects.name("ghost-patch")
        expect_status(admin.patch(path, {"name": name}), 404, why="PATCH on a policy that does not exist")
        assert not named(admin, settings, name), "a PATCH on a missing policy created one"
    with check("CORE-RBAC-040"):
        expect_status(admin.delete(path, params={"platform_key": platform}), 404,
                      why="DELETE of a policy that does not exist")


def _foreign(admin: ApiClient, settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The roles and groups the second platform lists."""
    other = settings.other_platform_key
    if not other:
        not_verified("needs a second platform (set target.other_platform_key)")
    return (list(walk_pages(admin, ROLES, {"platform_key": other})),
            list(walk_pages(admin, GROUPS, {"platform_key": other})))


def _own_users(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> set[Any]:
    """Users the platform under test shows: its fixture users, its groups' members and owners, its policies' users."""
    platform = {"platform_key": settings.platform_key}
    groups = list(walk_pages(admin, GROUPS, platform))
    seen = set(fixtures.user_ids) | {u.get("id") for g in groups for u in g.get("users") or []}
    seen |= {(g.get("owner") or {}).get("id") for g in groups}
    return seen | {u.get("id") for p in walk_pages(admin, RBAC_POLICIES, platform) for u in p.get("users") or []}


@pytest.mark.requirement("CORE-RBAC-023")
def test_users_and_groups_of_another_platform_are_refused(objects: Objects, settings: Settings,
                                                          fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    _, groups = _foreign(admin, settings)
    own = _own_users(admin, settings, fixtures)  # a user may belong to both platforms: try only users never seen here
    foreign_users = [u["id"] for g in groups for u in g.get("users") or [] if u.get("id") not in own]
    if not groups or not foreign_users:
        not_verified("the second platform lists no group with a member unseen on the platform under test")
    (role,) = need(fixtures.role_ids, 1, "role_ids")
    policy = new_policy(objects, settings)
    path, before = rbac_policy(policy["id"]), essentials(policy)
    name = objects.name("foreign-members")
    for what, extra in (("a user of another platform", {"users_to_add": [foreign_users[0]]}),
                        ("a group of another platform", {"groups_to_add": [groups[0]["id"]]})):
        body = {"name": name, "resources": resources(objects, "f"), "role_id": role, "platform_key": platform, **extra}
        expect_status(post(objects, body), 400, why=f"creating a policy with {what}")
        expect_status(admin.put(path, {**body, "name": policy["name"]}), 400, why=f"PUT with {what}")
        expect_status(admin.patch(path, extra), 400, why=f"PATCH with {what}")
        assert essentials(retrieve(admin, policy["id"])) == before, f"a refused change with {what} changed the policy"
    assert not named(admin, settings, name), "a refused create left a policy"


@pytest.mark.requirement("CORE-RBAC-024")
def test_a_role_of_another_platform_is_refused(objects: Objects, settings: Settings) -> None:
    admin, platform = objects.admin, settings.platform_key
    roles, _ = _foreign(admin, settings)
    if not roles:
        not_verified("the second platform lists no role")
    foreign_role = roles[0]["id"]
    policy = new_policy(objects, settings)
    path, before = rbac_policy(policy["id"]), essentials(policy)
    name = objects.name("foreign-role")
    body = {"name": name, "resources": resources(objects, "r"), "role_id": foreign_role, "platform_key": platform}
    expect_status(post(objects, body), 400, why="creating a policy with a role of another platform")
    expect_status(admin.put(path, {**body, "name": policy["name"]}), 400, why="PUT with a role of another platform")
    expect_status(admin.patch(path, {"role_id": foreign_role}), 400, why="PATCH with a role of another platform")
    assert essentials(retrieve(admin, policy["id"])) == before, "a refused change of role changed the policy"
