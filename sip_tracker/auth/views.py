"""Login, logout, and the administrators' user pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.wrappers import Response

from sip_tracker.auth import sessions
from sip_tracker.auth.forms import (
    ROLE_LABELS,
    LoginForm,
    NewUserForm,
    NotificationSettingsForm,
    PasswordChangeForm,
    UserForm,
)
from sip_tracker.auth.models import Role, User
from sip_tracker.auth.passwords import MIN_LENGTH
from sip_tracker.auth.services import (
    change_own_password,
    create_user,
    end_sessions,
    set_email_notifications,
    sign_in,
    update_user,
)
from sip_tracker.auth.throttle import LoginLocked
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.extensions import login_manager
from sip_tracker.forms import show_error
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.today.views import start_page
from sip_tracker.web import attempt, page

bp = Blueprint("auth", __name__)

login_manager.login_message = _l("Logga in för att fortsätta.")
login_manager.localize_callback = str  # the flash message is stored in the session as text


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user while the session may go on (sessions.is_current); else None."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not sessions.is_current(user, user_id):
        sessions.refuse()
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """A path on this site, or None: never an open redirect after login.

    Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.example"
    and "/\\t/evil.example" would both leave the site.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def require_admin() -> None:
    """Refuse (403) anyone but an administrator."""
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(403)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(start_page(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        # Not through attempt(): its savepoint would roll back the count of a failure.
        try:
            user = sign_in(
                form.email.data or "", form.password.data or "", request.remote_addr or ""
            )
        except LoginLocked as error:
            show_error(form, error)
            html, _status = page("auth/login.html", form)
            return make_response(html, 429, {"Retry-After": str(error.retry_after)})
        except DomainError as error:
            show_error(form, error)
        else:
            sessions.start(user)
            return redirect(safe_next(request.args.get("next")) or start_page(user))
    return page("auth/login.html", form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out: every session of the user ends, in this browser and any other."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    sessions.end()
    flash(_("Du är utloggad."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    user: User = current_user._get_current_object()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: change_own_password(
                user,
                current_password=form.current_password.data or "",
                new_password=form.password.data or "",
            ),
        )
        if done.ok:
            sessions.start(user)
            flash(
                _("Lösenordet är bytt. Du är utloggad överallt utom här."),
                "success",
            )
            return redirect(url_for("cases.overview"))
    return page("auth/password.html", form, min_length=MIN_LENGTH)


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> Response | tuple[str, int]:
    """The user's own setting: e-mail for new inbox items, on or off."""
    user: User = current_user._get_current_object()
    form = NotificationSettingsForm()
    if not form.is_submitted():  # an unticked box sends nothing: never fill in the old value
        form.email_notifications.data = user.email_notifications
    if form.validate_on_submit():
        enabled = bool(form.email_notifications.data)
        done = attempt(form, lambda: set_email_notifications(user, enabled=enabled))
        if done.ok:
            if enabled:
                flash(_("Du får e-post när något nytt kommer till din inkorg."), "success")
            else:
                flash(_("Du får inte längre e-post om din inkorg."), "success")
            return redirect(url_for("auth.notifications"))
    return page(
        "auth/notifications.html",
        form,
        mail_configured=bool(current_app.config["SMTP_HOST"]),
    )


@bp.route("/admin/users")
@login_required
def users() -> tuple[str, int]:
    require_admin()
    rows = db.session.scalars(
        select(User)
        .join(User.unit)
        .join(Unit.huvudman)
        .options(
            contains_eager(User.unit).contains_eager(Unit.huvudman),
            selectinload(User.reviewed_units),
        )
        .order_by(Huvudman.kind.desc(), Huvudman.name, User.name)
    ).all()
    return page("admin/users.html", users=rows, role_labels=ROLE_LABELS)


def _units(ids: list[int]) -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)))) if ids else []


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> Response | tuple[str, int]:
    require_admin()
    form = NewUserForm()
    form.load_choices()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: create_user(
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                role=Role(form.role.data),
                unit=db.session.get_one(Unit, form.unit_id.data),
                reviewed_units=_units(form.reviewed_unit_ids.data or []),
                active=bool(form.active.data),
            ),
        )
        if done.ok and done.value is not None:
            flash(_("Användaren %(name)s är skapad.", name=done.value.name), "success")
            return redirect(url_for("auth.users"))
    return page("admin/user_form.html", form, user=None, min_length=MIN_LENGTH)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int) -> Response | tuple[str, int]:
    require_admin()
    user = db.get_or_404(User, user_id)
    reviewed_ids = [unit.id for unit in user.reviewed_units]
    form = UserForm(
        data={
            "name": user.name,
            "role": user.role.value,
            "unit_id": user.unit_id,
            "reviewed_unit_ids": reviewed_ids,
            "active": user.active,
            "lock_version": user.lock_version,
        }
    )
    form.load_choices(keep=[user.unit_id, *reviewed_ids])
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: update_user(
                user,
                acting_user=current_user,
                name=form.name.data or "",
                role=Role(form.role.data),
                unit=db.session.get_one(Unit, form.unit_id.data),
                active=bool(form.active.data),
                reviewed_units=_units(form.reviewed_unit_ids.data or []),
                password=form.password.data or None,
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            if user.id == current_user.id and form.password.data:
                sessions.start(user)  # a new password ended this session too
            flash(_("Ändringarna för %(name)s är sparade.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    return page("admin/user_form.html", form, user=user, min_length=MIN_LENGTH)
