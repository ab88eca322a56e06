"""RBAC policies: the list and its filters."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.paths import RBAC_POLICIES
from conformance.scenarios.policies import GROUPS, group_ids, made, post, resources, user_ids, write_only_echoed
from conformance.verdicts import need, not_verified


def listed(admin: ApiClient, **params: Any) -> dict[Any, dict[str, Any]]:
    return {p.get("id"): p for p in walk_pages(admin, RBAC_POLICIES, params)}


def showing(found: dict[Any, dict[str, Any]], *policies: dict[str, Any]) -> None:
    """Go on only when the list shows the test's policies (that they are listed is CORE-RBAC-002 and 004)."""
    if any(p["id"] not in found for p in policies):
        not_verified("the list filtered by platform and name does not show the test's policies")


def outside_a_group(groups: dict[Any, dict[str, Any]], fixtures: Fixtures) -> tuple[Any, dict[Any, Any], Any, Any]:
    """A fixture group with members and two fixture users outside it: (group, its members by id, user, user)."""
    for group in fixtures.group_ids:
        members = {u.get("id"): u for u in (groups.get(group) or {}).get("users") or []}
        outsiders = [u for u in fixtures.user_ids if u not in members]
        if members and len(outsiders) >= 2:
            return group, members, outsiders[0], outsiders[1]
    not_verified("needs a fixture group with members and two fixture users outside it")


@pytest.mark.requirement("CORE-RBAC-001", "CORE-RBAC-002", "CORE-RBAC-003", "CORE-RBAC-004", "CORE-RBAC-005",
                         "CORE-RBAC-006", "CORE-RBAC-007", "CORE-RBAC-008", "CORE-RBAC-009", "CORE-RBAC-010",
                         "CORE-RBAC-011", "CORE-RBAC-017")
