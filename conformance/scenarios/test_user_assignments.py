"""User license assignments: create-or-update, defaults, list order, delete, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios._sugcred_helpers import (
    UNKNOWN_ID,
    USER_ASSIGNMENTS,
    every,
    expect_refused,
    first_page,
    ids_of,
    remember,
    strictly,
)
from conformance.scenarios.support import expect_status, need


def _listed(admin: ApiClient, license_id: int) -> list[dict[str, Any]]:
    return every(admin, USER_ASSIGNMENTS, {"license_id": license_id})


@pytest.mark.smoke
@pytest.mark.requirement("CAT-UASG-001", "CAT-UASG-003", "CAT-UASG-004", "CAT-UASG-009", "CAT-UASG-010",
                         "CAT-UASG-012", "CAT-UASG-015")
def test_user_assignment_lifecycle(admin: ApiClient, objects: Objects, fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = objects.user_license(count=5)
    neighbour = objects.user_license(count=5)

    plain = expect_status(objects.assign("user", license_["id"], first), 200, 201, why="a free seat").json()
    assert (plain.get("user_id"), plain.get("license_id")) == (first, license_["id"]), \
        f"the assignment must be for user {first} on license {license_['id']}; it is {plain}"
    assert (plain.get("active"), plain.get("fulfilled")) == (True, False), \
        f"an assignment sent without active/fulfilled must be active and not fulfilled; it is {plain}"

    metadata = {"conformance": objects.ledger.run_id, "seat": 2}
    flagged = objects.assignment("user", license_["id"], second, active=False, fulfilled=True, metadata=metadata)
    objects.assignment("user", neighbour["id"], third)

    listed = _listed(admin, license_["id"])
    assert sorted(item.get("user_id") for item in listed) == sorted([first, second]), \
        f"license {license_['id']}'s list must hold its own two assignments only; it holds {listed}"
    assert all(item.get("license_id") == license_["id"] for item in listed), \
        "the list of one license showed assignments of another"
    _, page = first_page(admin, USER_ASSIGNMENTS, {"license_id": license_["id"]})
    assert ids_of(page) == sorted([plain["id"], flagged["id"]]), \
        f"without sort assignments come in ascending id order; listed {ids_of(page)}"
    strictly("asc", ids_of(page), "user license assignments without sort")
    stored = next(item for item in listed if item.get("id") == flagged["id"])
    for shown in (flagged, stored):
        assert (shown.get("active"), shown.get("fulfilled"), shown.get("metadata")) == (False, True, metadata), \
            f"active false, fulfilled true and the metadata sent must be stored and returned; got {shown}"

    again = expect_status(objects.assign("user", license_["id"], first, fulfilled=True), 200, 201).json()
    assert again.get("id") == plain["id"], \
        f"assigning user {first} again must update assignment {plain['id']}, not create {again.get('id')}"
    assert again.get("fulfilled") is True, f"the repeated assignment must apply fulfilled=true; it is {again}"
    assert len(_listed(admin, license_["id"])) == 2, "a repeated assignment must not add a second one"

    expect_status(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"],
                                                         "assignment_id": flagged["id"]}), 200)
    remaining = ids_of(_listed(admin, license_["id"]))
    assert remaining == [plain["id"]], f"after the delete only {plain['id']} may remain; listed {remaining}"
    assert len(_listed(admin, neighbour["id"])) == 1, "deleting on one license changed another license"


@pytest.mark.requirement("CAT-UASG-011")
def test_user_assignment_by_email(admin: ApiClient, objects: Objects, fixtures: Fixtures,
                                  settings: Settings) -> None:
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    known = objects.assignment("user", objects.user_license(count=2)["id"], user)
    email = known.get("email")
    assert isinstance(email, str) and "@" in email, \
        f"the assignment of user {user} must show the user's email to address them by it; it shows {email!r}"

    license_ = objects.user_license(count=2)
    body = {"license_id": license_["id"], "email": email, "platform_key": settings.platform_key}
    exchange = admin.post(USER_ASSIGNMENTS, body, params={"license_id": license_["id"]})
    if exchange.status in (200, 201):
        remember(objects, "user_assignment", license_id=license_["id"], assignment_id=exchange.json()["id"])
    by_email = expect_status(exchange, 200, 201, why="the user named by email").json()
    assert by_email.get("user_id") == user, f"the email {email} belongs to user {user}; the assignment is {by_email}"
    assert [item.get("user_id") for item in _listed(admin, license_["id"])] == [user]


@pytest.fixture
def held(objects: Objects, fixtures: Fixtures) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user license of three seats and the one assignment it holds: (license, assignment)."""
    (user,) = need(fixtures.user_ids, 1, "user_ids")
    license_ = objects.user_license(count=3)
    return license_, objects.assignment("user", license_["id"], user)


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

    expect_refused(admin.get(USER_ASSIGNMENTS, params={"platform_key": settings.platform_key}),
                   "license_id is required")
    _refused_post(objects, license_["id"], {"user_id": user}, {}, "license_id is required")
    _refused_post(objects, license_["id"], {"license_id": UNKNOWN_ID, "user_id": user}, {"license_id": UNKNOWN_ID},
                  "the license does not exist", 404)
    _refused_post(objects, license_["id"], {"license_id": license_["id"], "user_id": UNKNOWN_ID},
                  {"license_id": license_["id"]}, "the user does not exist", 404)

    expect_refused(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"]}),
                   "assignment_id is required")
    expect_refused(admin.delete(USER_ASSIGNMENTS, params={"assignment_id": assignment["id"]}), "license_id is required")
    expect_status(admin.delete(USER_ASSIGNMENTS, params={"license_id": license_["id"], "assignment_id": UNKNOWN_ID}),
                  404, why="no such assignment")
    _expect_only(admin, license_["id"], assignment)


@pytest.mark.requirement("CAT-UASG-006")
def test_user_assignment_naming_no_user_is_refused(admin: ApiClient, objects: Objects,
                                                   held: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """SHOULD: neither user_id nor email (the schema requires only license_id); 400 or 404 accepted."""
    license_, assignment = held
    _refused_post(objects, license_["id"], {"license_id": license_["id"]}, {"license_id": license_["id"]},
                  "no user named", 400, 404)
    _expect_only(admin, license_["id"], assignment)
