"""Finding, reading and validating the contract (OpenAPI) and the requirement catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import SpecError

CONTRACT_NAME = "ibl-data-manager.yaml"
CATALOG_NAME = "requirements.yaml"
SPEC_VARIABLE = "CONFORMANCE_SPEC"


def contract_dir() -> Path:
    """Where the shipped contract lives: inside the wheel, or the repository's openapi/."""
    package = Path(__file__).resolve().parents[1]
    shipped = package / "_contract"
    return shipped if (shipped / CONTRACT_NAME).is_file() else package.parent / "openapi"


def default_contract_path() -> Path:
    """The contract of this run: the one named by CONFORMANCE_SPEC (--spec), else the one shipped."""
    chosen = os.environ.get(SPEC_VARIABLE)
    return Path(chosen) if chosen else contract_dir() / CONTRACT_NAME


def default_catalog_path() -> Path:
    """The requirement catalog shipped with the suite."""
    return contract_dir() / CATALOG_NAME


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file, turning every failure into a one-line SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{what} {path} does not exist: check the path") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SpecError(f"{what} {path} cannot be read ({exc.__class__.__name__}): give a readable YAML file") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{what} {path} is not valid YAML{where}: fix the syntax") from None


@dataclass(frozen=True, slots=True)
class Contract:
    """A validated OpenAPI document."""

    path: Path
    document: dict[str, Any]

    @property
    def version(self) -> str:
        """info.version of the document."""
        return str(self.document.get("info", {}).get("version", "unknown"))

    def operations(self) -> list[str]:
        """Every operation as "METHOD /path"."""
        methods = {"get", "put", "post", "delete", "patch", "head", "options"}
        return [f"{m.upper()} {p}" for p, item in self.document.get("paths", {}).items() for m in item if m in methods]


def load_contract(path: Path | None = None) -> Contract:
    """Read and validate an OpenAPI 3.0 contract (the run's contract when no path is given)."""
    return _load_contract(Path(path or default_contract_path()).resolve())


@lru_cache(maxsize=8)
def _load_contract(path: Path) -> Contract:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    document = read_yaml(path, "contract")
    if not isinstance(document, dict) or "openapi" not in document:
        raise SpecError(f"contract {path} is not an OpenAPI document (no 'openapi' field): give an OpenAPI 3.0 file")
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.path) if getattr(exc, "path", None) else ""
        message = str(exc.message).splitlines()[0]
        raise SpecError(f"contract {path} is invalid at {pointer or 'the top level'}: {message}") from None
    except Exception as exc:  # the validator raises several families (ref resolution, etc.)
        raise SpecError(f"contract {path} is invalid: {str(exc).splitlines()[0]}") from None
    return Contract(path=path, document=document)
