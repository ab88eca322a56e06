"""ReferenceServer: a real uvicorn server on a loopback port; concurrency; restart with a file."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from conformance.reference import fixtures as fx
from conformance.reference.app import ReferenceKeys
from conformance.reference.server import ReferenceServer, keys_from_environment

from .conftest import program_license_body


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Api-Token {key}"}


def test_start_stop_and_answer(tmp_path: Path) -> None:
    with ReferenceServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
        assert server.probe_url == server.base_url + fx.PROBE_PATH
        assert server.app.state.keys is server.keys
        with httpx.Client(base_url=server.base_url) as client:
            assert client.get("/api/core/rbac/roles/", headers=auth(server.keys.platform_admin)).status_code == 200
            assert client.get("/api/core/rbac/roles/").status_code == 401
        assert server.keys.dm_admin not in repr(server)
    with pytest.raises(httpx.TransportError):
        httpx.get(server.base_url + "/", timeout=1)


def test_stop_soon_returns_at_once_and_the_server_ends_on_its_own() -> None:
    server = ReferenceServer().start()
    thread = server._thread
    assert thread is not None
    with httpx.Client(base_url=server.base_url) as client:  # a kept-alive connection does not hold the exit up
        assert client.get("/api/core/rbac/roles/", headers=auth(server.keys.platform_admin)).status_code == 200
        server.stop_soon()
        thread.join(timeout=5)
        assert not thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.base_url + "/", timeout=1)


def test_two_servers_get_different_ports() -> None:
    with ReferenceServer() as one, ReferenceServer() as two:
        assert one.port != two.port


def test_concurrent_assignments_never_oversubscribe() -> None:
    seats, users = 2, fx.USER_IDS  # 4 users race for 2 seats, several times each
    with ReferenceServer() as server:
        key = server.keys.dm_admin
        with httpx.Client(base_url=server.base_url, headers=auth(key)) as client:
            license = client.post("/api/catalog/licenses/program/create/",
                                  json=program_license_body(count=seats)).json()
        barrier = threading.Barrier(len(users) * 3)
        results: list[tuple[int, int]] = []
        lock = threading.Lock()

        def claim(user_id: int) -> None:
            with httpx.Client(base_url=server.base_url, headers=auth(key), timeout=30) as client:
                barrier.wait()
                response = client.post(f"/api/catalog/licenses/program/assignment/?license_id={license['id']}",
                                       json={"license_id": license["id"], "user_id": user_id})
            with lock:
                results.append((user_id, response.status_code))

        threads = [threading.Thread(target=claim, args=(u,)) for u in users for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert {status for _, status in results} <= {200, 400}
        winners = {user for user, status in results if status == 200}
        assert len(winners) == seats
        with httpx.Client(base_url=server.base_url, headers=auth(key)) as client:
            listed = client.get("/api/catalog/licenses/program/?verbose=true").json()["results"][0]
            assignments = client.get("/api/catalog/licenses/program/assignment/",
                                     params={"license_id": license["id"]}).json()
        assert listed["usage_count"] == seats and assignments["count"] == seats
        assert {a["user_id"] for a in assignments["results"]} == winners


def test_restart_with_a_file_database_keeps_data(tmp_path: Path) -> None:
    database = str(tmp_path / "reference.sqlite3")
    keys = ReferenceKeys.generate()
    with ReferenceServer(database=database, keys=keys) as server:
        with httpx.Client(base_url=server.base_url, headers=auth(keys.dm_admin)) as client:
            license = client.post("/api/catalog/licenses/program/create/",
                                  json=program_license_body(external_id="keep-me")).json()
            client.post("/api/catalog/licenses/program/update/", json={"license_id": license["id"], "count": 9})
    with ReferenceServer(database=database) as restarted:  # new keys, same data
        with httpx.Client(base_url=restarted.base_url, headers=auth(restarted.keys.dm_admin)) as client:
            listed = client.get("/api/catalog/licenses/program/", params={"external_id": "keep-me"}).json()
            assert [(r["id"], r["count"]) for r in listed["results"]] == [(license["id"], 9)]
            history = client.get(f"{fx.PROBE_PATH}/v1/licenses/program/{license['id']}/history").json()
            assert [r["change_type"] for r in history["records"]] == ["create", "update"]
            state = client.get(f"{fx.PROBE_PATH}/v1/state").json()
            assert state["objects"]["rbac_policies"] == 2  # not seeded twice
            assert state["writes"] == 0  # counted since this start
            new = client.post("/api/catalog/licenses/program/create/", json=program_license_body()).json()
            assert new["id"] == license["id"] + 1
    # the same object restarts too
    server = ReferenceServer(database=database)
    server.start()
    server.stop()
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers=auth(server.keys.dm_admin)) as client:
            assert client.get("/api/catalog/licenses/program/").json()["count"] == 2
    finally:
        server.stop()


def test_keys_from_environment() -> None:
    keys, generated = keys_from_environment({"CONFORMANCE_DM_ADMIN_KEY": "dm", "CONFORMANCE_LEARNER_KEY": " l "})
    assert (keys.dm_admin, keys.learner) == ("dm", "l")
    assert generated == ["platform_admin", "other_platform_admin", "department_admin"]
    assert keys.platform_admin and keys.platform_admin != keys.other_platform_admin
