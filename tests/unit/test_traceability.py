"""Every shipped conformance test names requirement IDs, and every ID it names is in the catalog."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import conformance.scenarios
from conformance.spec.catalog import load_catalog


def suite_tests() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for info in pkgutil.iter_modules(conformance.scenarios.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"conformance.scenarios.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("test_") and function.__module__ == module.__name__:
                marks = getattr(function, "pytestmark", [])
                found[f"{info.name}::{name}"] = tuple(a for m in marks if m.name == "requirement" for a in m.args)
    return found


def test_every_suite_test_names_known_requirements() -> None:
    catalog = load_catalog()
    tests = suite_tests()
    assert tests, "no conformance test found"
    unnamed = [t for t, ids in tests.items() if not ids]
    assert not unnamed, f"tests without requirement IDs: {unnamed}"
    unknown = {t: sorted(catalog.unknown(set(ids))) for t, ids in tests.items() if catalog.unknown(set(ids))}
    assert not unknown, f"tests naming IDs the catalog lacks: {unknown}"
