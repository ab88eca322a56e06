"""summary.json (a documented, versioned record of the run) and the closing lines on the terminal."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.results import (
    FAILED,
    FLAKY,
    KNOWN_DEVIATION,
    NOT_COVERED,
    NOT_SELECTED,
    NOT_VERIFIED,
    PASSED,
    WARNING,
    RunResult,
)
from conformance.spec.catalog import Catalog, load_catalog
from conformance.spec.loader import load_contract

if TYPE_CHECKING:
    import pytest

    from conformance.target import Target

SUMMARY_SCHEMA_VERSION = 1
VERDICTS = (PASSED, FAILED, WARNING, NOT_VERIFIED, NOT_COVERED, KNOWN_DEVIATION, FLAKY, NOT_SELECTED)


def suite_version() -> str:
    """The installed version of the suite."""
    try:
        return version("ibl-conformance")
    except PackageNotFoundError:
        return "unknown"


def run_verdict(result: RunResult) -> str:
    """conformant, non-conformant, or target broken."""
    if result.target_broken:
        return "target broken"
    return "non-conformant" if result.failing(load_catalog()) else "conformant"


def operations_section(stats: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Per operation: the generated cases sent, and the share of schema-valid cases answered 2xx."""
    out: dict[str, dict[str, Any]] = {}
    for entry in stats or []:
        row = out.setdefault(str(entry["operation"]), {"cases": 0, "schema_valid_cases": 0, "answered_2xx": 0,
                                                        "share_2xx": None, "documents_2xx": True, "by_kind": {}})
        cases = int(entry.get("cases", 0))
        kind = str(entry.get("kind", "?"))
        row["cases"] += cases
        row["by_kind"][kind] = row["by_kind"].get(kind, 0) + cases
        row["documents_2xx"] = bool(entry.get("documents_2xx", True))
        if kind == "positive":
            row["schema_valid_cases"] += cases
            share = entry.get("share_2xx")
            row["answered_2xx"] += round((share or 0) * cases)
    for row in out.values():
        if row["schema_valid_cases"]:
            row["share_2xx"] = round(row["answered_2xx"] / row["schema_valid_cases"], 4)
    return dict(sorted(out.items()))


def lowest_share(operations: dict[str, Any]) -> tuple[str, float] | None:
    """The operation (documenting a 2xx) whose schema-valid cases were least often answered 2xx."""
    rows = [(name, row["share_2xx"]) for name, row in operations.items()
            if row.get("share_2xx") is not None and row.get("documents_2xx", True)]
    return min(rows, key=lambda r: (r[1], r[0])) if rows else None


