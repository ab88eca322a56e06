"""Program and user licenses: create, update, list, filters, sort, verbose, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx

from .conftest import assert_error, assign, history, program_license_body

PROGRAM_FIELDS = {"id", "created", "started", "expired", "name", "count", "active", "metadata", "source",
                  "external_id", "platform_key", "program_id", "program_key", "program_name", "usage_count"}
USER_FIELDS = {"id", "created", "started", "expired", "name", "count", "active", "metadata", "source",
               "external_id", "platform_key", "usage_count"}


def test_program_license_create(dm: httpx.Client) -> None:
    response = dm.post("/api/catalog/licenses/program/create/", json=program_license_body(
        external_id="ext-1", metadata={"k": 1}, expired="2030-01-01T00:00:00+02:00", source="crm"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PROGRAM_FIELDS
    assert body["platform_key"] == "alpha"
    assert body["program_id"] == body["program_key"] == fx.PROGRAM_KEYS[0]
    assert body["program_name"] == "Alpha Data Science Program"
    assert (body["count"], body["usage_count"], body["active"]) == (3, 0, True)
    assert body["started"] == "2026-01-01T00:00:00Z"
    assert body["expired"] == "2029-12-31T22:00:00Z"
    assert body["created"].endswith("Z")
    assert (body["external_id"], body["source"], body["metadata"]) == ("ext-1", "crm", {"k": 1})


@pytest.mark.parametrize("body", [
    {"platform_key": "alpha", "program_id": fx.PROGRAM_KEYS[1]},          # the prose's reading
    {"platform_org": "alpha", "program_key": fx.PROGRAM_KEYS[1]},         # the published reading
    {"platform_id": 1, "program_key": fx.PROGRAM_KEYS[1], "name": "n", "count": 1, "started": "2026-02-01"},
])
def test_program_license_create_accepts_either_reading(dm: httpx.Client, body: dict[str, Any]) -> None:
    response = dm.post("/api/catalog/licenses/program/create/", json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["program_key"] == fx.PROGRAM_KEYS[1] and created["platform_key"] == "alpha"
    assert created["source"] == "api"


@pytest.mark.parametrize("body", [
    {"program_key": fx.PROGRAM_KEYS[0]},                                      # no platform
    {"platform_key": "alpha"},                                                # no program
    {"platform_key": "nowhere", "program_key": fx.PROGRAM_KEYS[0]},           # unknown platform
    {"platform_key": "alpha", "program_key": "program-v1:none+x+1"},          # unknown program
    {"platform_key": "alpha", "program_key": fx.OTHER_PROGRAM_KEYS[0]},       # beta's program
    {"platform_key": "alpha", "platform_org": "beta", "program_key": fx.PROGRAM_KEYS[0]},
    {"platform_key": "alpha", "program_key": fx.PROGRAM_KEYS[0], "program_id": fx.PROGRAM_KEYS[1]},
    program_license_body(count=-1),
    program_license_body(count="3"),
    program_license_body(count=2**70),
    program_license_body(started="yesterday"),
    program_license_body(active="yes"),
    program_license_body(metadata=[1]),
    program_license_body(name=None),
])
def test_program_license_create_refuses_bad_input(dm: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(dm.post("/api/catalog/licenses/program/create/", json=body), 400)


def test_external_id_is_unique(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    make_program_license(external_id="dup")
    assert_error(dm.post("/api/catalog/licenses/program/create/", json=program_license_body(external_id="dup")), 400)


def test_create_writes_one_create_history_record(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(transaction_id="t-0")
    records = history(dm, "program", license["id"])
    assert [(r["change_type"], r["transaction_id"]) for r in records] == [("create", "t-0")]


def test_update_by_id_and_by_external_id_writes_one_record_each(
        dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(external_id="ext-u")
    response = dm.post("/api/catalog/licenses/program/update/",
                       json={"license_id": license["id"], "count": 10, "name": "Renamed", "transaction_id": "t-1"})
    assert response.status_code == 200, response.text
    assert (response.json()["count"], response.json()["name"]) == (10, "Renamed")
    response = dm.post("/api/catalog/licenses/program/update/",
                       json={"external_id": "ext-u", "active": False, "change_type": "renewal"})
    assert response.status_code == 200
    assert response.json()["active"] is False
    records = history(dm, "program", license["id"])
    assert [(r["change_type"], r["transaction_id"]) for r in records] == [
        ("create", None), ("update", "t-1"), ("renewal", None)]
    assert len({r["id"] for r in records}) == 3


def test_update_never_moves_platform_or_program(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license()
    response = dm.post("/api/catalog/licenses/program/update/", json={
        "license_id": license["id"], "platform_key": "beta", "platform_org": "beta",
        "program_id": fx.OTHER_PROGRAM_KEYS[0], "program_key": fx.OTHER_PROGRAM_KEYS[0]})
    assert response.status_code == 200
    body = response.json()
    assert (body["platform_key"], body["program_key"]) == ("alpha", fx.PROGRAM_KEYS[0])
    assert len(history(dm, "program", license["id"])) == 2


def test_update_errors(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(external_id="e-1")
    assert_error(dm.post("/api/catalog/licenses/program/update/", json={"name": "x"}), 400)
    assert_error(dm.post("/api/catalog/licenses/program/update/"), 400)
    assert_error(dm.post("/api/catalog/licenses/program/update/", json={"license_id": 999999}), 404)
    assert_error(dm.post("/api/catalog/licenses/program/update/", json={"external_id": "nope"}), 404)
    assert_error(dm.post("/api/catalog/licenses/program/update/",
                         json={"license_id": license["id"], "external_id": "other"}), 404)
    assert_error(dm.post("/api/catalog/licenses/program/update/",
                         json={"license_id": license["id"], "count": "ten"}), 400)
    assert_error(dm.post("/api/catalog/licenses/program/update/",
                         json={"license_id": license["id"], "started": None}), 400)
    assert len(history(dm, "program", license["id"])) == 1  # failed updates write nothing


def test_list_filters(dm: httpx.Client, make_program_license: Callable[..., Any], app: Any) -> None:
    app.state.store.clock = lambda: "2026-05-01T12:00:00Z"  # every license created in the same second
    a = make_program_license(name="Alpha Gold", source="crm", external_id="x-a")
    b = make_program_license(name="Alpha Silver", program_key=fx.PROGRAM_KEYS[1], program_id=fx.PROGRAM_KEYS[1],
                             active=False)
    c = make_program_license(name="gold rush", source="crm")
    beta = dm.post("/api/catalog/licenses/program/create/", json=program_license_body(
        platform_key="beta", program_key=fx.OTHER_PROGRAM_KEYS[0], program_id=fx.OTHER_PROGRAM_KEYS[0])).json()

    def ids(query: str) -> list[int]:
        response = dm.get("/api/catalog/licenses/program/" + query)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["results"]]

    assert ids("") == [beta["id"], c["id"], b["id"], a["id"]]  # default sort -id
    assert ids("?platform_key=alpha") == [c["id"], b["id"], a["id"]]
    assert ids("?key=beta") == [beta["id"]]
    assert ids("?org=alpha&platform_org=alpha") == [c["id"], b["id"], a["id"]]
    assert ids("?platform_key=alpha&org=beta") == []
    assert ids("?platform_key=nowhere") == []
    assert ids("?name=Alpha%20Gold") == [a["id"]]
    assert ids("?name=alpha%20gold") == []  # exact
    assert ids("?query=GOLD") == [c["id"], a["id"]]  # contains, case-insensitive
    assert ids("?source=crm") == [c["id"], a["id"]]
    assert ids("?active=false") == [b["id"]]
    assert ids("?active=true&platform_key=alpha") == [c["id"], a["id"]]
    assert ids("?program_id=" + fx.PROGRAM_KEYS[1].replace("+", "%2B")) == [b["id"]]
    assert ids("?external_id=x-a") == [a["id"]]
    assert ids("?sort=id&platform_key=alpha") == [a["id"], b["id"], c["id"]]
    assert ids("?sort=name&platform_key=alpha") == [a["id"], b["id"], c["id"]]
    assert ids("?sort=-created&platform_key=alpha") == [a["id"], b["id"], c["id"]]  # same second: id ascends
    assert_error(dm.get("/api/catalog/licenses/program/?sort=password"), 400)
    assert_error(dm.get("/api/catalog/licenses/program/?active=maybe"), 400)


def test_verbose_adds_assignment_counts(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=5)
    assert assign(dm, license["id"], user_id=101, fulfilled=True).status_code == 200
    assert assign(dm, license["id"], user_id=102, active=False).status_code == 200
    plain = dm.get("/api/catalog/licenses/program/").json()["results"][0]
    assert "assignments" not in plain and plain["usage_count"] == 2
    verbose = dm.get("/api/catalog/licenses/program/?verbose=true").json()["results"][0]
    assert verbose["assignments"] == {"total": 2, "active": 1, "inactive": 1, "fulfilled": 1, "pending": 1}
    assert verbose["assignments"]["total"] == verbose["usage_count"]


# --------------------------------------------------------------------- user licenses

def test_user_license_create_update_list(dm: httpx.Client) -> None:
    response = dm.post("/api/catalog/licenses/user/create/", json={
        "platform_key": "alpha", "name": "U", "count": 4, "started": "2026-03-01T08:00:00Z",
        "external_id": "u-1", "transaction_id": "tx"})
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == USER_FIELDS
    assert created["usage_count"] == 0 and created["platform_key"] == "alpha"
    updated = dm.post("/api/catalog/licenses/user/update/",
                      json={"external_id": "u-1", "count": 6, "platform_key": "beta"}).json()
    assert (updated["count"], updated["platform_key"]) == (6, "alpha")
    records = history(dm, "user", created["id"])
    assert [(r["change_type"], r["transaction_id"]) for r in records] == [("create", "tx"), ("update", None)]
    listed = dm.get("/api/catalog/licenses/user/?platform_key=alpha&verbose=true").json()
    assert listed["count"] == 1 and listed["results"][0]["assignments"]["total"] == 0
    assert dm.get("/api/catalog/licenses/user/?query=zzz").json()["count"] == 0
    assert_error(dm.post("/api/catalog/licenses/user/create/", json={"name": "no platform"}), 400)
    assert_error(dm.post("/api/catalog/licenses/user/create/", json={"platform_key": "alpha",
                                                                     "external_id": "u-1"}), 400)
    assert_error(dm.post("/api/catalog/licenses/user/update/", json={"license_id": 4242}), 404)


def test_probe_history_is_separate_per_kind(dm: httpx.Client, make_program_license: Callable[..., Any],
                                            make_user_license: Callable[..., Any]) -> None:
    program = make_program_license()
    user = make_user_license()
    assert program["id"] == user["id"] == 1
    assert len(history(dm, "program", 1)) == 1 and len(history(dm, "user", 1)) == 1
    assert_error(dm.get(f"{fx.PROBE_PATH}/v1/licenses/program/2/history"), 404)
    assert_error(dm.get(f"{fx.PROBE_PATH}/v1/licenses/course/1/history"), 404)
    assert_error(dm.get(f"{fx.PROBE_PATH}/v1/licenses/program/abc/history"), 404)
    assert_error(dm.get(f"{fx.PROBE_PATH}/v1/licenses/program/{10**30}/history"), 404)
