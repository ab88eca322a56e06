"""Program licenses: the list (every filter, sort, verbose, pages)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.objects import Objects
from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, first_page, walk_pages
from conformance.scenarios.licenses import (
    UNKNOWN_IN_BODY,
    ids,
    licenses,
    new_assignment,
    new_program_license,
    the_license,
)
from conformance.scenarios.paths import PROGRAM_LICENSES
from conformance.verdicts import need


@pytest.fixture
def tagged(objects: Objects, fixtures: Fixtures) -> dict[str, Any]:
    """Three licenses whose names share a unique tag: a (active), ab (inactive, name extends a's), c (active)."""
    need(fixtures.program_keys, 1, "program_keys")
    second = fixtures.program_keys[1] if len(fixtures.program_keys) > 1 else fixtures.program_keys[0]
    tag = objects.name("tag")
    made = {
        "a": new_program_license(objects, count=1, name=f"{tag}-a", source=f"{tag}-src-1"),
        "ab": new_program_license(objects, count=1, name=f"{tag}-a-b", source=f"{tag}-src-2", active=False,
                                  program_key=second, program_id=second),
        "c": new_program_license(objects, count=1, name=f"{tag}-c", source=f"{tag}-src-1"),
    }
    return {"tag": tag, "second_program": second, **made}


def _listed(admin: ApiClient, **params: Any) -> set[Any]:
    return set(ids(licenses(admin, **params)))


def _expect_narrowed(admin: ApiClient, params: dict[str, Any], kept: set[Any], dropped: set[Any],
                     field: str | None = None, value: Any = None) -> None:
    """The filtered list keeps `kept`, drops `dropped`, and (when `field` is shown) every item has `value`."""
    found = licenses(admin, **params)
    listed = set(ids(found))
    assert kept <= listed, f"{params} must list {sorted(kept - listed)} too; listed {sorted(listed)}"
    assert not dropped & listed, f"{params} must not list {sorted(dropped & listed)}"
    if field is not None:
        strays = [item.get("id") for item in found if field in item and item[field] != value]
        assert not strays, f"{params} listed licenses whose {field} is not {value!r}: {strays}"


@pytest.mark.smoke
@pytest.mark.requirement("CAT-LICLIST-007", "CAT-LICLIST-008", "CAT-LICLIST-009", "CAT-LICLIST-011", "CAT-LICLIST-012")
def test_license_list_filters_by_name_source_active_external_id_and_query(admin: ApiClient,
                                                                          tagged: dict[str, Any]) -> None:
    tag, a, ab, c = tagged["tag"], tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]
    with check("CAT-LICLIST-012"):
        assert _listed(admin, query=tag) == {a, ab, c}, "query=<tag> must list exactly the three tagged licenses"
        assert _listed(admin, query=f"{tag}-a") == {a, ab}, "query matches names containing the text"
    with check("CAT-LICLIST-007"):
        _expect_narrowed(admin, {"name": f"{tag}-a"}, {a}, {ab, c}, "name", f"{tag}-a")
    with check("CAT-LICLIST-008"):
        _expect_narrowed(admin, {"query": tag, "source": f"{tag}-src-1"}, {a, c}, {ab}, "source", f"{tag}-src-1")
    with check("CAT-LICLIST-009"):
        _expect_narrowed(admin, {"query": tag, "active": False}, {ab}, {a, c}, "active", False)
        _expect_narrowed(admin, {"query": tag, "active": True}, {a, c}, {ab}, "active", True)
    with check("CAT-LICLIST-011"):
        external_id = tagged["c"]["external_id"]
        assert _listed(admin, external_id=external_id) == {c}, f"external_id={external_id} names exactly one license"


@pytest.mark.requirement("CAT-LICLIST-010")
def test_license_list_filters_by_program_id(admin: ApiClient, tagged: dict[str, Any], fixtures: Fixtures) -> None:
    first, second = need(fixtures.program_keys, 2, "program_keys")
    a, ab, c = tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]
    _expect_narrowed(admin, {"query": tagged["tag"], "program_id": first}, {a, c}, {ab})
    _expect_narrowed(admin, {"query": tagged["tag"], "program_id": second}, {ab}, {a, c})


PLATFORM_FILTERS = {"platform_key": "CAT-LICLIST-003", "key": "CAT-LICLIST-004", "org": "CAT-LICLIST-005",
                    "platform_org": "CAT-LICLIST-006"}


