"""Scheduling a SIP meeting, sending the kallelse, recording answers and the meeting held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from flask_babel import gettext as _

from sip_tracker.auth.models import User
from sip_tracker.cases.access import can_change_case
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.codes import CaseRoleKind, ParticipantKind, Response, Stage
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.cases.services import require_consent_for
from sip_tracker.cases.workflow import can_move, move, refresh_due
from sip_tracker.db import db, utcnow
from sip_tracker.errors import ConsentMissing, DomainError, InvalidTransition, PermissionDenied
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.meetings.queries import meetings_led_by, overlapping
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
    allow_past: bool = False,
) -> Meeting:
    """Set date, time and place (or a link) and whom to invite; a new meeting or a change.

    lock_version is the version of the meeting the form was loaded from (a change only).
    A meeting is planned for the future; only an import of history (allow_past) records
    one that has already taken place. Moving a meeting whose kallelse was sent tells
    every invited unit.
    """
    if meeting is not None:
        save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
        if meeting.is_cancelled:
            raise DomainError(_("Mötet är inställt och kan inte ändras."))
    moving = meeting is None or meeting.starts_at != starts_at
    if moving and not allow_past and starts_at < utcnow():
        raise DomainError(_("Ett möte kan inte planeras bakåt i tiden."), "date")
    if not (place or "").strip() and not (video_link or "").strip():
        raise DomainError(_("Ange en plats eller en länk till ett digitalt möte."))
    if not participants:
        raise DomainError(_("Välj minst en deltagare att kalla."))
    if any(p.case_id != case.id for p in participants):
        raise DomainError(_("En vald deltagare hör inte till ärendet."))
    is_new = meeting is None
    if meeting is None:
        meeting = Meeting(is_follow_up=case.stage in (Stage.PLAN_FASTSTALLD, Stage.UPPFOLJNING))
        case.meetings.append(meeting)
    elif meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet och kan inte ändras."))
    moved = not is_new and _changes_calendar(
        meeting, starts_at, duration_minutes, place, video_link
    )
    if moved:
        # RFC 5545: a higher SEQUENCE tells calendars the new .ics replaces the old one.
        meeting.sequence += 1
        if meeting.kallelse_sent_at is not None:
            meeting.moved_at = utcnow()
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.place = (place or "").strip() or None
    meeting.video_link = (video_link or "").strip() or None
    wanted = {p.id for p in participants}
    already_invited = set(invited_units(meeting, user))
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
    if meeting.kallelse_sent_at is not None:
        units = invited_units(meeting, user)
        added = [u for u in units if u not in already_invited]
        notify(InboxKind.INVITATION, case, units=added, actor=user, meeting=meeting)
        if moved:
            kept = [u for u in units if u in already_invited]
            notify(InboxKind.MEETING_MOVED, case, units=kept, actor=user, meeting=meeting)
    return meeting


def invited_units(meeting: Meeting, sender: User) -> list[int]:
    """The units invited to the meeting, but the sender's own (it knows already).

    Närstående and others without a unit have no accounts: the kallelse reaches them by
    hand (the .ics file, a letter, a phone call).
    """
    return [
        unit_id
        for unit_id in dict.fromkeys(i.participant.unit_id for i in meeting.invitations)
        if unit_id is not None and unit_id != sender.unit_id
    ]


def meeting_leader(case: SipCase) -> User | None:
    """The mötesledare with an account, if the case names one."""
    role = case.role(CaseRoleKind.MOTESLEDARE)
    return role.user if role is not None else None


def may_record_answers(user: User, case: SipCase) -> bool:
    """Whether the user keeps the answer table: the mötesledare, or the initiating unit
    when no mötesledare with an account is named. Others answer for their own unit."""
    if not can_change_case(user, case):
        return False
    leader = meeting_leader(case)
    if leader is not None:
        return leader.id == user.id
    return user.unit_id == case.initiating_unit_id


def own_invitation(meeting: Meeting, user: User) -> Invitation | None:
    """The invitation of the user's own unit, if it is invited."""
    return next((i for i in meeting.invitations if i.participant.unit_id == user.unit_id), None)


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
    if meeting.is_cancelled:
        raise DomainError(_("Mötet är inställt."))
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
    notify(
        InboxKind.INVITATION, case, units=invited_units(meeting, user), actor=user, meeting=meeting
    )


