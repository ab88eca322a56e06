"""Generated create → read → update → delete chains, with use-after-free checks.

Each chain creates its own objects (recorded in the cleanup ledger); the update bodies are generated
from the contract (schema-valid, pointed at the chain's objects). The ci profile runs one bounded chain
of each kind; full and nightly run many.

Each step of a chain is evidence for the requirements it names: a step that breaks its rule is reported
under those requirements alone and ends that chain (the later steps build on it); a step that names none
is setup, and when the server refuses it the chain proves nothing. Nothing is raised to hypothesis, so every
chain of the profile runs and the ci profile draws the same chains whatever the target answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conformance.client.objects import ASSIGNMENT_PATHS, LICENSE_PATHS, RBAC_POLICIES, credential_of, credentials_path
from conformance.client.session import ApiClient, Exchange, Session
from conformance.generation.profiles import Generation
from conformance.properties.contract import operations
from conformance.properties.filling import fill_positive
from conformance.properties.judging import Findings
from conformance.properties.pool import Pool
from conformance.verdicts import not_verified


class _ChainEnded(Exception):
    """A step did not hold: the rest of this chain builds on it and is not run."""


class Steps:
    """The steps of the chains of one test, each judged under the requirements it names."""

    def __init__(self, requirements: tuple[str, ...], generation: Generation) -> None:
        self.findings = Findings(requirements)
        self.generation = generation

    def expect(self, exchange: Exchange, statuses: tuple[int, ...], what: str, *requirements: str) -> Exchange:
        """The step's answer has one of `statuses`; else its requirements fail (setup: the chain proves nothing)."""
        wrong = exchange.status not in statuses
        self.hold(not wrong, f"{what}: expected {' or '.join(map(str, statuses))}, got {exchange.status}\n"
                             f"{exchange.describe()}", *requirements)
        return exchange

    def hold(self, holds: bool, problem: str, *requirements: str) -> None:
        """A step's claim about the target; when it does not hold, its requirements fail and the chain ends."""
        for rid in requirements:
            self.findings.judge(rid, None if holds else f"{problem}\n  generated with {self.generation.describe()}")
        if not holds:
            raise _ChainEnded(problem)

    @contextmanager
    def chain(self) -> Iterator[None]:
        """One chain: a step that did not hold ends it, quietly (its finding is kept)."""
        try:
            yield
        except _ChainEnded:
            pass

    def run(self, chain: Any) -> None:
        """Run the profile's chains, then report one check per requirement."""
        if not self.generation.profile.stateful:
            not_verified(f"profile {self.generation.profile.name} runs no stateful chains")
        self.generation.hypothesis_settings("stateful")(seed(self.generation.seed)(chain))()
        self.findings.report("no chain came to this step (a setup step was refused)")


def _strategy(label: str) -> Any:
    return operations()[label].as_strategy(generation_mode=GenerationMode.POSITIVE)


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


SEAT, DELETED, GONE, NO_SUCH = "CAT-SEAT-001", "CAT-PASG-005", "CAT-PASG-023", "CAT-PASG-022"


