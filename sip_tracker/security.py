"""HTTP response headers that keep the browser from doing what a care record never needs."""

from __future__ import annotations

from flask import Flask, Response, request

HEADERS = {
    # Only our own scripts, styles and images; nothing framed, nothing inline.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# Answers with nothing personal in them, which a cache may keep: the style sheet, and the
# FHIR CapabilityStatement and conformance resources (the published contract).
CACHEABLE_ENDPOINTS = frozenset(
    {"static", "fhir.metadata", "fhir.conformance_read", "fhir.conformance_search"}
)
# A year, the least that browsers' HSTS preload lists accept.
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    @app.after_request
    def protect(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # Pages, FHIR answers, downloads: personal data, never kept in a shared cache or
            # the back button. Replaces what send_file sets ("no-cache" still stores).
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure or app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
