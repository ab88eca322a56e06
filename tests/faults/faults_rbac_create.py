"""Faults for RBAC role and group creation."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reference.routes import rbac
from conformance.reference.store import Store
from conformance.reference.validation import Body
from tests.faults.registry import fault


@fault("role name length unchecked", violates="CORE-ROLE-007")
def _(mp: pytest.MonkeyPatch) -> None:
    real = rbac._role_fields

    def fields(store: Store, body: Body) -> dict[str, Any]:
        return {**real(store, Body({**body.data, "name": "checked"})), "name": body.str("name", required=True)}
    mp.setattr(rbac, "_role_fields", fields)


@fault("tenant-created internal role", violates="CORE-ROLE-008")
def _(mp: pytest.MonkeyPatch) -> None:
    real_fields, real_create = rbac._role_fields, Store.create_role

    def fields(store: Store, body: Body) -> dict[str, Any]:
        return {**real_fields(store, body), "internal": body.raw("is_internal") is True}

    def create_role(self: Store, platform_id: int, name: str, actions: list[str], data_actions: list[str],
                    internal: bool = False) -> dict[str, Any]:
        role = real_create(self, platform_id, name, actions, data_actions)
        if internal:  # the read-only flag taken from the request
            self._execute("UPDATE rbac_roles SET is_internal = 1 WHERE id = ?", (role["id"],))
        return self.get_role(role["id"]) or role
    mp.setattr(rbac, "_role_fields", fields)
    mp.setattr(Store, "create_role", create_role)


@fault("group member of another platform accepted", violates="CORE-GRP-014")
def _(mp: pytest.MonkeyPatch) -> None:
    def check_group_users(self: Store, platform_id: int, user_ids: list[int]) -> None:
        unknown = [u for u in user_ids if self.get_user(u) is None]  # existence only: no platform check
        if unknown:
            raise rbac.BadRequest(f"Invalid user IDs provided: {unknown}.")
    mp.setattr(Store, "check_group_users", check_group_users)
