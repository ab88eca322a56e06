"""License assignments: of a user on a program or user license (one create/find/delete/list path for both), and
of a group on a program license, which gives its members assignments of their own."""

from __future__ import annotations

from typing import Any

from ..errors import BadRequest, SeatLimitReached
from .base import Row, _dumps, _in_range, bool_columns, flag_values
from .licenses import ASSIGNMENT_TABLES, LicenseStore

# sortable fields per list: API field name -> SQL expression (a fixed allow-list: no injection)
ASSIGNMENT_SORT = {
    "id": "a.id", "created": "a.created", "modified": "a.modified", "user_id": "a.user_id",
    "username": "u.username", "email": "u.email", "active": "a.active", "fulfilled": "a.fulfilled",
}
PROGRAM_ASSIGNMENT_SORT = {**ASSIGNMENT_SORT, "direct": "a.direct"}
GROUP_ASSIGNMENT_SORT = {
    "id": "a.id", "created": "a.created", "modified": "a.modified", "group_id": "a.group_id",
    "group_name": "g.name", "active": "a.active", "fulfilled": "a.fulfilled",
}

# what an assignment row is read with (alias `a`), per kind of license
ASSIGNMENT_SELECTS = {
    "program": ("a.*, u.username AS username, u.email AS email, u.name AS user_name, "
                "l.name AS license_name, l.program_key AS program_key "
                "FROM program_license_assignments a JOIN users u ON u.id = a.user_id "
                "JOIN program_licenses l ON l.id = a.license_id"),
    "user": ("a.*, u.username AS username, u.email AS email, l.name AS license_name, "
             "p.key AS platform_key FROM user_license_assignments a JOIN users u ON u.id = a.user_id "
             "JOIN user_licenses l ON l.id = a.license_id JOIN platforms p ON p.id = l.platform_id"),
}
GROUP_ASSIGNMENT_SELECT = ("a.*, g.name AS group_name, l.name AS license_name, l.program_key AS program_key, "
                           "COALESCE(pr.name, l.program_key) AS program_name "
                           "FROM program_license_group_assignments a JOIN user_groups g ON g.id = a.group_id "
                           "JOIN program_licenses l ON l.id = a.license_id "
                           "LEFT JOIN programs pr ON pr.program_key = l.program_key")

# the flags of a new assignment when the request does not set them, per kind of license
NEW_ASSIGNMENT_FLAGS = {"program": {"active": True, "fulfilled": False, "direct": True},
                        "user": {"active": True, "fulfilled": False}}
NEW_GROUP_ASSIGNMENT_FLAGS = {"active": True, "fulfilled": False}


def _assignment_from_row(row: Row) -> Row:
    return bool_columns(row, ("active", "fulfilled", "direct"))


