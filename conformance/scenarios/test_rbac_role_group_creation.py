"""RBAC role and group creation: the created object and its listing, refused input, is_internal, who may create.

Roles and groups cannot be deleted through the API, so what these tests create stays on the target. A run creates
at most two roles and two groups (the creation tests and the is_internal tests), each named
conformance-<run id>-...; every other request here is one a correct server refuses, and is checked to have
created nothing. No test changes a role or group the run did not create.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.verdicts import need, not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"
NAME_MAX = 255  # the published maxLength of a role name, a group's unique_id and name
# the published examples of RbacRole (a correct server knows them); a role held by no policy grants nothing
EXAMPLE_ACTIONS = ["Ibl.Mentor/Settings/read"]
EXAMPLE_DATA_ACTIONS = ["Ibl.Mentor/Settings/name/read"]
NO_SUCH_USER = 10_000_000  # added to the largest fixture user id: an id that names no user
REFUSED_CALLER = (400, 403, 404)  # another platform's admin: forbidden, invalid input, or a platform it cannot see
SUITE_PREFIX = "conformance-"  # every object the suite creates is named so


def too_long(marker: str) -> str:
    """A name of 256 characters that starts with `marker` (so the name filter finds what a server kept of it)."""
    return marker + "-" + "x" * (NAME_MAX - len(marker))


def created(exchange: Exchange, what: str) -> dict[str, Any]:
    """The object of a create that must answer 201."""
    body = expect_status(exchange, 201, why=what).json()
    assert isinstance(body, dict), f"{exchange.operation}: the created object must be a JSON object\n{exchange.describe()}"
    return body


def named(admin: ApiClient, path: str, marker: str, platform: str) -> list[Any]:
    """IDs of the platform's roles or groups whose name contains `marker`, found with the documented filters."""
    params = {"name": marker, "platform_key": platform}
    return [item.get("id") for item in walk_pages(admin, path, params) if marker in str(item.get("name"))]


def nothing_made(admin: ApiClient, settings: Settings, path: str, marker: str, what: str) -> None:
    """No role or group named with `marker` exists on the platform under test or the second one after a refused
    create (each asked by its platform_key: a server may want it even from the DM admin)."""
    for platform in filter(None, (settings.platform_key, settings.other_platform_key)):
        left = named(admin, path, marker, platform)
        assert not left, f"{what} was refused, yet {path}?platform_key={platform} now lists {left} named {marker!r}"


def platform_key_of(item: dict[str, Any]) -> Any:
    return (item.get("platform") or {}).get("key")


def user_ids(group: dict[str, Any]) -> set[Any]:
    return {u.get("id") for u in group.get("users") or [] if isinstance(u, dict)}


def listed_once(client: ApiClient, path: str, platform: str, item: dict[str, Any]) -> dict[str, Any]:
    """The created item as the platform's list (filtered by its name) shows it."""
    found = [i for i in walk_pages(client, path, {"platform_key": platform, "name": item.get("name")})
             if i.get("id") == item.get("id")]
    assert len(found) == 1, f"{path}?platform_key={platform}&name={item.get('name')!r} lists the created " \
                            f"object {item.get('id')} {len(found)} times, not once"
    return found[0]


def not_listed_elsewhere(admin: ApiClient, path: str, settings: Settings, item: dict[str, Any]) -> None:
    """The second platform's list does not show the created item."""
    if not settings.other_platform_key:
        return
    elsewhere = named(admin, path, str(item.get("name")), settings.other_platform_key)
    assert item.get("id") not in elsewhere, f"{path}: the object created on {settings.platform_key} is listed on " \
                                            f"{settings.other_platform_key}"


# ---------------------------------------------------------------------------- roles


