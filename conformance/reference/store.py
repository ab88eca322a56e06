"""SQLite store of the reference implementation.

One connection (``check_same_thread=False``) guarded by a re-entrant lock; files use WAL. Every
write that checks and then writes (a seat check and an insert, an upsert) runs in one
``BEGIN IMMEDIATE`` transaction under the lock, so concurrent requests never oversubscribe.

Each business rule lives in one small, named method so a test can replace exactly one rule with
``monkeypatch`` and plant a defect the conformance suite must catch:

=============================  ==============================================================
rule                           method(s)
=============================  ==============================================================
seat limit                     :meth:`Store.seats_free`, :meth:`Store.create_program_assignment`,
                               :meth:`Store.create_user_assignment`
inactive / expired license     :meth:`Store.license_accepts_new_assignments`
upsert on (license, user)      :meth:`Store.find_program_assignment`,
                               :meth:`Store.find_user_assignment`
unassign frees the seat        :meth:`Store.delete_program_assignment`,
                               :meth:`Store.delete_user_assignment`
usage count                    :meth:`Store.usage_count`
license history                :meth:`Store.record_license_history`
license immutables             :meth:`Store.license_update_columns`
internal policies hidden       :meth:`Store.is_hidden_policy` (used by :meth:`visible_policies`
                               and :meth:`get_visible_policy`, i.e. by every policy route)
tenant isolation               :meth:`Store.can_administer`
suggestion upsert              :meth:`Store.find_program_suggestion`,
                               :meth:`Store.find_group_suggestion`
=============================  ==============================================================
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import fixtures
from .errors import BadRequest, LicenseNotAssignable, SeatLimitReached
from .readings import DEFAULT as DEFAULT_READINGS
from .readings import Readings
from .validation import INT_MAX, INT_MIN, parse_timestamp, utc_now

UNSET: Any = object()

LICENSE_TABLES = {"program": "program_licenses", "user": "user_licenses"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS platforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    org TEXT NOT NULL,
    name TEXT
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT,
    name TEXT NOT NULL DEFAULT '',
    is_dm_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS platform_members (
    platform_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform_id, user_id)
);
CREATE TABLE IF NOT EXISTS user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    unique_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER,
    is_internal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE IF NOT EXISTS programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    started TEXT NOT NULL,
    expired TEXT,
    active INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    enrollment_config TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    started TEXT NOT NULL,
    expired TEXT,
    active INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    enrollment_config TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS license_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    license_id INTEGER NOT NULL,
    change_type TEXT NOT NULL,
    transaction_id TEXT,
    snapshot TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_license_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    active INTEGER NOT NULL,
    fulfilled INTEGER NOT NULL,
    direct INTEGER NOT NULL,
    redirect_to TEXT,
    metadata TEXT NOT NULL,
    group_assignment_id INTEGER,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_license_group_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    active INTEGER NOT NULL,
    fulfilled INTEGER NOT NULL,
    redirect_to TEXT,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_license_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    active INTEGER NOT NULL,
    fulfilled INTEGER NOT NULL,
    redirect_to TEXT,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    direct INTEGER NOT NULL,
    suggested_by TEXT,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_group_suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    program_key TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    credential_id TEXT NOT NULL,
    credential_url TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    credential_type TEXT,
    issuer TEXT,
    issued_on TEXT,
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    course TEXT,
    program TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rbac_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    actions TEXT NOT NULL DEFAULT '[]',
    data_actions TEXT NOT NULL DEFAULT '[]',
    is_internal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rbac_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id INTEGER NOT NULL,
    role_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    resources TEXT NOT NULL DEFAULT '[]',
    is_internal INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rbac_policy_users (
    policy_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (policy_id, user_id)
);
CREATE TABLE IF NOT EXISTS rbac_policy_groups (
    policy_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    PRIMARY KEY (policy_id, group_id)
);
"""

STATE_TABLES = [
    "platforms", "users", "platform_members", "user_groups", "group_members", "programs",
    "program_licenses", "user_licenses", "license_history", "program_license_assignments",
    "program_license_group_assignments", "user_license_assignments", "program_suggestions",
    "program_group_suggestions", "credentials", "rbac_roles", "rbac_policies",
    "rbac_policy_users", "rbac_policy_groups",
]

