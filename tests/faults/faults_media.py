"""Faults in how the reference reads the published request media types."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.reference import validation
from tests.faults.registry import fault


@fault("form bodies refused with 415", violates="GEN-MEDIA-001")
def _(mp: pytest.MonkeyPatch) -> None:
    def refuse(raw: bytes, media: str, content_type: str) -> Any:
        raise validation.UnsupportedMediaType(f"Unsupported media type {media!r} in request.")

    mp.setattr(validation, "form_fields", refuse)


@fault("a boolean in a form body always reads as false", violates="GEN-MEDIA-002")
def _(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(validation, "_form_bool", lambda text: False)
