"""Credentials: envelope answers, CRUD, filters, envelope pagination, org resolution."""

from __future__ import annotations

import httpx

from .conftest import assert_error

C = "/api/credentials/orgs/alpha/users/101/"
FULL = {"credential_id": "cred-1", "credential_url": "https://badges.example/cred-1", "name": "Data Badge",
        "credential_type": "badge", "issuer": "issuer-1", "issued_on": "2026-01-01T00:00:00Z",
        "expires_at": None, "revoked": False, "description": "For data people", "course": "course-v1:a+b+c",
        "program": "program-v1:alpha+data+2024"}


def test_crud(dm: httpx.Client) -> None:
    created = dm.post(C, json=FULL)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["status"] == {"success": True, "description": "Created"}
    result = body["result"]
    for field in ("credential_id", "credential_url", "name", "credential_type", "issuer", "issued_on",
                  "expires_at", "revoked"):
        assert result[field] == FULL[field]
    got = dm.get(C + "cred-1").json()
    assert got["status"]["description"] == "Ok" and got["result"] == result
    updated = dm.put(C + "cred-1", json={"name": "Renamed", "revoked": True, "credential_id": "ignored"}).json()
    assert updated["status"]["description"] == "Updated"
    assert (updated["result"]["name"], updated["result"]["revoked"], updated["result"]["credential_id"]) == (
        "Renamed", True, "cred-1")
    assert updated["result"]["issuer"] == "issuer-1"
    early = dm.put(C + "cred-1", json={"issued_on": "0999-01-01T00:00:00Z"}).json()["result"]
    assert early["issued_on"] == "0999-01-01T00:00:00Z"  # four-digit years, always
    deleted = dm.delete(C + "cred-1")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(dm.get(C + "cred-1"), 404)
    assert_error(dm.put(C + "cred-1", json={"name": "x"}), 404)
    assert_error(dm.delete(C + "cred-1"), 404)


def test_create_needs_only_a_name_and_refuses_duplicates(dm: httpx.Client) -> None:
    made = dm.post(C, json={"name": "Minimal"}).json()["result"]
    assert made["credential_id"] and made["credential_url"] and made["revoked"] is False
    assert dm.get(C + made["credential_id"]).status_code == 200
    assert dm.post(C, json={"name": "A", "credential_id": "same"}).status_code == 200
    assert_error(dm.post(C, json={"name": "B", "credential_id": "same"}), 400)
    assert dm.post("/api/credentials/orgs/beta/users/1/", json={"name": "B", "credential_id": "same"}).status_code == 200
    for body in ({}, {"name": ""}, {"name": 5}, {"name": "x", "revoked": "no"}, {"name": "x", "issued_on": "soon"},
                 {"name": "x", "credential_id": ""}):
        assert_error(dm.post(C, json=body), 400)


def test_list_filters_and_envelope_pagination(dm: httpx.Client) -> None:
    for i in range(12):
        dm.post(C, json={"name": f"Badge {i}", "credential_id": f"c-{i}",
                         "description": "special" if i % 4 == 0 else "",
                         "course": "course-a" if i < 3 else None, "program": "prog-x" if i == 5 else None})
    first = dm.get(C).json()
    assert first["status"] == {"success": True, "description": "Ok"}
    page = first["result"]
    assert (page["count"], page["num_pages"], page["page_number"], page["max_page_size"]) == (12, 2, 1, 100)
    assert len(page["data"]) == 10 and page["previous"] is None and "page=2" in page["next"]
    second = dm.get(page["next"]).json()["result"]
    assert len(second["data"]) == 2 and second["next"] is None and second["page_number"] == 2
    ids = [c["credential_id"] for c in page["data"] + second["data"]]
    assert ids == [f"c-{i}" for i in range(12)]
    assert dm.get(C, params={"page_size": 500}).json()["result"]["data"].__len__() == 12
    assert dm.get(C, params={"search": "SPECIAL"}).json()["result"]["count"] == 3
    assert dm.get(C, params={"search": "badge 1"}).json()["result"]["count"] == 3  # 1, 10, 11
    assert [c["credential_id"] for c in dm.get(C, params={"course": "course-a"}).json()["result"]["data"]] == [
        "c-0", "c-1", "c-2"]
    assert [c["credential_id"] for c in dm.get(C, params={"program": "prog-x"}).json()["result"]["data"]] == ["c-5"]
    assert dm.get(C, params={"page": 9}).json()["result"]["data"] == []
    assert_error(dm.get(C, params={"page": "abc"}), 400)


def test_org_resolution(dm: httpx.Client) -> None:
    assert_error(dm.get("/api/credentials/orgs/nowhere/users/1/"), 404)
    assert_error(dm.post("/api/credentials/orgs/nowhere/users/1/", json={"name": "x"}), 404)
    dm.post(C, json={"name": "A", "credential_id": "a-1"})
    # platform_org in the query wins over the org in the path
    assert dm.get("/api/credentials/orgs/nowhere/users/1/a-1?platform_org=alpha").status_code == 200
    assert_error(dm.get("/api/credentials/orgs/alpha/users/1/a-1?platform_org=beta"), 404)
    assert_error(dm.get("/api/credentials/orgs/alpha/users/1/a-1?platform_org=nowhere"), 404)
