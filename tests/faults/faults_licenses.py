"""Faults for program licenses, seats, program and group assignments."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conformance.reference.errors import BadRequest
from conformance.reference.store import Store
from tests.faults.registry import fault

# ------------------------------------------------------------------------------------------ licenses


@fault("license list ignores the query filter", violates="CAT-LICLIST-012")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.list_licenses

    def ignoring(self: Store, kind: str, *, filters: dict[str, Any], **kw: Any) -> Any:
        return original(self, kind, filters={**filters, "query": None}, **kw)

    mp.setattr(Store, "list_licenses", ignoring)


@fault("license list ignores the platform filters", violates="CAT-LICLIST-003")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.list_licenses

    def everywhere(self: Store, kind: str, *, platform_ids: Any, **kw: Any) -> Any:
        return original(self, kind, platform_ids=None, **kw)

    mp.setattr(Store, "list_licenses", everywhere)


@fault("license created without active is inactive", violates="CAT-LICCRE-008")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.create_license

    def inactive(self: Store, kind: str, platform_id: int, fields: dict[str, Any], **kw: Any) -> Any:
        return original(self, kind, platform_id, {"active": False, **fields}, **kw)

    mp.setattr(Store, "create_license", inactive)


@fault("license update can move the license to another program", violates="CAT-LICUPD-012")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.update_license

    def moving(self: Store, kind: str, license_id: int, changes: dict[str, Any], **kw: Any) -> Any:
        if kind == "program":
            with self.transaction():
                other = self._scalar("SELECT program_key FROM programs WHERE program_key != "
                                     "(SELECT program_key FROM program_licenses WHERE id = ?) AND platform_id = "
                                     "(SELECT platform_id FROM program_licenses WHERE id = ?) LIMIT 1",
                                     (license_id, license_id))
                if other is not None:
                    self._execute("UPDATE program_licenses SET program_key = ? WHERE id = ?", (other, license_id))
        return original(self, kind, license_id, changes, **kw)

    mp.setattr(Store, "update_license", moving)


# ------------------------------------------------------------------------------------------ seats


@fault("assigning the same user again takes a second seat", violates="CAT-SEAT-005")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "find_program_assignment", lambda self, license_id, user_id: None)


@fault("count may drop below the active assignments", violates="CAT-SEAT-004")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "check_count_change", lambda self, license_id, count: None)


@fault("seat check and insert in separate transactions", violates="CAT-SEAT-006")
def _(mp: pytest.MonkeyPatch) -> None:
    """The check-then-insert of a new assignment loses its transaction: the seat check commits, a short
    pause follows, and the insert runs in a second transaction without checking again."""
    original = Store.assign_program_license

    def racy(self: Store, license_id: int, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        with self.transaction():
            license = self.get_license("program", license_id)
            if license is None:
                raise BadRequest("The license does not exist.")
            if self.find_program_assignment(license_id, user_id) is not None:
                return original(self, license_id, user_id, fields)
            self.check_new_assignment(license)
        time.sleep(0.05)
        with self.transaction():  # the insert, without a second look at the seats
            now = self.now()
            assignment_id = self._insert("program_license_assignments", {
                "license_id": license_id, "user_id": user_id,
                "active": int(fields.get("active") is not False), "fulfilled": int(bool(fields.get("fulfilled"))),
                "direct": int(fields.get("direct") is not False), "redirect_to": fields.get("redirect_to"),
                "metadata": json.dumps(fields.get("metadata") or {}), "group_assignment_id": None,
                "created": now, "modified": now,
            })
            result = self.get_program_assignment(assignment_id)
        assert result is not None
        return result

    mp.setattr(Store, "assign_program_license", racy)


# ------------------------------------------------------------------------------------------ program assignments


@fault("assignment list ignores the fulfilled filter", violates="CAT-PASG-009")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.list_program_assignments

    def ignoring(self: Store, license_id: int, *, filters: dict[str, Any], **kw: Any) -> Any:
        return original(self, license_id, filters={**filters, "fulfilled": None}, **kw)

    mp.setattr(Store, "list_program_assignments", ignoring)


@fault("unassign removes an assignment of another license", violates="CAT-PASG-024")
def _(mp: pytest.MonkeyPatch) -> None:
    def careless(self: Store, license_id: int, assignment_id: int) -> bool:
        with self.transaction():
            return self._execute("DELETE FROM program_license_assignments WHERE id = ?", (assignment_id,)).rowcount > 0

    mp.setattr(Store, "delete_program_assignment", careless)


# ------------------------------------------------------------------------------------------ group assignments


@fault("assigning a group again adds a second group assignment", violates="CAT-GASG-013")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "find_group_assignment", lambda self, license_id, group_id: None)


@fault("group assignment DELETE always removes the user assignments", violates="CAT-GASG-022")
def _(mp: pytest.MonkeyPatch) -> None:
    original = Store.delete_group_assignment

    def always(self: Store, license_id: int, assignment_id: int, remove_user_assignments: bool) -> bool:
        return original(self, license_id, assignment_id, True)

    mp.setattr(Store, "delete_group_assignment", always)


@fault("group assignment assigned_count counts every assignment of the license", violates="CAT-GASG-017")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "group_assigned_count",
               lambda self, license_id, group_id: self.usage_count("program", license_id))
