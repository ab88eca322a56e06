"""Fixtures of the generated tests: the generation profile, the objects cases point at, the callers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from conformance.client.ledger import Ledger
from conformance.client.objects import Objects
from conformance.client.session import Session
from conformance.config import Settings
from conformance.generation import profiles
from conformance.properties.pool import Pool
from conformance.properties.reporting import Caller
from conformance.target import Target
from conformance.verdicts import not_verified

profiles.register_profiles()


@pytest.fixture(scope="session")
def generation(conformance_settings: Settings, request: pytest.FixtureRequest) -> profiles.Generation:
    """The run's generation profile and seed (printed, so a nightly failure can be replayed)."""
    resolved = profiles.resolve(conformance_settings.profile, conformance_settings.seed,
                                conformance_settings.report_dir, conformance_settings.time_budget)
    hypothesis_settings.load_profile(f"conformance-{resolved.profile.name}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"generated tests: {resolved.describe()}")
    return resolved


@pytest.fixture(scope="session")
def budget_end(generation: profiles.Generation) -> float | None:
    """When the property layer must stop sending (nightly: a time budget), as a perf_counter value."""
    budget = generation.profile.time_budget
    return None if budget is None else time.perf_counter() + budget


@pytest.fixture(scope="session")
def pool(conformance_session: Session, conformance_settings: Settings, conformance_ledger: Ledger,
         conformance_target: Target) -> Iterator[Pool]:
    """Objects created once for the run that generated cases point at (removed when the run ends, except from an
    embedded reference, whose data ends with the run)."""
    if conformance_settings.read_only:
        not_verified("needs writes (read-only run): generated cases point at objects the run creates")
    admin = conformance_session.as_role("dm_admin")
    if admin is None:
        not_verified(f"needs the DM admin key (set {conformance_settings.keys.variables['dm_admin']})")
    fx = conformance_settings.fixtures
    for what, values in (("user_ids", fx.user_ids), ("group_ids", fx.group_ids), ("program_keys", fx.program_keys),
                         ("role_ids", fx.role_ids)):
        if not values:
            not_verified(f"needs at least one of fixtures.{what}")
    objects = Objects(admin, conformance_settings, conformance_ledger)
    made = Pool.create(conformance_settings, objects, conformance_ledger)
    yield made
    if not conformance_target.embedded:
        objects.cleanup()


@pytest.fixture(scope="session")
def admin_caller(conformance_settings: Settings, conformance_session: Session) -> Iterator[Caller]:
    """Sends generated cases with the DM admin key."""
    if conformance_settings.keys.get("dm_admin") is None:
        not_verified(f"needs the DM admin key (set {conformance_settings.keys.variables['dm_admin']})")
    caller = Caller(conformance_settings, "dm_admin", wire=conformance_session.wire)
    yield caller
    caller.close()


@pytest.fixture(scope="session")
def anonymous_caller(conformance_settings: Settings, conformance_session: Session) -> Iterator[Caller]:
    """Sends generated cases without any Authorization header."""
    caller = Caller(conformance_settings, None, wire=conformance_session.wire)
    yield caller
    caller.close()


@pytest.fixture(scope="session")
def wrong_key_caller(conformance_settings: Settings, conformance_session: Session) -> Iterator[Caller]:
    """Sends generated cases with a well-formed key no server issued."""
    caller = Caller(conformance_settings, None, wire=conformance_session.wire,
                    wrong_key="conformance-unknown-" + secrets.token_hex(12))
    yield caller
    caller.close()
