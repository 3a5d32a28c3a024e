"""Versions of the records colleagues edit at the same time, so no save overwrites unseen work.

A form carries the version of the record it was loaded from (`lock_version`). Saving it,
the service calls `save_version`: a record saved by someone else since then is refused
(StaleVersion, naming who saved; the view answers 409 with the user's text still in the
form), otherwise the record takes the next version. The database checks too: every UPDATE
of a versioned row says `WHERE lock_version = <the version read>` (SQLAlchemy's
version_id_col), so of two saves that pass the check at the same moment only the first
can flush; `web.attempt` turns the second one's StaleDataError into the same refusal.

Only a save moves the version on (version_id_generator=False). Other changes to the row,
such as a case moving to its next stage, are no new version a colleague must reload for;
the plan (plans/models.py) counts every change of its row instead, as it did before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from sip_tracker.db import db
from sip_tracker.errors import StaleVersion

if TYPE_CHECKING:
    from sip_tracker.auth.models import User


class Versioned:
    """Mixin for a model whose forms carry a version: the counter and who saved last."""

    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        # Only who saved last, for the message: created after the tables (use_alter), as
        # unit and user_account would otherwise each need the other first.
        return mapped_column(ForeignKey("user_account.id", ondelete="SET NULL", use_alter=True))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.lock_version, "version_id_generator": False}


def save_version(
    record: Versioned, *, user: User | None, lock_version: int | None, what: str
) -> None:
    """Refuse the save if the record was saved since the form was loaded; else move it on.

    lock_version None means no check (the FHIR importer, the demo loader), but the version
    still moves on, so a colleague's open form learns of the change. `what` names the
    record in the message, in the definite form ("ärendet", "mötet").
    """
    if lock_version is not None and lock_version != record.lock_version:
        raise StaleVersion(stale_message(record, what))
    next_version(record, user=user)


def next_version(record: Versioned, *, user: User | None) -> None:
    """Count a change as a new version (by the user, or by no one: a file import)."""
    record.lock_version = record.lock_version + 1
    record.updated_by_id = user.id if user is not None else None


def stale_message(record: Versioned, what: str) -> str:
    """Say who saved the record meanwhile, and what to do with the text kept in the form."""
    from sip_tracker.auth.models import User

    saver = db.session.get(User, record.updated_by_id) if record.updated_by_id else None
    return _(
        "%(who)s sparade %(what)s medan du redigerade. Din text finns kvar nedan: läs in"
        " sidan på nytt och för över dina ändringar.",
        who=saver.name if saver is not None else _("Någon annan"),
        what=what,
    )


def concurrent_save_message() -> str:
    """Tell the second of two saves made at the same moment to reload and carry its text over."""
    return _(
        "Någon annan sparade samma uppgifter i samma stund. Din text finns kvar nedan: läs in"
        " sidan på nytt och för över dina ändringar."
    )
