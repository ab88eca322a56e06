"""Faults for authentication, access control, RBAC policies, roles and groups, and pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.requests import Request

from conformance.reference import auth, validation
from conformance.reference.auth import Caller
from conformance.reference.routes import _common, credentials, licenses, rbac
from conformance.reference.store import Store
from tests.faults.registry import fault


def _lax(real: Callable[[Request], Caller], path: str) -> Callable[[Request], Caller]:
    """authenticate() that lets a request without a key through on one path, as the DM admin."""
    def authenticate(request: Request) -> Caller:
        if request.url.path == path and not request.headers.get("authorization"):
            return Caller(role="dm_admin", user_id=1, is_dm_admin=True, admin_platform_ids=frozenset())
        return real(request)
    return authenticate


def _let_through(mp: pytest.MonkeyPatch, module: Any, path: str) -> None:
    """Requests without a key pass on `path`, whether its handler authenticates itself or through the
    admin-only helper of the route modules."""
    for holder in (module, _common):
        mp.setattr(holder, "authenticate", _lax(auth.authenticate, path))


@fault("user license list needs no key", violates="GEN-AUTH-001")
def _(mp: pytest.MonkeyPatch) -> None:
    _let_through(mp, licenses, "/api/catalog/licenses/user/")


@fault("role list needs no key", violates="GEN-AUTH-006")
def _(mp: pytest.MonkeyPatch) -> None:
    _let_through(mp, rbac, "/api/core/rbac/roles/")


@fault("another platform's admin reads and changes this platform's policies", violates="CORE-ACL-003")
def _(mp: pytest.MonkeyPatch) -> None:
    def policy_for(request: Request, caller: Caller) -> dict[str, Any]:
        store: Store = request.app.state.store
        raw = request.path_params["id"]
        policy = store.get_visible_policy(int(raw)) if raw.isdigit() else None
        if policy is None:  # no tenant check
            raise rbac.NotFound("Policy not found.")
        return policy
    mp.setattr(rbac, "_policy_for", policy_for)


@fault("another platform's admin reads this org's credentials", violates="CRED-ACL-003")
def _(mp: pytest.MonkeyPatch) -> None:
    def require_platform(store: Store, caller: Caller, platform: dict[str, Any]) -> None:
        if not caller.is_admin:
            auth.require_platform(store, caller, platform)
    mp.setattr(credentials, "require_platform", require_platform)


@fault("a non-admin user can write credentials", violates="CRED-ACL-004")
def _(mp: pytest.MonkeyPatch) -> None:
    def require_platform(store: Store, caller: Caller, platform: dict[str, Any]) -> None:
        if caller.role != "learner":
            auth.require_platform(store, caller, platform)
    mp.setattr(credentials, "require_admin", lambda caller: None)
    mp.setattr(credentials, "require_platform", require_platform)


@fault("a platform admin can create licenses", violates="CAT-ACL-001")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(licenses, "require_dm_admin", auth.require_admin)


@fault("PATCH resets the policy name when it is not sent", violates="CORE-RBAC-034")
def _(mp: pytest.MonkeyPatch) -> None:
    real = Store.update_policy

    def update(self: Store, policy_id: int, changes: dict[str, Any], **membership: Any) -> dict[str, Any]:
        return real(self, policy_id, {"name": None, **changes}, **membership)
    mp.setattr(Store, "update_policy", update)


@fault("policy answers echo the write-only role_id", violates="CORE-RBAC-017")
def _(mp: pytest.MonkeyPatch) -> None:
    real = rbac.present_policy

    def present(store: Store, policy: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {**real(store, policy, **kwargs), "role_id": policy["role_id"]}
    mp.setattr(rbac, "present_policy", present)


@fault("tenant policies are reported as internal", violates="CORE-RBAC-027")
def _(mp: pytest.MonkeyPatch) -> None:
    real = rbac.present_policy

    def present(store: Store, policy: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {**real(store, policy, **kwargs), "is_internal": True}
    mp.setattr(rbac, "present_policy", present)


@fault("the group filter of the policy list is case-sensitive", violates="CORE-RBAC-007")
def _(mp: pytest.MonkeyPatch) -> None:
    real = Store.visible_policies

    def policies(self: Store, *, platform_ids: Any, filters: dict[str, Any], offset: int, limit: int) -> Any:
        group = filters.get("group")
        if group is None:
            return real(self, platform_ids=platform_ids, filters=filters, offset=offset, limit=limit)
        _, rows = real(self, platform_ids=platform_ids, filters=filters, offset=0, limit=10**9)
        rows = [p for p in rows if any(g["name"] == group for g in self.policy_groups(p["id"]))]
        return len(rows), rows[offset:offset + limit]
    mp.setattr(Store, "visible_policies", policies)


@fault("internal roles are listed", violates="CORE-ROLE-004")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "is_hidden_role", lambda self, role: False)


@fault("the group list ignores include_users=false", violates="CORE-GRP-008")
def _(mp: pytest.MonkeyPatch) -> None:
    real = rbac.present_group
    mp.setattr(rbac, "present_group", lambda store, group, **kwargs: real(store, group))


@fault("the second page has no previous link", violates="GEN-PAGE-004")
def _(mp: pytest.MonkeyPatch) -> None:
    real = validation.page_bounds

    def bounds(count: int, page: int, page_size: int) -> tuple[int, bool, int | None]:
        offset, has_next, previous = real(count, page, page_size)
        return offset, has_next, None if page == 2 else previous
    mp.setattr(validation, "page_bounds", bounds)


@fault("policy pages overlap by one item", violates="GEN-PAGE-007")
def _(mp: pytest.MonkeyPatch) -> None:
    real = Store.visible_policies

    def policies(self: Store, *, platform_ids: Any, filters: Any, offset: int, limit: int) -> Any:
        return real(self, platform_ids=platform_ids, filters=filters, offset=max(0, offset - 1), limit=limit)
    mp.setattr(Store, "visible_policies", policies)
