"""Which suite tests a run keeps: by requirement ID prefix, by operation, by area; smoke keeps the smoke tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.spec.catalog import load_catalog

AREA_MARKERS = {"catalog": "CAT", "core": "CORE", "credentials": "CRED", "general": "GEN"}  # select with -m


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """Every requirement ID named by the test's requirement markers."""
    return tuple(rid for mark in item.iter_markers("requirement") for rid in mark.args)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which tests run: by requirement ID prefix, by operation, by area; smoke keeps the smoke tests only."""

    prefixes: tuple[str, ...] = ()
    operations: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    smoke: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config, *, smoke: bool) -> Selection:
        """The selection the options ask for; unknown operations or areas are usage errors."""
        catalog = load_catalog()
        operations = frozenset(config.getoption("conformance_operation") or ())
        unknown = operations - set(catalog.operations)
        if unknown:
            raise pytest.UsageError(f"unknown operation {sorted(unknown)[0]!r}: `conformance spec` lists them")
        areas = frozenset(AREA_MARKERS[a] for a in config.getoption("conformance_area") or ())
        return cls(tuple(config.getoption("conformance_requirement") or ()), operations, areas, smoke)

    @property
    def narrowed(self) -> bool:
        """True when requirements are left out by ID, operation or area."""
        return bool(self.prefixes or self.operations or self.areas)

    def matches(self, req_id: str) -> bool:
        """Is this requirement inside the selection?"""
        req = load_catalog().requirements[req_id]
        return ((not self.prefixes or req_id.startswith(self.prefixes))
                and (not self.operations or bool(self.operations & set(req.operations)))
                and (not self.areas or req.area in self.areas))

    def keeps(self, item: pytest.Item) -> bool:
        """Does this suite test run?"""
        if self.smoke and not item.get_closest_marker("smoke"):
            return False
        return not self.narrowed or any(self.matches(rid) for rid in requirement_ids(item))
