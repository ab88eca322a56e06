"""RBAC: policies (create, update, delete, list), roles and groups (lookups and lists). Internal ones are hidden."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from ..errors import BadRequest
from .base import Convert, Row, StoreBase, _dumps, _in_range, contains_any, platform_condition, visible_slice

# the membership tables of a policy: what it holds -> (table, column)
POLICY_MEMBERS = {"users": ("rbac_policy_users", "user_id"), "groups": ("rbac_policy_groups", "group_id")}


def _policy_from_row(row: Row) -> Row:
    row["resources"] = json.loads(row["resources"])
    row["is_internal"] = bool(row["is_internal"])
    return row


def _role_from_row(row: Row) -> Row:
    row["actions"] = json.loads(row["actions"])
    row["data_actions"] = json.loads(row["data_actions"])
    row["is_internal"] = bool(row["is_internal"])
    return row


def _members_having(field: str, membership: str) -> str:
    """`membership` (``x IN (SELECT ... m``, `m` having a user_id) closed on the users whose `field` is the `?`."""
    return f"{membership} JOIN users u ON u.id = m.user_id WHERE lower(u.{field}) = lower(?))"


class RbacStore(StoreBase):
    """Policies, roles and groups of the RBAC API."""

    def is_hidden_policy(self, policy: dict[str, Any]) -> bool:
        """Internal policies are invisible and unchangeable through the API."""
        return bool(policy["is_internal"])

    def is_hidden_role(self, role: dict[str, Any]) -> bool:
        return bool(role["is_internal"])

    def _visible_page(self, select_from: str, where: list[str], params: list[Any], order: str, convert: Convert,
                      hidden: Callable[[Row], bool], offset: int, limit: int) -> tuple[int, list[Row]]:
        """The count of the rows not `hidden` (by `order`) and the page of them from `offset`."""
        rows = self._all(f"SELECT {select_from} WHERE {' AND '.join(where or ['1 = 1'])} ORDER BY {order}", params)
        return visible_slice([convert(row) for row in rows], hidden, offset, limit)

    # ------------------------------------------------------------------ policies

    def get_policy(self, policy_id: int) -> dict[str, Any] | None:
        """Any policy, internal ones included (routes use :meth:`get_visible_policy`)."""
        return self._get_by_id("* FROM rbac_policies", "id", policy_id, _policy_from_row)

    def get_visible_policy(self, policy_id: int) -> dict[str, Any] | None:
        policy = self.get_policy(policy_id)
        if policy is None or self.is_hidden_policy(policy):
            return None
        return policy

    def visible_policies(self, *, platform_ids: list[int] | None, filters: dict[str, Any], offset: int,
                         limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = platform_condition("p.platform_id", platform_ids)
        if filters.get("role_id") is not None:
            where.append("p.role_id = ?")
            params.append(filters["role_id"])
        if filters.get("name") is not None:
            where.append(contains_any(["p.name"]))
            params.append(filters["name"])
        for field in ("username", "email"):
            if filters.get(field) is not None:
                held_directly = _members_having(field, "p.id IN (SELECT m.policy_id FROM rbac_policy_users m")
                held_by_group = _members_having(field, "p.id IN (SELECT pg.policy_id FROM rbac_policy_groups pg "
                                                       "JOIN group_members m ON m.group_id = pg.group_id")
                where.append(f"({held_directly} OR {held_by_group})")
                params.extend([filters[field], filters[field]])
        if filters.get("group") is not None:
            where.append("p.id IN (SELECT pg.policy_id FROM rbac_policy_groups pg JOIN user_groups g "
                         "ON g.id = pg.group_id WHERE lower(g.name) = lower(?))")
            params.append(filters["group"])
        return self._visible_page("p.* FROM rbac_policies p", where, params, "p.id", _policy_from_row,
                                  self.is_hidden_policy, offset, limit)

    def policy_users(self, policy_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT u.id, u.username, u.email FROM rbac_policy_users pu JOIN users u ON u.id = pu.user_id "
                         "WHERE pu.policy_id = ? ORDER BY u.id", (policy_id,))

    def policy_groups(self, policy_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT g.id, g.name, g.unique_id, g.description FROM rbac_policy_groups pg "
                         "JOIN user_groups g ON g.id = pg.group_id WHERE pg.policy_id = ? ORDER BY g.id", (policy_id,))

    def check_policy_references(self, platform_id: int, *, role_id: int | None = None,
                                user_ids: list[int] = (), group_ids: list[int] = ()) -> None:  # type: ignore[assignment]
        """Role, users and groups named by a policy write must belong to the policy's platform."""
        if role_id is not None:
            role = self.get_role(role_id)
            if role is None or role["platform_id"] != platform_id or self.is_hidden_role(role):
                raise BadRequest(f"Role {role_id} does not exist on this platform.")
        bad_users = [u for u in user_ids if not _in_range(u) or not self.is_platform_member(platform_id, u)]
        if bad_users:
            raise BadRequest(f"Users {bad_users} do not belong to this platform.")
        bad_groups = []
        for group_id in group_ids:
            group = self.get_group(group_id)
            if group is None or group["platform_id"] != platform_id or self.is_hidden_group(group):
                bad_groups.append(group_id)
        if bad_groups:
            raise BadRequest(f"Groups {bad_groups} do not belong to this platform.")

    def _apply_membership(self, policy_id: int, users_add: list[int], users_remove: list[int],
                          groups_add: list[int], groups_remove: list[int]) -> None:
        for members, added, removed in (("users", users_add, users_remove), ("groups", groups_add, groups_remove)):
            table, column = POLICY_MEMBERS[members]
            for member_id in added:
                self._execute(f"INSERT OR IGNORE INTO {table} (policy_id, {column}) VALUES (?, ?)", (policy_id, member_id))
            for member_id in removed:
                self._execute(f"DELETE FROM {table} WHERE policy_id = ? AND {column} = ?", (policy_id, member_id))

    def create_policy(self, platform_id: int, role_id: int, name: str | None, resources: list[str], *,
                      users_add: list[int] = (), users_remove: list[int] = (),  # type: ignore[assignment]
                      groups_add: list[int] = (), groups_remove: list[int] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        with self.transaction():
            self.check_policy_references(platform_id, role_id=role_id,
                                         user_ids=[*users_add, *users_remove], group_ids=[*groups_add, *groups_remove])
            now = self.now()
            policy_id = self._insert("rbac_policies", {
                "platform_id": platform_id, "role_id": role_id, "name": name if name is not None else str(uuid.uuid4()),
                "resources": _dumps(resources), "is_internal": 0, "created": now, "modified": now,
            })
            self._apply_membership(policy_id, list(users_add), list(users_remove), list(groups_add), list(groups_remove))
            result = self.get_policy(policy_id)
        assert result is not None
        return result

    def update_policy(self, policy_id: int, changes: dict[str, Any], *, users_add: list[int] = (),  # type: ignore[assignment]
                      users_remove: list[int] = (), groups_add: list[int] = (),  # type: ignore[assignment]
                      groups_remove: list[int] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """Change name / resources / role and membership of a visible policy."""
        with self.transaction():
            policy = self.get_visible_policy(policy_id)
            if policy is None:
                raise BadRequest("The policy cannot be changed.")
            self.check_policy_references(policy["platform_id"], role_id=changes.get("role_id"),
                                         user_ids=[*users_add, *users_remove], group_ids=[*groups_add, *groups_remove])
            values: dict[str, Any] = {}
            if "name" in changes:
                values["name"] = changes["name"] if changes["name"] is not None else str(uuid.uuid4())
            if "resources" in changes:
                values["resources"] = _dumps(changes["resources"])
            if changes.get("role_id") is not None:
                values["role_id"] = changes["role_id"]
            values["modified"] = self.now()
            self._update("rbac_policies", policy_id, values)
            self._apply_membership(policy_id, list(users_add), list(users_remove), list(groups_add), list(groups_remove))
            result = self.get_policy(policy_id)
        assert result is not None
        return result

    def delete_policy(self, policy_id: int) -> bool:
        with self.transaction():
            policy = self.get_visible_policy(policy_id)
            if policy is None:
                return False
            for table, _ in POLICY_MEMBERS.values():
                self._execute(f"DELETE FROM {table} WHERE policy_id = ?", (policy_id,))
            return self._delete("rbac_policies", "id = ?", (policy_id,))

    # ------------------------------------------------------------------ roles and groups

    def get_role(self, role_id: int) -> dict[str, Any] | None:
        return self._get_by_id("* FROM rbac_roles", "id", role_id, _role_from_row)

    def list_roles(self, *, platform_ids: list[int] | None, name: str | None, offset: int,
                   limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = platform_condition("platform_id", platform_ids)
        if name is not None:
            where.append(contains_any(["name"]))
            params.append(name)
        return self._visible_page("* FROM rbac_roles", where, params, "id", _role_from_row, self.is_hidden_role,
                                  offset, limit)

    def list_groups(self, *, platform_ids: list[int] | None, filters: dict[str, Any], offset: int,
                    limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = platform_condition("g.platform_id", platform_ids)
        if filters.get("name") is not None:
            where.append(contains_any(["g.name"]))
            params.append(filters["name"])
        if filters.get("owner") is not None:
            where.append("g.owner_id IN (SELECT id FROM users WHERE lower(username) = lower(?))")
            params.append(filters["owner"])
        for field in ("username", "email"):
            if filters.get(field) is not None:
                where.append(_members_having(field, "g.id IN (SELECT m.group_id FROM group_members m"))
                params.append(filters[field])
        return self._visible_page("g.* FROM user_groups g", where, params, "g.id", dict, self.is_hidden_group,
                                  offset, limit)

    def group_users(self, group_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT u.id, u.username, u.email FROM group_members m JOIN users u ON u.id = m.user_id "
                         "WHERE m.group_id = ? ORDER BY u.id", (group_id,))
