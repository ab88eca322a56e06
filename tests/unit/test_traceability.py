"""Every shipped conformance test names requirement IDs, and every ID it names is in the catalog."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from pathlib import Path

import conformance
from conformance.spec.catalog import load_catalog

SUITE_INI = Path(conformance.__file__).with_name("suite.ini")


ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def collect() -> subprocess.CompletedProcess[str]:
    """Collect the packaged suite the way `conformance run` does; the plugin refuses unknown or missing IDs."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(SUITE_INI), "--collect-only", "-q", "-s",
         "-p", "tests.unit._print_requirements", "--pyargs", "conformance.scenarios", "conformance.properties"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )


def collected_requirements() -> dict[str, list[str]]:
    found = {}
    for line in collect().stdout.splitlines():
        if line.startswith("REQUIREMENTS "):
            ids, _, nodeid = line.removeprefix("REQUIREMENTS ").partition("\t")
            found[nodeid] = [i for i in ids.split(",") if i]
    return found


def test_every_suite_test_names_known_requirements() -> None:
    done = collect()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert len(collected) > 50, f"only {len(collected)} conformance tests collected"


def _marker_ids(func: ast.FunctionDef) -> list[str]:
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("mark.requirement"):
            return [a.value for a in deco.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def _checked_ids(func: ast.FunctionDef) -> tuple[set[str], bool]:
    """(the literal requirement IDs of the check(...) calls in the test, whether any call names one dynamically)."""
    literal, dynamic = set(), False
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "check" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.add(first.value)
            else:
                dynamic = True
    return literal, dynamic


def test_a_test_naming_several_requirements_checks_each_one_by_name() -> None:
    """A requirement's verdict comes from its own checks: a test naming several requirements wraps the evidence
    for each in `check("ID")` (conformance.checks), so one failing assertion cannot decide the others."""
    package = Path(conformance.__file__).parent
    unchecked: dict[str, list[str]] = {}
    for path in sorted(package.glob("scenarios/test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            ids = _marker_ids(node)
            literal, dynamic = _checked_ids(node)
            missing = [] if len(ids) < 2 or dynamic else [i for i in ids if i not in literal]
            if missing:
                unchecked[f"{path.name}::{node.name}"] = missing
    assert not unchecked, f"tests naming several requirements without a check of each: {unchecked}"


def test_the_scenarios_name_only_catalog_ids_in_their_source() -> None:
    catalog = load_catalog()
    package = Path(conformance.__file__).parent
    named: set[str] = set()
    for path in [*package.glob("scenarios/*.py"), *package.glob("properties/*.py")]:
        named |= set(re.findall(r'"((?:CAT|CORE|CRED|GEN)-[A-Z]+-\d{3})"', path.read_text()))
    assert named, "no requirement ID found in the suite's source"
    assert not catalog.unknown(named), f"IDs in the suite's source that the catalog lacks: {sorted(catalog.unknown(named))}"
