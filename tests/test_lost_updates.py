"""No lost updates: two colleagues load the same form, both save; the second is refused (409)
with their text still in the form and a message naming who saved first."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from sip_tracker import clock
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind, Origin, Sakomrade
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.errors import StaleVersion
from sip_tracker.handlingsplan.models import (
    Activity,
    CaseActivity,
    Malomrade,
    PlanSakomrade,
    StrategiskInriktning,
)
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Meeting
from sip_tracker.organizations.models import Unit
from sip_tracker.people.models import Person
from sip_tracker.people.services import update_person
from sip_tracker.web import attempt
from tests.factories import Factory, login

YESTERDAY = clock.today() - timedelta(days=1)


@dataclass
class World:
    """Ids: two coordinators of one unit on a shared case, two administrators, plan rows."""

    case: int
    person: int
    meeting: int
    invitation: int
    unit: int
    huvudman: int
    partner: int
    colleague: int
    malomrade: int
    karin: int
    rolf: int
    ada: int
    bo: int


@pytest.fixture
def world(make: Factory) -> World:
    unit = make.unit(name="Hemtjänsten Tumba")
    partner = make.unit(name="Vårdcentralen Ljuset")
    karin = make.user(unit, name="Karin Först")
    rolf = make.user(unit, name="Rolf Sedan")
    ada = make.user(unit, role=Role.ADMINISTRATOR, name="Ada Admin")
    bo = make.user(unit, role=Role.ADMINISTRATOR, name="Bo Admin")
    colleague = make.user(partner, name="Cilla Kollega")
    case = make.shared_case(karin, partner)
    meeting = meetings.schedule_meeting(
        case,
        user=karin,
        starts_at=to_utc(datetime.combine(YESTERDAY, time(10, 0))),
        allow_past=True,
        duration_minutes=60,
        place="Rum 1",
        video_link=None,
        participants=list(case.participants),
    )
    meetings.send_kallelse(
        case, meeting, user=karin, at=to_utc(datetime.combine(YESTERDAY, time(8, 0)))
    )
    malomrade = Malomrade(code="somlos", title="Sömlös vård och omsorg")
    inriktning = StrategiskInriktning(code="somlos-1", title="Nav", malomrade=malomrade)
    sakomrade = PlanSakomrade(code="aldre", title="Äldres hälsa")
    activity = Activity(identifier="2024-sip", title="SIP", year_from=2024, year_to=2024)
    db.session.add_all([malomrade, inriktning, sakomrade, activity])
    db.session.flush()
    ids = World(
        case=case.id,
        person=case.person_id,
        meeting=meeting.id,
        invitation=meeting.invitations[0].id,
        unit=unit.id,
        huvudman=partner.huvudman_id,
        partner=partner.id,
        colleague=colleague.id,
        malomrade=malomrade.id,
        karin=karin.id,
        rolf=rolf.id,
        ada=ada.id,
        bo=bo.id,
    )
    make.commit()
    return ids


def stored(model: Any, key: Any, attribute: str) -> Any:
    db.session.expire_all()
    value = getattr(db.session.get_one(model, key), attribute)
    db.session.rollback()
    return value


def huvudansvarig(world: World) -> str:
    db.session.expire_all()
    role = db.session.get_one(SipCase, world.case).role(CaseRoleKind.HUVUDANSVARIG)
    db.session.rollback()
    return role.person_name if role else ""


@dataclass
class Form:
    """One form colleagues may save at once: where it is, what it sends, where it is kept."""

    name: str
    url: Callable[[World], str]
    fields: Callable[[World, str], dict[str, Any]]
    saved: Callable[[World], Any]
    what: str  # the record, as the message names it
    admin: bool = False
    read_from: Callable[[World], str] | None = None  # the page holding the form, if elsewhere
    values: tuple[str, str] = ("Karins formulering.", "Rolfs text som inte får försvinna.")
    shown: Callable[[str], str] = lambda value: value  # how the kept input shows in the page


def meeting_url(world: World, tail: str = "") -> str:
    return f"/cases/{world.case}/meetings/{world.meeting}{tail}"


FORMS = [
    Form(
        "case details",
        lambda w: f"/cases/{w.case}/edit",
        lambda w, v: {"origin": "annan", "sakomraden": ["aldre"], "need_description": v},
        lambda w: stored(SipCase, w.case, "need_description"),
        "ärendet",
    ),
    Form(
        "kartläggning",
        lambda w: f"/cases/{w.case}/kartlaggning",
        lambda w, v: {"what_matters": v, "needs-0-area": "halsa", "needs-0-description": ""},
        lambda w: stored(SipCase, w.case, "what_matters"),
        "ärendet",
    ),
    Form(
        "roles",
        lambda w: f"/cases/{w.case}/roles?kind=huvudansvarig",
        lambda w, v: {"kind": "huvudansvarig", "unit_id": str(w.unit), "person_name": v},
        huvudansvarig,
        "ärendet",
    ),
    Form(
        "person details",
        lambda w: f"/people/{w.person}/edit",
        lambda w, v: {"given_name": "Karin", "family_name": "Nilsson", "address": v},
        lambda w: stored(Person, w.person, "address"),
        "personuppgifterna",
    ),
    Form(
        "meeting",
        lambda w: meeting_url(w, "/edit"),
        lambda w, v: {
            "date": YESTERDAY.isoformat(),
            "time": "10:00",
            "duration_minutes": "60",
            "place": v,
            "participant_ids": [str(_participant(w))],
        },
        lambda w: stored(Meeting, w.meeting, "place"),
        "mötet",
    ),
    Form(
        "meeting answers",
        lambda w: meeting_url(w, "/responses"),
        lambda w, v: {f"response_{w.invitation}": v},
        lambda w: _answer(w),
        "mötet",
        read_from=meeting_url,
        values=("kommer", "kommer_inte"),
        shown=lambda value: f'<option selected value="{value}">',
    ),
    Form(
        "meeting held",
        lambda w: meeting_url(w, "/held"),
        lambda w, v: {
            "held_date": YESTERDAY.isoformat(),
            "held_time": "10:00",
            "person_attended": "ja",
            "notes": v,
        },
        lambda w: stored(Meeting, w.meeting, "notes"),
        "mötet",
    ),
    Form(
        "case's action plan activities",
        lambda w: f"/cases/{w.case}/handlingsplan",
        lambda w, v: {"activity_ids": [str(_activity_id())] if v == "linked" else []},
        lambda w: "linked" if _linked(w) else "not linked",
        "ärendet",
        values=("not linked", "linked"),  # the second one's ticked box stays ticked
        shown=lambda value: " checked>" if value == "linked" else "",
    ),
    Form(
        "user",
        lambda w: f"/admin/users/{w.colleague}",
        lambda w, v: {"name": v, "role": "samordnare", "unit_id": str(w.partner), "active": "y"},
        lambda w: stored(User, w.colleague, "name"),
        "användaren",
        admin=True,
    ),
    Form(
        "unit",
        lambda w: f"/admin/units/{w.partner}",
        lambda w, v: {"huvudman_id": str(w.huvudman), "name": v, "active": "y"},
        lambda w: stored(Unit, w.partner, "name"),
        "enheten",
        admin=True,
    ),
    Form(
        "activity",
        lambda w: "/handlingsplan/aktiviteter/2024-sip/andra",
        lambda w, v: {
            "title": "SIP",
            "description": v,
            "year_from": "2024",
            "status": "beslutad",
        },
        lambda w: _activity_description(),
        "aktiviteten",
        admin=True,
    ),
    Form(
        "målområde",
        lambda w: "/handlingsplan/malomraden/somlos/andra",
        lambda w, v: {"title": "Sömlös vård och omsorg", "description": v},
        lambda w: stored(Malomrade, w.malomrade, "description"),
        "målområdet",
        admin=True,
    ),
    Form(
        "strategisk inriktning",
        lambda w: "/handlingsplan/inriktningar/somlos-1/andra",
        lambda w, v: {"malomrade_id": str(w.malomrade), "title": "Nav", "description": v},
        lambda w: _inriktning_description(),
        "den strategiska inriktningen",
        admin=True,
    ),
    Form(
        "sakområde",
        lambda w: "/handlingsplan/sakomraden/aldre/andra",
        lambda w, v: {"title": "Äldres hälsa", "description": v},
        lambda w: stored(PlanSakomrade, "aldre", "description"),
        "sakområdet",
        admin=True,
    ),
]


def _participant(world: World) -> int:
    meeting = db.session.get_one(Meeting, world.meeting)
    participant_id = meeting.invitations[0].participant_id
    db.session.rollback()
    return participant_id


def _answer(world: World) -> str:
    db.session.expire_all()
    answer = db.session.get_one(Meeting, world.meeting).invitations[0].response.value
    db.session.rollback()
    return answer


def _activity_id() -> int:
    found = db.session.scalars(select(Activity.id).where(Activity.identifier == "2024-sip")).one()
    db.session.rollback()
    return found


def _linked(world: World) -> bool:
    db.session.expire_all()
    query = select(CaseActivity).where(CaseActivity.case_id == world.case)
    found = db.session.scalars(query).first() is not None
    db.session.rollback()
    return found


def _activity_description() -> str:
    db.session.expire_all()
    found = db.session.scalars(select(Activity).where(Activity.identifier == "2024-sip")).one()
    db.session.rollback()
    return found.description


def _inriktning_description() -> str:
    db.session.expire_all()
    code = StrategiskInriktning.code == "somlos-1"
    found = db.session.scalars(select(StrategiskInriktning).where(code)).one()
    db.session.rollback()
    return found.description


def version_in(response: TestResponse) -> str:
    """The lock_version the page's form carries."""
    html = response.get_data(as_text=True)
    found = re.search(r'name="lock_version"[^>]*value="(\d+)"', html)
    assert found, "the form carries the version it was loaded from"
    return found.group(1)


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_the_second_of_two_saves_is_refused_and_keeps_its_text(
    world: World, client: FlaskClient, app: Flask, form: Form
) -> None:
    first_id, second_id = (world.ada, world.bo) if form.admin else (world.karin, world.rolf)
    first, second = client, app.test_client()
    page = (form.read_from or form.url)(world)
    loaded_first = login(first, first_id).get(page)
    loaded_second = login(second, second_id).get(page)
    assert loaded_first.status_code == loaded_second.status_code == 200
    mine, theirs = form.values

    saved = login(first, first_id).post(
        form.url(world),
        data={**form.fields(world, mine), "lock_version": version_in(loaded_first)},
    )
    assert saved.status_code == 302
    refused = login(second, second_id).post(
        form.url(world),
        data={**form.fields(world, theirs), "lock_version": version_in(loaded_second)},
    )

    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    first_name = "Ada Admin" if form.admin else "Karin Först"
    assert f"{first_name} sparade {form.what} medan du redigerade." in html
    assert "Din text finns kvar nedan" in html
    assert form.shown(theirs) in html  # the second one's input is still in the form
    assert form.saved(world) == mine  # and the first one's save stands


