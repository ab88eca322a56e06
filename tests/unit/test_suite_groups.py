"""The suite's own groups: found by their fixed name, created once per target, reused by later runs, never in the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance.client.ledger import Ledger
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Wire
from conformance.config import Fixtures, Settings
from conformance.redaction import Secret
from conformance.reference import fixtures as fx
from conformance.reference.app import build_app
from conformance.reference.inprocess import InProcessTransport
from conformance.reference.store import Store

SETTINGS = Settings(base_url="http://reference.test", platform_key=fx.PLATFORM_KEY,
                    fixtures=Fixtures(user_ids=tuple(fx.USER_IDS), group_ids=tuple(fx.GROUP_IDS),
                                      program_keys=tuple(fx.PROGRAM_KEYS), role_ids=tuple(fx.ROLE_IDS)))
MEMBERS = (fx.USER_IDS[1], fx.USER_IDS[0])


@pytest.fixture
def app() -> Iterator[Starlette]:
    app = build_app(":memory:")
    yield app
    app.state.store.close()


def client(app: Starlette, key: str) -> ApiClient:
    http = httpx.Client(transport=InProcessTransport(app), base_url="http://reference.test")
    return ApiClient(Wire(http), "dm_admin", Secret(key), "CONFORMANCE_DM_ADMIN_KEY")


@pytest.fixture
def admin(app: Starlette) -> ApiClient:
    return client(app, app.state.keys.dm_admin)


def scope(admin: ApiClient, tmp_path: Path, run_id: str) -> Objects:
    return Objects(admin, SETTINGS, Ledger(tmp_path / f"{run_id}.jsonl", run_id))


def groups(app: Starlette) -> list[dict[str, Any]]:
    store: Store = app.state.store
    return store._all("SELECT * FROM user_groups ORDER BY id")


def test_the_first_run_creates_the_group_and_later_runs_reuse_it(app: Starlette, admin: ApiClient,
                                                                  tmp_path: Path) -> None:
    before = len(groups(app))
    first = scope(admin, tmp_path, "first").suite_group(MEMBERS)
    assert first is not None and {u["id"] for u in first["users"]} == set(MEMBERS)
    assert first["name"] == first["unique_id"] == f"conformance-group-{fx.PLATFORM_KEY}-101-102", "a fixed name"
    assert len(groups(app)) == before + 1
    again = scope(admin, tmp_path, "first").suite_group(reversed(MEMBERS))
    later = scope(admin, tmp_path, "later").suite_group(MEMBERS)
    assert again is not None and later is not None and again["id"] == later["id"] == first["id"]
    assert len(groups(app)) == before + 1, "a later run makes no new group"
    later_scope = scope(admin, tmp_path, "later")
    later_scope.suite_group(MEMBERS)
    assert later_scope.entries == [] and not (tmp_path / "later.jsonl").exists(), "never in the ledger"


def test_a_group_of_that_name_with_other_members_is_not_used(app: Starlette, admin: ApiClient, tmp_path: Path) -> None:
    name = scope(admin, tmp_path, "x").suite_group_name(tuple(sorted(MEMBERS)))
    admin.post("/api/core/rbac/groups/", {"unique_id": name, "name": name, "platform_key": fx.PLATFORM_KEY,
                                          "users_to_add": [MEMBERS[0]]})
    count = len(groups(app))
    assert scope(admin, tmp_path, "y").suite_group(MEMBERS) is None, "its members differ: the fixture groups are used"
    assert len(groups(app)) == count, "and no second group of the same name is made"


def test_a_target_that_refuses_the_create_gives_none(app: Starlette, tmp_path: Path) -> None:
    learner = client(app, app.state.keys.learner)
    count = len(groups(app))
    assert Objects(learner, SETTINGS, Ledger(tmp_path / "l.jsonl", "l")).suite_group(MEMBERS) is None
    assert len(groups(app)) == count
