"""Safe on real deployments: nothing left behind, leftovers of a killed run cleaned, no write when read-only."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.client.ledger import RETIRED_NAMES
from conformance.reference.server import ReferenceServer
from tests.integration.conftest import ServedRun, license_rows, probe_state, run_cli, write_target_config

LICENSE_TABLES = {"program_licenses", "user_licenses", "license_history"}  # the API offers no delete for these
ROLE_GROUP_TABLES = {"rbac_roles": 4, "user_groups": 4}  # nor for these: at most this many new ones a ci run
SUITE_GROUPS = 2  # the suite's own groups (Objects.suite_group): made by the first run against a target, then reused
UNDELETABLE = LICENSE_TABLES | set(ROLE_GROUP_TABLES) | {"group_members"}  # (the members of the groups made)


def state(server: ReferenceServer) -> dict[str, Any]:
    return probe_state(server)


def deletable(objects: dict[str, int]) -> dict[str, int]:
    return {table: count for table, count in objects.items() if table not in UNDELETABLE}


def licenses(server: ReferenceServer) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Api-Token {server.keys.dm_admin}"}
    found: list[dict[str, Any]] = []
    for kind in ("program", "user"):
        url = f"{server.base_url}/api/catalog/licenses/{kind}/?page_size=100"
        while url:
            body = httpx.get(url, headers=headers).json()
            found += body["results"]
            url = body.get("next_page")
    return found


def left_by_a_killed_run(server: ReferenceServer, out: Path) -> dict[str, Any]:
    """An RBAC policy that an earlier, killed run created and wrote into its ledger in `out` (which it creates)."""
    headers = {"Authorization": f"Api-Token {server.keys.dm_admin}"}
    policy = httpx.post(f"{server.base_url}/api/core/rbac/policies/", headers=headers,
                        json={"name": "conformance-old-run-policy", "resources": ["/conformance/old"], "role_id": 3,
                              "platform_key": "alpha"}).json()
    out.mkdir()
    (out / "ledger.jsonl").write_text(json.dumps({"kind": "rbac_policy", "run_id": "old", "policy_id": policy["id"],
                                                  "platform_key": "alpha"}) + "\n")
    return dict(policy)


def test_a_run_leaves_nothing_behind_but_retired_licenses(served_ci_run: ServedRun) -> None:
    done = served_ci_run.done
    assert done.code == 0, done.stdout + done.stderr
    assert deletable(served_ci_run.objects_after) == deletable(served_ci_run.objects_before)
    grown = {table: served_ci_run.objects_after[table] - served_ci_run.objects_before[table] for table in ROLE_GROUP_TABLES}
    first_run = {**ROLE_GROUP_TABLES, "user_groups": ROLE_GROUP_TABLES["user_groups"] + SUITE_GROUPS}
    assert all(grown[table] <= most for table, most in first_run.items()), \
        f"roles and groups (the API deletes none) the first ci run added: {grown}, at most {first_run}"
    run_id = done.summary()["run_id"]
    created = [lic for lic in licenses(served_ci_run.server)
               if run_id in lic["name"] or run_id in str(lic["external_id"])]
    assert created, "the run created licenses whose external_id names its run ID"
    assert all(lic["active"] is False for lic in created), "every license the run created is retired"
    assert any(lic["name"] in RETIRED_NAMES.values() for lic in created), "retired into the pool a later run reuses"
    assert not (done.report_dir / "ledger.jsonl").exists(), "a clean run leaves no ledger"


# tests that need licenses and seats but never test the create operation itself (every license comes from the pool)
POOLED = ("CAT-SEAT-001", "CAT-SEAT-002", "CAT-SEAT-004", "CAT-LICUPD-001", "CAT-ULIC-024", "CAT-PASG-005")


def test_a_second_run_reuses_the_licenses_the_first_retired(tmp_path: Path, served_ci_run: ServedRun) -> None:
    """Two whole ci runs against one target (the first is the shared served run): the second adds at most 10 license
    rows (only the tests of the create operations create; every other license comes from the pool of retired ones)
    and reaches the same verdicts."""
    reference = served_ci_run.server
    first = served_ci_run.done
    added = [served_ci_run.license_rows_after - served_ci_run.license_rows_before]
    before, groups_before = license_rows(reference), probe_state(reference)["objects"]["user_groups"]
    second = run_cli("run", "--config", str(served_ci_run.config), "--profile", "ci", "--report-dir",
                     str(tmp_path / "second"), report_dir=tmp_path / "second", env=served_ci_run.env)
    added.append(license_rows(reference) - before)
    groups_added = probe_state(reference)["objects"]["user_groups"] - groups_before
    assert groups_added <= ROLE_GROUP_TABLES["user_groups"], \
        f"the second run reuses the suite's own groups: it added {groups_added} groups"
    verdicts = []
    for done in (first, second):
        assert done.code == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert {r["id"]: r["verdict"] for r in done.summary()["requirements"] if r["id"] in POOLED} == \
               dict.fromkeys(POOLED, "passed")
        verdicts.append({r["id"]: r["verdict"] for r in done.summary()["requirements"]})
    assert added[0] > 0, "the first run needed licenses"
    assert added[1] <= 10, f"the second run reuses the retired ones: license rows added per run {added}"
    assert verdicts[1] == verdicts[0], "a run against a target an earlier run used reaches the same verdicts"
    retired = [lic for lic in licenses(reference) if lic["name"] in RETIRED_NAMES.values()]
    assert retired and all(lic["active"] is False for lic in retired)


def test_leftovers_of_a_killed_run_are_cleaned_first(tmp_path: Path, reference: ReferenceServer) -> None:
    env = write_target_config(tmp_path / "t.toml", reference)
    headers = {"Authorization": f"Api-Token {reference.keys.dm_admin}"}
    before = state(reference)["objects"]
    out = tmp_path / "out"
    policy = left_by_a_killed_run(reference, out)
    done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--report-dir", str(out),
                   "--requirement", "CORE-RBAC-020", report_dir=out, env=env)
    assert done.code == 0, done.stdout + done.stderr
    assert httpx.get(f"{reference.base_url}/api/core/rbac/policies/{policy['id']}/", headers=headers).status_code == 404
    assert deletable(state(reference)["objects"]) == deletable(before)
    assert not (out / "ledger.jsonl").exists()


def test_sigterm_mid_run_still_cleans_up(tmp_path: Path, reference: ReferenceServer) -> None:
    env = write_target_config(tmp_path / "t.toml", reference)
    before = state(reference)["objects"]
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", "--config", str(tmp_path / "t.toml"),
                             "--report-dir", str(out), "--rate-limit", "8"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (ledger.exists() and ledger.read_text().strip()):
        time.sleep(0.05)  # wait until the run has written down something it created
    assert ledger.exists() and ledger.read_text().strip(), "the run never created anything"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted" in stderr
    assert deletable(state(reference)["objects"]) == deletable(before)
    assert not ledger.exists(), f"entries were left undone: {ledger.read_text() if ledger.exists() else ''}"


def test_read_only_run_sends_no_write(tmp_path: Path, reference: ReferenceServer) -> None:
    env = write_target_config(tmp_path / "t.toml", reference)
    writes_before = state(reference)["writes"]
    done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--read-only", "--report-dir", str(tmp_path / "out"),
                   report_dir=tmp_path / "out", env=env)
    assert done.code == 0, done.stdout + done.stderr
    assert state(reference)["writes"] == writes_before
    assert done.verdict_of("CAT-SEAT-003") == "not verified"
    assert done.verdict_of("CORE-RBAC-020") == "passed"


def test_an_object_that_cannot_be_undone_is_reported_and_kept_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.reference.errors import ApiError
    from conformance.reference.store import Store

    def refuse(self: Store, policy_id: int) -> bool:
        raise ApiError("the policy store is read-only today", 409)

    monkeypatch.setattr(Store, "delete_policy", refuse)
    with ReferenceServer(host="127.0.0.1", port=0, database=":memory:") as server:
        env = write_target_config(tmp_path / "t.toml", server)
        out = tmp_path / "out"
        policy = left_by_a_killed_run(server, out)
        done = run_cli("run", "--config", str(tmp_path / "t.toml"), "--report-dir", str(out),
                       "--requirement", "CAT-SEAT-003", report_dir=out, env=env)
    problems = done.summary()["cleanup"]["problems"]
    assert any(f"policy_id={policy['id']}" in p and "409" in p for p in problems), problems
    assert "could not be undone" in (out / "report.html").read_text()
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert "cleanup: 1 object(s) could not be undone" in last, last
    kept = [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]
    assert [(e["policy_id"], "409" in e["problem"]) for e in kept] == [(policy["id"], True)], kept
