"""Internal RBAC policies stay hidden from tenants: not listed, not readable, not changeable."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.session import ApiClient
from conformance.config import Fixtures, Settings
from conformance.scenarios.support import RBAC_POLICIES, expect_status, need, rbac_policy, walk_pages

HIDDEN = (404, 403)  # 404 reads "not found"; 403 reads "cannot be modified by tenants" (see the catalog)


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
        expect_status(platform_admin.get(rbac_policy(policy_id)), 404, why="internal policies are not viewable")


@pytest.mark.requirement("CORE-RBAC-022", "CORE-RBAC-021")
def test_internal_policy_cannot_be_changed_or_deleted(platform_admin: ApiClient, settings: Settings,
                                                      fixtures: Fixtures, writable: None) -> None:
    (role_id,) = need(fixtures.role_ids, 1, "role_ids")
    replacement: dict[str, Any] = {"name": "conformance-must-not-apply", "resources": ["/conformance/none"],
                                   "role_id": role_id, "platform_key": settings.platform_key}
    for policy_id in need(fixtures.internal_policy_ids, 1, "internal_policy_ids"):
        path = rbac_policy(policy_id)
        expect_status(platform_admin.put(path, replacement), *HIDDEN, why="internal policies cannot be modified")
        expect_status(platform_admin.patch(path, {"name": "conformance-must-not-apply"}), *HIDDEN,
                      why="internal policies cannot be modified")
        expect_status(platform_admin.delete(path, params={"platform_key": settings.platform_key}), *HIDDEN,
                      why="internal policies cannot be deleted")
        expect_status(platform_admin.get(path), 404, why="still hidden after the refused changes")
        renamed = [p for p in walk_pages(platform_admin, RBAC_POLICIES, {"platform_key": settings.platform_key})
                   if p.get("name") == "conformance-must-not-apply"]
        assert not renamed, "a refused change to an internal policy surfaced in the policy list"
