"""Spec diff: added/removed operations, parameters and fields, required-ness and type changes, breaking flags."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from conformance.spec.diff import diff
from conformance.spec.loader import Contract, default_contract_path


def contract() -> Contract:
    return Contract(Path("x"), yaml.safe_load(default_contract_path().read_text()))


def test_identical_contracts_have_no_changes() -> None:
    assert diff(contract(), contract()) == []


def test_changes_are_found_and_flagged() -> None:
    old = contract()
    doc = copy.deepcopy(old.document)
    del doc["paths"]["/api/core/rbac/roles/"]
    groups = doc["paths"]["/api/core/rbac/groups/"]["get"]
    groups["parameters"].append({"in": "query", "name": "mandatory", "required": True, "schema": {"type": "string"}})
    policy = doc["paths"]["/api/core/rbac/policies/{id}/"]["delete"]
    for param in policy["parameters"]:
        if param.get("name") == "platform_key":
            param["required"] = False
    new = Contract(Path("y"), doc)
    changes = {(c.operation, c.where, c.what): c.breaking for c in diff(old, new)}
    assert changes[("GET /api/core/rbac/roles/", "", "operation removed")] is True
    assert changes[("GET /api/core/rbac/groups/", "request query.mandatory", "added (required)")] is True
    assert changes[("DELETE /api/core/rbac/policies/{id}/", "request query.platform_key", "required -> optional")] is False
    reverse = {(c.operation, c.where, c.what): c.breaking for c in diff(new, old)}
    assert reverse[("GET /api/core/rbac/roles/", "", "operation added")] is False
    assert reverse[("DELETE /api/core/rbac/policies/{id}/", "request query.platform_key", "optional -> required")] is True


def test_response_field_type_change_is_breaking() -> None:
    old = contract()
    doc = copy.deepcopy(old.document)
    doc["components"]["schemas"]["Credential"]["properties"]["revoked"] = {"type": "string"}
    found = [c for c in diff(old, Contract(Path("y"), doc)) if c.where.endswith(".revoked") and "type" in c.what]
    assert found and all(c.breaking for c in found)
