"""The project's OpenAPI contract (openapi/ibl-data-manager.yaml) is valid and complete.

Offline and fast: the document is validated with openapi-spec-validator and loaded with
schemathesis and openapi-core, the tools the suite runs it through.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "ibl-data-manager.yaml"

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

EXPECTED_OPERATIONS = {
    ("GET", "/api/catalog/licenses/program/"),
    ("POST", "/api/catalog/licenses/program/create/"),
    ("POST", "/api/catalog/licenses/program/update/"),
    ("GET", "/api/catalog/licenses/program/assignment/"),
    ("POST", "/api/catalog/licenses/program/assignment/"),
    ("DELETE", "/api/catalog/licenses/program/assignment/"),
    ("GET", "/api/catalog/licenses/program/assignment/group/"),
    ("POST", "/api/catalog/licenses/program/assignment/group/"),
    ("DELETE", "/api/catalog/licenses/program/assignment/group/"),
    ("GET", "/api/catalog/licenses/user/"),
    ("POST", "/api/catalog/licenses/user/create/"),
    ("POST", "/api/catalog/licenses/user/update/"),
    ("GET", "/api/catalog/licenses/user/assignment/"),
    ("POST", "/api/catalog/licenses/user/assignment/"),
    ("DELETE", "/api/catalog/licenses/user/assignment/"),
    ("GET", "/api/catalog/suggestions/program/manage/"),
    ("POST", "/api/catalog/suggestions/program/manage/"),
    ("DELETE", "/api/catalog/suggestions/program/manage/"),
    ("POST", "/api/catalog/suggestions/program/manage/bulk/"),
    ("GET", "/api/catalog/suggestions/program/manage/group/"),
    ("POST", "/api/catalog/suggestions/program/manage/group/"),
    ("DELETE", "/api/catalog/suggestions/program/manage/group/"),
    ("GET", "/api/core/rbac/policies/"),
    ("POST", "/api/core/rbac/policies/"),
    ("GET", "/api/core/rbac/policies/{id}/"),
    ("PUT", "/api/core/rbac/policies/{id}/"),
    ("PATCH", "/api/core/rbac/policies/{id}/"),
    ("DELETE", "/api/core/rbac/policies/{id}/"),
    ("GET", "/api/core/rbac/roles/"),
    ("POST", "/api/core/rbac/roles/"),
    ("GET", "/api/core/rbac/groups/"),
    ("POST", "/api/core/rbac/groups/"),
    ("GET", "/api/credentials/orgs/{org}/users/{user_id}/"),
    ("POST", "/api/credentials/orgs/{org}/users/{user_id}/"),
    ("GET", "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}"),
    ("PUT", "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}"),
    ("DELETE", "/api/credentials/orgs/{org}/users/{user_id}/{entity_id}"),
}

CATALOG_LISTS = {
    "/api/catalog/licenses/program/",
    "/api/catalog/licenses/program/assignment/",
    "/api/catalog/licenses/program/assignment/group/",
    "/api/catalog/licenses/user/",
    "/api/catalog/licenses/user/assignment/",
    "/api/catalog/suggestions/program/manage/",
    "/api/catalog/suggestions/program/manage/group/",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with CONTRACT.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    assert isinstance(loaded, dict)
    return loaded


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref (one level is all the contract uses for parameters and responses)."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameters(document: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    shared = document["paths"][path].get("parameters", [])
    return [resolve(document, p) for p in [*shared, *operation.get("parameters", [])]]


def test_contract_file_exists() -> None:
    assert CONTRACT.is_file(), f"missing contract {CONTRACT}"


def test_openapi_spec_validator_accepts_the_contract(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    assert document["openapi"] == "3.0.3"
    validate(document)


def test_the_published_copy_the_generated_tests_judge_requests_by_is_a_valid_document() -> None:
    """Runs build it without validating it again (conformance/properties/contract.py)."""
    from openapi_spec_validator import validate

    from conformance.properties.contract import published_document

    validate(published_document())


def test_schemathesis_loads_every_operation() -> None:
    import schemathesis

    schema = schemathesis.openapi.from_path(str(CONTRACT))
    loaded = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        loaded.add((operation.method.upper(), operation.path))
    assert loaded == EXPECTED_OPERATIONS


def test_openapi_core_loads_the_contract() -> None:
    from openapi_core import OpenAPI

    api = OpenAPI.from_file_path(str(CONTRACT))
    assert api.spec is not None


def test_operations_are_exactly_the_covered_ones(document: dict[str, Any]) -> None:
    found = [(method, path) for method, path, _ in operations(document)]
    assert len(found) == len(set(found)) == 37
    assert set(found) == EXPECTED_OPERATIONS


def test_operation_ids_are_present_and_unique(document: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert all(ids), "every operation needs an operationId"
    duplicates = [name for name, count in Counter(ids).items() if count > 1]
    assert not duplicates, f"duplicate operationIds: {duplicates}"


def test_every_operation_is_secured_and_lists_401(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["PlatformApiKeyAuthentication"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Api-Token <key>" in scheme["description"]
    for method, path, operation in operations(document):
        assert operation.get("security") == [{"PlatformApiKeyAuthentication": []}], (method, path)
        assert "401" in operation["responses"], (method, path)


def test_rbac_401_records_that_the_published_document_lists_only_403(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if path.startswith("/api/core/rbac/"):
            unauthorized = resolve(document, operation["responses"]["401"])
            assert "only 403" in unauthorized["description"], (method, path)


def test_operations_with_required_input_list_400(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        required_param = any(p.get("required") for p in parameters(document, path, operation))
        required_body = operation.get("requestBody", {}).get("required", False)
        if required_param or required_body:
            assert "400" in operation["responses"], (method, path)


PUBLISHED_MEDIA_TYPES = ["application/json", "application/scim+json", "application/x-www-form-urlencoded",
                         "multipart/form-data", "*/*"]


def test_request_bodies_list_the_published_media_types_with_one_schema(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        body = operation.get("requestBody")
        if body is not None:
            assert list(body["content"]) == PUBLISHED_MEDIA_TYPES, (method, path)
            schemas = [media["schema"] for media in body["content"].values()]
            assert all(schema == schemas[0] for schema in schemas), (method, path)


def test_error_responses_are_json_error_objects(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["type"] == "object"
    assert "detail" in error["properties"]
    assert not error.get("required"), "detail must stay optional"
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                content = resolve(document, response).get("content", {})
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    method,
                    path,
                    status,
                )


def test_no_request_parameter_has_a_maximum(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for parameter in parameters(document, path, operation):
            assert "maximum" not in parameter["schema"], (method, path, parameter["name"])


def test_catalog_lists_accept_both_documented_link_names(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path in CATALOG_LISTS:
        reference = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        page = resolve(document, reference)
        variants = [resolve(document, variant) for variant in page["anyOf"]]
        required = sorted(sorted(v["required"]) for v in variants)
        assert required == [
            ["count", "next", "previous", "results"],
            ["count", "next_page", "previous_page", "results"],
        ], path
        items = {v["properties"]["results"]["items"]["$ref"] for v in variants}
        assert len(items) == 1, path
        for variant in variants:
            for link in set(variant["properties"]) - {"count", "results"}:
                assert variant["properties"][link]["nullable"] is True
                assert variant["properties"][link]["format"] == "uri"
    assert schemas["ProgramLicenseAssignment"]["properties"]["redirect_to"]["nullable"] is True


def test_credentials_accept_bare_and_enveloped_answers(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    single = {v["$ref"].rsplit("/", 1)[1] for v in schemas["CredentialResponse"]["anyOf"]}
    assert single == {"Credential", "CredentialEnvelope"}
    assert set(schemas["Credential"]["required"]) == {"credential_id", "credential_url", "name", "revoked"}
    assert set(schemas["CredentialCreate"]["required"]) == {
        "credential_id",
        "credential_url",
        "name",
        "revoked",
        "issuer",
    }
    assert "required" not in schemas["CredentialUpdate"]
    create = document["paths"]["/api/credentials/orgs/{org}/users/{user_id}/"]["post"]["responses"]
    assert {"200", "201"} <= set(create)


def test_program_license_create_requires_both_readings(document: dict[str, Any]) -> None:
    body = document["components"]["schemas"]["ProgramLicenseCreate"]
    assert set(body["required"]) == {"program_key", "name", "count", "started", "platform_key", "program_id"}
    for name in ("ProgramLicenseUpdate", "UserLicenseUpdate"):
        update = document["components"]["schemas"][name]
        assert "required" not in update, name
        assert update["properties"]["change_type"]["default"] == "update", name


def test_info_records_version_and_sources(document: dict[str, Any]) -> None:
    info = document["info"]
    assert info["version"].startswith("4.90.4-conformance.")
    versions = " ".join(source["version"] for source in info["x-sources"])
    for version in ("3.59.0", "4.84.1", "4.90.4"):
        assert version in versions


# ---- what the contract adds to the published document (x-conformance-added) ------------------------

def _page_schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    return resolve(document, document["components"]["parameters"][name])["schema"]


def test_every_addition_is_marked_with_why(document: dict[str, Any]) -> None:
    """The additions the suite knows of carry x-conformance-added, each with a reason."""
    from conformance.properties.published import added_marks

    marks = added_marks(document)
    assert all(mark and (isinstance(mark, str) or all(mark.values())) for _, mark in marks)
    where = {w for w, _ in marks}
    assert "#/components/parameters/Page/schema" in where and "#/components/parameters/PageSize/schema" in where
    assert "#/components/parameters/CredentialPage" in where
    assert "#/components/schemas/ProgramLicenseCreate" in where  # platform_key and program_id required (prose)
    assert "#/components/schemas/CredentialCreate/properties/issuer" in where
    assert "#/components/responses/BadRequestAdded" in where and "#/components/responses/UnauthorizedRbac" in where


def test_the_published_copy_drops_every_added_request_constraint(document: dict[str, Any]) -> None:
    from conformance.properties.published import without_additions

    published = without_additions(document)
    assert "minimum" not in _page_schema(published, "Page") and "minimum" not in _page_schema(published, "PageSize")
    assert _page_schema(document, "Page")["minimum"] == 1  # the contract itself keeps shaping positive data
    credentials = published["paths"]["/api/credentials/orgs/{org}/users/{user_id}/"]
    assert credentials["get"]["parameters"] == []  # platform_org, page, page_size, search, course, program: prose
    create = published["components"]["schemas"]["ProgramLicenseCreate"]
    assert set(create["required"]) == {"program_key", "name", "count", "started"}
    assert "program_id" not in create["properties"]
    credential = published["components"]["schemas"]["CredentialCreate"]
    assert set(credential["required"]) == {"credential_id", "credential_url", "name", "revoked"}
    assert credential["properties"]["issuer"]["nullable"] is True and "description" not in credential["properties"]
    # widening additions (statuses, reading shapes) stay: they never make a request malformed
    assert "401" in published["paths"]["/api/core/rbac/roles/"]["get"]["responses"]
    # read-only properties have no say in a request: a server may ignore them, so they judge nothing
    patched = published["components"]["schemas"]["RbacPolicyPatch"]["properties"]
    assert "users" not in patched and "is_internal" not in patched and "resources" in patched
    assert "users" in document["components"]["schemas"]["RbacPolicyPatch"]["properties"]


def _negative_case(label: str, query: dict[str, Any]) -> Any:
    """A case of `label` with `query` as a generated one would carry it (what it breaks is read from the request)."""
    from conformance.properties.contract import operations

    return operations()[label].Case(query=query)


def _caller() -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(header="Api-Token unit-test-key", base_url="http://127.0.0.1:9")


def test_a_negative_case_that_breaks_only_an_added_constraint_is_not_judged() -> None:
    """page=0 breaks the contract's minimum: 1 (an addition) but not the published document: not sent, not judged."""
    from conformance.properties.judging import acceptance_requirement, request_violations

    label = "GET /api/core/rbac/roles/"
    only_added = _negative_case(label, {"page": 0, "page_size": 0})
    assert request_violations(only_added, _caller()) == []
    credentials = _negative_case("GET /api/credentials/orgs/{org}/users/{user_id}/", {"page": "x", "search": ""})
    credentials.path_parameters = {"org": "main", "user_id": "1"}
    assert request_violations(credentials, _caller()) == []  # prose-only parameters: nothing published to break
    published = _negative_case(label, {"page": "two"})
    found = request_violations(published, _caller())
    assert [(v.location, v.name) for v in found] == [("query", "page")]
    assert acceptance_requirement(label, found[0]) == "GEN-STATUS-008"
    catalog = _negative_case("GET /api/catalog/licenses/program/", {"active": "maybe"})
    assert acceptance_requirement("GET /api/catalog/licenses/program/",
                                  request_violations(catalog, _caller())[0]) == "GEN-STATUS-004"


