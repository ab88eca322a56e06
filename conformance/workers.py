"""How many processes a run shares its tests out to: the `workers` setting, or, when it is auto, what pays here.

Measured on a 2-core machine (benchmarks/RESULTS.md, section 4): two workers halve a ci run's wall time when the
machine is otherwise idle, and make it slower when other processes already keep the cores busy. So auto takes one
worker per core that the last minute's load leaves free (the cores less the whole cores the load fills), from 1 to
AUTO_MAX (the most that was measured to pay).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

AUTO_MAX = 2


@dataclass(frozen=True, slots=True)
class Choice:
    """The number of workers of a run and why."""

    count: int
    reason: str


def choose(requested: int | None, cores: int | None = None, load: float | None = None) -> Choice:
    """`requested` when the settings name a number; otherwise one worker per free core, from 1 to AUTO_MAX."""
    if requested is not None:
        return Choice(requested, "as set")
    cores = cores if cores is not None else usable_cores()
    load = load if load is not None else one_minute_load()
    free = cores - int(load)
    count = max(1, min(AUTO_MAX, free))
    return Choice(count, f"auto: {cores} core(s), load {load:.2f} over the last minute")


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1


def one_minute_load() -> float:
    """The machine's load average over the last minute (0 where the platform does not tell)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
