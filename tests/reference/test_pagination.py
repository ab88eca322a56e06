"""Pagination: walks lose or repeat nothing; bounds; absolute next/previous URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import assert_error, assign

LICENSES = "/api/catalog/licenses/program/"


def walk(client: httpx.Client, url: str, next_key: str = "next_page") -> tuple[list[int], set[int]]:
    seen: list[int] = []
    counts: set[int] = set()
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        counts.add(body["count"])
        seen.extend(item["id"] for item in body["results"])
        url = body[next_key]
        pages += 1
        assert pages < 100
    return seen, counts


@pytest.mark.parametrize("sort", ["-id", "id", "name", "-created", "count"])
def test_walk_program_licenses(dm: httpx.Client, make_program_license: Callable[..., Any], sort: str) -> None:
    made = [make_program_license(name=f"L{i % 5}", count=i % 3)["id"] for i in range(23)]
    seen, counts = walk(dm, f"http://reference.test{LICENSES}?page_size=7&sort={sort}&platform_key=alpha")
    assert counts == {23}
    assert len(seen) == len(set(seen)) == 23 and set(seen) == set(made)


def test_next_and_previous_are_absolute_and_keep_the_query(dm: httpx.Client,
                                                           make_program_license: Callable[..., Any]) -> None:
    for _ in range(5):
        make_program_license()
    first = dm.get(LICENSES, params={"page_size": 2, "platform_key": "alpha"}).json()
    assert first["previous_page"] is None
    assert first["next_page"].startswith("http://reference.test/api/catalog/licenses/program/?")
    assert "platform_key=alpha" in first["next_page"] and "page_size=2" in first["next_page"]
    second = dm.get(first["next_page"]).json()
    assert second["previous_page"] is not None and "page=1" in second["previous_page"]
    last = dm.get(LICENSES, params={"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next_page"] is None


def test_bounds(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    for _ in range(3):
        make_program_license()
    past = dm.get(LICENSES, params={"page": 50})
    assert past.status_code == 200 and past.json()["results"] == [] and past.json()["count"] == 3
    huge = dm.get(LICENSES, params={"page": 10**18, "page_size": 100})
    assert huge.status_code == 200 and huge.json()["results"] == []
    assert len(dm.get(LICENSES, params={"page_size": 1000}).json()["results"]) == 3
    for params in ({"page": 0}, {"page": -1}, {"page": "abc"}, {"page_size": 0}, {"page_size": "x"},
                   {"page": "1.5"}, {"page": ""}, {"page": 10**30}):
        assert_error(dm.get(LICENSES, params=params), 400)


def test_page_size_defaults_to_10_and_caps_at_100(dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=0)
    store_rows = [make_program_license()["id"] for _ in range(11)]
    assert len(dm.get(LICENSES).json()["results"]) == 10
    assert store_rows and license


def test_walk_assignments_and_rbac(api: Any, dm: httpx.Client, make_program_license: Callable[..., Any]) -> None:
    license = make_program_license(count=4)
    for user_id in (101, 102, 103, 104):
        assert assign(dm, license["id"], user_id=user_id).status_code == 200
    seen, _ = walk(dm, f"http://reference.test/api/catalog/licenses/program/assignment/?license_id={license['id']}"
                       "&page_size=3&sort=-user_id")
    assert len(seen) == len(set(seen)) == 4
    for _ in range(12):
        assert dm.post("/api/core/rbac/policies/", json={"platform_key": "alpha", "role_id": 3,
                                                         "resources": []}).status_code == 201
    seen, counts = walk(dm, "http://reference.test/api/core/rbac/policies/?page_size=5", next_key="next")
    assert counts == {12} and len(set(seen)) == 12