def _require_open(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise DomainError(_("Mötet är inställt."))
    if meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet."))


def record_response(
    case: SipCase, invitation: Invitation, *, user: User, response: Response
) -> None:
    """Record a participant's answer to the kallelse, given by or for them.

    An answer recorded by a user of another unit is on the participant's behalf (an
    answer given by telephone), and shown so.
    """
    _require_open(invitation.meeting)
    invitation.response = response
    invitation.responded_at = utcnow() if response != Response.OBESVARAD else None
    invitation.answered_by_id = user.id if response != Response.OBESVARAD else None
    invitation.on_behalf = invitation.participant.unit_id != user.unit_id
    if response != Response.KOMMER:
        invitation.attendee_names = None
    if response != Response.ANNAN_TID:
        invitation.proposed_starts_at = None
    db.session.flush()
    record_change(
        "meeting.response", case, user, f"{invitation.participant.display_name}: {response}"
    )


def answer_invitation(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    response: Response,
    attendee_names: str | None,
    comment: str | None,
    proposed_starts_at: datetime | None,
) -> Invitation:
    """A user answers the kallelse for their own unit, and the mötesledare is told.

    Which invitation is answered follows from the user's unit, never from the request:
    nobody can answer for another unit here.
    """
    invitation = own_invitation(meeting, user)
    if invitation is None:
        raise PermissionDenied(_("Din enhet är inte kallad till mötet."))
    if meeting.kallelse_sent_at is None:
        raise DomainError(_("Kallelsen till mötet är inte skickad än."))
    if response == Response.OBESVARAD:
        raise DomainError(_("Välj ett svar."), "response")
    if response == Response.ANNAN_TID:
        if proposed_starts_at is None:
            raise DomainError(_("Föreslå en annan tid."), "proposed_date")
        if proposed_starts_at < utcnow():
            raise DomainError(_("Föreslå en tid som inte har passerat."), "proposed_date")
    invitation.attendee_names = (attendee_names or "").strip() or None
    invitation.comment = (comment or "").strip() or None
    invitation.proposed_starts_at = proposed_starts_at if response == Response.ANNAN_TID else None
    record_response(case, invitation, user=user, response=response)
    leader = meeting_leader(case)
    if leader is not None:
        if leader.id != user.id:
            notify(InboxKind.ANSWER, case, users=[leader], actor=user, meeting=meeting)
    elif case.initiating_unit_id != user.unit_id:
        notify(InboxKind.ANSWER, case, units=[case.initiating_unit_id], actor=user, meeting=meeting)
    return invitation


def record_responses(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    responses: Mapping[int, Response],
    lock_version: int | None = None,
) -> None:
    """Record the answers given per invitation id; unchanged answers are left alone.

    The mötesledare's tool (may_record_answers decides who may use it in the app).
    """
    save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    _require_open(meeting)
    for invitation in meeting.invitations:
        response = responses.get(invitation.id)
        if response is not None and response != invitation.response:
            record_response(case, invitation, user=user, response=response)


def cancel_meeting(
    case: SipCase,
    meeting: Meeting,
    *,
    user: User,
    reason: str,
    lock_version: int | None = None,
) -> None:
    """Cancel a meeting not yet held, with a reason; everyone invited is told.

    The case keeps its stage (a called case stays KALLAD: the kallelse was sent); the
    cancelled meeting no longer counts for the case's next date.
    """
    save_version(meeting, user=user, lock_version=lock_version, what=_("mötet"))
    if meeting.held_at is not None:
        raise DomainError(_("Mötet är redan hållet och kan inte ställas in."))
    if meeting.is_cancelled:
        raise DomainError(_("Mötet är redan inställt."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Ange varför mötet ställs in."), "reason")
    meeting.cancelled_at = utcnow()
    meeting.cancelled_by_id = user.id
    meeting.cancel_reason = reason
    # RFC 5545: the CANCEL must carry a higher SEQUENCE than the REQUEST it cancels.
    meeting.sequence += 1
    db.session.flush()
    refresh_due(case)
    record_change("meeting.cancel", case, user)
    if meeting.kallelse_sent_at is not None:
        notify(
            InboxKind.MEETING_CANCELLED,
            case,
            units=invited_units(meeting, user),
            actor=user,
            meeting=meeting,
        )


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
    if meeting.is_cancelled:
        raise DomainError(_("Mötet är inställt och kan inte registreras som hållet."))
    if held_at > utcnow():
        raise DomainError(_("Ett möte kan inte registreras som hållet i framtiden."))
    # The form says the minute: held in the minute the kallelse left is not before it.
    if held_at < meeting.kallelse_sent_at.replace(second=0, microsecond=0):
        raise DomainError(_("Mötet kan inte ha hållits innan kallelsen skickades."), "held_date")
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


def clashing_meetings(
    case: SipCase,
    *,
    user: User,
    starts_at: datetime,
    duration_minutes: int,
    meeting: Meeting | None = None,
) -> list[Meeting]:
    """Other meetings the mötesledare (or, with none named, the user planning) already
    leads at the time, in any case."""
    leader = meeting_leader(case) or user
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    query = overlapping(meetings_led_by(leader), starts_at, ends_at)
    if meeting is not None and meeting.id is not None:
        query = query.where(Meeting.id != meeting.id)
    return [m for m in db.session.scalars(query) if m.ends_at > starts_at]
