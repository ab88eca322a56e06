"""The contract as the generated tests read it: its operations (JSON request bodies only), the published document
without the contract's additions, and which catalog requirements a generated test of an operation verifies."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import schemathesis
from jsonschema import FormatChecker
from jsonschema.protocols import Validator
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.deserializing.styles import StyleDeserializersFactory, style_deserializers
from openapi_core.deserializing.styles.deserializers import StyleDeserializer
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

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
RESOLVED_PARTS = 1 << 16  # more parts than the contract has: openapi-core resolves each part of it once


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
    """The contract as schemathesis reads it for schema-valid cases (see _drawn_from)."""
    return _drawn_from()


@lru_cache(maxsize=1)
def violating_schema() -> Any:
    """The contract as schemathesis reads it for schema-violating cases (see _drawn_from), with no extra parameters
    either: the published document lets a request carry query parameters and body fields it does not name, so a case
    that only added a name would reach the server breaking nothing and be set aside; so would one that broke only the
    Authorization header. Drawing such cases only costs time."""
    return _drawn_from(allow_extra_parameters=False)


def _drawn_from(**generation: Any) -> Any:
    """The contract as schemathesis reads it: JSON request bodies only, no security parameters, schemathesis' defaults
    otherwise (a schemathesis.toml in the folder a run starts from cannot change what is generated), and `generation`.
    Every caller sends its own Authorization header, or none, in place of a generated one, so a drawn header value
    would never reach the server: drawing one for each case only costs time."""
    schema = schemathesis.openapi.from_dict(json_bodies_only(contract_document()), config=schemathesis.Config())
    schema.config.generation.update(with_security_parameters=False, **generation)
    return schema


class SchemaValidatorsOnce(SchemaValidatorsFactory):
    """openapi-core's schema validators, each built once per schema of one document: openapi-core's own factory builds
    a new one (its format checker deep-copied, the schema's $refs resolved again) for every value it reads. A
    validator keeps no state between values, so one per schema gives the same verdicts."""

    def __init__(self, schema_validator_cls: type[Validator]) -> None:
        super().__init__(schema_validator_cls)
        self._built: dict[tuple[Any, ...], SchemaValidator] = {}

    def get_format_checker(self, format_validators: Any = None, extra_format_validators: Any = None) -> FormatChecker:
        """The validator class's format checker itself when nothing is added to it (a validator only reads it)."""
        if format_validators is None and extra_format_validators is None:
            return self.format_checker
        return super().get_format_checker(format_validators, extra_format_validators)

    def create(self, spec: SchemaPath, schema: SchemaPath, format_validators: Any = None,
               extra_format_validators: Any = None, forbid_unspecified_additional_properties: bool = False,
               enforce_properties_required: bool = False) -> SchemaValidator:
        if format_validators is not None or extra_format_validators is not None:
            return super().create(spec, schema, format_validators, extra_format_validators,
                                  forbid_unspecified_additional_properties, enforce_properties_required)
        key = (tuple(schema.parts), forbid_unspecified_additional_properties, enforce_properties_required)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().create(spec, schema, None, None, forbid_unspecified_additional_properties,
                                                      enforce_properties_required)
        return built


class StyleDeserializersOnce(StyleDeserializersFactory):
    """openapi-core's parameter deserializers, each built once per parameter of one document (see
    SchemaValidatorsOnce)."""

    def __init__(self, schema_casters_factory: SchemaCastersFactory) -> None:
        super().__init__(schema_casters_factory, style_deserializers=style_deserializers)
        self._built: dict[tuple[Any, ...], StyleDeserializer] = {}

    def create(self, spec: SchemaPath, schema: SchemaPath, style: str, explode: bool, name: str) -> StyleDeserializer:
        key = (tuple(schema.parts), style, explode, name)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().create(spec, schema, style, explode, name)
        return built


class PathFinderOnce(APICallPathFinder):
    """openapi-core's operation lookup, done once per (method, URL template): the suite gives openapi-core each
    request's path template, so the same few names come back, and openapi-core otherwise matches every path of the
    document against each again."""

    def __init__(self, spec: SchemaPath, base_url: str | None = None) -> None:
        super().__init__(spec, base_url=base_url)
        self._found: dict[tuple[str, str], PathOperationServer] = {}

    def find(self, method: str, name: str) -> PathOperationServer:
        found = self._found.get((method, name))
        if found is None:  # (a name not found raises each time)
            found = self._found[(method, name)] = super().find(method, name)
        return found


def reusing_config(schema_validator_cls: type[Validator]) -> Config:
    """openapi-core's configuration for one document whose validators, parameter deserializers and operation lookups
    are made once and reused: `schema_validator_cls` reads answers (OAS30ReadValidator) or requests
    (OAS30WriteValidator). The document is one load_contract validated (or a copy of one with parts taken out): not
    validated again."""
    validators = SchemaValidatorsOnce(schema_validator_cls)
    casters = SchemaCastersFactory(validators, oas30_write_schema_casters_factory.types_caster)  # (3.0's, reads' too)
    return Config(spec_validator_cls=None, schema_validators_factory=validators, schema_casters_factory=casters,
                  style_deserializers_factory=StyleDeserializersOnce(casters), path_finder_cls=PathFinderOnce)


def reusing_openapi(document: dict[str, Any], schema_validator_cls: type[Validator]) -> OpenAPI:
    """openapi-core's view of `document` that reads each of its parts once: every part it resolved ($refs followed) is
    kept (jsonschema-path keeps none by default, and openapi-core reads a parameter's name, place, style and schema
    from the document's root again for every request), and validators are reused (reusing_config)."""
    return OpenAPI(SchemaPath.from_dict(document, resolved_cache_maxsize=RESOLVED_PARTS),
                   config=reusing_config(schema_validator_cls))


@lru_cache(maxsize=1)
def openapi_core_spec() -> OpenAPI:
    """The contract as openapi-core reads it (for response validation with schema paths); load_contract validated it
    already."""
    return reusing_openapi(contract_document(), OAS30ReadValidator)


@lru_cache(maxsize=1)
def published_document() -> dict[str, Any]:
    """The contract without what it adds to the published document (conformance/properties/published.py)."""
    return without_additions(contract_document())


@lru_cache(maxsize=1)
def published_request_spec() -> OpenAPI:
    """The contract without its additions, as openapi-core reads it: a generated request is malformed only when
    it breaks this."""
    return reusing_openapi(published_document(), OAS30WriteValidator)


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
