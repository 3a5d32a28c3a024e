"""Administrators' pages for huvudmän and units."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import select

from sip_tracker.auth.views import require_admin
from sip_tracker.db import db
from sip_tracker.organizations.models import Huvudman

bp = Blueprint("organizations", __name__, url_prefix="/admin")


@bp.route("/units")
@login_required
def units() -> str:
    require_admin()
    huvudman = db.session.scalars(
        select(Huvudman).order_by(Huvudman.kind.desc(), Huvudman.name)
    ).all()
    return render_template("admin/units.html", huvudman=huvudman)
