"""Role and group creation in the reference: the published shapes, validation, tenant isolation, is_internal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx
from conformance.reference.app import build_app
from conformance.reference.readings import Readings

from .conftest import Api, assert_error

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"
ROLE_FIELDS = {"id", "name", "platform", "actions", "data_actions", "is_internal"}
GROUP_FIELDS = {"id", "unique_id", "platform", "name", "description", "owner", "users", "is_internal"}


def role_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Reviewers", "platform_key": fx.PLATFORM_KEY, "actions": ["Ibl.Mentor/Settings/read"],
            "data_actions": ["Ibl.Mentor/Settings/name/read"], **overrides}


def group_body(**overrides: Any) -> dict[str, Any]:
    return {"unique_id": "alpha-reviewers", "name": "Alpha Reviewers", "description": "Review team",
            "platform_key": fx.PLATFORM_KEY, "users_to_add": [101, 102], "users_to_remove": [], **overrides}


def listed(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def test_a_created_role_is_answered_201_and_listed(dm: httpx.Client) -> None:
    response = dm.post(ROLES, json=role_body(is_internal=True))
    assert response.status_code == 201, response.text
    role = response.json()
    assert set(role) == ROLE_FIELDS
    assert role["name"] == "Reviewers" and role["is_internal"] is False  # is_internal is read-only: ignored
    assert role["platform"] == {"id": fx.PLATFORM_ID, "key": fx.PLATFORM_KEY, "name": "Alpha Platform"}
    assert role["actions"] == ["Ibl.Mentor/Settings/read"]
    assert role["data_actions"] == ["Ibl.Mentor/Settings/name/read"]
    assert listed(dm, ROLES, platform_key=fx.PLATFORM_KEY, name="reviewers") == [role]
    assert not listed(dm, ROLES, platform_key=fx.OTHER_PLATFORM_KEY, name="reviewers")


def test_a_platform_admin_creates_roles_on_its_own_platform_only(admin: httpx.Client) -> None:
    assert admin.post(ROLES, json=role_body(actions=[], data_actions=[])).status_code == 201
    assert_error(admin.post(ROLES, json=role_body(platform_key=fx.OTHER_PLATFORM_KEY, name="Foreign")), 403)


@pytest.mark.parametrize("body", [
    {"platform_key": fx.PLATFORM_KEY},                                   # no name
    {"name": "No platform"},                                             # no platform_key
    role_body(name="x" * 256),
    role_body(name=" "),
    role_body(name=5),
    role_body(actions="Ibl.Mentor/Settings/read"),
    role_body(data_actions=[1]),
    role_body(platform_key="nowhere"),
])
def test_role_create_refuses_bad_input(dm: httpx.Client, api: Api, body: dict[str, Any]) -> None:
    before = api.store.state_counts()["rbac_roles"]
    assert_error(dm.post(ROLES, json=body), 400)
    assert api.store.state_counts()["rbac_roles"] == before


def test_a_role_name_of_255_characters_is_accepted(dm: httpx.Client) -> None:
    assert dm.post(ROLES, json=role_body(name="x" * 255)).status_code == 201


@pytest.mark.parametrize(("caller", "status"), [("other_platform_admin", 403), ("learner", 403), (None, 401)])
def test_role_create_refuses_callers_without_rights_on_the_platform(api: Api, caller: str | None, status: int) -> None:
    before = api.store.state_counts()["rbac_roles"]
    assert_error(api.client(caller).post(ROLES, json=role_body()), status)
    assert api.store.state_counts()["rbac_roles"] == before


def test_a_created_group_is_answered_201_with_its_users_and_listed(admin: httpx.Client) -> None:
    response = admin.post(GROUPS, json=group_body(users_to_remove=[102], is_internal=True))
    assert response.status_code == 201, response.text
    group = response.json()
    assert set(group) == GROUP_FIELDS
    assert (group["unique_id"], group["name"], group["description"]) == ("alpha-reviewers", "Alpha Reviewers",
                                                                         "Review team")
    assert group["is_internal"] is False
    assert [u["id"] for u in group["users"]] == [101]  # removed on creation as well
    assert group["owner"]["id"] == fx.PLATFORM_ADMIN_USER_ID  # the caller who created it
    assert listed(admin, GROUPS, platform_key=fx.PLATFORM_KEY, name="reviewers") == [group]


def test_a_group_needs_only_unique_id_and_platform_key(dm: httpx.Client) -> None:
    response = dm.post(GROUPS, json={"unique_id": "bare", "platform_key": fx.PLATFORM_KEY})
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["users"]) == ("", [])


@pytest.mark.parametrize("body", [
    {"platform_key": fx.PLATFORM_KEY, "name": "No unique id"},
    {"unique_id": "no-platform", "name": "No platform"},
    group_body(unique_id="x" * 256),
    group_body(name="x" * 256),
    group_body(unique_id=""),
    group_body(users_to_add=[201]),                                      # beta's user
    group_body(users_to_add=[99999]),                                    # no such user
    group_body(users_to_add=["101"]),
    group_body(users_to_remove=[201]),
    group_body(description=None),
    group_body(unique_id="alpha-data-team"),                             # taken on the platform
])
def test_group_create_refuses_bad_input(dm: httpx.Client, api: Api, body: dict[str, Any]) -> None:
    before = api.store.state_counts()
    assert_error(dm.post(GROUPS, json=body), 400)
    after = api.store.state_counts()
    assert (after["user_groups"], after["group_members"]) == (before["user_groups"], before["group_members"])


@pytest.mark.parametrize(("caller", "status"), [("other_platform_admin", 403), ("learner", 403), (None, 401)])
def test_group_create_refuses_callers_without_rights_on_the_platform(api: Api, caller: str | None,
                                                                     status: int) -> None:
    before = api.store.state_counts()["user_groups"]
    assert_error(api.client(caller).post(GROUPS, json=group_body()), status)
    assert api.store.state_counts()["user_groups"] == before


def test_blank_names_are_accepted_under_that_reading() -> None:
    app = build_app(":memory:", readings=Readings.parse("blank-names-accepted"))
    with Api(app).client("dm_admin") as dm:
        assert dm.post(ROLES, json=role_body(name="")).status_code == 201
        assert dm.post(GROUPS, json=group_body(unique_id=" ", users_to_add=[])).status_code == 201
    app.state.store.close()


def test_the_bodies_the_published_client_sends_are_accepted(dm: httpx.Client) -> None:
    """The vendor's generated client (iblai 4.202.2) leaves the read-only ids out but sends the nested platform
    and owner objects with what is left of them; the read-only parts of a body are ignored."""
    role = dm.post(ROLES, json={"name": "Via client", "platform_key": fx.PLATFORM_KEY, "actions": [],
                                "data_actions": [], "platform": {"key": fx.PLATFORM_KEY}})
    assert role.status_code == 201, role.text
    group = dm.post(GROUPS, json={"unique_id": "via-client", "platform_key": fx.PLATFORM_KEY, "users_to_add": [101],
                                  "platform": {"key": fx.PLATFORM_KEY}, "owner": {}})
    assert group.status_code == 201, group.text
    assert [u["id"] for u in group.json()["users"]] == [101]
