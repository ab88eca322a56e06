"""The alternate readings: each switch changes what docs/behaviour.md ('Readings') says, and only with it on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conformance.reference import fixtures as fx
from conformance.reference.app import build_app
from conformance.reference.readings import (
    ALTERNATE_LEAVES_OUT,
    CONFLICTS,
    SWITCH_NAMES,
    SWITCHES,
    Readings,
    UnknownReading,
)

from .conftest import Api, assert_error, program_license_body

P = "/api/core/rbac/policies/"
C = "/api/credentials/orgs/alpha/users/101/"
LICENSES = "/api/catalog/licenses/program/"
ASSIGN = "/api/catalog/licenses/program/assignment/"
GROUP_ASSIGN = "/api/catalog/licenses/program/assignment/group/"
USER_ASSIGN = "/api/catalog/licenses/user/assignment/"
SUGGEST = "/api/catalog/suggestions/program/manage/"
BULK = "/api/catalog/suggestions/program/manage/bulk/"
CREDENTIAL = {"credential_id": "c-1", "credential_url": "https://badges.example/c-1", "name": "Badge",
              "revoked": False, "issuer": "i-1", "description": "prose only", "course": "course-v1:a+b+c"}

Serve = Callable[..., dict[str, httpx.Client]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(*switches) -> the four callers' clients (and 'anon') over a fresh app with those readings."""
    made: list[Api] = []

    def start(*names: str) -> dict[str, httpx.Client]:
        api = Api(build_app(":memory:", readings=Readings.parse(names)))
        made.append(api)
        clients = {role: api.client(role) for role in ("dm_admin", "platform_admin", "other_platform_admin", "learner")}
        return {**clients, "anon": api.client(None)}

    yield start
    for api in made:
        api.close()
        api.app.state.store.close()


