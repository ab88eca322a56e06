"""Room on the frame stack for a whole pytest session: far fewer memory maps under deep call stacks.

CPython (3.11 to 3.13 at least) keeps a thread's frames in chunks of 16 KiB and unmaps a chunk as soon as the call
that opened it returns. When a loop's calls go in and out across the end of a chunk, every such call maps and
unmaps memory and touches fresh pages: pytest, xdist, hypothesis and schemathesis nest deep enough for that to happen
about 88,000 times in a ci run (about 10 microseconds each on the benchmark machine; benchmarks/RESULTS.md, section 7).

A frame that asks for a large value stack gets a chunk of its own, sized to fit that stack with room to spare. Every
call made below that frame while it runs goes into the room left in the chunk, which stays mapped until the frame
returns, so a session run below it (`with_stack_room`) crosses no chunk end until it is that deep. The value stack is
only an upper bound: the frame never uses it, so its pages are never touched. On other Python implementations
`with_stack_room` is a plain call.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any

# CPython sizes a new chunk to the frame plus 1,000 slots, rounded up to 16 KiB times a power of two: a frame of this
# many slots (8 bytes each) gets a 512 KiB chunk and leaves about 256 KiB of it to the calls below it (a room of
# 136 KiB already held every test of a ci run: RESULTS.md, section 7). That room is a little smaller than the frame
# itself, so a second such frame below the first never fits into it (leaving the calls below that one no room) but
# takes a chunk of its own.
STACK_SLOTS = 32_800


def _call(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


with_stack_room: Callable[..., Any] = FunctionType(
    _call.__code__.replace(co_stacksize=_call.__code__.co_stacksize + STACK_SLOTS, co_name="with_stack_room"),
    _call.__globals__, "with_stack_room")
with_stack_room.__doc__ = "`function(*args, **kwargs)`, called from a frame with room below it (see the module)."
