"""Program and user license assignments, seats, group assignments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .conftest import Api, assert_error, assign, history

PA = "/api/catalog/licenses/program/assignment/"
GA = "/api/catalog/licenses/program/assignment/group/"
UA = "/api/catalog/licenses/user/assignment/"
ASSIGNMENT_FIELDS = {"id", "user_id", "username", "name", "email", "active", "fulfilled", "direct", "metadata",
                     "created", "modified", "license_id", "license_name", "program_key"}


def usage(dm: httpx.Client, license_id: int) -> int:
    (license,) = [r for r in dm.get("/api/catalog/licenses/program/?page_size=100").json()["results"]
                  if r["id"] == license_id]
    return int(license["usage_count"])


def test_assignment_shape_and_upsert(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=2)
    first = assign(dm, license["id"], user_id=101, metadata={"a": 1})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == ASSIGNMENT_FIELDS
    assert (body["user_id"], body["username"], body["email"], body["name"]) == (
        101, "alice", "alice@alpha.example", "Alice Anderson")
    assert (body["active"], body["fulfilled"], body["direct"]) == (True, False, True)
    assert body["license_name"] == license["name"] and body["program_key"] == license["program_key"]
    again = assign(dm, license["id"], email="ALICE@alpha.example", fulfilled=True, redirect_to="https://x.example/")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]  # create-or-update: same assignment
    assert again.json()["fulfilled"] is True and again.json()["redirect_to"] == "https://x.example/"
    assert again.json()["metadata"] == {"a": 1}
    assert usage(dm, license["id"]) == 1  # the same user twice takes one seat


def test_seats_fill_refuse_and_free(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=3)
    ids = []
    for user_id in (101, 102, 103):
        response = assign(dm, license["id"], user_id=user_id)
        assert response.status_code == 200
        ids.append(response.json()["id"])
    assert usage(dm, license["id"]) == 3
    assert_error(assign(dm, license["id"], user_id=104), 400)
    assert usage(dm, license["id"]) == 3
    assert assign(dm, license["id"], user_id=101, active=False).status_code == 200  # an update needs no seat
    deleted = dm.delete(PA, params={"license_id": license["id"], "assignment_id": ids[1]})
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    assert usage(dm, license["id"]) == 2
    assert assign(dm, license["id"], user_id=104).status_code == 200
    assert usage(dm, license["id"]) == 3
    assert_error(dm.delete(PA, params={"license_id": license["id"], "assignment_id": ids[1]}), 404)


def test_raising_the_count_makes_room(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=0)
    assert_error(assign(dm, license["id"], user_id=101), 400)
    dm.post("/api/catalog/licenses/program/update/", json={"license_id": license["id"], "count": 1})
    assert assign(dm, license["id"], user_id=101).status_code == 200


def test_count_cannot_drop_below_the_active_assignments(dm: httpx.Client,
                                                        make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=3)
    for user_id in (101, 102):
        assert assign(dm, license["id"], user_id=user_id).status_code == 200
    assert_error(dm.post("/api/catalog/licenses/program/update/", json={"license_id": license["id"], "count": 1}), 400)
    assert dm.get("/api/catalog/licenses/program/").json()["results"][0]["count"] == 3
    assert len(history(dm, "program", license["id"])) == 1  # the refused update left no record
    assert assign(dm, license["id"], user_id=102, active=False).status_code == 200
    assert dm.post("/api/catalog/licenses/program/update/", json={"license_id": license["id"], "count": 1}).json()[
        "count"] == 1  # one active assignment now


def test_inactive_or_expired_license_refuses_new_assignments(
        dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    inactive = make_program_license(active=False)
    expired = make_program_license(expired="2020-01-01T00:00:00Z")
    assert_error(assign(dm, inactive["id"], user_id=101), 400)
    assert_error(assign(dm, expired["id"], user_id=101), 400)
    live = make_program_license()
    assert assign(dm, live["id"], user_id=101).status_code == 200
    dm.post("/api/catalog/licenses/program/update/", json={"license_id": live["id"], "active": False})
    assert assign(dm, live["id"], user_id=101, fulfilled=True).status_code == 200  # existing: updated
    assert_error(assign(dm, live["id"], user_id=102), 400)


def test_assignment_errors(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license()
    lid = license["id"]
    assert_error(assign(dm, lid), 400)  # no user
    assert_error(assign(dm, lid, user_id=999), 404)
    assert_error(assign(dm, lid, user_id=201), 404)  # beta's user
    assert_error(assign(dm, lid, email="nobody@alpha.example"), 404)
    assert_error(assign(dm, lid, email="not-an-email"), 400)
    assert_error(assign(dm, lid, user_id="101"), 400)
    both = assign(dm, lid, user_id=101, email="bob@alpha.example")  # user_id takes precedence (CAT-PASG-017)
    assert both.status_code == 200 and both.json()["user_id"] == 101, both.text
    assert_error(assign(dm, 424242, user_id=101), 404)
    assert_error(dm.post(PA, json={"user_id": 101}), 400)  # no license_id anywhere
    assert_error(dm.post(PA + "?license_id=1", json={"license_id": 2, "user_id": 101}), 400)
    assert_error(assign(dm, lid, user_id=101, platform_key="beta"), 400)
    assert_error(assign(dm, lid, user_id=101, redirect_to="not a uri"), 400)  # answered as format uri
    assert "redirect_to" not in assign(dm, lid, user_id=101, redirect_to="").json()
    assert_error(dm.get(PA), 400)
    assert_error(dm.get(PA, params={"license_id": 424242}), 400)
    assert_error(dm.delete(PA, params={"license_id": lid}), 400)
    assert_error(dm.delete(PA, params={"assignment_id": 1}), 400)
    assert_error(dm.delete(PA, params={"license_id": 424242, "assignment_id": 1}), 404)


def test_assignment_list_filters_and_sort(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=4)
    lid = license["id"]
    for user_id, fulfilled in ((103, True), (101, False), (102, True)):
        assign(dm, lid, user_id=user_id, fulfilled=fulfilled)

    def users(**params: Any) -> list[int]:
        response = dm.get(PA, params={"license_id": lid, **params})
        assert response.status_code == 200, response.text
        return [r["user_id"] for r in response.json()["results"]]

    assert users() == [103, 101, 102]
    assert users(sort="-id") == [102, 101, 103]
    assert users(sort="user_id") == [101, 102, 103]
    assert users(fulfilled="true") == [103, 102]
    assert users(user_id=101) == [101]
    assert users(email="bob@alpha.example") == [102]
    assert users(active="false") == []
    assert_error(dm.get(PA, params={"license_id": lid, "sort": "secret"}), 400)


def test_group_assignment(api: Api, dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=3)
    lid = license["id"]
    assert assign(dm, lid, user_id=103).status_code == 200  # direct, member of group 12
    response = dm.post(GA + f"?license_id={lid}", json={"license_id": lid, "group_id": 12})
    assert response.status_code == 200, response.text
    group_12 = response.json()
    assert (group_12["user_count"], group_12["assigned_count"]) == (2, 2)
    assert group_12["group_name"] == "Alpha ML Team" and group_12["redirect_to"] is None
    assert usage(dm, lid) == 2  # 104 got a non-direct assignment; 103 kept its direct one
    group_11 = dm.post(GA, json={"license_id": lid, "group_id": 11, "fulfilled": True}).json()
    assert (group_11["user_count"], group_11["assigned_count"]) == (2, 1)  # one seat left: 101 only
    assert usage(dm, lid) == 3
    again = dm.post(GA, json={"license_id": lid, "group_id": 11, "active": False}).json()
    assert again["id"] == group_11["id"] and again["active"] is False  # create-or-update
    listed = dm.get(GA, params={"license_id": lid}).json()
    assert [r["group_id"] for r in listed["results"]] == [12, 11]
    assert [r["group_id"] for r in dm.get(GA, params={"license_id": lid, "group_id": 11}).json()["results"]] == [11]
    members = {r["user_id"]: r["direct"] for r in dm.get(PA, params={"license_id": lid}).json()["results"]}
    assert members == {103: True, 104: False, 101: False}
    # delete group 12 with its user assignments: 104 goes, 103 (direct) stays
    assert dm.delete(GA, params={"license_id": lid, "assignment_id": group_12["id"],
                                 "remove_user_assignments": "true"}).status_code == 200
    members = {r["user_id"] for r in dm.get(PA, params={"license_id": lid}).json()["results"]}
    assert members == {103, 101}
    # delete group 11 keeping its user assignments
    assert dm.delete(GA, params={"license_id": lid, "assignment_id": group_11["id"],
                                 "remove_user_assignments": "false"}).status_code == 200
    assert {r["user_id"] for r in dm.get(PA, params={"license_id": lid}).json()["results"]} == {103, 101}
    assert dm.get(GA, params={"license_id": lid}).json()["count"] == 0
    assert_error(dm.delete(GA, params={"license_id": lid, "assignment_id": group_11["id"]}), 404)


def test_group_assignment_errors(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license()
    lid = license["id"]
    assert_error(dm.post(GA, json={"license_id": lid}), 400)
    assert_error(dm.post(GA, json={"license_id": lid, "group_id": "11"}), 400)
    assert_error(dm.post(GA, json={"license_id": lid, "group_id": 21}), 404)  # beta's group
    assert_error(dm.post(GA, json={"license_id": lid, "group_id": 19}), 404)  # internal group
    assert_error(dm.post(GA, json={"license_id": lid, "group_id": 999}), 404)
    assert_error(dm.post(GA, json={"license_id": 999, "group_id": 11}), 404)
    inactive = make_program_license(active=False)
    assert_error(dm.post(GA, json={"license_id": inactive["id"], "group_id": 11}), 400)


def test_user_license_assignments(dm: httpx.Client, make_user_license: Callable[..., Any]) -> None:
    license = make_user_license(count=2)
    lid = license["id"]
    first = dm.post(UA + f"?license_id={lid}", json={"license_id": lid, "user_id": 101})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"id", "user_id", "username", "email", "active", "fulfilled", "redirect_to", "metadata",
                         "license_id", "license_name", "platform_key"}
    assert body["platform_key"] == "alpha" and body["redirect_to"] is None
    assert dm.post(UA, json={"license_id": lid, "email": "alice@alpha.example"}).json()["id"] == body["id"]
    assert dm.post(UA, json={"license_id": lid, "email": "bob@alpha.example"}).status_code == 200
    assert_error(dm.post(UA, json={"license_id": lid, "user_id": 103}), 400)  # full
    assert_error(dm.post(UA, json={"license_id": lid, "email": "ghost@alpha.example"}), 404)
    listed = dm.get(UA, params={"license_id": lid, "sort": "-id"}).json()
    assert [r["user_id"] for r in listed["results"]] == [102, 101]
    assert dm.delete(UA, params={"license_id": lid, "assignment_id": body["id"]}).status_code == 200
    assert dm.post(UA, json={"license_id": lid, "user_id": 103}).status_code == 200
    assert_error(dm.delete(UA, params={"license_id": lid, "assignment_id": body["id"]}), 404)
    listed = dm.get("/api/catalog/licenses/user/?verbose=true").json()["results"][0]
    assert listed["usage_count"] == 2 and listed["assignments"]["total"] == 2