def test_a_kallelse_is_not_sent_for_a_meeting_changed_since_the_page_was_read(
    world: World, client: FlaskClient, app: Flask, make: Factory
) -> None:
    case = db.session.get_one(SipCase, world.case)
    meeting = meetings.schedule_meeting(
        case,
        user=case.created_by,
        starts_at=to_utc(datetime.combine(clock.today() + timedelta(days=7), time(13, 30))),
        duration_minutes=60,
        place="Rum 2",
        video_link=None,
        participants=list(case.participants),
    )
    url = f"/cases/{world.case}/meetings/{meeting.id}"
    make.commit()
    rolf = app.test_client()
    read = login(client, world.karin).get(url)
    changing = login(rolf, world.rolf).get(url + "/edit")
    moved = login(rolf, world.rolf).post(
        url + "/edit",
        data={
            "date": (clock.today() + timedelta(days=8)).isoformat(),
            "time": "09:00",
            "duration_minutes": "60",
            "place": "Rum 3",
            "participant_ids": [str(p.id) for p in case.participants],
            "lock_version": version_in(changing),
        },
    )
    assert moved.status_code == 302

    sent = login(client, world.karin).post(
        url + "/kallelse", data={"lock_version": version_in(read)}
    )

    assert sent.status_code == 409
    assert "Rolf Sedan sparade mötet medan du redigerade." in sent.get_data(as_text=True)
    assert stored(Meeting, meeting.id, "kallelse_sent_at") is None


