"""What scenario tests share: operation paths, status expectations, page walking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.client.session import ApiClient, Exchange
from conformance.verdicts import need

__all__ = ["need"]

PROGRAM_LICENSES = "/api/catalog/licenses/program/"
PROGRAM_LICENSE_CREATE = "/api/catalog/licenses/program/create/"
PROGRAM_LICENSE_UPDATE = "/api/catalog/licenses/program/update/"
PROGRAM_ASSIGNMENTS = "/api/catalog/licenses/program/assignment/"
RBAC_POLICIES = "/api/core/rbac/policies/"
MAX_PAGES = 500


def rbac_policy(policy_id: int) -> str:
    """Path of one RBAC policy."""
    return f"{RBAC_POLICIES}{policy_id}/"


def expect_status(exchange: Exchange, *expected: int, why: str = "") -> Exchange:
    """Assert the status is one of `expected`; the message carries the evidence and a reproduction."""
    if exchange.status not in expected:
        wanted = " or ".join(str(e) for e in expected)
        reason = f" ({why})" if why else ""
        raise AssertionError(f"{exchange.operation}: expected {wanted}{reason}, received {exchange.status}\n"
                             f"{exchange.describe()}")
    return exchange


def expect_client_error(exchange: Exchange, why: str) -> Exchange:
    """Assert a 4xx answer: the request was refused as the client's fault."""
    if not 400 <= exchange.status < 500:
        raise AssertionError(f"{exchange.operation}: expected a 4xx refusal ({why}), received {exchange.status}\n"
                             f"{exchange.describe()}")
    return exchange


def next_link(body: dict[str, Any]) -> str | None:
    """The next page's URL, under either documented name (next_page, or next in the prose)."""
    link = body.get("next_page", body.get("next"))
    return link if isinstance(link, str) and link else None


def walk_pages(client: ApiClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list, following the next links."""
    exchange = expect_status(client.get(path, params=params), 200)
    for _ in range(MAX_PAGES):
        body = exchange.json()
        assert isinstance(body, dict) and isinstance(body.get("results"), list), \
            f"{exchange.operation}: a page is not an object with a results list\n{exchange.describe()}"
        yield from body["results"]
        link = next_link(body)
        if link is None:
            return
        exchange = expect_status(client.get(link), 200)
    raise AssertionError(f"{path}: more than {MAX_PAGES} pages; the next links may loop")
