"""Administrators' pages for huvudmän and units."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from sip_tracker.auth.views import require_admin
from sip_tracker.db import db
from sip_tracker.guards import database_int
from sip_tracker.organizations.forms import UnitForm
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.organizations.services import save_unit
from sip_tracker.web import attempt, page

bp = Blueprint("organizations", __name__, url_prefix="/admin")


@bp.route("/units")
@login_required
def units() -> tuple[str, int]:
    require_admin()
    huvudman = db.session.scalars(
        select(Huvudman)
        .options(selectinload(Huvudman.units))
        .order_by(Huvudman.kind.desc(), Huvudman.name)
    ).all()
    return page("admin/units.html", huvudman=huvudman)


def _save(form: UnitForm, unit: Unit | None) -> Unit:
    return save_unit(
        unit,
        huvudman=db.session.get_one(Huvudman, form.huvudman_id.data),
        name=form.name.data or "",
        hsa_id=form.hsa_id.data,
        active=bool(form.active.data),
        functional_mailbox=form.functional_mailbox.data,
        lock_version=form.lock_version.data if unit is not None else None,
        user=current_user,
    )


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new_unit() -> Response | tuple[str, int]:
    require_admin()
    # ?huvudman=<id> preselects the huvudman when coming from its section of the list.
    form = UnitForm(data={"huvudman_id": request.args.get("huvudman", type=database_int)})
    del form.lock_version  # nobody else can have saved a unit not yet made
    form.load_choices()
    if form.validate_on_submit():
        done = attempt(form, lambda: _save(form, None))
        if done.ok and done.value is not None:
            flash(_("Enheten %(name)s är skapad.", name=done.value.name), "success")
            return _back_to_list(done.value)
    return page("admin/unit_form.html", form, unit=None)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def edit_unit(unit_id: int) -> Response | tuple[str, int]:
    require_admin()
    unit = db.get_or_404(Unit, unit_id)
    data: dict[str, Any] = {
        "huvudman_id": unit.huvudman_id,
        "name": unit.name,
        "hsa_id": unit.hsa_id,
        "active": unit.active,
        "functional_mailbox": unit.functional_mailbox,
        "lock_version": unit.lock_version,
    }
    form = UnitForm(data=data)
    form.load_choices()
    if form.validate_on_submit():
        done = attempt(form, lambda: _save(form, unit))
        if done.ok:
            flash(_("Ändringarna för %(name)s är sparade.", name=unit.name), "success")
            return _back_to_list(unit)
    return page("admin/unit_form.html", form, unit=unit)


def _back_to_list(unit: Unit) -> Response:
    return redirect(url_for("organizations.units", _anchor=f"huvudman-{unit.huvudman_id}"))
