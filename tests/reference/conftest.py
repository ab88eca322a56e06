"""Fixtures for the reference implementation's own tests: a fresh app per test, served in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance.reference import fixtures as fx
from conformance.reference.app import ReferenceKeys, build_app
from conformance.reference.inprocess import InProcessTransport

ROLES = ("dm_admin", "platform_admin", "other_platform_admin", "learner")


class Api:
    """httpx clients for the four callers (and an anonymous one) over one app."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.keys: ReferenceKeys = app.state.keys
        self._clients: list[httpx.Client] = []

    def client(self, role: str | None = None, *, scheme: str = "Api-Token") -> httpx.Client:
        headers = {"Authorization": f"{scheme} {getattr(self.keys, role)}"} if role else {}
        client = httpx.Client(transport=InProcessTransport(self.app), base_url="http://reference.test",
                              headers=headers)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()

    @property
    def store(self) -> Any:
        return self.app.state.store


@pytest.fixture
def app() -> Iterator[Starlette]:
    app = build_app(":memory:")
    yield app
    app.state.store.close()


@pytest.fixture
def api(app: Starlette) -> Iterator[Api]:
    api = Api(app)
    yield api
    api.close()


@pytest.fixture
def dm(api: Api) -> httpx.Client:
    return api.client("dm_admin")


@pytest.fixture
def admin(api: Api) -> httpx.Client:
    return api.client("platform_admin")


@pytest.fixture
def other(api: Api) -> httpx.Client:
    return api.client("other_platform_admin")


@pytest.fixture
def learner(api: Api) -> httpx.Client:
    return api.client("learner")


@pytest.fixture
def anon(api: Api) -> httpx.Client:
    return api.client(None)


def program_license_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "platform_key": fx.PLATFORM_KEY,
        "program_key": fx.PROGRAM_KEYS[0],
        "program_id": fx.PROGRAM_KEYS[0],
        "name": "Data seats",
        "count": 3,
        "started": "2026-01-01T00:00:00Z",
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_program_license(dm: httpx.Client) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        response = dm.post("/api/catalog/licenses/program/create/", json=program_license_body(**overrides))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]
    return make


@pytest.fixture
def make_user_license(dm: httpx.Client) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        body = {"platform_key": fx.PLATFORM_KEY, "name": "User seats", "count": 2,
                "started": "2026-01-01T00:00:00Z", **overrides}
        response = dm.post("/api/catalog/licenses/user/create/", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]
    return make


def assign(client: httpx.Client, license_id: int, **body: Any) -> httpx.Response:
    return client.post(f"/api/catalog/licenses/program/assignment/?license_id={license_id}",
                       json={"license_id": license_id, **body})


def history(dm: httpx.Client, kind: str, license_id: int) -> list[dict[str, Any]]:
    response = dm.get(f"{fx.PROBE_PATH}/v1/licenses/{kind}/{license_id}/history")
    assert response.status_code == 200, response.text
    return response.json()["records"]  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    return body  # type: ignore[no-any-return]
