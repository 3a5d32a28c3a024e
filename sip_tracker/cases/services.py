"""Changes to a SIP case. Services flush and audit; the view commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from sip_tracker import clock
from sip_tracker.auth.models import Role, User
from sip_tracker.cases.access import unit_takes_part, units_taking_part
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    NeedArea,
    Origin,
    ParticipantKind,
    Sakomrade,
    Stage,
)
from sip_tracker.cases.models import (
    CaseRole,
    CaseSakomrade,
    Consent,
    Need,
    Participant,
    SipCase,
    StageEvent,
)
from sip_tracker.cases.workflow import move, refresh_due
from sip_tracker.db import db, utcnow
from sip_tracker.errors import ConsentMissing, DomainError, InvalidTransition, PermissionDenied
from sip_tracker.fhir.exports import CONSENT_WITHDRAWN, delete_exports_holding
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.organizations.models import Unit
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.versions import save_version


def create_case(
    *,
    person: Person,
    user: User,
    origin: Origin,
    utskrivningsklar_on: date | None,
    sakomraden: Iterable[Sakomrade],
    need_description: str,
    initiating_unit: Unit | None = None,
    at: datetime | None = None,
) -> SipCase:
    """Open a case at 'behov identifierat', with the user's unit as initiativtagare.

    An initiating unit other than the user's must belong to the user's organisation: no one
    starts a case in another huvudman's name. `at` dates a case recorded afterwards.
    """
    if origin == Origin.UTSKRIVNING and utskrivningsklar_on is None:
        raise DomainError(_("Ange datum för utskrivningsklar när SIP:en gäller utskrivning."))
    unit = initiating_unit or user.unit
    if unit.huvudman_id != user.unit.huvudman_id:
        raise PermissionDenied(
            _(
                "%(unit)s hör inte till %(huvudman)s: ett ärende startas bara i den egna"
                " organisationens namn.",
                unit=unit.name,
                huvudman=user.unit.huvudman.name,
            )
        )
    created_at = at or utcnow()
    case = SipCase(
        person=person,
        origin=origin,
        utskrivningsklar_on=utskrivningsklar_on if origin == Origin.UTSKRIVNING else None,
        need_description=need_description.strip(),
        initiating_unit_id=unit.id,
        created_by=user,
        created_at=created_at,
        stage=Stage.BEHOV_IDENTIFIERAT,
        sakomraden=[CaseSakomrade(code=code) for code in dict.fromkeys(sakomraden)],
        roles=[
            CaseRole(
                kind=CaseRoleKind.INITIATIVTAGARE,
                unit_id=unit.id,
                person_name=user.name,
                user_id=user.id,
            )
        ],
    )
    db.session.add(case)
    db.session.flush()
    case.events.append(
        StageEvent(
            from_stage=None, to_stage=Stage.BEHOV_IDENTIFIERAT, user_id=user.id, at=created_at
        )
    )
    refresh_due(case)
    db.session.flush()
    record_change("case.create", case, user)
    return case


def update_case_details(
    case: SipCase,
    *,
    user: User,
    origin: Origin,
    utskrivningsklar_on: date | None,
    sakomraden: Iterable[Sakomrade],
    need_description: str,
    lock_version: int | None = None,
) -> None:
    """Change why the case exists and what it is about, unless someone saved it meanwhile."""
    save_version(case, user=user, lock_version=lock_version, what=_("ärendet"))
    if origin == Origin.UTSKRIVNING and utskrivningsklar_on is None:
        raise DomainError(_("Ange datum för utskrivningsklar när SIP:en gäller utskrivning."))
    case.origin = origin
    case.utskrivningsklar_on = utskrivningsklar_on if origin == Origin.UTSKRIVNING else None
    case.need_description = need_description.strip()
    wanted = list(dict.fromkeys(sakomraden))
    case.sakomraden = [s for s in case.sakomraden if s.code in wanted] + [
        CaseSakomrade(code=code) for code in wanted if code not in {s.code for s in case.sakomraden}
    ]
    refresh_due(case)
    db.session.flush()
    record_change("case.update", case, user)


def start_preparation(case: SipCase, *, user: User, at: datetime | None = None) -> None:
    move(case, Stage.FORBEREDELSE, user=user, at=at)
    db.session.flush()
    record_change("case.stage", case, user, Stage.FORBEREDELSE)


def set_role(
    case: SipCase,
    *,
    user: User,
    kind: CaseRoleKind,
    unit: Unit | None = None,
    person_name: str = "",
    holder: User | None = None,
    lock_version: int | None = None,
) -> CaseRole:
    """Name who holds a role (mötesledare, huvudansvarig, …): a user of a unit taking part
    (holder), or, for a unit without accounts, the unit and a name typed.

    A holder is linked by user id, so that the case is theirs ("Mina ärenden"). The roles are
    the case's: its version also guards two colleagues naming the same role at once (the
    second would otherwise break the one-role-per-kind constraint).
    """
    save_version(case, user=user, lock_version=lock_version, what=_("ärendet"))
    if holder is not None:
        _check_holder(case, holder)
        unit = holder.unit
        person_name = holder.name
    elif unit is None:
        raise DomainError(_("Välj en enhet."), field="unit_id")
    person_name = person_name.strip()
    if not person_name:
        raise DomainError(_("Ange namnet på personen som har rollen."))
    role = case.role(kind)
    if role is None:
        role = CaseRole(kind=kind, unit=unit, person_name=person_name)
        case.roles.append(role)
    role.unit = unit
    role.person_name = person_name
    role.user_id = holder.id if holder is not None else None
    db.session.flush()
    account = f" (user {holder.id})" if holder is not None else ""
    record_change("case.role", case, user, f"{kind}: {unit.name}, {person_name}{account}")
    return role


def _check_holder(case: SipCase, holder: User) -> None:
    """A role is held by an active coordinator of a unit taking part in the case."""
    if not holder.active or holder.role == Role.GRANSKARE:
        raise DomainError(
            _("%(name)s kan inte ha rollen: kontot är inte aktivt.", name=holder.name),
            field="user_id",
        )
    if not unit_takes_part(case, holder.unit_id):
        raise DomainError(
            _("%(name)s hör till en enhet som inte deltar i ärendet.", name=holder.name),
            field="user_id",
        )


def mark_seen(case: SipCase, *, user: User) -> None:
    """The user's unit, invited to the case, has now opened it: it is no longer new to it.

    Not a change of the case (the read is logged by load_case); nothing is recorded.
    """
    if user.role == Role.GRANSKARE:
        return
    for participant in case.participants:
        if participant.unit_id == user.unit_id and participant.seen_at is None:
            participant.seen_at = utcnow()
            participant.seen_by_id = user.id
    db.session.flush()


def remove_role(
    case: SipCase, *, user: User, kind: CaseRoleKind, lock_version: int | None = None
) -> None:
    """Nobody holds the role any more (mötesledare, huvudansvarig); the initiativtagare stays."""
    if kind == CaseRoleKind.INITIATIVTAGARE:
        raise DomainError(_("Initiativtagaren kan inte tas bort."))
    role = case.role(kind)
    if role is None:
        return
    save_version(case, user=user, lock_version=lock_version, what=_("ärendet"))
    case.roles.remove(role)
    db.session.flush()
    record_change("case.role", case, user, f"{kind}: –")


def record_consent(
    case: SipCase,
    *,
    user: User,
    given_by: ConsentGiver,
    guardian: RelatedPerson | None,
    method: ConsentMethod,
    given_on: date,
    units: Sequence[Unit],
    other_organisations: str | None,
    exclusions: str | None,
    today: date | None = None,
) -> Consent:
    """Record a consent: for a child it is the vårdnadshavare who gives it."""
    today = today or clock.today()
    if given_on > today:
        raise DomainError(_("Samtyckets datum kan inte ligga i framtiden."))
    if not units:
        raise DomainError(_("Välj minst en enhet som samtycket gäller."))
    if given_by == ConsentGiver.VARDNADSHAVARE:
        if (
            guardian is None
            or guardian.person_id != case.person_id
            or guardian.kind != RelationKind.VARDNADSHAVARE
        ):
            raise DomainError(_("Välj vilken vårdnadshavare som lämnade samtycket."))
    elif case.person.is_child_on(today):
        raise DomainError(_("Personen är under 18 år: samtycket lämnas av en vårdnadshavare."))
    consent = Consent(
        given_by=given_by,
        guardian=guardian if given_by == ConsentGiver.VARDNADSHAVARE else None,
        method=method,
        given_on=given_on,
        units=list(units),
        other_organisations=(other_organisations or "").strip() or None,
        exclusions=(exclusions or "").strip() or None,
        recorded_by_id=user.id,
    )
    case.consents.append(consent)
    db.session.flush()
    record_change("consent.record", case, user, ", ".join(u.name for u in units))
    return consent


def withdraw_consent(case: SipCase, *, user: User, withdrawn_on: date, note: str | None) -> None:
    """Record that consent was withdrawn: the case is shared no further, and Bulk Data
    exports holding its data are deleted."""
    consent = case.active_consent
    if consent is None:
        raise DomainError(_("Det finns inget gällande samtycke att återkalla."))
    if withdrawn_on < consent.given_on:
        raise DomainError(_("Samtycket kan inte återkallas före det lämnades."))
    took_part = units_taking_part(case)
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_note = (note or "").strip() or None
    consent.withdrawal_recorded_by_id = user.id
    db.session.flush()
    record_change("consent.withdraw", case, user)
    # The units that took part under the consent lose the case: tell them (the item names
    # no one). The initiating unit keeps it; it hears only when another unit withdrew.
    told = [u for u in took_part if u != user.unit_id]
    notify(InboxKind.CONSENT_WITHDRAWN, case, units=told, actor=user)
    # Files already exported under the consent must not stay downloadable.
    delete_exports_holding(case, reason=CONSENT_WITHDRAWN)


def require_consent_for(case: SipCase, units: Iterable[Unit]) -> None:
    """Refuse to share with units the current consent does not cover."""
    consent = case.active_consent
    if consent is None:
        if case.withdrawn_consent is not None:
            raise ConsentMissing(
                _("Samtycket har återkallats. Ärendet delas inte vidare med andra organisationer.")
            )
        raise ConsentMissing(
            _("Registrera samtycke innan kallelsen skickas till andra organisationer.")
        )
    uncovered = [u for u in units if u.id != case.initiating_unit_id and not consent.covers(u.id)]
    if uncovered:
        raise ConsentMissing(
            _(
                "Samtycket omfattar inte: %(units)s. Registrera ett nytt samtycke eller ta bort"
                " dem från kallelsen.",
                units=", ".join(u.name for u in uncovered),
            )
        )


@dataclass
class NeedInput:
    area: NeedArea
    description: str
    current_support: str | None = None


def save_kartlaggning(
    case: SipCase,
    *,
    user: User,
    what_matters: str,
    needs: Sequence[NeedInput],
    lock_version: int | None = None,
) -> None:
    """Save the person's own words on what matters, and the needs per life area."""
    save_version(case, user=user, lock_version=lock_version, what=_("ärendet"))
    case.what_matters = what_matters.strip()
    case.needs = [
        Need(
            area=n.area,
            description=n.description.strip(),
            current_support=(n.current_support or "").strip() or None,
        )
        for n in needs
        if n.description.strip()
    ]
    db.session.flush()
    record_change("kartlaggning.update", case, user)


