"""What the suggestion scenarios share: posting a suggestion the cleanup removes, and (holder, program)
pairs that hold no suggestion yet (the suite never updates someone else's)."""

from __future__ import annotations

from typing import Any

from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import every
from conformance.scenarios.paths import SUGGESTIONS
from conformance.verdicts import need, not_verified

# An integer id no target hands out to a fixture or a test object (far above any realistic sequence).
UNKNOWN_ID = 1_987_654_321


def remember(objects: Objects, kind: str, **identifiers: Any) -> None:
    """Write an object this test created by hand into the cleanup ledger (removed when the test ends)."""
    objects.entries.append(objects.ledger.record(kind, **identifiers))


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


def suggestions_for(items: list[dict[str, Any]], user: Any, program: str) -> list[dict[str, Any]]:
    """The suggestions of `items` that belong to one (user, program) pair."""
    return [s for s in items if str(s.get("user_id")) == str(user) and s.get("program_key") == program]


def fresh_user_pairs(admin: ApiClient, settings: Settings, fixtures: Fixtures, count: int) -> list[tuple[Any, str]]:
    """`count` (user, program) pairs of the fixtures that hold no suggestion yet (else not verified)."""
    need(fixtures.user_ids, 1, "user_ids")
    need(fixtures.program_keys, 1, "program_keys")
    return fresh_pairs(admin, SUGGESTIONS, settings.platform_key, "user_id", fixtures.user_ids, fixtures.program_keys,
                       count)
