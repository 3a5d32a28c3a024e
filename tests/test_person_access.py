"""A person's own data is shared like their cases: typing a personnummer shows nothing.

Defect found by trying the product: a user whose units had no case with a person entered
that personnummer on "Nytt ärende" and was shown the stored telephone and närstående with
their telephone; the person page then opened for them and could be edited.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import ConsentGiver, ConsentMethod, ParticipantKind
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.people.models import Person, RelationKind
from sip_tracker.people.services import add_related_person
from tests.factories import login, personnummer

PHONE = "070-111 22 33"
SON = "Jonas Andersson"
SON_PHONE = "073-444 55 66"


@pytest.fixture
def known(make):  # type: ignore[no-untyped-def]
    """A person registered at unit A, with a case there, a telephone and a son."""
    kommun = make.huvudman()
    unit_a = make.unit(kommun, name="Enhet A")
    user_a = make.user(unit_a)
    person = make.person(user_a, identifier=personnummer(date(1950, 5, 5)), phone=PHONE)
    add_related_person(
        person,
        user=user_a,
        kind=RelationKind.NARSTAENDE,
        name=SON,
        relation="son",
        phone=SON_PHONE,
        email=None,
        address=None,
    )
    make.case(user_a, person)
    stranger = make.user(make.unit(make.huvudman(), name="Enhet B"))
    db.session.commit()
    return {"person": person, "user_a": user_a, "unit_a": unit_a, "stranger": stranger}


def _new_case(client, person):  # type: ignore[no-untyped-def]
    return client.post(
        "/cases/new",
        data={
            "identifier": person.identifier,
            "given_name": "Vem",
            "family_name": "Som Helst",
            "phone": "08-000 00 00",
            "origin": "annan",
            "sakomraden": ["aldre"],
            "need_description": "Behöver hjälp.",
        },
    )


def test_nytt_arende_with_a_known_personnummer_shows_nothing_another_unit_recorded(client, known):
    person = known["person"]
    login(client, known["stranger"])

    response = _new_case(client, person)

    assert response.status_code == 302
    case_page = client.get(response.headers["Location"])
    assert case_page.status_code == 200
    html = case_page.get_data(as_text=True)
    assert PHONE not in html and SON not in html and SON_PHONE not in html
    person_page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert PHONE not in person_page and SON not in person_page
    # The stored details were not overwritten by what the stranger typed.
    db.session.expire_all()
    assert db.session.get(Person, person.id).phone == PHONE


def test_the_person_page_cannot_be_edited_by_a_unit_the_person_data_is_not_shared_with(
    client, known
):
    person = known["person"]
    login(client, known["stranger"])
    _new_case(client, person)

    assert client.get(f"/people/{person.id}/edit").status_code == 403
    response = client.post(
        f"/people/{person.id}/edit",
        data={"given_name": "Fel", "family_name": "Namn", "phone": "08-666 66 66"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    stored = db.session.get(Person, person.id)
    assert (stored.given_name, stored.phone) == ("Karin", PHONE)


def test_once_the_person_consents_to_sharing_with_unit_a_both_units_see_it(client, known, make):
    """The stranger's unit joins unit A's case under the person's consent: shared."""
    person, user_a = known["person"], known["user_a"]
    stranger = known["stranger"]
    case = db.session.scalar(select(SipCase).where(SipCase.person_id == person.id))
    cases.start_preparation(case, user=user_a)
    cases.add_participant(case, user=user_a, kind=ParticipantKind.ENHET, unit=stranger.unit)
    cases.record_consent(
        case,
        user=user_a,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=clock.today(),
        units=[known["unit_a"], stranger.unit],
        other_organisations=None,
        exclusions=None,
    )
    db.session.commit()
    login(client, stranger)

    html = client.get(f"/people/{person.id}").get_data(as_text=True)

    assert PHONE in html and SON in html and SON_PHONE in html
    assert client.get(f"/people/{person.id}/edit").status_code == 200


def test_a_unit_sees_what_it_recorded_itself(client, known):
    """The stranger adds its own närstående to the person: it sees that one, not the son."""
    person = known["person"]
    login(client, known["stranger"])
    _new_case(client, person)
    response = client.post(
        f"/people/{person.id}",
        data={"kind": "narstaende", "name": "Grannen Eva", "phone": "070-999 00 00"},
    )
    assert response.status_code == 302

    html = client.get(f"/people/{person.id}").get_data(as_text=True)

    assert "Grannen Eva" in html and SON not in html
