"""RBAC policies, roles, groups; internal policies hidden everywhere."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx

from .conftest import Api, assert_error

P = "/api/core/rbac/policies/"
POLICY_FIELDS = {"id", "name", "role", "platform", "resources", "users", "groups", "is_internal"}
WRITE_ONLY = {"role_id", "platform_key", "users_to_add", "users_to_remove", "groups_to_add", "groups_to_remove"}


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post(P, json={"platform_key": "alpha", "role_id": 3, "resources": ["/platforms/1/mentors"], **body})


def test_create_retrieve_shape(dm: httpx.Client) -> None:
    response = create(dm, name="editors", users_to_add=[101, 102], groups_to_add=[11], is_internal=True)
    assert response.status_code == 201, response.text
    policy = response.json()
    assert set(policy) == POLICY_FIELDS and not WRITE_ONLY & set(policy)
    assert policy["is_internal"] is False  # read-only: the value sent is ignored
    assert policy["role"] == {"id": 3, "name": "Mentor Editor", "actions": ["Ibl.Mentor/Settings/read",
                              "Ibl.Mentor/Settings/write"], "data_actions": ["Ibl.Mentor/Settings/name/read"]}
    assert policy["platform"] == {"id": 1, "key": "alpha", "name": "Alpha Platform"}
    assert [u["id"] for u in policy["users"]] == [101, 102]
    assert policy["users"][0] == {"id": 101, "username": "alice", "email": "alice@alpha.example"}
    assert policy["groups"] == [{"id": 11, "name": "Alpha Data Team", "unique_id": "alpha-data-team",
                                 "description": "Data science learners"}]
    assert dm.get(f"{P}{policy['id']}/").json() == policy
    unnamed = create(dm).json()
    assert len(unnamed["name"]) == 36  # a UUID4


@pytest.mark.parametrize("body", [
    {"role_id": 3, "resources": []},                                    # no platform_key
    {"platform_key": "alpha", "resources": []},                         # no role_id
    {"platform_key": "alpha", "role_id": 3},                            # no resources
    {"platform_key": "nowhere", "role_id": 3, "resources": []},
    {"platform_key": "alpha", "role_id": 7, "resources": []},           # beta's role
    {"platform_key": "alpha", "role_id": 5, "resources": []},           # internal role
    {"platform_key": "alpha", "role_id": "3", "resources": []},
    {"platform_key": "alpha", "role_id": 3, "resources": "x"},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "users_to_add": [201]},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "users_to_add": [99999]},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "users_to_add": ["101"]},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "groups_to_add": [21]},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "groups_to_add": [19]},
    {"platform_key": "alpha", "role_id": 3, "resources": [], "name": "x" * 256},
])
def test_create_refuses_bad_input(dm: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(dm.post(P, json=body), 400)


def test_put_patch_delete(dm: httpx.Client) -> None:
    policy = create(dm, name="p", users_to_add=[101], groups_to_add=[11]).json()
    url = f"{P}{policy['id']}/"
    put = dm.put(url, json={"platform_key": "alpha", "role_id": 4, "resources": ["/a"], "users_to_add": [103],
                            "users_to_remove": [101], "groups_to_remove": [11], "groups_to_add": [12]})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["role"]["id"] == 4 and body["resources"] == ["/a"] and body["name"] != "p"  # new UUID4
    assert [u["id"] for u in body["users"]] == [103] and [g["id"] for g in body["groups"]] == [12]
    patch = dm.patch(url, json={"name": "patched"}).json()
    assert patch["name"] == "patched" and patch["resources"] == ["/a"] and patch["role"]["id"] == 4
    assert not WRITE_ONLY & set(patch)
    assert_error(dm.put(url, json={"platform_key": "alpha", "role_id": 4}), 400)
    assert_error(dm.put(url, json={"platform_key": "beta", "role_id": 4, "resources": []}), 404)
    assert_error(dm.patch(url, json={"role_id": 7}), 400)
    assert_error(dm.patch(url, json={"users_to_add": [202]}), 400)
    assert_error(dm.patch(url, json={"resources": [1]}), 400)
    assert_error(dm.delete(url), 400)  # platform_key required
    assert_error(dm.delete(url + "?platform_key=beta"), 404)
    deleted = dm.delete(url + "?platform_key=alpha")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(dm.get(url), 404)
    assert_error(dm.get(f"{P}abc/"), 404)
    assert_error(dm.get(f"{P}{10**30}/"), 404)


@pytest.mark.parametrize("role", ["dm_admin", "platform_admin", "other_platform_admin"])
def test_internal_policies_are_hidden_from_every_caller(api: Api, role: str) -> None:
    client = api.client(role)
    before = api.store.state_counts()
    for policy_id in fx.INTERNAL_POLICY_IDS + fx.OTHER_INTERNAL_POLICY_IDS:
        url = f"{P}{policy_id}/"
        assert_error(client.get(url), 404)
        assert_error(client.put(url, json={"platform_key": "alpha", "role_id": 3, "resources": []}), 404)
        assert_error(client.put(url, json={"platform_key": "beta", "role_id": 7, "resources": []}), 404)
        assert_error(client.patch(url, json={"name": "exposed"}), 404)
        assert_error(client.delete(url + "?platform_key=alpha"), 404)
        assert_error(client.delete(url + "?platform_key=beta"), 404)
    for query in ("", "?platform_key=alpha", "?platform_key=beta", "?username=alice", "?role_id=3",
                  "?name=internal", "?page_size=100"):
        response = client.get(P + query)
        if response.status_code == 403:
            continue
        ids = [p["id"] for p in response.json()["results"]]
        assert not set(ids) & set(fx.INTERNAL_POLICY_IDS + fx.OTHER_INTERNAL_POLICY_IDS)
        assert response.json()["count"] == len(ids)
    assert api.store.state_counts() == before
    assert api.store.get_policy(900)["name"] == "alpha-internal-policy"


def test_policy_list_filters(dm: httpx.Client) -> None:
    a = create(dm, name="Mentor Editors", users_to_add=[101]).json()
    b = create(dm, name="viewers", role_id=4, groups_to_add=[12]).json()
    c = dm.post(P, json={"platform_key": "beta", "role_id": 7, "resources": [], "users_to_add": [201]}).json()

    def ids(**params: Any) -> list[int]:
        response = dm.get(P, params=params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["results"]]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(platform_key="alpha") == [a["id"], b["id"]]
    assert ids(role_id=4) == [b["id"]]
    assert ids(name="EDIT") == [a["id"]]
    assert ids(username="ALICE") == [a["id"]]
    assert ids(username="dave") == [b["id"]]  # through group 12
    assert ids(email="carol@alpha.example") == [b["id"]]
    assert ids(group="alpha ml team") == [b["id"]]
    assert ids(platform_key="nowhere") == []
    slim = dm.get(P, params={"include_users": "false", "include_groups": "false"}).json()["results"]
    assert all(p["users"] == [] and p["groups"] == [] for p in slim)
    assert_error(dm.get(P, params={"role_id": "x"}), 400)


def test_roles_and_groups_lists(dm: httpx.Client, admin: httpx.Client) -> None:
    roles = dm.get("/api/core/rbac/roles/").json()
    assert roles["count"] == 3 and [r["id"] for r in roles["results"]] == [3, 4, 7]  # internal role 5 hidden
    assert set(roles["results"][0]) == {"id", "name", "platform", "actions", "data_actions", "is_internal"}
    assert [r["id"] for r in admin.get("/api/core/rbac/roles/").json()["results"]] == fx.ROLE_IDS
    assert [r["id"] for r in dm.get("/api/core/rbac/roles/?name=viewer").json()["results"]] == [4]
    groups = dm.get("/api/core/rbac/groups/").json()
    assert [g["id"] for g in groups["results"]] == [11, 12, 21]  # internal group 19 hidden
    group = groups["results"][0]
    assert set(group) == {"id", "unique_id", "platform", "name", "description", "owner", "users", "is_internal"}
    assert group["owner"]["id"] == 105 and [u["id"] for u in group["users"]] == [101, 102]
    assert [g["id"] for g in admin.get("/api/core/rbac/groups/").json()["results"]] == fx.GROUP_IDS
    assert [g["id"] for g in dm.get("/api/core/rbac/groups/?username=dave").json()["results"]] == [12]
    assert [g["id"] for g in dm.get("/api/core/rbac/groups/?email=FRANK@beta.example").json()["results"]] == [21]
    assert [g["id"] for g in dm.get("/api/core/rbac/groups/?owner=grace").json()["results"]] == [21]
    assert [g["id"] for g in dm.get("/api/core/rbac/groups/?name=data").json()["results"]] == [11]
    assert all(g["users"] == [] for g in dm.get("/api/core/rbac/groups/?include_users=false").json()["results"])
    assert_error(dm.put("/api/core/rbac/roles/", json={}), 405)  # roles are created (POST), never replaced
