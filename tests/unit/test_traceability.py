"""Every shipped conformance test names requirement IDs, and every ID it names is in the catalog."""

from __future__ import annotations

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


def test_no_test_mixes_must_with_should_or_may() -> None:
    """A failure must be attributable: a test naming a MUST fails the run, so it names no SHOULD or MAY
    (whose failures are only warnings) and the other way round."""
    levels = {rid: req.level for rid, req in load_catalog().requirements.items()}
    tests = collected_requirements()
    assert tests, collect().stdout[-2000:]
    mixed = {test: ids for test, ids in tests.items() if len({levels[i] == "MUST" for i in ids}) > 1}
    assert not mixed, f"tests naming MUST and SHOULD/MAY requirements together: {mixed}"


def test_the_scenarios_name_only_catalog_ids_in_their_source() -> None:
    catalog = load_catalog()
    package = Path(conformance.__file__).parent
    named: set[str] = set()
    for path in [*package.glob("scenarios/*.py"), *package.glob("properties/*.py")]:
        named |= set(re.findall(r'"((?:CAT|CORE|CRED|GEN)-[A-Z]+-\d{3})"', path.read_text()))
    assert named, "no requirement ID found in the suite's source"
    assert not catalog.unknown(named), f"IDs in the suite's source that the catalog lacks: {sorted(catalog.unknown(named))}"