def build_summary(result: RunResult, target: Target, catalog: Catalog,
                  operations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The summary.json document."""
    contract = load_contract()
    settings = target.settings
    verdicts = result.verdicts(catalog)
    req_counts = {v: sum(1 for r in verdicts if r.verdict == v) for v in VERDICTS}
    observable = [r for r in verdicts if catalog.requirements[r.id].observable != "none"]
    covered = [r for r in observable if r.verdict != NOT_COVERED]
    return {
        "schema": "ibl-conformance/summary",
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suite_version": suite_version(),
        "run_id": target.run_id,
        "target": {"base_url": settings.base_url, "description": target.description, "embedded": target.embedded,
                   "platform_key": settings.platform_key, "probe": bool(settings.probe_url),
                   "read_only": settings.read_only},
        "profile": settings.profile,
        "workers": settings.workers,
        "seed": settings.seed if settings.seed is not None else (operations or [{}])[0].get("seed"),
        "contract": {"version": contract.version, "sha256": _digest(contract.path)},
        "catalog": {"sha256": _digest(catalog.path), "requirements": len(catalog.requirements)},
        "verdict": run_verdict(result),
        "counts": {"tests": result.counts(), "requirements": req_counts},
        "timings": dict(result.timings),
        "cleanup": {"problems": list(result.cleanup_problems),
                    "note": "objects the run created and could not undo; they stay in the ledger for the next run"
                    if result.cleanup_problems else ""},
        "coverage": {"observable": len(observable), "covered": len(covered),
                     "share": round(len(covered) / len(observable), 4) if observable else 1.0,
                     "gaps": [r.id for r in observable if r.verdict == NOT_COVERED]},
        "requirements": [
            {"id": v.id, "level": catalog.requirements[v.id].level, "title": catalog.requirements[v.id].title,
             "verdict": v.verdict, "reason": v.reason, "decided_by": v.decided_by, "checks": v.checks,
             "tests": list(v.tests), "readings": [{"name": r.name, "says": r.says} for r in catalog.requirements[v.id].readings],
             "observable": catalog.requirements[v.id].observable, "quote": catalog.requirements[v.id].quote,
             "ambiguity": catalog.requirements[v.id].ambiguity}
            for v in verdicts
        ],
        "tests": [{"nodeid": t.nodeid, "requirements": list(t.requirements), "outcome": t.outcome,
                   "message": t.message, "duration": round(t.duration, 4),
                   "checks": [{"requirement": c.requirement, "outcome": c.outcome, "message": c.message}
                              for c in t.checks]} for t in result.tests],
        **({"generation": _generation(operations), "operations": operations_section(operations)} if operations else {}),
    }


def _generation(stats: list[dict[str, Any]]) -> dict[str, Any]:
    first = stats[0]
    return {"profile": first.get("profile"), "seed": first.get("seed")}


def write_reports(result: RunResult, target: Target, config: pytest.Config,
                  operations: list[dict[str, Any]] | None = None) -> Path:
    """Write summary.json under the report dir; returns its path."""
    report_dir = Path(target.settings.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "summary.json"
    summary = build_summary(result, target, load_catalog(), operations)
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def terminal_lines(result: RunResult, target: Target, operations: list[dict[str, Any]] | None = None) -> list[str]:
    """The closing summary: per area, requirement verdicts; then the run's verdict."""
    catalog = load_catalog()
    verdicts = result.verdicts(catalog)
    areas: dict[str, dict[str, int]] = {}
    for v in verdicts:
        row = areas.setdefault(catalog.requirements[v.id].area, dict.fromkeys(VERDICTS, 0))
        row[v.verdict] += 1
    shown = [v for v in VERDICTS if v in (PASSED, FAILED, NOT_VERIFIED, NOT_COVERED)
             or any(row[v] for row in areas.values())]
    lines = ["", f"target: {target.description}   profile: {target.settings.profile}   run: {target.run_id}",
             f"{'area':<6}" + "".join(f"{v:>{len(v) + 2}}" for v in shown)]
    for area, row in sorted(areas.items()):
        lines.append(f"{area:<6}" + "".join(f"{row[v]:>{len(v) + 2}}" for v in shown))
    for v in verdicts:
        if v.verdict in (FAILED, WARNING):
            level = catalog.requirements[v.id].level
            lines.append(f"{v.verdict.upper()} {v.id} ({level}): {catalog.requirements[v.id].title} ({v.reason}) "
                         f"[{v.decided_by}]")
    if operations:
        section = operations_section(operations)
        sent = sum(row["cases"] for row in section.values())
        lowest = lowest_share(section)
        first = operations[0]
        line = (f"generated: {sent} cases over {len(section)} operations (profile {first.get('profile')}, "
                f"seed {first.get('seed')})")
        if lowest is not None:
            line += f"; lowest share of schema-valid cases answered 2xx: {lowest[1]:.0%} ({lowest[0]})"
        lines.append(line)
    if result.cleanup_problems:
        lines.append(f"cleanup: {len(result.cleanup_problems)} object(s) could not be undone (kept in the ledger for the "
                     f"next run); first: {result.cleanup_problems[0]}")
    if result.timings:
        t = result.timings
        lines.append(f"time: start-up {t['startup']:.1f} s, tests {t['tests_wall']:.1f} s (generated "
                     f"{t['generated_tests']:.1f} s, scenarios {t['scenarios']:.1f} s), cleanup {t['cleanup']:.1f} s")
    lines.append(f"verdict: {run_verdict(result)}")
    return lines


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
