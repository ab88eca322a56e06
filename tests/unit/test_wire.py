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


def test_a_gateway_error_that_clears_is_retried_once() -> None:
    statuses = [502, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), json={})

    assert client(handler).get("/api/x/").status == 200 and not statuses


def test_a_refused_connection_that_clears_is_retried() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={})

    assert client(handler).get("/api/x/").status == 200 and len(calls) == 2


def test_429_is_tried_as_often_as_configured() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(429, headers={"Retry-After": "0"})

    with pytest.raises(TargetError, match="429"):
        client(handler, max_retries=2).get("/api/x/")
    assert len(calls) == 3


def test_a_failure_at_the_first_attempt_is_not_retried_unless_transient() -> None:
    calls: list[str] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TargetError, match="in time"):
        client(slow).get("/api/x/")
    assert len(calls) == 1


@pytest.mark.parametrize(("path", "params"), [
    ("/api/x/", None), ("/api/x/", {}), ("/api/x/?a=1&b", {}), ("/api/x/?a=1&b", None), ("/api/x/", {"n": 1}),
    ("/api/x/", {"n": 1.0}), ("/api/x/", {"n": "1"}), ("/api/x/", {"n": [1, 2]}), ("/api/x/", {"n": (1, "2")}),
    ("/api/ä x/", {"q": "a b&c"}), ("http://other.test/page?p=2", None), ("api/x", {"m": True}),
])
def test_a_request_url_is_the_one_httpx_merges_each_time(path: str, params: dict[str, object] | None) -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={})

    http = httpx.Client(base_url="http://target.test/base/", transport=httpx.MockTransport(handler))
    api = ApiClient(Wire(http), None, None, None)
    for _ in range(2):  # the second time from the remembered URL
        api.get(path, params=params)
    plain = str(http.build_request("GET", path, params={k: ("true" if v else "false") if isinstance(v, bool) else v
                                                       for k, v in params.items()} if params is not None else None).url)
    assert urls == [plain, plain]


def test_queries_that_compare_equal_keep_their_own_urls() -> None:
    urls: list[str] = []
    http = httpx.Client(base_url="http://target.test", transport=httpx.MockTransport(
        lambda request: urls.append(str(request.url)) or httpx.Response(200, json={})))
    api = ApiClient(Wire(http), None, None, None)
    for value in (1, 1.0, "1", 1, 1.0):
        api.get("/api/x/", params={"n": value})
    assert urls == ["http://target.test/api/x/?n=1", "http://target.test/api/x/?n=1.0", "http://target.test/api/x/?n=1",
                    "http://target.test/api/x/?n=1", "http://target.test/api/x/?n=1.0"]
