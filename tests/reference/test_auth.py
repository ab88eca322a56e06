"""Authentication (401) and the access table of docs/behaviour.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx
from conformance.reference.app import ReferenceKeys

from .conftest import Api, assert_error, assign, program_license_body

ALPHA_POLICIES = "/api/core/rbac/policies/?platform_key=alpha"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Api-Token"},
    {"Authorization": "Api-Token wrong-key"},
    {"Authorization": "Api-Key wrong-key"},
    {"Authorization": "Bearer {key}"},
    {"Authorization": "Basic {key}"},
    {"Authorization": "{key}"},
])
def test_missing_or_bad_credentials_are_401_json(api: Api, headers: dict[str, str]) -> None:
    client = api.client(None)
    headers = {k: v.format(key=api.keys.dm_admin) for k, v in headers.items()}
    for path in ("/api/catalog/licenses/program/", ALPHA_POLICIES, "/api/credentials/orgs/alpha/users/1/",
                 "/conformance-probe/v1/state"):
        assert_error(client.get(path, headers=headers), 401)


@pytest.mark.parametrize("scheme", ["Api-Token", "Api-Key", "api-token", "API-KEY"])
def test_both_prefixes_are_accepted(api: Api, scheme: str) -> None:
    client = api.client("dm_admin", scheme=scheme)
    assert client.get("/api/catalog/licenses/program/").status_code == 200


def test_a_write_without_credentials_is_401_and_changes_nothing(api: Api, anon: httpx.Client) -> None:
    before = api.store.state_counts()
    assert_error(anon.post("/api/catalog/licenses/program/create/", json=program_license_body()), 401)
    assert_error(anon.post("/api/core/rbac/policies/", json={}), 401)
    assert api.store.state_counts() == before


def test_keys_never_show_in_repr() -> None:
    keys = ReferenceKeys.generate()
    assert len({keys.dm_admin, keys.platform_admin, keys.other_platform_admin, keys.learner}) == 4
    for text in (repr(keys), str(keys)):
        for value in keys.as_mapping().values():
            assert value not in text


def test_keys_never_show_in_responses(api: Api, dm: httpx.Client) -> None:
    for response in (dm.get("/api/catalog/licenses/program/"), dm.get("/conformance-probe/v1/state"),
                     api.client(None).get("/api/catalog/licenses/program/")):
        for value in api.keys.as_mapping().values():
            assert value not in response.text


# --------------------------------------------------------------------- the access table

def _status(client: httpx.Client, call: Callable[[httpx.Client], httpx.Response]) -> int:
    return call(client).status_code


def test_license_create_and_update_are_dm_admin_only(api: Api, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license()
    for role in ("platform_admin", "other_platform_admin", "learner"):
        client = api.client(role)
        assert_error(client.post("/api/catalog/licenses/program/create/", json=program_license_body()), 403)
        assert_error(client.post("/api/catalog/licenses/program/update/", json={"license_id": license["id"]}), 403)
        assert_error(client.post("/api/catalog/licenses/user/create/", json={"platform_key": "alpha"}), 403)
        assert_error(client.post("/api/catalog/licenses/user/update/", json={"license_id": 1}), 403)


def test_program_license_list_access(api: Api, make_program_license: Callable[..., Any]) -> None:
    make_program_license()
    dm, admin, other, learner = (api.client(r) for r in ("dm_admin", "platform_admin", "other_platform_admin",
                                                          "learner"))
    assert dm.get("/api/catalog/licenses/program/?platform_key=alpha").json()["count"] == 1
    assert admin.get("/api/catalog/licenses/program/?platform_key=alpha").json()["count"] == 1
    assert admin.get("/api/catalog/licenses/program/").json()["count"] == 1  # scoped to its platform
    assert_error(admin.get("/api/catalog/licenses/program/?platform_key=beta"), 403)
    assert_error(admin.get("/api/catalog/licenses/program/?platform_key=nowhere"), 403)
    assert_error(other.get("/api/catalog/licenses/program/?platform_key=alpha"), 403)
    assert other.get("/api/catalog/licenses/program/").json()["count"] == 0  # beta has none
    assert_error(learner.get("/api/catalog/licenses/program/?platform_key=alpha"), 403)
    assert_error(learner.get("/api/catalog/licenses/program/"), 403)


def test_assignment_operations_access(api: Api, make_program_license: Callable[..., Any],
                                      make_user_license: Callable[..., Any]) -> None:
    license = make_program_license()
    user_license = make_user_license()
    lid, ulid = license["id"], user_license["id"]
    dm, admin, other, learner = (api.client(r) for r in ("dm_admin", "platform_admin", "other_platform_admin",
                                                          "learner"))
    calls: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c: c.get(f"/api/catalog/licenses/program/assignment/?license_id={lid}&platform_key=alpha"),
        lambda c: assign(c, lid, user_id=101, platform_key="alpha"),
        lambda c: c.get(f"/api/catalog/licenses/program/assignment/group/?license_id={lid}&platform_key=alpha"),
        lambda c: c.post(f"/api/catalog/licenses/program/assignment/group/?license_id={lid}",
                         json={"license_id": lid, "group_id": 11, "platform_key": "alpha"}),
        lambda c: c.get(f"/api/catalog/licenses/user/assignment/?license_id={ulid}&platform_key=alpha"),
        lambda c: c.post(f"/api/catalog/licenses/user/assignment/?license_id={ulid}",
                         json={"license_id": ulid, "user_id": 102, "platform_key": "alpha"}),
        lambda c: c.get("/api/catalog/licenses/user/?platform_key=alpha"),
    ]
    for call in calls:
        assert _status(dm, call) == 200
        assert _status(admin, call) == 200
        assert_error(call(other), 403)
        assert_error(call(learner), 403)


def test_other_admin_cannot_touch_alpha_assignments_even_naming_its_own_platform(
        api: Api, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license()
    assert assign(api.client("dm_admin"), license["id"], user_id=101).status_code == 200
    other = api.client("other_platform_admin")
    assert_error(other.get(f"/api/catalog/licenses/program/assignment/?license_id={license['id']}"), 403)
    assert_error(other.get(f"/api/catalog/licenses/program/assignment/?license_id={license['id']}"
                           "&platform_key=beta"), 403)
    assert_error(other.delete(f"/api/catalog/licenses/program/assignment/?license_id={license['id']}"
                              "&assignment_id=1&platform_key=beta"), 403)
    assert api.store.usage_count("program", license["id"]) == 1


def test_suggestions_access(api: Api) -> None:
    calls: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c: c.get("/api/catalog/suggestions/program/manage/?platform_key=alpha"),
        lambda c: c.post("/api/catalog/suggestions/program/manage/?platform_key=alpha",
                         json={"platform_key": "alpha", "program_key": fx.PROGRAM_KEYS[0], "user_id": 101}),
        lambda c: c.post("/api/catalog/suggestions/program/manage/bulk/",
                         json={"platform_key": "alpha", "suggestion_data": []}),
        lambda c: c.get("/api/catalog/suggestions/program/manage/group/?platform_key=alpha"),
        lambda c: c.post("/api/catalog/suggestions/program/manage/group/?platform_key=alpha",
                         json={"platform_key": "alpha", "program_key": fx.PROGRAM_KEYS[0], "group_id": 11}),
    ]
    for call in calls:
        assert _status(api.client("dm_admin"), call) == 200
        assert _status(api.client("platform_admin"), call) == 200
        assert_error(call(api.client("other_platform_admin")), 403)
        assert_error(call(api.client("learner")), 403)


def test_credentials_access(api: Api) -> None:
    dm, admin, other, learner = (api.client(r) for r in ("dm_admin", "platform_admin", "other_platform_admin",
                                                          "learner"))
    created = dm.post("/api/credentials/orgs/alpha/users/1/", json={"name": "Badge", "credential_id": "b-1"})
    assert created.status_code == 200
    for client in (dm, admin):
        assert client.get("/api/credentials/orgs/alpha/users/1/").status_code == 200
        assert client.get("/api/credentials/orgs/alpha/users/1/b-1").status_code == 200
    for client in (other, learner):
        assert_error(client.get("/api/credentials/orgs/alpha/users/1/"), 403)
        assert_error(client.get("/api/credentials/orgs/alpha/users/1/b-1"), 403)
        assert_error(client.post("/api/credentials/orgs/alpha/users/1/", json={"name": "x"}), 403)
        assert_error(client.put("/api/credentials/orgs/alpha/users/1/b-1", json={"name": "x"}), 403)
        assert_error(client.delete("/api/credentials/orgs/alpha/users/1/b-1"), 403)
    # platform_org in the query takes precedence over the path: beta's admin cannot reach alpha that way
    assert_error(other.get("/api/credentials/orgs/beta/users/1/?platform_org=alpha"), 403)
    assert other.get("/api/credentials/orgs/beta/users/1/").status_code == 200


def test_rbac_access(api: Api) -> None:
    dm, admin, other, learner = (api.client(r) for r in ("dm_admin", "platform_admin", "other_platform_admin",
                                                          "learner"))
    created = admin.post("/api/core/rbac/policies/", json={"platform_key": "alpha", "role_id": 3,
                                                           "resources": ["/platforms/1/mentors"]})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    for client in (dm, admin):
        assert client.get(f"/api/core/rbac/policies/{pid}/").status_code == 200
        assert client.get(ALPHA_POLICIES).json()["count"] == 1
        assert client.get("/api/core/rbac/roles/?platform_key=alpha").status_code == 200
        assert client.get("/api/core/rbac/groups/?platform_key=alpha").status_code == 200
    # the other platform's admin: alpha's objects are not found; alpha's lists are refused
    assert_error(other.get(f"/api/core/rbac/policies/{pid}/"), 404)
    assert_error(other.put(f"/api/core/rbac/policies/{pid}/", json={"platform_key": "alpha", "role_id": 3,
                                                                      "resources": []}), 404)
    assert_error(other.patch(f"/api/core/rbac/policies/{pid}/", json={"name": "stolen"}), 404)
    assert_error(other.delete(f"/api/core/rbac/policies/{pid}/?platform_key=alpha"), 404)
    assert_error(other.delete(f"/api/core/rbac/policies/{pid}/?platform_key=beta"), 404)
    assert_error(other.get(ALPHA_POLICIES), 403)
    assert_error(other.post("/api/core/rbac/policies/", json={"platform_key": "alpha", "role_id": 3,
                                                              "resources": []}), 403)
    assert other.get("/api/core/rbac/policies/").json()["count"] == 0
    assert [r["id"] for r in other.get("/api/core/rbac/roles/").json()["results"]] == fx.OTHER_ROLE_IDS
    # the non-admin is refused everything
    for call in (lambda c: c.get(ALPHA_POLICIES), lambda c: c.get(f"/api/core/rbac/policies/{pid}/"),
                 lambda c: c.get("/api/core/rbac/roles/"), lambda c: c.get("/api/core/rbac/groups/"),
                 lambda c: c.delete(f"/api/core/rbac/policies/{pid}/?platform_key=alpha")):
        assert_error(call(learner), 403)
    assert dm.get(f"/api/core/rbac/policies/{pid}/").status_code == 200
