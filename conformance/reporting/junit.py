"""junit.xml gets a `requirements` test suite: one test case per catalog requirement, with its verdict and the
check that decided it, so a CI dashboard shows requirements, not only the tests that checked them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

SUITE_NAME = "requirements"
FAILING = ("failed",)
UNDECIDED = ("not verified", "not covered", "not selected")


def add_requirements(report_dir: Path, summary: dict[str, Any]) -> None:
    """Append (or replace) the requirements suite of junit.xml from this run's summary."""
    path = report_dir / "junit.xml"
    if not path.is_file():
        return
    tree = ET.parse(path)
    root = tree.getroot()
    if root.tag != "testsuites":  # pytest writes one <testsuite> at the top with xunit2
        wrapper = ET.Element("testsuites")
        wrapper.append(root)
        root = wrapper
    for old in root.findall(f"testsuite[@name='{SUITE_NAME}']"):
        root.remove(old)
    root.append(_suite(summary))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _suite(summary: dict[str, Any]) -> ET.Element:
    entries = summary.get("requirements", [])
    suite = ET.Element("testsuite", name=SUITE_NAME, tests=str(len(entries)),
                       failures=str(sum(1 for e in entries if _failing(e))),
                       skipped=str(sum(1 for e in entries if e["verdict"] in UNDECIDED)), errors="0")
    for entry in entries:
        suite.append(_case(entry))
    return suite


def _failing(entry: dict[str, Any]) -> bool:
    return entry["verdict"] in FAILING or (entry["verdict"] == "flaky" and entry.get("level") == "MUST")


def _case(entry: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", classname=f"{SUITE_NAME}.{entry['id'].split('-')[0]}", name=entry["id"])
    props = ET.SubElement(case, "properties")
    for name in ("verdict", "level", "decided_by"):
        ET.SubElement(props, "property", name=name, value=str(entry.get(name) or ""))
    ET.SubElement(props, "property", name="tests", value=" ".join(entry.get("tests", [])))
    message = f"{entry['verdict']}: {entry.get('reason') or entry.get('title', '')}"
    if _failing(entry):
        ET.SubElement(case, "failure", message=message).text = f"decided by {entry.get('decided_by', '')}"
    elif entry["verdict"] in UNDECIDED:
        ET.SubElement(case, "skipped", message=message)
    elif entry["verdict"] != "passed":  # warning, known deviation, a flaky SHOULD: shown, but not a failure
        ET.SubElement(case, "system-out").text = message
    return case
