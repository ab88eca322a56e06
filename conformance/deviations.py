"""Known deviations of a target: failures it has owned up to, reported as such until fixed or expired.

File format (YAML), given with --deviations FILE or [run] deviations:

    target: staging-alpha                 # free text
    deviations:
      - requirement: CAT-SEAT-002         # or  test: test_seats.py::test_unassigning_frees_a_seat
        reason: "seat limit enforced asynchronously (ticket 123)"
        expires: 2027-03-31               # optional; from that day the failure counts again
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import UsageError


@dataclass(frozen=True, slots=True)
class Deviation:
    """One known departure from a requirement (or one test) with its reason."""

    reason: str
    requirement: str | None = None
    test: str | None = None
    expires: dt.date | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        """True from the expiry date on."""
        return self.expires is not None and (today or dt.date.today()) >= self.expires

    def matches(self, nodeid: str, requirements: tuple[str, ...]) -> bool:
        """Does this entry cover a test with this node ID and these requirement IDs?"""
        if self.requirement is not None:
            return self.requirement in requirements
        return self.test is not None and (nodeid == self.test or nodeid.endswith("/" + self.test)
                                          or nodeid.endswith(self.test))


def load_deviations(path: Path) -> tuple[Deviation, ...]:
    """Read and check a deviations file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"deviations file {path} does not exist: check the path") from None
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"deviations file {path} cannot be read as YAML ({exc.__class__.__name__}): fix it") from None
    entries = raw.get("deviations") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"deviations file {path} needs a 'deviations' list (see conformance/deviations.py)")
    return tuple(_entry(e, f"{path}: deviations[{i}]") for i, e in enumerate(entries))


def _entry(entry: Any, where: str) -> Deviation:
    if not isinstance(entry, dict):
        raise UsageError(f"{where} must be a mapping with requirement or test, and reason")
    unknown = set(entry) - {"requirement", "test", "reason", "expires"}
    if unknown:
        raise UsageError(f"{where} has unknown keys {sorted(unknown)}; allowed: requirement, test, reason, expires")
    if ("requirement" in entry) == ("test" in entry):
        raise UsageError(f"{where} must name exactly one of requirement or test")
    if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
        raise UsageError(f"{where} needs a reason")
    expires = entry.get("expires")
    if expires is not None and not isinstance(expires, dt.date):
        try:
            expires = dt.date.fromisoformat(str(expires))
        except ValueError:
            raise UsageError(f"{where}: expires must be a date like 2027-03-31, got {expires!r}") from None
    return Deviation(reason=entry["reason"], requirement=entry.get("requirement"), test=entry.get("test"),
                     expires=expires)
