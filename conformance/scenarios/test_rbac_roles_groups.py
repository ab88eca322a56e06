"""RBAC roles and groups: the lists, their filters, include_users, internal ones hidden."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios.support import expect_status, need, walk_pages
from conformance.verdicts import not_verified

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


@pytest.mark.smoke
@pytest.mark.requirement("CORE-ROLE-001", "CORE-ROLE-002", "CORE-ROLE-003")
def test_role_list_and_filters(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> None:
    platform = settings.platform_key
    role_ids = set(need(fixtures.role_ids, 1, "role_ids"))
    first_page(admin, ROLES, {"platform_key": platform})
    roles = listed(admin, ROLES, platform_key=platform)
    assert role_ids <= set(roles), f"fixture roles {sorted(role_ids - set(roles))} are not listed on {platform}"
    foreign = [i for i, r in roles.items() if platform_of(r) != platform]
    assert not foreign, f"platform_key={platform} lists roles of other platforms: {foreign}"
    if settings.other_platform_key:
        elsewhere = listed(admin, ROLES, platform_key=settings.other_platform_key)
        assert not role_ids & set(elsewhere), f"roles of {platform} are listed on {settings.other_platform_key}"
        assert all(platform_of(r) == settings.other_platform_key for r in elsewhere.values())

    target = roles[sorted(role_ids)[0]]
    part = middle(str(target.get("name") or ""))
    if not part:
        not_verified("the fixture role has no name to filter by")
    by_name = listed(admin, ROLES, platform_key=platform, name=part)
    assert target["id"] in by_name, f"name={part!r} must list role {target['id']} named {target.get('name')!r}"
    wrong = [i for i, r in by_name.items() if part.lower() not in str(r.get("name")).lower()]
    assert not wrong, f"name={part!r} lists roles whose name does not contain it: {wrong}"


@pytest.mark.smoke
@pytest.mark.requirement("CORE-GRP-001", "CORE-GRP-002", "CORE-GRP-004", "CORE-GRP-007", "CORE-GRP-008")
def test_group_list_filters_and_include_users(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> None:
    platform = settings.platform_key
    group_ids = set(need(fixtures.group_ids, 1, "group_ids"))
    first_page(admin, GROUPS, {"platform_key": platform})
    groups = listed(admin, GROUPS, platform_key=platform)
    assert group_ids <= set(groups), f"fixture groups {sorted(group_ids - set(groups))} are not listed on {platform}"
    foreign = [i for i, g in groups.items() if platform_of(g) != platform]
    assert not foreign, f"platform_key={platform} lists groups of other platforms: {foreign}"
    if settings.other_platform_key:
        elsewhere = listed(admin, GROUPS, platform_key=settings.other_platform_key)
        assert not group_ids & set(elsewhere), f"groups of {platform} are listed on {settings.other_platform_key}"

    with_members = [g for g in sorted(group_ids) if groups[g].get("users")]
    if not with_members:
        not_verified("needs a fixture group with members")
    lean = listed(admin, GROUPS, platform_key=platform, include_users=False)
    assert set(lean) == set(groups), "include_users=false must list the same groups"
    carrying = [i for i, g in lean.items() if g.get("users")]
    assert not carrying, f"include_users=false: groups {carrying} still carry users"
    explicit = listed(admin, GROUPS, platform_key=platform, include_users=True)
    assert explicit[with_members[0]].get("users"), "include_users=true must list the group's users"

    named = [g for g in sorted(group_ids) if groups[g].get("name")]
    if not named:
        not_verified("needs a fixture group with a name")
    target = groups[named[0]]
    part = middle(str(target["name"]))
    by_name = listed(admin, GROUPS, platform_key=platform, name=part)
    assert target["id"] in by_name, f"name={part!r} must list group {target['id']} named {target['name']!r}"
    wrong = [i for i, g in by_name.items() if part.lower() not in str(g.get("name")).lower()]
    assert not wrong, f"name={part!r} lists groups whose name does not contain it: {wrong}"


@pytest.mark.requirement("CORE-GRP-003", "CORE-GRP-005", "CORE-GRP-006")
def test_group_owner_username_and_email_filters(admin: ApiClient, settings: Settings, fixtures: Fixtures) -> None:
    platform = settings.platform_key
    group_ids = set(need(fixtures.group_ids, 1, "group_ids"))
    groups = listed(admin, GROUPS, platform_key=platform)
    with_members = [g for g in sorted(group_ids) if g in groups and groups[g].get("users")]
    if not with_members:
        not_verified("needs a fixture group with members")
    target = groups[with_members[0]]
    member = target["users"][0]

    for field in ("username", "email"):
        value = member.get(field)
        if not value:
            raise AssertionError(f"group {target['id']}: a listed user must show its {field}: {member}")
        found = listed(admin, GROUPS, platform_key=platform, **{field: str(value).swapcase()})
        assert target["id"] in found, f"{field}={value!r} (other case) must list group {target['id']}, a group of theirs"
        strangers = [i for i, g in found.items()
                     if str(value).lower() not in {str(u.get(field)).lower() for u in g.get("users") or []}]
        assert not strangers, f"{field}={value!r} lists groups without that member: {strangers}"
        others = {i for i, g in groups.items()
                  if str(value).lower() not in {str(u.get(field)).lower() for u in g.get("users") or []}}
        assert not others & set(found), f"{field}={value!r} lists groups {sorted(others & set(found))} without them"

    owned = [g for g in groups.values() if (g.get("owner") or {}).get("username")]
    if not owned:
        not_verified("no group of the platform shows an owner with a username")
    owner = owned[0]["owner"]["username"]
    found = listed(admin, GROUPS, platform_key=platform, owner=owner)
    expected = {i for i, g in groups.items() if (g.get("owner") or {}).get("username") == owner}
    assert set(found) == expected, f"owner={owner!r} must list exactly the groups they own {sorted(expected)}, " \
                                   f"got {sorted(found)}"


@pytest.mark.requirement("CORE-ROLE-004", "CORE-GRP-009")
def test_internal_roles_and_groups_are_not_listed(admin: ApiClient, settings: Settings) -> None:
    """The schemas: internal roles and groups 'cannot be viewed' (SHOULD: the rule is spelled out for policies)."""
    for path in (ROLES, GROUPS):
        first_page(admin, path, {"platform_key": settings.platform_key})
        items = listed(admin, path, platform_key=settings.platform_key)
        internal = [i for i, item in items.items() if item.get("is_internal") is True]
        assert not internal, f"GET {path}: internal objects are listed: {internal}"