def add_participant(
    case: SipCase,
    *,
    user: User,
    kind: ParticipantKind,
    unit: Unit | None = None,
    related_person: RelatedPerson | None = None,
    name: str | None = None,
    organisation: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Participant:
    """Add someone who takes part: a unit, a närstående of the person, or another actor."""
    if kind == ParticipantKind.ENHET:
        if unit is None:
            raise DomainError(_("Välj vilken enhet som ska delta."))
        if any(p.unit_id == unit.id for p in case.participants):
            raise DomainError(_("%(unit)s deltar redan.", unit=unit.name))
        related_person = None
    elif kind == ParticipantKind.NARSTAENDE:
        if related_person is None or related_person.person_id != case.person_id:
            raise DomainError(_("Välj en närstående till personen."))
        if any(p.related_person_id == related_person.id for p in case.participants):
            raise DomainError(_("%(name)s deltar redan.", name=related_person.name))
        unit = None
    else:
        if not (name or "").strip() and not (organisation or "").strip():
            raise DomainError(_("Ange namn eller organisation för deltagaren."))
        unit = related_person = None
    participant = Participant(
        kind=kind,
        unit=unit,
        related_person=related_person,
        name=(name or "").strip() or None,
        organisation=(organisation or "").strip() or None,
        email=(email or "").strip() or None,
        phone=(phone or "").strip() or None,
    )
    case.participants.append(participant)
    db.session.flush()
    record_change("participant.add", case, user, participant.display_name)
    return participant


def update_participant(
    case: SipCase,
    participant: Participant,
    *,
    user: User,
    name: str | None,
    organisation: str | None,
    email: str | None,
    phone: str | None,
) -> None:
    """Change how a participant is named and reached; who it is (unit, närstående) stays."""
    if participant.case_id != case.id:
        raise DomainError(_("Deltagaren hör inte till ärendet."))
    if participant.kind == ParticipantKind.ANNAN and not (
        (name or "").strip() or (organisation or "").strip()
    ):
        raise DomainError(_("Ange namn eller organisation för deltagaren."))
    participant.name = (name or "").strip() or None
    participant.organisation = (organisation or "").strip() or None
    participant.email = (email or "").strip() or None
    participant.phone = (phone or "").strip() or None
    db.session.flush()
    record_change("participant.update", case, user, participant.display_name)


def remove_participant(case: SipCase, participant: Participant, *, user: User) -> None:
    from sqlalchemy import select

    from sip_tracker.meetings.models import Invitation

    if db.session.scalar(
        select(Invitation.id).where(Invitation.participant_id == participant.id).limit(1)
    ):
        raise DomainError(
            _(
                "%(name)s är redan kallad till ett möte och kan inte tas bort.",
                name=participant.display_name,
            )
        )
    case.participants.remove(participant)
    db.session.flush()
    record_change("participant.remove", case, user, participant.display_name)


def decline_case(case: SipCase, *, user: User, reason: str, at: datetime | None = None) -> None:
    """The person does not want a SIP: the case ends as declined."""
    move(case, Stage.AVBOJD, user=user, note=reason.strip() or None, at=at)
    case.end_reason = reason.strip() or None
    refresh_due(case)
    db.session.flush()
    record_change("case.stage", case, user, Stage.AVBOJD)


def abort_case(case: SipCase, *, user: User, reason: str, at: datetime | None = None) -> None:
    """End the case early; a reason is required."""
    if not reason.strip():
        raise InvalidTransition(_("Ange varför ärendet avbryts."))
    move(case, Stage.AVBRUTEN, user=user, note=reason.strip(), at=at)
    case.end_reason = reason.strip()
    refresh_due(case)
    db.session.flush()
    record_change("case.stage", case, user, Stage.AVBRUTEN)


def close_case(case: SipCase, *, user: User, reason: str, at: datetime | None = None) -> None:
    """Close a case whose plan has been established; a reason is required."""
    if not reason.strip():
        raise InvalidTransition(_("Ange skälet till att ärendet avslutas."))
    move(case, Stage.AVSLUTAD, user=user, note=reason.strip(), at=at)
    case.end_reason = reason.strip()
    refresh_due(case)
    db.session.flush()
    record_change("case.stage", case, user, Stage.AVSLUTAD)
