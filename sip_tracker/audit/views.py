"""Administrators read the access log, person by person."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from sip_tracker.auth.views import require_admin

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.route("/")
@login_required
def search() -> str:
    require_admin()
    return render_template("audit/search.html")
