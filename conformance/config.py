"""Target configuration: one frozen Settings built from defaults < file < environment < flags."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.deviations import Deviation, load_deviations
from conformance.errors import UsageError
from conformance.redaction import Secret

PROFILES = ("smoke", "ci", "full", "nightly")
EMBEDDED_REFERENCES = ("thread", "process")  # where the embedded reference runs (Settings.embedded_reference)
# department_admin (optional): an admin of a department of the platform under test (IsDepartmentModeAdminInPlatform)
ROLES = ("dm_admin", "platform_admin", "other_platform_admin", "learner", "department_admin")
DEFAULT_KEY_VARIABLES = {
    "dm_admin": "CONFORMANCE_DM_ADMIN_KEY",
    "platform_admin": "CONFORMANCE_PLATFORM_ADMIN_KEY",
    "other_platform_admin": "CONFORMANCE_OTHER_ADMIN_KEY",
    "learner": "CONFORMANCE_LEARNER_KEY",
    "department_admin": "CONFORMANCE_DEPARTMENT_ADMIN_KEY",
}
ROLE_TITLES = {
    "dm_admin": "DM admin",
    "platform_admin": "platform admin",
    "other_platform_admin": "other platform's admin",
    "learner": "non-admin user",
    "department_admin": "department admin",
}

# Environment variables that override one setting each are CONFORMANCE_<NAME> (see ENV_OVERRIDES, derived from
# SETTINGS at the end of this module).
ENV_PREFIX = "CONFORMANCE_"


@dataclass(frozen=True, slots=True)
class Keys:
    """The API keys of the five kinds of caller; None where the target gave none."""

    dm_admin: Secret | None = None
    platform_admin: Secret | None = None
    other_platform_admin: Secret | None = None
    learner: Secret | None = None
    department_admin: Secret | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KEY_VARIABLES))

    def get(self, role: str) -> Secret | None:
        """The key of one role."""
        return getattr(self, role)  # type: ignore[no-any-return]

    def revealed(self) -> list[str]:
        """Every key value, for scrubbing output."""
        return [k.reveal() for k in (self.get(r) for r in ROLES) if k is not None]


@dataclass(frozen=True, slots=True)
class Fixtures:
    """Objects of the target that the API cannot create."""

    user_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    program_keys: tuple[str, ...] = ()
    role_ids: tuple[int, ...] = ()
    internal_policy_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to know about its target and itself."""

    base_url: str | None = None  # None: the embedded reference implementation
    platform_key: str = "alpha"
    platform_org: str | None = None
    other_platform_key: str | None = None
    probe_url: str | None = None
    auth_scheme: str = "Api-Token"  # the word before the key in the Authorization header
    keys: Keys = field(default_factory=Keys)
    fixtures: Fixtures = field(default_factory=Fixtures)
    profile: str = "ci"
    report_dir: Path = Path("reports")
    read_only: bool = False
    seed: int | None = None
    timeout: float = 30.0
    rate_limit: float | None = None  # requests per second; None: as fast as the target answers
    deviations: tuple[Deviation, ...] = ()
    time_budget: float | None = None  # seconds for the generated tests (None: the profile's own)
    spec: Path | None = None  # another version of the contract (None: the shipped one)
    embedded_reference: str = "thread"  # no base_url: the reference runs in a thread of each worker, or in a process
    workers: int | None = None  # processes the tests are shared out to; None: what pays on this machine (workers.py)
    config_file: Path | None = None

    @property
    def embedded(self) -> bool:
        """True when no target is configured, so the run starts the built-in reference implementation. Once that
        reference runs, the settings carry its URL and this is False: `Target.embedded` says it from then on."""
        return self.base_url is None

    @property
    def org(self) -> str:
        """The org of the platform under test (the platform key unless configured)."""
        return self.platform_org or self.platform_key

    def with_target(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (used once the embedded target is up)."""
        return replace(self, **changes)

    def to_json(self) -> str:
        """The settings for another process of the run: every field, the keys only by variable name."""
        return json.dumps({f.name: _plain(f.name, getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def from_json(cls, text: str, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings another process serialized with to_json; key values are read from the environment."""
        env = os.environ if environ is None else environ
        raw = json.loads(text)
        variables = dict(raw.pop("keys")["variables"])
        keys = Keys(**{role: Secret(env[var]) if env.get(var) else None for role, var in variables.items()
                       if role in ROLES}, variables=variables)
        paths = {name: Path(raw[name]) if raw[name] is not None else None for name in ("report_dir", "spec", "config_file")}
        deviations = tuple(Deviation(**{**d, "expires": dt.date.fromisoformat(d["expires"]) if d["expires"] else None})
                           for d in raw.pop("deviations"))
        fixtures = Fixtures(**{name: tuple(values) for name, values in raw.pop("fixtures").items()})
        return cls(**{**raw, **paths, "keys": keys, "fixtures": fixtures, "deviations": deviations})


def _plain(name: str, value: Any) -> Any:
    """One field of Settings as JSON data (never a key's value)."""
    if name == "keys":
        return {"variables": dict(value.variables)}
    if name == "deviations":
        return [{**asdict(d), "expires": d.expires.isoformat() if d.expires else None} for d in value]
    if name == "fixtures":
        return {f.name: list(getattr(value, f.name)) for f in fields(value)}
    return str(value) if isinstance(value, Path) else value


def load_settings(
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from a TOML file, CONFORMANCE_* variables and flag overrides (in that order)."""
    env = os.environ if environ is None else environ
    path = Path(config_file) if config_file else None
    raw = _read_toml(path) if path else {}
    _check_sections(raw, path)
    merged = {section: dict(raw.get(section, {})) for section in _SECTIONS}
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var, "") != "":
            merged[section][key] = env[var]
    for name, value in (overrides or {}).items():
        if value is not None:
            merged[_section_of(name)][name] = value
    return _build(merged, env, path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist: check the --config path") from None
    except IsADirectoryError:
        raise UsageError(f"config file {path} is a folder: give the path of a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML ({exc}): fix the syntax") from None


def _check_sections(raw: Mapping[str, Any], path: Path | None) -> None:
    for section, body in raw.items():
        if section not in _SECTIONS:
            allowed = ", ".join(f"[{s}]" for s in _SECTIONS)
            raise UsageError(f"{path}: unknown section [{section}]; allowed: {allowed}")
        if not isinstance(body, dict):
            raise UsageError(f"{path}: {section} must be a table, like [{section}]")
        for key in body:
            if key not in _SECTIONS[section]:
                allowed = ", ".join(sorted(_SECTIONS[section]))
                raise UsageError(f"{path}: unknown key {section}.{key}; allowed in [{section}]: {allowed}")


def _section_of(name: str) -> str:
    for section, keys in _SECTIONS.items():
        if name in keys:
            return section
    raise UsageError(f"unknown setting {name!r}")


def _build(merged: dict[str, dict[str, Any]], env: Mapping[str, str], path: Path | None) -> Settings:
    where = str(path) if path else "settings"
    values: dict[str, Any] = {}
    for name, (section, parse) in SETTINGS.items():
        if name in merged[section]:  # absent: the default of the Settings field
            value = merged[section][name]
            values[name] = _deviations(value, path) if name == "deviations" else parse(value, f"{where}: {section}.{name}")
    return Settings(**values, keys=_keys(merged["keys"], env, where), fixtures=_fixtures(merged["fixtures"], where),
                    config_file=path)


def _deviations(value: Any, config: Path | None) -> tuple[Deviation, ...]:
    if value in (None, ""):
        return ()
    path = Path(str(value))
    if not path.is_absolute() and config is not None and not path.exists():
        path = config.parent / path  # relative to the config file
    return load_deviations(path)


def _keys(section: Mapping[str, Any], env: Mapping[str, str], where: str) -> Keys:
    variables = dict(DEFAULT_KEY_VARIABLES)
    values: dict[str, Secret | None] = {}
    for role in ROLES:
        named = role in section
        var = section.get(role, DEFAULT_KEY_VARIABLES[role])
        if not isinstance(var, str) or not var.isidentifier():
            raise UsageError(
                f"{where}: keys.{role} must name an environment variable (like {DEFAULT_KEY_VARIABLES[role]}), "
                "never hold a key itself"
            )
        variables[role] = var
        value = env.get(var, "")
        if named and not value:
            raise UsageError(f"environment variable {var} is not set; it holds the {ROLE_TITLES[role]} key (keys.{role})")
        values[role] = Secret(value) if value else None
    return Keys(**values, variables=variables)


def _fixtures(section: Mapping[str, Any], where: str) -> Fixtures:
    ints = {name: _int_list(section.get(name, []), f"{where}: fixtures.{name}")
            for name in ("user_ids", "group_ids", "role_ids", "internal_policy_ids")}
    programs = section.get("program_keys", [])
    if not isinstance(programs, list) or not all(isinstance(p, str) and p for p in programs):
        raise UsageError(f"{where}: fixtures.program_keys must be a list of non-empty strings, got {programs!r}")
    return Fixtures(program_keys=tuple(programs), **ints)


def _url(value: Any, what: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a URL string, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what} must be an http(s) URL like https://staging.example.com, got {value!r}")
    return value.rstrip("/")


def _scheme(value: Any, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{0,40}", value):
        raise UsageError(f"{what} must be one word like Api-Token or Api-Key, got {value!r}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    return None if value in (None, "") else _text(value, what)


def _profile(value: Any, what: str) -> str:
    if value not in PROFILES:
        raise UsageError(f"unknown profile {value!r} ({what}); choose one of: {', '.join(PROFILES)}")
    return str(value)


def _embedded_reference(value: Any, what: str) -> str:
    if value not in EMBEDDED_REFERENCES:
        raise UsageError(f"{what} must be one of {', '.join(EMBEDDED_REFERENCES)}, got {value!r}")
    return str(value)


def _workers(value: Any, what: str) -> int | None:
    if value in (None, "", "auto"):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        count = int(str(value).strip())
    except ValueError:
        count = 0
    if count < 1:
        raise UsageError(f"{what} must be auto or a whole number from 1 up, got {value!r}")
    return count


def _path(value: Any, what: str) -> Path:
    return Path(_text(str(value), what))


def _optional(parse: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """A parser that takes an empty value as None."""
    return lambda value, what: None if value in (None, "") else parse(value, what)


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise UsageError(f"{what} must be true or false, got {value!r}")


def _optional_int(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a whole number, got {value!r}") from None


def _positive_float(value: Any, what: str) -> float:
    unit = "requests per second" if what.endswith("rate_limit") else "seconds"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number of {unit}, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise UsageError(f"{what} must be more than 0 {unit}, got {value!r}")
    return number


def _int_list(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise UsageError(f"{what} must be a list of whole numbers, got {value!r}")
    return tuple(value)


# One line per setting of [target] and [run]: its section and how its value is checked. A new setting is a field of
# Settings, a line here and its option in cli.py; its config key, its variable CONFORMANCE_<NAME>, its flag override
# and the form the workers of a run receive (Settings.to_json) follow from these.
SETTINGS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "base_url": ("target", _url),
    "platform_key": ("target", _text),
    "platform_org": ("target", _optional_text),
    "other_platform_key": ("target", _optional_text),
    "probe_url": ("target", _url),
    "auth_scheme": ("target", _scheme),
    "profile": ("run", _profile),
    "report_dir": ("run", _path),
    "read_only": ("run", _bool),
    "seed": ("run", _optional_int),
    "timeout": ("run", _positive_float),
    "rate_limit": ("run", _optional(_positive_float)),
    "deviations": ("run", _text),  # a file, read by _deviations (relative to the config file)
    "time_budget": ("run", _optional(_positive_float)),
    "spec": ("run", _optional(_path)),
    "embedded_reference": ("run", _embedded_reference),
    "workers": ("run", _workers),
}
_SECTIONS: dict[str, set[str]] = {
    "target": {name for name, (section, _) in SETTINGS.items() if section == "target"},
    "keys": set(ROLES),
    "fixtures": {f.name for f in fields(Fixtures)},
    "run": {name for name, (section, _) in SETTINGS.items() if section == "run"},
}
# Environment variables that override one setting each: name -> (section, key).
ENV_OVERRIDES = {ENV_PREFIX + name.upper(): (section, name) for name, (section, _) in SETTINGS.items()}
