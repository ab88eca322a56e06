"""The optional hidden-state probe: state the API itself does not expose (see docs/probe.md)."""

from __future__ import annotations

from typing import Any

from conformance.client.session import ApiClient, Exchange


class Probe:
    """Read-only questions to the target's probe, asked with the DM admin key."""

    def __init__(self, client: ApiClient, base_url: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    def license_history(self, kind: str, license_id: int) -> list[dict[str, Any]]:
        """Every history record of a license, oldest first."""
        exchange = self._get(f"/v1/licenses/{kind}/{license_id}/history")
        records = exchange.json().get("records")
        assert isinstance(records, list), f"the probe's history answer has no 'records' list\n{exchange.describe()}"
        return records

    def state(self) -> dict[str, Any]:
        """Object counts and the number of writes the target has served."""
        body = self._get("/v1/state").json()
        assert isinstance(body, dict), "the probe's state answer is not a JSON object"
        return body

    def _get(self, path: str) -> Exchange:
        exchange = self._client.get(self._base + path)
        assert exchange.status == 200, f"the probe answered {exchange.status} to GET {path}\n{exchange.describe()}"
        return exchange
