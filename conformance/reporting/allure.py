"""Allure results extras: the environment of the run, the categories failures are sorted into, and one result
per requirement (its verdict and the check that decided it) beside the results of the tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

RESULTS_DIR = "allure-results"

CATEGORIES = [
    {"name": "Target broken (not a conformance verdict)", "matchedStatuses": ["broken", "failed"],
     "messageRegex": ".*(TargetError|the target (did not answer|could not be reached|answered 50[234]|kept "
                     "answering 429|redirects)|not JSON).*"},
    {"name": "Requirement failed (non-conformant)", "matchedStatuses": ["failed"]},
    {"name": "Not verified", "matchedStatuses": ["skipped"], "messageRegex": ".*not verified.*"},
    {"name": "Known deviation", "matchedStatuses": ["skipped"], "messageRegex": ".*(XFAIL|known deviation).*"},
    {"name": "Suite problem", "matchedStatuses": ["broken"]},
]


def results_dir(report_dir: Path) -> Path:
    """Where allure-pytest writes its results."""
    return report_dir / RESULTS_DIR


def write_extras(report_dir: Path, summary: dict[str, Any]) -> None:
    """environment.properties and categories.json next to the results (Allure reads both)."""
    folder = results_dir(report_dir)
    if not folder.is_dir():
        return
    target = summary.get("target", {})
    environment = {
        "suite.version": summary.get("suite_version"), "contract.version": summary.get("contract", {}).get("version"),
        "target": target.get("description"), "platform": target.get("platform_key"),
        "profile": summary.get("profile"), "seed": summary.get("seed"), "run.id": summary.get("run_id"),
        "verdict": summary.get("verdict"),
    }
    lines = [f"{key}={_escape(value)}" for key, value in environment.items()]
    (folder / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    for entry in summary.get("requirements", []):
        if entry["verdict"] not in ("not covered", "not selected"):
            result = requirement_result(entry, summary.get("run_id", ""))
            (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result) + "\n", encoding="utf-8")


STATUS = {"passed": "passed", "failed": "failed", "warning": "passed", "flaky": "failed", "known deviation": "skipped",
          "not verified": "skipped"}


def requirement_result(entry: dict[str, Any], run_id: str) -> dict[str, Any]:
    """An Allure result for one requirement: its verdict, grouped by area, topic and ID like its tests."""
    rid = entry["id"]
    status = STATUS.get(entry["verdict"], "unknown")
    if entry["verdict"] == "flaky" and entry.get("level") != "MUST":
        status = "passed"
    message = f"{entry['verdict']}: {entry.get('reason') or 'every check of it held'}"
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/{rid}")), "historyId": f"requirement/{rid}",
        "name": f"{rid}: {entry.get('title', '')}", "fullName": f"requirements.{rid}", "status": status,
        "statusDetails": {"message": message, "trace": f"decided by {entry.get('decided_by') or '-'}; tests: "
                                                       + ", ".join(entry.get("tests", []))},
        "labels": [{"name": "epic", "value": rid.split("-")[0]}, {"name": "feature", "value": rid.rsplit("-", 1)[0]},
                   {"name": "story", "value": rid}, {"name": "suite", "value": "requirements"},
                   {"name": "severity", "value": {"MUST": "critical", "SHOULD": "normal"}.get(entry.get("level", ""), "minor")},
                   {"name": "tag", "value": entry["verdict"]}],
        "parameters": [], "steps": [], "attachments": [],
    }


def _escape(value: Any) -> str:
    return str(value if value is not None else "none").replace("\\", "\\\\").replace("\n", " ")
