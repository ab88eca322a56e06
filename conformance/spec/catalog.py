"""The requirement catalog: what the documentation promises, one entry per testable statement."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from conformance.errors import SpecError
from conformance.spec.loader import default_catalog_path, digest, read_yaml

ID_PATTERN = re.compile(r"^[A-Z]+-[A-Z]+-\d{3}$")
LEVELS = ("MUST", "SHOULD", "MAY")
OBSERVABLE = ("api", "probe", "none")
REQUIRED_FIELDS = ("id", "level", "title", "operations", "source", "quote", "observable")


@dataclass(frozen=True, slots=True)
class Reading:
    """One documented way to read an ambiguous requirement, and the reference switch that serves it."""

    name: str  # `default` (the reference's own reading) or the name of a `conformance serve --readings` switch
    says: str  # what a server following this reading does


@dataclass(frozen=True, slots=True)
class Requirement:
    """One documented, testable statement."""

    id: str
    level: str
    title: str
    operations: tuple[str, ...]
    source: str
    quote: str
    observable: str
    ambiguity: str | None = None
    readings: tuple[Reading, ...] = ()  # the outcomes a fair test accepts where the documents allow several

    @property
    def area(self) -> str:
        """The first part of the ID (CAT, CORE, CRED, GEN)."""
        return self.id.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every requirement, by ID, in catalog order."""

    path: Path
    requirements: dict[str, Requirement]
    operations: tuple[str, ...]

    def __contains__(self, req_id: object) -> bool:
        return req_id in self.requirements

    def unknown(self, ids: set[str]) -> set[str]:
        """The IDs that the catalog does not define."""
        return {i for i in ids if i not in self.requirements}


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and check the requirement catalog; parsed once per process for each content (a changed file is read
    again)."""
    path = path or default_catalog_path()
    return _load_catalog(path, digest(path))


@lru_cache(maxsize=8)
def _load_catalog(path: Path, sha256: str) -> Catalog:
    raw = read_yaml(path, "catalog", sha256)
    if not isinstance(raw, dict) or not isinstance(raw.get("requirements"), list):
        raise SpecError(f"catalog {path} has no 'requirements' list: see openapi/requirements.yaml for the format")
    operations = tuple(raw.get("operations") or ())
    requirements: dict[str, Requirement] = {}
    for index, entry in enumerate(raw["requirements"]):
        req = _requirement(entry, f"catalog {path}: requirements[{index}]")
        if req.id in requirements:
            raise SpecError(f"catalog {path}: requirement {req.id} is defined twice: IDs must be unique")
        requirements[req.id] = req
    return Catalog(path=path, requirements=requirements, operations=operations)


def _requirement(entry: Any, where: str) -> Requirement:
    if not isinstance(entry, dict):
        raise SpecError(f"{where} must be a mapping with {', '.join(REQUIRED_FIELDS)}")
    missing = [f for f in REQUIRED_FIELDS if f not in entry]
    if missing:
        raise SpecError(f"{where} ({entry.get('id', '?')}) lacks {', '.join(missing)}")
    if not ID_PATTERN.match(str(entry["id"])):
        raise SpecError(f"{where}: id {entry['id']!r} does not match <AREA>-<TOPIC>-<NNN>, like CAT-LIC-004")
    if entry["level"] not in LEVELS:
        raise SpecError(f"{where} ({entry['id']}): level {entry['level']!r} is not one of {', '.join(LEVELS)}")
    if entry["observable"] not in OBSERVABLE:
        raise SpecError(f"{where} ({entry['id']}): observable {entry['observable']!r} is not one of {', '.join(OBSERVABLE)}")
    return Requirement(
        id=entry["id"], level=entry["level"], title=str(entry["title"]),
        operations=tuple(entry["operations"] or ()), source=str(entry["source"]), quote=str(entry["quote"]),
        observable=entry["observable"], ambiguity=entry.get("ambiguity"),
        readings=_readings(entry.get("readings"), f"{where} ({entry['id']})"),
    )


def _readings(raw: Any, where: str) -> tuple[Reading, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str)
                                            and isinstance(r.get("says"), str) for r in raw):
        raise SpecError(f"{where}: readings must be a list of mappings with name and says")
    return tuple(Reading(r["name"], r["says"]) for r in raw)
