"""The paths of the operations the scenarios call (one place for every path a scenario names)."""

from __future__ import annotations

from conformance.client.objects import GROUP_ASSIGNMENTS

__all__ = ["GROUP_ASSIGNMENTS"]

PROGRAM_LICENSES = "/api/catalog/licenses/program/"
PROGRAM_LICENSE_CREATE = "/api/catalog/licenses/program/create/"
PROGRAM_LICENSE_UPDATE = "/api/catalog/licenses/program/update/"
PROGRAM_ASSIGNMENTS = "/api/catalog/licenses/program/assignment/"
RBAC_POLICIES = "/api/core/rbac/policies/"



USER_LICENSES = "/api/catalog/licenses/user/"
USER_ASSIGNMENTS = "/api/catalog/licenses/user/assignment/"
RBAC_GROUPS = "/api/core/rbac/groups/"
USER_LICENSE_CREATE = "/api/catalog/licenses/user/create/"
USER_LICENSE_UPDATE = "/api/catalog/licenses/user/update/"
SUGGESTIONS = "/api/catalog/suggestions/program/manage/"
BULK_SUGGESTIONS = "/api/catalog/suggestions/program/manage/bulk/"
GROUP_SUGGESTIONS = "/api/catalog/suggestions/program/manage/group/"


def rbac_policy(policy_id: int) -> str:
    """Path of one RBAC policy."""
    return f"{RBAC_POLICIES}{policy_id}/"
