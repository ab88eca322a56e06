"""Program license group assignments: create-or-update, members' non-direct assignments, counts, list, DELETE.

Every license a test assigns a group to has a seat for each member of each group it assigns (as the RBAC
group list shows the members), on top of the assignments it already holds: the published note "If the
license doesn't have enough seats, the operation will fail" (refuse the whole group) then never applies.
The groups are the suite's own (two fixture users each, made once per target and reused by later runs), or the
fixture groups on a target that will not make them.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_ok, expect_status
from conformance.scenarios.licenses import (
    NO_SUCH_ID,
    UNKNOWN_IN_BODY,
    UNKNOWN_OBJECT,
    assignments,
    group_assignments,
    groups_with_members,
    ids,
    new_assignment,
    new_program_license,
    the_license,
)
from conformance.scenarios.paths import GROUP_ASSIGNMENTS
from conformance.verdicts import not_verified


def _post(objects: Objects, license_id: int | None, body: dict[str, Any]) -> Exchange:
    """POST a group assignment as given; one the target creates is recorded for cleanup."""
    params = {"license_id": license_id} if license_id is not None else None
    exchange = objects.admin.post(GROUP_ASSIGNMENTS, body, params=params)
    if exchange.status in (200, 201) and license_id is not None:
        created = exchange.json()
        if isinstance(created, dict) and "id" in created:
            objects._record("group_assignment", license_id=license_id, assignment_id=created["id"])
    return exchange


def _assign_group(objects: Objects, license_id: int, group: int, **fields: Any) -> Exchange:
    """POST the group assignment of `group` on the license (license_id in the query and the body)."""
    body = {"license_id": license_id, "group_id": group, "platform_key": objects.settings.platform_key, **fields}
    return _post(objects, license_id, body)


def _delete(admin: ApiClient, license_id: int | None, assignment_id: int | None, **extra: Any) -> Exchange:
    params = {"license_id": license_id, "assignment_id": assignment_id, **extra}
    return admin.delete(GROUP_ASSIGNMENTS, params={k: v for k, v in params.items() if v is not None})


def _holders(admin: ApiClient, license_id: int) -> dict[Any, dict[str, Any]]:
    """The license's assignments by user id."""
    return {a.get("user_id"): a for a in assignments(admin, license_id)}


def _groups(objects: Objects, count: int) -> list[tuple[int, set[int]]]:
    """`count` groups with members, each with its members: the suite's own groups, else the fixture groups."""
    return groups_with_members(objects, count)


def _license(objects: Objects, seats: int) -> dict[str, Any]:
    """A program license of `seats` seats made for the test (refused: the test is not verified)."""
    return new_program_license(objects, count=seats)


def _seats(*members: set[int], held: int = 0) -> int:
    """Seats for every member of every group to take a new one, the `held` assignments, and one spare."""
    return held + sum(len(group) for group in members) + 1


def _direct(objects: Objects, license_id: int, user: int, **fields: Any) -> dict[str, Any]:
    """A direct assignment the test needs as setup."""
    return new_assignment(objects, "program", license_id, user, **fields)


def _nothing_created(admin: ApiClient, license_id: int, why: str) -> None:
    assert group_assignments(admin, license_id) == [], f"{why}: a refused group assignment was created"
    assert assignments(admin, license_id) == [], f"{why}: a refused group assignment created user assignments"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-GASG-007", "CAT-GASG-012", "CAT-GASG-013", "CAT-GASG-014", "CAT-GASG-015",
                         "CAT-GASG-016", "CAT-GASG-017", "CAT-SEAT-011")
