"""How many processes a run shares its tests out to: the `workers` setting, or, when it is auto, what pays here.

Measured on a 2-core machine (benchmarks/RESULTS.md, section 4): two workers halve a ci run's wall time when the
machine is otherwise idle, and make it slower when other processes already keep the cores busy. So auto takes one
worker per core that the other processes leave free right now, from 1 to AUTO_MAX (the most measured to pay). "Right
now" is the CPU the machine spent, less this process's own, between this module's import (the CLI imports it first)
and the choice (at least SAMPLE_SECONDS): the 1-minute load average would still count a run that has just ended.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

AUTO_MAX = 2
SAMPLE_SECONDS = 0.2
HALF_A_CORE = 0.5  # a core counts as free when other processes use less than half of it


@dataclass(frozen=True, slots=True)
class Usage:
    """The machine's busy CPU time, this process's own, and when they were read."""

    machine_busy: float
    own: float
    at: float

    @classmethod
    def now(cls) -> Usage:
        """Read them now."""
        times = psutil.cpu_times()
        own = os.times()
        return cls(sum(times) - times.idle - getattr(times, "iowait", 0.0), own.user + own.system, time.monotonic())


_IMPORTED = Usage.now()


@dataclass(frozen=True, slots=True)
class Choice:
    """The number of workers of a run and why."""

    count: int
    reason: str


def choose(requested: int | None, cores: int | None = None, others_busy: float | None = None) -> Choice:
    """`requested` when the settings name a number; otherwise one worker per free core, from 1 to AUTO_MAX."""
    if requested is not None:
        return Choice(requested, "as set")
    cores = cores if cores is not None else usable_cores()
    others_busy = others_busy if others_busy is not None else busy_cores_of_others()
    free = int(cores - others_busy + HALF_A_CORE)
    count = max(1, min(AUTO_MAX, free))
    return Choice(count, f"auto: {cores} core(s), {others_busy:.1f} of them busy with other processes")


def busy_cores_of_others(since: Usage = _IMPORTED) -> float:
    """How many cores the machine's other processes kept busy since `since` (sampled for SAMPLE_SECONDS at least)."""
    waited = time.monotonic() - since.at
    if waited < SAMPLE_SECONDS:
        time.sleep(SAMPLE_SECONDS - waited)
    now = Usage.now()
    others = (now.machine_busy - since.machine_busy) - (now.own - since.own)
    return max(0.0, others / max(now.at - since.at, 1e-6))


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1
