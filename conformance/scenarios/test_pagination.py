"""Pagination common to the lists: count, next/previous links, page_size, the first page, past the end, sort."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.checks import check, needs, setup, setup_refused
from conformance.client.objects import (
    ASSIGNMENT_PATHS,
    GROUP_ASSIGNMENTS,
    GROUP_SUGGESTIONS,
    LICENSE_PATHS,
    RBAC_POLICIES,
    SUGGESTIONS,
    Objects,
    credentials_path,
)
from conformance.client.session import ApiClient, Exchange
from conformance.config import Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.operation_requests import Shared
from conformance.scenarios.suggestions import fresh_pairs
from conformance.verdicts import need, not_verified

ROLES = "/api/core/rbac/roles/"
GROUPS = "/api/core/rbac/groups/"
CATALOG_LINKS = (("next_page", "previous_page"), ("next", "previous"))
RBAC_LINKS = (("next", "previous"),)


@dataclass
class Listing:
    """One list operation, filled with items this test made (or the fixtures' own)."""

    path: str
    params: dict[str, Any]
    expected: set[Any]  # ids that must be listed
    exact: bool  # True when the query matches exactly `expected`
    links: tuple[tuple[str, str], ...]


def _users(objects: Objects, count: int) -> tuple[Any, ...]:
    return need(objects.settings.fixtures.user_ids, count, "user_ids")


def _licenses(kind: str) -> Callable[[Objects], Listing]:
    """Three licenses whose names share a marker, listed with `query` (the documented name search) on the platform:
    the pages hold this test's licenses, not the platform's whole list (a target's size must not set the run time).
    Not exact: a server whose query also matches other fields may list more."""
    def build(objects: Objects) -> Listing:
        marker = objects.name(f"pages-{kind}")
        factory = objects.program_license if kind == "program" else objects.user_license
        made = {factory(count=1, name=f"{marker}-{i}")["id"] for i in range(3)}
        return Listing(LICENSE_PATHS[kind], {"platform_key": objects.settings.platform_key, "query": marker}, made,
                       False, CATALOG_LINKS)
    return build


def _assignments(kind: str) -> Callable[[Objects], Listing]:
    def build(objects: Objects) -> Listing:
        license_ = objects.program_license(count=5) if kind == "program" else objects.user_license(count=5)
        made = {objects.assignment(kind, license_["id"], user)["id"] for user in _users(objects, 3)}
        return Listing(ASSIGNMENT_PATHS[kind], {"license_id": license_["id"]}, made, True, CATALOG_LINKS)
    return build


def _group_assignments(objects: Objects) -> Listing:
    license_ = objects.program_license(count=20)
    groups = need(objects.settings.fixtures.group_ids, 2, "group_ids")
    made = {objects.group_assignment(license_["id"], group)["id"] for group in groups}
    return Listing(GROUP_ASSIGNMENTS, {"license_id": license_["id"]}, made, True, CATALOG_LINKS)


def _free_pairs(objects: Objects, path: str, key: str, count: int) -> list[tuple[Any, str]]:
    """(user or group, program) pairs holding no suggestion yet: the suite never updates someone else's."""
    fx, platform = objects.settings.fixtures, objects.settings.platform_key
    return fresh_pairs(objects.admin, path, platform, key, tuple(fx.user_ids if key == "user_id" else fx.group_ids),
                       tuple(fx.program_keys), count)


def _suggestions(objects: Objects) -> Listing:
    made = {objects.program_suggestion(user, program)["id"] for user, program in _free_pairs(objects, SUGGESTIONS,
                                                                                             "user_id", 3)}
    return Listing(SUGGESTIONS, {"platform_key": objects.settings.platform_key}, made, False, CATALOG_LINKS)


def _group_suggestions(objects: Objects) -> Listing:
    made = {objects.group_suggestion(group, program)["id"] for group, program in _free_pairs(objects, GROUP_SUGGESTIONS,
                                                                                             "group_id", 2)}
    return Listing(GROUP_SUGGESTIONS, {"platform_key": objects.settings.platform_key}, made, False, CATALOG_LINKS)


def _policies(objects: Objects, count: int = 3) -> Listing:
    marker = f"pages-{objects.ledger.run_id}-{objects.name('set')}"
    made = {objects.rbac_policy(name=f"{marker}-{i}")["id"] for i in range(count)}
    return Listing(RBAC_POLICIES, {"platform_key": objects.settings.platform_key, "name": marker}, made, True,
                   RBAC_LINKS)


def _roles(objects: Objects) -> Listing:
    ids = set(need(objects.settings.fixtures.role_ids, 1, "role_ids"))
    return Listing(ROLES, {"platform_key": objects.settings.platform_key}, ids, False, RBAC_LINKS)


def _groups(objects: Objects) -> Listing:
    ids = set(need(objects.settings.fixtures.group_ids, 1, "group_ids"))
    return Listing(GROUPS, {"platform_key": objects.settings.platform_key}, ids, False, RBAC_LINKS)


CATALOG_LISTS: dict[str, Callable[[Objects], Listing]] = {
    "program licenses": _licenses("program"),
    "program assignments": _assignments("program"),
    "group assignments": _group_assignments,
    "user licenses": _licenses("user"),
    "user assignments": _assignments("user"),
    "program suggestions": _suggestions,
    "group suggestions": _group_suggestions,
}
RBAC_LISTS: dict[str, Callable[[Objects], Listing]] = {"policies": _policies, "roles": _roles, "groups": _groups}
ALL_LISTS = {**CATALOG_LISTS, **RBAC_LISTS}
# Suggestion lists hold (holder, program) pairs, which are few and which other tests need free: made per test.
PER_TEST_LISTS = ("program suggestions", "group suggestions")


def listing_of(name: str, objects: Objects, shared: Shared) -> Listing:
    """The filled list `name`: the walk and the edge tests only read it, so they share one (suggestions excepted)."""
    if name in PER_TEST_LISTS:
        return ALL_LISTS[name](objects)
    return shared.once(("listing", name), lambda: ALL_LISTS[name](shared.objects))


# ---------------------------------------------------------------------------- reading pages


@dataclass
class Page:
    url: str
    count: Any
    ids: list[Any]
    next: Any
    previous: Any


def read_page(exchange: Exchange, links: tuple[tuple[str, str], ...]) -> Page:
    """One page, after checking its documented shape (GEN-PAGE-001 / GEN-PAGE-002)."""
    body = expect_status(exchange, 200, why="a page of a list").json()
    assert isinstance(body, dict), f"{exchange.operation}: a page must be a JSON object\n{exchange.describe()}"
    assert isinstance(body.get("count"), int) and not isinstance(body.get("count"), bool), \
        f"{exchange.operation}: 'count' must be an integer\n{exchange.describe()}"
    assert isinstance(body.get("results"), list), f"{exchange.operation}: 'results' must be an array\n{exchange.describe()}"
    pair = next(((n, p) for n, p in links if n in body and p in body), None)
    names = " or ".join(f"{n}/{p}" for n, p in links)
    assert pair is not None, f"{exchange.operation}: a page must carry the links {names}\n{exchange.describe()}"
    for name in pair:
        value = body[name]
        assert value is None or (isinstance(value, str) and value.startswith(("http://", "https://", "/"))), \
            f"{exchange.operation}: '{name}' must be null or a URL, got {value!r}"
    return Page(exchange.url, body["count"], [item.get("id") for item in body["results"]], body[pair[0]],
                body[pair[1]])


def walk(admin: ApiClient, listing: Listing, page_size: int) -> list[Page]:
    """Every page of the query, following next links from the first page."""
    pages = [read_page(admin.get(listing.path, params={**listing.params, "page_size": page_size}), listing.links)]
    while pages[-1].next is not None:
        assert len(pages) < 200, f"GET {listing.path}: more than 200 pages; the next links may loop"
        pages.append(read_page(admin.get(pages[-1].next), listing.links))
    return pages


def page_size_for(admin: ApiClient, listing: Listing, smallest: int) -> int:
    """A page size that gives several pages without walking hundreds of them."""
    total = read_page(admin.get(listing.path, params={**listing.params, "page_size": 1}), listing.links).count
    if total < 2:
        not_verified(f"GET {listing.path} lists {total} item(s): too few for two pages")
    return max(smallest, min(100, math.ceil(total / 20))) if total > 40 else min(smallest, total - 1)


# ---------------------------------------------------------------------------- tests


def _page_params(lists: dict[str, Callable[[Objects], Listing]], ids: tuple[str, ...],
                 catalog_ids: tuple[str, ...] = (), rbac_ids: tuple[str, ...] = ()) -> list[Any]:
    return [pytest.param(name, id=name, marks=pytest.mark.requirement(
        *ids, *(catalog_ids if name in CATALOG_LISTS else rbac_ids))) for name in lists]


@pytest.mark.parametrize("name", _page_params(
    ALL_LISTS, ("GEN-PAGE-003", "GEN-PAGE-004", "GEN-PAGE-005", "GEN-PAGE-006", "GEN-PAGE-007"),
    ("GEN-PAGE-001", "GEN-PAGE-012"), ("GEN-PAGE-002",)))
def test_walking_the_pages_yields_every_item_once(name: str, objects: Objects, shared_objects: Shared) -> None:
    """Walk a query forward and back, then (catalog lists) sort by id both ways; each rule is its own check."""
    admin = objects.admin
    listing = listing_of(name, objects, shared_objects)
    shape = "GEN-PAGE-001" if name in CATALOG_LISTS else "GEN-PAGE-002"
    pages: list[Page] = []
    size = 0
    with check(shape) as shaped:  # every page read below has the documented shape
        size = page_size_for(admin, listing, 2)
        pages = walk(admin, listing, size)
    label = f"GET {listing.path} {listing.params} page_size={size}"
    seen = [i for p in pages for i in p.ids]

    with check("GEN-PAGE-003"):
        needs(shaped)
        counts = {p.count for p in pages}
        assert len(counts) == 1, f"{label}: count changes from page to page: {[p.count for p in pages]}"
        assert len(seen) == pages[0].count, f"{label}: count is {pages[0].count} but the pages hold {len(seen)} items"
    with check("GEN-PAGE-007"):
        needs(shaped)
        duplicates = sorted({i for i in seen if seen.count(i) > 1}, key=str)
        assert not duplicates, f"{label}: items {duplicates} appear on more than one page"
        missing = listing.expected - set(seen)
        assert not missing, f"{label}: items {sorted(missing, key=str)} are on no page"
        if listing.exact:
            assert set(seen) == listing.expected, \
                f"{label}: the pages hold {sorted(seen, key=str)}, expected {sorted(listing.expected, key=str)}"
    with check("GEN-PAGE-006"):
        needs(shaped)
        assert len(pages) >= 2, f"{label}: {len(seen)} items must take more than one page of {size}"
        for number, page in enumerate(pages, start=1):
            assert len(page.ids) <= size, f"{label}: page {number} holds {len(page.ids)} items, more than page_size"
            if number < len(pages):
                assert len(page.ids) == size, f"{label}: page {number} (not the last) holds {len(page.ids)} items"
    with check("GEN-PAGE-004"):
        needs(shaped)
        for number, page in enumerate(pages, start=1):
            last = number == len(pages)
            assert (page.next is None) == last, f"{label}: page {number} of {len(pages)} has next={page.next!r}"
            assert (page.previous is None) == (number == 1), \
                f"{label}: page {number} of {len(pages)} has previous={page.previous!r}"
    with check("GEN-PAGE-005"):
        needs(shaped)
        back = [pages[-1]]
        while back[-1].previous is not None and len(back) <= len(pages):
            back.append(read_page(admin.get(back[-1].previous), listing.links))
        assert [p.ids for p in reversed(back)] == [p.ids for p in pages], \
            f"{label}: walking the previous links back does not give the same pages"

    if name in CATALOG_LISTS:
        with check("GEN-PAGE-012"):
            check_sort(admin, listing)


@pytest.mark.parametrize("name", _page_params(ALL_LISTS, ("GEN-PAGE-008", "GEN-PAGE-010", "GEN-PAGE-011"),
                                              ("GEN-PAGE-013",)))
def test_past_the_last_page_bad_page_values_and_an_unknown_sort(name: str, objects: Objects,
                                                                shared_objects: Shared) -> None:
    """SHOULD only (the documents are silent on these edges): without 'page' the first page, past the end
    200-empty/400/404, bad page values refused or read as a documented reading does, and (catalog lists) an
    unknown sort field 400. Kept apart from the walk so a failure here is a warning."""
    admin = objects.admin
    listing = listing_of(name, objects, shared_objects)
    first = setup(admin.get(listing.path, params={**listing.params, "page_size": 1}), "the first page", 200)
    total = first.json().get("count") if isinstance(first.json(), dict) else None
    if not isinstance(total, int):
        setup_refused(first, "the first page carries no integer count")
    with check("GEN-PAGE-008"):
        default_first = read_page(first, listing.links)
        explicit_first = read_page(admin.get(listing.path, params={**listing.params, "page_size": 1, "page": 1}),
                                   listing.links)
        assert default_first.ids == explicit_first.ids, (f"GET {listing.path}: without 'page' the first page must be "
                                                         f"served ({default_first.ids} vs {explicit_first.ids})")
    with check("GEN-PAGE-010"):
        past_the_end(admin, listing.path, {**listing.params, "page_size": 1}, total + 1)
    with check("GEN-PAGE-011"):
        bad_pages_answered(admin, listing.path, listing.params)
    if name in CATALOG_LISTS:
        with check("GEN-PAGE-013"):
            unknown = admin.get(listing.path, params={**listing.params, "sort": "conformance_no_such_field"})
            expect_status(unknown, 400, why="sort names a field the items do not have")


BAD_PAGES = ({"page": 0}, {"page": -1}, {"page": "two"}, {"page_size": 0}, {"page_size": -5}, {"page_size": "ten"},
             {"page": 1.5})


def items_of(body: Any) -> list[Any] | None:
    """The items of a list answer: results, the credentials envelope's data, or a bare array."""
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        return None
    inner = body.get("result") if isinstance(body.get("result"), dict) else body
    items = inner.get("results", inner.get("data"))
    return items if isinstance(items, list) else None


def past_the_end(admin: ApiClient, path: str, params: dict[str, Any], page: int) -> None:
    """GEN-PAGE-010: a page past the last one is 200 with no items, 400, or 404 (DRF's 'Invalid page')."""
    past = admin.get(path, params={**params, "page": page})
    expect_status(past, 200, 400, 404, why=f"page {page} is past the last one")
    if past.status == 200:
        assert items_of(past.json()) == [], f"GET {path}: a page past the last one answered 200 must be empty\n" \
                                            f"{past.describe()}"


def bad_pages_answered(admin: ApiClient, path: str, params: dict[str, Any]) -> None:
    """GEN-PAGE-011: page or page_size below 1 or not an integer is refused (400; a page also 404, DRF's
    'Invalid page'), or read as the documented readings do: a page below 1 as an empty page, a page_size below
    1 or not a number as the default page size."""
    plain = expect_status(admin.get(path, params=params), 200, why="the list without page parameters")
    default_size = len(items_of(plain.json()) or [])
    for bad in BAD_PAGES:
        exchange = admin.get(path, params={**params, **bad})
        if "page" in bad:
            below_one = isinstance(bad["page"], int) and bad["page"] < 1
            expect_status(exchange, 400, 404, *((200,) if below_one else ()), why=f"{bad} is not a page")
            if exchange.status == 200:
                assert items_of(exchange.json()) == [], \
                    f"GET {path} {bad}: a page below 1 answered 200 must be empty\n{exchange.describe()}"
        else:
            expect_status(exchange, 400, 200, why=f"{bad} is not a page size")
            if exchange.status == 200:
                served = len(items_of(exchange.json()) or [])
                assert served == default_size, (f"GET {path} {bad}: served {served} items, not the default page "
                                                f"size ({default_size})\n{exchange.describe()}")


def check_sort(admin: ApiClient, listing: Listing) -> None:
    """GEN-PAGE-012: sort by id both ways (the unknown field, GEN-PAGE-013, is a test of its own)."""
    path = listing.path
    ascending = [i.get("id") for i in walk_pages(admin, path, {**listing.params, "sort": "id", "page_size": 100})]
    descending = [i.get("id") for i in walk_pages(admin, path, {**listing.params, "sort": "-id", "page_size": 100})]
    assert ascending == sorted(ascending), f"GET {path} sort=id: ids are not ascending: {ascending[:20]}"
    assert descending == sorted(descending, reverse=True), f"GET {path} sort=-id: ids are not descending: {descending[:20]}"
    assert sorted(ascending) == sorted(descending), f"GET {path}: sorting must not change which items are listed"


@pytest.mark.requirement("GEN-PAGE-009")
def test_default_page_size_and_its_cap(objects: Objects) -> None:
    """Optional (MAY): 10 per page by default, at most 100; a server with another default is not failed."""
    admin = objects.admin
    listing = _policies(objects, 101)
    default = read_page(admin.get(listing.path, params=listing.params), listing.links)
    assert default.count == 101, f"the query matches 101 policies, count says {default.count}"
    capped = read_page(admin.get(listing.path, params={**listing.params, "page_size": 1000}), listing.links)
    if len(capped.ids) < 101:
        assert capped.next is not None, "page_size=1000 served fewer than count items without a next link"
    everything = list(walk_pages(admin, listing.path, {**listing.params, "page_size": 1000}))
    assert sorted(i.get("id") for i in everything) == sorted(listing.expected), \
        "walking pages of page_size=1000 must give the 101 policies exactly once"
    if len(default.ids) != 10 or len(capped.ids) != 100:
        not_verified(f"the server serves {len(default.ids)} items by default and {len(capped.ids)} for page_size=1000 "
                     "(10 and 100 are documented only for the credentials list)")


@pytest.mark.requirement("GEN-PAGE-010", "GEN-PAGE-011")
def test_credentials_list_past_the_last_page_and_bad_page_values(objects: Objects, settings: Settings) -> None:
    user = need(settings.fixtures.user_ids, 1, "user_ids")[0]
    objects.credential(user)
    path = credentials_path(settings.org, user)
    first = setup(objects.admin.get(path, params={"page_size": 100}), "the credentials list", 200).json()
    result = first.get("result") if isinstance(first, dict) and isinstance(first.get("result"), dict) else first
    count = result.get("count") if isinstance(result, dict) else None
    # the bare published shape carries no count: a page far past any plausible end stands in for "the next one"
    past = count // 100 + 2 if isinstance(count, int) else 100_000
    with check("GEN-PAGE-010"):
        past_the_end(objects.admin, path, {"page_size": 100}, past)
    with check("GEN-PAGE-011"):
        bad_pages_answered(objects.admin, path, {})
