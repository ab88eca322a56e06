"""Fixtures of the scenario tests: callers by role, the probe, objects the tests create and clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.client.probe import Probe
from conformance.client.session import ApiClient, Session, role_title
from conformance.config import Fixtures, Settings
from conformance.scenarios.support import (
    PROGRAM_ASSIGNMENTS,
    PROGRAM_LICENSE_CREATE,
    PROGRAM_LICENSE_UPDATE,
    expect_status,
    need,
)
from conformance.target import Target


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
        pytest.skip(f"not verified: needs the {role_title(role)} key (set {variable})")
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
def probe(conformance_probe: Probe) -> Probe:
    """The hidden-state probe."""
    return conformance_probe


@pytest.fixture
def writable(settings: Settings) -> None:
    """Skip (not verified) in read-only runs: the test has to create or change data."""
    if settings.read_only:
        pytest.skip("not verified: needs writes (read-only run)")


@pytest.fixture
def program_license(admin: ApiClient, settings: Settings, fixtures: Fixtures, run_id: str,
                    writable: None) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create program licenses for one test; afterwards their assignments are removed and they are retired."""
    created: list[dict[str, Any]] = []

    def create(count: int, **fields: Any) -> dict[str, Any]:
        (program,) = need(fixtures.program_keys, 1, "program_keys")
        serial = len(created) + 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        body = {
            "platform_key": settings.platform_key, "program_key": program, "program_id": program,
            "name": f"conformance-{run_id}-license-{serial}", "count": count,
            "started": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "external_id": f"conformance-{run_id}-{stamp}-{serial}", "active": True, **fields,
        }
        license_ = expect_status(admin.post(PROGRAM_LICENSE_CREATE, body), 200, 201,
                                 why="a DM admin creates a program license").json()
        created.append(license_)
        return license_

    yield create
    for license_ in created:
        _retire_license(admin, license_)


def _retire_license(admin: ApiClient, license_: dict[str, Any]) -> None:
    """Licenses have no delete operation: free every seat, then deactivate."""
    listing = admin.get(PROGRAM_ASSIGNMENTS, params={"license_id": license_["id"], "page_size": 100})
    if listing.status == 200:
        for assignment in listing.json().get("results", []):
            admin.delete(PROGRAM_ASSIGNMENTS, params={"license_id": license_["id"], "assignment_id": assignment["id"]})
    admin.post(PROGRAM_LICENSE_UPDATE, {"license_id": license_["id"], "active": False, "change_type": "update",
                                        "transaction_id": f"{license_['name']}-retired"})