@pytest.mark.requirement(SEAT, DELETED, NO_SUCH, GONE)
def test_license_update_assign_list_unassign(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """License create → update (generated body) → assign → list → unassign → unassign again (404, or 403)."""
    admin = _admin(conformance_session)
    settings = pool.settings
    steps = Steps((SEAT, DELETED, NO_SUCH, GONE), generation)

    @given(update=_strategy("POST /api/catalog/licenses/program/update/"), pick=st.integers(0, 2**16))
    def chain(update: Any, pick: int) -> None:
        rnd = random.Random(pick)
        license_ = pool.objects.program_license(count=5)
        fill_positive(update, pool, rnd)
        body = dict(update.body) if isinstance(update.body, dict) else {}
        body.update(license_id=license_["id"], active=True, expired=None, count=max(int(body.get("count") or 5), 2))
        with steps.chain():
            updated = steps.expect(admin.post(LICENSE_PATHS["program"] + "update/", body), (200,), "license update")
            steps.hold(updated.json().get("id") == license_["id"], f"the update answered another license\n"
                                                                   f"{updated.describe()}")
            user = rnd.choice(settings.fixtures.user_ids)
            assignment = pool.objects.assignment("program", license_["id"], user)

            def listed() -> list[Any]:
                page = steps.expect(admin.get(ASSIGNMENT_PATHS["program"], params={"license_id": license_["id"],
                                                                                   "page_size": 100}),
                                    (200,), "assignment list")
                return [a.get("id") for a in page.json().get("results", [])]

            def usage() -> Any:
                page = steps.expect(admin.get(LICENSE_PATHS["program"], params={"platform_key": settings.platform_key,
                                                                                "external_id": license_["external_id"]}),
                                    (200,), "license list")
                rows = [r for r in page.json().get("results", []) if r.get("id") == license_["id"]]
                steps.hold(bool(rows), f"the license is missing from its list\n{page.describe()}")
                return rows[0].get("usage_count")

            steps.hold(assignment["id"] in listed(), "a new assignment is missing from the license's assignment list")
            steps.hold(usage() == 1, "usage_count is not 1 after one assignment", SEAT)
            params = {"license_id": license_["id"], "assignment_id": assignment["id"]}
            steps.expect(admin.delete(ASSIGNMENT_PATHS["program"], params=params), (200,), "unassign", DELETED)
            steps.hold(assignment["id"] not in listed(), "a deleted assignment is still listed", GONE)
            steps.hold(usage() == 0, "usage_count did not go back to 0 after unassigning", SEAT)
            steps.expect(admin.delete(ASSIGNMENT_PATHS["program"], params=params), (403, 404),  # 403: forbidden-unknown
                         "deleting the same assignment again (use after free)", NO_SUCH)

    steps.run(chain)


RETRIEVED, RETRIEVE_GONE, PUT_GONE, PATCH_GONE, DELETED_POLICY, DELETE_GONE = (
    "CORE-RBAC-028", "CORE-RBAC-029", "CORE-RBAC-033", "CORE-RBAC-035", "CORE-RBAC-037", "CORE-RBAC-040")


@pytest.mark.requirement(RETRIEVED, RETRIEVE_GONE, PUT_GONE, PATCH_GONE, DELETED_POLICY, DELETE_GONE)
def test_policy_patch_put_delete_then_gone(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """Policy create → PATCH → PUT (generated bodies) → DELETE → retrieve/PUT/PATCH/DELETE answer 404."""
    admin = _admin(conformance_session)
    platform = pool.settings.platform_key
    steps = Steps((RETRIEVED, RETRIEVE_GONE, PUT_GONE, PATCH_GONE, DELETED_POLICY, DELETE_GONE), generation)

    @given(patch=_strategy("PATCH /api/core/rbac/policies/{id}/"), put=_strategy("PUT /api/core/rbac/policies/{id}/"),
           pick=st.integers(0, 2**16))
    def chain(patch: Any, put: Any, pick: int) -> None:
        rnd = random.Random(pick)
        policy = pool.objects.rbac_policy()
        path = f"{RBAC_POLICIES}{policy['id']}/"
        fill_positive(patch, pool, rnd)  # the chain's policy grants its (real) users nothing real: see run_owned_resources
        fill_positive(put, pool, rnd)
        put_body = _without_blanks(put, "name")
        with steps.chain():
            steps.expect(admin.patch(path, _without_blanks(patch, "name")), (200,), "policy PATCH")
            steps.expect(admin.put(path, put_body), (200,), "policy PUT")
            got = steps.expect(admin.get(path), (200,), "policy retrieve", RETRIEVED)
            steps.hold(got.json().get("id") == policy["id"], f"retrieve answered another policy\n{got.describe()}",
                       RETRIEVED)
            steps.expect(admin.delete(path, params={"platform_key": platform}), (204,), "policy DELETE", DELETED_POLICY)
            # first whether the DELETE took effect (its own requirement), then, on a policy known to be gone, the 404
            steps.expect(admin.get(path), (404,), "retrieving a deleted policy", DELETED_POLICY)
            steps.expect(admin.get(path), (404,), "retrieving a policy that no longer exists", RETRIEVE_GONE)
            steps.expect(admin.put(path, put_body), (404,), "PUT on a deleted policy", PUT_GONE)
            steps.expect(admin.patch(path, {"name": "after-delete"}), (404,), "PATCH on a deleted policy", PATCH_GONE)
            steps.expect(admin.delete(path, params={"platform_key": platform}), (404,), "deleting a deleted policy",
                         DELETE_GONE)

    steps.run(chain)


LISTED_AND_RETRIEVED, RETRIEVE_ANSWER, NO_CREDENTIAL, UPDATE_GONE, DELETED_CREDENTIAL, DELETE_NONE = (
    "CRED-CRUD-004", "CRED-CRUD-008", "CRED-CRUD-009", "CRED-CRUD-012", "CRED-CRUD-014", "CRED-CRUD-015")


@pytest.mark.requirement(LISTED_AND_RETRIEVED, RETRIEVE_ANSWER, NO_CREDENTIAL, UPDATE_GONE, DELETED_CREDENTIAL,
                         DELETE_NONE)
def test_credential_update_delete_then_gone(pool: Pool, conformance_session: Session, generation: Generation) -> None:
    """Credential create → retrieve → PUT (generated body) → DELETE → retrieve/PUT/DELETE answer 404."""
    admin = _admin(conformance_session)
    settings = pool.settings
    steps = Steps((LISTED_AND_RETRIEVED, RETRIEVE_ANSWER, NO_CREDENTIAL, UPDATE_GONE, DELETED_CREDENTIAL, DELETE_NONE),
                  generation)

    @given(update=_strategy("PUT /api/credentials/orgs/{org}/users/{user_id}/{entity_id}"), pick=st.integers(0, 2**16))
    def chain(update: Any, pick: int) -> None:
        rnd = random.Random(pick)
        user = rnd.choice(settings.fixtures.user_ids)
        credential = pool.objects.credential(user)
        path = credentials_path(settings.org, user, credential["credential_id"])
        fill_positive(update, pool, rnd)
        # a full body (one reading of CRED-CRUD-011 refuses a partial PUT) naming the credential of the path
        body = {**{k: credential[k] for k in ("credential_url", "name", "revoked") if k in credential},
                **_without_blanks(update, "credential_url", "name"), "credential_id": credential["credential_id"]}
        with steps.chain():
            listed = steps.expect(admin.get(credentials_path(settings.org, user), params={"page_size": 100}), (200,),
                                  "credential list", LISTED_AND_RETRIEVED)
            steps.hold(credential["credential_id"] in listed.text,
                       f"a created credential is missing from the org's list\n{listed.describe()}", LISTED_AND_RETRIEVED)
            got = steps.expect(admin.get(path), (200,), "credential retrieve", LISTED_AND_RETRIEVED, RETRIEVE_ANSWER)
            steps.hold(credential_of(got.json()).get("credential_id") == credential["credential_id"],
                       f"retrieve answered another credential\n{got.describe()}", LISTED_AND_RETRIEVED, RETRIEVE_ANSWER)
            steps.expect(admin.put(path, body), (200, 201), "credential PUT")
            deleted = steps.expect(admin.delete(path), (204,), "credential DELETE", DELETED_CREDENTIAL)
            steps.hold(not deleted.text.strip(), f"a 204 answer carries a body\n{deleted.describe()}", DELETED_CREDENTIAL)
            # first whether the DELETE took effect (its own requirement), then, on a credential known to be gone, the 404
            steps.expect(admin.get(path), (404,), "retrieving a deleted credential", DELETED_CREDENTIAL)
            steps.expect(admin.get(path), (404,), "retrieving a credential that no longer exists", NO_CREDENTIAL)
            steps.expect(admin.put(path, body), (404,), "updating a deleted credential", UPDATE_GONE)
            steps.expect(admin.delete(path), (404,), "deleting a deleted credential", DELETE_NONE)

    steps.run(chain)
