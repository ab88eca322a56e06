"""report.html: one self-contained page (no network) rendered from summary.json and the run history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.reporting import history

VERDICTS = ("passed", "failed", "warning", "not verified", "not covered", "known deviation", "flaky", "not selected")
TREND_WIDTH, TREND_HEIGHT = 640, 160


def render(summary: dict[str, Any], past: list[dict[str, Any]]) -> str:
    """The HTML page for one run; `past` are earlier runs from history (oldest first)."""
    env = Environment(loader=PackageLoader("conformance.reporting", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        s=summary, verdicts=VERDICTS, areas=_areas(summary), trend=_trend([*past, summary]),
        failures=[t for t in summary.get("tests", []) if t["outcome"] in ("failed", "warning", "target error")],
    )


def write(report_dir: Path, summary: dict[str, Any]) -> Path:
    """Write report.html next to summary.json."""
    past = [history.load(p) for p in history.runs(report_dir)
            if p.stem.split("-", 1)[-1] != summary["run_id"]]
    path = report_dir / "report.html"
    path.write_text(render(summary, past), encoding="utf-8")
    return path


def _areas(summary: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    areas: dict[str, dict[str, int]] = {}
    for req in summary["requirements"]:
        row = areas.setdefault(req["id"].split("-", 1)[0], dict.fromkeys(VERDICTS, 0))
        row[req["verdict"]] = row.get(req["verdict"], 0) + 1
    return sorted(areas.items())


def _trend(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    if len(runs) < 2:
        return None
    counts = [_verdict_counts(run) for run in runs]
    top = max(1, *(max(c["passed"], c["failed"]) for c in counts))
    step = (TREND_WIDTH - 20) / (len(runs) - 1)

    def point(i: int, value: int) -> tuple[float, float]:
        return round(10 + i * step, 1), round(TREND_HEIGHT - 20 - value * (TREND_HEIGHT - 40) / top, 1)

    dots = []
    for i, (run, c) in enumerate(zip(runs, counts, strict=True)):
        for key, colour in (("passed", "#2f9e55"), ("failed", "#d64545")):
            x, y = point(i, c[key])
            dots.append({"x": x, "y": y, "colour": colour,
                         "title": f"{run.get('generated_at', '?')}: {c[key]} {key}"})
    return {
        "width": TREND_WIDTH, "height": TREND_HEIGHT, "max": top, "runs": len(runs), "dots": dots,
        "passed": " ".join(f"{x},{y}" for x, y in (point(i, c["passed"]) for i, c in enumerate(counts))),
        "failed": " ".join(f"{x},{y}" for x, y in (point(i, c["failed"]) for i, c in enumerate(counts))),
        "first": runs[0].get("generated_at", "?"), "last": runs[-1].get("generated_at", "?"),
    }


def _verdict_counts(run: dict[str, Any]) -> dict[str, int]:
    verdicts = run["requirements"]
    values = verdicts.values() if isinstance(verdicts, dict) else [r["verdict"] for r in verdicts]
    values = list(values)
    return {"passed": values.count("passed"), "failed": values.count("failed")}
