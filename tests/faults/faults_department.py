"""Faults in how the reference treats the department admin (IsDepartmentModeAdminInPlatform)."""

from __future__ import annotations

import pytest

from conformance.reference import auth
from tests.faults.registry import fault


@fault("a department admin administers its platform everywhere, not only suggestions", violates="CAT-ACL-020")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(auth, "in_department_mode", lambda request: True)


@fault("a department admin is refused even in department mode", violates="CAT-ACL-016")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(auth, "in_department_mode", lambda request: False)
