"""What the app refuses before a view sees it: ids beyond the database's integers, NUL
characters, and bodies over the size limit.

Each would otherwise reach the database and fail there (a 500): PostgreSQL's integer holds
up to 2^31 - 1 and its text no NUL (U+0000). One rule for every route, so that no form,
query or FHIR body is left out: a NUL anywhere in a request (path, query, header, form
field, JSON string) is a 400, told as a Swedish page or, under /fhir, an OperationOutcome.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

# The largest id a row can have: PostgreSQL's integer, the narrower of our two databases.
MAX_ID = 2**31 - 1

# A \u0000 escape in JSON: one preceded by an even number of backslashes (`\\u0000` is the
# text "\u0000", not a NUL).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: an id the database can hold, or no match (404)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def database_id(text: str) -> int | None:
    """The id that text names, if a row could have it: ASCII digits up to MAX_ID."""
    if len(text) <= len(str(MAX_ID)) and text.isascii() and text.isdigit():
        value = int(text)
        return value if value <= MAX_ID else None
    return None


def database_int(text: str) -> int:
    """A query argument as an id-sized integer; ValueError otherwise (the `type=` of args)."""
    value = database_id(text)
    if value is None:
        raise ValueError(f"{text!r} is no id")
    return value


class NulCharacter(BadRequest):
    """The request holds a NUL character, which no field or parameter may contain."""

    description = "The request holds a NUL character (U+0000), which no value may contain."
    detail = _l(
        "Det du skickade innehåller ett NUL-tecken (U+0000), som ingen text här får innehålla. "
        "Ta bort tecknet, till exempel genom att skriva in texten på nytt, och försök igen."
    )


class TooLarge(RequestEntityTooLarge):
    """The body is larger than this part of the app accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than the {limit} bytes this server accepts here.")


def body_limit(app: Flask, path: str) -> int:
    """The largest body the path accepts: FHIR Bundles are larger than any form."""
    if path == "/fhir" or path.startswith("/fhir/"):
        return int(app.config["FHIR_MAX_CONTENT_LENGTH"])
    return int(app.config["MAX_CONTENT_LENGTH"])


def _has_nul(values: Any) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values)


def refuse_bad_requests() -> None:
    """Refuse a body over its limit (413) and a NUL anywhere in the request (400)."""
    limit = body_limit(current_app, request.path)
    # A byte over the limit: Werkzeug stops a streamed body (no Content-Length) at its
    # maximum without a word, and one byte more tells "too big" from "exactly the limit".
    request.max_content_length = limit + 1
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(limit)
    if (
        "\x00" in request.path
        or _has_nul(request.args.items(multi=True))
        or _has_nul(request.headers.items())
    ):
        raise NulCharacter()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if _has_nul(request.form.items(multi=True)) or any(
            "\x00" in (file.filename or "") for file in request.files.values()
        ):
            raise NulCharacter()
    elif request.content_length or request.environ.get("wsgi.input_terminated"):
        body = request.get_data(cache=True)  # kept for the view
        if len(body) > limit:
            raise TooLarge(limit)
        if b"\x00" in body or (request.mimetype.endswith("json") and _JSON_NUL.search(body)):
            raise NulCharacter()


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` route argument and check every request before its view.

    Call before any blueprint is registered (a rule takes its converter when it is added)
    and before the other request hooks, so that none of them reads what is refused here.
    """
    app.url_map.converters["int"] = DatabaseId
    app.before_request(refuse_bad_requests)
