"""Differences between two versions of an OpenAPI contract, each flagged breaking or not for clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.spec.loader import Contract

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Change:
    """One difference; `breaking` when a client written for the old contract may fail on the new one."""

    operation: str
    where: str
    what: str
    breaking: bool

    def line(self) -> str:
        """One line for the terminal."""
        flag = "BREAKING" if self.breaking else "ok      "
        return f"{flag} {self.operation} {self.where}: {self.what}"


def diff(old: Contract, new: Contract) -> list[Change]:
    """Every change from `old` to `new`, breaking ones first."""
    before, after = _operations(old.document), _operations(new.document)
    changes = [Change(op, "", "operation removed", True) for op in sorted(set(before) - set(after))]
    changes += [Change(op, "", "operation added", False) for op in sorted(set(after) - set(before))]
    for op in sorted(set(before) & set(after)):
        changes += _compare_fields(op, "request", before[op][0], after[op][0], request=True)
        changes += _compare_fields(op, "response", before[op][1], after[op][1], request=False)
        changes += _compare_statuses(op, before[op][2], after[op][2])
    return sorted(changes, key=lambda c: (not c.breaking, c.operation, c.where))


Fields = dict[str, tuple[str, bool]]  # field path -> (type, required)


def _operations(document: dict[str, Any]) -> dict[str, tuple[Fields, Fields, set[str]]]:
    out: dict[str, tuple[Fields, Fields, set[str]]] = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            request: Fields = {}
            for param in [*shared, *op.get("parameters", [])]:
                param = _resolve(document, param)
                request[f"{param.get('in')}.{param.get('name')}"] = (_type(document, param.get("schema", {})),
                                                                   bool(param.get("required")))
            body = op.get("requestBody")
            if body:
                body = _resolve(document, body)
                for media_type in body.get("content", {}):  # a media type one side declares and the other not
                    request[f"media type {media_type}"] = ("declared", False)
                schema = body.get("content", {}).get("application/json", {}).get("schema", {})
                _flatten(document, schema, "body", bool(body.get("required")), request, 0)
            response: Fields = {}
            statuses = set(op.get("responses", {}))
            for status, answer in op.get("responses", {}).items():
                if str(status).startswith("2"):
                    schema = _resolve(document, answer).get("content", {}).get("application/json", {}).get("schema")
                    if schema:
                        _flatten(document, schema, f"{status}", True, response, 0)
            out[f"{method.upper()} {path}"] = (request, response, statuses)
    return out


def _flatten(document: dict[str, Any], schema: dict[str, Any], prefix: str, required: bool, out: Fields,
             depth: int) -> None:
    schema = _resolve(document, schema)
    out[prefix] = (_type(document, schema), required)
    if depth >= MAX_DEPTH:
        return
    for branch in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        _flatten(document, branch, prefix, required, out, depth + 1)
    needed = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        _flatten(document, sub, f"{prefix}.{name}", name in needed, out, depth + 1)
    if isinstance(schema.get("items"), dict):
        _flatten(document, schema["items"], f"{prefix}[]", True, out, depth + 1)


def _compare_fields(op: str, side: str, before: Fields, after: Fields, *, request: bool) -> list[Change]:
    changes = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            # a request field the server no longer reads, or a response field clients may rely on
            changes.append(Change(op, f"{side} {name}", "removed", not request or before[name][1]))
        elif name not in before:
            changes.append(Change(op, f"{side} {name}", "added" + (" (required)" if after[name][1] else ""),
                                  request and after[name][1]))
        else:
            (old_type, old_req), (new_type, new_req) = before[name], after[name]
            if old_type != new_type:
                changes.append(Change(op, f"{side} {name}", f"type {old_type} -> {new_type}", True))
            if old_req != new_req:
                tightened = new_req if request else not new_req
                changes.append(Change(op, f"{side} {name}", f"{'required' if old_req else 'optional'} -> "
                                      f"{'required' if new_req else 'optional'}", tightened))
    return changes


def _compare_statuses(op: str, before: set[str], after: set[str]) -> list[Change]:
    changes = [Change(op, f"status {s}", "no longer documented", False) for s in sorted(before - after)]
    changes += [Change(op, f"status {s}", "newly documented", False) for s in sorted(after - before)]
    return changes


def _resolve(document: dict[str, Any], node: Any) -> dict[str, Any]:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = _pointer(document, node["$ref"])
        seen += 1
    return node if isinstance(node, dict) else {}


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _type(document: dict[str, Any], schema: dict[str, Any]) -> str:
    schema = _resolve(document, schema)
    kind = str(schema.get("type", "any"))
    if schema.get("format"):
        kind += f"/{schema['format']}"
    return kind + ("?" if schema.get("nullable") else "")
