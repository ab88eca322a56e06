"""Input validation: query parameters, request bodies, dates, pagination and sorting.

Every parse failure raises :class:`BadRequest` (400), so malformed input never reaches the store
and never produces a 500. JSON body fields are typed strictly (an integer field refuses ``"5"``,
``5.0`` and ``true``); query parameters and form fields (form-urlencoded and multipart bodies) are
text by nature and are parsed by the type of the field. A body of any other media type is 415.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from .errors import ApiError, BadRequest, NotFound
from .readings import readings_of

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
# an absolute URI (RFC 3986): a scheme, then only URI characters, percent-escapes well formed
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_MISSING = object()


def format_timestamp(value: datetime) -> str:
    """ISO 8601, UTC, second precision, ``Z`` suffix: ``2026-11-23T10:00:00Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)  # strftime's %Y does not pad years before 1000 on every platform
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    return format_timestamp(datetime.now(UTC))


def parse_timestamp(value: str) -> datetime:
    """Parse a stored timestamp (always the format_timestamp shape) back to a datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def normalize_datetime(name: str, value: Any) -> str:
    """Validate an incoming date-time string and return it in the stored shape."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} must be an ISO 8601 date-time string.")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return format_timestamp(parsed)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be an ISO 8601 date-time string.") from None


def is_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value))


def is_uri(value: str) -> bool:
    return bool(_URI_RE.match(value))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