# sortable fields per list: API field name -> SQL expression (a fixed allow-list: no injection)
LICENSE_SORT = {
    "id": "l.id", "created": "l.created", "modified": "l.modified", "started": "l.started",
    "expired": "l.expired", "name": "l.name", "count": "l.count", "active": "l.active",
    "source": "l.source", "external_id": "l.external_id",
}
PROGRAM_LICENSE_SORT = {**LICENSE_SORT, "program_id": "l.program_key", "program_key": "l.program_key"}
ASSIGNMENT_SORT = {
    "id": "a.id", "created": "a.created", "modified": "a.modified", "user_id": "a.user_id",
    "username": "u.username", "email": "u.email", "active": "a.active", "fulfilled": "a.fulfilled",
}
PROGRAM_ASSIGNMENT_SORT = {**ASSIGNMENT_SORT, "direct": "a.direct"}
GROUP_ASSIGNMENT_SORT = {
    "id": "a.id", "created": "a.created", "modified": "a.modified", "group_id": "a.group_id",
    "group_name": "g.name", "active": "a.active", "fulfilled": "a.fulfilled",
}
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


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _in_range(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX


def _placeholders(values: list[Any]) -> str:
    return ",".join("?" for _ in values)


def _upsert_changes(fields: dict[str, Any], flags: tuple[str, ...], now: str, *, clearable: tuple[str, ...] = (),
                    settable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The columns an upsert changes on the row that already exists: the boolean `flags` and the metadata it
    was given (an omitted or null one keeps its value), the `clearable` columns whenever present (null clears
    them), the `settable` ones when not null, and the modification time."""
    values: dict[str, Any] = {flag: int(fields[flag]) for flag in flags if fields.get(flag) is not None}
    values.update({column: fields[column] for column in clearable if column in fields})
    values.update({column: fields[column] for column in settable if fields.get(column) is not None})
    if fields.get("metadata") is not None:
        values["metadata"] = _dumps(fields["metadata"])
    values["modified"] = now
    return values


class Store:
    """The reference implementation's state. Thread-safe; every public method locks."""

    def __init__(self, database: str = ":memory:", clock: Callable[[], str] | None = None,
                 readings: Readings | None = None) -> None:
        self.database = database
        self.clock = clock or utc_now
        self.readings = readings or DEFAULT_READINGS
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._writes = 0
        with self._lock:
            if database != ":memory:" and not database.startswith("file::memory:"):
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(SCHEMA)
            if self.is_empty():
                self.seed()

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction under the lock; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def _one(self, sql: str, params: tuple | list = ()) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [dict(row) for row in rows]

    def _scalar(self, sql: str, params: tuple | list = ()) -> Any:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def _execute(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        columns = list(values)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(columns)})"
        cursor = self._execute(sql, [values[c] for c in columns])
        return int(cursor.lastrowid or 0)

    def _update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        if not values:
            return
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])

    def _page(self, select: str, from_where: str, params: list[Any], order: str,
              offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            count = int(self._conn.execute(f"SELECT COUNT(*) {from_where}", params).fetchone()[0])
            if offset >= count:
                return count, []
            rows = self._conn.execute(
                f"SELECT {select} {from_where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
            ).fetchall()
        return count, [dict(row) for row in rows]

    @staticmethod
    def _order(sort: tuple[str, bool], tiebreak: str) -> str:
        column, descending = sort
        direction = "DESC" if descending else "ASC"
        if column == tiebreak:
            return f"{column} {direction}"
        return f"{column} {direction}, {tiebreak} ASC"

    def _list_license_rows(self, select_from: str, license_id: int, filters: dict[str, Any], *,
                           flags: tuple[str, ...] = (), conditions: dict[str, str] | None = None,
                           sort: tuple[str, bool], offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """One page of the rows (alias `a`) of a license: `flags` filter by a boolean column of `a`; `conditions`
        maps a filter name to the SQL condition its value (the `?`) must meet."""
        select, _, rest = select_from.rpartition(" FROM ")
        where, params = ["a.license_id = ?"], [license_id]
        for flag in flags:
            if filters.get(flag) is not None:
                where.append(f"a.{flag} = ?")
                params.append(int(filters[flag]))
        for name, condition in (conditions or {}).items():
            if filters.get(name) is not None:
                where.append(condition)
                params.append(filters[name])
        return self._page(select, f"FROM {rest} WHERE {' AND '.join(where)}", params,
                          self._order(sort, "a.id"), offset, limit)

    def now(self) -> str:
        return self.clock()

    def merged_metadata(self, existing: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """The fields of an upsert; under metadata-merged the metadata sent is merged into the stored one."""
        if not self.readings.on("metadata-merged") or fields.get("metadata") is None:
            return fields
        return {**fields, "metadata": {**(existing.get("metadata") or {}), **fields["metadata"]}}

    # ------------------------------------------------------------------ seed

    def is_empty(self) -> bool:
        return not self._scalar("SELECT COUNT(*) FROM platforms")

    def seed(self) -> None:
        """Load the deterministic fixtures (only into an empty store)."""
        now = self.now()
        with self.transaction():
            if not self.is_empty():  # another process seeded the same file first
                return
            for p in fixtures.PLATFORMS:
                self._insert("platforms", {"id": p["id"], "key": p["key"], "org": p["org"], "name": p["name"]})
            for u in fixtures.USERS:
                self._insert("users", {"id": u["id"], "username": u["username"], "email": u["email"],
                                       "name": u["name"], "is_dm_admin": int(u["is_dm_admin"])})
                if u["platform_id"] is not None:
                    self._insert("platform_members", {"platform_id": u["platform_id"], "user_id": u["id"],
                                                      "is_admin": int(u["is_admin"])})
            for g in fixtures.GROUPS:
                self._insert("user_groups", {
                    "id": g["id"], "platform_id": g["platform_id"], "unique_id": g["unique_id"],
                    "name": g["name"], "description": g["description"], "owner_id": g["owner_id"],
                    "is_internal": int(g["is_internal"]),
                })
                for member in g["members"]:
                    self._insert("group_members", {"group_id": g["id"], "user_id": member})
            for prog in fixtures.PROGRAMS:
                self._insert("programs", dict(prog))
            for r in fixtures.ROLES:
                self._insert("rbac_roles", {
                    "id": r["id"], "platform_id": r["platform_id"], "name": r["name"],
                    "actions": _dumps(r["actions"]), "data_actions": _dumps(r["data_actions"]),
                    "is_internal": int(r["is_internal"]),
                })
            for pol in fixtures.POLICIES:
                self._insert("rbac_policies", {
                    "id": pol["id"], "platform_id": pol["platform_id"], "role_id": pol["role_id"],
                    "name": pol["name"], "resources": _dumps(pol["resources"]),
                    "is_internal": int(pol["is_internal"]), "created": now, "modified": now,
                })
                for member in pol["users"]:
                    self._insert("rbac_policy_users", {"policy_id": pol["id"], "user_id": member})
                for group in pol["groups"]:
                    self._insert("rbac_policy_groups", {"policy_id": pol["id"], "group_id": group})

    # ------------------------------------------------------------------ writes counter (probe)

    def count_write(self) -> None:
        with self._lock:
            self._writes += 1

    @property
    def writes(self) -> int:
        with self._lock:
            return self._writes

    def state_counts(self) -> dict[str, int]:
        with self._lock:
            return {t: int(self._conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in STATE_TABLES}

    # ------------------------------------------------------------------ platforms, users, groups

    def get_platform(self, platform_id: int) -> dict[str, Any] | None:
        if not _in_range(platform_id):
            return None
        return self._one("SELECT * FROM platforms WHERE id = ?", (platform_id,))

    def get_platform_by_key(self, key: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM platforms WHERE key = ?", (key,))

    def get_platform_by_org(self, org: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM platforms WHERE org = ?", (org,))

    def all_platform_ids(self) -> list[int]:
        return [r["id"] for r in self._all("SELECT id FROM platforms ORDER BY id")]

    def get_user(self, user_id: int) -> dict[str, Any] | None:
        if not _in_range(user_id):
            return None
        return self._one("SELECT * FROM users WHERE id = ?", (user_id,))

    def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY id LIMIT 1", (email,))

    def find_user_by_username(self, username: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM users WHERE lower(username) = lower(?) ORDER BY id LIMIT 1", (username,))

    def is_platform_member(self, platform_id: int, user_id: int) -> bool:
        return bool(self._scalar(
            "SELECT COUNT(*) FROM platform_members WHERE platform_id = ? AND user_id = ?", (platform_id, user_id)
        ))

    def admin_platform_ids(self, user_id: int) -> frozenset[int]:
        rows = self._all("SELECT platform_id FROM platform_members WHERE user_id = ? AND is_admin = 1", (user_id,))
        return frozenset(r["platform_id"] for r in rows)

    def can_administer(self, caller: Any, platform_id: int) -> bool:
        """Tenant isolation: a DM admin administers every platform, a platform admin only its own."""
        return bool(caller.is_dm_admin) or platform_id in caller.admin_platform_ids

    def get_group(self, group_id: int) -> dict[str, Any] | None:
        if not _in_range(group_id):
            return None
        return self._one("SELECT * FROM user_groups WHERE id = ?", (group_id,))

    def is_hidden_group(self, group: dict[str, Any]) -> bool:
        return bool(group["is_internal"])

    def group_member_ids(self, group_id: int) -> list[int]:
        return [r["user_id"] for r in self._all(
            "SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id", (group_id,))]

    def get_program(self, program_key: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM programs WHERE program_key = ?", (program_key,))

    def program_on_platform(self, platform_id: int, program_key: str) -> dict[str, Any] | None:
        program = self.get_program(program_key)
        if program is None or program["platform_id"] != platform_id:
            return None
        return program

    # ------------------------------------------------------------------ licenses

    def _license_select(self, kind: str) -> str:
        table = LICENSE_TABLES[kind]
        if kind == "program":
            return (f"l.*, p.key AS platform_key, pr.name AS program_name FROM {table} l "
                    "JOIN platforms p ON p.id = l.platform_id "
                    "LEFT JOIN programs pr ON pr.program_key = l.program_key")
        return f"l.*, p.key AS platform_key FROM {table} l JOIN platforms p ON p.id = l.platform_id"

    def _license_from_row(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        row["kind"] = kind
        row["active"] = bool(row["active"])
        row["metadata"] = json.loads(row["metadata"])
        row["enrollment_config"] = json.loads(row["enrollment_config"])
        if kind == "program" and row.get("program_name") is None:
            row["program_name"] = row["program_key"]
        return row

    def get_license(self, kind: str, license_id: int) -> dict[str, Any] | None:
        if not _in_range(license_id):
            return None
        row = self._one(f"SELECT {self._license_select(kind)} WHERE l.id = ?", (license_id,))
        return self._license_from_row(kind, row) if row else None

    def find_license_by_external_id(self, kind: str, external_id: str) -> dict[str, Any] | None:
        row = self._one(f"SELECT {self._license_select(kind)} WHERE l.external_id = ? ORDER BY l.id LIMIT 1",
                        (external_id,))
        return self._license_from_row(kind, row) if row else None

    def external_id_taken(self, kind: str, external_id: str | None, exclude_id: int | None = None) -> bool:
        """``external_id`` must be unique among the licenses of one kind."""
        if external_id is None:
            return False
        table = LICENSE_TABLES[kind]
        return bool(self._scalar(
            f"SELECT COUNT(*) FROM {table} WHERE external_id = ? AND id != ?", (external_id, exclude_id or -1)
        ))

    def usage_count(self, kind: str, license_id: int) -> int:
        """Number of assignments on the license (each takes one seat)."""
        table = "program_license_assignments" if kind == "program" else "user_license_assignments"
        return int(self._scalar(f"SELECT COUNT(*) FROM {table} WHERE license_id = ?", (license_id,)))

    def assignment_breakdown(self, kind: str, license_id: int) -> dict[str, int]:
        """The verbose ``assignments`` object: total, active, inactive, fulfilled, pending."""
        table = "program_license_assignments" if kind == "program" else "user_license_assignments"
        row = self._one(
            f"SELECT COUNT(*) AS total, COALESCE(SUM(active), 0) AS active, "
            f"COALESCE(SUM(fulfilled), 0) AS fulfilled FROM {table} WHERE license_id = ?", (license_id,))
        assert row is not None
        total, active, fulfilled = int(row["total"]), int(row["active"]), int(row["fulfilled"])
        return {"total": self.usage_count(kind, license_id), "active": active, "inactive": total - active,
                "fulfilled": fulfilled, "pending": total - fulfilled}

    def seats_free(self, license: dict[str, Any]) -> int:
        """Seats left: ``count - usage_count``. A new assignment needs at least one."""
        return int(license["count"]) - self.usage_count(license["kind"], license["id"])

    def license_accepts_new_assignments(self, license: dict[str, Any]) -> bool:
        """An inactive or expired license takes no new assignments (every license does, under inactive-license-open)."""
        if self.readings.on("inactive-license-open"):
            return True
        if not license["active"]:
            return False
        expired = license.get("expired")
        if expired and parse_timestamp(expired) <= parse_timestamp(self.now()):
            return False
        return True

    def check_new_assignment(self, license: dict[str, Any]) -> None:
        if not self.license_accepts_new_assignments(license):
            raise LicenseNotAssignable("The license is inactive or expired: it accepts no new assignments.")
        if self.seats_free(license) <= 0:
            raise SeatLimitReached(
                f"No seats left on license {license['id']}: all {license['count']} seats are assigned."
            )

    def record_license_history(self, kind: str, license_id: int, change_type: str,
                               transaction_id: str | None, snapshot: dict[str, Any]) -> int:
        """Write one history record (on create and on every update)."""
        return self._insert("license_history", {
            "kind": kind, "license_id": license_id, "change_type": change_type,
            "transaction_id": transaction_id, "snapshot": _dumps(snapshot), "created": self.now(),
        })

    def license_history(self, kind: str, license_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT id, change_type, transaction_id, created FROM license_history "
            "WHERE kind = ? AND license_id = ? ORDER BY id", (kind, license_id))

    @staticmethod
    def _snapshot(license: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in license.items() if k != "kind"}

    def create_license(self, kind: str, platform_id: int, fields: dict[str, Any], *,
                       program_key: str | None = None, change_type: str = "create",
                       transaction_id: str | None = None) -> dict[str, Any]:
        """Create a program or user license and its ``create`` history record."""
        now = self.now()
        values = {
            "platform_id": platform_id,
            "name": fields.get("name", ""),
            "count": fields.get("count", 0),
            "started": fields.get("started") or now,
            "expired": fields.get("expired"),
            "active": int(fields.get("active", True)),
            "metadata": _dumps(fields.get("metadata") or {}),
            "enrollment_config": _dumps(fields.get("enrollment_config") or {}),
            "source": fields.get("source", "api"),
            "external_id": fields.get("external_id"),
            "created": now,
            "modified": now,
        }
        if kind == "program":
            values["program_key"] = program_key
        with self.transaction():
            if self.external_id_taken(kind, values["external_id"]):
                raise BadRequest(f"A {kind} license with external_id '{values['external_id']}' already exists.")
            license_id = self._insert(LICENSE_TABLES[kind], values)
            license = self.get_license(kind, license_id)
            assert license is not None
            if kind == "user" or not self.readings.on("no-create-history"):  # UserLicenseCreate has change_type
                self.record_license_history(kind, license_id, change_type, transaction_id, self._snapshot(license))
        return license

    def license_update_columns(self, kind: str) -> tuple[str, ...]:
        """Columns an update may change. Platform and program are immutable."""
        return ("name", "count", "started", "expired", "active", "metadata", "enrollment_config", "source")

    def update_license(self, kind: str, license_id: int, changes: dict[str, Any], *,
                       change_type: str = "update", transaction_id: str | None = None) -> dict[str, Any]:
        """Apply an update and write exactly one history record."""
        allowed = self.license_update_columns(kind)
        values: dict[str, Any] = {}
        for column, value in changes.items():
            if column not in allowed:
                continue
            if column in ("metadata", "enrollment_config"):
                value = _dumps(value)
            elif column == "active":
                value = int(value)
            values[column] = value
        with self.transaction():
            if kind == "program" and "count" in values:
                self.check_count_change(license_id, int(values["count"]))
            values["modified"] = self.now()
            self._update(LICENSE_TABLES[kind], license_id, values)
            license = self.get_license(kind, license_id)
            assert license is not None
            self.record_license_history(kind, license_id, change_type, transaction_id, self._snapshot(license))
        return license

    def check_count_change(self, license_id: int, count: int) -> None:
        """A program license's count may not drop below its number of active assignments."""
        active = int(self._scalar("SELECT COUNT(*) FROM program_license_assignments WHERE license_id = ? AND active = 1",
                                  (license_id,)))
        if count < active:
            raise BadRequest(f"count {count} is less than the {active} active assignment(s) of license {license_id}.")

    def list_licenses(self, kind: str, *, platform_ids: list[int] | None, filters: dict[str, Any],
                      sort: tuple[str, bool], offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        select, _, from_rest = self._license_select(kind).rpartition(" FROM ")
        where, params = ["1 = 1"], []
        if platform_ids is not None:
            if not platform_ids:
                where.append("0 = 1")
            else:
                where.append(f"l.platform_id IN ({_placeholders(platform_ids)})")
                params.extend(platform_ids)
        for column in ("name", "source", "external_id"):
            if filters.get(column) is not None:
                where.append(f"l.{column} = ?")
                params.append(filters[column])
        if filters.get("active") is not None:
            where.append("l.active = ?")
            params.append(int(filters["active"]))
        if kind == "program" and filters.get("program_key") is not None:
            where.append("l.program_key = ?")
            params.append(filters["program_key"])
        if filters.get("query") is not None:
            where.append("instr(lower(l.name), lower(?)) > 0")
            params.append(filters["query"])
        count, rows = self._page(select, f"FROM {from_rest} WHERE {' AND '.join(where)}", params,
                                 self._order(sort, "l.id"), offset, limit)
        return count, [self._license_from_row(kind, row) for row in rows]

    # ------------------------------------------------------------------ program assignments

    _PA_SELECT = ("a.*, u.username AS username, u.email AS email, u.name AS user_name, "
                  "l.name AS license_name, l.program_key AS program_key "
                  "FROM program_license_assignments a JOIN users u ON u.id = a.user_id "
                  "JOIN program_licenses l ON l.id = a.license_id")

    @staticmethod
    def _assignment_from_row(row: dict[str, Any]) -> dict[str, Any]:
        for flag in ("active", "fulfilled", "direct"):
            if flag in row:
                row[flag] = bool(row[flag])
        row["metadata"] = json.loads(row["metadata"])
        return row

    def get_program_assignment(self, assignment_id: int) -> dict[str, Any] | None:
        if not _in_range(assignment_id):
            return None
        row = self._one(f"SELECT {self._PA_SELECT} WHERE a.id = ?", (assignment_id,))
        return self._assignment_from_row(row) if row else None

    def find_program_assignment(self, license_id: int, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: the assignment a user already holds on the license, if any."""
        row = self._one(f"SELECT {self._PA_SELECT} WHERE a.license_id = ? AND a.user_id = ? ORDER BY a.id LIMIT 1",
                        (license_id, user_id))
        return self._assignment_from_row(row) if row else None

    def create_program_assignment(self, license: dict[str, Any], user_id: int, *, active: bool = True,
                                  fulfilled: bool = False, direct: bool = True, redirect_to: str | None = None,
                                  metadata: dict[str, Any] | None = None,
                                  group_assignment_id: int | None = None) -> int:
        """Insert a new assignment after the seat check (call inside a transaction)."""
        self.check_new_assignment(license)
        now = self.now()
        return self._insert("program_license_assignments", {
            "license_id": license["id"], "user_id": user_id, "active": int(active), "fulfilled": int(fulfilled),
            "direct": int(direct), "redirect_to": redirect_to, "metadata": _dumps(metadata or {}),
            "group_assignment_id": group_assignment_id, "created": now, "modified": now,
        })

    def assign_program_license(self, license_id: int, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update the (license, user) assignment; a new one takes a seat."""
        with self.transaction():
            license = self.get_license("program", license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            existing = self.find_program_assignment(license_id, user_id)
            if existing is not None:
                self._update("program_license_assignments", existing["id"],
                             _upsert_changes(self.merged_metadata(existing, fields), ("active", "fulfilled", "direct"),
                                             self.now(), clearable=("redirect_to",)))
                assignment_id = existing["id"]
            else:
                assignment_id = self.create_program_assignment(
                    license, user_id,
                    active=fields["active"] if fields.get("active") is not None else True,
                    fulfilled=bool(fields.get("fulfilled") or False),
                    direct=fields.get("direct") if fields.get("direct") is not None else True,
                    redirect_to=fields.get("redirect_to"), metadata=fields.get("metadata"))
            result = self.get_program_assignment(assignment_id)
        assert result is not None
        return result

    def delete_program_assignment(self, license_id: int, assignment_id: int) -> bool:
        """Unassign: remove the assignment, which frees its seat."""
        if not _in_range(assignment_id):
            return False
        with self.transaction():
            cursor = self._execute("DELETE FROM program_license_assignments WHERE id = ? AND license_id = ?",
                                   (assignment_id, license_id))
            return cursor.rowcount > 0

    def list_program_assignments(self, license_id: int, *, filters: dict[str, Any], sort: tuple[str, bool],
                                 offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        count, rows = self._list_license_rows(self._PA_SELECT, license_id, filters, flags=("active", "fulfilled"),
                                              conditions={"user_id": "a.user_id = ?",
                                                          "email": "lower(u.email) = lower(?)"},
                                              sort=sort, offset=offset, limit=limit)
        return count, [self._assignment_from_row(r) for r in rows]

    # ------------------------------------------------------------------ group assignments

    _GA_SELECT = ("a.*, g.name AS group_name, l.name AS license_name, l.program_key AS program_key, "
                  "COALESCE(pr.name, l.program_key) AS program_name "
                  "FROM program_license_group_assignments a JOIN user_groups g ON g.id = a.group_id "
                  "JOIN program_licenses l ON l.id = a.license_id "
                  "LEFT JOIN programs pr ON pr.program_key = l.program_key")

    def _group_assignment_from_row(self, row: dict[str, Any]) -> dict[str, Any]:
        row["active"] = bool(row["active"])
        row["fulfilled"] = bool(row["fulfilled"])
        row["metadata"] = json.loads(row["metadata"])
        members = self.group_member_ids(row["group_id"])
        row["user_count"] = len(members)
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
        if not _in_range(assignment_id):
            return None
        row = self._one(f"SELECT {self._GA_SELECT} WHERE a.id = ?", (assignment_id,))
        return self._group_assignment_from_row(row) if row else None

    def find_group_assignment(self, license_id: int, group_id: int) -> dict[str, Any] | None:
        """Upsert rule for group assignments: one per (license, group)."""
        row = self._one(f"SELECT {self._GA_SELECT} WHERE a.license_id = ? AND a.group_id = ? ORDER BY a.id LIMIT 1",
                        (license_id, group_id))
        return self._group_assignment_from_row(row) if row else None

    def assign_group(self, license_id: int, group_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update the group assignment, then give members without an assignment a
        non-direct one while seats remain."""
        with self.transaction():
            license = self.get_license("program", license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            existing = self.find_group_assignment(license_id, group_id)
            now = self.now()
            if self.readings.on("group-assignment-all-or-nothing"):
                self.check_group_fits(license, group_id)
            if existing is not None:
                self._update("program_license_group_assignments", existing["id"],
                             _upsert_changes(self.merged_metadata(existing, fields), ("active", "fulfilled"), now,
                                             clearable=("redirect_to",)))
                group_assignment_id = existing["id"]
            else:
                if not self.license_accepts_new_assignments(license):
                    raise LicenseNotAssignable("The license is inactive or expired: it accepts no new assignments.")
                group_assignment_id = self._insert("program_license_group_assignments", {
                    "license_id": license_id, "group_id": group_id,
                    "active": int(fields["active"] if fields.get("active") is not None else True),
                    "fulfilled": int(bool(fields.get("fulfilled"))),
                    "redirect_to": fields.get("redirect_to"), "metadata": _dumps(fields.get("metadata") or {}),
                    "created": now, "modified": now,
                })
            group_assignment = self.get_group_assignment(group_assignment_id)
            assert group_assignment is not None
            self.fill_group_members(license, group_assignment)
            result = self.get_group_assignment(group_assignment_id)
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
        for user_id in self.group_member_ids(group_assignment["group_id"]):
            if self.find_program_assignment(license["id"], user_id) is not None:
                continue
            if not self.license_accepts_new_assignments(license) or self.seats_free(license) <= 0:
                break
            self.create_program_assignment(
                license, user_id, active=group_assignment["active"], fulfilled=group_assignment["fulfilled"],
                direct=False, redirect_to=group_assignment["redirect_to"],
                group_assignment_id=group_assignment["id"])
            created += 1
        return created

    def delete_group_assignment(self, license_id: int, assignment_id: int, remove_user_assignments: bool) -> bool:
        """Remove the group assignment; optionally also the non-direct assignments it gave."""
        if not _in_range(assignment_id):
            return False
        with self.transaction():
            cursor = self._execute("DELETE FROM program_license_group_assignments WHERE id = ? AND license_id = ?",
                                   (assignment_id, license_id))
            if cursor.rowcount == 0:
                return False
            if remove_user_assignments:
                self._execute("DELETE FROM program_license_assignments WHERE group_assignment_id = ? AND direct = 0",
                              (assignment_id,))
            self._execute("UPDATE program_license_assignments SET group_assignment_id = NULL "
                          "WHERE group_assignment_id = ?", (assignment_id,))
            return True

    def list_group_assignments(self, license_id: int, *, filters: dict[str, Any], sort: tuple[str, bool],
                               offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        count, rows = self._list_license_rows(self._GA_SELECT, license_id, filters, flags=("active", "fulfilled"),
                                              conditions={"group_id": "a.group_id = ?"}, sort=sort, offset=offset, limit=limit)
        return count, [self._group_assignment_from_row(r) for r in rows]

    # ------------------------------------------------------------------ user license assignments

    _UA_SELECT = ("a.*, u.username AS username, u.email AS email, l.name AS license_name, "
                  "p.key AS platform_key FROM user_license_assignments a JOIN users u ON u.id = a.user_id "
                  "JOIN user_licenses l ON l.id = a.license_id JOIN platforms p ON p.id = l.platform_id")

    def get_user_assignment(self, assignment_id: int) -> dict[str, Any] | None:
        if not _in_range(assignment_id):
            return None
        row = self._one(f"SELECT {self._UA_SELECT} WHERE a.id = ?", (assignment_id,))
        return self._assignment_from_row(row) if row else None

    def find_user_assignment(self, license_id: int, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: the assignment a user already holds on the user license, if any."""
        row = self._one(f"SELECT {self._UA_SELECT} WHERE a.license_id = ? AND a.user_id = ? ORDER BY a.id LIMIT 1",
                        (license_id, user_id))
        return self._assignment_from_row(row) if row else None

    def create_user_assignment(self, license: dict[str, Any], user_id: int, *, active: bool = True,
                               fulfilled: bool = False, redirect_to: str | None = None,
                               metadata: dict[str, Any] | None = None) -> int:
        """Insert a new user-license assignment after the seat check (inside a transaction)."""
        self.check_new_assignment(license)
        now = self.now()
        return self._insert("user_license_assignments", {
            "license_id": license["id"], "user_id": user_id, "active": int(active), "fulfilled": int(fulfilled),
            "redirect_to": redirect_to, "metadata": _dumps(metadata or {}), "created": now, "modified": now,
        })

    def assign_user_license(self, license_id: int, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        with self.transaction():
            license = self.get_license("user", license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            existing = self.find_user_assignment(license_id, user_id)
            if existing is not None:
                self._update("user_license_assignments", existing["id"],
                             _upsert_changes(self.merged_metadata(existing, fields), ("active", "fulfilled"), self.now(),
                                             clearable=("redirect_to",)))
                assignment_id = existing["id"]
            else:
                assignment_id = self.create_user_assignment(
                    license, user_id,
                    active=fields["active"] if fields.get("active") is not None else True,
                    fulfilled=bool(fields.get("fulfilled") or False),
                    redirect_to=fields.get("redirect_to"), metadata=fields.get("metadata"))
            result = self.get_user_assignment(assignment_id)
        assert result is not None
        return result

    def delete_user_assignment(self, license_id: int, assignment_id: int) -> bool:
        """Unassign from a user license: remove the assignment, which frees its seat."""
        if not _in_range(assignment_id):
            return False
        with self.transaction():
            cursor = self._execute("DELETE FROM user_license_assignments WHERE id = ? AND license_id = ?",
                                   (assignment_id, license_id))
            return cursor.rowcount > 0

    def list_user_assignments(self, license_id: int, *, sort: tuple[str, bool], offset: int,
                              limit: int) -> tuple[int, list[dict[str, Any]]]:
        count, rows = self._list_license_rows(self._UA_SELECT, license_id, {}, sort=sort, offset=offset, limit=limit)
        return count, [self._assignment_from_row(r) for r in rows]

    # ------------------------------------------------------------------ program suggestions

    _PS_SELECT = ("s.*, u.username AS username, u.name AS user_name, u.email AS email, p.key AS platform_key, "
                  "COALESCE(pr.name, s.program_key) AS program_name "
                  "FROM program_suggestions s JOIN users u ON u.id = s.user_id "
                  "JOIN platforms p ON p.id = s.platform_id LEFT JOIN programs pr ON pr.program_key = s.program_key")

    @staticmethod
    def _suggestion_from_row(row: dict[str, Any]) -> dict[str, Any]:
        for flag in ("accepted", "visible", "direct"):
            if flag in row:
                row[flag] = bool(row[flag])
        row["metadata"] = json.loads(row["metadata"])
        return row

    def get_program_suggestion(self, suggestion_id: int) -> dict[str, Any] | None:
        if not _in_range(suggestion_id):
            return None
        row = self._one(f"SELECT {self._PS_SELECT} WHERE s.id = ?", (suggestion_id,))
        return self._suggestion_from_row(row) if row else None

    def find_program_suggestion(self, platform_id: int, program_key: str, user_id: int) -> dict[str, Any] | None:
        """Upsert rule: one suggestion per (platform, program, user)."""
        row = self._one(f"SELECT {self._PS_SELECT} WHERE s.platform_id = ? AND s.program_key = ? AND s.user_id = ? "
                        "ORDER BY s.id LIMIT 1", (platform_id, program_key, user_id))
        return self._suggestion_from_row(row) if row else None

    def upsert_program_suggestion(self, platform_id: int, program_key: str, user_id: int,
                                  fields: dict[str, Any]) -> dict[str, Any]:
        """Create-or-update; a new suggestion defaults to accepted false, visible true."""
        with self.transaction():
            existing = self.find_program_suggestion(platform_id, program_key, user_id)
            now = self.now()
            if existing is not None:
                self._update("program_suggestions", existing["id"],
                             _upsert_changes(self.merged_metadata(existing, fields), ("accepted", "visible", "direct"), now,
                                             settable=("suggested_by",)))
                suggestion_id = existing["id"]
            else:
                suggestion_id = self._insert("program_suggestions", {
                    "platform_id": platform_id, "program_key": program_key, "user_id": user_id,
                    "accepted": int(bool(fields.get("accepted", False))),
                    "visible": int(fields["visible"] if fields.get("visible") is not None else True),
                    "direct": int(fields["direct"] if fields.get("direct") is not None else True),
                    "suggested_by": fields.get("suggested_by"),
                    "metadata": _dumps(fields.get("metadata") or {}), "created": now, "modified": now,
                })
            result = self.get_program_suggestion(suggestion_id)
        assert result is not None
        return result

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

    def delete_program_suggestion(self, suggestion_id: int) -> bool:
        if not _in_range(suggestion_id):
            return False
        with self.transaction():
            return self._execute("DELETE FROM program_suggestions WHERE id = ?", (suggestion_id,)).rowcount > 0

    def list_program_suggestions(self, platform_id: int, *, query: str | None, sort: tuple[str, bool],
                                 offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        select, _, rest = self._PS_SELECT.rpartition(" FROM ")
        where, params = ["s.platform_id = ?"], [platform_id]
        if query is not None:
            where.append("(instr(lower(u.username), lower(?)) > 0 OR instr(lower(u.name), lower(?)) > 0 "
                         "OR instr(lower(COALESCE(u.email, '')), lower(?)) > 0 "
                         "OR instr(lower(s.program_key), lower(?)) > 0 "
                         "OR instr(lower(COALESCE(pr.name, '')), lower(?)) > 0)")
            params.extend([query] * 5)
        count, rows = self._page(select, f"FROM {rest} WHERE {' AND '.join(where)}", params,
                                 self._order(sort, "s.id"), offset, limit)
        return count, [self._suggestion_from_row(r) for r in rows]

    # ------------------------------------------------------------------ group suggestions

    _GS_SELECT = ("s.*, g.name AS group_name, p.key AS platform_key, "
                  "COALESCE(pr.name, s.program_key) AS program_name, "
                  "(SELECT COUNT(*) FROM group_members m WHERE m.group_id = s.group_id) AS user_count "
                  "FROM program_group_suggestions s JOIN user_groups g ON g.id = s.group_id "
                  "JOIN platforms p ON p.id = s.platform_id LEFT JOIN programs pr ON pr.program_key = s.program_key")

    def get_group_suggestion(self, suggestion_id: int) -> dict[str, Any] | None:
        if not _in_range(suggestion_id):
            return None
        row = self._one(f"SELECT {self._GS_SELECT} WHERE s.id = ?", (suggestion_id,))
        return self._suggestion_from_row(row) if row else None

    def find_group_suggestion(self, platform_id: int, program_key: str, group_id: int) -> dict[str, Any] | None:
        """Upsert rule: one group suggestion per (platform, program, group)."""
        row = self._one(f"SELECT {self._GS_SELECT} WHERE s.platform_id = ? AND s.program_key = ? AND s.group_id = ? "
                        "ORDER BY s.id LIMIT 1", (platform_id, program_key, group_id))
        return self._suggestion_from_row(row) if row else None

    def upsert_group_suggestion(self, platform_id: int, program_key: str, group_id: int,
                                fields: dict[str, Any]) -> dict[str, Any]:
        with self.transaction():
            existing = self.find_group_suggestion(platform_id, program_key, group_id)
            now = self.now()
            if existing is not None:
                self._update("program_group_suggestions", existing["id"],
                             _upsert_changes(self.merged_metadata(existing, fields), ("accepted", "visible"), now))
                suggestion_id = existing["id"]
            else:
                suggestion_id = self._insert("program_group_suggestions", {
                    "platform_id": platform_id, "program_key": program_key, "group_id": group_id,
                    "accepted": int(bool(fields.get("accepted", False))),
                    "visible": int(fields["visible"] if fields.get("visible") is not None else True),
                    "metadata": _dumps(fields.get("metadata") or {}), "created": now, "modified": now,
                })
            result = self.get_group_suggestion(suggestion_id)
        assert result is not None
        return result

    def delete_group_suggestion(self, suggestion_id: int) -> bool:
        if not _in_range(suggestion_id):
            return False
        with self.transaction():
            return self._execute("DELETE FROM program_group_suggestions WHERE id = ?", (suggestion_id,)).rowcount > 0

    def list_group_suggestions(self, platform_id: int, *, query: str | None, sort: tuple[str, bool],
                               offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        select, _, rest = self._GS_SELECT.rpartition(" FROM ")
        where, params = ["s.platform_id = ?"], [platform_id]
        if query is not None:
            where.append("(instr(lower(g.name), lower(?)) > 0 OR instr(lower(s.program_key), lower(?)) > 0 "
                         "OR instr(lower(COALESCE(pr.name, '')), lower(?)) > 0)")
            params.extend([query] * 3)
        count, rows = self._page(select, f"FROM {rest} WHERE {' AND '.join(where)}", params,
                                 self._order(sort, "s.id"), offset, limit)
        return count, [self._suggestion_from_row(r) for r in rows]

    # ------------------------------------------------------------------ credentials

    CREDENTIAL_EXTRA = ("html_template", "css_template", "icon_image", "background_image", "thumbnail_image",
                        "criteria_url", "criteria_text", "issuing_signal")
    CREDENTIAL_COLUMNS = ("credential_url", "name", "description", "credential_type", "issuer", "issued_on",
                          "expires_at", "revoked", "course", "program")

    @staticmethod
    def _credential_from_row(row: dict[str, Any]) -> dict[str, Any]:
        row["revoked"] = bool(row["revoked"])
        row["extra"] = json.loads(row["extra"])
        return row

    def get_credential(self, platform_id: int, credential_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM credentials WHERE platform_id = ? AND credential_id = ?",
                        (platform_id, credential_id))
        return self._credential_from_row(row) if row else None

    def create_credential(self, platform_id: int, fields: dict[str, Any],
                          url_for: Callable[[str], str]) -> dict[str, Any]:
        """Create a credential; ``credential_id`` is generated when not sent and unique per org."""
        with self.transaction():
            credential_id = fields.get("credential_id") or str(uuid.uuid4())
            if self.get_credential(platform_id, credential_id) is not None:
                raise BadRequest(f"A credential with credential_id '{credential_id}' already exists in this org.")
            now = self.now()
            values = {c: fields.get(c) for c in self.CREDENTIAL_COLUMNS}
            values["credential_url"] = values["credential_url"] or url_for(credential_id)
            values["description"] = values["description"] or ""
            values["revoked"] = int(bool(values["revoked"]))
            self._insert("credentials", {
                **values, "platform_id": platform_id, "credential_id": credential_id,
                "extra": _dumps({k: fields[k] for k in self.CREDENTIAL_EXTRA if fields.get(k) is not None}),
                "created": now, "modified": now,
            })
            result = self.get_credential(platform_id, credential_id)
        assert result is not None
        return result

    def update_credential(self, platform_id: int, credential_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        with self.transaction():
            current = self.get_credential(platform_id, credential_id)
            if current is None:
                return None
            values: dict[str, Any] = {c: fields[c] for c in self.CREDENTIAL_COLUMNS if c in fields}
            if "revoked" in values:
                values["revoked"] = int(bool(values["revoked"]))
            if "description" in values and values["description"] is None:
                values["description"] = ""
            extra = dict(current["extra"])
            extra.update({k: fields[k] for k in self.CREDENTIAL_EXTRA if k in fields})
            values["extra"] = _dumps({k: v for k, v in extra.items() if v is not None})
            values["modified"] = self.now()
            self._update("credentials", current["id"], values)
            return self.get_credential(platform_id, credential_id)

    def delete_credential(self, platform_id: int, credential_id: str) -> bool:
        with self.transaction():
            return self._execute("DELETE FROM credentials WHERE platform_id = ? AND credential_id = ?",
                                 (platform_id, credential_id)).rowcount > 0

    def list_credentials(self, platform_id: int, *, search: str | None, course: str | None, program: str | None,
                         offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = ["platform_id = ?"], [platform_id]
        if search is not None:
            where.append("(instr(lower(name), lower(?)) > 0 OR instr(lower(description), lower(?)) > 0)")
            params.extend([search, search])
        if course is not None:
            where.append("course = ?")
            params.append(course)
        if program is not None:
            where.append("program = ?")
            params.append(program)
        count, rows = self._page("*", f"FROM credentials WHERE {' AND '.join(where)}", params, "id ASC",
                                 offset, limit)
        return count, [self._credential_from_row(r) for r in rows]

    # ------------------------------------------------------------------ RBAC

    def is_hidden_policy(self, policy: dict[str, Any]) -> bool:
        """Internal policies are invisible and unchangeable through the API."""
        return bool(policy["is_internal"])

    def is_hidden_role(self, role: dict[str, Any]) -> bool:
        return bool(role["is_internal"])

    @staticmethod
    def _policy_from_row(row: dict[str, Any]) -> dict[str, Any]:
        row["resources"] = json.loads(row["resources"])
        row["is_internal"] = bool(row["is_internal"])
        return row

    def get_policy(self, policy_id: int) -> dict[str, Any] | None:
        """Any policy, internal ones included (routes use :meth:`get_visible_policy`)."""
        if not _in_range(policy_id):
            return None
        row = self._one("SELECT * FROM rbac_policies WHERE id = ?", (policy_id,))
        return self._policy_from_row(row) if row else None

    def get_visible_policy(self, policy_id: int) -> dict[str, Any] | None:
        policy = self.get_policy(policy_id)
        if policy is None or self.is_hidden_policy(policy):
            return None
        return policy

    def visible_policies(self, *, platform_ids: list[int] | None, filters: dict[str, Any], offset: int,
                         limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = ["1 = 1"], []
        if platform_ids is not None:
            if not platform_ids:
                where.append("0 = 1")
            else:
                where.append(f"p.platform_id IN ({_placeholders(platform_ids)})")
                params.extend(platform_ids)
        if filters.get("role_id") is not None:
            where.append("p.role_id = ?")
            params.append(filters["role_id"])
        if filters.get("name") is not None:
            where.append("instr(lower(p.name), lower(?)) > 0")
            params.append(filters["name"])
        for field in ("username", "email"):
            if filters.get(field) is not None:
                where.append(
                    f"(p.id IN (SELECT pu.policy_id FROM rbac_policy_users pu JOIN users u ON u.id = pu.user_id "
                    f"WHERE lower(u.{field}) = lower(?)) OR p.id IN (SELECT pg.policy_id FROM rbac_policy_groups pg "
                    f"JOIN group_members m ON m.group_id = pg.group_id JOIN users u ON u.id = m.user_id "
                    f"WHERE lower(u.{field}) = lower(?)))")
                params.extend([filters[field], filters[field]])
        if filters.get("group") is not None:
            where.append("p.id IN (SELECT pg.policy_id FROM rbac_policy_groups pg JOIN user_groups g "
                         "ON g.id = pg.group_id WHERE lower(g.name) = lower(?))")
            params.append(filters["group"])
        rows = [self._policy_from_row(r) for r in self._all(
            f"SELECT p.* FROM rbac_policies p WHERE {' AND '.join(where)} ORDER BY p.id", params)]
        visible = [p for p in rows if not self.is_hidden_policy(p)]
        return len(visible), visible[offset:offset + limit]

    def policy_users(self, policy_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT u.id, u.username, u.email FROM rbac_policy_users pu JOIN users u ON u.id = pu.user_id "
                         "WHERE pu.policy_id = ? ORDER BY u.id", (policy_id,))

    def policy_groups(self, policy_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT g.id, g.name, g.unique_id, g.description FROM rbac_policy_groups pg "
                         "JOIN user_groups g ON g.id = pg.group_id WHERE pg.policy_id = ? ORDER BY g.id", (policy_id,))

    def get_role(self, role_id: int) -> dict[str, Any] | None:
        if not _in_range(role_id):
            return None
        row = self._one("SELECT * FROM rbac_roles WHERE id = ?", (role_id,))
        if row is None:
            return None
        row["actions"] = json.loads(row["actions"])
        row["data_actions"] = json.loads(row["data_actions"])
        row["is_internal"] = bool(row["is_internal"])
        return row

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
        for uid in users_add:
            self._execute("INSERT OR IGNORE INTO rbac_policy_users (policy_id, user_id) VALUES (?, ?)", (policy_id, uid))
        for uid in users_remove:
            self._execute("DELETE FROM rbac_policy_users WHERE policy_id = ? AND user_id = ?", (policy_id, uid))
        for gid in groups_add:
            self._execute("INSERT OR IGNORE INTO rbac_policy_groups (policy_id, group_id) VALUES (?, ?)", (policy_id, gid))
        for gid in groups_remove:
            self._execute("DELETE FROM rbac_policy_groups WHERE policy_id = ? AND group_id = ?", (policy_id, gid))

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
            self._execute("DELETE FROM rbac_policy_users WHERE policy_id = ?", (policy_id,))
            self._execute("DELETE FROM rbac_policy_groups WHERE policy_id = ?", (policy_id,))
            return self._execute("DELETE FROM rbac_policies WHERE id = ?", (policy_id,)).rowcount > 0

    def list_roles(self, *, platform_ids: list[int] | None, name: str | None, offset: int,
                   limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = ["1 = 1"], []
        if platform_ids is not None:
            where.append(f"platform_id IN ({_placeholders(platform_ids)})" if platform_ids else "0 = 1")
            params.extend(platform_ids)
        if name is not None:
            where.append("instr(lower(name), lower(?)) > 0")
            params.append(name)
        roles = [self.get_role(r["id"]) for r in self._all(
            f"SELECT id FROM rbac_roles WHERE {' AND '.join(where)} ORDER BY id", params)]
        visible = [r for r in roles if r is not None and not self.is_hidden_role(r)]
        return len(visible), visible[offset:offset + limit]

    def list_groups(self, *, platform_ids: list[int] | None, filters: dict[str, Any], offset: int,
                    limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = ["1 = 1"], []
        if platform_ids is not None:
            where.append(f"g.platform_id IN ({_placeholders(platform_ids)})" if platform_ids else "0 = 1")
            params.extend(platform_ids)
        if filters.get("name") is not None:
            where.append("instr(lower(g.name), lower(?)) > 0")
            params.append(filters["name"])
        if filters.get("owner") is not None:
            where.append("g.owner_id IN (SELECT id FROM users WHERE lower(username) = lower(?))")
            params.append(filters["owner"])
        for field in ("username", "email"):
            if filters.get(field) is not None:
                where.append(f"g.id IN (SELECT m.group_id FROM group_members m JOIN users u ON u.id = m.user_id "
                             f"WHERE lower(u.{field}) = lower(?))")
                params.append(filters[field])
        groups = self._all(f"SELECT g.* FROM user_groups g WHERE {' AND '.join(where)} ORDER BY g.id", params)
        visible = [g for g in groups if not self.is_hidden_group(g)]
        return len(visible), visible[offset:offset + limit]

    def group_users(self, group_id: int) -> list[dict[str, Any]]:
        return self._all("SELECT u.id, u.username, u.email FROM group_members m JOIN users u ON u.id = m.user_id "
                         "WHERE m.group_id = ? ORDER BY u.id", (group_id,))


def parse_user_id(value: Any) -> int | None:
    """A user id given as an integer or a string of digits (the suggestion endpoints allow both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT_MIN <= value <= INT_MAX else None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value.strip()):
        parsed = int(value.strip())
        return parsed if parsed <= INT_MAX else None
    return None