def program_license(dm: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = dm.post("/api/catalog/licenses/program/create/", json=program_license_body(**overrides))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def policy(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    body = {"platform_key": fx.PLATFORM_KEY, "role_id": fx.ROLE_IDS[0], "resources": ["/x/"], "name": "p", **overrides}
    response = client.post(P, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def both(serve: Serve, name: str, ask: Callable[[dict[str, httpx.Client]], int]) -> tuple[int, int]:
    """The status `ask` gets from the default reference and from one with the switch `name` on."""
    return ask(serve()), ask(serve(name))


# ---------------------------------------------------------------------------- the switch set itself

def test_unknown_and_conflicting_names_are_refused() -> None:
    with pytest.raises(UnknownReading, match="unknown reading"):
        Readings.parse("forbidden-unknown,nonsense")
    first, second, _ = CONFLICTS[0]
    with pytest.raises(UnknownReading, match="conflict"):
        Readings.parse([first, second])
    with pytest.raises(UnknownReading):
        Readings().on("nonsense")


def test_alternate_is_every_switch_but_the_conflicting_ones() -> None:
    assert Readings.alternate().names == SWITCH_NAMES - ALTERNATE_LEAVES_OUT
    assert Readings.parse(" alternate ").names == Readings.alternate().names
    assert Readings.parse(None) == Readings() and str(Readings()) == "default"
    assert {s.name for s in SWITCHES} == SWITCH_NAMES and len(SWITCHES) == len(SWITCH_NAMES)


def test_serve_refuses_unknown_readings(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    assert main(["serve", "--readings", "nonsense", "--port", "0"]) == 2
    assert "unknown reading(s) nonsense" in capsys.readouterr().err


def test_every_switch_is_documented() -> None:
    from pathlib import Path

    behaviour = (Path(__file__).resolve().parents[2] / "docs" / "behaviour.md").read_text(encoding="utf-8")
    readings = behaviour.split("## Readings", 1)[1]
    assert all(f"`{name}`" in readings for name in SWITCH_NAMES)


# ---------------------------------------------------------------------------- one test per switch

def test_forbidden_unknown(serve: Serve) -> None:
    for name in ("forbidden-unknown",):
        default, switched = serve(), serve(name)
        assert default["dm_admin"].get("/api/credentials/orgs/nowhere/users/1/").status_code == 404
        assert switched["dm_admin"].get("/api/credentials/orgs/nowhere/users/1/").status_code == 403
        for clients, status in ((default, 404), (switched, 403)):
            made = policy(clients["dm_admin"])
            assert_error(clients["other_platform_admin"].get(f"{P}{made['id']}/"), status)
            assert_error(clients["platform_admin"].delete(f"{P}{fx.INTERNAL_POLICY_IDS[0]}/?platform_key=alpha"), status)
            assert_error(clients["platform_admin"].get(f"{P}{fx.INTERNAL_POLICY_IDS[0]}/"), 404)  # reading stays 404
            assert_error(clients["dm_admin"].post(ASSIGN, json={"license_id": 999999, "user_id": 101}), status)
        assert_error(default["dm_admin"].post("/api/catalog/licenses/user/create/",
                                              json={"platform_key": "nowhere", "name": "x"}), 400)
        assert_error(switched["dm_admin"].post("/api/catalog/licenses/user/create/",
                                               json={"platform_key": "nowhere", "name": "x"}), 403)


def test_foreign_not_found(serve: Serve) -> None:
    for clients, status in ((serve(), 403), (serve("foreign-not-found"), 404)):
        license = program_license(clients["dm_admin"])
        body = {"license_id": license["id"], "user_id": 101}
        assert_error(clients["other_platform_admin"].post(f"{ASSIGN}?license_id={license['id']}", json=body), status)


def test_page_size_default(serve: Serve) -> None:
    assert both(serve, "page-size-default", lambda c: c["dm_admin"].get(LICENSES, params={"page_size": 0}).status_code) \
        == (400, 200)
    assert serve("page-size-default")["dm_admin"].get(P, params={"page": 0}).status_code == 400


def test_page_below_one_empty(serve: Serve) -> None:
    assert both(serve, "page-below-one-empty", lambda c: c["dm_admin"].get(P, params={"page": 0}).status_code) == (400, 200)
    clients = serve("page-below-one-empty")
    policy(clients["dm_admin"])
    page = clients["dm_admin"].get(P, params={"page": -1}).json()
    assert page["results"] == [] and page["count"] >= 1
    assert clients["dm_admin"].get(LICENSES, params={"page": 0}).status_code == 400  # RBAC lists only


def test_page_past_end_404(serve: Serve) -> None:
    default, switched = serve(), serve("page-past-end-404")
    for path in (LICENSES, P, "/api/core/rbac/roles/", C):
        statuses = [clients["dm_admin"].get(path, params={"page": 50}).status_code for clients in (default, switched)]
        assert statuses == [200, 404], path
    assert serve("page-past-end-404")["dm_admin"].get(LICENSES, params={"page": 1}).status_code == 200  # empty list


def test_page_size_cap_400(serve: Serve) -> None:
    assert both(serve, "page-size-cap-400", lambda c: c["dm_admin"].get(C, params={"page_size": 101}).status_code) \
        == (200, 400)


def test_credential_put_replaces(serve: Serve) -> None:
    for clients, issuer in ((serve(), "i-1"), (serve("credential-put-replaces"), None)):
        dm = clients["dm_admin"]
        assert dm.post(C, json=CREDENTIAL).status_code == 200
        updated = dm.put(C + "c-1", json={"name": "Renamed"}).json()["result"]
        assert (updated["name"], updated["issuer"]) == ("Renamed", issuer)
    assert_error(serve("credential-put-replaces")["dm_admin"].put(C + "nope", json={}), 404)


def test_credential_fields_required(serve: Serve) -> None:
    def create(clients: dict[str, httpx.Client]) -> int:
        return clients["dm_admin"].post(C, json={"name": "Only a name"}).status_code
    assert both(serve, "credential-fields-required", create) == (200, 400)
    assert serve("credential-fields-required")["dm_admin"].post(C, json=CREDENTIAL).status_code == 200


def test_no_prose_fields(serve: Serve) -> None:
    for clients, shown in ((serve(), True), (serve("no-prose-fields"), False)):
        result = clients["dm_admin"].post(C, json=CREDENTIAL).json()["result"]
        assert ("description" in result, "course" in result, "program" in result) == (shown, shown, shown)
        assert result["name"] == "Badge" and result["revoked"] is False
        assert clients["dm_admin"].get(C, params={"search": "prose"}).json()["result"]["count"] == 1


def test_bare_shapes(serve: Serve) -> None:
    dm = serve("bare-shapes")["dm_admin"]
    created = dm.post(C, json=CREDENTIAL)
    assert created.status_code == 201 and created.json()["credential_id"] == "c-1"
    assert dm.get(C + "c-1").json()["name"] == "Badge"
    assert dm.put(C + "c-1", json={"name": "B2"}).json()["name"] == "B2"
    assert [c["credential_id"] for c in dm.get(C).json()] == ["c-1"]
    page = dm.get(LICENSES).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert set(serve()["dm_admin"].get(LICENSES).json()) == {"count", "next_page", "previous_page", "results"}
    assert program_license(dm)["id"]  # license create stays 200


def test_group_assignment_all_or_nothing(serve: Serve) -> None:
    group = fx.GROUP_IDS[0]
    members = len(fx.GROUP_MEMBERS[group])
    for clients, status, assigned in ((serve(), 200, members - 1), (serve("group-assignment-all-or-nothing"), 400, 0)):
        dm = clients["dm_admin"]
        license = program_license(dm, count=members - 1)
        answer = dm.post(f"{GROUP_ASSIGN}?license_id={license['id']}", json={"license_id": license["id"], "group_id": group})
        assert answer.status_code == status, answer.text
        listed = dm.get(ASSIGN, params={"license_id": license["id"]}).json()
        groups = dm.get(GROUP_ASSIGN, params={"license_id": license["id"]}).json()
        assert listed["count"] == assigned and groups["count"] == (1 if status == 200 else 0)


def test_keep_members_on_group_delete(serve: Serve) -> None:
    group = fx.GROUP_IDS[0]
    for clients, left in ((serve(), 0), (serve("keep-members-on-group-delete"), len(fx.GROUP_MEMBERS[group]))):
        dm = clients["dm_admin"]
        license = program_license(dm, count=5)
        made = dm.post(GROUP_ASSIGN, json={"license_id": license["id"], "group_id": group}).json()
        gone = dm.delete(GROUP_ASSIGN, params={"license_id": license["id"], "assignment_id": made["id"]})
        assert gone.status_code == 200
        assert dm.get(ASSIGN, params={"license_id": license["id"]}).json()["count"] == left


def test_inactive_license_open(serve: Serve) -> None:
    def assign(clients: dict[str, httpx.Client]) -> int:
        license = program_license(clients["dm_admin"], active=False)
        return clients["dm_admin"].post(ASSIGN, json={"license_id": license["id"], "user_id": 101}).status_code
    assert both(serve, "inactive-license-open", assign) == (400, 200)


def test_blank_names_accepted(serve: Serve) -> None:
    for clients, status in ((serve(), 400), (serve("blank-names-accepted"), 201)):
        answer = clients["dm_admin"].post(P, json={"platform_key": "alpha", "role_id": fx.ROLE_IDS[0], "resources": [],
                                                   "name": " "})
        assert answer.status_code == status, answer.text
    made = serve("blank-names-accepted")["dm_admin"].post(C, json={**CREDENTIAL, "name": ""})
    assert made.status_code == 200 and made.json()["result"]["name"] == ""


def test_rbac_unauth_403(serve: Serve) -> None:
    assert both(serve, "rbac-unauth-403", lambda c: c["anon"].get(P).status_code) == (401, 403)
    assert serve("rbac-unauth-403")["anon"].get(LICENSES).status_code == 401  # catalog keeps 401


def test_license_fields_required(serve: Serve) -> None:
    def create(clients: dict[str, httpx.Client]) -> int:
        body = {k: v for k, v in program_license_body().items() if k != "count"}
        return clients["dm_admin"].post("/api/catalog/licenses/program/create/", json=body).status_code
    assert both(serve, "license-fields-required", create) == (200, 400)


def test_no_create_history(serve: Serve) -> None:
    for clients, records in ((serve(), 1), (serve("no-create-history"), 0)):
        license = program_license(clients["dm_admin"])
        history = clients["dm_admin"].get(f"{fx.PROBE_PATH}/v1/licenses/program/{license['id']}/history").json()
        assert len(history["records"]) == records


def test_immutable_fields_refused(serve: Serve) -> None:
    def move(clients: dict[str, httpx.Client]) -> int:
        license = program_license(clients["dm_admin"])
        body = {"license_id": license["id"], "platform_key": fx.OTHER_PLATFORM_KEY}
        return clients["dm_admin"].post("/api/catalog/licenses/program/update/", json=body).status_code
    assert both(serve, "immutable-fields-refused", move) == (200, 400)


def test_username_refused(serve: Serve) -> None:
    def assign(clients: dict[str, httpx.Client]) -> int:
        license = program_license(clients["dm_admin"])
        return clients["dm_admin"].post(ASSIGN, json={"license_id": license["id"], "username": "alice"}).status_code
    assert both(serve, "username-refused", assign) == (200, 400)


def test_metadata_merged(serve: Serve) -> None:
    for clients, metadata in ((serve(), {"b": 2}), (serve("metadata-merged"), {"a": 1, "b": 2})):
        dm = clients["dm_admin"]
        license = program_license(dm)
        dm.post(ASSIGN, json={"license_id": license["id"], "user_id": 101, "metadata": {"a": 1}})
        again = dm.post(ASSIGN, json={"license_id": license["id"], "user_id": 101, "metadata": {"b": 2}}).json()
        assert again["metadata"] == metadata


def test_assigned_by_group(serve: Serve) -> None:
    group = fx.GROUP_IDS[0]
    members = fx.GROUP_MEMBERS[group]
    for clients, assigned in ((serve(), len(members)), (serve("assigned-by-group"), len(members) - 1)):
        dm = clients["dm_admin"]
        license = program_license(dm, count=5)
        dm.post(ASSIGN, json={"license_id": license["id"], "user_id": members[0]})  # a direct one first
        made = dm.post(GROUP_ASSIGN, json={"license_id": license["id"], "group_id": group}).json()
        assert made["assigned_count"] == assigned


def test_missing_user_404(serve: Serve) -> None:
    def assign(clients: dict[str, httpx.Client]) -> int:
        made = clients["dm_admin"].post("/api/catalog/licenses/user/create/",
                                        json={"platform_key": "alpha", "name": "u", "count": 1})
        license_id = made.json()["id"]
        return clients["dm_admin"].post(USER_ASSIGN, json={"license_id": license_id}).status_code
    assert both(serve, "missing-user-404", assign) == (400, 404)


def test_bulk_items_strict(serve: Serve) -> None:
    def bulk(clients: dict[str, httpx.Client]) -> int:
        return clients["dm_admin"].post(BULK, json={"platform_key": "alpha", "suggestion_data": ["x"]}).status_code
    assert both(serve, "bulk-items-strict", bulk) == (200, 400)


def test_omit_excluded_members(serve: Serve) -> None:
    for clients, present in ((serve(), True), (serve("omit-excluded-members"), False)):
        dm = clients["dm_admin"]
        policy(dm)
        policies = dm.get(P, params={"include_users": "false", "include_groups": "false"}).json()["results"]
        groups = dm.get("/api/core/rbac/groups/", params={"include_users": "false"}).json()["results"]
        assert all(("users" in p, "groups" in p) == (present, present) for p in policies) and policies
        assert all(("users" in g) == present for g in groups) and groups
        assert "users" in dm.get("/api/core/rbac/groups/").json()["results"][0]


def test_put_keeps_name(serve: Serve) -> None:
    for clients, kept in ((serve(), False), (serve("put-keeps-name"), True)):
        dm = clients["dm_admin"]
        made = policy(dm, name="keep me")
        body = {"platform_key": "alpha", "role_id": fx.ROLE_IDS[0], "resources": ["/y/"]}
        assert (dm.put(f"{P}{made['id']}/", json=body).json()["name"] == "keep me") is kept


def test_foreign_list_filtered(serve: Serve) -> None:
    def listing(clients: dict[str, httpx.Client]) -> int:
        return clients["other_platform_admin"].get(P, params={"platform_key": fx.PLATFORM_KEY}).status_code
    assert both(serve, "foreign-list-filtered", listing) == (403, 200)
    clients = serve("foreign-list-filtered")
    policy(clients["dm_admin"])
    assert clients["other_platform_admin"].get(P, params={"platform_key": fx.PLATFORM_KEY}).json()["results"] == []


def test_platform_key_required(serve: Serve) -> None:
    assert both(serve, "platform-key-required", lambda c: c["platform_admin"].get(P).status_code) == (200, 403)
    assert serve("platform-key-required")["dm_admin"].get(P).status_code == 200


def test_suggestion_of_another_platform_is_forbidden_under_forbidden_unknown(serve: Serve) -> None:
    for clients, status in ((serve(), 404), (serve("forbidden-unknown"), 403)):
        made = clients["dm_admin"].post(SUGGEST, json={"platform_key": "beta", "program_key": fx.OTHER_PROGRAM_KEYS[0],
                                                       "user_id": fx.OTHER_USER_IDS[0]}).json()
        assert_error(clients["dm_admin"].delete(SUGGEST, params={"suggestion_id": made["id"], "platform_key": "alpha"}),
                     status)
