"""Every request field of the vendor's published document is sent by a hand-written test the reference answered
2xx (issue 13, item 4): one ci run against a reference that logs what it receives (RequestLog, opt-in), compared
with the fields the published document declares (the contract without its additions: conformance/properties/
published.py). Only scenario requests count: the generated tests' random values are never checked for an effect.
Where each field's effect is observable is recorded on the requirements that send it (openapi/requirements.yaml,
notes starting "Request fields:")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import yaml

from conformance.properties.published import resolve, without_additions
from conformance.reference.server import ReceivedRequest
from tests.integration.conftest import ServedRun

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "ibl-data-manager.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
SCENARIO_AGENT = "ibl-conformance"  # generated requests say "ibl-conformance (generated)": random data, effect unchecked

Field = tuple[str, str]  # ("METHOD /path/{template}", "name"): "?name" a query parameter, "a[].b" a key of an array item

# The published document repeats each list's filters and pagination on the POST and DELETE of the same path
# (drf-spectacular's filter backends on one view); no document gives them a meaning on a write, which names its
# object by assignment_id / suggestion_id and its platform in the body.
_LIST_PARAMETERS = {  # by path: the same on its POST and its DELETE
    "/api/catalog/licenses/program/assignment/": ("active", "email", "fulfilled", "page", "page_size", "sort", "user_id"),
    "/api/catalog/licenses/program/assignment/group/": ("active", "fulfilled", "group_id", "page", "page_size", "sort"),
    "/api/catalog/licenses/user/assignment/": ("page", "page_size", "sort"),
    "/api/catalog/suggestions/program/manage/": ("page", "page_size", "query", "sort"),
    "/api/catalog/suggestions/program/manage/group/": ("page", "page_size", "query", "sort"),
}
_LIST_PARAMETERS_ON_WRITES = {f"{method} {path}": names for path, names in _LIST_PARAMETERS.items()
                              for method in ("POST", "DELETE")}
# The assignment POSTs name the platform in the body (platform_key and platform_org are sent there); the scenarios'
# assignment helpers send license_id alone in the query.
_PLATFORM_IN_THE_BODY = ("POST /api/catalog/licenses/program/assignment/",
                         "POST /api/catalog/licenses/program/assignment/group/",
                         "POST /api/catalog/licenses/user/assignment/")
# Fields a positive test deliberately never sends, with the reason.
NOT_SENT: dict[Field, str] = {
    **{(operation, f"?{name}"): "a list filter or pagination parameter repeated on a write: no documented meaning there"
       for operation, names in _LIST_PARAMETERS_ON_WRITES.items() for name in names},
    **{(operation, f"?{name}"): "the platform is named in the body (platform_key and platform_org are sent there)"
       for operation in _PLATFORM_IN_THE_BODY for name in ("platform_key", "platform_org")},
    ("POST /api/core/rbac/policies/", "users_to_remove"): "a new policy has no member to remove (sent on PUT and PATCH)",
    ("POST /api/core/rbac/policies/", "groups_to_remove"): "a new policy has no group to remove (sent on PUT and PATCH)",
}


def published_fields(document: dict[str, Any]) -> dict[str, set[str]]:
    """Every operation's request fields: query parameters, body properties (not read-only), and one level into
    arrays of objects."""
    fields: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                names = {f"?{resolve(document, p)['name']}" for p in item.get("parameters", []) + operation.get("parameters", [])
                         if resolve(document, p)["in"] == "query"}
                fields[f"{method.upper()} {path}"] = names | _body_fields(document, operation)
    return fields


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    body = resolve(document, operation.get("requestBody"))
    if not body:
        return set()
    schema = resolve(document, body["content"]["application/json"]["schema"])
    names: set[str] = set()
    for name, property_schema in schema.get("properties", {}).items():
        names.add(name)
        items = resolve(document, resolve(document, property_schema).get("items", {}))
        names |= {f"{name}[].{key}" for key in items.get("properties", {})}
    return names


def sent_fields(requests: Iterable[ReceivedRequest], operations: Iterable[str]) -> dict[str, set[str]]:
    """The fields of every scenario request answered 2xx, by the operation it matched."""
    matchers = _matchers(operations)
    sent: dict[str, set[str]] = {}
    for request in requests:
        if request.headers.get("user-agent") != SCENARIO_AGENT or not 200 <= request.status < 300:
            continue
        operation = _operation_of(request, matchers)
        if operation is not None:
            sent.setdefault(operation, set()).update(_fields_of(request))
    return sent


def _matchers(operations: Iterable[str]) -> list[tuple[str, str, re.Pattern[str]]]:
    """(method, operation, path pattern), the templates with fewer parameters first (a literal path wins)."""
    found = []
    for operation in operations:
        method, template = operation.split(" ", 1)
        pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
        found.append((template.count("{"), method, operation, pattern))
    return [(method, operation, pattern) for _, method, operation, pattern in sorted(found)]


def _operation_of(request: ReceivedRequest, matchers: list[tuple[str, str, re.Pattern[str]]]) -> str | None:
    for method, operation, pattern in matchers:
        if method == request.method and pattern.match(request.path):
            return operation
    return None


def _fields_of(request: ReceivedRequest) -> Iterator[str]:
    """Query parameter names, and a JSON body's keys (one level into arrays of objects)."""
    for name, _ in parse_qsl(request.query, keep_blank_values=True):
        yield f"?{name}"
    if not request.body or "application/json" not in request.headers.get("content-type", ""):
        return
    body = json.loads(request.body)
    if not isinstance(body, dict):
        return
    for name, value in body.items():
        yield name
        if isinstance(value, list):
            yield from {f"{name}[].{key}" for item in value if isinstance(item, dict) for key in item}


