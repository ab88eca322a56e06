"""The HTTP session to the target: one client per kind of caller, redacted exchanges, curl reproductions."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.config import ROLE_TITLES, Settings
from conformance.errors import TargetError
from conformance.redaction import Secret, redact_headers

JSON_BODY_LIMIT = 2000  # characters of a body kept in a failure message


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
        return f"{self.method} {httpx.URL(self.url).path}"

    def json(self) -> Any:
        """The response body as JSON; an AssertionError naming the exchange if it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            raise AssertionError(f"{self.operation} answered {self.status} with a body that is not JSON: "
                                 f"{self.text[:200]!r}\n{self.describe()}") from None

    def curl(self) -> str:
        """A curl command that repeats the request; the key is read from its environment variable."""
        parts = ["curl", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() == "authorization":
                value = f"Api-Token ${self.key_variable}" if self.key_variable else value
                parts += ["-H", f'"{name}: {value}"']
            elif name.lower() == "content-type":
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            parts += ["-d", shlex.quote(json.dumps(self.request_body))]
        return " ".join(parts)

    def describe(self) -> str:
        """Evidence for a failure message: status, body excerpt, reproduction."""
        body = self.text if len(self.text) <= JSON_BODY_LIMIT else self.text[:JSON_BODY_LIMIT] + "..."
        return f"  received: {self.status} {body}\n  reproduce: {self.curl()}"


class ApiClient:
    """Requests to the target as one kind of caller (or none)."""

    def __init__(self, http: httpx.Client, role: str | None, key: Secret | None, key_variable: str | None) -> None:
        self._http = http
        self.role = role
        self._key = key
        self._key_variable = key_variable
        self.exchanges: list[Exchange] = []

    def __repr__(self) -> str:
        return f"ApiClient(role={self.role!r})"

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, headers: Mapping[str, str] | None = None) -> Exchange:
        """Send one request; transport failures become TargetError."""
        sent_headers = dict(headers or {})
        if self._key is not None and "Authorization" not in sent_headers:
            sent_headers["Authorization"] = f"Api-Token {self._key.reveal()}"
        request = self._http.build_request(method, path, params=_clean(params), json=json_body, headers=sent_headers)
        started = time.perf_counter()
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            raise TargetError(f"{method} {path}: the target did not answer in time ({exc.__class__.__name__})") from None
        except httpx.TransportError as exc:
            raise TargetError(f"{method} {path}: the target could not be reached ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
        exchange = Exchange(
            method=method, url=str(request.url), request_headers=redact_headers(request.headers),
            request_body=json_body, status=response.status_code, response_headers=dict(response.headers),
            text=response.text, elapsed=time.perf_counter() - started, key_variable=self._key_variable,
        )
        self.exchanges.append(exchange)
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


class Session:
    """The run's connection to the target: one shared httpx client, an ApiClient per role."""

    def __init__(self, settings: Settings) -> None:
        assert settings.base_url is not None, "the target must be started before a session opens"
        self.settings = settings
        self._http = httpx.Client(base_url=settings.base_url, timeout=settings.timeout, follow_redirects=False,
                                  headers={"User-Agent": "ibl-conformance"})
        self.anonymous = ApiClient(self._http, None, None, None)

    def as_role(self, role: str) -> ApiClient | None:
        """A client for one kind of caller, or None when the target gave no key for it."""
        key = self.settings.keys.get(role)
        if key is None:
            return None
        return ApiClient(self._http, role, key, self.settings.keys.variables.get(role))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


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