@pytest.mark.requirement("CORE-ROLE-005", "CORE-ACL-001")
def test_a_created_role_is_answered_201_and_listed(objects: Objects, settings: Settings) -> None:
    admin, platform = objects.admin, settings.platform_key
    sent = {"name": objects.name("role"), "platform_key": platform, "actions": EXAMPLE_ACTIONS,
            "data_actions": EXAMPLE_DATA_ACTIONS}
    answer = admin.post(ROLES, sent)
    with check("CORE-ACL-001"):  # the DM admin is served (the access-control matrix leaves this create to this test)
        expect_status(answer, 200, 201, why="the DM admin may create roles")
    with check("CORE-ROLE-005"):
        role = created(answer, "creating a role")
        shown = {"name": role.get("name"), "platform": platform_key_of(role), "actions": role.get("actions"),
                 "data_actions": role.get("data_actions"), "is_internal": role.get("is_internal")}
        wanted = {"name": sent["name"], "platform": platform, "actions": EXAMPLE_ACTIONS,
                  "data_actions": EXAMPLE_DATA_ACTIONS, "is_internal": False}
        assert shown == wanted, f"the created role is {shown}, expected {wanted}"
        listed = listed_once(admin, ROLES, platform, role)
        assert (listed.get("name"), platform_key_of(listed)) == (sent["name"], platform), \
            f"the role list shows the created role as {listed}"
        not_listed_elsewhere(admin, ROLES, settings, role)


@pytest.mark.requirement("CORE-ROLE-006", "CORE-ROLE-007")
def test_a_role_create_with_missing_or_overlong_fields_is_refused(objects: Objects, settings: Settings) -> None:
    admin, platform = objects.admin, settings.platform_key
    run_prefix = f"conformance-{objects.ledger.run_id}"

    with check("CORE-ROLE-006"):
        before = {r.get("id") for r in walk_pages(admin, ROLES, {"platform_key": platform})}
        expect_status(admin.post(ROLES, {"platform_key": platform, "actions": []}), 400,
                      why="a role create without the required name")
        # a nameless role cannot be found by name: any new role of the platform that this run did not name is one
        strays = [r.get("id") for r in walk_pages(admin, ROLES, {"platform_key": platform})
                  if r.get("id") not in before and not str(r.get("name") or "").startswith(run_prefix)]
        assert not strays, f"a role create without name was refused, yet the platform now lists roles {strays}"
        marker = objects.name("role-without-platform")
        expect_status(admin.post(ROLES, {"name": marker, "actions": []}), 400, 403,
                      why="a role create without the required platform_key")
        nothing_made(admin, settings, ROLES, marker, "a role create without platform_key")

    with check("CORE-ROLE-007"):
        marker = objects.name("long-role")
        expect_status(admin.post(ROLES, {"name": too_long(marker), "platform_key": platform}), 400,
                      why="a role name of 256 characters (maxLength 255)")
        nothing_made(admin, settings, ROLES, marker, "a role create with a 256-character name")


# ---------------------------------------------------------------------------- groups


