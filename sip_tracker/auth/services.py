"""Accounts: create, sign in, update, change a password, end sessions."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from sip_tracker.auth.models import Role, User
from sip_tracker.auth.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from sip_tracker.auth.throttle import LoginLocked, keys_for, login_throttle
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Unit
from sip_tracker.versions import save_version


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    unit: Unit,
    reviewed_units: list[Unit] | None = None,
    active: bool = True,
) -> User:
    """Create an account; the email must be new and the password hard to guess."""
    if user_by_email(email) is not None:
        raise DomainError(
            _("Det finns redan en användare med e-postadressen %(email)s.", email=email), "email"
        )
    _check_password(password, name, email)
    reviewed = _reviewed(role, reviewed_units or [])
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        unit=unit,
        active=active,
        reviewed_units=reviewed,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    acting_user: User | None,
    name: str,
    role: Role,
    unit: Unit,
    active: bool,
    reviewed_units: list[Unit],
    password: str | None = None,
    lock_version: int | None = None,
) -> None:
    """Change an account; administrators cannot lock themselves out.

    A new password or a deactivation ends every session the user has.
    """
    save_version(user, user=acting_user, lock_version=lock_version, what=_("användaren"))
    if acting_user is not None and user.id == acting_user.id:
        if role != Role.ADMINISTRATOR:
            raise DomainError(_("Du kan inte ta bort din egen administratörsroll."), "role")
        if not active:
            raise DomainError(_("Du kan inte stänga av ditt eget konto."), "active")
    reviewed = _reviewed(role, reviewed_units)
    if password:
        _check_password(password, name, user.email)
        user.password_hash = hash_password(password)
        end_sessions(user)
    elif user.active and not active:
        end_sessions(user)
    user.name = name.strip()
    user.role = role
    user.unit = unit
    user.active = active
    user.reviewed_units = reviewed
    db.session.flush()


def change_own_password(user: User, *, current_password: str, new_password: str) -> None:
    """Set a new password, known to be the user's by the current one; end every session.

    The caller starts a new session for the browser the user changed it in.
    """
    if not verify_password(user.password_hash, current_password):
        raise DomainError(_("Det nuvarande lösenordet är fel."), "current_password")
    if verify_password(user.password_hash, new_password):
        raise DomainError(_("Det nya lösenordet måste skilja sig från det nuvarande."), "password")
    _check_password(new_password, user.name, user.email)
    user.password_hash = hash_password(new_password)
    end_sessions(user)


def set_email_notifications(user: User, *, enabled: bool) -> None:
    """The user's own choice: an e-mail (kind and link only) for each new inbox item."""
    user.email_notifications = enabled
    db.session.flush()


def end_sessions(user: User) -> None:
    """End every session of the user, in every browser and worker, at their next request."""
    user.session_generation += 1
    db.session.flush()


def _check_password(password: str, name: str, email: str) -> None:
    problem = password_problem(password, about_user=(name, email))
    if problem:
        raise DomainError(problem, "password")


def _reviewed(role: Role, units: list[Unit]) -> list[Unit]:
    """A granskare reviews at least one unit; other roles review none."""
    if role != Role.GRANSKARE:
        return []
    if not units:
        raise DomainError(_("Välj minst en enhet som granskaren ska granska."), "reviewed_unit_ids")
    return list(units)


def sign_in(email: str, password: str, address: str) -> User:
    """The active user with this email and password, unless too many sign-ins failed lately.

    address: the client's IP address. A refusal is counted before it is raised, so do not
    call this inside a savepoint (web.attempt) that would roll the count back.
    """
    throttle = login_throttle()
    keys = keys_for(email, address)
    with throttle.guard(keys):
        wait = throttle.wait(keys)
        if wait > 0:
            # Checked before the password: a right guess during the lock reveals nothing.
            raise LoginLocked(wait)
        try:
            return authenticate(email, password)
        except DomainError:
            throttle.record_failure(keys)
            raise


def authenticate(email: str, password: str) -> User:
    """The active user with this email and password; a DomainError otherwise.

    Only someone who knows the password learns that the account is switched off.
    """
    user = user_by_email(email)
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise DomainError(_("Fel e-postadress eller lösenord."))
    if not verify_password(user.password_hash, password):
        raise DomainError(_("Fel e-postadress eller lösenord."))
    if not user.active:
        raise DomainError(_("Kontot är avstängt. Kontakta en administratör."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
