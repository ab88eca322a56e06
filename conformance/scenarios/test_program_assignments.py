"""Program license assignments: create-or-update by user_id, email or username; list filters, order and pages;
DELETE."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_ok, expect_status, walk_pages
from conformance.scenarios.licenses import (
    CREATED,
    NO_SUCH_ID,
    UNKNOWN_IN_BODY,
    UNKNOWN_OBJECT,
    assign_raw,
    assignments,
    ids,
    new_assignment,
    new_program_license,
    unassign,
)
from conformance.scenarios.paths import PROGRAM_ASSIGNMENTS
from conformance.verdicts import need, not_verified


def _users(items: list[dict[str, Any]]) -> list[Any]:
    return sorted(item.get("user_id") for item in items)


def _license(objects: Objects, seats: int) -> dict[str, Any]:
    """A program license of `seats` seats made for the test (refused: the test is not verified)."""
    return new_program_license(objects, count=seats)


def _assigned(objects: Objects, license_id: int, user: Any, **fields: Any) -> dict[str, Any]:
    """An assignment the test needs as setup (refused: the test is not verified)."""
    return new_assignment(objects, "program", license_id, user, **fields)


def _email(assignment: dict[str, Any]) -> str:
    """The user's email as an assignment shows it (none: not verified, the user may have no email)."""
    email = assignment.get("email")
    if not (isinstance(email, str) and email):
        not_verified(f"the assignment of user {assignment.get('user_id')} shows no email: {assignment!r}")
    return email


@pytest.fixture
def learned(objects: Objects, fixtures: Fixtures) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The first fixture user assigned (no active/fulfilled/direct sent) to a license of two seats:
    (the user, the license, the assignment) -- the assignment shows the user's email and username."""
    (first,) = need(fixtures.user_ids, 1, "user_ids")
    learn = _license(objects, 2)
    return first, learn, _assigned(objects, learn["id"], first)


