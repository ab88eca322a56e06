"""Program suggestions, to a user or to a group: one upsert, delete and list path for both, and the bulk upsert."""

from __future__ import annotations

from typing import Any

from .base import Row, StoreBase, _dumps, _in_range, bool_columns, contains_any, flag_values, parse_user_id

# sortable fields per list: API field name -> SQL expression (a fixed allow-list: no injection)
SUGGESTION_SORT = {
    "id": "s.id", "created": "s.created", "modified": "s.modified", "user_id": "s.user_id",
    "username": "u.username", "program_key": "s.program_key", "accepted": "s.accepted",
    "visible": "s.visible",
}
GROUP_SUGGESTION_SORT = {
    "id": "s.id", "created": "s.created", "modified": "s.modified", "group_id": "s.group_id",
    "group_name": "g.name", "program_key": "s.program_key", "accepted": "s.accepted",
    "visible": "s.visible",
}

SUGGESTION_TABLES = {"user_id": "program_suggestions", "group_id": "program_group_suggestions"}

# what a suggestion row is read with (alias `s`), per kind of suggestion (the column naming whom it suggests to)
SUGGESTION_SELECTS = {
    "user_id": ("s.*, u.username AS username, u.name AS user_name, u.email AS email, p.key AS platform_key, "
                "COALESCE(pr.name, s.program_key) AS program_name "
                "FROM program_suggestions s JOIN users u ON u.id = s.user_id "
                "JOIN platforms p ON p.id = s.platform_id LEFT JOIN programs pr ON pr.program_key = s.program_key"),
    "group_id": ("s.*, g.name AS group_name, p.key AS platform_key, "
                 "COALESCE(pr.name, s.program_key) AS program_name, "
                 "(SELECT COUNT(*) FROM group_members m WHERE m.group_id = s.group_id) AS user_count "
                 "FROM program_group_suggestions s JOIN user_groups g ON g.id = s.group_id "
                 "JOIN platforms p ON p.id = s.platform_id LEFT JOIN programs pr ON pr.program_key = s.program_key"),
}

# what the `query` of a list searches, per kind of suggestion
SUGGESTION_SEARCH = {
    "user_id": ("u.username", "u.name", "COALESCE(u.email, '')", "s.program_key", "COALESCE(pr.name, '')"),
    "group_id": ("g.name", "s.program_key", "COALESCE(pr.name, '')"),
}

# the flags of a new suggestion when the request does not set them, per kind
NEW_SUGGESTION_FLAGS = {"user_id": {"accepted": False, "visible": True, "direct": True},
                        "group_id": {"accepted": False, "visible": True}}


def _suggestion_from_row(row: Row) -> Row:
    return bool_columns(row, ("accepted", "visible", "direct"))


