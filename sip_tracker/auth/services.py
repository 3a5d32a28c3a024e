"""Accounts: create, authenticate, update."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from sip_tracker.auth.models import Role, User
from sip_tracker.auth.passwords import (
    DUMMY_HASH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Unit


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
) -> User:
    """Create an account; the email must be new and the password long enough."""
    if user_by_email(email) is not None:
        raise DomainError(
            _("Det finns redan en användare med e-postadressen %(email)s.", email=email), "email"
        )
    if len(password) < MIN_LENGTH:
        raise DomainError(_("Lösenordet måste ha minst %(n)d tecken.", n=MIN_LENGTH), "password")
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        unit=unit,
        reviewed_units=list(reviewed_units or []) if role == Role.GRANSKARE else [],
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    name: str,
    role: Role,
    unit: Unit,
    active: bool,
    reviewed_units: list[Unit],
    password: str | None = None,
) -> None:
    user.name = name.strip()
    user.role = role
    user.unit = unit
    user.active = active
    user.reviewed_units = list(reviewed_units) if role == Role.GRANSKARE else []
    if password:
        if len(password) < MIN_LENGTH:
            raise DomainError(
                _("Lösenordet måste ha minst %(n)d tecken.", n=MIN_LENGTH), "password"
            )
        user.password_hash = hash_password(password)
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = user_by_email(email)
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
