"""Finding, reading and validating the contract (OpenAPI) and the requirement catalog."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import SpecError

CONTRACT_NAME = "ibl-data-manager.yaml"
CATALOG_NAME = "requirements.yaml"
SPEC_VARIABLE = "CONFORMANCE_SPEC"
# The sha256 of the contract the runner validated (inherited by the workers of the run): a worker parses the
# contract once more, but does not validate again what the runner validated a moment before.
VALIDATED_VARIABLE = "CONFORMANCE_VALIDATED_CONTRACT"
# Where a run keeps what later runs need not work out again (contents known to be valid contracts, by digest).
CACHE_VARIABLE = "CONFORMANCE_CACHE_DIR"
# libyaml's parser when PyYAML was built with it: the same documents, parsed about ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
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


def digest(path: Path) -> str:
    """The sha256 of a file's content (the key under which its parsed form is cached); hashed again only when the
    file's size or modification time changed."""
    try:
        stat = path.stat()
    except OSError:
        return ""  # read_yaml names the problem
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def read_yaml(path: Path, what: str, sha256: str = "") -> Any:
    """Parse a YAML file, turning every failure into a one-line SpecError; with the content's `sha256`, a content
    parsed once is read back from the cache folder (every process of a run, and every later run, skips the parse)."""
    cached = _parsed(sha256)
    if cached is not None:
        return cached
    document = _parse_yaml(path, what)
    _keep_parsed(sha256, document)
    return document


def _parsed_file(sha256: str) -> Path:
    return cache_dir() / "parsed" / f"{sha256}-py{sys.version_info[0]}{sys.version_info[1]}.pickle"


def _parsed(sha256: str) -> Any:
    """The document parsed from this content before, or None. The folder is the user's own, as every file a
    process of theirs writes; what cannot be read back is parsed again."""
    if not sha256:
        return None
    try:
        return pickle.loads(_parsed_file(sha256).read_bytes())  # noqa: S301 (written by _keep_parsed, in the user's cache)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None


def _keep_parsed(sha256: str, document: Any) -> None:
    """Cache the parsed document (written aside and renamed into place: a reader never sees half a file)."""
    if not sha256:
        return
    target = _parsed_file(sha256)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        partial.write_bytes(pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, target)
    except OSError:
        pass


def _parse_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{what} {path} does not exist: check the path") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SpecError(f"{what} {path} cannot be read ({exc.__class__.__name__}): give a readable YAML file") from None
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{what} {path} is not valid YAML{where}: fix the syntax") from None


@dataclass(frozen=True, slots=True)
class Contract:
    """A validated OpenAPI document."""

    path: Path
    document: dict[str, Any]
    sha256: str = ""  # of the file's content

    @property
    def version(self) -> str:
        """info.version of the document."""
        return str(self.document.get("info", {}).get("version", "unknown"))

    def operations(self) -> list[str]:
        """Every operation as "METHOD /path"."""
        methods = {"get", "put", "post", "delete", "patch", "head", "options"}
        return [f"{m.upper()} {p}" for p, item in self.document.get("paths", {}).items() for m in item if m in methods]


def load_contract(path: Path | None = None) -> Contract:
    """Read and validate an OpenAPI 3.0 contract (the run's contract when no path is given); parsed once per
    process for each content (a changed file is read again)."""
    resolved = Path(path or default_contract_path()).resolve()
    return _load_contract(resolved, digest(resolved))


@lru_cache(maxsize=8)
def _load_contract(path: Path, sha256: str) -> Contract:
    document = read_yaml(path, "contract", sha256)
    if not isinstance(document, dict) or "openapi" not in document:
        raise SpecError(f"contract {path} is not an OpenAPI document (no 'openapi' field): give an OpenAPI 3.0 file")
    if not sha256 or (sha256 != os.environ.get(VALIDATED_VARIABLE) and not _known_valid(sha256)):
        _validate(path, document)
        _remember_valid(sha256)
    return Contract(path=path, document=document, sha256=sha256)


def cache_dir() -> Path:
    """Where the suite keeps what it can work out again (CONFORMANCE_CACHE_DIR, else the user's cache folder)."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(user_cache) / "ibl-conformance"


def _validity_mark(sha256: str) -> Path:
    """The file whose presence says: this content passed this version of the validator."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        validator = version("openapi-spec-validator")
    except PackageNotFoundError:
        validator = "unknown"
    return cache_dir() / "valid-contracts" / f"{sha256}-{validator}"


def _known_valid(sha256: str) -> bool:
    return bool(sha256) and _validity_mark(sha256).is_file()


def _remember_valid(sha256: str) -> None:
    """Mark the content valid, so that the next run need not validate it again (a cache: failing to write is no
    problem, the next run validates)."""
    if not sha256:
        return
    mark = _validity_mark(sha256)
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass


def _validate(path: Path, document: dict[str, Any]) -> None:
    """Raise a one-line SpecError when the document is not a valid OpenAPI contract."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.path) if getattr(exc, "path", None) else ""
        message = str(exc.message).splitlines()[0]
        raise SpecError(f"contract {path} is invalid at {pointer or 'the top level'}: {message}") from None
    except Exception as exc:  # the validator raises several families (ref resolution, etc.)
        raise SpecError(f"contract {path} is invalid: {str(exc).splitlines()[0]}") from None
