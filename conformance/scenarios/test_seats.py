"""Seat accounting on program licenses: count bounds the assignments, unassigning frees a seat."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.config import Fixtures
from conformance.scenarios.support import (
    PROGRAM_ASSIGNMENTS,
    PROGRAM_LICENSES,
    expect_client_error,
    expect_status,
    need,
    walk_pages,
)


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


@pytest.mark.smoke
@pytest.mark.requirement("CAT-SEAT-001", "CAT-SEAT-002", "CAT-SEAT-003", "CAT-PASG-005")
def test_unassigning_frees_a_seat(objects: Objects, fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    seats = Seats(objects, objects.program_license(count=2))
    seats.expect([], "a new license")

    held = expect_status(seats.assign(first), 200, 201, why="a free seat").json()
    seats.expect([first], "after the first assignment")
    expect_status(seats.assign(second), 200, 201, why="the last free seat")
    seats.expect([first, second], "after filling the license")

    expect_client_error(seats.assign(third), "every seat of the license is taken")
    seats.expect([first, second], "after the refused assignment")

    expect_status(seats.unassign(held["id"]), 200, why="unassigning a single user")
    seats.expect([second], "after unassigning")

    expect_status(seats.assign(third), 200, 201, why="the freed seat")
    seats.expect([second, third], "after reusing the freed seat")
