"""The connection to the target: 429 retries with Retry-After, pacing, read-only, and target failures."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from conformance.client.session import ApiClient, Wire
from conformance.errors import TargetError
from conformance.redaction import Secret


def client(handler: Callable[[httpx.Request], httpx.Response], **wire_options: object) -> ApiClient:
    http = httpx.Client(base_url="http://target.test", transport=httpx.MockTransport(handler))
    return ApiClient(Wire(http, **wire_options), "dm_admin", Secret("k-123"), "CONFORMANCE_DM_ADMIN_KEY")


def test_429_is_retried_after_the_time_the_target_asks() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json={"ok": True})

    exchange = client(handler).get("/api/x/")
    assert exchange.status == 200 and len(calls) == 2
    assert calls[1] - calls[0] >= 0.95


def test_endless_429_is_a_target_error() -> None:
    handler = lambda request: httpx.Response(429, headers={"Retry-After": "0"})  # noqa: E731
    with pytest.raises(TargetError, match="429"):
        client(handler, max_retries=2).get("/api/x/")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_target_errors(status: int) -> None:
    handler = lambda request: httpx.Response(status, text="<html>Bad Gateway</html>")  # noqa: E731
    with pytest.raises(TargetError, match=str(status)):
        client(handler).get("/api/x/")


def test_invalid_json_claimed_as_json_is_a_target_error() -> None:
    handler = lambda request: httpx.Response(  # noqa: E731
        200, content=b'{"count": 1, "resu', headers={"Content-Type": "application/json"})
    with pytest.raises(TargetError, match="not JSON"):
        client(handler).get("/api/x/").json()


def test_html_where_json_is_documented_is_a_conformance_failure() -> None:
    handler = lambda request: httpx.Response(200, text="<html>hi</html>", headers={"Content-Type": "text/html"})  # noqa: E731
    with pytest.raises(AssertionError, match="not JSON"):
        client(handler).get("/api/x/").json()


def test_transport_failures_are_target_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TargetError, match="could not be reached"):
        client(refuse).get("/api/x/")
    with pytest.raises(TargetError, match="in time"):
        client(slow).get("/api/x/")


def test_redirect_loops_are_target_errors() -> None:
    handler = lambda request: httpx.Response(302, headers={"Location": "/api/x/"})  # noqa: E731
    with pytest.raises(TargetError, match="loop"):
        client(handler).get("/api/x/")


def test_rate_limit_spaces_requests() -> None:
    api = client(lambda request: httpx.Response(200, json={}), rate_limit=20.0)
    started = time.monotonic()
    for _ in range(6):
        api.get("/api/x/")
    assert time.monotonic() - started >= 5 / 20 - 0.02


def test_read_only_sends_no_write() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(200, json={})

    api = client(handler, read_only=True)
    api.get("/api/x/")
    with pytest.raises(pytest.skip.Exception, match="not verified: needs writes"):
        api.post("/api/x/", {"a": 1})
    assert sent == ["GET"]


def test_the_key_goes_on_the_wire_but_not_into_the_evidence() -> None:
    seen: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(400, json={"detail": "no"})

    exchange = client(handler).post("/api/x/", {"a": 1})
    assert seen["auth"] == "Api-Token k-123"
    assert "k-123" not in exchange.describe() and "k-123" not in str(exchange.request_headers)
