"""A pytest plugin for benchmarks (not a test): runs the session as a plain call instead of below the frame with room
(conformance/frames.py), in every process of a `conformance run` it is loaded into with
`PYTHONPATH=benchmarks PYTEST_ADDOPTS="-p _no_stack_room"` (loaded before the session starts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import pytest_plugin


def _plain(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


pytest_plugin.with_stack_room = _plain
