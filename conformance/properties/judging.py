"""Judging generated cases: how a request breaks the published document, and which requirement each failure of an
answer (schemathesis' checks, openapi-core's response validation) breaks; Findings collects them rule by rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from openapi_core.datatypes import RequestParameters
from requests.structures import CaseInsensitiveDict

from conformance.checks import check
from conformance.properties.contract import (
    BODY_ACCEPTED,
    CONTENT_TYPE,
    DOCUMENTED_STATUS,
    ENTITY_SCHEMAS,
    FORMATS,
    NESTED_POLICY_SCHEMA,
    QUERY_ACCEPTED,
    RBAC_QUERY_ACCEPTED,
    SCHEMA_REQUIREMENTS,
    SERVER_ERROR,
    covers,
    openapi_core_spec,
    published_document,
    published_request_spec,
)
from conformance.properties.published import resolve
from conformance.verdicts import not_verified

NESTED_POLICY_FIELDS = ("role", "platform", "users", "groups")
ACCEPTANCE_RULES = (QUERY_ACCEPTED, RBAC_QUERY_ACCEPTED, BODY_ACCEPTED)  # a served case that breaks the published document
REQUEST_FIELDS = ("method", "url", "headers", "files", "data", "params", "cookies", "json")
CONSTRAINTS = ("minLength", "maxLength", "pattern", "enum", "format", "minimum", "maximum", "minItems", "maxItems")
# Bodies the contract requires the union of two documented readings for (see docs/behaviour.md): a body that
# has every field one reading requires may rightly be accepted by a server that follows that reading.
READINGS: dict[str, tuple[frozenset[str], ...]] = {
    "POST /api/credentials/orgs/{org}/users/{user_id}/": (
        frozenset({"credential_id", "credential_url", "name", "revoked"}), frozenset({"name", "issuer"})),
    "POST /api/catalog/licenses/program/create/": (
        frozenset({"program_key", "name", "count", "started"}), frozenset({"platform_key", "program_id"})),
}


# ---- openapi-core's view of a request and an answer ---------------------------------------------

class _MultiDict(Mapping[str, Any]):
    """Query parameters as openapi-core reads them: the first value by name, every value by getlist."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> Any:
        return self._values[name][0]  # KeyError for a name not sent, as a mapping does

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getlist(self, name: str) -> list[Any]:
        return list(self._values.get(name, []))


