"""A pytest plugin for the traceability test: prints each collected suite test with its requirement IDs."""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        ids = [rid for mark in item.iter_markers("requirement") for rid in mark.args]
        print(f"REQUIREMENTS {','.join(ids)}\t{item.nodeid}")
