"""The case pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("cases", __name__)


@bp.route("/")
@login_required
def overview() -> str:
    return render_template("cases/overview.html")


@bp.route("/cases/new")
@login_required
def new_case() -> str:
    return render_template("cases/overview.html")
