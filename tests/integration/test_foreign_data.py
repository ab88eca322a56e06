"""A run touches only what it created: a target seeded with objects the suite's inputs collide with (suggestions
of almost every fixture pair, credentials, RBAC policies, licenses with assignments) keeps every one of them, field
by field, after a `ci` run, a `full` run and a run stopped by SIGTERM; and every policy write the server serves
names resources under the run's own prefix (/conformance/<run id>/)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from conformance.reference import fixtures
from conformance.reference.server import ReferenceServer
from tests.integration.conftest import run_cli, write_target_config

ALPHA, BETA = fixtures.PLATFORM_KEY, fixtures.OTHER_PLATFORM_KEY
FREE_USER_PAIR = (fixtures.USER_IDS[-1], fixtures.PROGRAM_KEYS[-1])  # the one pair left without a suggestion
FREE_GROUP_PAIR = (fixtures.GROUP_IDS[-1], fixtures.PROGRAM_KEYS[-1])
LOOKALIKE = "conformance-0a1b2c3d"  # named like a run of the suite, but no run of this test created it
# rows that point at a parent row: a new child of a pre-existing parent changes that parent
CHILDREN = {"program_license_assignments": ("program_licenses", "license_id"),
            "program_license_group_assignments": ("program_licenses", "license_id"),
            "user_license_assignments": ("user_licenses", "license_id"),
            "rbac_policy_users": ("rbac_policies", "policy_id"),
            "rbac_policy_groups": ("rbac_policies", "policy_id")}


POLICY_PATH = "/api/core/rbac/policies/"


class PolicyWrites:
    """The reference's app, noting the body of every policy write it serves (POST, PUT, PATCH)."""

    def __init__(self, app: Any) -> None:
        self.app, self.state = app, app.state
        self.served: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") \
                or not scope["path"].startswith(POLICY_PATH):
            await self.app(scope, receive, send)
            return
        sent: list[bytes] = []
        status: list[int] = []

        async def read() -> Message:
            message = await receive()
            sent.append(message.get("body", b""))
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, read, answer)
        if status and 200 <= status[0] < 300:
            try:
                self.served.append(json.loads(b"".join(sent) or b"null"))
            except ValueError:
                self.served.append(None)

    def outside(self, run_id: str) -> list[Any]:
        """Resources of served policy writes that are not under the run's own prefix."""
        return [item for body in self.served if isinstance(body, dict) and isinstance(body.get("resources"), list)
                for item in body["resources"] if str(item) != f"/conformance/{run_id}"
                and not str(item).startswith(f"/conformance/{run_id}/")]


