"""Internal RBAC policies stay hidden from tenants: not listed, not readable, not changeable.

The published schema says internal policies "cannot be viewed or modified by tenants": the tests ask as an
admin of the platform under test (a tenant); the DM admin is not named by that sentence.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import check
from conformance.client.session import ApiClient, Exchange
from conformance.config import Fixtures, Settings
from conformance.scenarios.answers import expect_status, walk_pages
from conformance.scenarios.paths import RBAC_POLICIES, rbac_policy
from conformance.verdicts import need

HIDDEN = (404, 403)  # 404 reads "not found"; 403 reads "cannot be viewed or modified by tenants" (see the catalog)


def expect_hidden(exchange: Exchange, why: str) -> None:
    """The answer refuses the internal policy (404 or 403) and shows nothing of it."""
    body = expect_status(exchange, *HIDDEN, why=why).json() if exchange.text.strip() else None
    shown = sorted({"resources", "role", "users", "groups"} & set(body)) if isinstance(body, dict) else []
    assert not shown, f"{exchange.operation} refused the internal policy yet shows its {shown}\n{exchange.describe()}"


@pytest.mark.smoke
@pytest.mark.requirement("CORE-RBAC-020")
def test_internal_policies_are_absent_from_the_policy_list(platform_admin: ApiClient, settings: Settings,
                                                           fixtures: Fixtures) -> None:
    internal = set(need(fixtures.internal_policy_ids, 1, "internal_policy_ids"))
    listed = list(walk_pages(platform_admin, RBAC_POLICIES, {"platform_key": settings.platform_key}))
    leaked = sorted(internal & {item.get("id") for item in listed})
    assert not leaked, f"internal policies {leaked} appear in the policy list"
    flagged = [item.get("id") for item in listed if item.get("is_internal") is True]
    assert not flagged, f"the policy list shows policies marked is_internal: {flagged}"


@pytest.mark.requirement("CORE-RBAC-021")
def test_internal_policy_cannot_be_retrieved(platform_admin: ApiClient, fixtures: Fixtures) -> None:
    for policy_id in need(fixtures.internal_policy_ids, 1, "internal_policy_ids"):
        expect_hidden(platform_admin.get(rbac_policy(policy_id)), "internal policies cannot be viewed")


@pytest.mark.requirement("CORE-RBAC-022", "CORE-RBAC-021")
def test_internal_policy_cannot_be_changed_or_deleted(platform_admin: ApiClient, settings: Settings,
                                                      fixtures: Fixtures, run_id: str, writable: None) -> None:
    (role_id,) = need(fixtures.role_ids, 1, "role_ids")
    name = f"conformance-{run_id}-must-not-apply"  # the run's own name and resource: a slip grants nothing real
    replacement: dict[str, Any] = {"name": name, "resources": [f"/conformance/{run_id}/must-not-apply"],
                                   "role_id": role_id, "platform_key": settings.platform_key}
    for policy_id in need(fixtures.internal_policy_ids, 1, "internal_policy_ids"):
        path = rbac_policy(policy_id)
        with check("CORE-RBAC-022"):
            expect_hidden(platform_admin.put(path, replacement), "internal policies cannot be modified")
            expect_hidden(platform_admin.patch(path, {"name": name}), "internal policies cannot be modified")
            expect_hidden(platform_admin.delete(path, params={"platform_key": settings.platform_key}),
                          "internal policies cannot be deleted")
            renamed = [p.get("id") for p in walk_pages(platform_admin, RBAC_POLICIES, {"platform_key": settings.platform_key})
                       if p.get("name") == name]
            assert not renamed, f"a refused change to an internal policy surfaced in the policy list: {renamed}"
        with check("CORE-RBAC-021"):
            expect_hidden(platform_admin.get(path), "still hidden after the refused changes")
