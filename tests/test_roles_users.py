"""Mötesledare and huvudansvarig are users of a unit taking part; "Mina ärenden" lists the
cases a user holds, and those new to their unit until someone in it opens them (issue 9,
point 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind, ParticipantKind
from sip_tracker.cases.models import CaseRole, SipCase
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from tests.factories import Factory, login


def roles_page(client, case_id: int) -> str:
    return client.get(f"/cases/{case_id}/roles?kind=motesledare").get_data(as_text=True)


def lock_version(case_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get_one(SipCase, case_id).lock_version)


def motesledare(case_id: int) -> CaseRole | None:
    db.session.expire_all()
    return db.session.scalar(
        select(CaseRole).where(
            CaseRole.case_id == case_id, CaseRole.kind == CaseRoleKind.MOTESLEDARE
        )
    )


def test_a_user_of_a_unit_taking_part_becomes_motesledare_and_sees_the_case_as_theirs(
    client, make: Factory
):
    me = make.user()
    partner = make.unit(name="Vårdcentralen Ljuset")
    doctor = make.user(partner, name="Doktor Dahl")
    make.user(name="Utanför Ulla")
    case = make.shared_case(me, partner, person=make.person(me, given_name="Rolf"))
    case_id = case.id
    make.commit()
    login(client, me)
    page = roles_page(client, case_id)
    assert "Doktor Dahl" in page and "Vårdcentralen Ljuset" in page  # grouped by unit
    assert "Utanför Ulla" not in page  # not offered
    response = client.post(
        f"/cases/{case_id}/roles",
        data={
            "kind": "motesledare",
            "user_id": str(doctor.id),
            "lock_version": lock_version(case_id),
        },
    )
    assert response.status_code == 302
    role = motesledare(case_id)
    assert role is not None
    assert (role.user_id, role.unit_id, role.person_name) == (doctor.id, partner.id, "Doktor Dahl")
    shown = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Doktor Dahl" in shown and "Användare i sip-tracker" in shown

    login(client, doctor)
    mine = client.get("/?scope=mine").get_data(as_text=True)
    assert "Rolf Nilsson" in mine


def test_a_forged_post_naming_a_user_of_a_unit_not_taking_part_changes_nothing(
    client, make: Factory
):
    me = make.user()
    partner = make.unit()
    outsider = make.user(name="Utanför Ulla")
    case = make.shared_case(me, partner)
    case_id = case.id
    make.commit()
    login(client, me)
    version = lock_version(case_id)
    response = client.post(
        f"/cases/{case_id}/roles",
        data={"kind": "motesledare", "user_id": str(outsider.id), "lock_version": version},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="user_id-error"' in page
    assert motesledare(case_id) is None
    assert lock_version(case_id) == version


def test_the_service_refuses_a_user_outside_the_case_or_inactive(make: Factory):
    me = make.user()
    partner = make.unit()
    case = make.shared_case(me, partner)
    for holder in (make.user(), make.user(partner, active=False)):
        with pytest.raises(DomainError) as refused:
            cases.set_role(case, user=me, kind=CaseRoleKind.MOTESLEDARE, holder=holder)
        assert refused.value.field == "user_id"
    assert case.role(CaseRoleKind.MOTESLEDARE) is None


def test_an_invited_unit_without_consent_is_not_taking_part(make: Factory):
    me = make.user()
    partner = make.unit()
    colleague_there = make.user(partner)
    case = make.case(me)
    cases.start_preparation(case, user=me)
    cases.add_participant(case, user=me, kind=ParticipantKind.ENHET, unit=partner)
    with pytest.raises(DomainError):
        cases.set_role(case, user=me, kind=CaseRoleKind.MOTESLEDARE, holder=colleague_there)


def test_free_text_remains_for_a_unit_without_accounts(client, make: Factory):
    me = make.user()
    no_accounts = make.unit(name="Hemtjänsten Norr")
    case = make.shared_case(me, no_accounts)
    case_id = case.id
    make.commit()
    login(client, me)
    response = client.post(
        f"/cases/{case_id}/roles",
        data={
            "kind": "motesledare",
            "user_id": "",
            "unit_id": str(no_accounts.id),
            "person_name": "Greta Gran",
            "lock_version": lock_version(case_id),
        },
    )
    assert response.status_code == 302
    role = motesledare(case_id)
    assert role is not None
    assert (role.user_id, role.unit_id, role.person_name) == (None, no_accounts.id, "Greta Gran")
    shown = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert (
        "Greta Gran" in shown and "Användare i sip-tracker" not in shown.split("Greta Gran")[1][:60]
    )


def test_neither_a_user_nor_a_name_is_refused_at_the_field(client, make: Factory):
    me = make.user()
    case = make.case(me)
    case_id = case.id
    make.commit()
    login(client, me)
    response = client.post(
        f"/cases/{case_id}/roles",
        data={
            "kind": "huvudansvarig",
            "unit_id": str(me.unit_id),
            "person_name": "  ",
            "lock_version": lock_version(case_id),
        },
    )
    assert response.status_code == 422
    assert "Ange namnet på personen som har rollen." in response.get_data(as_text=True)


def test_the_initiativtagare_is_the_user_who_started_the_case(client, make: Factory):
    me = make.user(name="Stina Start")
    case = make.case(me)
    initiativtagare = case.role(CaseRoleKind.INITIATIVTAGARE)
    assert initiativtagare is not None and initiativtagare.user_id == me.id


def test_an_invited_unit_sees_the_case_as_new_until_a_colleague_opens_it(client, make: Factory):
    me = make.user()
    partner = make.unit()
    first = make.user(partner)
    second = make.user(partner)
    case = make.shared_case(me, partner, person=make.person(me, given_name="Nyfiken"))
    case_id = case.id
    make.commit()
    for reader in (first, second):
        login(client, reader)
        for scope in ("mine", "unit"):
            page = client.get(f"/?scope={scope}").get_data(as_text=True)
            assert "Nyfiken Nilsson" in page and ">Ny<" in page, (reader.id, scope)

    login(client, first)
    assert client.get(f"/cases/{case_id}").status_code == 200
    for reader in (first, second):
        login(client, reader)
        unit_list = client.get("/?scope=unit").get_data(as_text=True)
        assert "Nyfiken Nilsson" in unit_list and ">Ny<" not in unit_list
        # Opened: no longer "just invited", and nobody of the unit holds a role in it.
        assert "Nyfiken Nilsson" not in client.get("/?scope=mine").get_data(as_text=True)

    # The initiating unit's own users never see their case as new.
    login(client, me)
    assert ">Ny<" not in client.get("/?scope=unit").get_data(as_text=True)


def test_opening_the_case_is_not_a_change_of_it(client, make: Factory):
    me = make.user()
    partner = make.unit()
    reader = make.user(partner)
    case = make.shared_case(me, partner)
    case_id, version = case.id, case.lock_version
    make.commit()
    login(client, reader)
    client.get(f"/cases/{case_id}")
    db.session.expire_all()
    opened = db.session.get_one(SipCase, case_id)
    assert opened.lock_version == version
    [participant] = [p for p in opened.participants if p.unit_id == partner.id]
    assert participant.seen_at is not None and participant.seen_by_id == reader.id