@pytest.mark.requirement("CORE-GRP-010", "CORE-ACL-001")
def test_a_created_group_is_answered_201_with_its_users_and_listed(objects: Objects, settings: Settings,
                                                                   fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    members = need(fixtures.user_ids, 2, "user_ids")[:2]
    name = objects.name("group")
    sent = {"unique_id": name, "name": name, "description": f"Created by ibl-conformance run {objects.ledger.run_id}",
            "platform_key": platform, "users_to_add": members, "users_to_remove": []}
    answer = admin.post(GROUPS, sent)
    with check("CORE-ACL-001"):  # the DM admin is served (the access-control matrix leaves this create to this test)
        expect_status(answer, 200, 201, why="the DM admin may create groups")
    with check("CORE-GRP-010"):
        group = created(answer, "creating a group with users")
        shown = {"unique_id": group.get("unique_id"), "name": group.get("name"), "description": group.get("description"),
                 "platform": platform_key_of(group), "users": sorted(user_ids(group), key=str),
                 "is_internal": group.get("is_internal")}
        wanted = {"unique_id": name, "name": name, "description": sent["description"], "platform": platform,
                  "users": sorted(members, key=str), "is_internal": False}
        assert shown == wanted, f"the created group is {shown}, expected {wanted}"
        listed = listed_once(admin, GROUPS, platform, group)
        assert user_ids(listed) == set(members), \
            f"the group list shows the created group with users {sorted(user_ids(listed), key=str)}, expected {members}"
        not_listed_elsewhere(admin, GROUPS, settings, group)


@pytest.mark.requirement("CORE-GRP-011", "CORE-GRP-012", "CORE-GRP-015")
def test_a_group_create_with_missing_overlong_or_unknown_input_is_refused(objects: Objects, settings: Settings,
                                                                          fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key

    with check("CORE-GRP-011"):
        marker = objects.name("group-without-unique-id")
        expect_status(admin.post(GROUPS, {"name": marker, "platform_key": platform}), 400,
                      why="a group create without the required unique_id")
        nothing_made(admin, settings, GROUPS, marker, "a group create without unique_id")
        marker = objects.name("group-without-platform")
        expect_status(admin.post(GROUPS, {"unique_id": marker, "name": marker}), 400, 403,
                      why="a group create without the required platform_key")
        nothing_made(admin, settings, GROUPS, marker, "a group create without platform_key")

    with check("CORE-GRP-012"):
        marker = objects.name("long-unique-id")
        expect_status(admin.post(GROUPS, {"unique_id": too_long(marker), "name": marker, "platform_key": platform}),
                      400, why="a group unique_id of 256 characters (maxLength 255)")
        nothing_made(admin, settings, GROUPS, marker, "a group create with a 256-character unique_id")
        marker = objects.name("long-group-name")
        expect_status(admin.post(GROUPS, {"unique_id": marker, "name": too_long(marker), "platform_key": platform}),
                      400, why="a group name of 256 characters (maxLength 255)")
        nothing_made(admin, settings, GROUPS, marker, "a group create with a 256-character name")

    with check("CORE-GRP-015"):
        missing = max(need(fixtures.user_ids, 1, "user_ids")) + NO_SUCH_USER
        marker = objects.name("group-unknown-user")
        expect_status(admin.post(GROUPS, {"unique_id": marker, "name": marker, "platform_key": platform,
                                          "users_to_add": [missing]}), 400,
                      why=f"users_to_add naming user {missing}, which does not exist")
        nothing_made(admin, settings, GROUPS, marker, "a group create naming a user that does not exist")


def users_seen_here(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> set[Any]:
    """Users the platform under test shows: its fixture users and the members and owners of its groups (not of
    the groups the suite created: a server that wrongly took a stranger into one must not hide the stranger)."""
    groups = [g for g in walk_pages(admin, GROUPS, {"platform_key": settings.platform_key})
              if not str(g.get("name") or "").startswith(SUITE_PREFIX)]
    seen = set(fixtures.user_ids) | {u.get("id") for g in groups for u in g.get("users") or []}
    return seen | {(g.get("owner") or {}).get("id") for g in groups}


def foreign_user(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> Any:
    """A member of the second platform's groups that the platform under test never shows (a user may belong to
    several platforms: one seen here may be a member of both)."""
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    seen = users_seen_here(admin, settings, fixtures)
    for group in walk_pages(admin, GROUPS, {"platform_key": settings.other_platform_key}):
        for user in group.get("users") or []:
            if user.get("id") is not None and user.get("id") not in seen:
                return user["id"]
    not_verified("the second platform lists no group with a member unseen on the platform under test")


@pytest.mark.requirement("CORE-GRP-014")
def test_a_group_with_a_user_of_another_platform_is_refused(objects: Objects, settings: Settings,
                                                            fixtures: Fixtures) -> None:
    admin = objects.admin
    stranger = foreign_user(admin, settings, fixtures)
    marker = objects.name("group-foreign-user")
    body = {"unique_id": marker, "name": marker, "platform_key": settings.platform_key, "users_to_add": [stranger]}
    expect_status(admin.post(GROUPS, body), 400, 403, why=f"users_to_add naming user {stranger} of another platform")
    nothing_made(admin, settings, GROUPS, marker, "a group create naming a user of another platform")


# ---------------------------------------------------------------------------- is_internal, callers without rights


def internal_flag_not_taken(exchange: Exchange, client: ApiClient, admin: ApiClient, settings: Settings, path: str,
                            marker: str) -> None:
    """A create sending is_internal true: refused with nothing made, or made with is_internal false and listed to
    the tenant who made it."""
    if exchange.status in (400, 403):
        nothing_made(admin, settings, path, marker, f"{exchange.operation} with is_internal true")
        return
    made = created(exchange, "a create sending the read-only is_internal true (ignored, or refused with 400/403)")
    assert made.get("is_internal") is False, \
        f"{exchange.operation}: a tenant's create sending is_internal true answered is_internal {made.get('is_internal')!r}"
    listed = listed_once(client, path, settings.platform_key, made)
    assert listed.get("is_internal") is False, f"{path}: the tenant's new object is listed as internal: {listed}"


@pytest.mark.requirement("CORE-ROLE-008", "CORE-GRP-013")
def test_a_tenant_cannot_create_an_internal_role_or_group(objects: Objects, platform_admin: ApiClient,
                                                         settings: Settings) -> None:
    admin, platform = objects.admin, settings.platform_key
    with check("CORE-ROLE-008"):
        marker = objects.name("internal-role")
        answer = platform_admin.post(ROLES, {"name": marker, "platform_key": platform, "is_internal": True})
        internal_flag_not_taken(answer, platform_admin, admin, settings, ROLES, marker)
    with check("CORE-GRP-013"):
        marker = objects.name("internal-group")
        answer = platform_admin.post(GROUPS, {"unique_id": marker, "name": marker, "platform_key": platform,
                                              "is_internal": True})
        internal_flag_not_taken(answer, platform_admin, admin, settings, GROUPS, marker)


@pytest.mark.requirement("CORE-ROLE-009", "CORE-GRP-016")
def test_another_platforms_admin_cannot_create_roles_or_groups_here(objects: Objects, other_admin: ApiClient,
                                                                     settings: Settings) -> None:
    platform = settings.platform_key
    with check("CORE-ROLE-009"):
        marker = objects.name("foreign-admin-role")
        expect_status(other_admin.post(ROLES, {"name": marker, "platform_key": platform}), *REFUSED_CALLER,
                      why="another platform's admin creating a role on this platform")
        nothing_made(objects.admin, settings, ROLES, marker, "another platform's admin's role create")
    with check("CORE-GRP-016"):
        marker = objects.name("foreign-admin-group")
        expect_status(other_admin.post(GROUPS, {"unique_id": marker, "name": marker, "platform_key": platform}),
                      *REFUSED_CALLER, why="another platform's admin creating a group on this platform")
        nothing_made(objects.admin, settings, GROUPS, marker, "another platform's admin's group create")


@pytest.mark.requirement("CORE-ROLE-010", "CORE-GRP-017")
def test_a_non_admin_user_cannot_create_roles_or_groups(objects: Objects, learner: ApiClient,
                                                        settings: Settings) -> None:
    platform = settings.platform_key
    with check("CORE-ROLE-010"):
        marker = objects.name("learner-role")
        expect_status(learner.post(ROLES, {"name": marker, "platform_key": platform}), 403,
                      why="a non-admin user creating a role")
        nothing_made(objects.admin, settings, ROLES, marker, "a non-admin user's role create")
    with check("CORE-GRP-017"):
        marker = objects.name("learner-group")
        expect_status(learner.post(GROUPS, {"unique_id": marker, "name": marker, "platform_key": platform}), 403,
                      why="a non-admin user creating a group")
        nothing_made(objects.admin, settings, GROUPS, marker, "a non-admin user's group create")
