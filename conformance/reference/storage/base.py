"""The store's plumbing: the connection, transactions, the row helpers every resource uses, the seed, and the
lookups of platforms, users, groups and programs."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import fixtures
from ..readings import DEFAULT as DEFAULT_READINGS
from ..readings import Readings
from ..validation import INT_MAX, INT_MIN, utc_now
from .schema import SCHEMA, STATE_TABLES

Row = dict[str, Any]
Convert = Callable[[Row], Row]


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


def flag_values(fields: dict[str, Any], defaults: dict[str, bool]) -> dict[str, int]:
    """The boolean columns of a new row: each flag sent (not null), else its default."""
    return {flag: int(fields[flag] if fields.get(flag) is not None else default) for flag, default in defaults.items()}


def bool_columns(row: Row, flags: Iterable[str]) -> Row:
    """The row with its stored 0/1 `flags` (those it has) as booleans and its metadata decoded."""
    for flag in flags:
        if flag in row:
            row[flag] = bool(row[flag])
    row["metadata"] = json.loads(row["metadata"])
    return row


def contains_any(columns: Iterable[str]) -> str:
    """An SQL condition: one of `columns` contains the parameter (case-insensitive); one `?` per column."""
    return "(" + " OR ".join(f"instr(lower({column}), lower(?)) > 0" for column in columns) + ")"


def platform_condition(column: str, platform_ids: list[int] | None) -> tuple[list[str], list[Any]]:
    """The condition (and its parameters) keeping the rows of `platform_ids`; None keeps every row."""
    if platform_ids is None:
        return [], []
    if not platform_ids:
        return ["0 = 1"], []
    return [f"{column} IN ({_placeholders(platform_ids)})"], list(platform_ids)


def visible_slice(rows: list[Row], hidden: Callable[[Row], bool], offset: int, limit: int) -> tuple[int, list[Row]]:
    """The count of the rows not `hidden` and the page of them from `offset`."""
    visible = [row for row in rows if not hidden(row)]
    return len(visible), visible[offset:offset + limit]


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


class StoreBase:
    """The connection and the helpers of every resource's store. Thread-safe; every public method locks."""

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

    def _delete(self, table: str, where: str, params: tuple | list) -> bool:
        """Delete the rows of `table` meeting `where` in one transaction; False when there were none."""
        with self.transaction():
            return self._execute(f"DELETE FROM {table} WHERE {where}", params).rowcount > 0

    def _first(self, select_from: str, where: str, params: tuple | list, convert: Convert, order: str) -> Row | None:
        """The first row (by `order`) of ``SELECT select_from`` meeting `where`, converted; None when there is none."""
        row = self._one(f"SELECT {select_from} WHERE {where} ORDER BY {order} LIMIT 1", params)
        return convert(row) if row else None

    def _get_by_id(self, select_from: str, id_column: str, row_id: int, convert: Convert) -> Row | None:
        """The row whose `id_column` is `row_id` (None for an id out of the integer range), converted."""
        if not _in_range(row_id):
            return None
        row = self._one(f"SELECT {select_from} WHERE {id_column} = ?", (row_id,))
        return convert(row) if row else None

    def _upsert(self, table: str, find: Callable[[], Row | None], create: Callable[[], int], get: Callable[[int], Row | None],
                fields: dict[str, Any], flags: tuple[str, ...], *, clearable: tuple[str, ...] = (),
                settable: tuple[str, ...] = ()) -> Row:
        """Create-or-update in one transaction: the row `find` gives gets the changes `fields` make (see
        :func:`_upsert_changes`), else `create` inserts one; the answer is `get` of its id."""
        with self.transaction():
            existing = find()
            if existing is not None:
                self._update(table, existing["id"], _upsert_changes(self.merged_metadata(existing, fields), flags,
                                                                    self.now(), clearable=clearable, settable=settable))
                row_id = existing["id"]
            else:
                row_id = create()
            result = get(row_id)
        assert result is not None
        return result

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

    def _select_page(self, select_from: str, where: list[str], params: list[Any], order: str, offset: int,
                     limit: int, convert: Convert) -> tuple[int, list[Row]]:
        """The count and one converted page of ``SELECT select_from`` under all the `where` conditions."""
        select, _, rest = select_from.rpartition(" FROM ")
        count, rows = self._page(select, f"FROM {rest} WHERE {' AND '.join(where or ['1 = 1'])}", params, order,
                                 offset, limit)
        return count, [convert(row) for row in rows]

    @staticmethod
    def _order(sort: tuple[str, bool], tiebreak: str) -> str:
        column, descending = sort
        direction = "DESC" if descending else "ASC"
        if column == tiebreak:
            return f"{column} {direction}"
        return f"{column} {direction}, {tiebreak} ASC"

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

    # ------------------------------------------------------------------ platforms, users, groups, programs

    def get_platform(self, platform_id: int) -> dict[str, Any] | None:
        return self._get_by_id("* FROM platforms", "id", platform_id, dict)

    def get_platform_by_key(self, key: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM platforms WHERE key = ?", (key,))

    def get_platform_by_org(self, org: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM platforms WHERE org = ?", (org,))

    def all_platform_ids(self) -> list[int]:
        return [r["id"] for r in self._all("SELECT id FROM platforms ORDER BY id")]

    def get_user(self, user_id: int) -> dict[str, Any] | None:
        return self._get_by_id("* FROM users", "id", user_id, dict)

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
        return self._get_by_id("* FROM user_groups", "id", group_id, dict)

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
