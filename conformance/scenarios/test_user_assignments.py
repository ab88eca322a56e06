"""User license assignments: create-or-update, defaults, list order, delete, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check, needs, setup
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import every, expect_refused, expect_status, first_page, ids_of, strictly
from conformance.scenarios.licenses import CREATED, UNKNOWN_IN_BODY, UNKNOWN_OBJECT, new_assignment, new_user_license
from conformance.scenarios.paths import USER_ASSIGNMENTS
from conformance.scenarios.suggestions import UNKNOWN_ID, remember
from conformance.verdicts import need, not_verified


def _listed(admin: ApiClient, license_id: int) -> list[dict[str, Any]]:
    return every(admin, USER_ASSIGNMENTS, {"license_id": license_id})


def _license(objects: Objects, seats: int) -> dict[str, Any]:
    """A user license of `seats` seats made for the test (refused: the test is not verified)."""
    return new_user_license(objects, count=seats)


def _assigned(objects: Objects, license_id: int, user: Any, **fields: Any) -> dict[str, Any]:
    """A user license assignment the test needs as setup (refused: the test is not verified)."""
    return new_assignment(objects, "user", license_id, user, **fields)


def _created(exchange: Exchange, why: str) -> dict[str, Any]:
    """The assignment of a 200 (or 201) answer."""
    return expect_status(exchange, *CREATED, why=why).json()


@pytest.mark.smoke
@pytest.mark.requirement("CAT-UASG-001", "CAT-UASG-003", "CAT-UASG-004", "CAT-UASG-009", "CAT-UASG-010",
                         "CAT-UASG-012", "CAT-UASG-015")
def test_user_assignment_lifecycle(admin: ApiClient, objects: Objects, fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = _license(objects, 5)
    neighbour = _license(objects, 5)

    plain_answer = objects.assign("user", license_["id"], first)
    with check("CAT-UASG-004") as assigned:
        plain = _created(plain_answer, "a free seat")
        assert (plain.get("user_id"), plain.get("license_id")) == (first, license_["id"]), \
            f"the assignment must be for user {first} on license {license_['id']}; it is {plain}"
    with check("CAT-UASG-009"):
        needs(assigned)
        assert (plain.get("active"), plain.get("fulfilled")) == (True, False), \
            f"an assignment sent without active/fulfilled must be active and not fulfilled; it is {plain}"

    metadata = {"conformance": objects.ledger.run_id, "seat": 2}
    values = (False, True, metadata)
    flagged_answer = objects.assign("user", license_["id"], second, active=False, fulfilled=True, metadata=metadata,
                                    platform_org=objects.settings.org)  # the same platform as platform_key
    with check("CAT-UASG-015") as flagged_stored:
        flagged = _created(flagged_answer, "active, fulfilled and metadata sent")
        shown = (flagged.get("active"), flagged.get("fulfilled"), flagged.get("metadata"))
        assert shown == values, \
            f"the answer must carry active false, fulfilled true and the metadata sent; it shows {shown}"
    _assigned(objects, neighbour["id"], third)

    # the checks below build on both assignments existing (a refused one: not verified)
    plain = setup(plain_answer, f"assigning user {first}").json()
    flagged = setup(flagged_answer, f"assigning user {second}").json()
    listed = _listed(admin, license_["id"])
    with check("CAT-UASG-001"):
        assert sorted(item.get("user_id") for item in listed) == sorted([first, second]), \
            f"license {license_['id']}'s list must hold its own two assignments only; it holds {listed}"
        assert all(item.get("license_id") == license_["id"] for item in listed), \
            "the list of one license showed assignments of another"
        scoped = every(admin, USER_ASSIGNMENTS, {"license_id": license_["id"], "platform_key": objects.settings.platform_key,
                                                 "platform_org": objects.settings.org})
        assert sorted(ids_of(scoped)) == sorted(ids_of(listed)), \
            f"platform_key and platform_org of the license's platform must list the same assignments: {ids_of(scoped)}"
    with check("CAT-UASG-003"):
        _, page = first_page(admin, USER_ASSIGNMENTS, {"license_id": license_["id"]})
        assert ids_of(page) == sorted([plain["id"], flagged["id"]]), \
            f"without sort assignments come in ascending id order; listed {ids_of(page)}"
        strictly("asc", ids_of(page), "user license assignments without sort")
    with check("CAT-UASG-015"):
        needs(flagged_stored)
        stored = next((item for item in listed if item.get("id") == flagged["id"]), {})
        shown = (stored.get("active"), stored.get("fulfilled"), stored.get("metadata"))
        assert shown == values, \
            f"the list must show active false, fulfilled true and the metadata sent; it shows {shown}"

    with check("CAT-UASG-010"):
        again = _created(objects.assign("user", license_["id"], first, fulfilled=True), "assigning the user again")
        assert again.get("id") == plain["id"], \
            f"assigning user {first} again must update assignment {plain['id']}, not create {again.get('id')}"
        assert again.get("fulfilled") is True, f"the repeated assignment must apply fulfilled=true; it is {again}"
        after = ids_of(_listed(admin, license_["id"]))
        assert sorted(after) == sorted(ids_of(listed)), f"a repeated assignment must not add one; listed {after}"

    with check("CAT-UASG-012"):
        neighbours = ids_of(_listed(admin, neighbour["id"]))
        expect_status(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"], "assignment_id": flagged["id"],
                                                             "platform_key": objects.settings.platform_key,
                                                             "platform_org": objects.settings.org}), 200)
        remaining = ids_of(_listed(admin, license_["id"]))
        assert remaining == [plain["id"]], f"after the delete only {plain['id']} may remain; listed {remaining}"
        assert ids_of(_listed(admin, neighbour["id"])) == neighbours, "deleting on one license changed another license"


@pytest.mark.requirement("CAT-UASG-011")
def test_user_assignment_by_email(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                  settings: Settings) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    known = _assigned(objects, _license(objects, 2)["id"], user)
    email = known.get("email")
    if not (isinstance(email, str) and "@" in email):
        not_verified(f"the assignment of user {user} shows no email to address them by: {known!r}")

    license_ = _license(objects, 2)
    body = {"license_id": license_["id"], "email": email, "platform_key": settings.platform_key}
    exchange = admin.post(USER_ASSIGNMENTS, body, params={"license_id": license_["id"]})
    if exchange.status in (200, 201):
        remember(objects, "user_assignment", license_id=license_["id"], assignment_id=exchange.json()["id"])
    by_email = _created(exchange, "the user named by email")
    assert by_email.get("user_id") == user, f"the email {email} belongs to user {user}; the assignment is {by_email}"
    assert [item.get("user_id") for item in _listed(admin, license_["id"])] == [user]


@pytest.fixture
def held(objects: Objects, fixtures: Fixtures) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user license of three seats and the one assignment it holds: (license, assignment)."""
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = _license(objects, 3)
    return license_, _assigned(objects, license_["id"], user)


