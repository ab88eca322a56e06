"""Seat accounting on program licenses: count bounds the assignments, unassigning frees a seat."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.config import Fixtures
from conformance.scenarios.answers import expect_client_error, expect_status, walk_pages
from conformance.scenarios.licenses import (
    CREATED,
    assignments,
    check_usage,
    group_members,
    new_assignment,
    new_program_license,
    new_user_license,
    prepared,
    suite_groups,
    the_license,
)
from conformance.scenarios.paths import (
    GROUP_ASSIGNMENTS,
    PROGRAM_ASSIGNMENTS,
    PROGRAM_LICENSE_UPDATE,
    PROGRAM_LICENSES,
    USER_ASSIGNMENTS,
)
from conformance.verdicts import need, not_verified


class Seats:
    """Assign, unassign and read back one license's seats."""

    def __init__(self, objects: Objects, license_: dict[str, Any]) -> None:
        self.objects, self.admin, self.settings, self.license = objects, objects.admin, objects.settings, license_

    def assign(self, user_id: int) -> Any:
        return self.objects.assign("program", self.license["id"], user_id)

    def unassign(self, assignment_id: int) -> Any:
        return self.admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": self.license["id"],
                                                              "assignment_id": assignment_id})

    def assigned_users(self) -> list[Any]:
        items = walk_pages(self.admin, PROGRAM_ASSIGNMENTS, {"license_id": self.license["id"]})
        return sorted(item.get("user_id") for item in items)

    def usage_count(self) -> int:
        params = {"platform_key": self.settings.platform_key, "external_id": self.license["external_id"]}
        found = [item for item in walk_pages(self.admin, PROGRAM_LICENSES, params) if item["id"] == self.license["id"]]
        assert len(found) == 1, f"license {self.license['id']} must be listed once when filtered by its external_id"
        return int(found[0]["usage_count"])

    def expect(self, users: list[int], step: str) -> None:
        assigned = self.assigned_users()
        assert assigned == sorted(users), f"{step}: the assignment list holds users {assigned}, expected {sorted(users)}"
        usage = self.usage_count()
        assert usage == len(users), f"{step}: usage_count is {usage}, but {len(users)} assignment(s) exist"


def _unassigned(exchange: Any, why: str) -> Any:
    """An unassign the test needs as setup: 200 (published), or another 2xx (204 No Content)."""
    return setup(exchange, why, 200, 204)


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SEAT-001", "CAT-SEAT-002", "CAT-SEAT-003", "CAT-PASG-005")
def test_unassigning_frees_a_seat(objects: Objects, fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    seats = Seats(objects, new_program_license(objects, count=2))
    held = setup(seats.assign(first), "assigning a free seat", *CREATED).json()
    setup(seats.assign(second), "assigning the last free seat", *CREATED)
    with check("CAT-SEAT-001") as counted:
        seats.expect([first, second], "after filling the license")

    with check("CAT-SEAT-002") as refused:
        needs(counted)
        expect_client_error(seats.assign(third), "every seat of the license is taken")
        seats.expect([first, second], "after the refused assignment")

    unassigned = seats.unassign(held["id"])
    with check("CAT-PASG-005"):
        expect_status(unassigned, 200, why="unassigning a single user")
    _unassigned(unassigned, "unassigning a single user")
    with check("CAT-SEAT-001"):
        needs(counted)
        seats.expect([second], "after unassigning")

    with check("CAT-SEAT-003"):
        needs(refused)
        expect_status(seats.assign(third), *CREATED, why="the seat freed by the unassign")
        seats.expect([second, third], "after reusing the freed seat")
        check_usage(seats.admin, seats.settings, seats.license, "after reusing the freed seat")


@pytest.mark.requirement("CAT-SEAT-001", "CAT-SEAT-005", "CAT-LICLIST-015")
def test_assigning_the_same_user_twice_takes_one_seat(objects: Objects, fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = new_program_license(objects, count=2)
    admin, settings = objects.admin, objects.settings
    held = new_assignment(objects, "program", license_["id"], first)
    with check("CAT-SEAT-001") as counted:
        Seats(objects, license_).expect([first], "after the first assignment")
    with check("CAT-LICLIST-015"):
        check_usage(admin, settings, license_, "after the first assignment")

    again = objects.assign("program", license_["id"], first, fulfilled=True)
    with check("CAT-SEAT-005") as one_seat:
        needs(counted)
        expect_status(again, *CREATED, why="assigning the same user again updates the assignment")
        assert again.json().get("id") == held["id"], \
            f"the second assignment must update #{held['id']}, it answered #{again.json().get('id')}"
        Seats(objects, license_).expect([first], "after assigning the same user again")

    with check("CAT-SEAT-005"):
        needs(one_seat)
        expect_status(objects.assign("program", license_["id"], second), *CREATED,
                      why="the second seat is still free after assigning one user twice")
        Seats(objects, license_).expect([first, second], "after filling the license")


@pytest.mark.requirement("CAT-SEAT-004")
def test_count_cannot_drop_below_the_active_assignments(objects: Objects, fixtures: Fixtures) -> None:
    """MUST: "If count is reduced, it must not be less than the number of active assignments"."""
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = new_program_license(objects, count=3)
    admin, settings = objects.admin, objects.settings
    for user in (first, second):
        new_assignment(objects, "program", license_["id"], user)
    refused = admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "count": 1})
    expect_client_error(refused, "count below the number of active assignments (2)")
    shown = the_license(admin, settings, license_)
    assert shown.get("count") == 3, f"the refused update changed count to {shown.get('count')!r}"
    lowered = expect_status(admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "count": 2}),
                            *CREATED, why="count equal to the number of active assignments is allowed").json()
    assert lowered.get("count") == 2, f"count 2 (the active assignments) must be applied: {lowered.get('count')!r}"


