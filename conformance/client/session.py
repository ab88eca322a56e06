"""The HTTP session to the target: one client per kind of caller, redacted exchanges, curl reproductions."""

from __future__ import annotations

import functools
import json
import os
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import requests
import tenacity

from conformance.config import ROLE_TITLES, Settings
from conformance.errors import TargetError
from conformance.redaction import Secret, redact_headers
from conformance.run_context import BROKEN_FILE, RATE_FILE
from conformance.verdicts import not_verified

JSON_BODY_LIMIT = 2000  # characters of a body kept in a failure message
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GATEWAY_ERRORS = frozenset({502, 503, 504})
# Failures of either HTTP client the suite uses (httpx for scenarios, requests under schemathesis).
TIMEOUTS: tuple[type[BaseException], ...] = (httpx.TimeoutException, requests.exceptions.Timeout)
REDIRECT_LOOPS: tuple[type[BaseException], ...] = (httpx.TooManyRedirects, requests.exceptions.TooManyRedirects)
BROKEN_CONNECTIONS: tuple[type[BaseException], ...] = (
    httpx.TransportError, httpx.DecodingError, requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, with credentials already masked."""

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: Any
    status: int
    response_headers: Mapping[str, str]
    text: str
    elapsed: float
    key_variable: str | None

    @property
    def operation(self) -> str:
        """"METHOD /path" of the request."""
        return f"{self.method} {_path_of(self.url)}"

    def json(self) -> Any:
        """The response body as JSON; an AssertionError naming the exchange if it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            claimed = "json" in self.response_headers.get("content-type", "").lower()
            problem = (f"{self.operation} answered {self.status} with a body that is not JSON: "
                       f"{self.text[:200]!r}\n{self.describe()}")
            if claimed:  # says JSON, is not: a truncated or garbled answer
                raise TargetError(problem.splitlines()[0]) from None
            raise AssertionError(problem) from None

    def curl(self) -> str:
        """A curl command that repeats the request; the key is read from its environment variable."""
        parts = ["curl", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() == "authorization":
                scheme = value.split(" ", 1)[0] if " " in value else "Api-Token"
                value = f"{scheme} ${self.key_variable}" if self.key_variable else value
                parts += ["-H", f'"{name}: {value}"']
            elif name.lower() == "content-type" and not value.startswith("multipart/"):  # curl -F sets its own
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        return " ".join(parts + _curl_body(self.request_body))

    def transcript(self) -> str:
        """Request and response as text, credentials masked (for report attachments)."""
        request_headers = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
        body = "" if self.request_body is None else "\n\n" + json.dumps(self.request_body, indent=2)
        answer = self.text if len(self.text) <= 20 * JSON_BODY_LIMIT else self.text[:20 * JSON_BODY_LIMIT] + "..."
        return (f"{self.method} {self.url}\n{request_headers}{body}\n\n--> {self.status} "
                f"({self.elapsed * 1000:.0f} ms)\n{self.response_headers.get('content-type', '')}\n\n{answer}\n\n"
                f"reproduce: {self.curl()}")

    def describe(self) -> str:
        """Evidence for a failure message: status, body excerpt, reproduction."""
        body = self.text if len(self.text) <= JSON_BODY_LIMIT else self.text[:JSON_BODY_LIMIT] + "..."
        return f"  received: {self.status} {body}\n  reproduce: {self.curl()}"


@functools.lru_cache(maxsize=4096)
def _path_of(url: str) -> str:
    """The path of a URL as httpx reads it (parsing is dear and failure messages ask for the same URLs again)."""
    return httpx.URL(url).path


def _url_key(path: str, params: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    """A key naming the URL of `path` and `params` (each value with its type: 1 and 1.0 are written differently);
    None when a value cannot be a key."""
    if params is None:
        return (path, None)
    try:
        key = (path, tuple((name, type(value), tuple((type(item), item) for item in value)
                            if isinstance(value, (list, tuple)) else value) for name, value in params.items()))
        hash(key)
    except TypeError:
        return None
    return key


URL_CACHE_SIZE = 4096  # distinct (path, query) pairs a connection remembers the merged URL of
TRANSIENT_RETRIES = 2  # a refused connection or a gateway error is tried again this often, a second apart


class _Transient(TargetError):
    """A failure a retry may clear (a dropped connection, a gateway error)."""


class Wire:
    """The one connection to the target: pacing, retries on 429, and what counts as the target breaking."""

    def __init__(self, http: httpx.Client, *, read_only: bool = False, rate_limit: float | None = None,
                 max_retries: int = 3, max_retry_wait: float = 30.0, rate_file: Path | None = None,
                 broken_file: Path | None = None) -> None:
        self.http = http
        self.read_only = read_only
        self.observers: list[Callable[[Exchange], None]] = []  # e.g. the current test's attachment list
        self.step: Callable[[str], AbstractContextManager[Any]] = lambda title: nullcontext()  # report steps
        self._pace = shared_pacer(rate_limit, rate_file) if rate_limit and rate_file else _local_pacer(rate_limit)
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda r: int(r.status_code) == 429),
            wait=_retry_after(max_retry_wait), stop=tenacity.stop_after_attempt(max_retries + 1),
            retry_error_callback=lambda state: state.outcome.result(), reraise=True,
        )
        self._transient = tenacity.Retrying(retry=tenacity.retry_if_exception_type(_Transient), reraise=True,
                                            wait=tenacity.wait_fixed(1.0),
                                            stop=tenacity.stop_after_attempt(TRANSIENT_RETRIES + 1))
        self._broken_file = broken_file
        self._broken: str | None = None
        self._urls: dict[tuple[Any, ...], httpx.URL] = {}  # (path, query) -> the URL httpx merged for them

    def build(self, method: str, path: str, params: Mapping[str, Any] | None, **options: Any) -> httpx.Request:
        """httpx's request for `path` and `params` on the base URL; the URL httpx merged for a path and query seen
        before is reused (parsing URLs is most of what building a request costs)."""
        key = _url_key(path, params)
        url = self._urls.get(key) if key is not None else None
        if url is not None:
            return self.http.build_request(method, url, **options)
        request = self.http.build_request(method, path, params=params, **options)
        if key is not None:
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[key] = request.url
        return request

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send an httpx request through the guards."""
        def once() -> httpx.Response:
            response = self.http.send(request, follow_redirects=True)
            response.read()
            return response
        return self.guarded(request.method, request.url.path, once)

    def guarded(self, method: str, path: str, send_once: Callable[[], R]) -> R:
        """Run one send (any client's) with pacing, 429 retries, the read-only guard, and target failures
        (transport errors, gateway errors, endless 429) turned into TargetError."""
        what = f"{method} {path}"
        if self.read_only and method.upper() not in SAFE_METHODS:
            not_verified(f"needs writes ({what} in a read-only run)")
        broken = self.broken()
        if broken:  # fail fast: no test (and no shrinking of a generated case) waits on a dead target again
            raise TargetError(f"{what}: not sent, the target broke earlier in this run ({broken})")
        try:
            try:
                return self._checked(what, send_once)
            except _Transient as failure:  # tenacity's retries only once something failed: the common case stays cheap
                return _resumed(self._transient, failure, lambda: self._checked(what, send_once))
        except TargetError as exc:
            self._mark_broken(str(exc))
            raise TargetError(str(exc)) from None

    def broken(self) -> str | None:
        """Why the target was given up on in this run (by any of its processes), or None."""
        if self._broken is None and self._broken_file is not None and os.path.isfile(self._broken_file):
            self._broken = self._broken_file.read_text(encoding="utf-8", errors="replace").strip() or "broken"
        return self._broken

    def _mark_broken(self, reason: str) -> None:
        self._broken = reason.splitlines()[0]
        if self._broken_file is not None:
            try:
                self._broken_file.parent.mkdir(parents=True, exist_ok=True)
                self._broken_file.write_text(self._broken, encoding="utf-8")
            except OSError:
                pass  # this process still stops sending; the others find out by themselves

    def _checked(self, what: str, send_once: Callable[[], R]) -> R:
        response = self._send_once(what, send_once)
        if int(response.status_code) == 429:  # type: ignore[attr-defined]
            response = _resumed(self._retrying, response, lambda: self._send_once(what, send_once))
        status = int(response.status_code)  # type: ignore[attr-defined]
        if status == 429:
            raise TargetError(f"{what}: the target kept answering 429 Too Many Requests; try --rate-limit")
        if status in GATEWAY_ERRORS:
            raise _Transient(f"{what}: the target answered {status} (a proxy or gateway in front of the API failed)")
        return response

    def _send_once(self, what: str, send_once: Callable[[], R]) -> R:
        self._pace()
        try:
            return send_once()
        except TIMEOUTS as exc:
            raise TargetError(f"{what}: the target did not answer in time ({exc.__class__.__name__})") from None
        except REDIRECT_LOOPS:
            raise TargetError(f"{what}: the target redirects in a loop") from None
        except BROKEN_CONNECTIONS as exc:
            detail = str(exc).splitlines()[0] if str(exc) else "no detail"
            raise _Transient(f"{what}: the target could not be reached ({exc.__class__.__name__}: {detail})") from None


def _resumed(retrying: tenacity.Retrying, first: Any, attempt: Callable[[], R]) -> R:
    """`retrying` over `attempt` when the first attempt was already made outside it: its outcome (`first`, a result or
    the exception it raised) counts as attempt 1, so the waits and the number of attempts are tenacity's own."""
    replay = [first]

    def again() -> R:
        if replay:
            outcome = replay.pop()
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome  # type: ignore[no-any-return]
        return attempt()
    return retrying(again)


def _local_pacer(rate_limit: float | None) -> Callable[[], None]:
    """Even spacing of this process's requests (no rate limit: no wait)."""
    if not rate_limit:
        return lambda: None
    interval, lock, slot = 1.0 / rate_limit, threading.Lock(), [0.0]

    def pace() -> None:
        with lock:
            now = time.monotonic()
            wait = slot[0] - now
            slot[0] = max(now, slot[0]) + interval
        if wait > 0:
            time.sleep(wait)
    return pace


def shared_pacer(rate_limit: float, path: Path) -> Callable[[], None]:
    """One request rate for every process of a run: a pyrate-limiter bucket in a SQLite file under a file lock,
    one request per 1/rate seconds, whichever worker sends it."""
    from pyrate_limiter import Limiter, Rate, SQLiteBucket

    path.parent.mkdir(parents=True, exist_ok=True)
    bucket = SQLiteBucket.init_from_file([Rate(1, max(1, round(1000 / rate_limit)))], table="requests",
                                         db_path=str(path), use_file_lock=True)
    limiter = Limiter(bucket, buffer_ms=5)
    return lambda: limiter.try_acquire("requests", blocking=True) and None


def _retry_after(cap: float) -> Callable[[tenacity.RetryCallState], float]:
    """Wait what the target's Retry-After says (seconds or an HTTP date), else back off exponentially."""
    def wait(state: tenacity.RetryCallState) -> float:
        response = state.outcome.result() if state.outcome and not state.outcome.failed else None
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                return min(cap, max(0.0, float(header)))
            except ValueError:
                try:
                    when = parsedate_to_datetime(header)
                    return min(cap, max(0.0, when.timestamp() - time.time()))
                except (TypeError, ValueError):
                    pass
        return min(cap, 0.5 * 2 ** (state.attempt_number - 1))
    return wait


class ApiClient:
    """Requests to the target as one kind of caller (or none)."""

    def __init__(self, wire: Wire, role: str | None, key: Secret | None, key_variable: str | None,
                 scheme: str = "Api-Token") -> None:
        self._wire = wire
        self.role = role
        self.scheme = scheme
        self._key = key
        self._key_variable = key_variable

    def __repr__(self) -> str:
        return f"ApiClient(role={self.role!r})"

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, headers: Mapping[str, str] | None = None,
                raw_body: bytes | None = None, form: Any = None, files: Any = None) -> Exchange:
        """Send one request and keep the evidence (with the key masked); `raw_body` sends bytes as they are, `form`
        a form-urlencoded body and `files` a multipart one (httpx's own encodings)."""
        sent_headers = dict(headers or {})
        if self._key is not None and "Authorization" not in sent_headers:
            sent_headers["Authorization"] = f"{self.scheme} {self._key.reveal()}"
        if raw_body is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        request = self._wire.build(method, path, _clean(params), json=json_body, content=raw_body, data=form,
                                   files=files, headers=sent_headers)
        started = time.perf_counter()
        with self._wire.step(f"{method} {request.url.path}"):
            response = self._wire.send(request)
        exchange = Exchange(
            method=method, url=str(request.url), request_headers=redact_headers(request.headers),
            request_body=_sent_body(json_body, raw_body, form, files),
            status=response.status_code, response_headers=dict(response.headers),
            text=response.text, elapsed=time.perf_counter() - started, key_variable=self._key_variable,
        )
        for observe in self._wire.observers:
            observe(exchange)
        return exchange

    def get(self, path: str, **kw: Any) -> Exchange:
        """GET shortcut."""
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Exchange:
        """POST shortcut with a JSON body."""
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Exchange:
        """PUT shortcut with a JSON body."""
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Exchange:
        """PATCH shortcut with a JSON body."""
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Exchange:
        """DELETE shortcut."""
        return self.request("DELETE", path, **kw)


def _curl_body(body: Any) -> list[str]:
    """curl's options for the body as the evidence shows it (see _sent_body): JSON, form fields or multipart parts."""
    if isinstance(body, dict) and list(body) == ["form-urlencoded"]:
        fields = [(name, value) for name, values in body["form-urlencoded"].items()
                  for value in (values if isinstance(values, list) else [values])]
        return [option for name, value in fields for option in ("--data-urlencode", shlex.quote(f"{name}={value}"))]
    if isinstance(body, dict) and list(body) == ["multipart"]:
        return [option for name, value in body["multipart"] for option in ("-F", shlex.quote(f"{name}={value}"))]
    return [] if body is None else ["-d", shlex.quote(json.dumps(body))]


def _sent_body(json_body: Any, raw_body: bytes | None, form: Any, files: Any) -> Any:
    """The body as the evidence shows it: the JSON value, the raw text, or the form's fields."""
    if raw_body is not None:
        return raw_body.decode("utf-8", "replace")
    if form is not None:
        return {"form-urlencoded": form}
    if files is not None:
        return {"multipart": [[name, value[1] if isinstance(value, tuple) else value] for name, value in files]}
    return json_body


class Session:
    """The run's connection to the target: one shared httpx client, an ApiClient per role."""

    def __init__(self, settings: Settings) -> None:
        assert settings.base_url is not None, "the target must be started before a session opens"
        self.settings = settings
        http = httpx.Client(base_url=settings.base_url, timeout=settings.timeout,
                            max_redirects=10, headers={"User-Agent": "ibl-conformance"})
        self.wire = Wire(http, read_only=settings.read_only, rate_limit=settings.rate_limit,
                         rate_file=settings.report_dir / RATE_FILE, broken_file=settings.report_dir / BROKEN_FILE)
        self.anonymous = ApiClient(self.wire, None, None, None, settings.auth_scheme)

    def as_role(self, role: str) -> ApiClient | None:
        """A client for one kind of caller, or None when the target gave no key for it."""
        key = self.settings.keys.get(role)
        if key is None:
            return None
        return ApiClient(self.wire, role, key, self.settings.keys.variables.get(role), self.settings.auth_scheme)

    def close(self) -> None:
        """Close the connection pool."""
        self.wire.http.close()


def role_title(role: str) -> str:
    """Human name of a kind of caller."""
    return ROLE_TITLES.get(role, role)


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
