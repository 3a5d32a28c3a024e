"""Plan pages: edit the draft, establish (fastställ) a version, read versions, follow up."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/cases/<int:case_id>")