def test_policy_list_filters(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    admin, platform = objects.admin, settings.platform_key
    (role_a,) = need(fixtures.role_ids, 1, "role_ids")
    role_b = fixtures.role_ids[1] if len(fixtures.role_ids) > 1 else None
    need(fixtures.group_ids, 1, "group_ids")
    groups = {g.get("id"): g for g in walk_pages(admin, GROUPS, {"platform_key": platform, "include_users": True})}
    group, members, direct, other = outside_a_group(groups, fixtures)
    answers: list[Exchange] = []

    marker = f"Filter-{objects.ledger.run_id}"
    created = []
    for suffix, role, users, in_groups in (("A", role_a, [direct], [group]), ("B", role_b or role_a, [other], [])):
        exchange = post(objects, {"name": f"{objects.name('policy')}-{marker}-{suffix}", "role_id": role,
                                  "resources": resources(objects, f"filter-{suffix}"), "platform_key": platform,
                                  "users_to_add": users, "groups_to_add": in_groups})
        answers.append(exchange)
        created.append(made(exchange, f"creating policy {suffix} of the filter test"))
    a, b = created
    mine = {"platform_key": platform, "name": marker}

    def narrows(what: str, params: dict[str, Any], present: set[Any], absent: set[Any]) -> dict[Any, dict[str, Any]]:
        found = listed(admin, **params)
        assert present <= set(found), f"{what}: policies {sorted(present - set(found))} are missing"
        assert not absent & set(found), f"{what}: policies {sorted(absent & set(found))} must not be listed"
        return found

    with check("CORE-RBAC-001"):
        page = expect_status(admin.get(RBAC_POLICIES, params={"platform_key": platform}), 200, why="listing policies").json()
        assert isinstance(page, dict) and isinstance(page.get("count"), int) and isinstance(page.get("results"), list), \
            f"the policy list must be a page with count and results, got {str(page)[:300]}"
    with check("CORE-RBAC-002"):
        everything = listed(admin, platform_key=platform)
        assert {a["id"], b["id"]} <= set(everything), "both new policies must be listed on their platform"
        foreign = [i for i, p in everything.items() if (p.get("platform") or {}).get("key") != platform]
        assert not foreign, f"platform_key={platform} lists policies of other platforms: {foreign}"
        if settings.other_platform_key:
            elsewhere = listed(admin, platform_key=settings.other_platform_key, name=marker)
            assert not {a["id"], b["id"]} & set(elsewhere), f"policies of {platform} are listed on another platform"

    with check("CORE-RBAC-003"):
        by_role = narrows(f"role_id={role_a}", {**mine, "role_id": role_a}, {a["id"]}, {b["id"]} if role_b else set())
        wrong = [i for i, p in by_role.items() if (p.get("role") or {}).get("id") != role_a]
        assert not wrong, f"role_id={role_a} lists policies of other roles: {wrong}"
    with check("CORE-RBAC-004"):
        part = marker.swapcase()[2:]
        by_name = narrows("name (partial, other case)", {"platform_key": platform, "name": part}, {a["id"], b["id"]}, set())
        wrong = [i for i, p in by_name.items() if part.lower() not in str(p.get("name")).lower()]
        assert not wrong, f"the name filter lists policies whose name does not contain it: {wrong}"
        narrows("name matching one", {**mine, "name": f"{marker}-a"}, {a["id"]}, {b["id"]})

    known = {u.get("id"): u for g in groups.values() for u in g.get("users") or []}
    direct_user = {**known.get(direct, {}), **{u.get("id"): u for u in a.get("users") or []}.get(direct, {})}
    for field, requirement in (("username", "CORE-RBAC-005"), ("email", "CORE-RBAC-006")):
        with check(requirement):
            value = direct_user.get(field)
            if not value:
                not_verified(f"the platform shows no {field} for user {direct}")
            narrows(f"{field} of a user of the policy (other case)", {**mine, field: str(value).swapcase()},
                    {a["id"]}, {b["id"]})
            member = next((m for m in members.values() if m.get(field)), None)
            if member is None:
                not_verified(f"no member of group {group} shows a {field}")
            narrows(f"{field} of a member of the policy's group", {**mine, field: str(member[field]).upper()},
                    {a["id"]}, {b["id"]})
    with check("CORE-RBAC-007"):
        group_name = groups[group].get("name")
        if not group_name:
            not_verified(f"group {group} has no name to filter by")
        narrows("group (other case)", {**mine, "group": str(group_name).swapcase()}, {a["id"]}, {b["id"]})

    with check("CORE-RBAC-008"):
        for params in (mine, {**mine, "include_users": True}):
            found = listed(admin, **params)
            showing(found, a, b)
            assert direct in user_ids(found[a["id"]]) and other in user_ids(found[b["id"]]), \
                f"{params}: a listed policy must show its users; they are {found[a['id']].get('users')}"
    with check("CORE-RBAC-010"):
        for params in (mine, {**mine, "include_groups": True}):
            found = listed(admin, **params)
            showing(found, a, b)
            assert group in group_ids(found[a["id"]]), \
                f"{params}: a listed policy must show its groups; they are {found[a['id']].get('groups')}"
    for flag, field, requirement in (("include_users", "users", "CORE-RBAC-009"),
                                     ("include_groups", "groups", "CORE-RBAC-011")):
        with check(requirement):
            lean = listed(admin, **mine, **{flag: False})
            assert {a["id"], b["id"]} <= set(lean), f"{flag}=false must not drop policies"
            carrying = [i for i, p in lean.items() if p.get(field)]
            assert not carrying, f"{flag}=false: policies {carrying} still carry {field}"

    with check("CORE-RBAC-017"):
        for params in (mine, {**mine, "include_users": False, "include_groups": False}):
            answers.append(admin.get(RBAC_POLICIES, params=params))
        echoed = write_only_echoed(answers)
        assert not echoed, f"policy answers and list pages echo write-only fields: {echoed}"
