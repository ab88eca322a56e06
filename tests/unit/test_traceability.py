"""Every shipped conformance test names requirement IDs, and every ID it names is in the catalog."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import conformance
from conformance.spec.catalog import load_catalog

SUITE_INI = Path(conformance.__file__).with_name("suite.ini")


def collect() -> subprocess.CompletedProcess[str]:
    """Collect the packaged suite the way `conformance run` does; the plugin refuses unknown or missing IDs."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(SUITE_INI), "--collect-only", "-q",
         "--pyargs", "conformance.scenarios", "conformance.properties"],
        capture_output=True, text=True, timeout=300,
    )


def test_every_suite_test_names_known_requirements() -> None:
    done = collect()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert len(collected) > 50, f"only {len(collected)} conformance tests collected"


def test_the_scenarios_name_only_catalog_ids_in_their_source() -> None:
    catalog = load_catalog()
    package = Path(conformance.__file__).parent
    named: set[str] = set()
    for path in [*package.glob("scenarios/*.py"), *package.glob("properties/*.py")]:
        named |= set(re.findall(r'"((?:CAT|CORE|CRED|GEN)-[A-Z]+-\d{3})"', path.read_text()))
    assert named, "no requirement ID found in the suite's source"
    assert not catalog.unknown(named), f"IDs in the suite's source that the catalog lacks: {sorted(catalog.unknown(named))}"
