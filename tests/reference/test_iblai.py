"""The vendor's published Python client (strict pydantic models) against a running reference.

The client (4.202.2) hands back the raw HTTP response; each answer is parsed here with the client's
own models (``Model.from_json``), so a field missing, mistyped or null where the published schema
forbids it fails here. RBAC answers are checked against the published schema
by hand: the client's generated models require the write-only ``role_id`` / ``platform_key`` in
answers, which the published document (and docs/behaviour.md) say are never echoed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from conformance.reference import fixtures as fx
from conformance.reference.server import ReferenceServer

iblai = pytest.importorskip("iblai")

from iblai.api.catalog_api import CatalogApi  # noqa: E402
from iblai.api.core_api import CoreApi  # noqa: E402
from iblai.clients import get_platform_api_client  # noqa: E402
from iblai.models import (  # noqa: E402
    BulkSuggestionResponse,
    PaginatedProgramGroupSuggestion,
    PaginatedProgramLicense,
    PaginatedProgramLicenseAssignment,
    PaginatedProgramLicenseGroupAssignment,
    PaginatedProgramSuggestion,
    PaginatedRbacGroupList,
    PaginatedRbacRoleList,
    PaginatedUserLicense,
    PaginatedUserLicenseAssignment,
    ProgramGroupSuggestionCreate,
    ProgramGroupSuggestionDetail,
    ProgramLicenseAssignmentCreate,
    ProgramLicenseAssignmentDetail,
    ProgramLicenseCreateDetail,
    ProgramLicenseDetail,
    ProgramLicenseGroupAssignmentCreate,
    ProgramLicenseGroupAssignmentDetail,
    ProgramLicenseUpdateDetail,
    ProgramSuggestionBulkCreate,
    ProgramSuggestionCreate,
    ProgramSuggestionDetail,
    UserLicenseAssignmentCreate,
    UserLicenseAssignmentDetail,
    UserLicenseCreate,
    UserLicenseDetail,
    UserLicenseUpdate,
)

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
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as server:
        yield server


@pytest.fixture(scope="module")
def catalog(server: ReferenceServer) -> Iterator[CatalogApi]:
    client = get_platform_api_client(host=server.base_url, key=server.keys.dm_admin)
    yield CatalogApi(client)
    client.close() if hasattr(client, "close") else None


def test_program_licenses_and_assignments(catalog: CatalogApi) -> None:
    created = parsed(catalog.catalog_licenses_program_create_create(ProgramLicenseCreateDetail(
        platform_key=fx.PLATFORM_KEY, program_key=fx.PROGRAM_KEYS[0], name="Via iblai", count=2,
        started=datetime(2026, 1, 1, tzinfo=UTC), external_id="iblai-1")), ProgramLicenseDetail)
    assert created.usage_count == 0 and created.platform_key == "alpha" and created.expired is None
    updated = parsed(catalog.catalog_licenses_program_update_create(ProgramLicenseUpdateDetail(
        license_id=created.id, count=3, transaction_id="t-iblai")), ProgramLicenseDetail)
    assert updated.count == 3
    listed = parsed(catalog.catalog_licenses_program_retrieve(platform_key="alpha", verbose=True, page_size=5),
                    PaginatedProgramLicense)
    assert listed.count >= 1 and listed.results[0].assignments is not None
    assignment = parsed(catalog.catalog_licenses_program_assignment_create(
        created.id, ProgramLicenseAssignmentCreate(license_id=created.id, user_id=101)), ProgramLicenseAssignmentDetail)
    assert assignment.user_id == 101 and assignment.direct is True
    by_email = parsed(catalog.catalog_licenses_program_assignment_create(
        created.id, ProgramLicenseAssignmentCreate(license_id=created.id, email="bob@alpha.example",
                                                   redirect_to="https://example.com/next")),
        ProgramLicenseAssignmentDetail)
    assert by_email.username == "bob"
    page = parsed(catalog.catalog_licenses_program_assignment_retrieve(created.id, sort="-id"),
                  PaginatedProgramLicenseAssignment)
    assert [a.user_id for a in page.results] == [102, 101]
    group = parsed(catalog.catalog_licenses_program_assignment_group_create(
        created.id, ProgramLicenseGroupAssignmentCreate(license_id=created.id, group_id=12)),
        ProgramLicenseGroupAssignmentDetail)
    assert (group.user_count, group.assigned_count) == (2, 1)  # one seat was left
    groups = parsed(catalog.catalog_licenses_program_assignment_group_retrieve(created.id),
                    PaginatedProgramLicenseGroupAssignment)
    assert groups.count == 1 and groups.results[0].group_name == "Alpha ML Team"
    assert status_of(catalog.catalog_licenses_program_assignment_destroy(assignment.id, created.id)) == 200
    assert status_of(catalog.catalog_licenses_program_assignment_group_destroy(group.id, created.id)) == 200
    refused = catalog.catalog_licenses_program_assignment_destroy(assignment.id, created.id)
    assert status_of(refused) == 404 and "detail" in json.loads(refused.data)


def test_user_licenses_and_assignments(catalog: CatalogApi) -> None:
    created = parsed(catalog.catalog_licenses_user_create_create(UserLicenseCreate(
        platform_key=fx.PLATFORM_KEY, name="Users via iblai", count=1)), UserLicenseDetail)
    updated = parsed(catalog.catalog_licenses_user_update_create(UserLicenseUpdate(license_id=created.id,
                                                                                   name="Renamed")), UserLicenseDetail)
    assert updated.name == "Renamed"
    listed = parsed(catalog.catalog_licenses_user_retrieve(platform_key="alpha", verbose=True), PaginatedUserLicense)
    assert any(license.id == created.id for license in listed.results)
    assignment = parsed(catalog.catalog_licenses_user_assignment_create(
        created.id, UserLicenseAssignmentCreate(license_id=created.id, user_id=103)), UserLicenseAssignmentDetail)
    assert assignment.platform_key == "alpha" and assignment.redirect_to is None
    assert parsed(catalog.catalog_licenses_user_assignment_retrieve(created.id),
                  PaginatedUserLicenseAssignment).count == 1
    full = catalog.catalog_licenses_user_assignment_create(
        created.id, UserLicenseAssignmentCreate(license_id=created.id, user_id=104))
    assert status_of(full) == 400
    assert status_of(catalog.catalog_licenses_user_assignment_destroy(assignment.id, created.id)) == 200


def test_suggestions(catalog: CatalogApi) -> None:
    single = parsed(catalog.catalog_suggestions_program_manage_create("alpha", ProgramSuggestionCreate(
        platform_key="alpha", program_key=fx.PROGRAM_KEYS[1], user_id="104")), ProgramSuggestionDetail)
    assert single.accepted is False and single.visible is True and single.name == "Dave Davis"
    listed = parsed(catalog.catalog_suggestions_program_manage_retrieve("alpha"), PaginatedProgramSuggestion)
    assert listed.results[0].id == single.id
    bulk = parsed(catalog.catalog_suggestions_program_manage_bulk_create(ProgramSuggestionBulkCreate(
        platform_key="alpha", suggestion_data=[{"program_key": fx.PROGRAM_KEYS[0], "user_id": 101}, {"user_id": 1}])),
        BulkSuggestionResponse)
    assert bulk.successes == 1 and bulk.error_codes == ["missing_program_key"]
    group = parsed(catalog.catalog_suggestions_program_manage_group_create("alpha", ProgramGroupSuggestionCreate(
        platform_key="alpha", program_key=fx.PROGRAM_KEYS[0], group_id=11)), ProgramGroupSuggestionDetail)
    assert group.user_count == 2
    groups = parsed(catalog.catalog_suggestions_program_manage_group_retrieve("alpha"), PaginatedProgramGroupSuggestion)
    assert groups.count == 1
    assert status_of(catalog.catalog_suggestions_program_manage_destroy(single.id, platform_key="alpha")) == 200
    assert status_of(catalog.catalog_suggestions_program_manage_group_destroy("alpha", group.id)) == 200


def test_rbac_answers_match_the_published_schema(server: ReferenceServer) -> None:
    client = get_platform_api_client(host=server.base_url, key=server.keys.platform_admin)
    core = CoreApi(client)
    roles = core.core_rbac_roles_list(platform_key="alpha")
    groups = core.core_rbac_groups_list(platform_key="alpha")
    for raw, model in ((roles, PaginatedRbacRoleList), (groups, PaginatedRbacGroupList)):
        assert raw.status == 200
        body = json.loads(raw.data)
        for item in body["results"]:
            assert "platform_key" not in item  # write-only in the published document
            item["platform_key"] = "alpha"     # what the generated model wrongly requires
        parsed = model.from_dict(body)
        assert parsed is not None and parsed.count == len(parsed.results)
