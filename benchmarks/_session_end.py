"""A pytest plugin for benchmarks (not a test): how long the end of a `conformance run` takes. Loaded into a run with
`PYTHONPATH=benchmarks PYTEST_ADDOPTS="-p _session_end"`; writes to `$SESSION_END_FILE` (JSON, by the controller):

- `teardown_nodes`: seconds the controller waits for its workers to exit after their last test;
- `unconfigured`: when (epoch seconds) the controller's pytest session ended (the benchmark takes the process's end
  from there: the derived reports and the exit).

With `SESSION_END_NO_FREEZE=1` the processes end their sessions without freezing what is alive (the suite's plugin
calls gc.freeze at the end of a session: conformance/pytest_plugin.py), for a baseline in the same run.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from xdist.workermanage import NodeManager

from conformance import pytest_plugin

_figures: dict[str, float] = {}
_teardown_nodes = NodeManager.teardown_nodes
_ending = [False]


def _timed_teardown(self: NodeManager) -> None:
    started = time.perf_counter()
    _teardown_nodes(self)
    _figures["teardown_nodes"] = time.perf_counter() - started


def _freeze_until_the_end() -> None:
    if not _ending[0]:
        gc.freeze()


NodeManager.teardown_nodes = _timed_teardown  # type: ignore[method-assign]
if os.environ.get("SESSION_END_NO_FREEZE") == "1":
    pytest_plugin.gc = SimpleNamespace(freeze=_freeze_until_the_end, get_threshold=gc.get_threshold,  # type: ignore[assignment]
                                       set_threshold=gc.set_threshold)


def pytest_sessionfinish(session: Any) -> None:
    _ending[0] = True  # (the freeze after collection has happened; the one at the session's end is left out)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: Any) -> None:
    if not hasattr(config, "workerinput"):
        _figures["unconfigured"] = time.time()
        Path(os.environ["SESSION_END_FILE"]).write_text(json.dumps(_figures), encoding="utf-8")
