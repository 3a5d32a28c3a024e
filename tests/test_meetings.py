"""The meeting pages: schedule, kallelse (and its .ics), answers, the meeting held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import Role
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import ParticipantKind, Response, Stage
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.people.models import RelationKind
from sip_tracker.people.services import add_related_person
from tests.factories import Factory, login

# 13:30 in Stockholm in summer (CEST, UTC+2) is 11:30 UTC.
SUMMER_DAY = date(2030, 6, 5)
SUMMER_START_UTC = datetime(2030, 6, 5, 11, 30, tzinfo=UTC)


@dataclass
class World:
    """Ids of what a test needs; objects expire once the factory commits."""

    case: int
    user: int
    partner_unit: int
    unit_participant: int
    narstaende: int
    identifier: str
    meeting: int | None = None
    unit_invitation: int | None = None
    narstaende_invitation: int | None = None

    def url(self, name: str = "") -> str:
        base = f"/cases/{self.case}/meetings"
        return f"{base}/{self.meeting}{name}" if self.meeting else f"{base}{name}"


def build(
    make: Factory,
    client: FlaskClient,
    *,
    consent: bool = True,
    starts_at: datetime | None = None,
    sent: bool = False,
    sent_at: datetime | None = None,
) -> World:
    """A case in preparation with a unit and a närstående taking part; optionally a meeting."""
    user = make.user()
    partner = make.unit(name="Vårdcentralen Ljuset", functional_mailbox="ljuset@vard.example")
    if consent:
        case = make.shared_case(user, partner)
        unit_participant = case.participants[0]
    else:
        case = make.case(user)
        cases.start_preparation(case, user=user)
        unit_participant = cases.add_participant(
            case, user=user, kind=ParticipantKind.ENHET, unit=partner
        )
    unit_participant.email = "ljuset@vard.example"
    relative = add_related_person(
        case.person,
        user=user,
        kind=RelationKind.NARSTAENDE,
        name="Anna Nilsson",
        relation="dotter",
        phone=None,
        email="anna@example.se",
        address=None,
    )
    narstaende = cases.add_participant(
        case, user=user, kind=ParticipantKind.NARSTAENDE, related_person=relative
    )
    world = World(
        case=case.id,
        user=user.id,
        partner_unit=partner.id,
        unit_participant=unit_participant.id,
        narstaende=narstaende.id,
        identifier=case.person.identifier,
    )
    if starts_at is not None:
        meeting = meetings.schedule_meeting(
            case,
            user=user,
            starts_at=starts_at,
            duration_minutes=90,
            place="Mötesrum Ljuset, plan 2",
            video_link="https://mote.example.se/abc",
            participants=[unit_participant, narstaende],
            allow_past=True,
        )
        if sent:
            meetings.send_kallelse(case, meeting, user=user, at=sent_at)
        world.meeting = meeting.id
        world.unit_invitation = meeting.invitations[0].id
        world.narstaende_invitation = meeting.invitations[1].id
    login(client, user)
    make.commit()
    return world


def reviewer_and_outsider(make: Factory, world: World) -> tuple[int, int]:
    """Log-in ids: a granskare of the initiating unit, and a user of an unrelated unit."""
    case = db.session.get_one(SipCase, world.case)
    reviewer = make.user(role=Role.GRANSKARE, reviewed_units=[case.initiating_unit])
    outsider = make.user()
    ids = reviewer.id, outsider.id
    make.commit()
    return ids


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def meeting_form(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "date": SUMMER_DAY.isoformat(),
        "time": "13:30",
        "duration_minutes": "90",
        "place": "Mötesrum Ljuset, plan 2",
        "video_link": "",
        "participant_ids": [str(world.unit_participant), str(world.narstaende)],
    }
    data.update(overrides)
    return data


def reads(case_id: int) -> int:
    query = select(func.count(AuditEvent.id)).where(
        AuditEvent.case_id == case_id, AuditEvent.action == "case.read"
    )
    count = db.session.scalar(query) or 0
    db.session.rollback()
    return count


def fetch_meeting(meeting_id: int) -> Meeting:
    db.session.expire_all()
    return db.session.get_one(Meeting, meeting_id)


def version(world: World) -> str:
    """The meeting's version now: what a form loaded at this moment carries."""
    db.session.expire_all()
    value = db.session.get_one(Meeting, world.meeting).lock_version
    db.session.rollback()
    return str(value)


