"""Login, logout, and the administrators' user pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from sip_tracker.auth.forms import ROLE_LABELS, LoginForm, UserForm
from sip_tracker.auth.models import Role, User
from sip_tracker.auth.services import authenticate, create_user, update_user
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.extensions import login_manager
from sip_tracker.forms import show_error, unit_choices
from sip_tracker.organizations.models import Huvudman, Unit

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


login_manager.login_message = "Logga in för att fortsätta."


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("cases.overview"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.password.errors.append(_("Fel e-postadress eller lösenord."))
        else:
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("cases.overview"))
    status = 200 if not form.errors else 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    flash(_("Du är utloggad."), "success")
    return redirect(url_for("auth.login"))


def require_admin() -> None:
    if not current_user.is_authenticated or current_user.role != Role.ADMINISTRATOR:
        abort(403)


@bp.route("/admin/users")
@login_required
def users() -> str:
    require_admin()
    rows = db.session.scalars(
        select(User).join(User.unit).join(Unit.huvudman).order_by(Huvudman.name, User.name)
    ).all()
    return render_template("admin/users.html", users=rows, role_labels=ROLE_LABELS)


def _user_form(user: User | None = None) -> UserForm:
    form = UserForm(obj=None)
    if user is not None and request.method == "GET":
        form.name.data = user.name
        form.email.data = user.email
        form.role.data = user.role.value
        form.unit_id.data = user.unit_id
        form.reviewed_unit_ids.data = [u.id for u in user.reviewed_units]
        form.active.data = user.active
    form.unit_id.load()
    form.reviewed_unit_ids.choices = unit_choices()
    return form


def _units(ids: list[int]) -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)))) if ids else []


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> str | Response | tuple[str, int]:
    require_admin()
    form = _user_form()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("Ange ett lösenord för det nya kontot."))
        else:
            try:
                user = create_user(
                    email=form.email.data or "",
                    name=form.name.data or "",
                    password=form.password.data,
                    role=Role(form.role.data),
                    unit=db.session.get_one(Unit, form.unit_id.data),
                    reviewed_units=_units(form.reviewed_unit_ids.data or []),
                )
                user.active = bool(form.active.data)
                db.session.commit()
                flash(_("Användaren %(name)s är skapad.", name=user.name), "success")
                return redirect(url_for("auth.users"))
            except DomainError as error:
                db.session.rollback()
                show_error(form, error)
    status = 422 if form.errors else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    require_admin()
    user = db.get_or_404(User, user_id)
    form = _user_form(user)
    del form.email  # the login name does not change; make a new account instead
    if form.validate_on_submit():
        try:
            update_user(
                user,
                name=form.name.data or "",
                role=Role(form.role.data),
                unit=db.session.get_one(Unit, form.unit_id.data),
                active=bool(form.active.data),
                reviewed_units=_units(form.reviewed_unit_ids.data or []),
                password=form.password.data or None,
            )
            db.session.commit()
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("auth.users"))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
    status = 422 if form.errors else 200
    return render_template("admin/user_form.html", form=form, user=user), status