def _user_seats(objects: Objects, license_: dict[str, Any]) -> tuple[list[Any], Any]:
    """(the users holding an assignment on a user license, sorted; its usage_count, None when not shown)."""
    listed = walk_pages(objects.admin, USER_ASSIGNMENTS, {"license_id": license_["id"]})
    shown = the_license(objects.admin, objects.settings, license_, kind="user")
    return sorted(a.get("user_id") for a in listed), shown.get("usage_count")


def _expect_user_holders(users: list[Any], holders: list[Any], step: str) -> None:
    assert holders == sorted(users), f"{step}: the user assignment list holds {holders}, expected {sorted(users)}"


@pytest.mark.requirement("CAT-SEAT-007")
def test_user_license_seats(objects: Objects, fixtures: Fixtures) -> None:
    """MUST: usage_count (when shown) follows every assign and unassign of a user license."""
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = new_user_license(objects, count=2)

    def expect_usage(users: list[int], step: str) -> None:
        holders, usage = _user_seats(objects, license_)
        _expect_user_holders(users, holders, step)
        if usage is not None:
            assert usage == len(users), f"{step}: usage_count {usage} != {len(users)}"

    expect_usage([], "a new user license")
    held = new_assignment(objects, "user", license_["id"], first)
    expect_usage([first], "after one assignment")
    new_assignment(objects, "user", license_["id"], second)
    expect_usage([first, second], "after filling the license")
    _unassigned(objects.admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"],
                                                               "assignment_id": held["id"]}),
                "unassigning a user license")
    expect_usage([second], "after unassigning")


@pytest.mark.requirement("CAT-SEAT-008")
def test_user_license_assignment_beyond_count_is_refused(objects: Objects, fixtures: Fixtures) -> None:
    """SHOULD: with every seat taken another assignment is refused (4xx) and creates nothing; usage_count (when
    shown) is compared with its value before the refusal, so a miscounting server (CAT-SEAT-007) is not blamed here."""
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = new_user_license(objects, count=2)
    for user in (first, second):
        new_assignment(objects, "user", license_["id"], user)
    _, before = _user_seats(objects, license_)
    expect_client_error(objects.assign("user", license_["id"], third), "every seat of the user license is taken")
    holders, after = _user_seats(objects, license_)
    _expect_user_holders([first, second], holders, "after the refused assignment")
    assert after == before, f"after the refused assignment: usage_count {after} (it was {before} before)"


def _largest_group(objects: Objects, fixtures: Fixtures) -> tuple[int, set[int]]:
    """A group of at least 2 members, as the target lists them: the suite's own, else the fixture group with the most
    members (its id, its members' user ids)."""
    made = suite_groups(objects, 1)
    if made:
        return made[0]
    admin, settings = objects.admin, objects.settings
    sizes = {group: group_members(admin, settings, group) for group in need(fixtures.group_ids, 1, "group_ids")}
    group = max(sizes, key=lambda g: len(sizes[g]))
    if len(sizes[group]) < 2:
        not_verified(f"needs a fixture group with at least 2 members (group {group} has {len(sizes[group])})")
    return group, sizes[group]


@pytest.mark.requirement("CAT-SEAT-009", "CAT-SEAT-011", "CAT-SEAT-001")
def test_group_assignment_never_oversubscribes(objects: Objects, fixtures: Fixtures) -> None:
    admin, settings = objects.admin, objects.settings
    group, members = _largest_group(objects, fixtures)

    roomy = new_program_license(objects, count=len(members) + 1)
    prepared("assigning a group to a license with a seat for every member", objects.group_assignment,
             roomy["id"], group)
    with check("CAT-SEAT-001"):
        check_usage(admin, settings, roomy, "a group assignment with seats for every member")
    with check("CAT-SEAT-011"):
        shown = the_license(admin, settings, roomy)
        holders = {a.get("user_id") for a in assignments(admin, roomy["id"])}
        assert members <= holders, f"every member must hold an assignment; missing {sorted(members - holders)}"
        assert shown.get("usage_count") == len(holders), \
            f"the members' assignments count in usage_count: {shown.get('usage_count')} for {len(holders)} holders"

    tight = new_program_license(objects, count=len(members) - 1)
    answer = admin.post(GROUP_ASSIGNMENTS, {"license_id": tight["id"], "group_id": group,
                                            "platform_key": settings.platform_key}, params={"license_id": tight["id"]})
    if answer.status in CREATED:
        objects._record("group_assignment", license_id=tight["id"], assignment_id=answer.json()["id"])
    with check("CAT-SEAT-009"):
        if answer.status not in CREATED:
            expect_client_error(answer, "the group does not fit the license (all-or-nothing reading)")
            assert assignments(admin, tight["id"]) == [], "a refused group assignment must create no user assignment"
        shown = the_license(admin, settings, tight)
        held = assignments(admin, tight["id"])
        assert shown.get("usage_count") == len(held), \
            f"usage_count {shown.get('usage_count')} must equal the {len(held)} assignments of the license"
        assert len(held) <= tight["count"], \
            f"a group of {len(members)} on a license of {tight['count']} seats made {len(held)} assignments"
