"""The department admin (IsDepartmentModeAdminInPlatform), the optional fifth caller (keys.department_admin).

The published access control of every suggestion operation reads "Requires IsDMAdmin, IsPlatformAdmin, or
IsDepartmentModeAdminInPlatform permission ... Department admins can manage suggestions for their departments",
and department_mode is the "Flag to ensure department admins can call the API" ("Filter suggestions by
department admin access"). No document says how a department is made or which users it holds, so the suite
sends only what needs no member of the department: the two suggestion lists in department mode, another
platform's lists, and an operation no department admin is named for. Without the key every test here is not
verified.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.objects import GROUP_SUGGESTIONS, SUGGESTIONS
from conformance.client.session import ApiClient, Session
from conformance.config import Settings
from conformance.scenarios.answers import expect_status
from conformance.verdicts import not_verified

LISTS = (SUGGESTIONS, GROUP_SUGGESTIONS)
PROGRAM_LICENSES = "/api/catalog/licenses/program/"
MAX_PAGES = 20  # a department list longer than this is judged on its first pages
REFUSED = (400, 403, 404)  # another platform named: bad input, forbidden, or absent (all documented refusals)


@pytest.fixture(scope="session")
def department_admin(conformance_session: Session) -> ApiClient:
    """An admin of a department of the platform under test; not verified when the target gave no key."""
    client = conformance_session.as_role("department_admin")
    if client is None:
        variable = conformance_session.settings.keys.variables.get("department_admin", "department_admin")
        not_verified(f"no department-admin key (set {variable}, or keys.department_admin in the target config)")
    return client


def department_items(client: ApiClient, path: str, platform_key: str) -> tuple[int, list[dict[str, Any]]]:
    """The status of the department-mode list of `platform_key` and its items (first pages only)."""
    exchange = client.get(path, params={"platform_key": platform_key, "department_mode": "true", "page_size": 100})
    status, items = exchange.status, []
    for _ in range(MAX_PAGES):
        body = exchange.json() if exchange.status == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            break
        items += [item for item in body["results"] if isinstance(item, dict)]
        link = body.get("next_page", body.get("next"))
        if not link:
            break
        exchange = client.get(link)
    return status, items


@pytest.mark.requirement("CAT-ACL-016", "CAT-SUG-005", "CAT-SUGG-005")
def test_in_department_mode_a_department_admin_lists_only_its_platforms_suggestions(
        department_admin: ApiClient, settings: Settings) -> None:
    """Served (200) on both suggestion lists of its platform, every item of the platform under test."""
    platform = settings.platform_key
    single_status, singles = department_items(department_admin, SUGGESTIONS, platform)
    group_status, groups = department_items(department_admin, GROUP_SUGGESTIONS, platform)
    with check("CAT-ACL-016"):
        assert single_status == 200, f"the program suggestion list in department mode answered {single_status}"
        assert group_status == 200, f"the group suggestion list in department mode answered {group_status}"
    for requirement, items, status in (("CAT-SUG-005", singles, single_status),
                                       ("CAT-SUGG-005", groups, group_status)):
        with check(requirement):
            if status != 200:
                not_verified(f"the department-mode list answered {status} (CAT-ACL-016 judges that)")
            foreign = [item.get("id") for item in items if item.get("platform_key") != platform]
            assert not foreign, (f"the department admin's department-mode list shows suggestions of another platform "
                                 f"than {platform}: ids {foreign[:10]}")


@pytest.mark.requirement("CAT-ACL-019")
def test_a_department_admin_never_sees_another_platforms_suggestions(department_admin: ApiClient,
                                                                     settings: Settings) -> None:
    """Naming another platform in department mode: refused, or a list with nothing of that platform."""
    other = settings.other_platform_key
    if not other:
        not_verified("needs a second platform (set target.other_platform_key)")
    for path in LISTS:
        status, items = department_items(department_admin, path, other)
        if status in REFUSED:
            continue
        assert status == 200, f"{path} for platform {other} in department mode answered {status}, not 400/403/404"
        leaked = [item.get("id") for item in items if item.get("platform_key") == other]
        assert not leaked, f"{path}: the department admin sees suggestions of platform {other}: ids {leaked[:10]}"


@pytest.mark.requirement("CAT-ACL-020")
def test_a_department_admin_is_refused_the_program_license_list(department_admin: ApiClient,
                                                                settings: Settings) -> None:
    """The license list requires IsDMAdmin or IsPlatformAdminReadOnly: a department admin is neither."""
    why = "the program license list requires IsDMAdmin or IsPlatformAdminReadOnly"
    expect_status(department_admin.get(PROGRAM_LICENSES, params={"platform_key": settings.platform_key}), 403, why=why)
    # department_mode is no parameter of this operation: a server may ignore it (403) or refuse it (400)
    flagged = {"platform_key": settings.platform_key, "department_mode": "true"}
    expect_status(department_admin.get(PROGRAM_LICENSES, params=flagged), 400, 403, why=why)
