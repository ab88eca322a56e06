"""Sending generated cases (Caller) and what a generated test reports: its figures (Stats) and the lines that let
a vendor repeat a failing case."""

from __future__ import annotations

import json
import os
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from conformance.client.session import Wire
from conformance.config import Settings
from conformance.generation.profiles import Generation
from conformance.properties.contract import documents_2xx


class Caller:
    """Sends generated cases to the target with one key (or none, or a wrong one), through schemathesis' public
    `Case.call` on one reused requests session."""

    def __init__(self, settings: Settings, role: str | None, *, wire: Wire, wrong_key: str | None = None) -> None:
        self.base_url = settings.base_url
        self.timeout = settings.timeout
        self.wire = wire  # pacing, 429 retries, read-only guard, target failures: as for every other request
        self.http = requests.Session()  # the session type Case.call takes
        self.http.headers["User-Agent"] = "ibl-conformance (generated)"
        # the environment's proxies and CA bundle read once here, not on every request; and no ~/.netrc credentials
        # added to a request meant to go without a key
        self.http.trust_env = False
        self.http.proxies = requests.utils.get_environ_proxies(settings.base_url or "")
        self.http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        key = settings.keys.get(role) if role else None
        self.variable = settings.keys.variables.get(role) if role else None
        self.header: str | None = None
        scheme = settings.auth_scheme
        if key is not None:
            self.header = f"{scheme} {key.reveal()}"
        elif wrong_key is not None:
            self.header, self.variable = f"{scheme} {wrong_key}", None
        self.shown = (f"{scheme} ${self.variable}" if self.variable else
                      (f"{scheme} {wrong_key}" if wrong_key else None))

    def send(self, case: Any) -> Any:
        if self.header is None and case.headers:  # no key means no Authorization header, whatever was generated for it
            case.headers = {name: value for name, value in case.headers.items() if name.lower() != "authorization"}
        headers = {"Authorization": self.header} if self.header else {}
        return self.wire.guarded(case.method, case.operation.path, lambda: case.call(
            base_url=self.base_url, session=self.http, headers=headers, timeout=self.timeout))

    def curl(self, response: Any) -> str:
        """A curl command that repeats the request; the key is read from its environment variable."""
        request = response.request
        parts = ["curl", "-i", "-X", request.method, shlex.quote(request.url)]
        if self.shown:
            parts += ["-H", f'"Authorization: {self.shown}"']
        content_type = request.headers.get("Content-Type")
        if content_type:
            parts += ["-H", shlex.quote(f"Content-Type: {content_type}")]
        body = request.body
        if body is not None:
            text = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else str(body)
            parts += ["--data-binary", shlex.quote(text)]
        return " ".join(parts)

    def close(self) -> None:
        self.http.close()


@dataclass
class Stats:
    """What one generated test sent and got back."""

    operation: str
    kind: str
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, status: int) -> None:
        self.statuses[status] += 1

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())

    @property
    def share_2xx(self) -> float | None:
        if not self.cases:
            return None
        return round(sum(n for s, n in self.statuses.items() if 200 <= s < 300) / self.cases, 4)

    def as_json(self, generation: Generation) -> str:
        return json.dumps({"operation": self.operation, "kind": self.kind, "cases": self.cases,
                           "share_2xx": self.share_2xx, "documents_2xx": documents_2xx(self.operation),
                           "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                           "profile": generation.profile.name, "seed": generation.seed})


def reproduction(caller: Caller, response: Any, generation: Generation, nodeid: str) -> str:
    """The lines that let a vendor repeat a failing case."""
    return (f"  reproduce: {caller.curl(response)}\n"
            f"  generated with {generation.describe()}; replay the run with: "
            f"conformance run --profile {generation.profile.name} --seed {generation.seed}\n"
            f"  test: {nodeid}")


def body_excerpt(response: Any, limit: int = 600) -> str:
    text = response.content.decode("utf-8", "replace") if response.content else ""
    return text if len(text) <= limit else text[:limit] + "..."
