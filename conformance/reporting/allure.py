"""Allure results extras: the environment of the run and the categories failures are sorted into."""

from __future__ import annotations

import json
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


def _escape(value: Any) -> str:
    return str(value if value is not None else "none").replace("\\", "\\\\").replace("\n", " ")
