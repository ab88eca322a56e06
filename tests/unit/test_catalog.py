"""The requirement catalog (openapi/requirements.yaml) is well-formed.

Offline and fast: reads the YAML file only.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

CATALOG_PATH = Path(__file__).resolve().parents[2] / "openapi" / "requirements.yaml"

TOP_LEVEL_KEYS = {"version", "description", "sources", "operations", "requirements"}
REQUIRED_FIELDS = ("id", "level", "title", "operations", "source", "quote", "observable")
OPTIONAL_FIELDS = ("needs", "ambiguity", "note", "readings")
ID_PATTERN = re.compile(r"^[A-Z]+-[A-Z]+-\d{3}$")
LEVELS = {"MUST", "SHOULD", "MAY"}
OBSERVABLE = {"api", "probe", "none"}
NEEDS = {"dm_admin", "platform_admin", "other_platform_admin", "learner", "department_admin", "probe", "writes"}
AREAS = {"GEN", "CAT", "CRED", "CORE"}
DOCUMENT_SOURCES = {"docs-3.59.0", "docs-4.84.1", "published-4.90.4"}

COVERED_OPERATIONS = (
    "GET /api/catalog/licenses/program/",
    "POST /api/catalog/licenses/program/create/",
    "POST /api/catalog/licenses/program/update/",
    "GET /api/catalog/licenses/program/assignment/",
    "POST /api/catalog/licenses/program/assignment/",
    "DELETE /api/catalog/licenses/program/assignment/",
    "GET /api/catalog/licenses/program/assignment/group/",
    "POST /api/catalog/licenses/program/assignment/group/",
    "DELETE /api/catalog/licenses/program/assignment/group/",
    "GET /api/catalog/licenses/user/",
    "POST /api/catalog/licenses/user/create/",
    "POST /api/catalog/licenses/user/update/",
    "GET /api/catalog/licenses/user/assignment/",
    "POST /api/catalog/licenses/user/assignment/",
    "DELETE /api/catalog/licenses/user/assignment/",
    "GET /api/catalog/suggestions/program/manage/",
    "POST /api/catalog/suggestions/program/manage/",
    "DELETE /api/catalog/suggestions/program/manage/",
    "POST /api/catalog/suggestions/program/manage/bulk/",
    "GET /api/catalog/suggestions/program/manage/group/",
    "POST /api/catalog/suggestions/program/manage/group/",
    "DELETE /api/catalog/suggestions/program/manage/group/",
    "GET /api/core/rbac/policies/",
    "POST /api/core/rbac/policies/",
    "GET /api/core/rbac/policies/{id}/",
    "PUT /api/core/rbac/policies/{id}/",
    "PATCH /api/core/rbac/policies/{id}/",
    "DELETE /api/core/rbac/policies/{id}/",
    "GET /api/core/rbac/roles/",
    "POST /api/core/rbac/roles/",
    "GET /api/core/rbac/groups/",
    "POST /api/core/rbac/groups/",
    "GET /api/credentials/orgs/{org}/users/{user_id}/",
    "POST /api/credentials/orgs/{org}/users/{user_id}/",
    "GET /api/credentials/orgs/{org}/users/{user_id}/{entity_id}",
    "PUT /api/credentials/orgs/{org}/users/{user_id}/{entity_id}",
    "DELETE /api/credentials/orgs/{org}/users/{user_id}/{entity_id}",
)

LICENSE_UPDATE = "POST /api/catalog/licenses/program/update/"
ASSIGN = "POST /api/catalog/licenses/program/assignment/"
UNASSIGN = "DELETE /api/catalog/licenses/program/assignment/"
POLICY = "/api/core/rbac/policies/{id}/"

# IDs that scenario tests already use: (observable, operations the entry must name, words its title must hold).
FIXED = {
    "CAT-LICUPD-010": ("probe", {LICENSE_UPDATE}, ("history",)),
    "CAT-LICUPD-011": ("probe", {LICENSE_UPDATE}, ("change_type", "transaction_id")),
    "CAT-SEAT-001": ("api", {ASSIGN, UNASSIGN}, ("usage_count",)),
    "CAT-SEAT-002": ("api", {ASSIGN}, ("usage_count", "count", "4xx")),
    "CAT-SEAT-003": ("api", {UNASSIGN, ASSIGN}, ("seat",)),
    "CAT-PASG-005": ("api", {UNASSIGN}, ("assignment_id", "license_id", "200")),
    "CORE-RBAC-020": ("api", {"GET /api/core/rbac/policies/"}, ("internal",)),
    "CORE-RBAC-021": ("api", {f"GET {POLICY}"}, ("internal", "404")),
    "CORE-RBAC-022": ("api", {f"PUT {POLICY}", f"PATCH {POLICY}", f"DELETE {POLICY}"}, ("internal", "404", "unchanged")),
}

# Disagreements docs/behaviour.md resolves: each must be recorded in some requirement's ambiguity.
RECORDED_AMBIGUITIES = (
    "Api-Key",  # header prefix Api-Token vs Api-Key
    "401 or 403",  # RBAC documents only 403
    "next_page",  # catalog pagination link names
    "envelope",  # credentials envelope vs bare credential
    "program_key",  # program license create: program_id vs program_key
    "credential_id",  # credentials POST body readings
    "past the end",  # page beyond the last
    "while seats remain",  # group assignment with too few seats
    "remove_user_assignments",  # group assignment DELETE default
    "UUID4",  # PUT without a name
    "no 400",  # RBAC DELETE without platform_key
    "403 or 404",  # foreign objects, internal policies
)


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    assert CATALOG_PATH.is_file(), f"{CATALOG_PATH} is missing"
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "the catalog must be a YAML mapping"
    return data


@pytest.fixture(scope="module")
def requirements(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    reqs = catalog.get("requirements")
    assert isinstance(reqs, list) and reqs, "'requirements' must be a non-empty list"
    assert all(isinstance(r, dict) for r in reqs), "every requirement must be a mapping"
    return reqs


def _label(req: dict[str, Any], index: int) -> str:
    return str(req.get("id", f"requirements[{index}]"))


def test_top_level_keys(catalog: dict[str, Any]) -> None:
    assert set(catalog) == TOP_LEVEL_KEYS, f"top-level keys: {sorted(catalog)}"
    assert catalog["version"] == 1
    assert isinstance(catalog["description"], str) and catalog["description"].strip()


def test_sources_declared_with_descriptions(catalog: dict[str, Any]) -> None:
    sources = catalog["sources"]
    assert isinstance(sources, dict)
    assert DOCUMENT_SOURCES <= set(sources), f"missing sources: {DOCUMENT_SOURCES - set(sources)}"
    for name, text in sources.items():
        assert re.fullmatch(r"[a-z0-9.-]+", name), f"source name {name!r} is not a short name"
        assert isinstance(text, str) and text.strip(), f"source {name} has no description"


def test_operations_list_is_exactly_the_covered_operations(catalog: dict[str, Any]) -> None:
    operations = catalog["operations"]
    assert isinstance(operations, list)
    duplicates = [op for op, n in Counter(operations).items() if n > 1]
    assert not duplicates, f"operations listed twice: {duplicates}"
    assert set(operations) == set(COVERED_OPERATIONS), (
        f"missing: {sorted(set(COVERED_OPERATIONS) - set(operations))}; "
        f"unexpected: {sorted(set(operations) - set(COVERED_OPERATIONS))}"
    )
    assert len(operations) == 37


def test_every_requirement_has_the_required_fields(requirements: list[dict[str, Any]]) -> None:
    problems = []
    for i, req in enumerate(requirements):
        missing = [f for f in REQUIRED_FIELDS if f not in req]
        unknown = sorted(set(req) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
        if missing:
            problems.append(f"{_label(req, i)} lacks {missing}")
        if unknown:
            problems.append(f"{_label(req, i)} has unknown fields {unknown}")
        for field in ("id", "title", "source", "quote"):
            if field in req and not (isinstance(req[field], str) and req[field].strip()):
                problems.append(f"{_label(req, i)}: {field} must be a non-empty string")
        for field in ("ambiguity", "note"):
            if field in req and not (isinstance(req[field], str) and req[field].strip()):
                problems.append(f"{_label(req, i)}: {field}, when present, must be a non-empty string")
        ops = req.get("operations")
        if not (isinstance(ops, list) and ops and all(isinstance(o, str) for o in ops)):
            problems.append(f"{_label(req, i)}: operations must be a non-empty list of strings")
    assert not problems, "\n".join(problems)


def test_ids_are_unique_and_well_formed(requirements: list[dict[str, Any]]) -> None:
    ids = [str(r["id"]) for r in requirements]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not duplicates, f"duplicate IDs: {duplicates}"
    malformed = [i for i in ids if not ID_PATTERN.match(i)]
    assert not malformed, f"IDs not matching <AREA>-<TOPIC>-<NNN>: {malformed}"
    unknown_areas = sorted({i.split("-", 1)[0] for i in ids} - AREAS)
    assert not unknown_areas, f"unknown areas: {unknown_areas}"


def test_levels_and_observability_are_known(requirements: list[dict[str, Any]]) -> None:
    bad_level = [r["id"] for r in requirements if r["level"] not in LEVELS]
    bad_observable = [r["id"] for r in requirements if r["observable"] not in OBSERVABLE]
    assert not bad_level, f"level not in {sorted(LEVELS)}: {bad_level}"
    assert not bad_observable, f"observable not in {sorted(OBSERVABLE)}: {bad_observable}"


def test_needs_are_known_fixtures(requirements: list[dict[str, Any]]) -> None:
    problems = []
    for req in requirements:
        needs = req.get("needs", [])
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            problems.append(f"{req['id']}: needs must be a list of names")
            continue
        if set(needs) - NEEDS:
            problems.append(f"{req['id']}: unknown needs {sorted(set(needs) - NEEDS)}")
        if len(set(needs)) != len(needs):
            problems.append(f"{req['id']}: needs repeats a name")
        if req["observable"] == "probe" and "probe" not in needs:
            problems.append(f"{req['id']}: observable probe but 'probe' not in needs")
    assert not problems, "\n".join(problems)


def test_unobservable_requirements_say_why(requirements: list[dict[str, Any]]) -> None:
    silent = [r["id"] for r in requirements if r["observable"] == "none" and not (r.get("note") or r.get("ambiguity"))]
    assert not silent, f"observable none without a note or ambiguity saying why: {silent}"


def test_operations_are_declared(catalog: dict[str, Any], requirements: list[dict[str, Any]]) -> None:
    declared = set(catalog["operations"])
    problems = [
        f"{req['id']}: {op!r}" for req in requirements for op in req["operations"] if op not in declared
    ]
    assert not problems, "operations not in the top-level list:\n" + "\n".join(problems)
    repeated = [req["id"] for req in requirements if len(set(req["operations"])) != len(req["operations"])]
    assert not repeated, f"requirements naming an operation twice: {repeated}"


def test_sources_are_declared(catalog: dict[str, Any], requirements: list[dict[str, Any]]) -> None:
    declared = set(catalog["sources"])
    problems = []
    for req in requirements:
        name, _, ref = req["source"].partition(" ")
        if name not in declared:
            problems.append(f"{req['id']}: source {name!r} is not declared")
        elif not ref.strip():
            problems.append(f"{req['id']}: source {req['source']!r} names no operationId, schema or section")
    assert not problems, "\n".join(problems)


def test_every_operation_is_referenced(catalog: dict[str, Any], requirements: list[dict[str, Any]]) -> None:
    referenced = {op for req in requirements for op in req["operations"]}
    unreferenced = [op for op in catalog["operations"] if op not in referenced]
    assert not unreferenced, f"operations no requirement references: {unreferenced}"


@pytest.mark.parametrize("req_id", sorted(FIXED))
def test_fixed_ids_exist_with_their_meaning(requirements: list[dict[str, Any]], req_id: str) -> None:
    by_id = {r["id"]: r for r in requirements}
    assert req_id in by_id, f"{req_id} is used by scenario tests and must stay in the catalog"
    req = by_id[req_id]
    observable, operations, words = FIXED[req_id]
    assert req["observable"] == observable
    assert operations <= set(req["operations"]), f"{req_id} must name {sorted(operations - set(req['operations']))}"
    missing_words = [w for w in words if w.lower() not in req["title"].lower()]
    assert not missing_words, f"{req_id} title {req['title']!r} lacks {missing_words}"
    assert req["level"] == "MUST"


def test_fixed_ids_record_their_ambiguities(requirements: list[dict[str, Any]]) -> None:
    by_id = {r["id"]: r for r in requirements}
    assert "4xx" in (by_id["CAT-SEAT-002"].get("ambiguity") or "")
    assert "403" in (by_id["CORE-RBAC-022"].get("ambiguity") or "")


@pytest.mark.parametrize("marker", RECORDED_AMBIGUITIES)
def test_known_disagreements_are_recorded(requirements: list[dict[str, Any]], marker: str) -> None:
    texts = [r.get("ambiguity") or "" for r in requirements]
    assert any(marker in t for t in texts), f"no requirement records the ambiguity about {marker!r}"


def test_each_area_is_present(requirements: list[dict[str, Any]]) -> None:
    topics = {r["id"].rsplit("-", 1)[0] for r in requirements}
    expected = {
        "GEN-AUTH", "GEN-STATUS", "GEN-PAGE", "GEN-SCHEMA",
        "CAT-LICLIST", "CAT-LICCRE", "CAT-LICUPD", "CAT-SEAT", "CAT-PASG", "CAT-GASG", "CAT-ULIC", "CAT-UASG",
        "CAT-SUG", "CAT-SUGB", "CAT-SUGG",
        "CRED-CRUD", "CRED-LIST", "CORE-RBAC", "CORE-ROLE", "CORE-GRP",
    }
    assert expected <= topics, f"topics without requirements: {sorted(expected - topics)}"


def test_readings_name_reference_switches(requirements: list[dict[str, Any]]) -> None:
    """Every reading a requirement records is `default` or a switch of `conformance serve --readings`, once."""
    from conformance.reference.readings import SWITCH_NAMES

    for req in requirements:
        readings = req.get("readings") or []
        names = [reading["name"] for reading in readings]
        assert all(set(reading) == {"name", "says"} and reading["says"].strip() for reading in readings), req["id"]
        assert len(names) == len(set(names)), f"{req['id']} records a reading twice: {names}"
        unknown = sorted(set(names) - SWITCH_NAMES - {"default"})
        assert not unknown, f"{req['id']} records readings the reference does not serve: {unknown}"
        assert not names or "default" in names, f"{req['id']} records alternate readings but not the default one"


def test_every_switch_is_recorded_on_the_requirements_it_touches(requirements: list[dict[str, Any]]) -> None:
    """Each reference switch is named by the requirements it lists (and so by at least one)."""
    from conformance.reference.readings import SWITCHES

    recorded = {req["id"]: {reading["name"] for reading in req.get("readings") or []} for req in requirements}
    for switch in SWITCHES:
        assert switch.requirements, switch.name
        missing = [rid for rid in switch.requirements if switch.name not in recorded.get(rid, set())]
        assert not missing, f"reading {switch.name} touches {missing}, which do not record it"
