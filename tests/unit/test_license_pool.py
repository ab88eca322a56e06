"""The license pool: retired licenses of the suite are claimed and reset before any new one is created."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance.client.ledger import RETIRED_NAMES, Ledger
from conformance.client.objects import Objects
from conformance.client.session import ApiClient, Wire
from conformance.config import Fixtures, Settings
from conformance.generation.profiles import UNDELETABLE_CREATES, resolve
from conformance.redaction import Secret
from conformance.reference import fixtures as fx
from conformance.reference.app import build_app
from conformance.reference.inprocess import InProcessTransport
from conformance.reference.store import Store

SETTINGS = Settings(base_url="http://reference.test", platform_key=fx.PLATFORM_KEY,
                    fixtures=Fixtures(user_ids=tuple(fx.USER_IDS), group_ids=tuple(fx.GROUP_IDS),
                                      program_keys=tuple(fx.PROGRAM_KEYS), role_ids=tuple(fx.ROLE_IDS)))


@pytest.fixture
def app() -> Iterator[Starlette]:
    app = build_app(":memory:")
    yield app
    app.state.store.close()


@pytest.fixture
def admin(app: Starlette) -> Iterator[ApiClient]:
    http = httpx.Client(transport=InProcessTransport(app), base_url="http://reference.test")
    yield ApiClient(Wire(http), "dm_admin", Secret(app.state.keys.dm_admin), "CONFORMANCE_DM_ADMIN_KEY")
    http.close()


def scope(admin: ApiClient, tmp_path: Path, run_id: str, worker: str = "main") -> Objects:
    return Objects(admin, SETTINGS, Ledger(tmp_path / "ledger.jsonl", run_id, worker=worker))


def rows(app: Starlette, kind: str) -> list[dict[str, Any]]:
    store: Store = app.state.store
    return store._all(f"SELECT * FROM {kind}_licenses ORDER BY id")


def retired(admin: ApiClient, tmp_path: Path, kind: str, how_many: int) -> list[int]:
    """`how_many` licenses of `kind` made by an earlier run, with a seat taken, then retired."""
    earlier = scope(admin, tmp_path, "earlier")
    made = [earlier.program_license(count=3) if kind == "program" else earlier.user_license(count=3)
            for _ in range(how_many)]
    earlier.assignment(kind, made[0]["id"], fx.USER_IDS[0])
    earlier.cleanup()
    return [license_["id"] for license_ in made]


@pytest.mark.parametrize("kind", ["program", "user"])
def test_a_retired_license_is_claimed_and_reset_to_exactly_what_is_asked(app: Starlette, admin: ApiClient,
                                                                         tmp_path: Path, kind: str) -> None:
    (old,) = retired(admin, tmp_path, kind, 1)
    shown = {r["id"]: r for r in rows(app, kind)}[old]
    assert (shown["name"], shown["active"]) == (RETIRED_NAMES[kind], 0), "the undo retires it into the pool"
    later = scope(admin, tmp_path, "later")
    fields = {"name": "conformance-later-x", "source": "conformance-src", "metadata": {"step": 1}}
    got = later.program_license(count=4, **fields) if kind == "program" else later.user_license(count=4, **fields)
    assert got["id"] == old and len(rows(app, kind)) == 1, "no new row: the retired license was reused"
    assert {k: got[k] for k in ("name", "count", "active", "source", "metadata", "expired")} == \
           {**fields, "count": 4, "active": True, "expired": None}
    assert got["external_id"].startswith("conformance-earlier-"), "a reused license keeps its external_id"
    seats = admin.get(f"/api/catalog/licenses/{kind}/assignment/", params={"license_id": old}).json()
    assert seats["count"] == 0, "a reused license holds no seat"
    assert [e["license_id"] for e in later.entries] == [old], "the claim is the run's: retired again at its end"
    later.cleanup()
    assert {r["id"]: r for r in rows(app, kind)}[old]["active"] == 0


def test_a_scope_gets_ascending_ids_as_new_licenses_would(app: Starlette, admin: ApiClient, tmp_path: Path) -> None:
    retired(admin, tmp_path, "program", 3)
    later = scope(admin, tmp_path, "later")
    got = [later.program_license(count=1)["id"] for _ in range(4)]
    assert got == sorted(got) and len(set(got)) == 4
    assert len(rows(app, "program")) == 4, "three reused, one new"


def test_a_license_the_suite_did_not_retire_is_never_claimed(app: Starlette, admin: ApiClient, tmp_path: Path) -> None:
    for external_id, active in (("customer-1", False), ("conformance-old-active", True)):
        body = {"platform_key": fx.PLATFORM_KEY, "program_key": fx.PROGRAM_KEYS[0], "program_id": fx.PROGRAM_KEYS[0],
                "name": RETIRED_NAMES["program"], "count": 1, "external_id": external_id, "active": active,
                "started": "2026-01-01T00:00:00Z"}
        assert admin.post("/api/catalog/licenses/program/create/", body).status == 200
    before = {r["id"]: dict(r) for r in rows(app, "program")}
    made = scope(admin, tmp_path, "later").program_license(count=1)
    assert made["id"] not in before, "a new license, not someone else's"
    assert {r["id"]: dict(r) for r in rows(app, "program") if r["id"] in before} == before, "theirs are untouched"


def test_fields_an_update_cannot_set_ask_for_a_new_license(app: Starlette, admin: ApiClient, tmp_path: Path) -> None:
    retired(admin, tmp_path, "user", 1)
    made = scope(admin, tmp_path, "later").user_license(count=1, transaction_id="conformance-later-tx")
    assert len(rows(app, "user")) == 2 and made["id"] == 2


def test_a_license_the_target_does_not_reset_leaves_the_pool(app: Starlette, admin: ApiClient, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (old,) = retired(admin, tmp_path, "program", 1)
    original = Store.update_license

    def keeps_the_count(self: Store, kind: str, license_id: int, changes: dict[str, Any], **kw: Any) -> Any:
        return original(self, kind, license_id, {k: v for k, v in changes.items() if k != "count"}, **kw)

    monkeypatch.setattr(Store, "update_license", keeps_the_count)
    later = scope(admin, tmp_path, "later")
    made = later.program_license(count=4)
    assert made["id"] != old and made["count"] == 4, "a new license when the claimed one shows another state"
    spoiled = {r["id"]: r for r in rows(app, "program")}[old]
    assert spoiled["active"] == 0 and spoiled["name"] != RETIRED_NAMES["program"], "retired out of the pool"


def test_parallel_workers_never_claim_the_same_license(app: Starlette, admin: ApiClient, tmp_path: Path) -> None:
    retired(admin, tmp_path, "program", 6)
    claims: dict[str, list[int]] = {"gw0": [], "gw1": []}

    def worker(name: str) -> None:
        objects = scope(admin, tmp_path, "later", worker=name)  # own Ledger, one ledger file: as two processes
        for _ in range(4):
            claims[name].append(objects.program_license(count=1)["id"])

    threads = [threading.Thread(target=worker, args=(name,)) for name in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claims["gw0"]) & set(claims["gw1"]), claims
    assert len(rows(app, "program")) == 8, "six reused, two new"


def test_the_ci_profile_bounds_the_schema_valid_license_creates(tmp_path: Path) -> None:
    ci, full = resolve("ci", None, tmp_path), resolve("full", None, tmp_path)
    for label in UNDELETABLE_CREATES:
        assert ci.examples("positive", label) == 1 == ci.hypothesis_settings("positive", label).max_examples
        assert full.examples("positive", label) == full.profile.positive_examples
        assert ci.examples("negative", label) == ci.profile.negative_examples
    assert ci.examples("positive", "GET /api/catalog/licenses/program/") == ci.profile.positive_examples
    assert ci.examples("positive") == ci.profile.positive_examples


@pytest.mark.parametrize(("name", "pooled"), [("conformance-old-program-license-1", True), ("ʤ generated", False)])
def test_an_entry_of_an_older_ledger_is_pooled_only_when_the_suite_named_it(app: Starlette, admin: ApiClient,
                                                                           tmp_path: Path, name: str,
                                                                           pooled: bool) -> None:
    body = {"platform_key": fx.PLATFORM_KEY, "program_key": fx.PROGRAM_KEYS[0], "program_id": fx.PROGRAM_KEYS[0],
            "name": name, "count": 1, "external_id": "conformance-old-1", "started": "2026-01-01T00:00:00Z"}
    made = admin.post("/api/catalog/licenses/program/create/", body).json()
    ledger = Ledger(None, "old")
    ledger.entries.append({"kind": "program_license", "run_id": "old", "license_id": made["id"], "name": name})
    ledger.undo_all(admin)
    (row,) = rows(app, "program")
    assert row["active"] == 0 and row["name"] == (RETIRED_NAMES["program"] if pooled else name)
