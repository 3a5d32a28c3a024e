"""Editing the plan, establishing versions of it, and following it up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from sip_tracker import clock
from sip_tracker.auth.models import User
from sip_tracker.cases.access import units_taking_part
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.codes import CaseRoleKind, Outcome, Stage
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.workflow import move, refresh_due
from sip_tracker.db import db, utcnow
from sip_tracker.errors import DomainError, InvalidTransition, StaleVersion
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.plans.models import (
    Atgard,
    Evaluation,
    FollowUp,
    Goal,
    Insats,
    Plan,
    PlanVersion,
)


@dataclass
class InsatsInput:
    description: str
    huvudman: Huvudman | None
    unit: Unit | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass
class AtgardInput:
    actor: str
    description: str


def plan_for(case: SipCase) -> Plan:
    """The case's plan draft, created empty the first time."""
    if case.plan is None:
        case.plan = Plan(follow_up_method="")
        db.session.flush()
    return case.plan


def save_plan(
    case: SipCase,
    *,
    user: User,
    lock_version: int,
    goals: Sequence[str],
    insatser: Sequence[InsatsInput],
    atgarder: Sequence[AtgardInput],
    follow_up_method: str,
    follow_up_on: date | None,
) -> Plan:
    """Save the draft, unless someone else saved it since this user loaded it."""
    plan = plan_for(case)
    if plan.lock_version != lock_version:
        who = plan.updated_by.name if plan.updated_by else _("någon annan")
        raise StaleVersion(
            _(
                "%(who)s sparade planen medan du redigerade den. Din text finns kvar nedan:"
                " läs in planen på nytt och för över dina ändringar.",
                who=who,
            )
        )
    for item in insatser:
        if item.description.strip() and item.huvudman is None:
            raise DomainError(
                _("Ange ansvarig huvudman för insatsen ”%(text)s”.", text=item.description.strip())
            )
        if (
            item.unit is not None
            and item.huvudman is not None
            and item.unit.huvudman_id != item.huvudman.id
        ):
            raise DomainError(
                _(
                    "Enheten %(unit)s hör inte till %(huvudman)s.",
                    unit=item.unit.name,
                    huvudman=item.huvudman.name,
                )
            )
        if item.starts_on and item.ends_on and item.ends_on < item.starts_on:
            raise DomainError(_("En insats kan inte sluta innan den börjar."))
    plan.goals = [
        Goal(text=t.strip(), position=i) for i, t in enumerate(g for g in goals if g.strip())
    ]
    plan.insatser = [
        Insats(
            description=item.description.strip(),
            huvudman_id=item.huvudman.id if item.huvudman else None,
            unit_id=item.unit.id if item.unit else None,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
            position=i,
        )
        for i, item in enumerate(x for x in insatser if x.description.strip())
    ]
    plan.atgarder = [
        Atgard(actor=a.actor.strip(), description=a.description.strip(), position=i)
        for i, a in enumerate(x for x in atgarder if x.description.strip() or x.actor.strip())
    ]
    plan.follow_up_method = follow_up_method.strip()
    plan.follow_up_on = follow_up_on
    plan.updated_by_id = user.id
    plan.updated_at = utcnow()  # always an UPDATE of the plan row, so its version moves on
    try:
        db.session.flush()  # the version counter also guards a race between two flushes
    except StaleDataError:
        raise StaleVersion(_("Någon annan sparade planen samtidigt. Försök igen.")) from None
    record_change("plan.update", case, user)
    if plan.versions:
        # An established plan changed: the other units hear of it once a day per author,
        # not at every save.
        _tell_other_units(case, user, f"plan-changed:{case.id}:{clock.today()}:{user.id}")
    return plan


def _tell_other_units(case: SipCase, user: User, dedupe_key: str | None = None) -> None:
    """Notify the units taking part, the user's own excepted, that the plan changed."""
    others = [u for u in units_taking_part(case) if u != user.unit_id]
    notify(InboxKind.PLAN, case, units=others, actor=user, dedupe_key=dedupe_key)


def missing_for_establishment(case: SipCase) -> list[str]:
    """What the law and the county's routine require that the plan still lacks."""
    plan = case.plan
    missing: list[str] = []
    if plan is None or not plan.insatser:
        missing.append(_("minst en insats"))
    elif any(i.huvudman_id is None for i in plan.insatser):
        missing.append(_("ansvarig huvudman för varje insats"))
    if case.role(CaseRoleKind.HUVUDANSVARIG) is None:
        missing.append(_("vem som har huvudansvaret"))
    if plan is None or plan.follow_up_on is None:
        missing.append(_("datum för uppföljning"))
    if plan is None or not plan.follow_up_method.strip():
        missing.append(_("hur planen ska följas upp"))
    return missing


