"""Meetings: an Appointment per kallelse sent, an Encounter per meeting held."""

from __future__ import annotations

from datetime import timedelta

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.domainresource import DomainResource
from fhir.resources.R4B.encounter import Encounter

from sip_tracker.cases.codes import FINAL_STAGES, Response
from sip_tracker.cases.models import SipCase
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.outbound.common import (
    JSON,
    careplan_ref,
    coding,
    concept,
    ext,
    meta,
    moment,
    patient_ref,
    ref,
)
from sip_tracker.fhir.outbound.parties import participant_ref
from sip_tracker.meetings.models import Meeting

PARTICIPATION_STATUS: dict[Response, str] = {
    Response.KOMMER: "accepted",
    Response.KOMMER_INTE: "declined",
    Response.KANSKE: "tentative",
    Response.ANNAN_TID: "tentative",
    Response.OBESVARAD: "needs-action",
}


def _meeting_text(meeting: Meeting) -> str:
    return "Uppföljande SIP-möte" if meeting.is_follow_up else "SIP-möte"


def appointment_status(case: SipCase, meeting: Meeting) -> str:
    if meeting.held_at is not None:
        return "fulfilled"
    if meeting.cancelled_at is not None:
        return "cancelled"
    return "cancelled" if case.stage in FINAL_STAGES else "booked"


def _locations(meeting: Meeting) -> list[JSON]:
    """The place, and a virtual Location carrying the video link: R4 has no field for it."""
    places: list[JSON] = []
    if meeting.place:
        place = {"resourceType": "Location", "id": "place", "name": meeting.place}
        places.append({**place, "mode": "instance"})
    if meeting.video_link:
        places.append(
            {
                "resourceType": "Location",
                "id": "video",
                "name": "Digitalt möte",
                "mode": "instance",
                "telecom": [{"system": "url", "value": meeting.video_link}],
                "physicalType": concept(fs.LOCATION_PHYSICAL_TYPE, "vi", "Virtual"),
            }
        )
    return places


def appointment(case: SipCase, meeting: Meeting) -> Appointment:
    """A meeting with a kallelse: the person, everyone invited with their answer, the place."""
    if meeting.held_at is None:
        person_status = "needs-action"  # the person's own answer is not recorded
    else:
        person_status = "accepted" if meeting.person_attended else "declined"
    participants = [
        {"actor": patient_ref(case.person), "required": "required", "status": person_status}
    ]
    participants += [
        {
            "actor": participant_ref(invitation.participant),
            "required": "required",
            "status": PARTICIPATION_STATUS[invitation.response],
        }
        for invitation in meeting.invitations
    ]
    places = _locations(meeting)
    participants += [
        {
            "actor": {"reference": f"#{place['id']}", "display": place["name"]},
            "required": "information-only",
            "status": "accepted",
        }
        for place in places
    ]
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    return Appointment.model_validate(
        {
            "id": fs.appointment_id(meeting.id),
            "meta": meta(fs.PROFILE_APPOINTMENT),
            "contained": places or None,
            "status": appointment_status(case, meeting),
            "description": _meeting_text(meeting),
            "supportingInformation": [careplan_ref(case)],
            "start": moment(meeting.starts_at),
            "end": moment(end),
            "minutesDuration": meeting.duration_minutes,
            "created": moment(meeting.kallelse_sent_at),
            "participant": participants,
        }
    )


def encounter(case: SipCase, meeting: Meeting) -> Encounter:
    """A held meeting: who attended (the person in an extension), when, from which kallelse."""
    assert meeting.held_at is not None
    if meeting.video_link and not meeting.place:
        encounter_class = coding(fs.V3_ACT_CODE, "VR", "virtual")
    else:
        encounter_class = coding(fs.V3_ACT_CODE, "AMB", "ambulatory")
    part = concept(fs.V3_PARTICIPATION_TYPE, "PART", "Participation")
    attended = [i.participant for i in meeting.invitations if i.attended]
    end = meeting.held_at + timedelta(minutes=meeting.duration_minutes)
    return Encounter.model_validate(
        {
            "id": fs.encounter_id(meeting.id),
            "meta": meta(fs.PROFILE_ENCOUNTER),
            "extension": [ext(fs.EXT_PERSON_ATTENDED, valueBoolean=bool(meeting.person_attended))],
            "status": "finished",
            "class": encounter_class,
            "type": [{"text": _meeting_text(meeting)}],
            "subject": patient_ref(case.person),
            "participant": [{"type": [part], "individual": participant_ref(p)} for p in attended]
            or None,
            "appointment": [ref("Appointment", fs.appointment_id(meeting.id))],
            "period": {"start": moment(meeting.held_at), "end": moment(end)},
        }
    )


def meeting_resources(case: SipCase) -> list[DomainResource]:
    """An Appointment per meeting whose kallelse was sent, then an Encounter per held one."""
    called = [m for m in case.meetings if m.kallelse_sent_at is not None]
    return [appointment(case, m) for m in called] + [
        encounter(case, m) for m in called if m.held_at is not None
    ]
