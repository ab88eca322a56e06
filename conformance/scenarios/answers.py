"""Reading the target's answers: expected statuses, pages and page walks, ids and order."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from conformance.client.session import ApiClient, Exchange

MAX_PAGES = 500


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


def expect_ok(exchange: Exchange, why: str) -> Any:
    """200 (or 201) and the JSON body."""
    return expect_status(exchange, 200, 201, why=why).json()


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


def first_items(client: ApiClient, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The first `limit` items of a paginated list, following next links (stops early on large targets)."""
    return list(islice(walk_pages(client, path, params), limit))
