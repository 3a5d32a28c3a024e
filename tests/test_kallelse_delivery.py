"""The kallelse reaches the invited units (issue 9, point 2): they answer for themselves, the
mötesledare records answers given by telephone, moving and cancelling tell everyone
invited, the .ics follows, and the meeting's dates keep to what can be true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from flask.testing import FlaskClient
from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind, Response
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db, utcnow
from sip_tracker.fhir.outbound.meetings import appointment_status
from sip_tracker.i18n import to_utc
from sip_tracker.inbox.models import InboxItem, InboxKind
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.organizations.models import Unit
from tests.factories import Factory, login
from tests.test_meetings import (
    SUMMER_DAY,
    SUMMER_START_UTC,
    World,
    build,
    meeting_form,
    text,
    version,
)


def items(kind: InboxKind) -> list[tuple[int, int | None, int | None]]:
    """(unit, user, meeting) of each inbox item of the kind."""
    db.session.expire_all()
    rows = db.session.scalars(select(InboxItem).where(InboxItem.kind == kind)).all()
    found = [(i.unit_id, i.user_id, i.meeting_id) for i in rows]
    db.session.rollback()
    return found


def invitation(invitation_id: int | None) -> Invitation:
    db.session.expire_all()
    return db.session.get_one(Invitation, invitation_id)


def partner_user(make: Factory, world: World, **overrides: object) -> int:
    """A coordinator of the invited unit (Vårdcentralen Ljuset)."""
    unit = db.session.get_one(Unit, world.partner_unit)
    user_id = make.user(unit, **overrides).id
    make.commit()
    return user_id


def name_leader(make: Factory, world: World) -> tuple[int, str]:
    """A colleague of the initiating unit named mötesledare, with their account."""
    case = db.session.get_one(SipCase, world.case)
    leader = make.user(case.initiating_unit, name="Maja Mötesledare")
    cases.set_role(case, user=leader, kind=CaseRoleKind.MOTESLEDARE, holder=leader)
    ids = leader.id, leader.name
    make.commit()
    return ids


def answer(client: FlaskClient, world: World, **overrides: str) -> object:
    data = {
        "response": "kommer",
        "attendee_names": "Eva Ek, distriktssköterska",
        "comment": "Vi tar med läkemedelslistan.",
    }
    data.update(overrides)
    return client.post(world.url("/answer"), data=data)


def calendar(client: FlaskClient, world: World) -> icalendar.Calendar:
    download = client.get(world.url("/kallelse.ics"))
    assert download.status_code == 200
    return icalendar.Calendar.from_ical(download.data)


# Delivery


def test_sending_the_kallelse_puts_an_invitation_in_the_invited_units_inbox(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC)
    assert items(InboxKind.INVITATION) == []
    done = client.post(world.url("/kallelse"), data={"lock_version": version(world)})
    assert done.status_code == 302
    # The invited unit, once; not the sender's own unit, nothing for the närstående.
    assert items(InboxKind.INVITATION) == [(world.partner_unit, None, world.meeting)]


def test_an_invited_units_user_answers_for_their_own_unit(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    reader = partner_user(make, world, name="Pia Partner")
    login(client, reader)
    page = client.get(world.url(""))
    assert page.status_code == 200
    assert "Svara på kallelsen" in text(page)
    assert "Spara svaren" not in text(page)  # the shared table is the mötesledare's
    form = client.get(world.url("/answer"))
    assert form.status_code == 200
    assert "Du svarar för Vårdcentralen Ljuset." in text(form)

    done = answer(client, world)
    assert done.status_code == 302
    shown = text(client.get(done.headers["Location"]))
    assert "Ert svar är skickat till mötesledaren." in shown
    assert "av Pia Partner" in shown
    assert "Kommer: Eva Ek, distriktssköterska" in shown
    assert "Vi tar med läkemedelslistan." in shown
    given = invitation(world.unit_invitation)
    assert given.response == Response.KOMMER
    assert given.answered_by_id == reader
    assert given.on_behalf is False
    assert given.responded_at is not None
    assert invitation(world.narstaende_invitation).response == Response.OBESVARAD
    db.session.rollback()
    # No mötesledare with an account: the initiating unit is told.
    case = db.session.get_one(SipCase, world.case)
    initiating = case.initiating_unit_id
    db.session.rollback()
    assert items(InboxKind.ANSWER) == [(initiating, None, world.meeting)]


def test_opening_the_invitation_and_answering_it_opens_the_case_for_the_unit(
    make: Factory, client: FlaskClient
) -> None:
    """Reached from the inbox, the meeting page is where the invited unit opens the case: it
    is then no longer marked "Ny" in Mina ärenden, as after opening the case page."""
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    reader = partner_user(make, world)
    login(client, reader)
    assert ">Ny<" in client.get("/?scope=unit").get_data(as_text=True)
    assert client.get(world.url("")).status_code == 200
    assert answer(client, world).status_code == 302
    assert ">Ny<" not in client.get("/?scope=unit").get_data(as_text=True)


def test_proposing_another_time_needs_the_time_and_keeps_the_input(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    login(client, partner_user(make, world))
    refused = answer(
        client, world, response="annan_tid", attendee_names="", comment="Vi kan på tisdag."
    )
    assert refused.status_code == 422
    assert "Ange vilken dag ni föreslår." in text(refused)
    assert "Vi kan på tisdag." in text(refused)
    assert invitation(world.unit_invitation).response == Response.OBESVARAD
    db.session.rollback()

    done = answer(
        client,
        world,
        response="annan_tid",
        attendee_names="",
        proposed_date=(SUMMER_DAY + timedelta(days=1)).isoformat(),
        proposed_time="09:00",
    )
    assert done.status_code == 302
    assert "Föreslår: 2030-06-06 09:00" in text(client.get(done.headers["Location"]))
    given = invitation(world.unit_invitation)
    assert given.response == Response.ANNAN_TID
    assert given.proposed_starts_at == datetime(2030, 6, 6, 7, 0, tzinfo=UTC)
    db.session.rollback()


def test_a_kommer_names_who_comes(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    login(client, partner_user(make, world))
    refused = answer(client, world, attendee_names="")
    assert refused.status_code == 422
    assert "Ange vem eller vilka som kommer." in text(refused)


def test_a_user_whose_unit_is_not_invited_cannot_answer(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    # The initiating unit is not among the invited: there is no answer of its own to give.
    assert client.get(world.url("/answer")).status_code == 403
    assert answer(client, world).status_code == 403
    # A unit that does not take part is told the case does not exist.
    login(client, make.user().id)
    make.commit()
    assert client.get(world.url("/answer")).status_code == 404
    assert answer(client, world).status_code == 404
    for invitation_id in (world.unit_invitation, world.narstaende_invitation):
        assert invitation(invitation_id).response == Response.OBESVARAD
    db.session.rollback()
    assert items(InboxKind.ANSWER) == []


def test_an_invited_unit_cannot_set_another_participants_answer(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    seen = version(world)
    login(client, partner_user(make, world))
    sent = client.post(
        world.url("/responses"),
        data={
            f"response_{world.unit_invitation}": "kommer",
            f"response_{world.narstaende_invitation}": "kommer_inte",
            "lock_version": seen,
        },
    )
    assert sent.status_code == 403
    # An invitation id sent to the own-unit route does not choose whose answer it is.
    answer(client, world, invitation_id=str(world.narstaende_invitation))
    assert invitation(world.narstaende_invitation).response == Response.OBESVARAD
    assert invitation(world.unit_invitation).response == Response.KOMMER
    db.session.rollback()


def test_the_motesledare_records_an_answer_on_a_units_behalf(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    leader, leader_name = name_leader(make, world)
    # With a mötesledare named, the table is theirs: the initiativtagare answers no more.
    refused = client.post(
        world.url("/responses"),
        data={f"response_{world.unit_invitation}": "kommer", "lock_version": version(world)},
    )
    assert refused.status_code == 403

    seen = version(world)
    login(client, leader)
    done = client.post(
        world.url("/responses"),
        data={
            f"response_{world.unit_invitation}": "kommer_inte",
            f"response_{world.narstaende_invitation}": "obesvarad",
            "lock_version": seen,
        },
    )
    assert done.status_code == 302
    html = text(client.get(done.headers["Location"]))
    assert f"registrerat av {leader_name} för Vårdcentralen Ljuset" in html
    given = invitation(world.unit_invitation)
    assert (given.response, given.answered_by_id, given.on_behalf) == (
        Response.KOMMER_INTE,
        leader,
        True,
    )
    db.session.rollback()

    # The unit's own answer afterwards goes to the mötesledare's own inbox.
    login(client, partner_user(make, world))
    assert answer(client, world).status_code == 302
    assert [(user, meeting) for _unit, user, meeting in items(InboxKind.ANSWER)] == [
        (leader, world.meeting)
    ]
    assert invitation(world.unit_invitation).on_behalf is False
    db.session.rollback()


# Moving and cancelling


def test_moving_a_called_meeting_tells_the_invited_and_updates_the_ics(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    before = calendar(client, world).events[0]
    reader = partner_user(make, world)
    login(client, reader)
    assert answer(client, world).status_code == 302
    seen = version(world)
    login(client, world.user)
    done = client.post(
        world.url("/edit"), data=meeting_form(world, time="15:00", lock_version=seen)
    )
    assert done.status_code == 302
    assert items(InboxKind.MEETING_MOVED) == [(world.partner_unit, None, world.meeting)]
    html = text(client.get(done.headers["Location"]))
    assert "Svaret gavs innan mötet flyttades." in html
    assert invitation(world.unit_invitation).response == Response.KOMMER  # kept
    db.session.rollback()

    moved = calendar(client, world)
    (event,) = moved.events
    assert moved["METHOD"] == "REQUEST"
    assert event["UID"] == before["UID"]
    assert event["SEQUENCE"] > before["SEQUENCE"]
    assert event["DTSTART"].to_ical() == b"20300605T130000Z"
    attendees = {str(a): (a.params["CN"], a.params["PARTSTAT"]) for a in event.attendees}
    assert attendees["mailto:ljuset@vard.example"] == ("Vårdcentralen Ljuset", "ACCEPTED")


def test_every_download_of_the_ics_holds_one_uid_the_meetings(
    make: Factory, client: FlaskClient
) -> None:
    """No second UID (a new one for the file each time) beside the event's stable one."""
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    downloads = [client.get(world.url("/kallelse.ics")).data for _ in range(2)]
    uids = [[line for line in d.splitlines() if line.startswith(b"UID:")] for d in downloads]
    assert len(uids[0]) == 1
    assert uids[0] == uids[1]


