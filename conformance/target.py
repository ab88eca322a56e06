"""The target of a run: a live deployment, or the embedded reference started on a loopback port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.config import Fixtures, Keys, Settings
from conformance.redaction import Secret


@dataclass(slots=True)
class Target:
    """The settings to reach the target, and how to let it go."""

    settings: Settings
    run_id: str
    description: str
    cleanup_problems: list[str] = field(default_factory=list)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop what the run started."""
        while self._closers:
            self._closers.pop()()


def start_target(settings: Settings, run_id: str) -> Target:
    """Use the configured target, or start the reference implementation when none is configured."""
    if not settings.embedded:
        return Target(settings, run_id, str(settings.base_url))
    from conformance.reference import fixtures
    from conformance.reference.server import ReferenceServer

    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    server.start()
    keys = server.keys
    embedded = settings.with_target(
        base_url=server.base_url,
        platform_key=fixtures.PLATFORM_KEY,
        platform_org=None,
        other_platform_key=fixtures.OTHER_PLATFORM_KEY,
        probe_url=server.base_url + fixtures.PROBE_PATH,
        keys=Keys(
            dm_admin=Secret(keys.dm_admin),
            platform_admin=Secret(keys.platform_admin),
            other_platform_admin=Secret(keys.other_platform_admin),
            learner=Secret(keys.learner),
            variables=settings.keys.variables,
        ),
        fixtures=Fixtures(
            user_ids=tuple(fixtures.USER_IDS),
            group_ids=tuple(fixtures.GROUP_IDS),
            program_keys=tuple(fixtures.PROGRAM_KEYS),
            role_ids=tuple(fixtures.ROLE_IDS),
            internal_policy_ids=tuple(fixtures.INTERNAL_POLICY_IDS),
        ),
    )
    target = Target(embedded, run_id, f"embedded reference implementation at {server.base_url}")
    target._closers.append(server.stop)
    return target
