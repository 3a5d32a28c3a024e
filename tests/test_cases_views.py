"""The case pages as a coordinator meets them."""

from datetime import timedelta

from sqlalchemy import func, select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import Role
from sip_tracker.cases.codes import Origin, Stage
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.db import db
from sip_tracker.people.models import Person, RelationKind
from sip_tracker.people.services import add_related_person
from tests.factories import login, personnummer


def new_case_form(**overrides):
    data = {
        "identifier": "19121212-1212",
        "given_name": "Tolvan",
        "family_name": "Tolvansson",
        "origin": "annan",
        "sakomraden": ["aldre"],
        "need_description": "Behöver hemtjänst och hemsjukvård.",
    }
    data.update(overrides)
    return data


def test_create_a_case_for_a_new_person(client, make):
    user = make.user()
    make.commit()
    login(client, user)
    response = client.post("/cases/new", data=new_case_form())
    assert response.status_code == 302
    case = db.session.scalars(select(SipCase)).one()
    assert case.person.identifier == "191212121212"
    assert case.stage == Stage.BEHOV_IDENTIFIERAT
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tolvan Tolvansson" in page
    assert "19121212-1212" in page
    assert "Behov identifierat" in page


def test_a_wrong_personnummer_says_what_is_wrong_and_keeps_the_text(client, make):
    user = make.user()
    make.commit()
    login(client, user)
    response = client.post("/cases/new", data=new_case_form(identifier="19121212-1213"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kontrollsiffran stämmer inte" in page
    assert 'value="19121212-1213"' in page
    assert "Behöver hemtjänst och hemsjukvård." in page
    assert db.session.scalar(select(func.count(SipCase.id))) == 0


def test_discharge_without_utskrivningsklar_date_is_a_form_error(client, make):
    user = make.user()
    make.commit()
    login(client, user)
    response = client.post("/cases/new", data=new_case_form(origin="utskrivning"))
    assert response.status_code == 422
    assert "Ange datum för utskrivningsklar" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Person.id))) == 0


def test_an_existing_person_is_reused(client, make):
    user = make.user()
    person = make.person(user, identifier="191212121212")
    make.commit()
    login(client, user)
    response = client.post("/cases/new", data=new_case_form(identifier="121212+1212"))
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Person.id))) == 1
    assert db.session.scalars(select(SipCase)).one().person_id == person.id


def test_reviewers_cannot_open_cases(client, make):
    reviewer = make.user(role=Role.GRANSKARE)
    make.commit()
    login(client, reviewer)
    assert client.get("/cases/new").status_code == 403
    assert client.post("/cases/new", data=new_case_form()).status_code == 403


def test_the_case_page_shows_an_overdue_discharge_kallelse(client, make):
    user = make.user()
    case = make.case(
        user, origin=Origin.UTSKRIVNING, utskrivningsklar_on=clock.today() - timedelta(days=5)
    )
    make.commit()
    login(client, user)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Kallelsen är försenad" in page
    deadline = (clock.today() - timedelta(days=2)).isoformat()
    assert deadline in page


def test_reading_a_case_is_logged(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    assert client.get(f"/cases/{case.id}").status_code == 200
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.read", AuditEvent.case_id == case.id)
    ).all()
    assert len(reads) == 1
    assert reads[0].user_id == user.id and reads[0].person_id == case.person_id


