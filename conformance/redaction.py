"""A masked holder for API keys, and redaction of anything that may carry one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "********"
_SENSITIVE_NAME = re.compile(r"(authorization|cookie|token|secret|password|api[-_]?key)", re.I)


class Secret:
    """A value that never shows itself in repr, str or format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the real value: only for putting it on the wire."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> object:
        raise TypeError("a Secret is not serialisable")


def is_sensitive_name(name: str) -> bool:
    """True for header or field names that usually carry credentials."""
    return bool(_SENSITIVE_NAME.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy headers with credential values masked (the scheme word is kept)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if is_sensitive_name(name):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} {MASK}".strip()
        else:
            out[name] = value
    return out


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of any secret value in free text."""
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text