class QueryParams:
    """Typed access to the query string; present-but-empty values are refused (minLength 1)."""

    def __init__(self, request: Request) -> None:
        self._params = request.query_params
        self._readings = readings_of(request)
        self._rbac = request.url.path.startswith("/api/core/rbac/")
        if "" in self._params:
            raise BadRequest("Malformed query string: a parameter has no name.")

    def has(self, name: str) -> bool:
        return name in self._params

    def str(self, name: str, *, required: bool = False) -> str | None:
        value = self._params.get(name)
        if value is None:
            if required:
                raise BadRequest(f"Query parameter '{name}' is required.")
            return None
        if value == "":
            raise BadRequest(f"Query parameter '{name}' must not be empty.")
        return value

    def int(self, name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        raw = self.str(name, required=required)
        if raw is None:
            return None
        text = raw.strip()
        if not re.fullmatch(r"[+-]?\d{1,25}", text):
            raise BadRequest(f"Query parameter '{name}' must be an integer.")
        value = int(text)
        if value < INT_MIN or value > INT_MAX:
            raise BadRequest(f"Query parameter '{name}' is out of range.")
        if minimum is not None and value < minimum:
            raise BadRequest(f"Query parameter '{name}' must be at least {minimum}.")
        return value

    def bool(self, name: str, *, default: bool | None = None) -> bool | None:
        raw = self.str(name)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise BadRequest(f"Query parameter '{name}' must be a boolean (true or false).")

    def email(self, name: str) -> str | None:
        raw = self.str(name)
        if raw is not None and not is_email(raw):
            raise BadRequest(f"Query parameter '{name}' must be an email address.")
        return raw

    def pagination(self) -> tuple[int, int]:
        """(page, page_size); below 1 is 400, unless a reading serves it (page below 1 then means an empty page)."""
        below_one_empty = self._rbac and self._readings.on("page-below-one-empty")
        page = self.int("page", minimum=None if below_one_empty else 1)
        size_default = self._readings.on("page-size-default")
        page_size = self.int("page_size", minimum=None if size_default else 1)
        if page_size is not None and page_size < 1:
            page_size = None  # page-size-default: served with the default page size
        return 1 if page is None else page, min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def sort(self, allowed: dict[str, str], default: str) -> tuple[str, bool]:
        """Return (SQL column, descending) for the ``sort`` parameter; 400 for unknown fields."""
        raw = self.str("sort") or default
        field = raw.strip()
        descending = field.startswith("-")
        if descending:
            field = field[1:]
        if field not in allowed:
            raise BadRequest(
                f"Unknown sort field '{raw}'. Allowed: {', '.join(sorted(allowed))} (prefix '-' to descend)."
            )
        return allowed[field], descending


class Body:
    """Typed access to a JSON object body."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def _get(self, name: str, required: bool, nullable: bool) -> Any:
        if name not in self.data:
            if required:
                raise BadRequest(f"Field '{name}' is required.")
            return _MISSING
        value = self.data[name]
        if value is None:
            if nullable:
                return None
            raise BadRequest(f"Field '{name}' may not be null.")
        return value

    def str(self, name: str, *, required: bool = False, nullable: bool = False,
            allow_empty: bool = False, max_length: int | None = None, default: Any = None) -> Any:
        value = self._get(name, required, nullable)
        if value is _MISSING:
            return default
        if value is None:
            return None
        if not isinstance(value, str):
            raise BadRequest(f"Field '{name}' must be a string.")
        if not allow_empty and value.strip() == "":
            if required:
                raise BadRequest(f"Field '{name}' may not be blank.")
            raise BadRequest(f"Field '{name}' may not be blank.")
        if max_length is not None and len(value) > max_length:
            raise BadRequest(f"Field '{name}' must be at most {max_length} characters.")
        return value

    def int(self, name: str, *, required: bool = False, nullable: bool = False,
            minimum: int | None = None, default: Any = None) -> Any:
        value = self._get(name, required, nullable)
        if value is _MISSING:
            return default
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"Field '{name}' must be an integer.")
        if value < INT_MIN or value > INT_MAX:
            raise BadRequest(f"Field '{name}' is out of range.")
        if minimum is not None and value < minimum:
            raise BadRequest(f"Field '{name}' must be at least {minimum}.")
        return value

    def bool(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        value = self._get(name, required, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise BadRequest(f"Field '{name}' must be a boolean.")
        return value

    def dict(self, name: str, *, required: bool = False, nullable: bool = False, default: Any = None) -> Any:
        value = self._get(name, required, nullable)
        if value is _MISSING:
            return default
        if value is None:
            return None
        if not isinstance(value, dict):
            raise BadRequest(f"Field '{name}' must be a JSON object.")
        return value

    def int_list(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        value = self._get(name, required, False)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            raise BadRequest(f"Field '{name}' must be a list of integers.")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not INT_MIN <= item <= INT_MAX:
                raise BadRequest(f"Field '{name}' must be a list of integers.")
        return list(dict.fromkeys(value))

    def str_list(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        value = self._get(name, required, False)
        if value is _MISSING:
            return default
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise BadRequest(f"Field '{name}' must be a list of strings.")
        return value

    def datetime(self, name: str, *, required: bool = False, nullable: bool = False, default: Any = None) -> Any:
        value = self._get(name, required, nullable)
        if value is _MISSING:
            return default
        if value is None:
            return None
        return normalize_datetime(name, value)

    def email(self, name: str, *, required: bool = False) -> str | None:
        value = self.str(name, required=required)
        if value is not None and not is_email(value):
            raise BadRequest(f"Field '{name}' must be an email address.")
        return value

    def uri(self, name: str, *, nullable: bool = False) -> str | None:
        """An absolute URI; an empty string counts as none (null)."""
        value = self.str(name, nullable=nullable, allow_empty=True)
        if value is None or value == "":
            return None
        if not is_uri(value):
            raise BadRequest(f"Field '{name}' must be an absolute URI.")
        return value


BODY_STATE = "raw_body"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# the array fields of the published request schemas: in a form each item is one more value under the field's name
FORM_ARRAY_FIELDS = frozenset({"suggestion_data", "resources", "users_to_add", "users_to_remove", "groups_to_add",
                               "groups_to_remove", "actions", "data_actions"})


class UnsupportedMediaType(ApiError):
    status_code = 415


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters ("" when it names none)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    """JSON and its structured-syntax kin (application/scim+json); no Content-Type at all is read as JSON too."""
    return media in ("", "application/json") or (media.startswith("application/") and media.endswith("+json"))


def read_body(request: Request, *, required: bool = True) -> Body:
    """Parse the request body: a JSON object (400 for invalid JSON or a non-object), or a form-urlencoded or
    multipart form (the published media types; 415 for any other).

    The bytes were read by the route dispatcher (``request.state.raw_body``) before the handler
    was sent to a worker thread.
    """
    raw: bytes = getattr(request.state, BODY_STATE, b"")
    if not raw.strip():  # nothing to parse, whatever its type says (Django REST framework parses no empty body)
        if required:
            raise BadRequest("A JSON object request body is required.")
        return Body({})
    media = media_type(request)
    if media in (FORM, MULTIPART):
        return FormBody(form_fields(raw, media, request.headers.get("content-type", "")))
    if not _is_json(media):
        raise UnsupportedMediaType(f"Unsupported media type {media!r} in request: send application/json, "
                                   f"{FORM} or {MULTIPART}.")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    try:  # a lone surrogate (e.g. "\\ud800") is valid JSON but no valid text
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("The request body contains invalid Unicode text.") from None
    return Body(data)


# ---- form bodies ---------------------------------------------------------------------------------

def form_fields(raw: bytes, media: str, content_type: str) -> dict[str, list[str]]:
    """The fields of a form body, each with every value sent under its name (in order)."""
    pairs = _urlencoded_pairs(raw) if media == FORM else _multipart_pairs(raw, content_type)
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


def _urlencoded_pairs(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form body is not valid UTF-8 form-urlencoded text.") from None


def _multipart_pairs(raw: bytes, content_type: str) -> list[tuple[str, str]]:
    """(name, text) of every part; a file part counts as its content, read as UTF-8 text."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1", "replace")
                                                  + b"\r\n\r\n" + raw)
    if not message.is_multipart() or message.defects:
        raise BadRequest("The multipart body is malformed (no boundary, or parts that do not parse).")
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") if isinstance(part, Message) else None
        if not isinstance(name, str):
            raise BadRequest("A part of the multipart body has no name.")
        pairs.append((name, _part_text(part)))
    return pairs