def snapshot(case: SipCase) -> dict[str, Any]:
    """The plan as agreed, in plain data, so a version reads the same forever."""
    plan = case.plan
    assert plan is not None
    lead = case.role(CaseRoleKind.HUVUDANSVARIG)
    return {
        "goals": [g.text for g in plan.goals],
        "insatser": [
            {
                "description": i.description,
                "huvudman_id": i.huvudman_id,
                "huvudman": i.huvudman.name,
                "unit_id": i.unit_id,
                "unit": i.unit.name if i.unit else None,
                "starts_on": i.starts_on.isoformat() if i.starts_on else None,
                "ends_on": i.ends_on.isoformat() if i.ends_on else None,
            }
            for i in plan.insatser
        ],
        "atgarder": [{"actor": a.actor, "description": a.description} for a in plan.atgarder],
        "huvudansvarig": {
            "huvudman": lead.unit.huvudman.name,
            "huvudman_id": lead.unit.huvudman_id,
            "unit": lead.unit.name,
            "unit_id": lead.unit_id,
            "person_name": lead.person_name,
        }
        if lead
        else None,
        "follow_up_method": plan.follow_up_method,
        "follow_up_on": plan.follow_up_on.isoformat() if plan.follow_up_on else None,
    }


def establish_plan(case: SipCase, *, user: User, at: datetime | None = None) -> PlanVersion:
    """Fastställ: freeze the draft as a new version; the first one moves the case on.

    `at` is when it was established, for a plan recorded afterwards (an import).
    """
    missing = missing_for_establishment(case)
    if missing:
        raise InvalidTransition(
            _("Planen kan inte fastställas. Det saknas: %(missing)s.", missing=", ".join(missing))
        )
    established_at = at or utcnow()
    if case.stage == Stage.MOTE_HALLET:
        move(case, Stage.PLAN_FASTSTALLD, user=user, at=established_at)
    elif case.stage not in (Stage.PLAN_FASTSTALLD, Stage.UPPFOLJNING):
        raise InvalidTransition(
            _("Planen fastställs på SIP-mötet: registrera mötet som hållet först.")
        )
    plan = plan_for(case)
    assert plan.follow_up_on is not None
    version = PlanVersion(
        number=len(plan.versions) + 1,
        established_by_id=user.id,
        established_at=established_at,
        follow_up_on=plan.follow_up_on,
        content=snapshot(case),
    )
    plan.versions.append(version)
    db.session.flush()
    refresh_due(case)
    record_change("plan.establish", case, user, f"version {version.number}")
    if established_at >= utcnow() - timedelta(days=1):
        # News for the other units; not a plan recorded afterwards (an import's history).
        _tell_other_units(case, user)
    return version


@dataclass
class EvaluationInput:
    subject: str  # "goal" or "insats"
    subject_text: str
    outcome: Outcome
    comment: str | None = None


def record_follow_up(
    case: SipCase,
    *,
    user: User,
    held_on: date,
    evaluations: Sequence[EvaluationInput],
    next_follow_up_on: date | None,
    notes: str | None,
    today: date | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> FollowUp:
    """Evaluate each goal and insats of the current plan and set the next follow-up date.

    expected_version is the version number the evaluations were made against: if the plan
    was established anew meanwhile, they would be filed under goals they do not describe.
    """
    today = today or clock.today()
    plan = case.plan
    if plan is None or plan.current_version is None:
        raise InvalidTransition(_("Planen måste vara fastställd innan den kan följas upp."))
    if expected_version is not None and plan.current_version.number != expected_version:
        raise StaleVersion(
            _(
                "Planen har fastställts i en ny version (%(number)s) sedan du öppnade sidan."
                " Dina bedömningar finns kvar nedan: läs in sidan på nytt och bedöm den nya"
                " versionen.",
                number=plan.current_version.number,
            )
        )
    if held_on > today:
        raise DomainError(_("Uppföljningen kan inte registreras i förväg."))
    if next_follow_up_on is None:
        raise DomainError(_("Ange datum för nästa uppföljning, eller avsluta ärendet."))
    if next_follow_up_on <= held_on:
        raise DomainError(_("Nästa uppföljning måste ligga efter denna."))
    version = plan.current_version
    expected = len(version.content["goals"]) + len(version.content["insatser"])
    if len(evaluations) != expected:
        raise DomainError(_("Bedöm varje mål och varje insats i planen."))
    if case.stage == Stage.PLAN_FASTSTALLD:
        move(case, Stage.UPPFOLJNING, user=user, at=at)
    elif case.stage != Stage.UPPFOLJNING:
        raise InvalidTransition(_("Ärendet kan inte följas upp i sitt nuvarande skede."))
    follow_up = FollowUp(
        plan_version=version,
        held_on=held_on,
        next_follow_up_on=next_follow_up_on,
        notes=(notes or "").strip() or None,
        created_by_id=user.id,
        evaluations=[
            Evaluation(
                subject=e.subject,
                subject_text=e.subject_text,
                outcome=e.outcome,
                comment=(e.comment or "").strip() or None,
            )
            for e in evaluations
        ],
    )
    case.follow_ups.append(follow_up)
    db.session.flush()
    refresh_due(case)
    record_change("plan.follow_up", case, user, held_on.isoformat())
    return follow_up