class SuggestionStore(StoreBase):
    """Suggestions of a program to a user or to a group; one per (platform, program, user or group)."""

    def _get_suggestion(self, to: str, suggestion_id: int) -> Row | None:
        return self._get_by_id(SUGGESTION_SELECTS[to], "s.id", suggestion_id, _suggestion_from_row)

    def _find_suggestion(self, to: str, platform_id: int, program_key: str, member_id: int) -> Row | None:
        return self._first(SUGGESTION_SELECTS[to], f"s.platform_id = ? AND s.program_key = ? AND s.{to} = ?",
                           (platform_id, program_key, member_id), _suggestion_from_row, "s.id")

    def _create_suggestion(self, to: str, platform_id: int, program_key: str, member_id: int,
                           fields: dict[str, Any]) -> int:
        now = self.now()
        values = {"platform_id": platform_id, "program_key": program_key, to: member_id,
                  **flag_values(fields, NEW_SUGGESTION_FLAGS[to]), "metadata": _dumps(fields.get("metadata") or {}),
                  "created": now, "modified": now}
        if to == "user_id":
            values["suggested_by"] = fields.get("suggested_by")
        return self._insert(SUGGESTION_TABLES[to], values)

    def _upsert_suggestion(self, to: str, platform_id: int, program_key: str, member_id: int,
                           fields: dict[str, Any]) -> Row:
        """Create-or-update; a new suggestion defaults to accepted false, visible true."""
        find = self.find_program_suggestion if to == "user_id" else self.find_group_suggestion
        return self._upsert(SUGGESTION_TABLES[to], lambda: find(platform_id, program_key, member_id),
                            lambda: self._create_suggestion(to, platform_id, program_key, member_id, fields),
                            lambda suggestion_id: self._get_suggestion(to, suggestion_id), fields,
                            tuple(NEW_SUGGESTION_FLAGS[to]), settable=("suggested_by",) if to == "user_id" else ())

    def _delete_suggestion(self, to: str, suggestion_id: int) -> bool:
        if not _in_range(suggestion_id):
            return False
        return self._delete(SUGGESTION_TABLES[to], "id = ?", (suggestion_id,))

    def _list_suggestions(self, to: str, platform_id: int, *, query: str | None, sort: tuple[str, bool],
                          offset: int, limit: int) -> tuple[int, list[Row]]:
        where, params = ["s.platform_id = ?"], [platform_id]
        if query is not None:
            where.append(contains_any(SUGGESTION_SEARCH[to]))
            params.extend([query] * len(SUGGESTION_SEARCH[to]))
        return self._select_page(SUGGESTION_SELECTS[to], where, params, self._order(sort, "s.id"), offset, limit,
                                 _suggestion_from_row)

    # ------------------------------------------------------------------ to a user

    def get_program_suggestion(self, suggestion_id: int) -> dict[str, Any] | None:
        return self._get_suggestion("user_id", suggestion_id)

    def find_program_suggestion(self, platform_id: int, program_key: str, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: one suggestion per (platform, program, user)."""
        return self._find_suggestion("user_id", platform_id, program_key, user_id)

    def upsert_program_suggestion(self, platform_id: int, program_key: str, user_id: int,
                                  fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update; a new suggestion defaults to accepted false, visible true."""
        return self._upsert_suggestion("user_id", platform_id, program_key, user_id, fields)

    def delete_program_suggestion(self, suggestion_id: int) -> bool:
        return self._delete_suggestion("user_id", suggestion_id)

    def list_program_suggestions(self, platform_id: int, *, query: str | None, sort: tuple[str, bool],
                                 offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        return self._list_suggestions("user_id", platform_id, query=query, sort=sort, offset=offset, limit=limit)

    def bulk_item_error(self, platform_id: int, item: Any) -> str | None:
        """Validate one bulk item; return its error code, or None when it can be stored."""
        if not isinstance(item, dict):
            return "invalid_item"
        program_key = item.get("program_key")
        if program_key is None or program_key == "":
            return "missing_program_key"
        if not isinstance(program_key, str):
            return "invalid_program_key"
        user_id = item.get("user_id")
        if user_id is None or user_id == "":
            return "missing_user_id"
        if parse_user_id(user_id) is None:
            return "invalid_user_id"
        for flag in ("accepted", "visible", "direct"):
            if flag in item and not isinstance(item[flag], bool):
                return f"invalid_{flag}"
        if "metadata" in item and not isinstance(item["metadata"], dict):
            return "invalid_metadata"
        if self.program_on_platform(platform_id, program_key) is None:
            return "unknown_program"
        uid = parse_user_id(user_id)
        if uid is None or self.get_user(uid) is None or not self.is_platform_member(platform_id, uid):
            return "unknown_user"
        return None

    def bulk_upsert_program_suggestions(self, platform_id: int, items: list[Any]) -> tuple[int, list[str]]:
        """Store each valid item (create-or-update); a failing item adds one error code."""
        successes, error_codes = 0, []
        with self.transaction():
            for item in items:
                code = self.bulk_item_error(platform_id, item)
                if code is not None:
                    error_codes.append(code)
                    continue
                uid = parse_user_id(item["user_id"])
                assert uid is not None
                self.upsert_program_suggestion(platform_id, item["program_key"], uid, {
                    k: item.get(k) for k in ("accepted", "visible", "direct", "metadata", "suggested_by")
                    if k in item and (k != "suggested_by" or isinstance(item[k], str))
                })
                successes += 1
        return successes, error_codes

    # ------------------------------------------------------------------ to a group

    def get_group_suggestion(self, suggestion_id: int) -> dict[str, Any] | None:
        return self._get_suggestion("group_id", suggestion_id)

    def find_group_suggestion(self, platform_id: int, program_key: str, group_id: int) -> dict[str, Any] | None:
        """Upsert rule: one group suggestion per (platform, program, group)."""
        return self._find_suggestion("group_id", platform_id, program_key, group_id)

    def upsert_group_suggestion(self, platform_id: int, program_key: str, group_id: int,
                                fields: dict[str, Any]) -> dict[str, Any]:
        return self._upsert_suggestion("group_id", platform_id, program_key, group_id, fields)

    def delete_group_suggestion(self, suggestion_id: int) -> bool:
        return self._delete_suggestion("group_id", suggestion_id)

    def list_group_suggestions(self, platform_id: int, *, query: str | None, sort: tuple[str, bool],
                               offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        return self._list_suggestions("group_id", platform_id, query=query, sort=sort, offset=offset, limit=limit)
