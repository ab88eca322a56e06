"""The plugin's garbage collection settings: a run of the packaged suite ends with what is alive frozen (its process
exits next, and the controller waits for a worker's exit); pytest run otherwise is left as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from conformance import pytest_plugin
from conformance.run_context import SETTINGS_INPUT


@pytest.fixture
def frozen_before() -> Iterator[int]:
    """How many objects are frozen when the test starts; what the test froze is unfrozen after it."""
    gc.unfreeze()
    yield gc.get_freeze_count()
    gc.unfreeze()


def _configured(workerinput: dict[str, Any] | None) -> Any:
    """A config as the plugin's pytest_configure leaves it (the collector left out), in a worker when `workerinput`."""
    config = SimpleNamespace(stash=pytest.Stash(), pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    if workerinput is not None:
        config.workerinput = workerinput
    if pytest_plugin._packaged_run(config):
        config.stash[pytest_plugin._GC_BEFORE] = gc.get_threshold()
        gc.set_threshold(*pytest_plugin.GC_THRESHOLDS)
    return config


def test_a_worker_of_a_run_ends_its_session_with_what_is_alive_frozen(frozen_before: int) -> None:
    before = gc.get_threshold()
    alive = [{"made": index} for index in range(1000)]  # (tracked by the collector: each is counted when frozen)
    pytest_plugin.pytest_unconfigure(_configured({SETTINGS_INPUT: "{}"}))
    assert gc.get_freeze_count() >= frozen_before + len(alive)
    assert gc.get_threshold() == before


def test_pytest_run_by_hand_keeps_its_collections(frozen_before: int) -> None:
    alive = [{"made": index} for index in range(1000)]
    pytest_plugin.pytest_unconfigure(_configured(None))
    pytest_plugin.pytest_unconfigure(_configured({}))  # a worker of some other xdist run
    assert gc.get_freeze_count() == frozen_before
    assert alive