class _CoreRequest:
    """A sent (prepared) request as openapi-core's request protocol wants it, its path template given (the
    contract's servers need not match the target's URL); blank query values kept (a blank value can break a
    published constraint)."""

    def __init__(self, request: Any, path_pattern: str, path_parameters: dict[str, Any]) -> None:
        parts = urlsplit(request.url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.method = request.method.lower()
        self.body = request.body if isinstance(request.body, bytes) or request.body is None else \
            str(request.body).encode()
        self.content_type = str(request.headers.get("Content-Type", "application/json")).lower()
        self.parameters = RequestParameters(query=_MultiDict(parse_qsl(parts.query, keep_blank_values=True)),
                                            header=CaseInsensitiveDict(dict(request.headers)), path=dict(path_parameters))
        self.path_pattern = path_pattern


class _CoreResponse:
    """Schemathesis' response as openapi-core's response protocol wants it."""

    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.headers = CaseInsensitiveDict({k: ", ".join(v) for k, v in response.headers.items()})
        self.content_type = self.headers.get("content-type", "")


# ---- how a request breaks the published document ------------------------------------------------

def one_reading_accepts(label: str, body: Any) -> bool:
    """True when a 'negative' body still has every field that one documented reading requires."""
    readings = READINGS.get(label)
    return bool(readings) and isinstance(body, dict) and any(reading <= body.keys() for reading in readings)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request breaks the published document: where (query, path, header, body) and which part."""

    location: str
    name: str = ""
    required: bool = False  # a required parameter (a write's optional query parameters are list filters)


def _parameters(label: str) -> Iterator[dict[str, Any]]:
    """The published parameters of the operation `label`, $refs followed."""
    document = published_document()
    method, path = label.split(" ", 1)
    item = document["paths"][path]
    for param in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]:
        yield resolve(document, param)


def _required_parameter(label: str, location: str, name: str) -> bool:
    for param in _parameters(label):
        if param.get("in") == location and param.get("name") == name:
            return bool(param.get("required"))
    return location == "path"


def request_violations(case: Any, caller: Any) -> list[Violation]:
    """How the request as it will be sent (the caller's key included) breaks the published document: a generated
    'negative' case whose only violation was dropped on the way (a missing Authorization header the caller fills
    in), or that breaks only what the contract adds (x-conformance-added), breaks nothing and proves nothing."""
    headers = {"Authorization": caller.header} if caller.header else {}
    data = case.as_transport_kwargs(base_url=caller.base_url, headers=headers)
    prepared = requests.Request(**{k: v for k, v in data.items() if k in REQUEST_FIELDS}).prepare()
    request = _CoreRequest(prepared, case.operation.path, case.path_parameters or {})
    label = case.operation.label
    found: list[Violation] = []
    for error in published_request_spec().iter_apicall_request_errors(request):  # (an API call: no webhook check)
        inner = list(getattr(error, "errors", None) or [error])
        for item in inner:
            location, name = getattr(item, "location", None), getattr(item, "name", None)
            if location and name:
                found.append(Violation(str(location), str(name), _required_parameter(label, str(location), str(name))))
            elif "Body" in type(item).__name__:
                found.append(Violation("body"))
            else:
                found.append(Violation("other", type(item).__name__))
    return found


WRONG_TYPE = {"integer": "not-a-number", "number": "not-a-number", "boolean": "not-a-boolean"}
NOT_AN_OBJECT = ["not", "an", "object"]


def broken_by_hand(case: Any, rule: str) -> Any | None:
    """A copy of a sent schema-violating case with the part `rule` judges broken once more by hand: a query parameter
    the rule counts given a value of the wrong type, or a body that is not an object. Which parts a few drawn cases
    break is up to the draw (fill_negative points valid identifiers at the run's own objects, so a broken required
    identifier is rare); this gives each acceptance rule of an operation a case whatever was drawn. None when the
    published document gives that part nothing of a type to break."""
    label = case.operation.label
    if rule == BODY_ACCEPTED:
        schema = resolve(published_document(), _body_schema(label))
        return _remade(case, body=list(NOT_AN_OBJECT)) if schema and schema.get("type", "object") == "object" else None
    for param in _parameters(label):
        schema = resolve(published_document(), param.get("schema", {}))
        wrong = WRONG_TYPE.get(schema.get("type", "string"))
        if param.get("in") == "query" and wrong and acceptance_requirement(
                label, Violation("query", param["name"], bool(param.get("required")))) == rule:
            return _remade(case, query={**(case.query or {}), param["name"]: wrong})
    return None


def _remade(case: Any, **changes: Any) -> Any:
    """A new case of the same operation with the parts of `case`, some of them changed (schemathesis' public
    `APIOperation.Case`)."""
    parts = {"path_parameters": case.path_parameters, "headers": case.headers, "cookies": case.cookies,
             "query": case.query, "body": case.body, "media_type": case.media_type}
    return case.operation.Case(method=case.method, **{**parts, **changes})


def _body_schema(label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    content = published_document()["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    return next(iter(content.values()), {}).get("schema", {}) if isinstance(content, dict) else {}


def can_be_malformed(label: str) -> bool:
    """True when the published document gives a request of this operation something to break: a body, a
    required query parameter, or a parameter with a type or constraint beyond a free-form string."""
    document = published_document()
    method, path = label.split(" ", 1)
    if document["paths"][path][method.lower()].get("requestBody"):
        return True
    for param in _parameters(label):
        schema = resolve(document, param.get("schema", {}))
        if param.get("in") == "query" and param.get("required"):
            return True
        if param.get("in") in ("query", "path") and (schema.get("type", "string") != "string"
                                                     or any(k in schema for k in CONSTRAINTS)):
            return True
    return False


def acceptance_requirement(label: str, violation: Violation) -> str | None:
    """The requirement an accepted (2xx) request with this violation breaks; None where no document says it
    must be refused (a path value, an optional filter of a write, an operation no such requirement names)."""
    if violation.location == "query":
        if covers(RBAC_QUERY_ACCEPTED, label):
            return RBAC_QUERY_ACCEPTED
        if covers(QUERY_ACCEPTED, label) and (label.startswith("GET ") or violation.required):
            return QUERY_ACCEPTED
    if violation.location == "body" and covers(BODY_ACCEPTED, label):
        return BODY_ACCEPTED
    return None


# ---- which requirement a broken answer breaks ----------------------------------------------------

def openapi_core_findings(case: Any, response: Any) -> list[tuple[str, str]]:
    """openapi-core's verdict on a 2xx answer: (the requirement each failure breaks, its description)."""
    label = case.operation.label
    request = _CoreRequest(response.request, case.operation.path, case.path_parameters or {})
    try:
        openapi_core_spec().validate_apicall_response(request, _CoreResponse(response))  # (no webhook check)
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__
        errors = getattr(exc, "schema_errors", None) or getattr(cause, "schema_errors", None) or []
        if errors:
            rid = schema_requirement(label, list(getattr(errors[0], "absolute_path", []) or []),
                                     str(getattr(errors[0], "validator", "")))
        elif "MediaType" in type(exc).__name__ or "MediaType" in type(cause).__name__:
            rid = CONTENT_TYPE
        else:
            rid = schema_requirement(label, [], "")
        return [(rid, _describe_core_error(exc))]
    return []


def schema_requirement(label: str, instance_path: list[Any], keyword: str) -> str:
    """The requirement an answer that breaks its schema at `instance_path` (by `keyword`) violates: a format
    (GEN-SCHEMA-016), a policy's nested objects (GEN-SCHEMA-015), or the schema of the operation's objects."""
    if keyword == "format" and covers(FORMATS, label):
        return FORMATS
    names = [str(p) for p in instance_path]
    nested = [i for i, name in enumerate(names) if name in NESTED_POLICY_FIELDS]
    if nested and nested[0] < len(names) - 1 and covers(NESTED_POLICY_SCHEMA, label):
        return NESTED_POLICY_SCHEMA
    own = [rid for rid in ENTITY_SCHEMAS if covers(rid, label)]
    if own:
        return own[0]
    return next((rid for rid in SCHEMA_REQUIREMENTS if covers(rid, label)), DOCUMENTED_STATUS)


def check_findings(case_failures: Any, label: str) -> list[tuple[str, str]]:
    """Schemathesis' check failures of one answer, each with the requirement it breaks."""
    out: list[tuple[str, str]] = []
    for failure in case_failures:
        name = type(failure).__name__
        if name == "JsonSchemaError":
            path = list(getattr(failure, "instance_path", []) or [])
            schema_path = list(getattr(failure, "schema_path", []) or [])
            rid = schema_requirement(label, path, str(schema_path[-1]) if schema_path else "")
        elif name in ("ServerError",):
            rid = SERVER_ERROR
        elif "ContentType" in name or "MalformedMediaType" in name or "MissingContentType" in name:
            rid = CONTENT_TYPE
        elif "Status" in name:
            rid = DOCUMENTED_STATUS
        elif name in ("MalformedJson", "ContentDeserializationError"):
            rid = schema_requirement(label, [], "")
        else:
            rid = DOCUMENTED_STATUS
        out.append((rid, _first_lines(str(failure))))
    return out


def check_failures(case: Any, response: Any, checks: list[Callable[..., Any]]) -> list[Any]:
    """Schemathesis' checks (public `Case.validate_response`): the failure objects (empty when every check held)."""
    try:
        case.validate_response(response, checks=checks)
    except BaseException as exc:  # FailureGroup (an ExceptionGroup) or a single check failure
        return list(getattr(exc, "exceptions", None) or [exc])
    return []


def _first_lines(text: str, limit: int = 12) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[:limit])


def _describe_core_error(exc: Exception) -> str:
    messages = [f"openapi-core: {exc.__class__.__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    errors = getattr(exc, "schema_errors", None) or getattr(cause, "schema_errors", None) or []
    for error in list(errors)[:5]:
        where = "/".join(str(p) for p in getattr(error, "absolute_path", []) or [])
        schema_path = "/".join(str(p) for p in getattr(error, "absolute_schema_path", []) or [])
        messages.append(f"  body at /{where}: {getattr(error, 'message', error)} (schema path {schema_path})")
    if not errors and cause is not None:
        messages.append(f"  {cause.__class__.__name__}: {cause}")
    return "\n    ".join(messages)


class Findings:
    """What the generated cases of one test showed, rule by rule: how many cases each requirement's rule judged,
    and the cases that broke it. Nothing is raised while cases are sent, so every case is judged on every rule
    (a broken rule never stops the others) and the ci profile draws the same cases whatever the target answers."""

    def __init__(self, requirements: tuple[str, ...]) -> None:
        self.requirements = requirements
        self.judged: Counter[str] = Counter()
        self.failures: dict[str, list[str]] = {}

    def judge(self, requirement: str, problem: str | None) -> None:
        """One case judged on `requirement`'s rule; `problem` when it broke it."""
        if requirement not in self.requirements:
            return
        self.judged[requirement] += 1
        if problem:
            self.failures.setdefault(requirement, []).append(problem)

    def unjudged_acceptance(self) -> list[str]:
        """The test's acceptance rules no case has judged yet."""
        return [rid for rid in ACCEPTANCE_RULES if rid in self.requirements and not self.judged[rid]]

    def report(self, unjudged: str) -> None:
        """One check per requirement of the test: failed with its first broken case, passed when cases were
        judged and none broke it, not verified (`unjudged`) when no case came to its rule."""
        for requirement in self.requirements:
            with check(requirement):
                broken = self.failures.get(requirement)
                if broken:
                    more = f"\n  ({len(broken) - 1} more case(s) broke it)" if len(broken) > 1 else ""
                    raise AssertionError(broken[0] + more)
                if not self.judged[requirement]:
                    not_verified(unjudged)