def test_group_assignment_gives_members_seats(objects: Objects, fixtures: Fixtures, settings: Settings) -> None:
    admin = objects.admin
    ((group, members),) = _groups(objects, 1)
    outsiders = sorted(set(fixtures.user_ids) - members)
    license_ = _license(objects, _seats(members, held=2))
    direct_user = min(members)
    direct = _direct(objects, license_["id"], direct_user, fulfilled=True, metadata={"conformance": "direct"})
    if outsiders:  # a non-member's assignment counts in usage_count, not in assigned_count
        _direct(objects, license_["id"], outsiders[0])

    answer = _assign_group(objects, license_["id"], group)
    with check("CAT-GASG-007") as posted:
        made = expect_ok(answer, "assign a group")
        assert made.get("group_id") == group and made.get("license_id") == license_["id"], \
            f"the group assignment must be of group {group} on license {license_['id']}: {made!r}"
    made = answer.json() if posted.held else {}
    listed = group_assignments(admin, license_["id"]) if posted.held else []
    with check("CAT-GASG-012"):
        needs(posted)
        assert made.get("active") is True and made.get("fulfilled") is False, \
            f"without active/fulfilled a group assignment is active and not fulfilled: {made!r}"
    with check("CAT-GASG-016"):
        needs(posted)
        for shown in (made, *listed):
            assert shown.get("user_count") == len(members), \
                f"user_count {shown.get('user_count')!r}: the group has {len(members)} members"
    with check("CAT-GASG-017"):
        needs(posted)
        # the members holding an assignment on the license, or those the group assignment itself gave one
        readings = {len(members), len(members) - 1}
        for shown in (made, *listed):
            assert shown.get("assigned_count") in readings, \
                f"assigned_count {shown.get('assigned_count')!r}: all {len(members)} members hold an assignment, " \
                f"{len(members) - 1} of them given by the group"

    holders = _holders(admin, license_["id"])
    with check("CAT-GASG-014"):
        needs(posted)
        assert members <= set(holders), f"members without an assignment: {sorted(members - set(holders))}"
        for user in members - {direct_user}:
            assert holders[user].get("direct") is False, \
                f"member {user}'s assignment must be non-direct: {holders[user]!r}"
    with check("CAT-GASG-015"):
        needs(posted)
        kept = holders.get(direct_user, {})
        assert kept.get("id") == direct["id"] and kept.get("direct", True) is True, \
            f"the direct assignment must stay direct and the same (#{direct['id']}): {kept!r}"
        assert kept.get("fulfilled") is True and kept.get("metadata") == {"conformance": "direct"}, \
            f"the direct assignment's values must not change: {kept!r}"
    with check("CAT-SEAT-011"):
        needs(posted)
        usage = the_license(admin, settings, license_).get("usage_count")
        expected = len(members) + (1 if outsiders else 0)
        assert usage == len(holders) == expected, \
            f"usage_count counts every member's assignment: {usage!r}; listed {len(holders)}, expected {expected}"

    with check("CAT-GASG-013"):
        needs(posted)
        again = expect_ok(_assign_group(objects, license_["id"], group, fulfilled=True), "assign the same group again")
        assert again.get("id") == made["id"], \
            f"assigning the group again must update #{made['id']}, got #{again.get('id')}"
        listed = group_assignments(admin, license_["id"])
        assert ids(listed) == [made["id"]], f"one group assignment per license and group; listed {ids(listed)}"
        assert listed[0].get("fulfilled") is True, "the second POST must update the group assignment's values"


@pytest.mark.requirement("CAT-GASG-001", "CAT-GASG-002", "CAT-GASG-003", "CAT-GASG-004", "CAT-GASG-005",
                         "CAT-GASG-006", "CAT-GASG-018", "CAT-GASG-020", "CAT-GASG-021", "CAT-GASG-022", "CAT-GASG-024")
def test_group_assignment_list_and_delete(objects: Objects) -> None:
    admin = objects.admin
    (g1, m1), (g2, m2) = _groups(objects, 2)
    license_ = _license(objects, _seats(m1, m2, held=1))
    elsewhere = _license(objects, _seats(m1))
    direct_user = min(m1)
    direct = _direct(objects, license_["id"], direct_user)
    first = setup(_assign_group(objects, license_["id"], g1, fulfilled=True), "assigning group 1").json()
    second = setup(_assign_group(objects, license_["id"], g2, active=False), "assigning group 2").json()
    # platform_org names the same platform as platform_key; redirect_to and metadata are in the published answer
    values = {"redirect_to": "https://example.com/conformance/group-next", "metadata": {"conformance": "group"}}
    foreign = setup(_assign_group(objects, elsewhere["id"], g1, platform_org=objects.settings.org, **values),
                    "assigning group 1 to another license").json()

    listed = ids(group_assignments(admin, license_["id"]))
    with check("CAT-GASG-001"):
        assert sorted(listed) == sorted([first["id"], second["id"]]), f"only this license's group assignments: {listed}"
        scoped = ids(group_assignments(admin, license_["id"], platform_key=objects.settings.platform_key,
                                       platform_org=objects.settings.org))
        assert sorted(scoped) == sorted(listed), f"platform_key and platform_org of its platform list the same: {scoped}"
    with check("CAT-GASG-006"):
        assert listed == sorted(listed), f"without sort group assignments come in ascending id order: {listed}"
    with check("CAT-GASG-002"):
        expect_status(admin.get(GROUP_ASSIGNMENTS), 400, why="license_id is required")
    with check("CAT-GASG-005"):
        assert ids(group_assignments(admin, license_["id"], group_id=g2)) == [second["id"]], "group_id narrows"
    with check("CAT-GASG-003"):
        assert ids(group_assignments(admin, license_["id"], active=False)) == [second["id"]], "active=false"
        assert ids(group_assignments(admin, license_["id"], active=True)) == [first["id"]], "active=true"
    with check("CAT-GASG-024"):
        (shown,) = group_assignments(admin, elsewhere["id"])
        for where, state in (("the answer", foreign), ("the list", shown)):
            for field, value in values.items():
                assert state.get(field) == value, f"{field} sent as {value!r} is {state.get(field)!r} in {where}"
    with check("CAT-GASG-004"):
        assert ids(group_assignments(admin, license_["id"], fulfilled=True)) == [first["id"]], "fulfilled=true"
        assert ids(group_assignments(admin, license_["id"], fulfilled=False)) == [second["id"]], "fulfilled=false"

    # group 2 leaves, keeping the assignments it gave
    before = _holders(admin, license_["id"])
    answer = _delete(admin, license_["id"], second["id"], remove_user_assignments=False,  # the platform named too
                     platform_key=objects.settings.platform_key, platform_org=objects.settings.org)
    with check("CAT-GASG-018") as second_gone:
        expect_status(answer, 200, why="delete a group assignment")
        assert ids(group_assignments(admin, license_["id"])) == [first["id"]], "only the named group assignment goes"
        assert ids(group_assignments(admin, elsewhere["id"])) == [foreign["id"]], \
            "another license's group assignment went"
    with check("CAT-GASG-022"):
        needs(second_gone)
        after = _holders(admin, license_["id"])
        assert set(after) == set(before), \
            f"remove_user_assignments=false must keep the members' assignments: {sorted(before)} -> {sorted(after)}"

    # group 1 leaves and takes its non-direct assignments along; the direct one stays
    given_by_g1 = {u for u in m1 - m2 if before.get(u, {}).get("direct") is False}
    answer = _delete(admin, license_["id"], first["id"], remove_user_assignments=True)
    with check("CAT-GASG-018") as first_gone:
        expect_status(answer, 200, why="delete a group assignment with its user assignments")
        assert group_assignments(admin, license_["id"]) == [], "both group assignments are gone"
    with check("CAT-GASG-021"):
        needs(first_gone)
        if not given_by_g1:
            not_verified(f"group {g1} gave no non-direct assignment only it could have given (members {sorted(m1)})")
        after = _holders(admin, license_["id"])
        assert not given_by_g1 & set(after), \
            f"the non-direct assignments of group 1 remain: {sorted(given_by_g1 & set(after))}"
        assert after.get(direct_user, {}).get("id") == direct["id"], "the direct assignment must stay"
    with check("CAT-GASG-020"):
        needs(first_gone)
        expect_status(_delete(admin, license_["id"], first["id"]), *UNKNOWN_OBJECT,
                      why="the group assignment no longer exists")


