"""Faults for the three first scenarios: license history, seats, internal policies."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reference.store import Store
from tests.faults.registry import fault


@fault("license update writes no history record", violates="CAT-LICUPD-010")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "record_license_history", lambda self, *args, **kwargs: None)


@fault("unassign reports success but keeps the seat", violates="CAT-SEAT-003")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "delete_program_assignment", lambda self, *args, **kwargs: True)


@fault("internal policies are treated as ordinary ones", violates="CORE-RBAC-020")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Store, "is_hidden_policy", lambda self, policy: False)


@fault("internal policies are listed although hidden elsewhere", violates="CORE-RBAC-020")
def _(mp: pytest.MonkeyPatch) -> None:
    def everything(self: Store, *, platform_ids: Any, filters: Any, offset: int, limit: int) -> Any:
        ids = [r["id"] for r in self._all("SELECT id FROM rbac_policies ORDER BY id", [])]
        rows = [self.get_policy(i) for i in ids]
        return len(rows), rows[offset:offset + limit]

    mp.setattr(Store, "visible_policies", everything)
