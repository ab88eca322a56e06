"""RBAC roles and groups: the lists, their filters, include_users, internal ones hidden."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.verdicts import need, not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"


def listed(admin: ApiClient, path: str, **params: Any) -> dict[Any, dict[str, Any]]:
    return {item.get("id"): item for item in walk_pages(admin, path, params)}


def platform_of(item: dict[str, Any]) -> Any:
    return (item.get("platform") or {}).get("key")


def first_page(admin: ApiClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    body = expect_status(admin.get(path, params=params), 200, why=f"listing {path}").json()
    assert isinstance(body, dict) and isinstance(body.get("count"), int) and isinstance(body.get("results"), list), \
        f"GET {path} must answer a page with an integer count and a results list, got {str(body)[:300]}"
    return body


def middle(text: str) -> str:
    """A part of a name, in the other case (the filters are partial and case-insensitive)."""
    cut = text[1:-1] if len(text) > 3 else text
    return cut.swapcase()


def holding(groups: dict[Any, dict[str, Any]], field: str, value: str) -> set[Any]:
    """IDs of the groups with a member whose `field` is `value`, ignoring case."""
    return {i for i, g in groups.items()
            if value.lower() in {str(u.get(field)).lower() for u in g.get("users") or []}}



def _name_filter_holds(admin: ApiClient, path: str, platform: str, known: list[dict[str, Any]], what: str) -> None:
    """name=<part of a known item's name> lists that item and only items whose name contains the part."""
    shown = [item for item in known if item.get("name")]
    if not shown:
        not_verified(f"the {what} list shows no fixture {what} with a name to filter by")
    target = shown[0]
    part = middle(str(target["name"]))
    by_name = listed(admin, path, platform_key=platform, name=part)
    assert target["id"] in by_name, f"name={part!r} must list {what} {target['id']} named {target['name']!r}"
    wrong = [i for i, item in by_name.items() if part.lower() not in str(item.get("name")).lower()]
    assert not wrong, f"name={part!r} lists {what}s whose name does not contain it: {wrong}"

@pytest.mark.smoke
@pytest.mark.requirement("CORE-ROLE-001", "CORE-ROLE-002", "CORE-ROLE-003")
def test_role_list_and_filters(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> None:
    platform = settings.platform_key
    role_ids = set(need(fixtures.role_ids, 1, "role_ids"))
    with check("CORE-ROLE-001"):
        first_page(admin, ROLES, {"platform_key": platform})
    roles = listed(admin, ROLES, platform_key=platform)

    with check("CORE-ROLE-002"):
        assert role_ids <= set(roles), f"fixture roles {sorted(role_ids - set(roles))} are not listed on {platform}"
        foreign = [i for i, r in roles.items() if platform_of(r) != platform]
        assert not foreign, f"platform_key={platform} lists roles of other platforms: {foreign}"
        if settings.other_platform_key:
            elsewhere = listed(admin, ROLES, platform_key=settings.other_platform_key)
            assert not role_ids & set(elsewhere), f"roles of {platform} are listed on {settings.other_platform_key}"
            strangers = [i for i, r in elsewhere.items() if platform_of(r) != settings.other_platform_key]
            assert not strangers, f"platform_key={settings.other_platform_key} lists roles of other platforms: {strangers}"

    with check("CORE-ROLE-003"):
        _name_filter_holds(admin, ROLES, platform, [roles[i] for i in sorted(role_ids) if i in roles], "role")


@pytest.mark.smoke
@pytest.mark.requirement("CORE-GRP-001", "CORE-GRP-002", "CORE-GRP-004", "CORE-GRP-007", "CORE-GRP-008")
def test_group_list_filters_and_include_users(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> None:
    platform = settings.platform_key
    group_ids = set(need(fixtures.group_ids, 1, "group_ids"))
    with check("CORE-GRP-001"):
        first_page(admin, GROUPS, {"platform_key": platform})
    groups = listed(admin, GROUPS, platform_key=platform)
    asked = listed(admin, GROUPS, platform_key=platform, include_users=True)
    with_members = sorted((i for i, g in asked.items() if g.get("users")), key=str)

    with check("CORE-GRP-002"):
        assert group_ids <= set(groups), f"fixture groups {sorted(group_ids - set(groups))} are not listed on {platform}"
        foreign = [i for i, g in groups.items() if platform_of(g) != platform]
        assert not foreign, f"platform_key={platform} lists groups of other platforms: {foreign}"
        if settings.other_platform_key:
            elsewhere = listed(admin, GROUPS, platform_key=settings.other_platform_key)
            assert not group_ids & set(elsewhere), f"groups of {platform} are listed on {settings.other_platform_key}"

    with check("CORE-GRP-007"):
        if not with_members:
            not_verified("no group of the platform lists members, even with include_users=true")
        bare = [i for i in with_members if not (groups.get(i) or {}).get("users")]
        assert not bare, f"without include_users (default true) groups {bare} list no users; with true they do"
    with check("CORE-GRP-008"):
        if not with_members:
            not_verified("no group of the platform lists members, even with include_users=true")
        lean = listed(admin, GROUPS, platform_key=platform, include_users=False)
        assert set(lean) == set(asked), "include_users=false must list the same groups"
        carrying = [i for i, g in lean.items() if g.get("users")]
        assert not carrying, f"include_users=false: groups {carrying} still carry users"

    with check("CORE-GRP-004"):
        _name_filter_holds(admin, GROUPS, platform, [groups[g] for g in sorted(group_ids) if g in groups], "group")


@pytest.mark.requirement("CORE-GRP-003", "CORE-GRP-005", "CORE-GRP-006")
def test_group_owner_username_and_email_filters(admin: ApiClient, settings: Settings) -> None:
    platform = settings.platform_key
    groups = listed(admin, GROUPS, platform_key=platform, include_users=True)

    for field, requirement in (("username", "CORE-GRP-005"), ("email", "CORE-GRP-006")):
        with check(requirement):
            members = [u for g in groups.values() for u in g.get("users") or [] if u.get(field)]
            if not members:
                not_verified(f"no group of the platform lists a member with a {field}")
            value = str(members[0][field])
            found = listed(admin, GROUPS, platform_key=platform, **{field: value.swapcase()})
            expected = holding(groups, field, value)
            assert set(found) == expected, \
                f"{field}={value.swapcase()!r} must list exactly the groups with that member {sorted(expected, key=str)}, " \
                f"got {sorted(found, key=str)}"

    with check("CORE-GRP-003"):
        owned = [g for g in groups.values() if (g.get("owner") or {}).get("username")]
        if not owned:
            not_verified("no group of the platform shows an owner with a username")
        owner = owned[0]["owner"]["username"]
        found = listed(admin, GROUPS, platform_key=platform, owner=owner)
        expected = {i for i, g in groups.items() if (g.get("owner") or {}).get("username") == owner}
        assert set(found) == expected, f"owner={owner!r} must list exactly the groups they own {sorted(expected)}, " \
                                       f"got {sorted(found)}"


@pytest.mark.requirement("CORE-ROLE-004", "CORE-GRP-009")
def test_internal_roles_and_groups_are_not_listed(platform_admin: ApiClient, settings: Settings) -> None:
    """The schemas: internal roles and groups 'cannot be viewed ... by tenants' (asked as the platform's admin)."""
    for path, requirement in ((ROLES, "CORE-ROLE-004"), (GROUPS, "CORE-GRP-009")):
        with check(requirement):
            items = listed(platform_admin, path, platform_key=settings.platform_key)
            internal = [i for i, item in items.items() if item.get("is_internal") is True]
            assert not internal, f"GET {path}: internal objects are listed: {internal}"