@pytest.mark.requirement("CAT-GASG-008", "CAT-GASG-009", "CAT-GASG-010", "CAT-GASG-011", "CAT-GASG-019",
                         "CAT-GASG-020")
def test_group_assignment_refusals(objects: Objects, settings: Settings) -> None:
    admin = objects.admin
    ((group, members),) = _groups(objects, 1)
    platform = settings.platform_key
    license_ = _license(objects, _seats(members))
    with check("CAT-GASG-008"):
        expect_status(_post(objects, None, {"group_id": group, "platform_key": platform}), 400, why="no license_id")
        _nothing_created(admin, license_["id"], "no license_id")
    with check("CAT-GASG-009"):
        expect_status(_post(objects, license_["id"], {"license_id": license_["id"], "platform_key": platform}), 400,
                      why="no group_id")
        _nothing_created(admin, license_["id"], "no group_id")
    with check("CAT-GASG-010"):
        expect_status(_assign_group(objects, NO_SUCH_ID, group), *UNKNOWN_IN_BODY, why="a license that does not exist")
        _nothing_created(admin, license_["id"], "an unknown license")
    with check("CAT-GASG-011"):
        expect_status(_assign_group(objects, license_["id"], NO_SUCH_ID), *UNKNOWN_IN_BODY, why="a group that does not exist")
        _nothing_created(admin, license_["id"], "an unknown group")

    made = setup(_assign_group(objects, license_["id"], group), "assigning a group").json()
    with check("CAT-GASG-019"):
        expect_status(_delete(admin, license_["id"], None), 400, why="assignment_id is required")
        expect_status(_delete(admin, None, made["id"]), 400, why="license_id is required")
        assert ids(group_assignments(admin, license_["id"])) == [made["id"]], \
            "a refused DELETE removed the group assignment"
    with check("CAT-GASG-020"):
        expect_status(_delete(admin, license_["id"], NO_SUCH_ID), *UNKNOWN_OBJECT, why="no such group assignment")
        assert ids(group_assignments(admin, license_["id"])) == [made["id"]], \
            "a refused DELETE removed the group assignment"


@pytest.mark.requirement("CAT-GASG-023")
def test_group_assignment_delete_without_remove_user_assignments(objects: Objects) -> None:
    """MAY: the omitted parameter removes all (published default true) or none of the members' assignments."""
    admin = objects.admin
    ((group, members),) = _groups(objects, 1)
    license_ = _license(objects, _seats(members))
    made = setup(_assign_group(objects, license_["id"], group), "assigning a group").json()
    given = {u for u, a in _holders(admin, license_["id"]).items() if a.get("direct") is False}
    expect_status(_delete(admin, license_["id"], made["id"]), 200, why="delete without remove_user_assignments")
    assert group_assignments(admin, license_["id"]) == [], "the group assignment must be gone"
    left = given & set(_holders(admin, license_["id"]))
    assert left in (set(), given), \
        f"the omitted parameter means true (all removed) or false (all kept), not a part: kept {sorted(left)} of {sorted(given)}"
