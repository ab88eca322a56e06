"""What the user license, user assignment, suggestion and credential scenarios share."""

from __future__ import annotations

from typing import Any

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.scenarios.support import expect_status, walk_pages

USER_LICENSES = "/api/catalog/licenses/user/"
USER_LICENSE_CREATE = "/api/catalog/licenses/user/create/"
USER_LICENSE_UPDATE = "/api/catalog/licenses/user/update/"
USER_ASSIGNMENTS = "/api/catalog/licenses/user/assignment/"
SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
BULK_SUGGESTIONS = "/api/catalog/suggestions/program/manage/bulk/"
GROUP_SUGGESTIONS = "/api/catalog/suggestions/program/manage/group/"
RBAC_GROUPS = "/api/core/rbac/groups/"

# An integer id no target hands out to a fixture or a test object (far above any realistic sequence).
UNKNOWN_ID = 1_987_654_321


def remember(objects: Objects, kind: str, **identifiers: Any) -> None:
    """Write an object this test created by hand into the cleanup ledger (removed when the test ends)."""
    objects.entries.append(objects.ledger.record(kind, **identifiers))


def first_page(client: ApiClient, path: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first page of a catalog list: (body, results); asserts 200 and a results list."""
    exchange = expect_status(client.get(path, params=params), 200)
    body = exchange.json()
    assert isinstance(body, dict) and isinstance(body.get("results"), list), \
        f"{exchange.operation}: expected a page with a results list\n{exchange.describe()}"
    assert isinstance(body.get("count"), int), f"{exchange.operation}: the page has no integer count\n" \
                                               f"{exchange.describe()}"
    return body, body["results"]


def every(client: ApiClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paginated catalog list (largest documented page size, following next links)."""
    return list(walk_pages(client, path, {"page_size": 100, **params}))


def ids_of(items: list[dict[str, Any]]) -> list[Any]:
    """The ids of listed items, in list order."""
    return [item.get("id") for item in items]


def expect_refused(exchange: Exchange, why: str, *statuses: int) -> Exchange:
    """A refusal with the documented status (400 unless told)."""
    return expect_status(exchange, *(statuses or (400,)), why=why)


def strictly(order: str, values: list[Any], what: str) -> None:
    """Assert `values` are strictly ascending ('asc') or descending ('desc')."""
    pairs = list(zip(values, values[1:], strict=False))
    wrong = [(a, b) for a, b in pairs if (a >= b if order == "asc" else a <= b)]
    word = "ascending" if order == "asc" else "descending"
    assert not wrong, f"{what}: ids must be strictly {word}; out of order: {wrong[:3]} in {values}"
