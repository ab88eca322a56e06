"""The probe: a read-only view of hidden state, for the DM admin key only.

``GET /conformance-probe/v1/licenses/{kind}/{license_id}/history`` and
``GET /conformance-probe/v1/state``. Other keys are 403, no or an unknown key 401.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..auth import authenticate
from ..errors import Forbidden, NotFound
from ..fixtures import PROBE_PATH
from ..store import Store
from ..validation import INT_MAX
from ._common import route


def _require_dm_admin(request: Request) -> Store:
    caller = authenticate(request)
    if not caller.is_dm_admin:
        raise Forbidden("The probe is for the DM admin key only.")
    return request.app.state.store


def license_history(request: Request) -> JSONResponse:
    store = _require_dm_admin(request)
    kind = request.path_params["kind"]
    raw = request.path_params["license_id"]
    if kind not in ("program", "user") or not re.fullmatch(r"[0-9]{1,19}", raw) or int(raw) > INT_MAX:
        raise NotFound("No such license.")
    license_id = int(raw)
    if store.get_license(kind, license_id) is None:
        raise NotFound(f"No {kind} license with id {license_id}.")
    return JSONResponse({"license_id": license_id, "kind": kind, "records": store.license_history(kind, license_id)})


def state(request: Request) -> JSONResponse:
    store = _require_dm_admin(request)
    return JSONResponse({"objects": store.state_counts(), "writes": store.writes})


routes = [
    route(PROBE_PATH + "/v1/licenses/{kind}/{license_id}/history", get=license_history),
    route(PROBE_PATH + "/v1/state", get=state),
]
