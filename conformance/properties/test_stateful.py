"""Generated create → read → update → delete chains, with use-after-free checks.

Each chain creates its own objects (recorded in the cleanup ledger); the update bodies are generated
from the contract (schema-valid, pointed at the chain's objects). The ci profile runs one bounded chain
of each kind; full and nightly run many.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conformance.client.objects import ASSIGNMENT_PATHS, LICENSE_PATHS, RBAC_POLICIES, credential_of, credentials_path
from conformance.client.session import ApiClient, Exchange, Session
from conformance.generation.profiles import Generation
from conformance.properties.support import Pool, fill_positive, operations
from conformance.verdicts import not_verified


def _strategy(label: str) -> Any:
    return operations()[label].as_strategy(generation_mode=GenerationMode.POSITIVE)


def _expect(exchange: Exchange, statuses: tuple[int, ...], what: str, generation: Generation) -> Exchange:
    assert exchange.status in statuses, (
        f"{what}: expected {' or '.join(map(str, statuses))}, got {exchange.status}\n{exchange.describe()}\n"
        f"  generated with {generation.describe()}")
    return exchange


def _without_blanks(case: Any, *names: str) -> dict[str, Any]:
    """A generated update body without blank strings in `names`: the schemas allow them (no minLength), no
    document says they are accepted, and a server may refuse them with 400 (the catalog records this on
    CORE-RBAC-030, CORE-RBAC-034 and CRED-CRUD-010). A chain sends only what every reading accepts."""
    body = dict(case.body) if isinstance(case.body, dict) else {}
    for name in names:
        if isinstance(body.get(name), str) and not body[name].strip():
            del body[name]
    return body


def _admin(session: Session) -> ApiClient:
    client = session.as_role("dm_admin")
    if client is None:
        not_verified("needs the DM admin key")
    return client


def _run(generation: Generation, test: Any) -> None:
    if not generation.profile.stateful:
        not_verified(f"profile {generation.profile.name} runs no stateful chains")
    generation.hypothesis_settings("stateful")(seed(generation.seed)(test))()


@pytest.mark.requirement("CAT-SEAT-001", "CAT-PASG-005", "CAT-PASG-022", "CAT-PASG-023")
def test_license_update_assign_list_unassign(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """License create → update (generated body) → assign → list → unassign → unassign again (404)."""
    admin = _admin(conformance_session)
    settings = pool.settings

    @given(update=_strategy("POST /api/catalog/licenses/program/update/"), pick=st.integers(0, 2**16))
    def chain(update: Any, pick: int) -> None:
        rnd = random.Random(pick)
        license_ = pool.objects.program_license(count=5)
        fill_positive(update, pool, rnd)
        body = dict(update.body) if isinstance(update.body, dict) else {}
        body.update(license_id=license_["id"], active=True, expired=None, count=max(int(body.get("count") or 5), 2))
        updated = _expect(admin.post(LICENSE_PATHS["program"] + "update/", body), (200,), "license update", generation)
        assert updated.json()["id"] == license_["id"], f"the update answered another license\n{updated.describe()}"
        user = rnd.choice(settings.fixtures.user_ids)
        assignment = pool.objects.assignment("program", license_["id"], user)

        def listed() -> list[int]:
            page = _expect(admin.get(ASSIGNMENT_PATHS["program"], params={"license_id": license_["id"],
                                                                          "page_size": 100}),
                           (200,), "assignment list", generation)
            return [a["id"] for a in page.json()["results"]]

        def usage() -> Any:
            page = _expect(admin.get(LICENSE_PATHS["program"], params={"platform_key": settings.platform_key,
                                                                       "external_id": license_["external_id"]}),
                           (200,), "license list", generation)
            rows = [r for r in page.json()["results"] if r["id"] == license_["id"]]
            assert rows, f"the license is missing from its list\n{page.describe()}"
            return rows[0]["usage_count"]

        assert assignment["id"] in listed(), "a new assignment is missing from the license's assignment list"
        assert usage() == 1, "usage_count is not 1 after one assignment"
        params = {"license_id": license_["id"], "assignment_id": assignment["id"]}
        _expect(admin.delete(ASSIGNMENT_PATHS["program"], params=params), (200,), "unassign", generation)
        assert assignment["id"] not in listed(), "a deleted assignment is still listed"
        assert usage() == 0, "usage_count did not go back to 0 after unassigning"
        _expect(admin.delete(ASSIGNMENT_PATHS["program"], params=params), (404,),
                "deleting the same assignment again (use after free)", generation)

    _run(generation, chain)


@pytest.mark.requirement("CORE-RBAC-028", "CORE-RBAC-029", "CORE-RBAC-033", "CORE-RBAC-035", "CORE-RBAC-037",
                         "CORE-RBAC-040")
def test_policy_patch_put_delete_then_gone(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """Policy create → PATCH → PUT (generated bodies) → DELETE → retrieve/PUT/PATCH/DELETE answer 404."""
    admin = _admin(conformance_session)
    platform = pool.settings.platform_key

    @given(patch=_strategy("PATCH /api/core/rbac/policies/{id}/"), put=_strategy("PUT /api/core/rbac/policies/{id}/"),
           pick=st.integers(0, 2**16))
    def chain(patch: Any, put: Any, pick: int) -> None:
        rnd = random.Random(pick)
        policy = pool.objects.rbac_policy()
        path = f"{RBAC_POLICIES}{policy['id']}/"
        fill_positive(patch, pool, rnd)
        fill_positive(put, pool, rnd)
        put_body = _without_blanks(put, "name")
        _expect(admin.patch(path, _without_blanks(patch, "name")), (200,), "policy PATCH", generation)
        _expect(admin.put(path, put_body), (200,), "policy PUT", generation)
        got = _expect(admin.get(path), (200,), "policy retrieve", generation)
        assert got.json()["id"] == policy["id"], f"retrieve answered another policy\n{got.describe()}"
        _expect(admin.delete(path, params={"platform_key": platform}), (204,), "policy DELETE", generation)
        _expect(admin.get(path), (404,), "retrieving a deleted policy", generation)
        _expect(admin.put(path, put_body), (404,), "PUT on a deleted policy", generation)
        _expect(admin.patch(path, {"name": "after-delete"}), (404,), "PATCH on a deleted policy", generation)
        _expect(admin.delete(path, params={"platform_key": platform}), (404,), "deleting a deleted policy",
                generation)

    _run(generation, chain)


@pytest.mark.requirement("CRED-CRUD-004", "CRED-CRUD-008", "CRED-CRUD-009", "CRED-CRUD-012", "CRED-CRUD-014",
                         "CRED-CRUD-015")
def test_credential_update_delete_then_gone(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """Credential create → retrieve → PUT (generated body) → DELETE → retrieve/PUT/DELETE answer 404."""
    admin = _admin(conformance_session)
    settings = pool.settings

    @given(update=_strategy("PUT /api/credentials/orgs/{org}/users/{user_id}/{entity_id}"), pick=st.integers(0, 2**16))
    def chain(update: Any, pick: int) -> None:
        rnd = random.Random(pick)
        user = rnd.choice(settings.fixtures.user_ids)
        credential = pool.objects.credential(user)
        path = credentials_path(settings.org, user, credential["credential_id"])
        listed = _expect(admin.get(credentials_path(settings.org, user), params={"page_size": 100}), (200,),
                         "credential list", generation)
        assert credential["credential_id"] in listed.text, \
            f"a created credential is missing from the org's list\n{listed.describe()}"
        got = _expect(admin.get(path), (200,), "credential retrieve", generation)
        assert credential_of(got.json()).get("credential_id") == credential["credential_id"], got.describe()
        fill_positive(update, pool, rnd)
        # a full body (one reading of CRED-CRUD-011 refuses a partial PUT) naming the credential of the path
        body = {**{k: credential[k] for k in ("credential_url", "name", "revoked") if k in credential},
                **_without_blanks(update, "credential_url", "name"), "credential_id": credential["credential_id"]}
        _expect(admin.put(path, body), (200, 201), "credential PUT", generation)
        deleted = _expect(admin.delete(path), (204,), "credential DELETE", generation)
        assert not deleted.text.strip(), f"a 204 answer carries a body\n{deleted.describe()}"
        _expect(admin.get(path), (404,), "retrieving a deleted credential", generation)
        _expect(admin.put(path, body), (404,), "updating a deleted credential", generation)
        _expect(admin.delete(path), (404,), "deleting a deleted credential", generation)

    _run(generation, chain)
