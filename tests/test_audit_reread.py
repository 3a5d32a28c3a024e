"""A form shown again after a refused save shows the person's data: that is a read to log.

Defect found by trying the product: a form re-rendered after a failed POST (422, and the
plan's 409) showed the person's data and wrote no audit row.
"""

from __future__ import annotations

from sqlalchemy import select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.db import db
from tests.factories import login


def _reads(case_id: int | None = None, person_id: int | None = None) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.action.like("%.read"))
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if person_id is not None:
        query = query.where(AuditEvent.person_id == person_id)
    return list(db.session.scalars(query))


def test_a_refused_case_form_logs_the_read_it_shows(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)

    response = client.post(f"/cases/{case.id}/edit", data={"origin": "annan"})

    assert response.status_code == 422
    assert case.need_description in response.get_data(as_text=True)
    assert _reads(case_id=case.id) == ["case.read"]


def test_a_stale_plan_logs_the_read_it_shows(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)
    form = {"lock_version": "999", "follow_up_method": "Möte", "goals-0": "Ett mål"}

    response = client.post(f"/cases/{case.id}/plan", data=form)

    assert response.status_code in (409, 422)
    assert _reads(case_id=case.id) == ["case.read"]


def test_a_refused_person_form_logs_the_read_it_shows(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)

    response = client.post(f"/people/{case.person_id}/edit", data={"given_name": ""})

    assert response.status_code == 422
    assert _reads(person_id=case.person_id) == ["person.read"]


def test_a_successful_save_logs_the_change_not_a_read(client, make):
    user = make.user()
    case = make.case(user)
    make.commit()
    login(client, user)

    response = client.post(
        f"/cases/{case.id}/kartlaggning",
        data={"what_matters": "Att bo kvar hemma.", "needs-0-area": "halsa", "lock_version": "1"},
    )

    assert response.status_code == 302
    assert _reads(case_id=case.id) == []
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id))
    assert "kartlaggning.update" in list(actions)
