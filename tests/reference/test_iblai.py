"""The vendor's published Python client (strict pydantic models) against `conformance serve`.

The client (4.202.2) hands back the raw HTTP response; each answer is parsed here with the client's
own models (``Model.from_json``), so a field missing, mistyped or null where the published schema
forbids it fails here. RBAC answers are checked against the published schema
by hand: the client's generated models require the write-only ``role_id`` / ``platform_key`` in
answers, which the published document (and docs/behaviour.md) say are never echoed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from conformance.reference import fixtures as fx
from conformance.reference.app import ReferenceKeys
from conformance.reference.server import KEY_VARIABLES


def _load_iblai() -> SimpleNamespace:
    """Load the parts of iblai this module uses.

    ``import iblai`` runs a package ``__init__`` that imports all ~1000 generated modules (about 6 s
    of CPU); the modules used here only need their own imports. So the three package ``__init__``
    files are skipped while loading, then the real packages are left importable as before.
    """
    spec = importlib.util.find_spec("iblai")
    if spec is None or spec.origin is None:
        pytest.fail("the iblai client is not installed: python -m pip install -e '.[test]'", pytrace=False)
    if "iblai" in sys.modules:  # already imported for real: use it
        import iblai.models as models
        from iblai.api.catalog_api import CatalogApi
        from iblai.api.core_api import CoreApi
        from iblai.clients import get_platform_api_client
        return SimpleNamespace(models=models, CatalogApi=CatalogApi, CoreApi=CoreApi,
                               get_platform_api_client=get_platform_api_client)
    root = Path(spec.origin).parent
    stubs = {"iblai": root, "iblai.api": root / "api", "iblai.models": root / "models"}
    for name, folder in stubs.items():
        stub = types.ModuleType(name)
        stub.__path__ = [str(folder)]
        sys.modules[name] = stub
    try:
        catalog_api = importlib.import_module("iblai.api.catalog_api")
        core_api = importlib.import_module("iblai.api.core_api")
        clients = importlib.import_module("iblai.clients")
        models = SimpleNamespace(**{
            name: getattr(importlib.import_module(f"iblai.models.{module}"), name)
            for name, module in MODELS.items()
        })
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
    return SimpleNamespace(models=models, CatalogApi=catalog_api.CatalogApi, CoreApi=core_api.CoreApi,
                           get_platform_api_client=clients.get_platform_api_client)


MODELS = {
    "BulkSuggestionResponse": "bulk_suggestion_response",
    "PaginatedProgramGroupSuggestion": "paginated_program_group_suggestion",
    "PaginatedProgramLicense": "paginated_program_license",
    "PaginatedProgramLicenseAssignment": "paginated_program_license_assignment",
    "PaginatedProgramLicenseGroupAssignment": "paginated_program_license_group_assignment",
    "PaginatedProgramSuggestion": "paginated_program_suggestion",
    "PaginatedRbacGroupList": "paginated_rbac_group_list",
    "PaginatedRbacRoleList": "paginated_rbac_role_list",
    "PaginatedUserLicense": "paginated_user_license",
    "PaginatedUserLicenseAssignment": "paginated_user_license_assignment",
    "ProgramGroupSuggestionCreate": "program_group_suggestion_create",
    "ProgramGroupSuggestionDetail": "program_group_suggestion_detail",
    "ProgramLicenseAssignmentCreate": "program_license_assignment_create",
    "ProgramLicenseAssignmentDetail": "program_license_assignment_detail",
    "ProgramLicenseCreateDetail": "program_license_create_detail",
    "ProgramLicenseDetail": "program_license_detail",
    "ProgramLicenseGroupAssignmentCreate": "program_license_group_assignment_create",
    "ProgramLicenseGroupAssignmentDetail": "program_license_group_assignment_detail",
    "ProgramLicenseUpdateDetail": "program_license_update_detail",
    "ProgramSuggestionBulkCreate": "program_suggestion_bulk_create",
    "ProgramSuggestionCreate": "program_suggestion_create",
    "ProgramSuggestionDetail": "program_suggestion_detail",
    "UserLicenseAssignmentCreate": "user_license_assignment_create",
    "UserLicenseAssignmentDetail": "user_license_assignment_detail",
    "UserLicenseCreate": "user_license_create",
    "UserLicenseDetail": "user_license_detail",
    "UserLicenseUpdate": "user_license_update",
}

IBLAI = _load_iblai()
m = IBLAI.models
CatalogApi = IBLAI.CatalogApi
CoreApi = IBLAI.CoreApi
get_platform_api_client = IBLAI.get_platform_api_client


M = TypeVar("M")


def parsed(response: Any, model: type[M], status: int = 200) -> M:
    """The answer, checked for its status and parsed by the client's strict model."""
    assert response.status == status, (response.status, response.data)
    result = model.from_json(response.data.decode("utf-8"))  # type: ignore[attr-defined]
    assert result is not None
    return result  # type: ignore[no-any-return]


