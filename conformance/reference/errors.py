"""JSON error answers for the reference implementation.

Every error is ``{"detail": "<message>"}`` with the status the operation documents. Nothing ever
answers with an HTML page: 404 for unknown paths and 405 for a wrong method are JSON too, and an
unexpected exception becomes a JSON 500 (which the reference's tests treat as a bug).
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("conformance.reference")


class ApiError(Exception):
    """An error answer: an HTTP status and a human-readable detail."""

    status_code = 400

    def __init__(self, detail: str, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class SeatLimitReached(BadRequest):
    """A new assignment would make usage_count exceed count."""


class LicenseNotAssignable(BadRequest):
    """The license is inactive or expired: no new assignments."""


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Api-Token"} if exc.status_code == 401 else None
    return error_response(exc.status_code, exc.detail, headers)


_HTTP_DETAILS = {
    404: "Not found.",
    405: "Method not allowed.",
}


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = _HTTP_DETAILS.get(exc.status_code) or str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return error_response(exc.status_code, detail, headers)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s: %r", request.method, request.url.path, exc)
    return error_response(500, "Internal server error.")


EXCEPTION_HANDLERS = {
    ApiError: api_error_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}
