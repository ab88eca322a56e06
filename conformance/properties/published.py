"""The contract without what it adds to the vendor's published document: what generated requests are judged by.

The contract marks each addition where it stands with `x-conformance-added` (see the contract's
info.x-differences). Additions may shape the schema-valid data the suite sends, but a generated
"negative" request is malformed only when it breaks what the published document states, so it is judged
against a copy of the contract with every addition to a request taken out:

- a string on a parameter (directly or through its $ref): the parameter is added; the copy drops it;
- a string on a property's schema: the property is added; the copy drops it and its `required` entry;
- a mapping on a schema names added keywords: `{minimum: why}` drops `minimum`; `{nullable: why}` makes the
  field nullable again; `{required: {field: why}}` drops those entries of `required`.

Read-only properties are taken out of the copy too: a request has no say in them, so a server may ignore
what is sent under their names.

A string anywhere else (a response, a status, a whole schema or branch) marks what the suite accepts beyond
the published document: it widens the answers accepted and never makes a request malformed, so the copy
keeps it. The copy is for judging requests only.
"""

from __future__ import annotations

import copy
from typing import Any

ADDED = "x-conformance-added"


def without_additions(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the contract `document` with every addition to a request taken out."""
    stripped = copy.deepcopy(document)
    _strip(stripped, stripped)
    return stripped


def added_marks(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every x-conformance-added mark of `document`: (where, the mark)."""
    found: list[tuple[str, Any]] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if ADDED in node:
                found.append((where, node[ADDED]))
            for key, value in node.items():
                visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}/{index}")

    visit(document, "#")
    return found


def resolve(root: dict[str, Any], node: Any) -> Any:
    """`node` with its local $ref followed (repeatedly) inside the document `root`."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = root
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _is_added_element(root: dict[str, Any], node: Any) -> bool:
    return isinstance(resolve(root, node), dict) and isinstance(resolve(root, node).get(ADDED), str)


def _strip(root: dict[str, Any], node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _strip(root, item)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("parameters"), list):
        node["parameters"] = [p for p in node["parameters"] if not _is_added_element(root, p)]
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name in [n for n, schema in properties.items() if isinstance(schema, dict) and isinstance(schema.get(ADDED), str)]:
            del properties[name]
            _drop_required(node, name)
        # A read-only property has no place in a request ("SHOULD NOT be sent"): a server may ignore whatever is
        # sent under its name (Django REST framework does), so a wrong value there does not make a request malformed.
        for name in [n for n, schema in properties.items() if isinstance(resolve(root, schema), dict)
                     and resolve(root, schema).get("readOnly") is True]:
            del properties[name]
            _drop_required(node, name)
    mark = node.get(ADDED)
    if isinstance(mark, dict):
        _drop_keywords(node, mark)
    for value in list(node.values()):
        _strip(root, value)


def _drop_keywords(schema: dict[str, Any], mark: dict[str, Any]) -> None:
    """Take the keywords a mapping mark names out of the schema it sits on."""
    for keyword, why in mark.items():
        if keyword == "required":
            for name in (why if isinstance(why, dict) else {}):
                _drop_required(schema, name)
        elif keyword == "nullable":  # the addition is "not nullable": the published field takes null
            schema["nullable"] = True
        else:
            schema.pop(keyword, None)


def _drop_required(schema: dict[str, Any], name: str) -> None:
    required = [r for r in schema.get("required", []) if r != name]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
