"""Faults in how the reference reads malformed input."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reference import validation
from tests.faults.registry import fault


@fault("a boolean query parameter that is not a boolean reads as false", violates="GEN-STATUS-004")
def _(mp: pytest.MonkeyPatch) -> None:
    original = validation.QueryParams.bool

    def lenient(self: validation.QueryParams, name: str, *, default: bool | None = None) -> bool | None:
        try:
            return original(self, name, default=default)
        except validation.BadRequest:
            return False

    mp.setattr(validation.QueryParams, "bool", lenient)


@fault("an integer query parameter that is not a number reads as absent", violates="GEN-STATUS-004")
def _(mp: pytest.MonkeyPatch) -> None:
    original = validation.QueryParams.int

    def lenient(self: validation.QueryParams, name: str, **kwargs: Any) -> int | None:
        try:
            return original(self, name, **kwargs)
        except validation.BadRequest:
            if kwargs.get("required"):
                raise
            return None

    mp.setattr(validation.QueryParams, "int", lenient)
