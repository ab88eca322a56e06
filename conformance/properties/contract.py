"""The contract as the generated tests read it: its operations (JSON request bodies only), the published document
without the contract's additions, and which catalog requirements a generated test of an operation verifies."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import schemathesis
from openapi_core import Config, OpenAPI

from conformance.properties.published import without_additions
from conformance.spec.catalog import load_catalog
from conformance.spec.loader import load_contract

ENTITY_SCHEMAS = tuple(f"GEN-SCHEMA-{n:03d}" for n in range(1, 13))  # the answer schema of each kind of object
NESTED_POLICY_SCHEMA = "GEN-SCHEMA-015"  # a policy's role, platform, users and groups
FORMATS = "GEN-SCHEMA-016"
CONTENT_TYPE = "GEN-SCHEMA-017"
NULL_WHEN_NOT_SENT = {"expired": "GEN-SCHEMA-013", "external_id": "GEN-SCHEMA-014"}
SCHEMA_REQUIREMENTS = (*ENTITY_SCHEMAS, NESTED_POLICY_SCHEMA, FORMATS, CONTENT_TYPE)
SERVER_ERROR = "GEN-STATUS-007"
DOCUMENTED_STATUS = "GEN-STATUS-002"
# an accepted (2xx) request that breaks the published document, by where it breaks it
QUERY_ACCEPTED, RBAC_QUERY_ACCEPTED, BODY_ACCEPTED = "GEN-STATUS-004", "GEN-STATUS-008", "GEN-STATUS-005"
RBAC_PREFIX = "/api/core/rbac/"
JSON = "application/json"
# openapi-core reads documents load_contract validated (or a copy of one with parts taken out): not again
UNVALIDATED = Config(spec_validator_cls=None)


def contract_document() -> dict[str, Any]:
    """The contract as parsed YAML: the run's contract, read and validated once per process (never changed here:
    every view of it below is a copy)."""
    return load_contract().document


def json_bodies_only(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` whose request bodies offer JSON alone where they offer it: generated cases go out as JSON.
    The contract also declares the published form and multipart media types; those encodings have their own scenario
    (test_media_types)."""
    copied = copy.deepcopy(document)
    for item in copied.get("paths", {}).values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content") if isinstance(operation, dict) else None
            if isinstance(content, dict) and JSON in content:
                for media_type in [m for m in content if m != JSON]:
                    del content[media_type]
    return copied


@lru_cache(maxsize=1)
def contract_schema() -> Any:
    """The contract as schemathesis reads it, with JSON request bodies only (and schemathesis' defaults: a
    schemathesis.toml in the folder a run starts from cannot change what is generated)."""
    return schemathesis.openapi.from_dict(json_bodies_only(contract_document()), config=schemathesis.Config())


@lru_cache(maxsize=1)
def violating_schema() -> Any:
    """The contract as schemathesis reads it for schema-violating cases: JSON request bodies only, no security
    parameters. Every caller puts its own Authorization header in place of a generated one, so a case that broke only
    that header would reach the server breaking nothing and be set aside: drawing such cases only costs time."""
    schema = schemathesis.openapi.from_dict(json_bodies_only(contract_document()), config=schemathesis.Config())
    schema.config.generation.update(with_security_parameters=False)
    return schema


@lru_cache(maxsize=1)
def openapi_core_spec() -> OpenAPI:
    """The contract as openapi-core reads it (for response validation with schema paths); load_contract validated it
    already."""
    return OpenAPI.from_dict(contract_document(), config=UNVALIDATED)


@lru_cache(maxsize=1)
def published_document() -> dict[str, Any]:
    """The contract without what it adds to the published document (conformance/properties/published.py)."""
    return without_additions(contract_document())


@lru_cache(maxsize=1)
def published_request_spec() -> OpenAPI:
    """The contract without its additions, as openapi-core reads it: a generated request is malformed only when
    it breaks this."""
    return OpenAPI.from_dict(published_document(), config=UNVALIDATED)


@lru_cache(maxsize=1)
def operations() -> dict[str, Any]:
    """Every operation of the contract by its label ("METHOD /path")."""
    return _by_label(contract_schema())


@lru_cache(maxsize=1)
def violating_operations() -> dict[str, Any]:
    """Every operation of the contract by its label, as schema-violating cases are drawn from it."""
    return _by_label(violating_schema())


def _by_label(schema: Any) -> dict[str, Any]:
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


def operation_ids() -> list[tuple[str, str]]:
    """(label, operationId) of every operation, in contract order."""
    return [(label, op.definition.raw.get("operationId", label)) for label, op in operations().items()]


def covers(rid: str, label: str) -> bool:
    """True when catalog requirement `rid` names the operation `label`."""
    catalog = load_catalog()
    return rid in catalog.requirements and label in catalog.requirements[rid].operations


def requirements_for(label: str, kind: str) -> tuple[str, ...]:
    """The catalog entries a generated test of this operation verifies."""
    if kind == "positive":
        ids = [DOCUMENTED_STATUS, SERVER_ERROR]  # not GEN-AUTH-004 (MAY): a 401 makes the case not verified
        ids += [rid for rid in SCHEMA_REQUIREMENTS if covers(rid, label)]
        if label.endswith("/create/"):
            ids += [rid for rid in NULL_WHEN_NOT_SENT.values() if covers(rid, label)]
        return tuple(ids)
    if kind == "negative":
        return (SERVER_ERROR, DOCUMENTED_STATUS,
                *(rid for rid in (QUERY_ACCEPTED, RBAC_QUERY_ACCEPTED, BODY_ACCEPTED) if covers(rid, label)))
    if kind == "auth":
        if is_rbac(label):  # not GEN-AUTH-007 (SHOULD): the 401 body has its own scenario test
            return ("GEN-AUTH-006",)
        return ("GEN-AUTH-001", "GEN-AUTH-002")
    raise ValueError(kind)


def is_rbac(label: str) -> bool:
    """True for the RBAC operations (they document 403, not 401, for a refused caller)."""
    return label.split(" ", 1)[1].startswith(RBAC_PREFIX)


def documents_2xx(label: str) -> bool:
    """True when the operation documents a success status."""
    return any(str(code).startswith("2") for code in operations()[label].definition.raw.get("responses", {}))
