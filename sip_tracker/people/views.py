"""Pages about a person: details, vårdnadshavare and närstående."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")
