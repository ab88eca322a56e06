"""A session run below with_stack_room makes no fresh memory pages per call however its calls nest, and the plugin
runs every session that way."""

from __future__ import annotations

import resource
import threading
from collections.abc import Callable
from types import FunctionType
from typing import Any

import pytest

from conformance import pytest_plugin
from conformance.frames import with_stack_room

DEPTHS = range(0, 320)  # past the end of a new thread's first 16 KiB chunk, whatever the size of its frames
CALLS = 1000


def _small_leaf() -> int:
    return 1


# a leaf whose frame is larger than one of _calls_at: going one _calls_at deeper moves the end of its frame by less
# than a leaf, so at some depth the leaf never fits into what is left of a chunk (nor into the room, if a call gets it)
_leaf = FunctionType(_small_leaf.__code__.replace(co_stacksize=_small_leaf.__code__.co_stacksize + 64), globals())


def _calls_at(depth: int) -> int:
    """CALLS calls in and out at `depth` frames below this one."""
    if depth:
        return _calls_at(depth - 1)
    return sum(_leaf() for _ in range(CALLS))


def _worst_faults_per_call(call: Callable[..., Any]) -> float:
    """The most fresh pages (minor page faults) a call made, at any of DEPTHS, with `call(function, depth)` making
    the loop's first frame; measured in a new thread, whose frames start at the beginning of a chunk of their own
    (wherever the test runs)."""
    usage = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    worst: list[float] = [0.0]

    def measure() -> None:
        for depth in DEPTHS:
            before = resource.getrusage(usage).ru_minflt
            call(_calls_at, depth)
            worst[0] = max(worst[0], (resource.getrusage(usage).ru_minflt - before) / CALLS)

    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
    return worst[0]


def _plain(function: Callable[..., Any], /, *args: Any) -> Any:
    return function(*args)


def _nested(function: Callable[..., Any], /, *args: Any) -> Any:
    return with_stack_room(with_stack_room, function, *args)


def test_calls_below_the_room_make_no_fresh_pages_at_any_depth() -> None:
    roomy = _worst_faults_per_call(with_stack_room)
    assert roomy < 0.1, f"{roomy:.2f} fresh pages a call below with_stack_room"


def test_a_room_below_a_room_is_as_roomy() -> None:
    nested = _worst_faults_per_call(_nested)
    assert nested < 0.1, f"{nested:.2f} fresh pages a call below with_stack_room below with_stack_room"


def test_without_the_room_some_depth_maps_a_chunk_on_every_call() -> None:
    # what the room is for, as CPython behaves up to 3.13 at least: if this ever fails, the interpreter keeps its
    # frame chunks and conformance/frames.py can go
    assert _worst_faults_per_call(_plain) >= 1


def test_with_stack_room_is_the_call_it_wraps() -> None:
    assert with_stack_room(dict, [("a", 1)], function=2) == {"a": 1, "function": 2}
    with pytest.raises(KeyError):
        with_stack_room({}.__getitem__, "missing")


def test_the_plugin_runs_the_session_below_the_room_and_returns_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, ...]] = []

    def session(config: Any) -> int:
        seen.append(("session", config))
        return 3

    class Manager:
        def subset_hook_caller(self, name: str, remove_plugins: list[object]) -> Callable[..., int]:
            seen.append((name, remove_plugins))
            return session

    def room(function: Callable[..., Any], /, **kwargs: Any) -> Any:
        seen.append(("room",))
        return function(**kwargs)

    class Config:
        pluginmanager = Manager()

    config = Config()
    monkeypatch.setattr(pytest_plugin, "with_stack_room", room)
    assert pytest_plugin.pytest_cmdline_main(config) == 3  # type: ignore[arg-type]
    assert seen == [("pytest_cmdline_main", [pytest_plugin]), ("room",), ("session", config)]
