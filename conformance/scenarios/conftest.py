"""Fixtures of the scenario tests: callers by role, the probe, objects the tests create and clean up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.client.ledger import Ledger
from conformance.client.objects import Objects
from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Session, role_title
from conformance.config import Fixtures, Settings
from conformance.scenarios.operation_requests import Shared
from conformance.target import Target
from conformance.verdicts import not_verified


@pytest.fixture(scope="session")
def settings(conformance_settings: Settings) -> Settings:
    """The run's settings."""
    return conformance_settings


@pytest.fixture(scope="session")
def fixtures(settings: Settings) -> Fixtures:
    """The target's fixture objects (users, groups, programs, roles, internal policies)."""
    return settings.fixtures


@pytest.fixture(scope="session")
def run_id(conformance_target: Target) -> str:
    """The ID that names every object this run creates."""
    return conformance_target.run_id


def _caller(session: Session, role: str) -> ApiClient:
    client = session.as_role(role)
    if client is None:
        variable = session.settings.keys.variables.get(role, role)
        not_verified(f"needs the {role_title(role)} key (set {variable})")
    return client


@pytest.fixture(scope="session")
def admin(conformance_session: Session) -> ApiClient:
    """The DM admin (IsDMAdmin: every platform)."""
    return _caller(conformance_session, "dm_admin")


@pytest.fixture(scope="session")
def platform_admin(conformance_session: Session) -> ApiClient:
    """An admin of the platform under test."""
    return _caller(conformance_session, "platform_admin")


@pytest.fixture(scope="session")
def other_admin(conformance_session: Session, settings: Settings) -> ApiClient:
    """An admin of a second platform (tenant isolation)."""
    if not settings.other_platform_key:
        not_verified("needs a second platform (set target.other_platform_key)")
    return _caller(conformance_session, "other_platform_admin")


@pytest.fixture(scope="session")
def learner(conformance_session: Session) -> ApiClient:
    """A plain, non-admin user of the platform under test."""
    return _caller(conformance_session, "learner")


@pytest.fixture(scope="session")
def anonymous(conformance_session: Session) -> ApiClient:
    """A caller without any key."""
    return conformance_session.anonymous


@pytest.fixture(scope="session")
def probe(conformance_probe: Probe) -> Probe:
    """The hidden-state probe."""
    return conformance_probe


@pytest.fixture
def writable(settings: Settings) -> None:
    """Skip (not verified) in read-only runs: the test has to create or change data."""
    if settings.read_only:
        not_verified("needs writes (read-only run)")


@pytest.fixture
def objects(admin: ApiClient, settings: Settings, conformance_ledger: Ledger, writable: None) -> Iterator[Objects]:
    """Factories for the objects one test creates; they are removed when the test ends, pass or fail."""
    made = Objects(admin, settings, conformance_ledger)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def shared_objects(admin: ApiClient, settings: Settings, conformance_ledger: Ledger) -> Iterator[Shared]:
    """Objects the cases of one module only read, made on first use (never in a read-only run: the cases that use
    them also take `objects`, which skips there) and removed when the module ends."""
    made = Objects(admin, settings, conformance_ledger)
    yield Shared(made)
    made.cleanup()