class Seeder:
    """Writes the foreign objects through the API as the DM admin (as the target's own users would)."""

    def __init__(self, server: ReferenceServer) -> None:
        self.http = httpx.Client(base_url=server.base_url, timeout=10,
                                 headers={"Authorization": f"Api-Token {server.keys.dm_admin}"})

    def post(self, path: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        answer = self.http.post(path, json=body, params=params)
        assert answer.status_code in (200, 201), f"seeding {path} {body}: {answer.status_code} {answer.text}"
        created: dict[str, Any] = answer.json()
        return created.get("result", created) if "status" in created else created

    def suggestions(self) -> None:
        for user in fixtures.USER_IDS:
            for program in fixtures.PROGRAM_KEYS:
                if (user, program) != FREE_USER_PAIR:
                    self.post("/api/catalog/suggestions/program/manage/",
                              {"platform_key": ALPHA, "program_key": program, "user_id": str(user), "accepted": True,
                               "visible": False, "metadata": {"owner": "a real user", "user": user}}, platform_key=ALPHA)
        for group in fixtures.GROUP_IDS:
            for program in fixtures.PROGRAM_KEYS:
                if (group, program) != FREE_GROUP_PAIR:
                    self.post("/api/catalog/suggestions/program/manage/group/",
                              {"platform_key": ALPHA, "program_key": program, "group_id": group, "accepted": True,
                               "visible": False, "metadata": {"owner": "a real team"}}, platform_key=ALPHA)
        self.post("/api/catalog/suggestions/program/manage/",
                  {"platform_key": BETA, "program_key": fixtures.OTHER_PROGRAM_KEYS[0],
                   "user_id": str(fixtures.OTHER_USER_IDS[0])}, platform_key=BETA)

    def credentials(self) -> None:
        for org, users in ((fixtures.PLATFORM_ORG, fixtures.USER_IDS), (fixtures.OTHER_PLATFORM_ORG, fixtures.OTHER_USER_IDS)):
            for user in users:
                for n, credential_id in enumerate((f"diploma-{user}", f"{LOOKALIKE}-credential-{user}",
                                                   f"{LOOKALIKE}-main-credential-{user}")):
                    self.post(f"/api/credentials/orgs/{org}/users/{user}/",
                              {"credential_id": credential_id, "credential_url": f"https://issuer.example/{credential_id}",
                               "name": f"Diploma {user}-{n}", "revoked": n == 2, "issuer": "a real issuer"})

    def policies(self) -> None:
        roles, users, groups = fixtures.ROLE_IDS, fixtures.USER_IDS, fixtures.GROUP_IDS
        for n, (name, resources) in enumerate((("mentor editors", ["/platforms/1/mentors/"]),
                                               ("platform viewers", ["/platforms/1/"]),
                                               (f"{LOOKALIKE}-policy-1", [f"/conformance/{LOOKALIKE[12:]}"]))):
            self.post("/api/core/rbac/policies/", {"name": name, "resources": resources, "role_id": roles[n % len(roles)],
                                                   "platform_key": ALPHA, "users_to_add": users[n % 2::2],
                                                   "groups_to_add": groups[n % len(groups):]})
        self.post("/api/core/rbac/policies/", {"name": "beta operators", "resources": ["/platforms/2/"],
                                               "role_id": fixtures.OTHER_ROLE_IDS[0], "platform_key": BETA,
                                               "users_to_add": fixtures.OTHER_USER_IDS,
                                               "groups_to_add": fixtures.OTHER_GROUP_IDS})

    def licenses(self) -> None:
        first = fixtures.PROGRAM_KEYS[0]
        program = self.post("/api/catalog/licenses/program/create/",
                            {"platform_key": ALPHA, "program_key": first, "program_id": first,
                             "name": "Data science seats 2026", "count": 40, "started": "2026-01-01T00:00:00Z",
                             "external_id": "crm-4711", "active": True})
        for user in fixtures.USER_IDS[:2]:
            self.post("/api/catalog/licenses/program/assignment/",
                      {"license_id": program["id"], "user_id": user, "platform_key": ALPHA}, license_id=program["id"])
        self.post("/api/catalog/licenses/program/assignment/group/",
                  {"license_id": program["id"], "group_id": fixtures.GROUP_IDS[-1], "platform_key": ALPHA},
                  license_id=program["id"])
        user_license = self.post("/api/catalog/licenses/user/create/",
                                 {"platform_key": ALPHA, "name": "Team seats", "count": 10,
                                  "started": "2026-01-01T00:00:00Z", "external_id": "crm-4712", "active": True})
        for user in fixtures.USER_IDS[1:3]:
            self.post("/api/catalog/licenses/user/assignment/",
                      {"license_id": user_license["id"], "user_id": user, "platform_key": ALPHA},
                      license_id=user_license["id"])
        self.post("/api/catalog/licenses/program/create/",
                  {"platform_key": BETA, "program_key": fixtures.OTHER_PROGRAM_KEYS[0],
                   "program_id": fixtures.OTHER_PROGRAM_KEYS[0], "name": "Beta seats", "count": 5,
                   "started": "2026-01-01T00:00:00Z", "external_id": "crm-beta", "active": True})

    def all(self) -> None:
        self.suggestions()
        self.credentials()
        self.policies()
        self.licenses()
        self.http.close()


Rows = dict[str, dict[Any, dict[str, Any]]]


def snapshot(server: ReferenceServer) -> Rows:
    """Every row of every table of the reference's store, by id (or, for a link table, by its whole content)."""
    store = server.app.state.store
    tables = [r["name"] for r in store._all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
    found: Rows = {}
    for table in tables:
        rows = store._all(f"SELECT * FROM {table}")
        found[table] = {(r["id"] if "id" in r else tuple(sorted(r.items()))): r for r in rows}
    return found


def changes(before: Rows, after: Rows) -> list[str]:
    """What happened to the rows that existed before: removed, changed (field by field), or given new children."""
    found: list[str] = []
    for table, rows in before.items():
        now = after.get(table, {})
        for key, row in rows.items():
            if key not in now:
                found.append(f"{table} {key}: removed ({row})")
                continue
            found += [f"{table} {key}: {name} {row[name]!r} -> {now[key].get(name)!r}"
                      for name in row if row[name] != now[key].get(name)]
    for table, (parent, column) in CHILDREN.items():
        for key, row in after.get(table, {}).items():
            if key not in before.get(table, {}) and row[column] in before.get(parent, {}):
                found.append(f"{table}: a new row on the pre-existing {parent} {row[column]}: {row}")
    history = {(r["kind"], r["license_id"]) for r in before.get("license_history", {}).values()}
    found += [f"license_history: a new record of the pre-existing {r['kind']} license {r['license_id']}: {r['change_type']}"
              for key, r in after.get("license_history", {}).items()
              if key not in before.get("license_history", {}) and (r["kind"], r["license_id"]) in history]
    return found


@pytest.fixture
def seeded() -> Iterator[tuple[ReferenceServer, Rows]]:
    """A reference holding the foreign objects, and the snapshot of its whole store taken before the run."""
    server = ReferenceServer(host="127.0.0.1", port=0, database=":memory:")
    server.app = PolicyWrites(server.app)
    server.start()
    try:
        Seeder(server).all()
        server.app.served.clear()
        before = snapshot(server)
        assert len(before["program_suggestions"]) == len(fixtures.USER_IDS) * len(fixtures.PROGRAM_KEYS)
        yield server, before
    finally:
        server.stop()


def assert_untouched(server: ReferenceServer, before: Rows, what: str) -> None:
    found = changes(before, snapshot(server))
    assert not found, f"{what} changed {len(found)} thing(s) it did not create:\n  " + "\n  ".join(found)


def assert_run_owned_resources(server: ReferenceServer, run_id: str) -> None:
    writes = server.app.served
    assert writes, "the run wrote no policy"
    outside = server.app.outside(run_id)
    assert not outside, f"policy writes the server served named resources outside /conformance/{run_id}/: {outside[:10]}"


def test_a_ci_run_leaves_foreign_objects_untouched(tmp_path: Path, seeded: tuple[ReferenceServer, Rows]) -> None:
    server, before = seeded
    env = write_target_config(tmp_path / "t.toml", server)
    done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env)
    assert done.code in (0, 1), done.stdout + done.stderr  # verdicts are not this test's concern: the data is
    assert_untouched(server, before, "a ci run")
    assert_run_owned_resources(server, done.summary()["run_id"])
    assert not (tmp_path / "out" / "ledger.jsonl").exists()


def test_a_full_run_leaves_foreign_objects_untouched(tmp_path: Path, seeded: tuple[ReferenceServer, Rows]) -> None:
    server, before = seeded
    env = write_target_config(tmp_path / "t.toml", server)
    done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--profile", "full", "--time-budget", "30",
                   "--report-dir", str(tmp_path / "out"), report_dir=tmp_path / "out", env=env)
    assert done.code in (0, 1), done.stdout + done.stderr
    assert_untouched(server, before, "a full run")
    assert_run_owned_resources(server, done.summary()["run_id"])
    assert not (tmp_path / "out" / "ledger.jsonl").exists()


def test_a_run_stopped_by_sigterm_leaves_foreign_objects_untouched(
        tmp_path: Path, seeded: tuple[ReferenceServer, Rows]) -> None:
    server, before = seeded
    env = write_target_config(tmp_path / "t.toml", server)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", "--config", str(tmp_path / "t.toml"),
                             "--report-dir", str(out)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(ledger.read_text().splitlines() if ledger.exists() else []) < 5:
        time.sleep(0.05)  # stop it once it holds several objects of its own
    assert ledger.exists(), "the run never created anything"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert_untouched(server, before, "a run stopped by SIGTERM")
    assert not ledger.exists(), f"entries were left undone: {ledger.read_text() if ledger.exists() else ''}"