def _part_text(part: Message) -> str:
    content = part.get_payload(decode=True)
    try:
        return (content or b"").decode(part.get_content_charset() or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadRequest("A part of the multipart body is not valid text.") from None


def _form_int(text: str) -> Any:
    return int(text) if re.fullmatch(r"\s*[+-]?\d{1,25}\s*", text) else text


def _form_bool(text: str) -> Any:
    lowered = text.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else text


def _form_json(text: str) -> Any:
    """An object sent as JSON text (the encoding this reference reads; text that is no JSON stays text)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return text


class FormBody(Body):
    """A form-urlencoded or multipart body: text values, each read by the type its accessor (the published schema)
    gives the field. Arrays are the values of a repeated name, objects are JSON text, booleans and integers their
    text; an empty value of a nullable field is null (as Django REST framework reads HTML forms)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__({name: values[-1] for name, values in fields.items()})
        self.fields = fields

    def raw(self, name: str, default: Any = None) -> Any:
        if name in FORM_ARRAY_FIELDS and name in self.fields:
            return [_form_json(value) if value.lstrip().startswith("{") else value for value in self.fields[name]]
        return self.data.get(name, default)

    def _typed(self, name: str, convert: Any, nullable: bool = True) -> Body:
        """A JSON body holding `name` alone, its text converted (text that does not convert stays text, for the
        typed accessor to refuse)."""
        if name not in self.fields:
            return Body({})
        text = self.data[name]
        return Body({name: None if text == "" and nullable else convert(text)})

    def str(self, name: str, *, required: bool = False, nullable: bool = False,
            allow_empty: bool = False, max_length: int | None = None, default: Any = None) -> Any:
        typed = self._typed(name, lambda text: text, nullable and not allow_empty)
        return typed.str(name, required=required, nullable=nullable, allow_empty=allow_empty,
                         max_length=max_length, default=default)

    def int(self, name: str, *, required: bool = False, nullable: bool = False,
            minimum: int | None = None, default: Any = None) -> Any:
        return self._typed(name, _form_int).int(name, required=required, nullable=nullable, minimum=minimum,
                                                default=default)

    def bool(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        return self._typed(name, _form_bool).bool(name, required=required, default=default)

    def dict(self, name: str, *, required: bool = False, nullable: bool = False, default: Any = None) -> Any:
        return self._typed(name, _form_json).dict(name, required=required, nullable=nullable, default=default)

    def datetime(self, name: str, *, required: bool = False, nullable: bool = False, default: Any = None) -> Any:
        return self._typed(name, lambda text: text).datetime(name, required=required, nullable=nullable,
                                                             default=default)

    def int_list(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        values = self.fields.get(name)
        listed = Body({} if values is None else {name: [_form_int(value) for value in values]})
        return listed.int_list(name, required=required, default=default)

    def str_list(self, name: str, *, required: bool = False, default: Any = None) -> Any:
        values = self.fields.get(name)
        return Body({} if values is None else {name: list(values)}).str_list(name, required=required, default=default)


def page_url(request: Request, page: int) -> str:
    return str(request.url.include_query_params(page=page))


def page_bounds(count: int, page: int, page_size: int) -> tuple[int, bool, int | None]:
    """(offset, has_next, previous page number or None)."""
    offset = (page - 1) * page_size
    has_next = offset + page_size < count
    last_page = max(1, math.ceil(count / page_size))
    previous = min(page - 1, last_page) if page > 1 else None
    return offset, has_next, previous


def page_window(page: int, page_size: int) -> tuple[int, int]:
    """(offset, limit) of a page; a page below 1 (served only under page-below-one-empty) holds nothing."""
    if page < 1:
        return 0, 0
    return (page - 1) * page_size, page_size


def check_page_exists(request: Request, count: int, page: int, page_size: int) -> None:
    """Under page-past-end-404, a page past the last one is 404 (Django REST framework's 'Invalid page')."""
    if readings_of(request).on("page-past-end-404") and page > max(1, math.ceil(count / page_size)):
        raise NotFound("Invalid page.")


def catalog_page(request: Request, count: int, page: int, page_size: int, results: list[Any]) -> dict[str, Any]:
    """Catalog list body: ``count``, ``next_page``, ``previous_page``, ``results`` (``next`` / ``previous`` under
    bare-shapes, as in the prose examples)."""
    check_page_exists(request, count, page, page_size)
    _, has_next, previous = page_bounds(count, page, page_size)
    next_key, previous_key = ("next", "previous") if readings_of(request).on("bare-shapes") else \
        ("next_page", "previous_page")
    return {
        "count": count,
        next_key: page_url(request, page + 1) if has_next else None,
        previous_key: page_url(request, previous) if previous else None,
        "results": results,
    }


def drf_page(request: Request, count: int, page: int, page_size: int, results: list[Any]) -> dict[str, Any]:
    """RBAC list body (DRF style): ``count``, ``next``, ``previous``, ``results``."""
    check_page_exists(request, count, page, page_size)
    _, has_next, previous = page_bounds(count, page, page_size)
    return {
        "count": count,
        "next": page_url(request, page + 1) if has_next else None,
        "previous": page_url(request, previous) if previous else None,
        "results": results,
    }