@pytest.mark.smoke
@pytest.mark.requirement("CAT-PASG-003", "CAT-PASG-004", "CAT-PASG-015", "CAT-PASG-016")
def test_assign_by_user_id_or_email(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    license_ = _license(objects, 3)
    answer = objects.assign("program", license_["id"], first)
    with check("CAT-PASG-003") as assigned:
        made = expect_ok(answer, "assign by user_id")
        assert made.get("user_id") == first and made.get("license_id") == license_["id"], \
            f"the assignment must be for user {first} on license {license_['id']}: {made!r}"
        other = expect_ok(objects.assign("program", license_["id"], second), "assign a second user by user_id")
        assert other.get("user_id") == second, f"the assignment must be for user {second}: {other!r}"
        assert _users(assignments(objects.admin, license_["id"])) == sorted([first, second])
    made = answer.json() if assigned.held else {}
    with check("CAT-PASG-015"):
        needs(assigned)
        assert made.get("active") is True and made.get("fulfilled") is False, \
            f"without active/fulfilled an assignment is active and not fulfilled: {made!r}"
    with check("CAT-PASG-016"):
        needs(assigned)
        assert made.get("direct", True) is True, f"without 'direct' an assignment is direct: {made!r}"
    with check("CAT-PASG-004"):
        needs(assigned)
        email = _email(made)
        by_email = _license(objects, 1)
        got = expect_ok(assign_raw(objects, by_email["id"], {"license_id": by_email["id"], "email": email,
                                                             "platform_key": settings.platform_key}), "assign by email")
        assert got.get("user_id") == first, f"assigning {email!r} must assign user {first}: {got!r}"
        assert _users(assignments(objects.admin, by_email["id"])) == [first]


@pytest.mark.requirement("CAT-PASG-020")
def test_assign_by_username(objects: Objects, settings: Settings,
                            learned: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    """SHOULD: the username (as the assignment shows it) names the user instead of user_id; a refusal (400) is
    the other documented reading ("Either user_id or email must be provided")."""
    first, _, made = learned
    username = made.get("username")
    if not (isinstance(username, str) and username):
        not_verified(f"the assignment of user {first} shows no username to assign by: {made!r}")
    by_username = _license(objects, 1)
    answer = assign_raw(objects, by_username["id"], {"license_id": by_username["id"], "username": username,
                                                     "platform_key": settings.platform_key})
    expect_status(answer, *CREATED, 400, why="assigned to the user named (200) or neither user_id nor email (400)")
    if answer.status == 400:
        assert assignments(objects.admin, by_username["id"]) == [], "a refused assignment was created"
        return
    got = answer.json()
    assert got.get("user_id") == first, f"assigning username {username!r} must assign user {first}: {got!r}"


@pytest.mark.requirement("CAT-PASG-017")
def test_user_id_takes_precedence_over_email(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    first, second = need(fixtures.user_ids, 2, "user_ids")
    learn = _license(objects, 1)
    email = _email(_assigned(objects, learn["id"], first))
    both = _license(objects, 1)
    got = expect_ok(assign_raw(objects, both["id"], {"license_id": both["id"], "user_id": second, "email": email,
                                                     "platform_key": settings.platform_key}),
                    "user_id and email both sent")
    assert got.get("user_id") == second, \
        f"user_id {second} takes precedence over the email of user {first}: the assignment went to {got.get('user_id')!r}"
    assert _users(assignments(objects.admin, both["id"])) == [second]


@pytest.mark.requirement("CAT-PASG-018")
def test_assign_by_an_email_of_no_user(objects: Objects, settings: Settings, run_id: str) -> None:
    """SHOULD: an email-only assignment (200/201), or "user doesn't exist" (404; 403/400: forbidden-unknown)."""
    license_ = _license(objects, 1)
    email = f"conformance-{run_id}-nobody@example.com"
    answer = assign_raw(objects, license_["id"], {"license_id": license_["id"], "email": email,
                                                  "platform_key": settings.platform_key})
    expect_status(answer, *CREATED, *UNKNOWN_IN_BODY,
                  why="an email-only assignment (200) or 'user doesn't exist' (404; 403 or 400 in other readings)")
    if answer.status in UNKNOWN_IN_BODY:
        assert assignments(objects.admin, license_["id"]) == [], "a refused assignment was created"
        return
    got = answer.json()
    for field in ("user_id", "username", "name"):
        assert got.get(field) is None, f"an email-only assignment has {field} null: {got!r}"
    assert got.get("email") == email, f"the email-only assignment must carry the email {email!r}: {got!r}"


def _shows(assignment: dict[str, Any], values: dict[str, Any], where: str) -> None:
    """The assignment carries the values sent (metadata: every key sent, so a merge is accepted too)."""
    for field, value in values.items():
        shown = assignment.get(field)
        if field == "metadata" and isinstance(shown, dict):
            shown = {key: shown.get(key) for key in value}
        assert shown == value, f"{field} sent as {value!r} is {assignment.get(field)!r} in {where}"


@pytest.mark.requirement("CAT-PASG-019", "CAT-PASG-025")
def test_assigning_again_updates_the_assignment(objects: Objects, fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = _license(objects, 2)
    values = {"active": False, "fulfilled": True, "redirect_to": "https://example.com/conformance/next",
              "metadata": {"conformance": "assignment", "n": 1}}
    # direct (published default true) and platform_org (the same platform as platform_key) are sent too
    answer = objects.assign("program", license_["id"], user, direct=True, platform_org=objects.settings.org, **values)
    with check("CAT-PASG-025"):
        made = expect_ok(answer, "assign with active, fulfilled, redirect_to, metadata, direct and platform_org")
        for field, value in values.items():
            assert made.get(field) == value, f"{field} sent as {value!r} is {made.get(field)!r} in the answer"
        (listed,) = assignments(objects.admin, license_["id"])
        for field, value in values.items():
            assert listed.get(field) == value, f"{field} sent as {value!r} is {listed.get(field)!r} in the list"
        for where, shown in (("the answer", made), ("the list", listed)):  # direct is not a required answer field
            assert shown.get("direct", True) is True, f"direct sent as true is {shown.get('direct')!r} in {where}"

    with check("CAT-PASG-019"):
        made = setup(answer, "assigning the user a first time").json()
        changed = {"active": True, "fulfilled": False, "metadata": {"conformance": "updated"}}
        again = expect_ok(objects.assign("program", license_["id"], user, **changed), "assign the same user again")
        assert again.get("id") == made["id"], f"assigning again must update #{made['id']}, not create #{again.get('id')}"
        listed_now = assignments(objects.admin, license_["id"])
        assert ids(listed_now) == [made["id"]], f"one assignment for the user, listed: {ids(listed_now)}"
        _shows(listed_now[0], changed, "the list after assigning again")


@pytest.mark.requirement("CAT-PASG-011", "CAT-PASG-012", "CAT-PASG-013", "CAT-PASG-014")
def test_assignment_create_refusals(objects: Objects, settings: Settings, fixtures: Fixtures) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    platform = settings.platform_key
    license_ = _license(objects, 3)

    def nothing_created() -> None:
        assert assignments(objects.admin, license_["id"]) == [], "refused assignments must create nothing"

    with check("CAT-PASG-011"):
        expect_status(assign_raw(objects, None, {"user_id": user, "platform_key": platform}), 400,
                      why="license_id missing from the body and the query")
        nothing_created()
    with check("CAT-PASG-012"):
        expect_status(assign_raw(objects, license_["id"], {"license_id": license_["id"], "platform_key": platform}),
                      400, why="no user_id, username or email")
        nothing_created()
    with check("CAT-PASG-013"):
        expect_status(assign_raw(objects, NO_SUCH_ID, {"license_id": NO_SUCH_ID, "user_id": user,
                                                       "platform_key": platform}),
                      *UNKNOWN_IN_BODY, why="a license that does not exist")
        nothing_created()
    with check("CAT-PASG-014"):
        expect_status(assign_raw(objects, license_["id"], {"license_id": license_["id"], "user_id": NO_SUCH_ID,
                                                           "platform_key": platform}),
                      *UNKNOWN_IN_BODY, why="a user that does not exist")
        nothing_created()


@pytest.fixture
def populated(objects: Objects, fixtures: Fixtures) -> dict[str, Any]:
    """A license with three assignments (plain; fulfilled; inactive) and a second license with one."""
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = _license(objects, 5)
    other = _license(objects, 5)
    made = [_assigned(objects, license_["id"], first),
            _assigned(objects, license_["id"], second, fulfilled=True),
            _assigned(objects, license_["id"], third, active=False)]
    foreign = _assigned(objects, other["id"], first)
    return {"license": license_, "other": other, "made": made, "foreign": foreign, "users": (first, second, third)}


@pytest.mark.requirement("CAT-PASG-001", "CAT-PASG-002", "CAT-PASG-006", "CAT-PASG-007", "CAT-PASG-008",
                         "CAT-PASG-009")
def test_assignment_list_filters(admin: ApiClient, populated: dict[str, Any], settings: Settings) -> None:
    license_id = populated["license"]["id"]
    second = populated["users"][1]
    plain, fulfilled, inactive = populated["made"]
    with check("CAT-PASG-001"):
        listed = assignments(admin, license_id)
        assert sorted(ids(listed)) == sorted(ids(populated["made"])), \
            f"the list of license {license_id} must hold exactly its three assignments: {ids(listed)}"
        assert all(a.get("license_id") == license_id for a in listed), "assignments of another license were listed"
        # platform_key and platform_org naming the license's own platform keep the list as it is
        scoped = assignments(admin, license_id, platform_key=settings.platform_key, platform_org=settings.org)
        assert sorted(ids(scoped)) == sorted(ids(listed)), \
            f"platform_key and platform_org of the license's platform must list the same assignments: {ids(scoped)}"
    with check("CAT-PASG-002"):
        expect_status(admin.get(PROGRAM_ASSIGNMENTS), 400, why="license_id is required")
    with check("CAT-PASG-006"):
        assert ids(assignments(admin, license_id, user_id=second)) == [fulfilled["id"]], "user_id narrows to that user"
    with check("CAT-PASG-007"):
        email = _email(fulfilled)
        assert ids(assignments(admin, license_id, email=email)) == [fulfilled["id"]], \
            f"email={email} narrows to that user"
    with check("CAT-PASG-008"):
        assert sorted(ids(assignments(admin, license_id, active=True))) == sorted([plain["id"], fulfilled["id"]]), \
            "active=true lists the active assignments"
        assert ids(assignments(admin, license_id, active=False)) == [inactive["id"]], \
            "active=false lists the inactive one"
    with check("CAT-PASG-009"):
        assert ids(assignments(admin, license_id, fulfilled=True)) == [fulfilled["id"]], "fulfilled=true"
        assert sorted(ids(assignments(admin, license_id, fulfilled=False))) == sorted([plain["id"], inactive["id"]]), \
            "fulfilled=false lists the pending assignments"


@pytest.mark.requirement("CAT-PASG-010", "GEN-PAGE-012")
def test_assignment_list_order_and_pages(admin: ApiClient, populated: dict[str, Any]) -> None:
    license_id = populated["license"]["id"]
    made = sorted(ids(populated["made"]))
    with check("CAT-PASG-010"):
        default = ids(assignments(admin, license_id))
        assert default == made, f"without sort assignments come in ascending id order: {default}"
        walked = ids(list(walk_pages(admin, PROGRAM_ASSIGNMENTS, {"license_id": license_id, "page_size": 1})))
        assert walked == made, f"pages of one assignment must yield each once, in ascending id order: {walked}"
        page = expect_status(admin.get(PROGRAM_ASSIGNMENTS, params={"license_id": license_id, "page_size": 2}),
                             200).json()
        assert page.get("count") == 3 and ids(page.get("results", [])) == made[:2], \
            f"count 3 and the two lowest ids on a page of 2: count {page.get('count')!r}, {ids(page.get('results', []))}"
    with check("GEN-PAGE-012"):
        descending = ids(assignments(admin, license_id, sort="-id"))
        assert descending == sorted(made, reverse=True), f"sort=-id is descending: {descending}"
        ascending = ids(assignments(admin, license_id, sort="id"))
        assert ascending == made, f"sort=id is ascending: {ascending}"


@pytest.mark.requirement("CAT-PASG-024")
def test_unassign_naming_another_licenses_assignment(admin: ApiClient, populated: dict[str, Any]) -> None:
    """SHOULD: the assignment does not exist on the license named (404; 403 reading forbidden-unknown)."""
    license_id, other_id = populated["license"]["id"], populated["other"]["id"]
    foreign = populated["foreign"]
    expect_status(unassign(admin, license_id, foreign["id"]), *UNKNOWN_OBJECT,
                  why="the assignment belongs to another license")
    assert foreign["id"] in ids(assignments(admin, other_id)), "a refused DELETE removed another license's assignment"


@pytest.mark.requirement("CAT-PASG-005", "CAT-PASG-021", "CAT-PASG-022", "CAT-PASG-023")
def test_unassign(admin: ApiClient, populated: dict[str, Any], settings: Settings) -> None:
    license_id = populated["license"]["id"]
    plain = populated["made"][0]
    others = sorted(ids(populated["made"][1:]))

    with check("CAT-PASG-021"):
        expect_status(admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_id}), 400,
                      why="assignment_id is required")
        expect_status(admin.delete(PROGRAM_ASSIGNMENTS, params={"assignment_id": plain["id"]}), 400,
                      why="license_id is required")
        assert plain["id"] in ids(assignments(admin, license_id)), "a refused DELETE removed an assignment"

    # the platform named by platform_key and platform_org too (both are parameters of the published DELETE)
    answer = admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_id, "assignment_id": plain["id"],
                                                       "platform_key": settings.platform_key, "platform_org": settings.org})
    with check("CAT-PASG-005") as unassigned:
        expect_status(answer, 200, why="unassigning one user")
    with check("CAT-PASG-023"):
        needs(unassigned)
        remaining = sorted(ids(assignments(admin, license_id)))
        assert plain["id"] not in remaining, f"the deleted assignment is still listed: {remaining}"
        assert remaining == others, f"only the named assignment is removed; left: {remaining}"
    with check("CAT-PASG-022"):
        needs(unassigned)
        expect_status(unassign(admin, license_id, plain["id"]), *UNKNOWN_OBJECT, why="the assignment no longer exists")
        expect_status(unassign(admin, license_id, NO_SUCH_ID), *UNKNOWN_OBJECT, why="no such assignment")
