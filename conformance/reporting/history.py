"""Run history: each run's summary kept under history/, and what changed between runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import UsageError

HISTORY_DIR = "history"
KEEP = 200  # runs kept; older ones are removed


def history_dir(report_dir: Path) -> Path:
    """Where the run history lives."""
    return report_dir / HISTORY_DIR


def append(report_dir: Path, summary: dict[str, Any]) -> Path:
    """Keep a compact copy of this run's summary; drop the oldest beyond KEEP."""
    folder = history_dir(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = summary["generated_at"].replace(":", "").replace("-", "")
    path = folder / f"{stamp}-{summary['run_id']}.json"
    compact = {key: summary[key] for key in ("schema_version", "generated_at", "run_id", "target", "profile", "seed",
                                              "verdict", "counts", "coverage") if key in summary}
    compact["requirements"] = {r["id"]: r["verdict"] for r in summary["requirements"]}
    compact["tests"] = {t["nodeid"]: t["outcome"] for t in summary.get("tests", [])}
    path.write_text(json.dumps(compact, indent=1) + "\n", encoding="utf-8")
    for old in runs(report_dir)[:-KEEP]:
        old.unlink()
    return path


def runs(report_dir: Path) -> list[Path]:
    """Every kept run, oldest first."""
    folder = history_dir(report_dir)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load(path: Path) -> dict[str, Any]:
    """One kept run (or a full summary.json), as {requirements: {id: verdict}, ...}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"run file {path} does not exist") from None
    except ValueError:
        raise UsageError(f"run file {path} is not JSON: give a summary.json or a file from history/") from None
    if not isinstance(data, dict) or "requirements" not in data:
        raise UsageError(f"run file {path} is not a run summary (no 'requirements')")
    if isinstance(data["requirements"], list):  # a full summary.json
        data = {**data, "requirements": {r["id"]: r["verdict"] for r in data["requirements"]},
                "tests": {t["nodeid"]: t["outcome"] for t in data.get("tests", [])}}
    return data


@dataclass(slots=True)
class Comparison:
    """What changed from one run to the next, by requirement."""

    newly_failing: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    other_changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Every requirement whose verdict differs between the two runs."""
        return sorted({*self.newly_failing, *self.fixed, *(c[0] for c in self.other_changes)})


def compare(older: dict[str, Any], newer: dict[str, Any], window: list[dict[str, Any]] | None = None) -> Comparison:
    """Compare two runs; `window` (older runs, oldest first) lets flips across runs count as flaky."""
    result = Comparison()
    before, after = older["requirements"], newer["requirements"]
    for req_id in sorted(set(before) | set(after)):
        was, now = before.get(req_id, "absent"), after.get(req_id, "absent")
        if was == now:
            continue
        if now == "failed":
            result.newly_failing.append(req_id)
        elif was == "failed" and now == "passed":
            result.fixed.append(req_id)
        else:
            result.other_changes.append((req_id, was, now))
    sequence = [*(window or []), older, newer]
    for req_id in sorted(after):
        verdicts = [run["requirements"].get(req_id) for run in sequence if req_id in run["requirements"]]
        if _flips(verdicts) >= 2:
            result.flaky.append(req_id)
    return result


def _flips(verdicts: list[str | None]) -> int:
    decided = [v for v in verdicts if v in ("passed", "failed")]
    return sum(1 for a, b in zip(decided, decided[1:], strict=False) if a != b)


def render(comparison: Comparison, older: dict[str, Any], newer: dict[str, Any]) -> list[str]:
    """The comparison as lines for the terminal."""
    lines = [f"comparing run {older.get('run_id', '?')} ({older.get('generated_at', '?')}) "
             f"with run {newer.get('run_id', '?')} ({newer.get('generated_at', '?')})"]
    for title, ids in (("newly failing", comparison.newly_failing), ("fixed", comparison.fixed),
                       ("flaky (verdict flips between runs)", comparison.flaky)):
        lines.append(f"{title}: {len(ids)}")
        lines += [f"  {req_id}" for req_id in ids]
    if comparison.other_changes:
        lines.append(f"other changes: {len(comparison.other_changes)}")
        lines += [f"  {req_id}: {was} -> {now}" for req_id, was, now in comparison.other_changes]
    if not comparison.changed:
        lines.append("no requirement changed its verdict")
    return lines
