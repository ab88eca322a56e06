"""What `conformance run` hands its pytest session: the run's one Settings and when its process started."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.config import Settings

RUN_PLUGIN = "conformance-run"  # the name the run's context is registered under in pytest's plugin manager
SETTINGS_INPUT = "conformance_settings"  # in a pytest-xdist worker's workerinput: Settings.to_json()
RATE_FILE = ".rate-limit.sqlite"  # in the report dir: the request rate every worker of a run shares
BROKEN_FILE = ".target-broken"  # in the report dir: written when the target broke; every worker stops sending


class RunContext:
    """A pytest plugin object: the run's settings for the suite's plugin, and (serialized) for each worker."""

    def __init__(self, settings: Settings, started: float) -> None:
        self.settings = settings
        self.started = started  # epoch seconds when the run's process started
        self.__name__ = RUN_PLUGIN  # pluggy registers an object under its __name__: the suite's plugin finds it so

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: a worker receives the settings with its start-up data (key values stay in the environment)."""
        node.workerinput[SETTINGS_INPUT] = self.settings.to_json()