def test_a_form_without_its_version_is_refused(world: World, client: FlaskClient) -> None:
    login(client, world.karin)
    answer = client.post(
        f"/cases/{world.case}/edit",
        data={"origin": "annan", "sakomraden": ["aldre"], "need_description": "Utan version."},
    )
    assert answer.status_code == 422
    assert "Formuläret saknar version: läs in sidan på nytt." in answer.get_data(as_text=True)
    assert stored(SipCase, world.case, "need_description") != "Utan version."


# The database's own check: two saves that passed the service's check at the same moment


def test_of_two_saves_passing_the_check_at_once_only_the_first_is_written(
    world: World, app: Flask
) -> None:
    """As on PostgreSQL, where the second request read the row before the first committed:
    its UPDATE names the version it read, matches no row, and the save is refused."""
    with app.test_request_context():
        case = db.session.get_one(SipCase, world.case)
        karin = db.session.get_one(User, world.karin)
        read = case.lock_version
        # Another request saves meanwhile (straight to the table: this session's copy of the
        # case stays as it was read).
        db.session.execute(
            update(SipCase.__table__)
            .where(SipCase.__table__.c.id == case.id)
            .values(need_description="Den andras text.", lock_version=read + 1)
        )
        form = FlaskForm(meta={"csrf": False})
        done = attempt(
            form,
            lambda: cases.update_case_details(
                case,
                user=karin,
                origin=Origin.ANNAN,
                utskrivningsklar_on=None,
                sakomraden=[Sakomrade.ALDRE],
                need_description="Min text.",
                lock_version=read,
            ),
        )
        assert not done.ok
        assert form.stale  # type: ignore[attr-defined]
        assert "Någon annan sparade samma uppgifter i samma stund." in form.form_errors[0]
        db.session.expire_all()
        assert db.session.get_one(SipCase, world.case).need_description == "Den andras text."
        db.session.rollback()