@pytest.fixture(scope="module")
def published() -> dict[str, set[str]]:
    """The published document's request fields: the contract without its additions (read-only fields dropped) declares
    the same 325 (operation, field) pairs as the vendor's published slice."""
    return published_fields(without_additions(yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def sent(served_ci_run: ServedRun, published: dict[str, set[str]]) -> dict[str, set[str]]:
    """What the scenarios of one ci run against the reference sent, by operation (the shared served run)."""
    done = served_ci_run.done
    assert done.code == 0, done.stdout + done.stderr
    return sent_fields(served_ci_run.requests, published)


def _pairs(fields: dict[str, set[str]]) -> set[Field]:
    return {(operation, name) for operation, names in fields.items() for name in names}


PUBLISHED_FIELD_COUNT = 325  # (operation, field) pairs of the vendor's published 4.90.4 slice, read-only fields left out


def test_the_contract_declares_every_published_request_field(published: dict[str, set[str]]) -> None:
    """A published field the contract drops, or marks as its own addition, would leave this coverage unseen."""
    assert len(published) == 37, sorted(published)
    assert len(_pairs(published)) == PUBLISHED_FIELD_COUNT


def test_every_published_request_field_is_sent_by_a_scenario(published: dict[str, set[str]],
                                                             sent: dict[str, set[str]]) -> None:
    missing = _pairs(published) - _pairs(sent) - set(NOT_SENT)
    assert not missing, "published request fields no scenario sent (answered 2xx):\n" + "\n".join(
        f"  {operation}  {name}" for operation, name in sorted(missing))


def test_each_field_listed_as_not_sent_is_published_and_unsent(published: dict[str, set[str]],
                                                               sent: dict[str, set[str]]) -> None:
    unpublished = set(NOT_SENT) - _pairs(published)
    assert not unpublished, f"listed as not sent but not published: {sorted(unpublished)}"
    now_sent = set(NOT_SENT) & _pairs(sent)
    assert not now_sent, f"listed as not sent but a scenario sends them (take them off NOT_SENT): {sorted(now_sent)}"
