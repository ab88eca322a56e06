"""Program and user licenses: create, update (with one history record each), list, and their seats."""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadRequest, LicenseNotAssignable, SeatLimitReached
from ..validation import parse_timestamp
from .base import Row, StoreBase, _dumps, contains_any, platform_condition

LICENSE_TABLES = {"program": "program_licenses", "user": "user_licenses"}
ASSIGNMENT_TABLES = {"program": "program_license_assignments", "user": "user_license_assignments"}

# sortable fields per list: API field name -> SQL expression (a fixed allow-list: no injection)
LICENSE_SORT = {
    "id": "l.id", "created": "l.created", "modified": "l.modified", "started": "l.started",
    "expired": "l.expired", "name": "l.name", "count": "l.count", "active": "l.active",
    "source": "l.source", "external_id": "l.external_id",
}
PROGRAM_LICENSE_SORT = {**LICENSE_SORT, "program_id": "l.program_key", "program_key": "l.program_key"}

# the filters of a license list that must equal a column
EQUAL_FILTERS = {"program": ("name", "source", "external_id", "active", "program_key"),
                 "user": ("name", "source", "external_id", "active")}


class LicenseStore(StoreBase):
    """Licenses and the seat rules every new assignment passes."""

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

    def _license_converter(self, kind: str) -> Any:
        return lambda row: self._license_from_row(kind, row)

    def get_license(self, kind: str, license_id: int) -> dict[str, Any] | None:
        return self._get_by_id(self._license_select(kind), "l.id", license_id, self._license_converter(kind))

    def find_license_by_external_id(self, kind: str, external_id: str) -> dict[str, Any] | None:
        return self._first(self._license_select(kind), "l.external_id = ?", (external_id,),
                           self._license_converter(kind), "l.id")

    def external_id_taken(self, kind: str, external_id: str | None, exclude_id: int | None = None) -> bool:
        """``external_id`` must be unique among the licenses of one kind."""
        if external_id is None:
            return False
        table = LICENSE_TABLES[kind]
        return bool(self._scalar(
            f"SELECT COUNT(*) FROM {table} WHERE external_id = ? AND id != ?", (external_id, exclude_id or -1)
        ))

    # ------------------------------------------------------------------ seats

    def usage_count(self, kind: str, license_id: int) -> int:
        """Number of assignments on the license (each takes one seat)."""
        return int(self._scalar(f"SELECT COUNT(*) FROM {ASSIGNMENT_TABLES[kind]} WHERE license_id = ?", (license_id,)))

    def assignment_breakdown(self, kind: str, license_id: int) -> dict[str, int]:
        """The verbose ``assignments`` object: total, active, inactive, fulfilled, pending."""
        row = self._one(
            f"SELECT COUNT(*) AS total, COALESCE(SUM(active), 0) AS active, "
            f"COALESCE(SUM(fulfilled), 0) AS fulfilled FROM {ASSIGNMENT_TABLES[kind]} WHERE license_id = ?",
            (license_id,))
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

    def check_license_open(self, license: dict[str, Any]) -> None:
        """Refuse a new assignment (of a user or a group) on an inactive or expired license."""
        if not self.license_accepts_new_assignments(license):
            raise LicenseNotAssignable("The license is inactive or expired: it accepts no new assignments.")

    def check_new_assignment(self, license: dict[str, Any]) -> None:
        self.check_license_open(license)
        if self.seats_free(license) <= 0:
            raise SeatLimitReached(
                f"No seats left on license {license['id']}: all {license['count']} seats are assigned."
            )

    def check_count_change(self, license_id: int, count: int) -> None:
        """A program license's count may not drop below its number of active assignments."""
        active = int(self._scalar("SELECT COUNT(*) FROM program_license_assignments WHERE license_id = ? AND active = 1",
                                  (license_id,)))
        if count < active:
            raise BadRequest(f"count {count} is less than the {active} active assignment(s) of license {license_id}.")

    # ------------------------------------------------------------------ history

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

    # ------------------------------------------------------------------ writes and lists

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

    def list_licenses(self, kind: str, *, platform_ids: list[int] | None, filters: dict[str, Any],
                      sort: tuple[str, bool], offset: int, limit: int) -> tuple[int, list[Row]]:
        where, params = platform_condition("l.platform_id", platform_ids)
        for column in EQUAL_FILTERS[kind]:
            if filters.get(column) is not None:
                where.append(f"l.{column} = ?")
                params.append(int(filters[column]) if column == "active" else filters[column])
        if filters.get("query") is not None:
            where.append(contains_any(["l.name"]))
            params.append(filters["query"])
        return self._select_page(self._license_select(kind), where, params, self._order(sort, "l.id"), offset, limit,
                                 self._license_converter(kind))