def test_start_preparation_then_record_consent(client, make):
    user = make.user()
    partner = make.unit(name="Vårdcentralen")
    case = make.case(user)
    make.commit()
    login(client, user)
    client.post(f"/cases/{case.id}/start")
    assert db.session.get(SipCase, case.id).stage == Stage.FORBEREDELSE
    form = client.get(f"/cases/{case.id}/consent").get_data(as_text=True)
    assert "Vårdcentralen" in form
    response = client.post(
        f"/cases/{case.id}/consent",
        data={
            "given_by": "person",
            "method": "skriftligt",
            "given_on": clock.today().isoformat(),
            "unit_ids": [str(user.unit_id), str(partner.id)],
            "exclusions": "Inte Försäkringskassan",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Inte Försäkringskassan" in page
    assert "Skriftligt" in page


def test_consent_for_a_child_without_guardian_is_refused_with_a_message(client, make):
    user = make.user()
    child = make.person(
        user,
        born=clock.today() - timedelta(days=3650),
        identifier=personnummer(clock.today() - timedelta(days=3650)),
    )
    case = make.case(user, person=child)
    make.commit()
    login(client, user)
    response = client.post(
        f"/cases/{case.id}/consent",
        data={
            "given_by": "person",
            "method": "muntligt",
            "given_on": clock.today().isoformat(),
            "unit_ids": [str(user.unit_id)],
        },
    )
    assert response.status_code == 422
    assert "under 18 år" in response.get_data(as_text=True)


def test_withdrawn_consent_is_explained_on_the_case_page(client, make):
    user = make.user()
    case = make.shared_case(user, make.unit())
    make.commit()
    login(client, user)
    response = client.post(
        f"/cases/{case.id}/consent/withdraw",
        data={"withdrawn_on": clock.today().isoformat(), "note": "Vill inte längre"},
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Samtycket återkallades" in page
    assert "delas därför inte" in page


def test_kartlaggning_keeps_the_persons_own_words(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    response = client.post(
        f"/cases/{case.id}/kartlaggning",
        data={
            "what_matters": "Att få komma ut i trädgården.",
            "needs-0-area": "boende",
            "needs-0-description": "Trappor hemma är svåra.",
            "needs-1-area": "halsa",
            "needs-1-description": "",
            "lock_version": "1",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Att få komma ut i trädgården." in page
    assert "Trappor hemma är svåra." in page
    assert len(db.session.get(SipCase, case.id).needs) == 1


def test_invite_a_unit_a_narstaende_and_another_actor(client, make):
    user = make.user()
    partner = make.unit(name="Psykiatrin")
    case = make.case(user)
    relative = add_related_person(
        case.person,
        user=user,
        kind=RelationKind.NARSTAENDE,
        name="Jonas",
        relation=None,
        phone=None,
        email=None,
        address=None,
    )
    make.commit()
    login(client, user)
    url = f"/cases/{case.id}/participants"
    assert client.post(url, data={"kind": "enhet", "unit_id": partner.id}).status_code == 302
    assert (
        client.post(url, data={"kind": "narstaende", "related_person_id": relative.id}).status_code
        == 302
    )
    assert (
        client.post(url, data={"kind": "annan", "organisation": "Försäkringskassan"}).status_code
        == 302
    )
    again = client.post(url, data={"kind": "enhet", "unit_id": partner.id})
    assert again.status_code == 422
    assert "Psykiatrin deltar redan" in again.get_data(as_text=True)
    empty = client.post(url, data={"kind": "annan"})
    assert empty.status_code == 422
    assert db.session.scalar(select(func.count(Participant.id))) == 3


def test_name_the_huvudansvarig(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    response = client.post(
        f"/cases/{case.id}/roles",
        data={
            "kind": "huvudansvarig",
            "unit_id": user.unit_id,
            "person_name": "Karin Ansvarig",
            "lock_version": "1",
        },
    )
    assert response.status_code == 302
    assert "Karin Ansvarig" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_abort_needs_a_reason_and_then_ends_the_case(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    empty = client.post(f"/cases/{case.id}/abort", data={"reason": ""})
    assert empty.status_code == 422
    assert "Ange ett skäl" in empty.get_data(as_text=True)
    done = client.post(f"/cases/{case.id}/abort", data={"reason": "Personen har flyttat"})
    assert done.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Avbruten" in page and "Personen har flyttat" in page
    # A closed case no longer offers changes.
    assert client.get(f"/cases/{case.id}/edit").status_code == 403


def test_closing_before_a_plan_is_explained(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    response = client.get(f"/cases/{case.id}/close", follow_redirects=True)
    assert "kan inte gå till Avslutad" in response.get_data(as_text=True)


def test_a_child_without_guardian_is_pointed_out(client, make):
    user = make.user()
    born = clock.today() - timedelta(days=3650)
    child = make.person(user, born=born, identifier=personnummer(born))
    case = make.case(user, person=child)
    make.commit()
    login(client, user)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Registrera vårdnadshavare" in page
