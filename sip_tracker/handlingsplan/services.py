"""Changes to the action plan: loading a file, the administrators' edits, and case links.

Services flush and raise DomainError; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from sip_tracker.auth.models import User
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.models import SipCase
from sip_tracker.changes import action_plan_changed
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.handlingsplan.files import PlanFile
from sip_tracker.handlingsplan.models import (
    ACTIVITY_STATUS_LABELS,
    Activity,
    ActivityStatus,
    CaseActivity,
    Malomrade,
    PlanSakomrade,
    StrategiskInriktning,
)
from sip_tracker.versions import Versioned, next_version, save_version


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, created: bool, changed: bool) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1


def _assign(target: Any, **values: Any) -> bool:
    """Set the attributes that differ; report whether any did (so an unchanged row stays
    untouched and a second import writes nothing)."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _existing(model: Any, key: str) -> dict[str, Any]:
    """Every row of the model, by its natural key."""
    return {getattr(row, key): row for row in db.session.scalars(select(model))}


def _count_version(row: Versioned, created: bool, changed: bool) -> None:
    """A row the file changed is a new version: a form opened before the import cannot
    save over it unseen."""
    if changed and not created:
        next_version(row, user=None)


def _find_or_add(rows: dict[str, Any], model: Any, key: str, value: str) -> tuple[Any, bool]:
    """The row with this key, or a new one added to the session; and whether it is new."""
    if value in rows:
        return rows[value], False
    row = rows[value] = model(**{key: value})
    db.session.add(row)
    return row, True


def known_codes() -> tuple[set[str], set[str]]:
    """The målområde and sakområde codes already in the database."""
    return (
        set(db.session.scalars(select(Malomrade.code))),
        set(db.session.scalars(select(PlanSakomrade.code))),
    )


def import_plan(plan: PlanFile) -> ImportSummary:
    """Insert or update every row of a checked file, by code and identifier.

    Rows missing from the file are left alone: a file with next year's activities does not
    remove this year's.
    """
    summary = ImportSummary()
    malomraden = _existing(Malomrade, "code")
    for row in plan.malomraden:
        malomrade, created = _find_or_add(malomraden, Malomrade, "code", row.code)
        changed = _assign(
            malomrade, title=row.title, description=row.description, position=row.position
        )
        _count_version(malomrade, created, changed)
        summary.count(created, changed)
    db.session.flush()

    inriktningar = _existing(StrategiskInriktning, "code")
    for irow in plan.inriktningar:
        inriktning, created = _find_or_add(inriktningar, StrategiskInriktning, "code", irow.code)
        changed = _assign(
            inriktning,
            malomrade_id=malomraden[irow.malomrade].id,
            title=irow.title,
            description=irow.description,
            position=irow.position,
        )
        _count_version(inriktning, created, changed)
        summary.count(created, changed)

    sakomraden = _existing(PlanSakomrade, "code")
    for srow in plan.sakomraden:
        sakomrade, created = _find_or_add(sakomraden, PlanSakomrade, "code", srow.code)
        changed = _assign(
            sakomrade, title=srow.title, description=srow.description, position=srow.position
        )
        _count_version(sakomrade, created, changed)
        summary.count(created, changed)
    db.session.flush()

    activities = _existing(Activity, "identifier")
    for arow in plan.activities:
        activity, created = _find_or_add(activities, Activity, "identifier", arow.identifier)
        changed = _assign(
            activity,
            title=arow.title,
            description=arow.description,
            year_from=arow.year_from,
            year_to=arow.year_to,
            responsible_group=arow.responsible_group,
            status=arow.status,
        )
        wanted_m = [malomraden[c] for c in arow.malomraden]
        wanted_s = [sakomraden[c] for c in arow.sakomraden]
        if created or {m.code for m in activity.malomraden} != set(arow.malomraden):
            activity.malomraden = wanted_m
            changed = True
        if created or {s.code for s in activity.sakomraden} != set(arow.sakomraden):
            activity.sakomraden = wanted_s
            changed = True
        _count_version(activity, created, changed)
        summary.count(created, changed and not created)
    db.session.flush()
    action_plan_changed()
    return summary


# The administrators' edits -----------------------------------------------------------


def _code_taken(model: Any, column: Any, code: str, current: Any) -> bool:
    found = db.session.scalar(select(model).where(column == code))
    return found is not None and found is not current


def save_malomrade(
    malomrade: Malomrade | None,
    *,
    code: str,
    title: str,
    description: str,
    position: int,
    lock_version: int | None = None,
    user: User | None = None,
) -> Malomrade:
    """Create or change a målområde; its code is fixed once created."""
    if malomrade is not None:
        save_version(malomrade, user=user, lock_version=lock_version, what=_("målområdet"))
    else:
        if _code_taken(Malomrade, Malomrade.code, code, None):
            raise DomainError(
                _("Det finns redan ett målområde med koden %(code)s.", code=code), "code"
            )
        malomrade = Malomrade(code=code)
        db.session.add(malomrade)
    _assign(malomrade, title=title.strip(), description=description.strip(), position=position)
    db.session.flush()
    action_plan_changed()
    return malomrade