def status_of(response: Any) -> int:
    return int(response.status)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """`conformance serve` in its own process, keys handed over in the environment, as a user would run it."""
    keys = ReferenceKeys.generate()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env.update({variable: getattr(keys, role) for role, variable in KEY_VARIABLES.items()})
    folder = tmp_path_factory.mktemp("served")
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "serve", "--port", "0", "--database",
                             str(folder / "ref.sqlite")], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        banner, deadline = "", time.monotonic() + 30
        while "http://" not in banner and proc.poll() is None and time.monotonic() < deadline:
            banner += proc.stdout.readline() if proc.stdout else ""
        assert "http://" in banner, f"conformance serve did not start: {banner}"
        yield SimpleNamespace(base_url=banner[banner.index("http://"):].split()[0], keys=keys)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


@pytest.fixture(scope="module")
def catalog(server: SimpleNamespace) -> Iterator[CatalogApi]:
    client = get_platform_api_client(host=server.base_url, key=server.keys.dm_admin)
    yield CatalogApi(client)
    client.close() if hasattr(client, "close") else None


def test_program_licenses_and_assignments(catalog: CatalogApi) -> None:
    created = parsed(catalog.catalog_licenses_program_create_create(m.ProgramLicenseCreateDetail(
        platform_key=fx.PLATFORM_KEY, program_key=fx.PROGRAM_KEYS[0], name="Via iblai", count=2,
        started=datetime(2026, 1, 1, tzinfo=UTC), external_id="iblai-1")), m.ProgramLicenseDetail)
    assert created.usage_count == 0 and created.platform_key == "alpha" and created.expired is None
    updated = parsed(catalog.catalog_licenses_program_update_create(m.ProgramLicenseUpdateDetail(
        license_id=created.id, count=3, transaction_id="t-iblai")), m.ProgramLicenseDetail)
    assert updated.count == 3
    listed = parsed(catalog.catalog_licenses_program_retrieve(platform_key="alpha", verbose=True, page_size=5),
                    m.PaginatedProgramLicense)
    assert listed.count >= 1 and listed.results[0].assignments is not None
    assignment = parsed(catalog.catalog_licenses_program_assignment_create(
        created.id, m.ProgramLicenseAssignmentCreate(license_id=created.id, user_id=101)), m.ProgramLicenseAssignmentDetail)
    assert assignment.user_id == 101 and assignment.direct is True
    by_email = parsed(catalog.catalog_licenses_program_assignment_create(
        created.id, m.ProgramLicenseAssignmentCreate(license_id=created.id, email="bob@alpha.example",
                                                   redirect_to="https://example.com/next")),
        m.ProgramLicenseAssignmentDetail)
    assert by_email.username == "bob"
    page = parsed(catalog.catalog_licenses_program_assignment_retrieve(created.id, sort="-id"),
                  m.PaginatedProgramLicenseAssignment)
    assert [a.user_id for a in page.results] == [102, 101]
    group = parsed(catalog.catalog_licenses_program_assignment_group_create(
        created.id, m.ProgramLicenseGroupAssignmentCreate(license_id=created.id, group_id=12)),
        m.ProgramLicenseGroupAssignmentDetail)
    assert (group.user_count, group.assigned_count) == (2, 1)  # one seat was left
    groups = parsed(catalog.catalog_licenses_program_assignment_group_retrieve(created.id),
                    m.PaginatedProgramLicenseGroupAssignment)
    assert groups.count == 1 and groups.results[0].group_name == "Alpha ML Team"
    assert status_of(catalog.catalog_licenses_program_assignment_destroy(assignment.id, created.id)) == 200
    assert status_of(catalog.catalog_licenses_program_assignment_group_destroy(group.id, created.id)) == 200
    refused = catalog.catalog_licenses_program_assignment_destroy(assignment.id, created.id)
    assert status_of(refused) == 404 and "detail" in json.loads(refused.data)


