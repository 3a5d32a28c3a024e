"""Scheduling a SIP meeting, sending the kallelse, recording answers and the meeting held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from flask_babel import gettext as _

from sip_tracker.auth.models import User
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.codes import ParticipantKind, Response, Stage
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.cases.services import require_consent_for
from sip_tracker.cases.workflow import can_move, move, refresh_due
from sip_tracker.db import db, utcnow
from sip_tracker.errors import ConsentMissing, DomainError, InvalidTransition
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.versions import save_version


def schedule_meeting(
    case: SipCase,
    *,
    user: User,
    starts_at: datetime,
    duration_minutes: int,
    place: str | None,
    video_link: str | None,
    participants: Sequence[Participant],
    meeting: Meeting | None = None,
    lock_version: int | None = None,
) -> Meeting:
    """Set date, time and place (or a link) and whom to invite; a new meeting or a change.

    lock_version is the version of the meeting the form was loaded from (a change only).
    """
    if meeting is not None:
        save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    if not (place or "").strip() and not (video_link or "").strip():
        raise DomainError(_("Ange en plats eller en länk till ett digitalt möte."))
    if not participants:
        raise DomainError(_("Välj minst en deltagare att kalla."))
    if any(p.case_id != case.id for p in participants):
        raise DomainError(_("En vald deltagare hör inte till ärendet."))
    if meeting is None:
        meeting = Meeting(is_follow_up=case.stage in (Stage.PLAN_FASTSTALLD, Stage.UPPFOLJNING))
        case.meetings.append(meeting)
    elif meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet och kan inte ändras."))
    elif _changes_calendar(meeting, starts_at, duration_minutes, place, video_link):
        # RFC 5545: a higher SEQUENCE tells calendars the new .ics replaces the old one.
        meeting.sequence += 1
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.place = (place or "").strip() or None
    meeting.video_link = (video_link or "").strip() or None
    wanted = {p.id for p in participants}
    meeting.invitations = [i for i in meeting.invitations if i.participant_id in wanted] + [
        Invitation(participant=p)
        for p in participants
        if p.id not in {i.participant_id for i in meeting.invitations}
    ]
    if meeting.kallelse_sent_at is not None:
        require_consent_for_meeting(case, meeting)
    db.session.flush()
    refresh_due(case)
    record_change("meeting.schedule", case, user, starts_at.isoformat())
    return meeting


def _changes_calendar(
    meeting: Meeting,
    starts_at: datetime,
    duration_minutes: int,
    place: str | None,
    video_link: str | None,
) -> bool:
    return (
        meeting.starts_at != starts_at
        or meeting.duration_minutes != duration_minutes
        or meeting.place != ((place or "").strip() or None)
        or meeting.video_link != ((video_link or "").strip() or None)
    )


def require_consent_for_meeting(case: SipCase, meeting: Meeting) -> None:
    """Refuse to let the kallelse leave unless consent covers everyone invited."""
    units = [i.participant.unit for i in meeting.invitations if i.participant.unit is not None]
    require_consent_for(case, units)
    others = [
        i.participant
        for i in meeting.invitations
        if i.participant.kind in (ParticipantKind.ANNAN, ParticipantKind.NARSTAENDE)
    ]
    if others and case.active_consent is None:
        require_consent_for(case, [])


def send_kallelse(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    at: datetime | None = None,
    lock_version: int | None = None,
) -> None:
    """Mark the kallelse sent. No kallelse leaves before consent covers every invited unit.

    `at` is when it was sent, for a kallelse recorded afterwards (an import); default now.
    With lock_version, only for the meeting as the user saw it: not after a colleague
    changed its time or whom it invites.
    """
    save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    if meeting.kallelse_sent_at is not None:
        raise DomainError(_("Kallelsen till det här mötet är redan skickad."))
    if meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet."))
    require_consent_for(case, [])
    require_consent_for_meeting(case, meeting)
    # Only the first kallelse moves the case: a second meeting before the plan is
    # established (the case already called, or met once) keeps the stage.
    sent_at = at or utcnow()
    if not meeting.is_follow_up and can_move(case, Stage.KALLAD):
        move(case, Stage.KALLAD, user=user, at=sent_at)
    meeting.kallelse_sent_at = sent_at
    meeting.kallelse_sent_by_id = user.id
    db.session.flush()
    refresh_due(case)
    record_change("meeting.kallelse", case, user)


def record_response(
    case: SipCase, invitation: Invitation, *, user: User, response: Response
) -> None:
    """Record a participant's answer to the kallelse."""
    if invitation.meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet."))
    invitation.response = response
    invitation.responded_at = utcnow() if response != Response.OBESVARAD else None
    db.session.flush()
    record_change(
        "meeting.response", case, user, f"{invitation.participant.display_name}: {response}"
    )


def record_responses(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    responses: Mapping[int, Response],
    lock_version: int | None = None,
) -> None:
    """Record the answers given per invitation id; unchanged answers are left alone."""
    save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    for invitation in meeting.invitations:
        response = responses.get(invitation.id)
        if response is not None and response != invitation.response:
            record_response(case, invitation, user=user, response=response)


def kallelse_blocker(case: SipCase, meeting: Meeting) -> str | None:
    """Why the kallelse may not leave now (missing or too narrow consent), or None."""
    try:
        require_consent_for(case, [])
        require_consent_for_meeting(case, meeting)
    except ConsentMissing as refusal:
        return refusal.message
    return None


def record_meeting_held(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    held_at: datetime,
    person_attended: bool,
    attended: Mapping[int, bool],
    notes: str | None,
    lock_version: int | None = None,
) -> None:
    """Record the meeting as held: who came, the person and närstående included, and notes."""
    save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    if meeting.kallelse_sent_at is None:
        raise InvalidTransition(_("Skicka kallelsen innan mötet registreras som hållet."))
    if meeting.held_at is not None:
        raise DomainError(_("Mötet är redan registrerat som hållet."))
    if held_at > utcnow():
        raise DomainError(_("Ett möte kan inte registreras som hållet i framtiden."))
    if not meeting.is_follow_up and case.stage == Stage.KALLAD:
        move(case, Stage.MOTE_HALLET, user=user, at=held_at)
    meeting.held_at = held_at
    meeting.person_attended = person_attended
    for invitation in meeting.invitations:
        invitation.attended = bool(attended.get(invitation.id, False))
    meeting.narstaende_attended = any(
        i.attended for i in meeting.invitations if i.participant.kind == ParticipantKind.NARSTAENDE
    )
    meeting.notes = (notes or "").strip() or None
    db.session.flush()
    refresh_due(case)
    record_change("meeting.held", case, user)
