"""Skyddade personuppgifter: marked on the person form, warned about on the person's pages,
left out of lists, and every access flagged in the log review."""

from __future__ import annotations

from sqlalchemy import select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import Role
from sip_tracker.db import db
from sip_tracker.people.models import Person
from tests.factories import login

WARNING = "Skyddade personuppgifter."


def _edit(client, person, **changes):
    db.session.expire_all()  # the version now, as a form loaded at this moment carries it
    data = {
        "lock_version": str(db.session.get_one(Person, person.id).lock_version),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "phone": "",
        "email": "",
        "address": "",
        **changes,
    }
    return client.post(f"/people/{person.id}/edit", data=data)


def test_the_marking_is_set_and_removed_on_the_person_form_and_logged(client, make):
    coordinator = make.user()
    case = make.case(coordinator)
    person_id = case.person_id
    make.commit()
    login(client, coordinator)

    form = client.get(f"/people/{person_id}/edit").get_data(as_text=True)
    marked = _edit(client, case.person, protected_identity="y")
    db.session.expire_all()
    on = db.session.get(Person, person_id).protected_identity
    _edit(client, case.person)
    db.session.expire_all()
    off = db.session.get(Person, person_id).protected_identity

    assert 'type="checkbox"' in form and "Skyddade personuppgifter (sekretessmarkering" in form
    assert marked.status_code == 302
    assert (on, off) == (True, False)
    details = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "person.update")
        .order_by(AuditEvent.id)
    ).all()
    assert details == ["protected_identity:on", "protected_identity:off"]


def test_the_log_shows_the_change_of_marking_in_words(client, make):
    coordinator = make.user()
    admin = make.user(role=Role.ADMINISTRATOR)
    case = make.case(coordinator)
    make.commit()
    login(client, coordinator)
    _edit(client, case.person, protected_identity="y")
    login(client, admin)

    html = client.post(
        "/admin/audit/", data={"personnummer": case.person.identifier}, follow_redirects=True
    ).get_data(as_text=True)

    assert "<td>Markerade skyddade personuppgifter</td>" in html


def test_the_person_and_case_pages_warn(client, make):
    coordinator = make.user()
    case = make.case(coordinator)
    plain = make.case(coordinator)
    case.person.protected_identity = True
    make.commit()
    login(client, coordinator)

    pages = [
        f"/people/{case.person_id}",
        f"/people/{case.person_id}/edit",
        f"/cases/{case.id}",
        f"/cases/{case.id}/kartlaggning",
        f"/cases/{case.id}/participants",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert WARNING in html, url
        assert 'role="note"' in html
    assert WARNING not in client.get(f"/cases/{plain.id}").get_data(as_text=True)


def test_the_case_list_leaves_out_the_name(client, make):
    coordinator = make.user()
    hidden = make.case(coordinator, person=make.person(given_name="Hemlig", family_name="Hansson"))
    shown = make.case(coordinator, person=make.person(given_name="Öppen", family_name="Olsson"))
    hidden.person.protected_identity = True
    make.commit()
    login(client, coordinator)

    html = client.get("/?scope=unit").get_data(as_text=True)

    assert "Öppen Olsson" in html
    assert "Hemlig" not in html and "Hansson" not in html
    assert f'href="/cases/{hidden.id}">Skyddade personuppgifter</a>' in html
    assert f"/cases/{shown.id}" in html


def test_a_new_person_is_not_marked(make):
    assert make.person().protected_identity is False