def save_inriktning(
    inriktning: StrategiskInriktning | None,
    *,
    malomrade: Malomrade,
    code: str,
    title: str,
    description: str,
    position: int,
    lock_version: int | None = None,
    user: User | None = None,
) -> StrategiskInriktning:
    """Create or change a strategisk inriktning; its code is fixed once created."""
    if inriktning is not None:
        save_version(
            inriktning,
            user=user,
            lock_version=lock_version,
            what=_("den strategiska inriktningen"),
        )
    else:
        if _code_taken(StrategiskInriktning, StrategiskInriktning.code, code, None):
            raise DomainError(
                _("Det finns redan en strategisk inriktning med koden %(code)s.", code=code), "code"
            )
        inriktning = StrategiskInriktning(code=code)
        db.session.add(inriktning)
    _assign(
        inriktning,
        malomrade_id=malomrade.id,
        title=title.strip(),
        description=description.strip(),
        position=position,
    )
    db.session.flush()
    action_plan_changed()
    return inriktning


def save_sakomrade(
    sakomrade: PlanSakomrade | None,
    *,
    code: str,
    title: str,
    description: str,
    position: int,
    lock_version: int | None = None,
    user: User | None = None,
) -> PlanSakomrade:
    """Create or change a sakområde; its code is fixed once created."""
    if sakomrade is not None:
        save_version(sakomrade, user=user, lock_version=lock_version, what=_("sakområdet"))
    else:
        if db.session.get(PlanSakomrade, code) is not None:
            raise DomainError(
                _("Det finns redan ett sakområde med koden %(code)s.", code=code), "code"
            )
        sakomrade = PlanSakomrade(code=code)
        db.session.add(sakomrade)
    _assign(sakomrade, title=title.strip(), description=description.strip(), position=position)
    db.session.flush()
    action_plan_changed()
    return sakomrade


def save_activity(
    activity: Activity | None,
    *,
    identifier: str,
    title: str,
    description: str,
    year_from: int,
    year_to: int,
    malomraden: Sequence[Malomrade],
    sakomraden: Sequence[PlanSakomrade],
    responsible_group: str | None,
    status: ActivityStatus,
    lock_version: int | None = None,
    user: User | None = None,
) -> Activity:
    """Create or change an activity; its identifier is fixed once created."""
    if activity is not None:
        save_version(activity, user=user, lock_version=lock_version, what=_("aktiviteten"))
    if year_to < year_from:
        raise DomainError(_("Det sista året kan inte komma före det första."), "year_to")
    if activity is None:
        if _code_taken(Activity, Activity.identifier, identifier, None):
            raise DomainError(
                _("Det finns redan en aktivitet med id %(identifier)s.", identifier=identifier),
                "identifier",
            )
        activity = Activity(identifier=identifier)
        db.session.add(activity)
    _assign(
        activity,
        title=title.strip(),
        description=description.strip(),
        year_from=year_from,
        year_to=year_to,
        responsible_group=(responsible_group or "").strip() or None,
        status=status,
    )
    activity.malomraden = list(malomraden)
    activity.sakomraden = list(sakomraden)
    db.session.flush()
    action_plan_changed()
    return activity


# Cases -------------------------------------------------------------------------------


def link_activities(
    case: SipCase,
    *,
    user: User,
    activities: Sequence[Activity],
    lock_version: int | None = None,
) -> None:
    """Set the activities of the plan a case is counted towards.

    An activity that has ended can keep its links but takes no new ones. The links are the
    case's: its version keeps a colleague's choice from being undone unseen.
    """
    save_version(case, user=user, lock_version=lock_version, what=_("ärendet"))
    current = {
        link.activity_id: link
        for link in db.session.scalars(select(CaseActivity).where(CaseActivity.case_id == case.id))
    }
    wanted = {a.id: a for a in activities}
    closed = [a for a in wanted.values() if not a.is_open and a.id not in current]
    if closed:
        raise DomainError(
            _(
                "Aktiviteten %(activity)s är %(status)s och kan inte kopplas till fler ärenden.",
                activity=closed[0].identifier,
                status=str(ACTIVITY_STATUS_LABELS[closed[0].status]).lower(),
            ),
            "activity_ids",
        )
    for activity_id, link in current.items():
        if activity_id not in wanted:
            db.session.delete(link)
    for activity_id in wanted.keys() - current.keys():
        db.session.add(CaseActivity(case_id=case.id, activity_id=activity_id))
    db.session.flush()
    record_change(
        "case.activities",
        case,
        user,
        ", ".join(sorted(a.identifier for a in activities)) or None,
    )
