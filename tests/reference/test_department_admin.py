"""The department admin (IsDepartmentModeAdminInPlatform): suggestions of its platform with department_mode true,
nothing else."""

from __future__ import annotations

import httpx
import pytest

from conformance.reference import fixtures as fx

from .conftest import Api, assert_error

SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
GROUP_SUGGESTIONS = SUGGESTIONS + "group/"
BULK = SUGGESTIONS + "bulk/"


@pytest.fixture
def department(api: Api) -> httpx.Client:
    return api.client("department_admin")


def suggestion(user_id: int = fx.USER_IDS[0], **extra: object) -> dict[str, object]:
    return {"platform_key": fx.PLATFORM_KEY, "program_key": fx.PROGRAM_KEYS[0], "user_id": user_id, **extra}


@pytest.mark.parametrize("path", [SUGGESTIONS, GROUP_SUGGESTIONS])
def test_department_mode_lists_its_platforms_suggestions(department: httpx.Client, dm: httpx.Client,
                                                          path: str) -> None:
    if path == SUGGESTIONS:
        assert dm.post(SUGGESTIONS, json=suggestion()).status_code == 200
    params = {"platform_key": fx.PLATFORM_KEY, "department_mode": "true"}
    listed = department.get(path, params=params)
    assert listed.status_code == 200, listed.text
    assert listed.json() == dm.get(path, params=params).json()  # alpha's one department holds every alpha user


def test_department_mode_writes_are_served(department: httpx.Client) -> None:
    created = department.post(SUGGESTIONS, json=suggestion(department_mode=True))
    assert created.status_code == 200, created.text
    bulk = department.post(BULK, json={"platform_key": fx.PLATFORM_KEY, "department_mode": True,
                                       "suggestion_data": [{"program_key": fx.PROGRAM_KEYS[1],
                                                            "user_id": fx.USER_IDS[1]}]})
    assert bulk.status_code == 200 and bulk.json()["successes"] == 1, bulk.text
    group = department.post(GROUP_SUGGESTIONS, data={"platform_key": fx.PLATFORM_KEY, "department_mode": "true",
                                                     "program_key": fx.PROGRAM_KEYS[0], "group_id": fx.GROUP_IDS[0]})
    assert group.status_code == 200, group.text
    deleted = department.delete(SUGGESTIONS, params={"platform_key": fx.PLATFORM_KEY, "department_mode": "true",
                                                     "suggestion_id": created.json()["id"]})
    assert deleted.status_code == 200, deleted.text


def test_without_department_mode_it_is_a_plain_user(department: httpx.Client) -> None:
    assert_error(department.get(SUGGESTIONS, params={"platform_key": fx.PLATFORM_KEY}), 403)
    assert_error(department.get(SUGGESTIONS, params={"platform_key": fx.PLATFORM_KEY, "department_mode": "false"}), 403)
    assert_error(department.post(SUGGESTIONS, json=suggestion()), 403)


def test_another_platform_is_refused(department: httpx.Client) -> None:
    params = {"platform_key": fx.OTHER_PLATFORM_KEY, "department_mode": "true"}
    assert_error(department.get(SUGGESTIONS, params=params), 403)
    assert_error(department.post(SUGGESTIONS, json={**suggestion(fx.OTHER_USER_IDS[0]), "department_mode": True,
                                                    "platform_key": fx.OTHER_PLATFORM_KEY,
                                                    "program_key": fx.OTHER_PROGRAM_KEYS[0]}), 403)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/catalog/licenses/program/?department_mode=true"),
    ("GET", "/api/core/rbac/policies/?department_mode=true"),
    ("GET", "/api/credentials/orgs/alpha/users/101/?department_mode=true"),
])
def test_department_mode_opens_nothing_but_suggestions(department: httpx.Client, method: str, path: str) -> None:
    assert department.request(method, f"{path}&platform_key={fx.PLATFORM_KEY}").status_code == 403
