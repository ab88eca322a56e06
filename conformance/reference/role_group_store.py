"""Creating RBAC roles and groups (the published core_rbac_roles_create and core_rbac_groups_create).

A mixin of :class:`conformance.reference.store.Store`: it uses the store's plumbing (``transaction``,
``_insert``, ``_scalar``) and lookups (``get_role``, ``get_group``, ``get_user``, ``is_platform_member``).
Neither kind of object can be deleted through the API, and a tenant can never make one internal: every
row created here has ``is_internal`` 0.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import BadRequest


class RoleGroupCreation:
    """Role and group creation for the reference store."""

    def create_role(self: Any, platform_id: int, name: str, actions: list[str],
                    data_actions: list[str]) -> dict[str, Any]:
        """A new (never internal) role of the platform."""
        with self.transaction():
            role_id = self._insert("rbac_roles", {
                "platform_id": platform_id, "name": name, "actions": json.dumps(actions),
                "data_actions": json.dumps(data_actions), "is_internal": 0,
            })
            role = self.get_role(role_id)
        assert role is not None
        return role

    def unique_id_taken(self: Any, platform_id: int, unique_id: str) -> bool:
        """True when a group of the platform already has this unique_id (internal groups included)."""
        return bool(self._scalar("SELECT COUNT(*) FROM user_groups WHERE platform_id = ? AND unique_id = ?",
                                 (platform_id, unique_id)))

    def check_group_users(self: Any, platform_id: int, user_ids: list[int]) -> None:
        """Users named by a group create must exist (400 'Invalid user IDs') and belong to the platform (400)."""
        unknown = [u for u in user_ids if self.get_user(u) is None]
        if unknown:
            raise BadRequest(f"Invalid user IDs provided: {unknown}.")
        foreign = [u for u in user_ids if not self.is_platform_member(platform_id, u)]
        if foreign:
            raise BadRequest(f"Users {foreign} do not belong to the specified platform.")

    def create_group(self: Any, platform_id: int, fields: dict[str, Any], owner_id: int | None,
                     users_add: list[int], users_remove: list[int]) -> dict[str, Any]:
        """A new (never internal) group of the platform, owned by `owner_id`, with `users_add` (less
        `users_remove`) as members; `fields` holds unique_id, name and description."""
        with self.transaction():
            self.check_group_users(platform_id, [*users_add, *users_remove])
            if self.unique_id_taken(platform_id, fields["unique_id"]):
                raise BadRequest(f"A group with unique_id {fields['unique_id']!r} already exists on this platform.")
            group_id = self._insert("user_groups", {
                "platform_id": platform_id, "unique_id": fields["unique_id"], "name": fields["name"],
                "description": fields["description"], "owner_id": owner_id, "is_internal": 0,
            })
            for user_id in dict.fromkeys(users_add):
                if user_id not in users_remove:
                    self._insert("group_members", {"group_id": group_id, "user_id": user_id})
            group = self.get_group(group_id)
        assert group is not None
        return group
