"""Saying "not verified": a test that cannot reach its verdict skips with a reason saying why."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

PREFIX = "not verified: "


def not_verified(reason: str) -> NoReturn:
    """Stop the test; the report shows its requirements as not verified, with this reason."""
    pytest.skip(PREFIX + reason)


def need(values: tuple[Any, ...], count: int, what: str) -> tuple[Any, ...]:
    """The first `count` fixture values, or not verified when the target configured fewer."""
    if len(values) < count:
        not_verified(f"needs {count} {what} in [fixtures] (have {len(values)})")
    return values[:count]