class AssignmentStore(LicenseStore):
    """Assignments of users and groups; every new user assignment passes the seat check first."""

    def _list_license_rows(self, select_from: str, license_id: int, filters: dict[str, Any], *, convert: Any,
                           flags: tuple[str, ...] = (), conditions: dict[str, str] | None = None,
                           sort: tuple[str, bool], offset: int, limit: int) -> tuple[int, list[Row]]:
        """One page of the rows (alias `a`) of a license: `flags` filter by a boolean column of `a`; `conditions`
        maps a filter name to the SQL condition its value (the `?`) must meet."""
        where, params = ["a.license_id = ?"], [license_id]
        for flag in flags:
            if filters.get(flag) is not None:
                where.append(f"a.{flag} = ?")
                params.append(int(filters[flag]))
        for name, condition in (conditions or {}).items():
            if filters.get(name) is not None:
                where.append(condition)
                params.append(filters[name])
        return self._select_page(select_from, where, params, self._order(sort, "a.id"), offset, limit, convert)

    # ------------------------------------------------------------------ a user's assignment (program or user license)

    def _get_assignment(self, kind: str, assignment_id: int) -> Row | None:
        return self._get_by_id(ASSIGNMENT_SELECTS[kind], "a.id", assignment_id, _assignment_from_row)

    def _find_assignment(self, kind: str, license_id: int, user_id: int) -> Row | None:
        return self._first(ASSIGNMENT_SELECTS[kind], "a.license_id = ? AND a.user_id = ?", (license_id, user_id),
                           _assignment_from_row, "a.id")

    def get_program_assignment(self, assignment_id: int) -> dict[str, Any] | None:
        return self._get_assignment("program", assignment_id)

    def find_program_assignment(self, license_id: int, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: the assignment a user already holds on the license, if any."""
        return self._find_assignment("program", license_id, user_id)

    def get_user_assignment(self, assignment_id: int) -> dict[str, Any] | None:
        return self._get_assignment("user", assignment_id)

    def find_user_assignment(self, license_id: int, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: the assignment a user already holds on the user license, if any."""
        return self._find_assignment("user", license_id, user_id)

    def create_assignment(self, license: dict[str, Any], user_id: int, fields: dict[str, Any]) -> int:
        """Insert a new assignment of a user after the license and seat checks (call inside a transaction): the
        flags `fields` sets, else their defaults; a program license's may name the group assignment that gave it."""
        self.check_new_assignment(license)
        kind, now = license["kind"], self.now()
        values = {"license_id": license["id"], "user_id": user_id, **flag_values(fields, NEW_ASSIGNMENT_FLAGS[kind]),
                  "redirect_to": fields.get("redirect_to"), "metadata": _dumps(fields.get("metadata") or {}),
                  "created": now, "modified": now}
        if kind == "program":
            values["group_assignment_id"] = fields.get("group_assignment_id")
        return self._insert(ASSIGNMENT_TABLES[kind], values)

    def _assign(self, kind: str, license_id: int, user_id: int, fields: dict[str, Any]) -> Row:
        """Create-or-update the (license, user) assignment; a new one takes a seat."""
        find, get = ((self.find_program_assignment, self.get_program_assignment) if kind == "program"
                     else (self.find_user_assignment, self.get_user_assignment))
        with self.transaction():
            license = self.get_license(kind, license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            return self._upsert(ASSIGNMENT_TABLES[kind], lambda: find(license_id, user_id),
                                lambda: self.create_assignment(license, user_id, fields), get, fields,
                                tuple(NEW_ASSIGNMENT_FLAGS[kind]), clearable=("redirect_to",))

    def assign_program_license(self, license_id: int, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update the (license, user) assignment; a new one takes a seat."""
        return self._assign("program", license_id, user_id, fields)

    def assign_user_license(self, license_id: int, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self._assign("user", license_id, user_id, fields)

    def _unassign(self, kind: str, license_id: int, assignment_id: int) -> bool:
        """Unassign: remove the license's assignment, which frees its seat."""
        if not _in_range(assignment_id):
            return False
        return self._delete(ASSIGNMENT_TABLES[kind], "id = ? AND license_id = ?", (assignment_id, license_id))

    def delete_program_assignment(self, license_id: int, assignment_id: int) -> bool:
        """Unassign: remove the assignment, which frees its seat."""
        return self._unassign("program", license_id, assignment_id)

    def delete_user_assignment(self, license_id: int, assignment_id: int) -> bool:
        """Unassign from a user license: remove the assignment, which frees its seat."""
        return self._unassign("user", license_id, assignment_id)

    def list_program_assignments(self, license_id: int, *, filters: dict[str, Any], sort: tuple[str, bool],
                                 offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        return self._list_license_rows(ASSIGNMENT_SELECTS["program"], license_id, filters, convert=_assignment_from_row,
                                       flags=("active", "fulfilled"),
                                       conditions={"user_id": "a.user_id = ?", "email": "lower(u.email) = lower(?)"},
                                       sort=sort, offset=offset, limit=limit)

    def list_user_assignments(self, license_id: int, *, filters: dict[str, Any] | None = None, sort: tuple[str, bool],
                              offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """One page of a user license's assignments (the list has no filters)."""
        return self._list_license_rows(ASSIGNMENT_SELECTS["user"], license_id, {}, convert=_assignment_from_row,
                                       sort=sort, offset=offset, limit=limit)

    # ------------------------------------------------------------------ group assignments

    def _group_assignment_from_row(self, row: Row) -> Row:
        bool_columns(row, ("active", "fulfilled"))
        row["user_count"] = len(self.group_member_ids(row["group_id"]))
        row["assigned_count"] = self.group_assigned_count(row["license_id"], row["group_id"])
        return row

    def group_assigned_count(self, license_id: int, group_id: int) -> int:
        """Members of the group who hold an assignment (direct or not) on the license; under assigned-by-group only
        the assignments the group assignment gave."""
        if self.readings.on("assigned-by-group"):
            return int(self._scalar(
                "SELECT COUNT(DISTINCT a.user_id) FROM program_license_assignments a "
                "JOIN program_license_group_assignments g ON g.id = a.group_assignment_id "
                "WHERE g.license_id = ? AND g.group_id = ?", (license_id, group_id)))
        return int(self._scalar(
            "SELECT COUNT(DISTINCT a.user_id) FROM program_license_assignments a "
            "JOIN group_members m ON m.user_id = a.user_id AND m.group_id = ? WHERE a.license_id = ?",
            (group_id, license_id)))

    def get_group_assignment(self, assignment_id: int) -> dict[str, Any] | None:
        return self._get_by_id(GROUP_ASSIGNMENT_SELECT, "a.id", assignment_id, self._group_assignment_from_row)

    def find_group_assignment(self, license_id: int, group_id: int) -> dict[str, Any] | None:
        """Upsert rule for group assignments: one per (license, group)."""
        return self._first(GROUP_ASSIGNMENT_SELECT, "a.license_id = ? AND a.group_id = ?", (license_id, group_id),
                           self._group_assignment_from_row, "a.id")

    def _create_group_assignment(self, license: dict[str, Any], group_id: int, fields: dict[str, Any]) -> int:
        """Insert a new group assignment (the license must take new assignments; seats are taken per member)."""
        self.check_license_open(license)
        now = self.now()
        return self._insert("program_license_group_assignments", {
            "license_id": license["id"], "group_id": group_id, **flag_values(fields, NEW_GROUP_ASSIGNMENT_FLAGS),
            "redirect_to": fields.get("redirect_to"), "metadata": _dumps(fields.get("metadata") or {}),
            "created": now, "modified": now,
        })

    def assign_group(self, license_id: int, group_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update the group assignment, then give members without an assignment a
        non-direct one while seats remain."""
        with self.transaction():
            license = self.get_license("program", license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            if self.readings.on("group-assignment-all-or-nothing"):
                self.check_group_fits(license, group_id)
            group_assignment = self._upsert(
                "program_license_group_assignments", lambda: self.find_group_assignment(license_id, group_id),
                lambda: self._create_group_assignment(license, group_id, fields), self.get_group_assignment,
                fields, tuple(NEW_GROUP_ASSIGNMENT_FLAGS), clearable=("redirect_to",))
            self.fill_group_members(license, group_assignment)
            result = self.get_group_assignment(group_assignment["id"])
        assert result is not None
        return result

    def check_group_fits(self, license: dict[str, Any], group_id: int) -> None:
        """All-or-nothing reading: refuse a group whose members without an assignment outnumber the free seats."""
        needing = [u for u in self.group_member_ids(group_id) if self.find_program_assignment(license["id"], u) is None]
        if len(needing) > self.seats_free(license):
            raise SeatLimitReached(f"The license has {max(0, self.seats_free(license))} free seat(s) but the group has "
                                   f"{len(needing)} member(s) needing one: nothing was assigned.")

    def fill_group_members(self, license: dict[str, Any], group_assignment: dict[str, Any]) -> int:
        """Give each member without an assignment a non-direct one while seats remain."""
        created = 0
        given = {"active": group_assignment["active"], "fulfilled": group_assignment["fulfilled"], "direct": False,
                 "redirect_to": group_assignment["redirect_to"], "group_assignment_id": group_assignment["id"]}
        for user_id in self.group_member_ids(group_assignment["group_id"]):
            if self.find_program_assignment(license["id"], user_id) is not None:
                continue
            if not self.license_accepts_new_assignments(license) or self.seats_free(license) <= 0:
                break
            self.create_assignment(license, user_id, given)
            created += 1
        return created

    def delete_group_assignment(self, license_id: int, assignment_id: int, remove_user_assignments: bool) -> bool:
        """Remove the group assignment; optionally also the non-direct assignments it gave."""
        if not _in_range(assignment_id):
            return False
        with self.transaction():
            if not self._delete("program_license_group_assignments", "id = ? AND license_id = ?",
                                (assignment_id, license_id)):
                return False
            if remove_user_assignments:
                self._execute("DELETE FROM program_license_assignments WHERE group_assignment_id = ? AND direct = 0",
                              (assignment_id,))
            self._execute("UPDATE program_license_assignments SET group_assignment_id = NULL "
                          "WHERE group_assignment_id = ?", (assignment_id,))
            return True

    def list_group_assignments(self, license_id: int, *, filters: dict[str, Any], sort: tuple[str, bool],
                               offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        return self._list_license_rows(GROUP_ASSIGNMENT_SELECT, license_id, filters,
                                       convert=self._group_assignment_from_row, flags=("active", "fulfilled"),
                                       conditions={"group_id": "a.group_id = ?"}, sort=sort, offset=offset, limit=limit)
