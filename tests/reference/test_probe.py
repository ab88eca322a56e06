"""The probe: DM admin only, read-only, object counts and the writes counter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from conformance.reference import fixtures as fx

from .conftest import Api, assert_error, assign

STATE = f"{fx.PROBE_PATH}/v1/state"


def test_probe_is_dm_admin_only(api: Api) -> None:
    for role in ("platform_admin", "other_platform_admin", "learner"):
        assert_error(api.client(role).get(STATE), 403)
        assert_error(api.client(role).get(f"{fx.PROBE_PATH}/v1/licenses/program/1/history"), 403)
    assert_error(api.client(None).get(STATE), 401)
    assert api.client("dm_admin", scheme="Api-Key").get(STATE).status_code == 200


def test_state_counts_objects_and_every_write_request(dm: httpx.Client, learner: httpx.Client,
                                                    make_program_license: Callable[..., Any]) -> None:
    start = dm.get(STATE).json()
    assert start["writes"] == 0
    assert start["objects"]["rbac_policies"] == 2 and start["objects"]["program_licenses"] == 0
    license = make_program_license()                                   # write 1
    assert assign(dm, license["id"], user_id=101).status_code == 200   # write 2
    assert_error(assign(dm, license["id"], user_id=999), 404)          # write 3 (refused, still received)
    assert_error(learner.post("/api/catalog/licenses/program/create/", json={}), 403)  # write 4
    dm.get("/api/catalog/licenses/program/")                           # reads are not counted
    dm.head("/api/catalog/licenses/program/")
    state = dm.get(STATE).json()
    assert state["writes"] == 4
    assert state["objects"]["program_licenses"] == 1
    assert state["objects"]["program_license_assignments"] == 1
    assert state["objects"]["license_history"] == 1
    assert dm.get(STATE).json() == state  # the probe itself changes nothing


def test_probe_is_read_only(dm: httpx.Client) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert_error(dm.request(method, STATE), 405)
        assert_error(dm.request(method, f"{fx.PROBE_PATH}/v1/licenses/program/1/history"), 405)
    assert dm.get(STATE).json()["writes"] == 0