def _errors(found: Any) -> list[tuple[str, str, list[str]]]:
    """openapi-core's errors as words: each error's kind and message, and the schema errors under it."""
    described = []
    for error in found:
        cause = error.__cause__ or error.__context__
        schema_errors = getattr(error, "schema_errors", None) or getattr(cause, "schema_errors", None) or []
        described.append((type(error).__name__, str(error), sorted(e.message for e in schema_errors)))
    return described


def test_openapi_core_with_its_parts_reused_judges_as_openapi_core_does() -> None:
    """The generated tests' openapi-core views (validators, deserializers and operation lookups made once, resolved
    parts kept) find what openapi-core's defaults find, on a request or answer seen again as on the first; requests are
    read as writes (a role's read-only id is not needed) and answers as reads (its write-only platform_key is not)."""
    from openapi_core import Config, OpenAPI
    from openapi_core.testing import MockRequest, MockResponse

    from conformance.properties.contract import (
        contract_document,
        openapi_core_spec,
        published_document,
        published_request_spec,
    )

    plain = Config(spec_validator_cls=None)
    plain_requests, plain_answers = OpenAPI.from_dict(published_document(), config=plain), OpenAPI.from_dict(
        contract_document(), config=plain)
    host, roles, key = "http://127.0.0.1:9", "/api/core/rbac/roles/", {"Authorization": "Api-Token unit-test-key"}
    sent = [MockRequest(host, "get", roles, args={"page": "two"}, headers=key),
            MockRequest(host, "get", roles, args={"page": "2", "name": ""}, headers=key),
            MockRequest(host, "post", roles, headers=key, data=b'{"name": "r", "platform_key": "p"}'),
            MockRequest(host, "post", roles, headers=key, data=b'{"name": 5, "actions": "all"}')]
    role = b'{"id": 1, "name": "r", "platform": {"id": 2, "key": "p"}, "is_internal": false}'
    answered = [(sent[2], MockResponse(role, status_code=201)), (sent[2], MockResponse(b'{"id": "x"}', status_code=201)),
                (sent[0], MockResponse(b'{"count": 1}'))]
    for _ in range(2):
        for request in sent:
            assert _errors(published_request_spec().iter_request_errors(request)) == _errors(
                plain_requests.iter_request_errors(request))
        for request, answer in answered:
            assert _errors(openapi_core_spec().iter_response_errors(request, answer)) == _errors(
                plain_answers.iter_response_errors(request, answer))
    assert not _errors(published_request_spec().iter_request_errors(sent[2]))
    assert not _errors(openapi_core_spec().iter_response_errors(*answered[0]))
    assert all(_errors(published_request_spec().iter_request_errors(request)) for request in (sent[0], sent[1], sent[3]))
    assert all(_errors(openapi_core_spec().iter_response_errors(*pair)) for pair in answered[1:])
