"""Credentials of an org: create (the id unique per org), update, delete and list."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from ..errors import BadRequest
from .base import Row, StoreBase, _dumps, contains_any


def _credential_from_row(row: Row) -> Row:
    row["revoked"] = bool(row["revoked"])
    row["extra"] = json.loads(row["extra"])
    return row


class CredentialStore(StoreBase):
    """Credentials, keyed by (platform, ``credential_id``)."""

    CREDENTIAL_EXTRA = ("html_template", "css_template", "icon_image", "background_image", "thumbnail_image",
                        "criteria_url", "criteria_text", "issuing_signal")
    CREDENTIAL_COLUMNS = ("credential_url", "name", "description", "credential_type", "issuer", "issued_on",
                          "expires_at", "revoked", "course", "program")

    def get_credential(self, platform_id: int, credential_id: str) -> dict[str, Any] | None:
        return self._first("* FROM credentials", "platform_id = ? AND credential_id = ?", (platform_id, credential_id),
                           _credential_from_row, "id")

    def create_credential(self, platform_id: int, fields: dict[str, Any],
                          url_for: Callable[[str], str]) -> dict[str, Any]:
        """Create a credential; ``credential_id`` is generated when not sent and unique per org."""
        with self.transaction():
            credential_id = fields.get("credential_id") or str(uuid.uuid4())
            if self.get_credential(platform_id, credential_id) is not None:
                raise BadRequest(f"A credential with credential_id '{credential_id}' already exists in this org.")
            now = self.now()
            values = {c: fields.get(c) for c in self.CREDENTIAL_COLUMNS}
            values["credential_url"] = values["credential_url"] or url_for(credential_id)
            values["description"] = values["description"] or ""
            values["revoked"] = int(bool(values["revoked"]))
            self._insert("credentials", {
                **values, "platform_id": platform_id, "credential_id": credential_id,
                "extra": _dumps({k: fields[k] for k in self.CREDENTIAL_EXTRA if fields.get(k) is not None}),
                "created": now, "modified": now,
            })
            result = self.get_credential(platform_id, credential_id)
        assert result is not None
        return result

    def update_credential(self, platform_id: int, credential_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        with self.transaction():
            current = self.get_credential(platform_id, credential_id)
            if current is None:
                return None
            values: dict[str, Any] = {c: fields[c] for c in self.CREDENTIAL_COLUMNS if c in fields}
            if "revoked" in values:
                values["revoked"] = int(bool(values["revoked"]))
            if "description" in values and values["description"] is None:
                values["description"] = ""
            extra = dict(current["extra"])
            extra.update({k: fields[k] for k in self.CREDENTIAL_EXTRA if k in fields})
            values["extra"] = _dumps({k: v for k, v in extra.items() if v is not None})
            values["modified"] = self.now()
            self._update("credentials", current["id"], values)
            return self.get_credential(platform_id, credential_id)

    def delete_credential(self, platform_id: int, credential_id: str) -> bool:
        return self._delete("credentials", "platform_id = ? AND credential_id = ?", (platform_id, credential_id))

    def list_credentials(self, platform_id: int, *, search: str | None, course: str | None, program: str | None,
                         offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        where, params = ["platform_id = ?"], [platform_id]
        if search is not None:
            where.append(contains_any(("name", "description")))
            params.extend([search, search])
        for column, value in (("course", course), ("program", program)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return self._select_page("* FROM credentials", where, params, "id ASC", offset, limit, _credential_from_row)