def test_user_licenses_and_assignments(catalog: CatalogApi) -> None:
    created = parsed(catalog.catalog_licenses_user_create_create(m.UserLicenseCreate(
        platform_key=fx.PLATFORM_KEY, name="Users via iblai", count=1)), m.UserLicenseDetail)
    updated = parsed(catalog.catalog_licenses_user_update_create(m.UserLicenseUpdate(license_id=created.id,
                                                                                   name="Renamed")), m.UserLicenseDetail)
    assert updated.name == "Renamed"
    listed = parsed(catalog.catalog_licenses_user_retrieve(platform_key="alpha", verbose=True), m.PaginatedUserLicense)
    assert any(license.id == created.id for license in listed.results)
    assignment = parsed(catalog.catalog_licenses_user_assignment_create(
        created.id, m.UserLicenseAssignmentCreate(license_id=created.id, user_id=103)), m.UserLicenseAssignmentDetail)
    assert assignment.platform_key == "alpha" and assignment.redirect_to is None
    assert parsed(catalog.catalog_licenses_user_assignment_retrieve(created.id),
                  m.PaginatedUserLicenseAssignment).count == 1
    full = catalog.catalog_licenses_user_assignment_create(
        created.id, m.UserLicenseAssignmentCreate(license_id=created.id, user_id=104))
    assert status_of(full) == 400
    assert status_of(catalog.catalog_licenses_user_assignment_destroy(assignment.id, created.id)) == 200


def test_suggestions(catalog: CatalogApi) -> None:
    single = parsed(catalog.catalog_suggestions_program_manage_create("alpha", m.ProgramSuggestionCreate(
        platform_key="alpha", program_key=fx.PROGRAM_KEYS[1], user_id="104")), m.ProgramSuggestionDetail)
    assert single.accepted is False and single.visible is True and single.name == "Dave Davis"
    listed = parsed(catalog.catalog_suggestions_program_manage_retrieve("alpha"), m.PaginatedProgramSuggestion)
    assert listed.results[0].id == single.id
    bulk = parsed(catalog.catalog_suggestions_program_manage_bulk_create(m.ProgramSuggestionBulkCreate(
        platform_key="alpha", suggestion_data=[{"program_key": fx.PROGRAM_KEYS[0], "user_id": 101}, {"user_id": 1}])),
        m.BulkSuggestionResponse)
    assert bulk.successes == 1 and bulk.error_codes == ["missing_program_key"]
    group = parsed(catalog.catalog_suggestions_program_manage_group_create("alpha", m.ProgramGroupSuggestionCreate(
        platform_key="alpha", program_key=fx.PROGRAM_KEYS[0], group_id=11)), m.ProgramGroupSuggestionDetail)
    assert group.user_count == 2
    groups = parsed(catalog.catalog_suggestions_program_manage_group_retrieve("alpha"), m.PaginatedProgramGroupSuggestion)
    assert groups.count == 1
    assert status_of(catalog.catalog_suggestions_program_manage_destroy(single.id, platform_key="alpha")) == 200
    assert status_of(catalog.catalog_suggestions_program_manage_group_destroy("alpha", group.id)) == 200


def test_rbac_answers_match_the_published_schema(server: SimpleNamespace) -> None:
    client = get_platform_api_client(host=server.base_url, key=server.keys.platform_admin)
    core = CoreApi(client)
    roles = core.core_rbac_roles_list(platform_key="alpha")
    groups = core.core_rbac_groups_list(platform_key="alpha")
    for raw, model in ((roles, m.PaginatedRbacRoleList), (groups, m.PaginatedRbacGroupList)):
        assert raw.status == 200
        body = json.loads(raw.data)
        for item in body["results"]:
            assert "platform_key" not in item  # write-only in the published document
            item["platform_key"] = "alpha"     # what the generated model wrongly requires
        parsed = model.from_dict(body)
        assert parsed is not None and parsed.count == len(parsed.results)


def test_policy_update_through_the_client(server: SimpleNamespace) -> None:
    """The client's PATCH of a policy reaches the reference and the answer carries the change."""
    import httpx

    headers = {"Authorization": f"Api-Token {server.keys.platform_admin}"}
    created = httpx.post(f"{server.base_url}/api/core/rbac/policies/", headers=headers,
                         json={"name": "via-client", "resources": ["/platforms/1/x"], "role_id": fx.ROLE_IDS[0],
                               "platform_key": fx.PLATFORM_KEY})
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    patched_model = importlib.import_module("iblai.models.patched_rbac_policy").PatchedRbacPolicy
    core = CoreApi(get_platform_api_client(host=server.base_url, key=server.keys.platform_admin))
    raw = core.core_rbac_policies_partial_update(policy_id, patched_model(name="renamed-via-client",
                                                                          resources=["/platforms/1/y"]))
    assert raw.status == 200, raw.data
    body = json.loads(raw.data)
    assert body["name"] == "renamed-via-client" and body["resources"] == ["/platforms/1/y"]
    assert "role_id" not in body and "platform_key" not in body  # write-only in the published document
    gone = httpx.delete(f"{server.base_url}/api/core/rbac/policies/{policy_id}/", headers=headers,
                        params={"platform_key": fx.PLATFORM_KEY})
    assert gone.status_code == 204