def case_stage(case_id: int) -> Stage:
    db.session.expire_all()
    stage = db.session.get_one(SipCase, case_id).stage
    db.session.rollback()
    return stage


# Scheduling


def test_schedule_a_meeting_in_stockholm_time(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.get(world.url("/new"))
    assert page.status_code == 200
    assert "Planera SIP-möte" in text(page)
    assert "Vårdcentralen Ljuset" in text(page)
    assert "Anna Nilsson (närstående)" in text(page)

    done = client.post(world.url("/new"), data=meeting_form(world))
    assert done.status_code == 302
    shown = client.get(done.headers["Location"])
    assert shown.status_code == 200
    assert "Mötet är planerat" in text(shown)
    assert "2030-06-05 13:30" in text(shown)
    assert "Skicka kallelse" in text(shown)

    meeting = db.session.scalars(select(Meeting).where(Meeting.case_id == world.case)).one()
    assert meeting.starts_at == SUMMER_START_UTC
    assert {i.participant_id for i in meeting.invitations} == {
        world.unit_participant,
        world.narstaende,
    }
    db.session.rollback()


def test_schedule_form_errors_keep_the_input(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.post(
        world.url("/new"),
        data=meeting_form(
            world,
            date="",
            place="Rum 4 på Ljuset",
            video_link="inte en länk",
            participant_ids=[],
        ),
    )
    assert page.status_code == 422
    html = text(page)
    assert "Formuläret innehåller fel" in html
    assert "Ange mötets datum." in html
    assert "Ange en fullständig länk" in html
    assert "Välj minst en deltagare att kalla." in html
    assert 'value="Rum 4 på Ljuset"' in html
    assert 'value="13:30"' in html
    assert db.session.scalar(select(func.count(Meeting.id))) == 0


def test_schedule_needs_a_place_or_a_link(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.post(world.url("/new"), data=meeting_form(world, place="", video_link=""))
    assert page.status_code == 422
    assert "Ange en plats eller en länk till ett digitalt möte." in text(page)


def test_schedule_duration_must_be_reasonable(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.post(world.url("/new"), data=meeting_form(world, duration_minutes="600"))
    assert page.status_code == 422
    assert "Ange en längd mellan 15 och 480 minuter." in text(page)
    assert 'value="600"' in text(page)


def test_edit_changes_the_time_and_keeps_the_answers(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    page = client.get(world.url("/edit"))
    assert page.status_code == 200
    assert 'value="2030-06-05"' in text(page)
    assert 'value="13:30"' in text(page)
    assert "Kallelsen är redan skickad" in text(page)

    answers = {f"response_{world.unit_invitation}": "kommer", "lock_version": version(world)}
    client.post(world.url("/responses"), data=answers)
    done = client.post(
        world.url("/edit"), data=meeting_form(world, time="15:00", lock_version=version(world))
    )
    assert done.status_code == 302
    assert "2030-06-05 15:00" in text(client.get(done.headers["Location"]))
    meeting = fetch_meeting(world.meeting)  # type: ignore[arg-type]
    assert meeting.starts_at == datetime(2030, 6, 5, 13, 0, tzinfo=UTC)
    assert meeting.sequence == 1
    assert meeting.invitations[0].response == Response.KOMMER
    db.session.rollback()
    calendar = icalendar.Calendar.from_ical(client.get(world.url("/kallelse.ics")).data)
    assert calendar.events[0]["SEQUENCE"] == 1
    assert calendar.events[0]["DTSTART"].to_ical() == b"20300605T130000Z"


def test_edit_after_the_kallelse_cannot_add_a_unit_outside_the_consent(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    case = db.session.get_one(SipCase, world.case)
    other = make.unit(name="Hemtjänsten Solen")
    extra = cases.add_participant(
        case, user=case.created_by, kind=ParticipantKind.ENHET, unit=other
    )
    extra_id = extra.id
    make.commit()

    ids = [str(world.unit_participant), str(world.narstaende), str(extra_id)]
    page = client.post(
        world.url("/edit"),
        data=meeting_form(world, time="16:00", participant_ids=ids, lock_version=version(world)),
    )
    assert page.status_code == 422
    assert "Samtycket omfattar inte: Hemtjänsten Solen" in text(page)
    assert 'value="16:00"' in text(page)
    meeting = fetch_meeting(world.meeting)  # type: ignore[arg-type]
    assert meeting.starts_at == SUMMER_START_UTC
    assert len(meeting.invitations) == 2
    db.session.rollback()


# Kallelse


def test_kallelse_is_refused_without_consent(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, consent=False, starts_at=SUMMER_START_UTC)
    message = "Registrera samtycke innan kallelsen skickas till andra organisationer."
    assert message in text(client.get(world.url()))

    page = client.post(world.url("/kallelse"), data={"lock_version": version(world)})
    assert page.status_code == 422
    assert "Kallelsen skickades inte" in text(page)
    assert message in text(page)
    assert case_stage(world.case) == Stage.FORBEREDELSE
    assert fetch_meeting(world.meeting).kallelse_sent_at is None  # type: ignore[arg-type]
    db.session.rollback()


def test_kallelse_is_refused_for_a_unit_the_consent_does_not_cover(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    case = db.session.get_one(SipCase, world.case)
    user = case.created_by
    other = make.unit(name="Hemtjänsten Solen")
    extra = cases.add_participant(case, user=user, kind=ParticipantKind.ENHET, unit=other)
    meeting = db.session.get_one(Meeting, world.meeting)
    meetings.schedule_meeting(
        case,
        user=user,
        starts_at=meeting.starts_at,
        duration_minutes=60,
        place="Rum 1",
        video_link=None,
        participants=[*case.participants[:1], extra],
        meeting=meeting,
    )
    make.commit()

    page = client.post(world.url("/kallelse"), data={"lock_version": version(world)})
    assert page.status_code == 422
    assert "Samtycket omfattar inte: Hemtjänsten Solen" in text(page)
    assert case_stage(world.case) == Stage.FORBEREDELSE


def test_sending_the_kallelse_moves_the_case_to_kallad(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    done = client.post(world.url("/kallelse"), data={"lock_version": version(world)})
    assert done.status_code == 302
    page = client.get(done.headers["Location"])
    html = text(page)
    assert "Kallelsen är registrerad som skickad" in html
    assert "Ladda ner kallelsen (.ics)" in html
    assert "Registrera hållet möte" in html
    assert "Skicka kallelse</button>" not in html
    assert case_stage(world.case) == Stage.KALLAD


def test_the_kallelse_downloads_as_ics(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    before = reads(world.case)
    download = client.get(world.url("/kallelse.ics"))
    assert download.status_code == 200
    assert download.mimetype == "text/calendar"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="kallelse-sip-{world.case}-{world.meeting}.ics"'
    )
    assert reads(world.case) == before + 1

    calendar = icalendar.Calendar.from_ical(download.data)
    (event,) = calendar.events
    assert event.start == SUMMER_START_UTC
    assert event.end == SUMMER_START_UTC + timedelta(minutes=90)
    assert event["DTSTART"].to_ical() == b"20300605T113000Z"
    assert str(event["SUMMARY"]) == "SIP-möte"
    assert str(event["LOCATION"]) == "Mötesrum Ljuset, plan 2"
    assert str(event["URL"]) == "https://mote.example.se/abc"
    assert "Karin N." in str(event["DESCRIPTION"])
    assert "Nilsson" not in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]).startswith("mailto:user")
    attendees = {str(a): (a.params["CN"], a.params["PARTSTAT"]) for a in event.attendees}
    assert attendees == {
        "mailto:ljuset@vard.example": ("Vårdcentralen Ljuset", "NEEDS-ACTION"),
        "mailto:anna@example.se": ("Anna Nilsson", "NEEDS-ACTION"),
    }
    assert calendar["METHOD"] == "REQUEST"
    body = download.get_data(as_text=True)
    assert world.identifier not in body
    assert world.identifier[2:8] not in body

    again = icalendar.Calendar.from_ical(client.get(world.url("/kallelse.ics")).data)
    assert str(again.events[0]["UID"]) == str(event["UID"])


def test_the_ics_waits_for_the_kallelse(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    page = client.get(world.url("/kallelse.ics"), follow_redirects=True)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Skicka kallelsen innan du laddar ner den." in text(page)


# Answers


def test_record_answers(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    done = client.post(
        world.url("/responses"),
        data={
            f"response_{world.unit_invitation}": "kommer",
            f"response_{world.narstaende_invitation}": "kommer_inte",
            "lock_version": version(world),
        },
    )
    assert done.status_code == 302
    page = client.get(done.headers["Location"])
    assert "Svaren är sparade." in text(page)
    assert '<option selected value="kommer_inte">Kommer inte</option>' in text(page)
    invitation = db.session.get_one(Invitation, world.unit_invitation)
    assert invitation.response == Response.KOMMER
    assert invitation.responded_at is not None
    db.session.rollback()


def test_an_invalid_answer_is_shown_not_saved(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    page = client.post(
        world.url("/responses"),
        data={
            f"response_{world.unit_invitation}": "kommer",
            f"response_{world.narstaende_invitation}": "vet-ej",
        },
    )
    assert page.status_code == 422
    assert 'aria-invalid="true"' in text(page)
    assert '<option selected value="kommer">Kommer</option>' in text(page)
    invitation = db.session.get_one(Invitation, world.unit_invitation)
    assert invitation.response == Response.OBESVARAD
    db.session.rollback()


# The meeting held


def test_record_the_meeting_held(make: Factory, client: FlaskClient) -> None:
    yesterday = to_utc(datetime.combine(clock.today() - timedelta(days=1), datetime.min.time()))
    starts_at = yesterday + timedelta(hours=10)
    world = build(
        make, client, starts_at=starts_at, sent=True, sent_at=starts_at - timedelta(days=5)
    )
    page = client.get(world.url("/held"))
    assert page.status_code == 200
    assert 'value="10:00"' in text(page)
    assert "<legend>Deltog personen själv?" in text(page)

    done = client.post(
        world.url("/held"),
        data={
            "held_date": (clock.today() - timedelta(days=1)).isoformat(),
            "held_time": "10:15",
            "person_attended": "ja",
            "attended": [str(world.narstaende_invitation)],
            "notes": "Personen berättade om sin vardag.",
            "lock_version": version(world),
        },
    )
    assert done.status_code == 302
    html = text(client.get(done.headers["Location"]))
    assert "Mötet är registrerat som hållet." in html
    assert "Personen berättade om sin vardag." in html
    assert "Registrera hållet möte" not in html
    assert case_stage(world.case) == Stage.MOTE_HALLET
    meeting = fetch_meeting(world.meeting)  # type: ignore[arg-type]
    assert meeting.held_at == starts_at + timedelta(minutes=15)
    assert meeting.person_attended is True
    assert meeting.narstaende_attended is True
    assert [i.attended for i in meeting.invitations] == [False, True]
    db.session.rollback()

    again = client.get(world.url("/edit"), follow_redirects=True)
    assert "Mötet är redan hållet och kan inte ändras." in text(again)


def test_held_form_errors_keep_the_input(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    page = client.post(
        world.url("/held"),
        data={"held_date": "", "held_time": "10:00", "notes": "Mina anteckningar"},
    )
    assert page.status_code == 422
    assert "Ange datum för mötet." in text(page)
    assert "Ange om personen deltog." in text(page)
    assert "Mina anteckningar" in text(page)

    future = client.post(
        world.url("/held"),
        data={
            "held_date": SUMMER_DAY.isoformat(),
            "held_time": "13:30",
            "person_attended": "nej",
            "notes": "Mina anteckningar",
            "lock_version": version(world),
        },
    )
    assert future.status_code == 422
    assert "Ett möte kan inte registreras som hållet i framtiden." in text(future)
    assert "Mina anteckningar" in text(future)
    assert case_stage(world.case) == Stage.KALLAD


def test_a_second_meeting_before_the_plan_keeps_the_stage(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    done = client.post(f"/cases/{world.case}/meetings/new", data=meeting_form(world, time="09:00"))
    assert done.status_code == 302
    sent = client.post(
        done.headers["Location"] + "/kallelse", data={"lock_version": "1"}, follow_redirects=True
    )
    assert "Kallelsen är registrerad som skickad" in text(sent)
    assert case_stage(world.case) == Stage.KALLAD


def test_held_waits_for_the_kallelse(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    page = client.get(world.url("/held"), follow_redirects=True)
    assert "Skicka kallelsen innan mötet registreras som hållet." in text(page)


# Who may do what


CHANGE_PAGES = [
    ("get", "/new"),
    ("get", "/edit"),
    ("get", "/held"),
    ("post", "/kallelse"),
    ("post", "/responses"),
    ("post", "/edit"),
    ("post", "/held"),
    ("post", "/new"),
]
READ_PAGES = [("get", ""), ("get", "/kallelse.ics")]


def _request(client: FlaskClient, world: World, method: str, path: str) -> int:
    url = f"/cases/{world.case}/meetings/new" if path == "/new" else world.url(path)
    return int(getattr(client, method)(url).status_code)


@pytest.mark.parametrize(("method", "path"), CHANGE_PAGES + READ_PAGES)
def test_who_may_open_each_page(make: Factory, client: FlaskClient, method: str, path: str) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    reviewer, outsider = reviewer_and_outsider(make, world)
    status = _request(client, world, method, path)
    assert status == 200 if method == "get" else status in (302, 422)

    assert _request(login(client, outsider), world, method, path) == 404
    expected = 403 if (method, path) in CHANGE_PAGES else 200
    assert _request(login(client, reviewer), world, method, path) == expected


def test_reviewer_reads_without_forms(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    reviewer, _ = reviewer_and_outsider(make, world)
    html = text(login(client, reviewer).get(world.url()))
    assert "Mötesrum Ljuset, plan 2" in html
    assert "Inte svarat" in html
    assert "Spara svaren" not in html
    assert "Registrera hållet möte" not in html


def test_a_meeting_of_another_case_is_not_found(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    case = db.session.get_one(SipCase, world.case)
    other = make.case(case.created_by)
    other_id = other.id
    make.commit()
    assert client.get(f"/cases/{other_id}/meetings/{world.meeting}").status_code == 404


def test_showing_a_meeting_is_logged_as_a_read(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    before = reads(world.case)
    page = client.get(world.url())
    assert page.status_code == 200
    assert "Mötesrum Ljuset, plan 2" in text(page)
    assert reads(world.case) == before + 1


def test_the_meeting_page_in_english(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    page = client.get(world.url() + "?lang=en")
    assert page.status_code == 200
    assert '<html lang="en">' in text(page)
