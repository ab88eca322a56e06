"""Program license group assignments: create-or-update, members' non-direct assignments, counts, list, DELETE."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios._licenses import (
    GROUP_ASSIGNMENTS,
    NO_SUCH_ID,
    assignments,
    check_usage,
    expect_ok,
    group_assignments,
    group_members,
    ids,
)
from conformance.scenarios.support import expect_status, need
from conformance.verdicts import not_verified


def _post(objects: Objects, license_id: int | None, body: dict[str, Any]) -> Exchange:
    params = {"license_id": license_id} if license_id is not None else None
    exchange = objects.admin.post(GROUP_ASSIGNMENTS, body, params=params)
    if exchange.status in (200, 201) and license_id is not None:
        objects._record("group_assignment", license_id=license_id, assignment_id=exchange.json()["id"])
    return exchange


def _delete(admin: ApiClient, license_id: int | None, assignment_id: int | None, **extra: Any) -> Exchange:
    params = {"license_id": license_id, "assignment_id": assignment_id, **extra}
    return admin.delete(GROUP_ASSIGNMENTS, params={k: v for k, v in params.items() if v is not None})


def _holders(admin: ApiClient, license_id: int) -> dict[Any, dict[str, Any]]:
    return {a.get("user_id"): a for a in assignments(admin, license_id)}


def _groups(objects: Objects, fixtures: Fixtures, count: int) -> list[tuple[int, set[int]]]:
    groups = need(fixtures.group_ids, count, "group_ids")
    found = [(g, group_members(objects.admin, objects.settings, g)) for g in groups]
    if any(not members for _, members in found):
        not_verified(f"needs {count} fixture groups with members; members: {found}")
    return found


@pytest.mark.smoke
@pytest.mark.requirement("CAT-GASG-007", "CAT-GASG-012", "CAT-GASG-013", "CAT-GASG-014", "CAT-GASG-015",
                         "CAT-GASG-016", "CAT-GASG-017", "CAT-SEAT-011")
def test_group_assignment_gives_members_seats(objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    admin = objects.admin
    ((group, members),) = _groups(objects, fixtures, 1)
    license_ = objects.program_license(count=len(members) + 2)
    direct_user = min(members)
    direct = objects.assignment("program", license_["id"], direct_user, fulfilled=True,
                                metadata={"conformance": "direct"})
    outsiders = sorted(set(fixtures.user_ids) - members)
    if outsiders:  # a non-member's assignment counts in usage_count, not in assigned_count
        objects.assignment("program", license_["id"], outsiders[0])

    made = expect_ok(_post(objects, license_["id"], {"license_id": license_["id"], "group_id": group,
                                                     "platform_key": settings.platform_key}), "assign a group")
    assert made.get("group_id") == group and made.get("license_id") == license_["id"], f"the group assignment: {made!r}"
    assert made.get("active") is True and made.get("fulfilled") is False, \
        f"without active/fulfilled a group assignment is active and not fulfilled: {made!r}"
    assert made.get("user_count") == len(members), f"user_count {made.get('user_count')!r}: the group has {len(members)}"
    assert made.get("assigned_count") == len(members), \
        f"assigned_count {made.get('assigned_count')!r}: all {len(members)} members hold an assignment"

    holders = _holders(admin, license_["id"])
    assert members <= set(holders), f"members without an assignment: {sorted(members - set(holders))}"
    for user in members - {direct_user}:
        assert holders[user].get("direct") is False, f"member {user}'s assignment must be non-direct: {holders[user]!r}"
    kept = holders[direct_user]
    assert kept.get("id") == direct["id"] and kept.get("direct", True) is True, \
        f"the direct assignment must stay direct and the same (#{direct['id']}): {kept!r}"
    assert kept.get("fulfilled") is True and kept.get("metadata") == {"conformance": "direct"}, \
        f"the direct assignment's values must not change: {kept!r}"
    shown = check_usage(admin, settings, license_, "after the group assignment")
    expected = len(members) + (1 if outsiders else 0)
    assert shown["usage_count"] == expected, \
        f"usage_count counts every member's assignment: {shown['usage_count']}, expected {expected}"

    again = expect_ok(_post(objects, license_["id"], {"license_id": license_["id"], "group_id": group,
                                                      "fulfilled": True, "platform_key": settings.platform_key}),
                      "assign the same group again")
    assert again.get("id") == made["id"], f"assigning the group again must update #{made['id']}, got #{again.get('id')}"
    listed = group_assignments(admin, license_["id"])
    assert ids(listed) == [made["id"]], f"one group assignment per license and group; listed {ids(listed)}"
    assert listed[0].get("fulfilled") is True, "the second POST must update the group assignment's values"
    assert listed[0].get("user_count") == len(members) and listed[0].get("assigned_count") == len(members)
    check_usage(admin, settings, license_, "after assigning the group again")


@pytest.mark.requirement("CAT-GASG-001", "CAT-GASG-002", "CAT-GASG-003", "CAT-GASG-004", "CAT-GASG-005",
                         "CAT-GASG-006", "CAT-GASG-018", "CAT-GASG-020", "CAT-GASG-021", "CAT-GASG-022")
def test_group_assignment_list_and_delete(objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    admin = objects.admin
    (g1, m1), (g2, m2) = _groups(objects, fixtures, 2)
    license_ = objects.program_license(count=len(m1 | m2) + 1)
    elsewhere = objects.program_license(count=len(m1) + 1)
    platform = settings.platform_key
    direct_user = min(m1)
    direct = objects.assignment("program", license_["id"], direct_user)
    first = expect_ok(_post(objects, license_["id"], {"license_id": license_["id"], "group_id": g1,
                                                      "fulfilled": True, "platform_key": platform}), "assign group 1")
    second = expect_ok(_post(objects, license_["id"], {"license_id": license_["id"], "group_id": g2, "active": False,
                                                       "platform_key": platform}), "assign group 2")
    foreign = expect_ok(_post(objects, elsewhere["id"], {"license_id": elsewhere["id"], "group_id": g1,
                                                         "platform_key": platform}), "assign group 1 elsewhere")

    listed = ids(group_assignments(admin, license_["id"]))
    assert sorted(listed) == sorted([first["id"], second["id"]]), f"only this license's group assignments: {listed}"
    assert listed == sorted(listed), f"without sort group assignments come in ascending id order: {listed}"
    expect_status(admin.get(GROUP_ASSIGNMENTS), 400, why="license_id is required")
    assert ids(group_assignments(admin, license_["id"], group_id=g2)) == [second["id"]], "group_id narrows"
    assert ids(group_assignments(admin, license_["id"], active=False)) == [second["id"]], "active=false"
    assert ids(group_assignments(admin, license_["id"], active=True)) == [first["id"]], "active=true"
    assert ids(group_assignments(admin, license_["id"], fulfilled=True)) == [first["id"]], "fulfilled=true"
    assert ids(group_assignments(admin, license_["id"], fulfilled=False)) == [second["id"]], "fulfilled=false"

    # group 2 leaves, keeping the assignments it gave
    before = _holders(admin, license_["id"])
    expect_status(_delete(admin, license_["id"], second["id"], remove_user_assignments=False), 200,
                  why="delete a group assignment")
    assert ids(group_assignments(admin, license_["id"])) == [first["id"]], "only the named group assignment goes"
    assert ids(group_assignments(admin, elsewhere["id"])) == [foreign["id"]], "another license's group assignment went"
    after = _holders(admin, license_["id"])
    assert set(after) == set(before), \
        f"remove_user_assignments=false must keep the members' assignments: {sorted(before)} -> {sorted(after)}"

    # group 1 leaves and takes its non-direct assignments along; the direct one stays
    given_by_g1 = {u for u in m1 - m2 if before[u].get("direct") is False}
    expect_status(_delete(admin, license_["id"], first["id"], remove_user_assignments=True), 200,
                  why="delete a group assignment with its user assignments")
    assert group_assignments(admin, license_["id"]) == [], "both group assignments are gone"
    after = _holders(admin, license_["id"])
    assert not given_by_g1 & set(after), f"the non-direct assignments of group 1 remain: {sorted(given_by_g1 & set(after))}"
    assert direct_user in after and after[direct_user].get("id") == direct["id"], "the direct assignment must stay"
    check_usage(admin, settings, license_, "after deleting the group assignments")
    expect_status(_delete(admin, license_["id"], first["id"]), 404, why="the group assignment no longer exists")


@pytest.mark.requirement("CAT-GASG-008", "CAT-GASG-009", "CAT-GASG-010", "CAT-GASG-011", "CAT-GASG-019",
                         "CAT-GASG-020")
def test_group_assignment_refusals(objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    admin = objects.admin
    (group,) = need(fixtures.group_ids, 1, "group_ids")
    platform = settings.platform_key
    license_ = objects.program_license(count=1)
    expect_status(_post(objects, None, {"group_id": group, "platform_key": platform}), 400, why="no license_id")
    expect_status(_post(objects, license_["id"], {"license_id": license_["id"], "platform_key": platform}), 400,
                  why="no group_id")
    expect_status(_post(objects, NO_SUCH_ID, {"license_id": NO_SUCH_ID, "group_id": group, "platform_key": platform}),
                  404, why="a license that does not exist")
    expect_status(_post(objects, license_["id"], {"license_id": license_["id"], "group_id": NO_SUCH_ID,
                                                  "platform_key": platform}), 404, why="a group that does not exist")
    assert group_assignments(admin, license_["id"]) == [], "refused group assignments created one"
    assert assignments(admin, license_["id"]) == [], "refused group assignments created user assignments"

    made = objects.group_assignment(license_["id"], group)
    expect_status(_delete(admin, license_["id"], None), 400, why="assignment_id is required")
    expect_status(_delete(admin, None, made["id"]), 400, why="license_id is required")
    expect_status(_delete(admin, license_["id"], NO_SUCH_ID), 404, why="no such group assignment")
    assert ids(group_assignments(admin, license_["id"])) == [made["id"]], "a refused DELETE removed the group assignment"


@pytest.mark.requirement("CAT-GASG-023")
def test_group_assignment_delete_without_remove_user_assignments(objects: Objects, fixtures: Fixtures,
                                                                 settings: Settings) -> None:
    admin = objects.admin
    ((group, members),) = _groups(objects, fixtures, 1)
    license_ = objects.program_license(count=len(members))
    made = objects.group_assignment(license_["id"], group)
    given = {u for u, a in _holders(admin, license_["id"]).items() if a.get("direct") is False}
    expect_status(_delete(admin, license_["id"], made["id"]), 200, why="delete without remove_user_assignments")
    assert group_assignments(admin, license_["id"]) == [], "the group assignment must be gone"
    left = given & set(_holders(admin, license_["id"]))
    assert left in (set(), given), \
        f"the omitted parameter means true (all removed) or false (all kept), not a part: kept {sorted(left)} of {sorted(given)}"
