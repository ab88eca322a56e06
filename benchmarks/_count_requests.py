"""A pytest plugin for benchmarks (not a test): counts every HTTP request an embedded reference answers in this
process and writes the count to `$COUNT_REQUESTS_DIR/<pid>` at exit. Loaded into a `conformance run` with
`PYTHONPATH=benchmarks PYTEST_ADDOPTS="-p _count_requests"`; the benchmark adds the files up."""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any

from _common import Counting

from conformance.reference import app as reference_app
from conformance.reference import server as reference_server

_answered = [0]
_build_app = reference_app.build_app


def _counting_app(*args: Any, **kwargs: Any) -> Any:
    built = _build_app(*args, **kwargs)
    built.add_middleware(Counting, count=_answered)
    return built


def _write() -> None:
    if _answered[0]:
        (Path(os.environ["COUNT_REQUESTS_DIR"]) / str(os.getpid())).write_text(str(_answered[0]), encoding="utf-8")


reference_server.build_app = _counting_app  # the embedded target builds its app through the server module
atexit.register(_write)
