"""What the user license, user assignment, suggestion and credential scenarios share."""

from __future__ import annotations

from itertools import islice
from typing import Any

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.support import expect_status, need, walk_pages
from conformance.verdicts import not_verified

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


def _remembered(objects: Objects, kind: str, suggestion_id: Any) -> bool:
    return any(e.get("kind") == kind and e.get("suggestion_id") == suggestion_id for e in objects.entries)


def suggest(admin: ApiClient, objects: Objects, path: str, kind: str, body: dict[str, Any],
            params: dict[str, Any] | None = None) -> Exchange:
    """POST a suggestion body as given; a suggestion it answers is written into the cleanup ledger (once)."""
    query = {"platform_key": body["platform_key"]} if params is None and "platform_key" in body else params
    exchange = admin.post(path, body, params=query or {})
    if 200 <= exchange.status < 300:
        made = exchange.json()
        if isinstance(made, dict) and made.get("id") is not None and not _remembered(objects, kind, made["id"]):
            remember(objects, kind, platform_key=objects.settings.platform_key, suggestion_id=made["id"])
    return exchange


def suggestion_of(exchange: Exchange) -> dict[str, Any]:
    """The suggestion a POST answered (an empty dict when the answer is not an object)."""
    body = exchange.json() if 200 <= exchange.status < 300 else None
    return body if isinstance(body, dict) else {}


def fresh_pairs(admin: ApiClient, path: str, platform: str, holder_key: str, holders: tuple[Any, ...],
                programs: tuple[str, ...], count: int) -> list[tuple[Any, str]]:
    """`count` (holder, program) pairs that hold no suggestion on the platform yet; else the test is not verified.

    A pair that already holds a suggestion would be updated, not created, and removed by the cleanup: the
    target's own suggestions are never touched. Pairs sharing neither holder nor program come first."""
    try:
        existing = every(admin, path, {"platform_key": platform})
    except AssertionError as exc:
        not_verified(f"the existing suggestions could not be read: {str(exc).splitlines()[0]}")
    taken = {(str(s.get(holder_key)), s.get("program_key")) for s in existing}
    free = [(holder, program) for holder in holders for program in programs if (str(holder), program) not in taken]
    chosen: list[tuple[Any, str]] = []
    for pair in free:
        if all(pair[0] != c[0] and pair[1] != c[1] for c in chosen):
            chosen.append(pair)
    chosen += [pair for pair in free if pair not in chosen]
    if len(chosen) < count:
        not_verified(f"needs {count} ({holder_key}, program_key) pairs without a suggestion on {platform}; "
                     f"the fixtures give {len(free)} free of {len(holders) * len(programs)}")
    return chosen[:count]


def first_items(client: ApiClient, path: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The first `limit` items of a paginated list, following next links (stops early on large targets)."""
    return list(islice(walk_pages(client, path, params), limit))


def suggestions_for(items: list[dict[str, Any]], user: Any, program: str) -> list[dict[str, Any]]:
    """The suggestions of `items` that belong to one (user, program) pair."""
    return [s for s in items if str(s.get("user_id")) == str(user) and s.get("program_key") == program]


def fresh_user_pairs(admin: ApiClient, settings: Settings, fixtures: Fixtures, count: int) -> list[tuple[Any, str]]:
    """`count` (user, program) pairs of the fixtures that hold no suggestion yet (else not verified)."""
    need(fixtures.user_ids, 1, "user_ids")
    need(fixtures.program_keys, 1, "program_keys")
    return fresh_pairs(admin, SUGGESTIONS, settings.platform_key, "user_id", fixtures.user_ids, fixtures.program_keys,
                       count)