def _refused_post(objects: Objects, license_id: int, body: dict[str, Any], params: dict[str, Any], why: str,
                  *statuses: int) -> None:
    """POST a user assignment expected to be refused; whatever the target creates anyway is cleaned up."""
    exchange = objects.admin.post(USER_ASSIGNMENTS, {"platform_key": objects.settings.platform_key, **body},
                                  params=params)
    if exchange.status in (200, 201) and isinstance(exchange.json(), dict) and "id" in exchange.json():
        remember(objects, "user_assignment", license_id=exchange.json().get("license_id", license_id),
                 assignment_id=exchange.json()["id"])
    expect_refused(exchange, why, *statuses)


def _expect_only(admin: ApiClient, license_id: int, assignment: dict[str, Any]) -> None:
    assert ids_of(every(admin, USER_ASSIGNMENTS, {"license_id": license_id})) == [assignment["id"]], \
        "refused requests must leave the license's assignments as they were"


@pytest.mark.requirement("CAT-UASG-002", "CAT-UASG-005", "CAT-UASG-007", "CAT-UASG-008", "CAT-UASG-013",
                         "CAT-UASG-014")
def test_user_assignment_refusals(admin: ApiClient, objects: Objects, fixtures: Fixtures, settings: Settings,
                                  held: tuple[dict[str, Any], dict[str, Any]]) -> None:
    license_, assignment = held
    (user,) = need(fixtures.user_ids, 1, "user_ids")

    with check("CAT-UASG-002"):
        expect_refused(admin.get(USER_ASSIGNMENTS, params={"platform_key": settings.platform_key}),
                       "license_id is required")
    with check("CAT-UASG-005"):
        _refused_post(objects, license_["id"], {"user_id": user}, {}, "license_id is required")
        _expect_only(admin, license_["id"], assignment)
    with check("CAT-UASG-007"):
        _refused_post(objects, license_["id"], {"license_id": UNKNOWN_ID, "user_id": user},
                      {"license_id": UNKNOWN_ID}, "the license does not exist", *UNKNOWN_IN_BODY)
        _expect_only(admin, license_["id"], assignment)
    with check("CAT-UASG-008"):
        _refused_post(objects, license_["id"], {"license_id": license_["id"], "user_id": UNKNOWN_ID},
                      {"license_id": license_["id"]}, "the user does not exist", *UNKNOWN_IN_BODY)
        _expect_only(admin, license_["id"], assignment)
    with check("CAT-UASG-013"):
        expect_refused(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"]}),
                       "assignment_id is required")
        expect_refused(admin.delete(USER_ASSIGNMENTS, params={"assignment_id": assignment["id"]}),
                       "license_id is required")
        _expect_only(admin, license_["id"], assignment)
    with check("CAT-UASG-014"):
        expect_status(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"],
                                                             "assignment_id": UNKNOWN_ID}),
                      *UNKNOWN_OBJECT, why="no such assignment")
        _expect_only(admin, license_["id"], assignment)


@pytest.mark.requirement("CAT-UASG-006")
def test_user_assignment_naming_no_user_is_refused(admin: ApiClient, objects: Objects,
                                                   held: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """SHOULD: neither user_id nor email (the schema requires only license_id); 400 or 404 accepted."""
    license_, assignment = held
    _refused_post(objects, license_["id"], {"license_id": license_["id"]}, {"license_id": license_["id"]},
                  "no user named", 400, 404)
    _expect_only(admin, license_["id"], assignment)