def test_a_unit_without_a_functional_mailbox_is_no_attendee(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    db.session.get_one(Unit, world.partner_unit).functional_mailbox = None
    make.commit()
    (event,) = calendar(client, world).events
    assert [str(a) for a in event.attendees] == ["mailto:anna@example.se"]


def test_cancelling_tells_the_invited_and_the_ics_cancels(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    before = calendar(client, world).events[0]
    form = client.get(world.url("/cancel"))
    assert form.status_code == 200
    refused = client.post(world.url("/cancel"), data={"reason": "", "lock_version": version(world)})
    assert refused.status_code == 422
    assert "Ange varför mötet ställs in." in text(refused)
    assert items(InboxKind.MEETING_CANCELLED) == []

    done = client.post(
        world.url("/cancel"),
        data={"reason": "Personen är inlagd på sjukhus.", "lock_version": version(world)},
    )
    assert done.status_code == 302
    html = text(client.get(done.headers["Location"]))
    assert "Mötet är inställt" in html
    assert "Personen är inlagd på sjukhus." in html
    assert "Ladda ner avbokningen (.ics)" in html
    assert "Ställ in mötet" not in html
    assert "Registrera hållet möte" not in html
    assert items(InboxKind.MEETING_CANCELLED) == [(world.partner_unit, None, world.meeting)]

    cancelled = calendar(client, world)
    (event,) = cancelled.events
    assert cancelled["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == before["UID"]
    assert event["SEQUENCE"] > before["SEQUENCE"]
    assert world.identifier not in cancelled.to_ical().decode()

    # Nothing more happens to a cancelled meeting.
    edit = client.get(world.url("/edit"), follow_redirects=True)
    assert "Mötet är inställt och kan inte ändras." in text(edit)
    assert "Mötet är inställt." in text(client.get(world.url("/held"), follow_redirects=True))
    login(client, partner_user(make, world))
    assert "Svara på kallelsen" not in text(client.get(world.url("")))
    assert answer(client, world).status_code == 422
    assert invitation(world.unit_invitation).response == Response.OBESVARAD
    db.session.rollback()
    # The case no longer waits for the cancelled meeting.
    case = db.session.get_one(SipCase, world.case)
    assert case.next_due_on != SUMMER_DAY
    meeting = db.session.get_one(Meeting, world.meeting)
    assert appointment_status(case, meeting) == "cancelled"
    db.session.rollback()


def test_an_invited_unit_neither_moves_nor_cancels_nor_records_the_meeting(
    make: Factory, client: FlaskClient
) -> None:
    """The invited unit answers for itself; the meeting is run by the initiating unit (or
    the mötesledare's): no buttons, 403 on every form, nothing changed."""
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    login(client, db.session.get_one(User, partner_user(make, world)))

    page = text(client.get(world.url("")))
    for button in ("Ändra tid, plats eller deltagare", "Ställ in mötet", "Registrera hållet möte"):
        assert button not in page
    assert client.post(world.url("/cancel"), data={"reason": "Vi kan inte."}).status_code == 403
    for path in ("/edit", "/cancel", "/held"):
        assert client.get(world.url(path)).status_code == 403
    db.session.expire_all()
    meeting = db.session.get_one(Meeting, world.meeting)
    assert (meeting.cancelled_at, meeting.sequence) == (None, 0)
    db.session.rollback()


def test_a_held_meeting_cannot_be_cancelled(make: Factory, client: FlaskClient) -> None:
    starts_at = utcnow() - timedelta(days=1)
    world = build(
        make, client, starts_at=starts_at, sent=True, sent_at=starts_at - timedelta(days=3)
    )
    case = db.session.get_one(SipCase, world.case)
    meeting = db.session.get_one(Meeting, world.meeting)
    user = db.session.get_one(User, world.user)
    meetings.record_meeting_held(
        case, meeting, user=user, held_at=starts_at, person_attended=True, attended={}, notes=None
    )
    make.commit()
    refused = client.post(
        world.url("/cancel"), data={"reason": "För sent.", "lock_version": version(world)}
    )
    assert refused.status_code == 422
    assert "Mötet är redan hållet och kan inte ställas in." in text(refused)
    db.session.expire_all()
    assert db.session.get_one(Meeting, world.meeting).cancelled_at is None
    db.session.rollback()


# Dates


def test_a_meeting_cannot_be_planned_in_the_past(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    page = client.post(world.url("/new"), data=meeting_form(world, date=yesterday))
    assert page.status_code == 422
    html = text(page)
    assert "Ett möte kan inte planeras bakåt i tiden." in html
    assert 'id="date-error"' in html
    assert f'value="{yesterday}"' in html
    assert db.session.scalar(select(Meeting.id)) is None
    db.session.rollback()


def test_a_meeting_cannot_be_moved_into_the_past(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, starts_at=SUMMER_START_UTC, sent=True)
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    page = client.post(
        world.url("/edit"), data=meeting_form(world, date=yesterday, lock_version=version(world))
    )
    assert page.status_code == 422
    assert "Ett möte kan inte planeras bakåt i tiden." in text(page)
    db.session.expire_all()
    assert db.session.get_one(Meeting, world.meeting).starts_at == SUMMER_START_UTC
    db.session.rollback()
    assert items(InboxKind.MEETING_MOVED) == []


def test_a_meeting_is_not_held_before_its_kallelse_was_sent(
    make: Factory, client: FlaskClient
) -> None:
    day = clock.today() - timedelta(days=2)
    starts_at = to_utc(datetime.combine(day, datetime.min.time())) + timedelta(hours=10)
    world = build(
        make, client, starts_at=starts_at, sent=True, sent_at=starts_at + timedelta(hours=3)
    )
    page = client.post(
        world.url("/held"),
        data={
            "held_date": day.isoformat(),
            "held_time": "10:00",
            "person_attended": "ja",
            "notes": "Mina anteckningar",
            "lock_version": version(world),
        },
    )
    assert page.status_code == 422
    html = text(page)
    assert "Mötet kan inte ha hållits innan kallelsen skickades." in html
    assert 'id="held_date-error"' in html
    assert "Mina anteckningar" in html
    db.session.expire_all()
    assert db.session.get_one(Meeting, world.meeting).held_at is None
    db.session.rollback()


# The clash warning


def _other_meeting(make: Factory, leader: User, *, sent_by_leader: bool) -> int:
    """Another case's meeting at the summer time, led by the leader."""
    other = make.shared_case(leader, make.unit())
    meeting = meetings.schedule_meeting(
        other,
        user=leader,
        starts_at=SUMMER_START_UTC + timedelta(minutes=30),
        duration_minutes=60,
        place="Rum 9",
        video_link=None,
        participants=other.participants,
    )
    if sent_by_leader:
        meetings.send_kallelse(other, meeting, user=leader)
    else:
        cases.set_role(other, user=leader, kind=CaseRoleKind.MOTESLEDARE, holder=leader)
    return meeting.id


def test_a_clash_with_the_planners_other_meeting_asks_to_confirm(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client)
    user = db.session.get_one(User, world.user)
    _other_meeting(make, user, sent_by_leader=True)
    make.commit()
    page = client.post(world.url("/new"), data=meeting_form(world))
    assert page.status_code == 422
    html = text(page)
    assert "Mötesledaren har redan ett möte på den tiden" in html
    assert "2030-06-05 14:00–15:00, SIP-möte för Karin Nilsson" in html  # they see that case
    assert "Spara ändå" in html
    assert 'value="Mötesrum Ljuset, plan 2"' in html
    assert db.session.scalar(select(Meeting.id).where(Meeting.case_id == world.case)) is None
    db.session.rollback()

    done = client.post(world.url("/new"), data=meeting_form(world, confirm_clash="y"))
    assert done.status_code == 302
    assert db.session.scalar(select(Meeting.id).where(Meeting.case_id == world.case))
    db.session.rollback()


def test_a_clash_in_a_case_the_user_cannot_see_names_only_the_time(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client)
    # The mötesledare is the invited unit's; the planner's unit sees none of its other cases.
    leader = db.session.get_one(User, partner_user(make, world))
    case = db.session.get_one(SipCase, world.case)
    cases.set_role(case, user=leader, kind=CaseRoleKind.MOTESLEDARE, holder=leader)
    elsewhere = make.user(name="Olle Annanstans")
    # The leader also leads a meeting of a case the planner's unit does not take part in.
    other = make.shared_case(elsewhere, leader.unit, person=make.person(given_name="Sixten"))
    meeting = meetings.schedule_meeting(
        other,
        user=elsewhere,
        starts_at=SUMMER_START_UTC - timedelta(minutes=30),
        duration_minutes=60,
        place="Rum 7",
        video_link=None,
        participants=other.participants,
    )
    cases.set_role(other, user=elsewhere, kind=CaseRoleKind.MOTESLEDARE, holder=leader)
    assert meeting.id
    make.commit()
    page = client.post(world.url("/new"), data=meeting_form(world))
    assert page.status_code == 422
    html = text(page)
    assert "2030-06-05 13:00–14:00, ett annat SIP-möte" in html
    assert "Sixten" not in html


def test_no_clash_with_a_cancelled_meeting(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    user = db.session.get_one(User, world.user)
    other_id = _other_meeting(make, user, sent_by_leader=True)
    other = db.session.get_one(Meeting, other_id)
    meetings.cancel_meeting(
        db.session.get_one(SipCase, other.case_id), other, user=user, reason="Inställt."
    )
    make.commit()
    assert client.post(world.url("/new"), data=meeting_form(world)).status_code == 302


# The unit's functional mailbox


def test_an_administrator_gives_a_unit_a_functional_mailbox(
    make: Factory, client: FlaskClient
) -> None:
    admin = make.user(role=Role.ADMINISTRATOR)
    unit = make.unit(name="Hemtjänsten Norr")
    ids = admin.id, unit.id, unit.huvudman_id
    make.commit()
    admin_id, unit_id, huvudman_id = ids
    login(client, admin_id)
    data = {
        "huvudman_id": str(huvudman_id),
        "name": "Hemtjänsten Norr",
        "hsa_id": "",
        "active": "y",
        "functional_mailbox": "inte en adress",
        "lock_version": "1",
    }
    refused = client.post(f"/admin/units/{unit_id}", data=data)
    assert refused.status_code == 422
    assert "Ange en giltig e-postadress." in text(refused)
    assert 'value="inte en adress"' in text(refused)

    data["functional_mailbox"] = "sip.norr@kommun.example"
    done = client.post(f"/admin/units/{unit_id}", data=data, follow_redirects=True)
    assert done.status_code == 200
    assert "sip.norr@kommun.example" in text(done)
    db.session.expire_all()
    assert db.session.get_one(Unit, unit_id).functional_mailbox == "sip.norr@kommun.example"
    db.session.rollback()
