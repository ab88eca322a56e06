"""Malformed input is refused with 400 and changes nothing: broken JSON, wrong query and body types."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client.objects import Objects
from conformance.client.session import Exchange
from conformance.scenarios.answers import expect_status
from conformance.scenarios.operation_requests import Requests, Shared
from conformance.spec.catalog import load_catalog
from conformance.spec.loader import load_contract
from conformance.verdicts import not_verified

WRONG_QUERY = {"integer": "abc", "boolean": "maybe"}
WRONG_BODY = {"integer": "many", "boolean": "perhaps", "array": 5, "object": "not-an-object"}


def _ops(requirement: str) -> list[str]:
    return sorted(load_catalog().requirements[requirement].operations)


def _operation(operation: str) -> dict[str, Any]:
    method, _, path = operation.partition(" ")
    return dict(load_contract().document["paths"][path][method.lower()])


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    document = load_contract().document
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    for branch in node.get("allOf", []):
        return _resolve(branch)
    return node


def _typed_query_param(operation: str) -> tuple[str, str] | None:
    """A query parameter documented as integer or boolean: (name, type). On writes only a required one counts:
    the optional ones there are list filters copied onto the operation, which a server may rightly ignore."""
    typed = []
    for param in _operation(operation).get("parameters", []):
        param = _resolve(param)
        kind = _resolve(param.get("schema", {})).get("type")
        if param.get("in") == "query" and kind in WRONG_QUERY:
            typed.append((not param.get("required", False), str(param["name"]), str(kind)))
    if not typed:
        return None
    optional, name, kind = min(typed)
    return None if optional and not operation.startswith("GET ") else (name, kind)


def _typed_body_field(operation: str, body: dict[str, Any]) -> tuple[str, str] | None:
    """A writable body field whose documented type a wrong value can contradict (one the request sends, if any)."""
    content = _operation(operation).get("requestBody", {}).get("content", {}).get("application/json", {})
    properties = _resolve(content.get("schema", {})).get("properties", {})
    candidates = [*body, *(name for name in properties if name not in body)]
    for name in candidates:
        raw = properties.get(name, {})
        schema = _resolve(raw)
        if schema.get("type") in WRONG_BODY and not raw.get("readOnly") and not schema.get("readOnly"):
            return name, str(schema["type"])
    return None


def _refused_and_unchanged(prepared: Any, exchange: Exchange, before: Any, why: str, *also: int) -> None:
    expect_status(exchange, 400, *also, why=why)
    after = prepared.state()
    assert after == before, f"{prepared.operation}: a refused malformed request changed the target's state"


@pytest.mark.requirement("GEN-STATUS-003")
@pytest.mark.parametrize("operation", _ops("GEN-STATUS-003"))
def test_a_body_that_is_not_json_is_refused(operation: str, objects: Objects, shared_objects: Shared) -> None:
    prepared = Requests(objects, shared_objects).prepare(operation)
    before = prepared.state()
    exchange = objects.admin.request(prepared.method, prepared.path, params=prepared.params,
                                     raw_body=b'{"name": "conformance", "count": ')
    prepared.succeeded(exchange)
    _refused_and_unchanged(prepared, exchange, before, "the body is not valid JSON")


@pytest.mark.parametrize("operation", [pytest.param(op, marks=pytest.mark.requirement(req))
                                       for req in ("GEN-STATUS-004", "GEN-STATUS-008") for op in _ops(req)])
def test_a_query_parameter_of_the_wrong_type_is_refused(operation: str, objects: Objects,
                                                        shared_objects: Shared) -> None:
    found = _typed_query_param(operation)
    if found is None:
        not_verified(f"{operation} has no required integer or boolean query parameter to send wrong")
    name, kind = found
    prepared = Requests(objects, shared_objects).prepare(operation)
    before = prepared.state()
    params = {**(prepared.params or {}), name: WRONG_QUERY[kind]}
    exchange = objects.admin.request(prepared.method, prepared.path, params=params, json_body=prepared.body)
    prepared.succeeded(exchange)
    # an identifier that cannot name anything may also be reported as naming nothing, where 404 is documented
    also = (404,) if name.endswith("_id") and "404" in map(str, _operation(operation).get("responses", {})) else ()
    _refused_and_unchanged(prepared, exchange, before, f"{name} is documented as {kind}", *also)


@pytest.mark.requirement("GEN-STATUS-005")
@pytest.mark.parametrize("operation", _ops("GEN-STATUS-005"))
def test_a_body_field_of_the_wrong_type_is_refused(operation: str, objects: Objects, shared_objects: Shared) -> None:
    prepared = Requests(objects, shared_objects).prepare(operation)
    assert isinstance(prepared.body, dict), f"{operation}: the prepared request has no JSON object body"
    found = _typed_body_field(operation, prepared.body)
    assert found is not None, f"{operation}: no field of the prepared body has a type to contradict"
    name, kind = found
    before = prepared.state()
    exchange = objects.admin.request(prepared.method, prepared.path, params=prepared.params,
                                     json_body={**prepared.body, name: WRONG_BODY[kind]})
    prepared.succeeded(exchange)
    _refused_and_unchanged(prepared, exchange, before, f"{name} is documented as {kind}")


@pytest.mark.requirement("GEN-STATUS-001")
def test_refusals_of_malformed_input_explain_themselves(objects: Objects, shared_objects: Shared) -> None:
    requests = Requests(objects, shared_objects)
    answers = []
    for operation in _ops("GEN-STATUS-003")[:4]:
        prepared = requests.prepare(operation)
        answers.append(objects.admin.request(prepared.method, prepared.path, params=prepared.params,
                                             raw_body=b"{not json"))
    for exchange in answers:
        assert 400 <= exchange.status < 500, f"{exchange.operation}: expected a refusal\n{exchange.describe()}"
        body = exchange.json()
        assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], \
            f"{exchange.operation}: a 4xx answer should be a JSON object with a string 'detail'\n{exchange.describe()}"
