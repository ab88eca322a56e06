"""Program license assignments: create-or-update by user_id, email or username; list filters, order and pages;
DELETE."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios._licenses import NO_SUCH_ID, assign_raw, assignments, expect_ok, ids, unassign
from conformance.scenarios.support import PROGRAM_ASSIGNMENTS, expect_status, need, walk_pages
from conformance.verdicts import not_verified


def _users(items: list[dict[str, Any]]) -> list[Any]:
    return sorted(item.get("user_id") for item in items)


@pytest.fixture
def learned(objects: Objects, fixtures: Fixtures) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The first fixture user assigned (no active/fulfilled/direct sent) to a license of two seats:
    (the user, the license, the assignment) — the assignment shows the user's email and username."""
    (first,) = need(fixtures.user_ids, 1, "user_ids")
    learn = objects.program_license(count=2)
    return first, learn, objects.assignment("program", learn["id"], first)


@pytest.mark.smoke
@pytest.mark.requirement("CAT-PASG-003", "CAT-PASG-004", "CAT-PASG-015", "CAT-PASG-016")
def test_assign_by_user_id_or_email(objects: Objects, settings: Settings, fixtures: Fixtures,
                                    learned: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    _, learn, made = learned
    platform = settings.platform_key
    assert made.get("user_id") == first and made.get("license_id") == learn["id"], \
        f"the assignment must be for user {first} on license {learn['id']}: {made!r}"
    assert made.get("active") is True and made.get("fulfilled") is False, \
        f"without active/fulfilled an assignment is active and not fulfilled: {made!r}"
    assert made.get("direct", True) is True, f"without 'direct' an assignment is direct: {made!r}"
    other = objects.assignment("program", learn["id"], second)
    email = made.get("email")
    assert isinstance(email, str) and email, f"the assignment must show the user's email: {made!r}"

    by_email = objects.program_license(count=1)
    got = expect_ok(assign_raw(objects, by_email["id"], {"license_id": by_email["id"], "email": email,
                                                         "platform_key": platform}), "assign by email")
    assert got.get("user_id") == first, f"assigning {email!r} must assign user {first}: {got!r}"
    assert _users(assignments(objects.admin, by_email["id"])) == [first]
    assert other.get("user_id") == second


@pytest.mark.requirement("CAT-PASG-020")
def test_assign_by_username(objects: Objects, settings: Settings,
                            learned: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    """SHOULD: the username (as the assignment shows it) names the user instead of user_id."""
    first, _, made = learned
    username = made.get("username")
    if not (isinstance(username, str) and username):
        not_verified(f"the assignment of user {first} shows no username to assign by: {made!r}")
    by_username = objects.program_license(count=1)
    got = expect_ok(assign_raw(objects, by_username["id"], {"license_id": by_username["id"], "username": username,
                                                            "platform_key": settings.platform_key}),
                    "assign by username")
    assert got.get("user_id") == first, f"assigning username {username!r} must assign user {first}: {got!r}"


@pytest.mark.requirement("CAT-PASG-017")
def test_user_id_takes_precedence_over_email(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    learn = objects.program_license(count=1)
    email = objects.assignment("program", learn["id"], first).get("email")
    assert isinstance(email, str) and email, "the assignment must show the user's email"
    both = objects.program_license(count=1)
    got = expect_ok(assign_raw(objects, both["id"], {"license_id": both["id"], "user_id": second, "email": email,
                                                     "platform_key": settings.platform_key}),
                    "user_id and email both sent")
    assert got.get("user_id") == second, \
        f"user_id {second} takes precedence over the email of user {first}: the assignment went to {got.get('user_id')!r}"
    assert _users(assignments(objects.admin, both["id"])) == [second]


@pytest.mark.requirement("CAT-PASG-018")
def test_assign_by_an_email_of_no_user(objects: Objects, settings: Settings, run_id: str) -> None:
    license_ = objects.program_license(count=1)
    email = f"conformance-{run_id}-nobody@example.com"
    answer = assign_raw(objects, license_["id"], {"license_id": license_["id"], "email": email,
                                                  "platform_key": settings.platform_key})
    expect_status(answer, 200, 404, why="an email-only assignment (200) or 'user doesn't exist' (404)")
    if answer.status == 200:
        got = answer.json()
        for field in ("user_id", "username", "name"):
            assert got.get(field) is None, f"an email-only assignment has {field} null: {got!r}"
        assert got.get("email") == email
    else:
        assert assignments(objects.admin, license_["id"]) == [], "a refused assignment was created"


@pytest.mark.requirement("CAT-PASG-019", "CAT-PASG-025")
def test_assigning_again_updates_the_assignment(objects: Objects, fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = objects.program_license(count=2)
    values = {"active": False, "fulfilled": True, "redirect_to": "https://example.com/conformance/next",
              "metadata": {"conformance": "assignment", "n": 1}}
    made = objects.assignment("program", license_["id"], user, **values)
    for field, value in values.items():
        assert made.get(field) == value, f"{field} sent as {value!r} is {made.get(field)!r} in the answer"
    (listed,) = assignments(objects.admin, license_["id"])
    for field, value in values.items():
        assert listed.get(field) == value, f"{field} sent as {value!r} is {listed.get(field)!r} in the list"

    changed = {"active": True, "fulfilled": False, "metadata": {"conformance": "updated"}}
    again = expect_ok(objects.assign("program", license_["id"], user, **changed), "assign the same user again")
    assert again.get("id") == made["id"], f"assigning again must update #{made['id']}, not create #{again.get('id')}"
    listed_now = assignments(objects.admin, license_["id"])
    assert ids(listed_now) == [made["id"]], f"one assignment for the user, listed: {ids(listed_now)}"
    for field, value in changed.items():
        assert listed_now[0].get(field) == value, f"{field} was not updated to {value!r}: {listed_now[0]!r}"


@pytest.mark.requirement("CAT-PASG-011", "CAT-PASG-012", "CAT-PASG-013", "CAT-PASG-014")
def test_assignment_create_refusals(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    platform = settings.platform_key
    license_ = objects.program_license(count=3)
    expect_status(assign_raw(objects, None, {"user_id": user, "platform_key": platform}), 400,
                  why="license_id missing from the body and the query")
    expect_status(assign_raw(objects, license_["id"], {"license_id": license_["id"], "platform_key": platform}), 400,
                  why="no user_id, username or email")
    expect_status(assign_raw(objects, NO_SUCH_ID, {"license_id": NO_SUCH_ID, "user_id": user, "platform_key": platform}),
                  404, why="a license that does not exist")
    expect_status(assign_raw(objects, license_["id"], {"license_id": license_["id"], "user_id": NO_SUCH_ID,
                                                       "platform_key": platform}), 404, why="a user that does not exist")
    assert assignments(objects.admin, license_["id"]) == [], "refused assignments must create nothing"


@pytest.fixture
def populated(objects: Objects, fixtures: Fixtures) -> dict[str, Any]:
    """A license with three assignments (plain; fulfilled; inactive) and a second license with one."""
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = objects.program_license(count=5)
    other = objects.program_license(count=5)
    made = [objects.assignment("program", license_["id"], first),
            objects.assignment("program", license_["id"], second, fulfilled=True),
            objects.assignment("program", license_["id"], third, active=False)]
    foreign = objects.assignment("program", other["id"], first)
    return {"license": license_, "other": other, "made": made, "foreign": foreign, "users": (first, second, third)}


@pytest.mark.requirement("CAT-PASG-001", "CAT-PASG-002", "CAT-PASG-006", "CAT-PASG-007", "CAT-PASG-008",
                         "CAT-PASG-009")
def test_assignment_list_filters(admin: ApiClient, populated: dict[str, Any]) -> None:
    license_id = populated["license"]["id"]
    first, second, third = populated["users"]
    plain, fulfilled, inactive = populated["made"]
    listed = assignments(admin, license_id)
    assert sorted(ids(listed)) == sorted(ids(populated["made"])), \
        f"the list of license {license_id} must hold exactly its three assignments: {ids(listed)}"
    assert all(a.get("license_id") == license_id for a in listed), "assignments of another license were listed"
    expect_status(admin.get(PROGRAM_ASSIGNMENTS), 400, why="license_id is required")

    assert ids(assignments(admin, license_id, user_id=second)) == [fulfilled["id"]], "user_id narrows to that user"
    email = fulfilled.get("email")
    assert ids(assignments(admin, license_id, email=email)) == [fulfilled["id"]], f"email={email} narrows to that user"
    assert sorted(ids(assignments(admin, license_id, active=True))) == sorted([plain["id"], fulfilled["id"]]), \
        "active=true lists the active assignments"
    assert ids(assignments(admin, license_id, active=False)) == [inactive["id"]], "active=false lists the inactive one"
    assert ids(assignments(admin, license_id, fulfilled=True)) == [fulfilled["id"]], "fulfilled=true"
    assert sorted(ids(assignments(admin, license_id, fulfilled=False))) == sorted([plain["id"], inactive["id"]]), \
        "fulfilled=false lists the pending assignments"
    assert first != third


@pytest.mark.requirement("CAT-PASG-010", "GEN-PAGE-012")
def test_assignment_list_order_and_pages(admin: ApiClient, populated: dict[str, Any]) -> None:
    license_id = populated["license"]["id"]
    default = ids(assignments(admin, license_id))
    assert default == sorted(default), f"without sort assignments come in ascending id order: {default}"
    assert ids(assignments(admin, license_id, sort="-id")) == sorted(default, reverse=True), "sort=-id is descending"
    walked = ids(list(walk_pages(admin, PROGRAM_ASSIGNMENTS, {"license_id": license_id, "page_size": 1})))
    assert walked == default, f"pages of one assignment must yield each once, in order: {walked}"
    page = expect_status(admin.get(PROGRAM_ASSIGNMENTS, params={"license_id": license_id, "page_size": 2}), 200).json()
    assert page.get("count") == 3 and len(page.get("results", [])) == 2, \
        f"count 3 and two results on a page of 2: count {page.get('count')!r}, {len(page.get('results', []))} results"


@pytest.mark.requirement("CAT-PASG-024")
def test_unassign_naming_another_licenses_assignment(admin: ApiClient, populated: dict[str, Any]) -> None:
    license_id, other_id = populated["license"]["id"], populated["other"]["id"]
    foreign = populated["foreign"]
    expect_status(unassign(admin, license_id, foreign["id"]), 404, why="the assignment belongs to another license")
    assert foreign["id"] in ids(assignments(admin, other_id)), "a refused DELETE removed another license's assignment"


@pytest.mark.requirement("CAT-PASG-005", "CAT-PASG-021", "CAT-PASG-022", "CAT-PASG-023")
def test_unassign(admin: ApiClient, populated: dict[str, Any]) -> None:
    license_id = populated["license"]["id"]
    plain = populated["made"][0]

    expect_status(admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_id}), 400,
                  why="assignment_id is required")
    expect_status(admin.delete(PROGRAM_ASSIGNMENTS, params={"assignment_id": plain["id"]}), 400,
                  why="license_id is required")
    assert plain["id"] in ids(assignments(admin, license_id)), "a refused DELETE removed an assignment"

    expect_status(unassign(admin, license_id, plain["id"]), 200, why="unassigning one user")
    remaining = ids(assignments(admin, license_id))
    assert plain["id"] not in remaining, f"the deleted assignment is still listed: {remaining}"
    assert len(remaining) == 2, f"only the named assignment is removed; left: {remaining}"
    expect_status(unassign(admin, license_id, plain["id"]), 404, why="the assignment no longer exists")
    expect_status(unassign(admin, license_id, NO_SUCH_ID), 404, why="no such assignment")