def test_a_writer_without_a_form_saves_and_moves_the_version_on(world: World, app: Flask) -> None:
    """The FHIR importer and the demo loader pass no version: no check, but a colleague's
    open form still learns that the record changed."""
    with app.test_request_context():
        person = db.session.get_one(Person, world.person)
        karin = db.session.get_one(User, world.karin)
        before = person.lock_version
        fields = {"given_name": "Karin", "family_name": "Nilsson", "phone": None, "email": None}
        update_person(person, user=karin, address="Ny adress 1", **fields)
        assert person.lock_version == before + 1
        with pytest.raises(StaleVersion, match="Karin Först sparade personuppgifterna"):
            update_person(person, user=karin, address="Gammal", lock_version=before, **fields)
        db.session.rollback()


def test_a_race_outside_a_form_answers_409_not_500(tmp_path: Any) -> None:
    """A save that loses the database's version check where no form catches it (a view's
    own flush, the FHIR API): the request is undone and told so."""
    from sqlalchemy.orm.exc import StaleDataError

    from sip_tracker import create_app

    racing = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'race.db'}"}
    )

    def lose() -> str:
        raise StaleDataError("UPDATE statement on table 'sip_case' expected to update 1 row")

    racing.add_url_rule("/race", "race", lose)
    racing.add_url_rule("/fhir/race", "fhir_race", lose)
    browser = racing.test_client()

    page = browser.get("/race")
    assert page.status_code == 409
    assert "Någon annan sparade samma uppgifter i samma stund." in page.get_data(as_text=True)
    fhir = browser.get("/fhir/race")
    assert fhir.status_code == 409
    assert fhir.json["issue"][0]["code"] == "conflict"  # type: ignore[index]
