"""The kallelse as an iCalendar (.ics) file, built with the icalendar library."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress
from icalendar.enums import STATUS

from sip_tracker.auth.models import User
from sip_tracker.cases.codes import CaseRoleKind, Response
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.meetings.models import Meeting

PRODID = "-//SIP-tracker//Kallelse//SV"
# Fixed, so a meeting's UID is the same in every download and calendars update the event.
UID_NAMESPACE = uuid.UUID("6f1d4c52-8a0e-4c43-9a57-1f0b7d3e2a91")

PARTSTAT = {
    Response.OBESVARAD: "NEEDS-ACTION",
    Response.KOMMER: "ACCEPTED",
    Response.KOMMER_INTE: "DECLINED",
    Response.KANSKE: "TENTATIVE",
    Response.ANNAN_TID: "TENTATIVE",
}


def meeting_uid(meeting: Meeting) -> str:
    """A UID stable per meeting, and unique across databases that reuse ids."""
    return str(uuid.uuid5(UID_NAMESPACE, f"meeting:{meeting.id}:{meeting.created_at.isoformat()}"))


def short_name(case: SipCase) -> str:
    """First name and initial: enough for the invited to know whose meeting it is."""
    person = case.person
    initial = person.family_name[:1]
    return f"{person.given_name} {initial}." if initial else person.given_name


def organizer(case: SipCase, fallback: User | None) -> User | None:
    """Who calls the meeting: the mötesledare, else the initiativtagare, else the sender."""
    for kind in (CaseRoleKind.MOTESLEDARE, CaseRoleKind.INITIATIVTAGARE):
        role = case.role(kind)
        if role is not None and role.user is not None:
            return role.user
    return fallback


def _email(participant: Participant) -> str | None:
    """Where the kallelse reaches a participant: a unit's functional mailbox (never a
    colleague's own address), else a närstående's or other actor's e-mail."""
    if participant.unit is not None:
        return participant.unit.functional_mailbox
    if participant.email:
        return participant.email
    if participant.related_person is not None:
        return participant.related_person.email
    return None


def _attendees(meeting: Meeting) -> list[vCalAddress]:
    """One ATTENDEE per address: a unit invited twice is one attendee."""
    seen: dict[str, vCalAddress] = {}
    for invitation in meeting.invitations:
        email = _email(invitation.participant)
        if not email or email.casefold() in seen:
            continue
        unit = invitation.participant.unit
        seen[email.casefold()] = vCalAddress.new(
            email,
            cn=unit.name if unit is not None else invitation.participant.display_name,
            role="REQ-PARTICIPANT",
            partstat=PARTSTAT[invitation.response],
        )
    return list(seen.values())


def kallelse_calendar(case: SipCase, meeting: Meeting, *, sender: User | None = None) -> bytes:
    """The kallelse as one VEVENT, times in UTC; no personnummer anywhere in it.

    A REQUEST while the meeting stands; a CANCEL once it is cancelled. The UID stays and
    the SEQUENCE rises, so calendars update or remove the event they already hold.
    """
    starts_at = meeting.starts_at.astimezone(UTC)
    lines = [_("Samordnad individuell plan (SIP) för %(name)s.", name=short_name(case))]
    if meeting.place:
        lines.append(_("Plats: %(place)s", place=meeting.place))
    if meeting.video_link:
        lines.append(_("Digitalt möte: %(link)s", link=meeting.video_link))
    calling = organizer(case, sender or meeting.kallelse_sent_by)
    if calling is not None:
        lines.append(_("Kallad av %(name)s, %(unit)s.", name=calling.name, unit=calling.unit.name))
    if meeting.cancelled_at is not None:
        lines.insert(0, _("Mötet är inställt."))
    attendees = _attendees(meeting)
    event = Event.new(
        uid=meeting_uid(meeting),
        start=starts_at,
        end=starts_at + timedelta(minutes=meeting.duration_minutes),
        summary=_("SIP-möte"),
        description="\n".join(lines),
        location=meeting.place or meeting.video_link,
        url=meeting.video_link,
        organizer=vCalAddress.new(calling.email, cn=calling.name) if calling else None,
        attendees=attendees or None,
        sequence=meeting.sequence,
        status=STATUS.CANCELLED if meeting.cancelled_at is not None else STATUS.CONFIRMED,
    )
    calendar = Calendar.new(
        prodid=PRODID,
        method="CANCEL" if meeting.cancelled_at is not None else "REQUEST",
        subcomponents=[event],
    )
    # Calendar.new gives the file a UID of its own, new in every download (RFC 7986); the
    # event's stable UID is the one calendars go by, so the file carries only that one.
    del calendar["UID"]
    return calendar.to_ical()
