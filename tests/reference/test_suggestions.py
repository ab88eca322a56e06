"""Program suggestions: single, bulk, group."""

from __future__ import annotations

import httpx

from conformance.reference import fixtures as fx

from .conftest import assert_error

S = "/api/catalog/suggestions/program/manage/"
B = "/api/catalog/suggestions/program/manage/bulk/"
G = "/api/catalog/suggestions/program/manage/group/"
P0, P1 = fx.PROGRAM_KEYS


def test_single_suggestion_defaults_upsert_and_delete(dm: httpx.Client) -> None:
    response = dm.post(S + "?platform_key=alpha", json={"platform_key": "alpha", "program_key": P0, "user_id": 101})
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == {"id", "user_id", "username", "name", "platform_key", "accepted", "visible", "created",
                            "modified", "metadata", "program_key", "program_name"}
    assert (created["accepted"], created["visible"], created["metadata"]) == (False, True, {})
    assert (created["username"], created["name"], created["program_name"]) == (
        "alice", "Alice Anderson", "Alpha Data Science Program")
    updated = dm.post(S, json={"platform_key": "alpha", "program_key": P0, "user_id": "101", "accepted": True}).json()
    assert updated["id"] == created["id"] and updated["accepted"] is True and updated["visible"] is True
    other = dm.post(S, json={"platform_key": "alpha", "program_key": P1, "user_id": 102, "visible": False}).json()
    listed = dm.get(S, params={"platform_key": "alpha"}).json()
    assert [r["id"] for r in listed["results"]] == [other["id"], created["id"]]  # default -id
    assert [r["id"] for r in dm.get(S, params={"platform_key": "alpha", "query": "bob"}).json()["results"]] == [
        other["id"]]
    assert [r["id"] for r in dm.get(S, params={"platform_key": "alpha", "sort": "id"}).json()["results"]] == [
        created["id"], other["id"]]
    assert dm.get(S, params={"platform_key": "beta"}).json()["count"] == 0
    deleted = dm.delete(S, params={"suggestion_id": created["id"], "platform_key": "alpha"})
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    assert_error(dm.delete(S, params={"suggestion_id": created["id"], "platform_key": "alpha"}), 404)
    assert_error(dm.delete(S, params={"suggestion_id": other["id"], "platform_key": "beta"}), 404)
    assert dm.get(S, params={"platform_key": "alpha"}).json()["count"] == 1


def test_single_suggestion_errors(dm: httpx.Client, admin: httpx.Client) -> None:
    assert_error(dm.get(S), 400)  # platform_key is required
    assert_error(dm.get(S, params={"platform_key": "nowhere"}), 400)
    assert_error(admin.get(S, params={"platform_key": "nowhere"}), 403)
    for body in ({"program_key": P0, "user_id": 101},
                 {"platform_key": "alpha", "user_id": 101},
                 {"platform_key": "alpha", "program_key": P0},
                 {"platform_key": "alpha", "program_key": P0, "user_id": "abc"},
                 {"platform_key": "alpha", "program_key": P0, "user_id": 999},
                 {"platform_key": "alpha", "program_key": P0, "user_id": 201},
                 {"platform_key": "alpha", "program_key": fx.OTHER_PROGRAM_KEYS[0], "user_id": 101},
                 {"platform_key": "alpha", "program_key": P0, "user_id": 101, "accepted": "no"},
                 {"platform_key": "alpha", "program_key": P0, "user_id": 101, "metadata": "x"}):
        assert_error(dm.post(S, json=body), 400)
    assert_error(dm.post(S + "?platform_key=beta", json={"platform_key": "alpha", "program_key": P0,
                                                         "user_id": 101}), 400)
    assert_error(dm.delete(S), 400)
    assert_error(dm.delete(S, params={"suggestion_id": 12345}), 404)


def test_suggestions_are_tenant_isolated(dm: httpx.Client, other: httpx.Client) -> None:
    created = dm.post(S, json={"platform_key": "alpha", "program_key": P0, "user_id": 101}).json()
    assert_error(other.delete(S, params={"suggestion_id": created["id"]}), 403)
    assert_error(other.delete(S, params={"suggestion_id": created["id"], "platform_key": "alpha"}), 403)
    assert_error(other.delete(S, params={"suggestion_id": created["id"], "platform_key": "beta"}), 404)
    assert dm.get(S, params={"platform_key": "alpha"}).json()["count"] == 1


def test_bulk(dm: httpx.Client) -> None:
    response = dm.post(B, json={"platform_key": "alpha", "suggestion_data": [
        {"program_key": P0, "user_id": 101},
        {"program_key": P0, "user_id": "102", "accepted": True, "metadata": {"src": "bulk"}},
        {"user_id": 103},
        {"program_key": P0},
        {"program_key": "program-v1:none+x+1", "user_id": 103},
        {"program_key": P0, "user_id": 999},
        {"program_key": P0, "user_id": 201},
        "not an object",
        {"program_key": P0, "user_id": 101, "visible": False},  # updates the first
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["successes"] == 3
    assert body["error_codes"] == ["missing_program_key", "missing_user_id", "unknown_program", "unknown_user",
                                   "unknown_user", "invalid_item"]
    listed = {(r["user_id"], r["program_key"]): r for r in dm.get(S, params={"platform_key": "alpha"}).json()["results"]}
    assert set(listed) == {(101, P0), (102, P0)}
    assert listed[(101, P0)]["visible"] is False and listed[(102, P0)]["accepted"] is True
    assert_error(dm.post(B, json={"platform_key": "alpha"}), 400)
    assert_error(dm.post(B, json={"platform_key": "alpha", "suggestion_data": {"a": 1}}), 400)
    assert_error(dm.post(B, json={"suggestion_data": []}), 400)


def test_group_suggestions(dm: httpx.Client) -> None:
    response = dm.post(G + "?platform_key=alpha", json={"platform_key": "alpha", "program_key": P0, "group_id": 11})
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == {"id", "group_id", "group_name", "platform_key", "accepted", "visible", "created",
                            "modified", "metadata", "program_key", "program_name", "user_count"}
    assert (created["accepted"], created["visible"], created["user_count"]) == (False, True, 2)
    again = dm.post(G, json={"platform_key": "alpha", "program_key": P0, "group_id": 11, "visible": False}).json()
    assert again["id"] == created["id"] and again["visible"] is False
    second = dm.post(G, json={"platform_key": "alpha", "program_key": P1, "group_id": 12}).json()
    listed = dm.get(G, params={"platform_key": "alpha"}).json()
    assert [r["id"] for r in listed["results"]] == [created["id"], second["id"]]  # default id
    assert [r["id"] for r in dm.get(G, params={"platform_key": "alpha", "query": "ml team"}).json()["results"]] == [
        second["id"]]
    for body in ({"platform_key": "alpha", "program_key": P0},
                 {"platform_key": "alpha", "program_key": P0, "group_id": 21},
                 {"platform_key": "alpha", "program_key": P0, "group_id": 19},
                 {"platform_key": "alpha", "program_key": P0, "group_id": [11]},
                 {"platform_key": "alpha", "group_id": 11}):
        assert_error(dm.post(G, json=body), 400)
    assert_error(dm.delete(G, params={"suggestion_id": created["id"]}), 400)  # platform_key required
    assert_error(dm.delete(G, params={"suggestion_id": created["id"], "platform_key": "beta"}), 404)
    assert dm.delete(G, params={"suggestion_id": created["id"], "platform_key": "alpha"}).status_code == 200
    assert_error(dm.delete(G, params={"suggestion_id": created["id"], "platform_key": "alpha"}), 404)
