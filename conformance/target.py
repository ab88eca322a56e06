"""The target of a run: a live deployment, or the embedded reference started on a loopback port."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.config import DEFAULT_KEY_VARIABLES, Fixtures, Keys, Settings
from conformance.redaction import Secret


@dataclass(slots=True)
class Target:
    """The settings to reach the target, and how to let it go."""

    settings: Settings
    run_id: str
    description: str
    embedded: bool = False  # the reference the run started itself: its in-memory data ends with the run
    cleanup_problems: list[str] = field(default_factory=list)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop what the run started."""
        while self._closers:
            self._closers.pop()()


ROLE_KEYS = tuple(DEFAULT_KEY_VARIABLES)  # the callers the suite knows (the reference may know more)


class ChildReference:
    """`conformance serve` in a child process on a free loopback port, with keys made here (passed in its
    environment only, never written to a file)."""

    def __init__(self) -> None:
        self.keys = {role: secrets.token_urlsafe(24) for role in ROLE_KEYS}
        package_parent = str(Path(__file__).resolve().parents[1])  # the child runs this very copy of the suite
        env = {**os.environ, **{DEFAULT_KEY_VARIABLES[role]: key for role, key in self.keys.items()},
               "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, "-m", "conformance", "serve", "--host", "127.0.0.1",
                                         "--port", "0", "--keys-file", os.devnull], env=env, text=True,
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """The server's address, once it says it is up (it prints it first thing)."""
        if self._base_url is None:
            assert self.process.stdout is not None
            lines = []
            for line in self.process.stdout:  # a note on keys it made for callers the suite does not know may come first
                lines.append(line.strip())
                if line.startswith("reference ") and "http://" in line:
                    self._base_url = line[line.index("http://"):].split()[0]
                    break
            else:
                self.stop()
                raise RuntimeError(f"the reference did not start (exit {self.process.poll()}): {' '.join(lines)!r}")
        assert self._base_url is not None
        return self._base_url

    def stop(self) -> None:
        """End the child process (it holds nothing worth keeping: an in-memory database)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_target(settings: Settings, run_id: str) -> Target:
    """Use the configured target, or start the reference implementation when none is configured (in a thread of
    this process, or in a child process: settings.embedded_reference)."""
    if not settings.embedded:
        return Target(settings, run_id, str(settings.base_url))
    if settings.embedded_reference == "process":
        child = ChildReference()
        return _embedded(settings, run_id, child.base_url, child.keys, child.stop)
    from conformance.reference.server import ReferenceServer

    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    server.start()
    # its in-memory data ends with the run: nothing to wait for at the end
    return _embedded(settings, run_id, server.base_url, server.keys.as_mapping(), server.stop_soon)


def _embedded(settings: Settings, run_id: str, base_url: str, keys: dict[str, str], stop: Callable[[], None]) -> Target:
    from conformance.reference import fixtures

    embedded = settings.with_target(
        base_url=base_url,
        platform_key=fixtures.PLATFORM_KEY,
        platform_org=None,
        other_platform_key=fixtures.OTHER_PLATFORM_KEY,
        probe_url=base_url + fixtures.PROBE_PATH,
        keys=Keys(**{role: Secret(keys[role]) for role in ROLE_KEYS}, variables=settings.keys.variables),
        fixtures=Fixtures(
            user_ids=tuple(fixtures.USER_IDS),
            group_ids=tuple(fixtures.GROUP_IDS),
            program_keys=tuple(fixtures.PROGRAM_KEYS),
            role_ids=tuple(fixtures.ROLE_IDS),
            internal_policy_ids=tuple(fixtures.INTERNAL_POLICY_IDS),
        ),
    )
    target = Target(embedded, run_id, f"embedded reference implementation at {base_url}", embedded=True)
    target._closers.append(stop)
    return target