@pytest.mark.requirement("CAT-LICLIST-003", "CAT-LICLIST-004", "CAT-LICLIST-005", "CAT-LICLIST-006")
def test_license_list_filters_by_platform(admin: ApiClient, tagged: dict[str, Any], settings: Settings,
                                          run_id: str) -> None:
    tag = tagged["tag"]
    mine = {tagged["a"]["id"], tagged["ab"]["id"], tagged["c"]["id"]}
    for name, requirement in PLATFORM_FILTERS.items():
        with check(requirement):
            value = settings.platform_key if name in ("platform_key", "key") else settings.org
            found = licenses(admin, query=tag, **{name: value})
            assert set(ids(found)) == mine, f"{name}={value} must list the platform's tagged licenses; got {ids(found)}"
            # one page, newest first: walking the platform's whole list would take as long as the target is big
            _, page = first_page(admin, PROGRAM_LICENSES, {name: value, "page_size": 50})
            elsewhere = [item.get("id") for item in page if item.get("platform_key") != settings.platform_key]
            assert not elsewhere, f"{name}={value} listed licenses of other platforms: {elsewhere}"
            if settings.other_platform_key and name in ("platform_key", "key"):
                found = licenses(admin, query=tag, **{name: settings.other_platform_key})
                assert not mine & set(ids(found)), \
                    f"{name}={settings.other_platform_key} listed licenses of {settings.platform_key}: {ids(found)}"
            if name in ("org", "platform_org"):
                answer = admin.get(PROGRAM_LICENSES, params={"query": tag, name: f"conformance-{run_id}-no-such-org"})
                expect_status(answer, 200, *UNKNOWN_IN_BODY, why="an organization no platform has")
                if answer.status == 200:
                    leaked = mine & set(ids(answer.json().get("results", [])))
                    assert not leaked, f"{name} naming no platform's organization still listed {sorted(leaked)}"


@pytest.mark.requirement("CAT-LICLIST-013", "GEN-PAGE-012", "CAT-LICLIST-001")
def test_license_list_sort_and_pages(admin: ApiClient, tagged: dict[str, Any]) -> None:
    tag = tagged["tag"]
    default = ids(licenses(admin, query=tag))
    with check("CAT-LICLIST-013"):
        assert default == sorted(default, reverse=True), f"without sort licenses come newest first (-id): {default}"
    with check("GEN-PAGE-012"):
        assert ids(licenses(admin, query=tag, sort="id")) == sorted(default), "sort=id is ascending id"
        assert ids(licenses(admin, query=tag, sort="-id")) == sorted(default, reverse=True), "sort=-id is descending id"
        by_name = [item.get("name") for item in licenses(admin, query=tag, sort="name")]
        assert by_name == sorted(by_name), f"sort=name is ascending name: {by_name}"
        by_name_desc = [item.get("name") for item in licenses(admin, query=tag, sort="-name")]
        assert by_name_desc == sorted(by_name_desc, reverse=True), f"sort=-name is descending name: {by_name_desc}"
    with check("CAT-LICLIST-001"):
        first = expect_status(admin.get(PROGRAM_LICENSES, params={"query": tag, "page_size": 2}), 200).json()
        assert first.get("count") == 3, f"count is the number of matching licenses (3), not {first.get('count')!r}"
        assert len(first.get("results", [])) == 2, "page_size=2 serves two licenses on the first page"
        walked = ids(list(walk_pages(admin, PROGRAM_LICENSES, {"query": tag, "page_size": 2})))
        assert sorted(walked) == sorted(default) and len(set(walked)) == len(walked), \
            f"walking pages of 2 must yield every license once: {walked} vs {default}"
        second = expect_status(admin.get(PROGRAM_LICENSES, params={"query": tag, "page_size": 2, "page": 2}),
                               200).json()
        assert len(second.get("results", [])) == 1, f"page=2 serves the third license: {second.get('results')!r}"
        assert set(ids(first["results"] + second["results"])) == set(default), "two pages of 2 hold the three licenses"


@pytest.mark.requirement("CAT-LICLIST-014", "CAT-LICLIST-015")
def test_verbose_adds_assignment_counts(admin: ApiClient, objects: Objects, settings: Settings,
                                        fixtures: Fixtures) -> None:
    first, second, third = need(fixtures.user_ids, 3, "user_ids")
    license_ = new_program_license(objects, count=5)
    new_assignment(objects, "program", license_["id"], first)
    new_assignment(objects, "program", license_["id"], second, fulfilled=True)
    new_assignment(objects, "program", license_["id"], third, active=False)

    with check("CAT-LICLIST-014"):
        params = {"platform_key": settings.platform_key, "external_id": license_["external_id"]}
        for extra in ({}, {"verbose": False}):
            for item in walk_pages(admin, PROGRAM_LICENSES, {**params, **extra}):
                assert "assignments" not in item, f"without verbose=true a license has no 'assignments': {item!r}"
    with check("CAT-LICLIST-015"):
        shown = the_license(admin, settings, license_, verbose=True)
        counts = shown.get("assignments")
        assert isinstance(counts, dict), f"verbose=true adds an 'assignments' object; got {counts!r}"
        assert all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()), \
            f"integer counts: {counts!r}"
        assert counts.get("total") == shown.get("usage_count") == 3, \
            f"total must equal usage_count (3 assignments): {counts!r}, usage_count {shown.get('usage_count')!r}"
        if "active" in counts:
            assert counts["active"] == 2, f"two of three assignments are active: {counts!r}"
        if "pending" in counts:  # pending is undocumented: not fulfilled (2), or active and not fulfilled (1)
            assert counts["pending"] in (1, 2), f"one or two of three assignments are pending: {counts!r}"


@pytest.mark.requirement("CAT-LICLIST-002")
@pytest.mark.parametrize("params", [{"active": "maybe"}, {"verbose": "2"}, {"page": "x"}],
                         ids=["active=maybe", "verbose=2", "page=x"])
def test_license_list_with_an_invalid_parameter_is_refused(admin: ApiClient, settings: Settings,
                                                           params: dict[str, str]) -> None:
    expect_status(admin.get(PROGRAM_LICENSES, params={"platform_key": settings.platform_key, **params}), 400,
                  why="invalid query parameters")
