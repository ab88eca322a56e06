"""Malformed input never gives a 500 or an HTML page: always a JSON error with a documented status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx

from .conftest import Api

OPERATIONS = [
    ("GET", "/api/catalog/licenses/program/"),
    ("POST", "/api/catalog/licenses/program/create/"),
    ("POST", "/api/catalog/licenses/program/update/"),
    ("GET", "/api/catalog/licenses/program/assignment/"),
    ("POST", "/api/catalog/licenses/program/assignment/"),
    ("DELETE", "/api/catalog/licenses/program/assignment/"),
    ("GET", "/api/catalog/licenses/program/assignment/group/"),
    ("POST", "/api/catalog/licenses/program/assignment/group/"),
    ("DELETE", "/api/catalog/licenses/program/assignment/group/"),
    ("GET", "/api/catalog/licenses/user/"),
    ("POST", "/api/catalog/licenses/user/create/"),
    ("POST", "/api/catalog/licenses/user/update/"),
    ("GET", "/api/catalog/licenses/user/assignment/"),
    ("POST", "/api/catalog/licenses/user/assignment/"),
    ("DELETE", "/api/catalog/licenses/user/assignment/"),
    ("GET", "/api/catalog/suggestions/program/manage/"),
    ("POST", "/api/catalog/suggestions/program/manage/"),
    ("DELETE", "/api/catalog/suggestions/program/manage/"),
    ("POST", "/api/catalog/suggestions/program/manage/bulk/"),
    ("GET", "/api/catalog/suggestions/program/manage/group/"),
    ("POST", "/api/catalog/suggestions/program/manage/group/"),
    ("DELETE", "/api/catalog/suggestions/program/manage/group/"),
    ("GET", "/api/core/rbac/policies/"),
    ("POST", "/api/core/rbac/policies/"),
    ("GET", "/api/core/rbac/policies/1/"),
    ("PUT", "/api/core/rbac/policies/1/"),
    ("PATCH", "/api/core/rbac/policies/1/"),
    ("DELETE", "/api/core/rbac/policies/1/"),
    ("GET", "/api/core/rbac/roles/"),
    ("GET", "/api/core/rbac/groups/"),
    ("GET", "/api/credentials/orgs/alpha/users/101/"),
    ("POST", "/api/credentials/orgs/alpha/users/101/"),
    ("GET", "/api/credentials/orgs/alpha/users/101/c-1"),
    ("PUT", "/api/credentials/orgs/alpha/users/101/c-1"),
    ("DELETE", "/api/credentials/orgs/alpha/users/101/c-1"),
]
assert len(OPERATIONS) == 35

RAW_BODIES = [b"{", b"[]", b"[1, 2]", b'"text"', b"42", b"null", b"true", b"NaN", b'{"a": NaN}',
              b'{"count": Infinity}', b"\xff\xfe\x00", b"{" * 5000 + b"}" * 5000, "{\"name\": \"\u00e9\u2603\"}".encode(),
              b'{"license_id": 1' + b"0" * 5000 + b"}",
              b'{"platform_key": "\\ud800", "name": "\\udc00x"}', b'{"\\ud800": 1}']

WEIRD_VALUES: list[Any] = [None, True, -1, 0, 2**63, -(2**63) - 1, 10**40, 1.5, 1e308, "", "x" * 10000, "1",
                           "\u0000", "\U0001F600", [], [None], {}, {"$gt": ""}, ["1", 2]]
LICENSE = ["platform_key", "platform_org", "platform_id", "program_key", "program_id", "name", "count", "started",
           "expired", "active", "metadata", "enrollment_config", "source", "external_id", "transaction_id",
           "change_type", "license_id"]
ASSIGNMENT = ["license_id", "user_id", "email", "username", "group_id", "platform_key", "platform_org", "active",
              "fulfilled", "direct", "redirect_to", "metadata"]
SUGGESTION = ["platform_key", "platform_org", "program_key", "user_id", "username", "email", "group_id", "accepted",
              "visible", "direct", "metadata", "suggested_by", "department_mode", "suggestion_data"]
POLICY = ["platform_key", "role_id", "resources", "name", "users_to_add", "users_to_remove", "groups_to_add",
          "groups_to_remove", "is_internal"]
CREDENTIAL = ["credential_id", "credential_url", "name", "credential_type", "issuer", "issued_on", "expires_at",
              "revoked", "description", "course", "program", "html_template"]
BODY_FIELDS = {"licenses/program/create": LICENSE, "licenses/program/update": LICENSE,
               "licenses/user/create": LICENSE, "licenses/user/update": LICENSE, "assignment": ASSIGNMENT,
               "suggestions": SUGGESTION, "policies": POLICY, "credentials": CREDENTIAL}
QUERY_VARIANTS = [
    {"page": "abc"}, {"page_size": "-5"}, {"page": "99999999999999999999999999"}, {"license_id": "abc"},
    {"license_id": "99999999999999999999999"}, {"license_id": "1e5"}, {"assignment_id": "-1"},
    {"license_id": "1", "assignment_id": str(2**63)}, {"sort": "; DROP TABLE users"}, {"sort": "-"},
    {"sort": ""}, {"platform_key": ""}, {"platform_key": "\u0000"}, {"active": "maybe"}, {"verbose": "2"},
    {"email": "nope"}, {"suggestion_id": "x"}, {"remove_user_assignments": "perhaps"}, {"role_id": "1.0"},
    {"include_users": "sometimes"}, {"user_id": "x"}, {"group_id": "[]"}, {"platform_org": "a" * 5000},
    {"page": "1", "page_size": "100000"}, {"license_id": "1", "page": "0"},
]


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text)
    if response.status_code != 204:
        assert response.headers["content-type"].startswith("application/json"), response.text
        assert isinstance(response.json(), dict)


def _fields_for(path: str) -> list[str]:
    for marker, fields in BODY_FIELDS.items():
        if marker in path:
            return fields
    return ["name"]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_garbage_never_breaks_an_operation(api: Api, method: str, path: str) -> None:
    index = OPERATIONS.index((method, path))
    dm = api.client("dm_admin")
    # real objects behind the ids, so requests get past the lookups into the deeper code
    for kind, body in (("program", {"program_key": fx.PROGRAM_KEYS[0]}), ("user", {})):
        created = dm.post(f"/api/catalog/licenses/{kind}/create/", json={"platform_key": "alpha", "count": 100, **body})
        assert created.status_code == 200 and created.json()["id"] == 1
    policy = dm.post("/api/core/rbac/policies/", json={"platform_key": "alpha", "role_id": 3, "resources": []}).json()
    dm.post("/api/credentials/orgs/alpha/users/101/", json={"name": "c", "credential_id": "c-1"})
    path = path.replace("/policies/1/", f"/policies/{policy['id']}/")
    baseline = {"platform_key": "alpha", "license_id": 1, "program_key": fx.PROGRAM_KEYS[0], "user_id": 101,
                "group_id": 11, "role_id": 3, "resources": [], "name": "n", "suggestion_data": []}
    if method in ("POST", "PUT", "PATCH"):  # GET and DELETE read no body
        for raw in RAW_BODIES:
            check(dm.request(method, path, content=raw, headers={"content-type": "application/json"}))
        for i, field in enumerate(_fields_for(path)):  # every field meets a few weird values, in rotation
            for j in range(4):
                value = WEIRD_VALUES[(index + i * 4 + j) % len(WEIRD_VALUES)]
                check(dm.request(method, path, json={**baseline, field: value}))
        check(dm.request(method, path, content=b"name=x", headers={"content-type": "application/x-www-form-urlencoded"}))
    for j in range(10):  # a rotating share of the query variants per operation
        params = QUERY_VARIANTS[(index * 10 + j) % len(QUERY_VARIANTS)]
        check(dm.request(method, path, params={"license_id": "1", "suggestion_id": "1", "assignment_id": "1",
                                               "platform_key": "alpha", **params}, json=baseline))
        check(dm.request(method, path, params=params))


def test_unknown_paths_and_methods_are_json(api: Api, dm: httpx.Client, anon: httpx.Client) -> None:
    for client in (dm, anon):
        for path in ("/", "/api/", "/api/catalog/licenses/program", "/api/catalog/licenses/program/x/",
                     "/api/core/rbac/policies/1", "/api/credentials/orgs/alpha/users/1/c-1/", "/favicon.ico"):
            response = client.get(path)
            assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    for method, path in (("PUT", "/api/catalog/licenses/program/"), ("GET", "/api/catalog/licenses/program/create/"),
                         ("DELETE", "/api/core/rbac/groups/"), ("PATCH", "/api/credentials/orgs/alpha/users/1/c"),
                         ("POST", "/conformance-probe/v1/state"), ("OPTIONS", "/api/core/rbac/policies/")):
        response = dm.request(method, path)
        assert response.status_code == 405 and response.json() == {"detail": "Method not allowed."}
        assert response.headers["allow"]


def test_a_query_parameter_without_a_name_is_400(dm: httpx.Client) -> None:
    response = dm.get("/api/core/rbac/roles/?name=0&=null")
    assert response.status_code == 400 and response.json()["detail"]


def test_head_is_served_like_get(dm: httpx.Client) -> None:
    assert dm.head("/api/catalog/licenses/program/").status_code == 200


def test_a_request_that_crashes_still_answers_json(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.reference.inprocess import InProcessTransport
    from conformance.reference.store import Store

    def boom(self: Store, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("planted")

    monkeypatch.setattr(Store, "list_licenses", boom)
    client = httpx.Client(transport=InProcessTransport(api.app, raise_app_exceptions=False),
                          base_url="http://reference.test",
                          headers={"Authorization": f"Api-Token {api.keys.dm_admin}"})
    with client:
        response = client.get("/api/catalog/licenses/program/")
    assert response.status_code == 500 and response.json() == {"detail": "Internal server error."}

