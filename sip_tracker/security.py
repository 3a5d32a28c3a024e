"""HTTP response headers that keep the browser from doing what a care record never needs."""

from __future__ import annotations

from flask import Flask, Response

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


def init_app(app: Flask) -> None:
    @app.after_request
    def protect(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            # Pages show personal data: never keep them in a shared cache or the back button.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
