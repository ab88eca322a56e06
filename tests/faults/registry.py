"""Planted defects: each one breaks one documented rule of the reference implementation.

A fault is a function that patches the reference (usually one `Store` method, or one helper a route
calls) through pytest's monkeypatch, before the server starts. It names the requirement it violates:
a run of the suite against the broken reference must report that requirement as failed. Product code
carries no switches for these; they exist only here.

Add faults in a `faults_<area>.py` module of this folder:

    @fault("seat not freed on unassign", violates="CAT-SEAT-003")
    def _(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(Store, "delete_program_assignment", lambda self, license_id, assignment_id: True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

Patch = Callable[[pytest.MonkeyPatch], None]


@dataclass(frozen=True)
class Fault:
    """One planted defect and the requirement that must catch it."""

    name: str
    violates: str
    patch: Patch


FAULTS: dict[str, Fault] = {}


def fault(name: str, *, violates: str) -> Callable[[Patch], Patch]:
    """Register a fault: `patch` breaks the reference so that `violates` (a catalog ID) does not hold."""
    def register(patch: Patch) -> Patch:
        if name in FAULTS:
            raise ValueError(f"fault {name!r} is registered twice")
        FAULTS[name] = Fault(name, violates, patch)
        return patch
    return register


def all_faults() -> dict[str, Fault]:
    """Every fault of every faults_*.py module in this folder."""
    import importlib
    import pkgutil

    import tests.faults

    for info in pkgutil.iter_modules(tests.faults.__path__):
        if info.name.startswith("faults_"):
            importlib.import_module(f"tests.faults.{info.name}")
    return FAULTS
