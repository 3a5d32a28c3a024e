"""An import may never widen access: it goes through the same services and rules as the web.

Each test here is a defect found by trying the product as an integrator or attacker would.
"""

from __future__ import annotations

import copy

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services as cases
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.fhir.tokens import issue_token
from sip_tracker.organizations.models import HuvudmanKind
from sip_tracker.people.models import Person
from tests.fhir_api.test_import import (
    delete_case,
    export,
    imported_case,
    post,
    row_counts,
    transaction,
)


def _token(huvudman, *, write: bool = True) -> str:  # type: ignore[no-untyped-def]
    secret = issue_token(name="System", huvudman=huvudman, read=True, write=write).secret
    db.session.commit()
    return secret


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_resent_bundle_does_not_undo_a_withdrawal(client, golden, kommun_token):
    """The region saved its Bundle, the kommun recorded the withdrawal, the region re-sent."""
    region_token = _token(golden.geriatrik.huvudman)
    saved = transaction(export(golden.case))
    kommun_user = _user_at(golden.bistand)
    cases.withdraw_consent(golden.case, user=kommun_user, withdrawn_on=clock.today(), note=None)
    db.session.commit()
    careplan = f"/fhir/CarePlan/{systems.careplan_id(golden.case.id)}"
    assert client.get(careplan, headers=_auth(region_token)).status_code == 404

    for token in (region_token, kommun_token):
        response = post(client, token, saved)
        assert response.status_code in (403, 404, 409, 422), response.get_json()
        assert response.get_json()["resourceType"] == "OperationOutcome"

    db.session.expire_all()
    consent = db.session.get(SipCase, golden.case.id).consents[-1]
    assert consent.withdrawn_on == clock.today()
    assert client.get(careplan, headers=_auth(region_token)).status_code == 404


def test_an_import_cannot_clear_a_withdrawal_even_when_it_may_update_the_case(
    client,
    golden,
    kommun_token,
):
    """A later consent shares the case again; a Bundle saved before still says 'not withdrawn'."""
    saved = export(golden.case)
    user = golden.user
    cases.withdraw_consent(golden.case, user=user, withdrawn_on=clock.today(), note=None)
    _consent_again(golden, user)
    db.session.commit()
    resources = export(golden.case)
    # The old consent as it was before the withdrawal, the new one as it is now.
    old = next(r for r in saved if r["resourceType"] == "Consent")
    resources = [old if r.get("id") == old["id"] else r for r in resources]

    response = post(client, kommun_token, transaction(resources))

    assert response.status_code == 422, response.get_json()
    assert "återkall" in response.get_data(as_text=True) or "withdraw" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(SipCase, golden.case.id).consents[0].withdrawn_on == clock.today()


def test_an_import_cannot_add_a_unit_to_a_recorded_consent(client, golden, kommun_token):
    resources = export(golden.case)
    consent = next(r for r in resources if r["resourceType"] == "Consent")
    actors = consent["provision"]["actor"]
    other = copy.deepcopy(actors[0])
    stranger_unit = _stranger_unit(golden)
    other["reference"]["reference"] = (
        f"Organization/{systems.organization_id_for_unit(stranger_unit.id)}"
    )
    actors.append(other)
    resources.append(_organisation_resource(stranger_unit))
    before = row_counts()

    response = post(client, kommun_token, transaction(resources))

    assert response.status_code == 422, response.get_json()
    db.session.expire_all()
    assert row_counts() == before
    units = {u.id for u in db.session.get(SipCase, golden.case.id).consents[0].units}
    assert stranger_unit.id not in units


def test_a_token_of_an_organisation_taking_no_part_cannot_change_a_known_person(
    client, golden, make
):
    """It may start a case for the person, but the name and telephone others see stay."""
    outsider = make.huvudman(HuvudmanKind.KOMMUN, name="Täby kommun", kommunkod="0160")
    outsider_unit = make.unit(outsider, name="Socialtjänsten Täby", hsa_id="SE2120000000-T001")
    token = _token(outsider)
    person = golden.case.person
    stored = (person.given_name, person.family_name, person.phone)
    resources = _as_new_case_of(golden, outsider_unit)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    patient["name"] = [{"family": "Annorlunda", "given": ["Fel"]}]
    patient["telecom"] = [{"system": "phone", "value": "08-666 66 66"}]

    response = post(client, token, transaction(resources, uuids=True))

    assert response.status_code in (200, 201), response.get_json()
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert (person.given_name, person.family_name, person.phone) == stored
    # The answer says what was not applied, and why.
    text = response.get_data(as_text=True)
    assert "not applied" in text
    # Other organisations' exports still show the stored name.
    region_token = _token(golden.geriatrik.huvudman)
    patient_url = f"/fhir/Patient/{systems.patient_id(person.id)}"
    body = client.get(patient_url, headers=_auth(region_token)).get_json()
    assert body["name"][0]["family"] == stored[1]
    assert not db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.person_id == person.id, AuditEvent.action == "person.update"
        )
    ).all()


def test_a_token_cannot_start_a_case_in_the_name_of_another_organisation(client, golden, make):
    """The initiating unit is the region's; a kommun token may not say it started the case."""
    resources = export(golden.case)
    delete_case(golden.case)
    kommun = golden.bistand.huvudman
    token = _token(kommun)
    before = row_counts()

    response = post(client, token, transaction(resources, uuids=True))

    assert response.status_code in (403, 422), response.get_json()
    assert "Geriatriska kliniken Huddinge" in response.get_data(as_text=True)
    db.session.expire_all()
    assert row_counts() == before


def test_an_update_of_the_person_by_an_organisation_sharing_the_case_is_logged_as_such(
    client,
    golden,
    kommun_token,
):
    resources = export(golden.case)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    patient["telecom"] = [{"system": "phone", "value": "070-999 99 99"}]

    response = post(client, kommun_token, transaction(resources))

    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    person = db.session.get(Person, golden.case.person_id)
    assert person.phone == "070-999 99 99"
    rows = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.person_id == person.id, AuditEvent.action == "person.update"
        )
    ).all()
    assert len(rows) == 1
    assert "Verksamhetssystem" in (rows[0].detail or "") or rows[0].user.name.startswith("API")


def test_a_new_case_from_another_system_is_the_token_organisations(client, golden, make):
    """A region system sends its own SIP for the golden person: created, started by it."""
    region_token = _token(golden.geriatrik.huvudman)
    resources = export(golden.case)
    delete_case(golden.case)

    response = post(client, region_token, transaction(resources, uuids=True))

    assert response.status_code == 200, response.get_json()
    case = imported_case(response)
    assert case.initiating_unit_id == golden.geriatrik.id


# --- helpers -----------------------------------------------------------------------------------
def _user_at(unit):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    return Factory().user(unit)


def _consent_again(golden, user) -> None:  # type: ignore[no-untyped-def]
    from sip_tracker.cases.codes import ConsentGiver, ConsentMethod

    cases.record_consent(
        golden.case,
        user=user,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=clock.today(),
        units=[golden.geriatrik, golden.bistand],
        other_organisations=None,
        exclusions=None,
    )


def _stranger_unit(golden):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    return Factory().unit(golden.bistand.huvudman, name="Socialpsykiatrin Huddinge")


def _organisation_resource(unit) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from sip_tracker.fhir.outbound.parties import unit_organization

    return unit_organization(unit).model_dump(mode="json", exclude_none=True)


def _as_new_case_of(golden, unit) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The golden case's resources as a new case started at `unit` (another organisation)."""
    resources = copy.deepcopy(export(golden.case))
    unit_id = systems.organization_id_for_unit(golden.geriatrik.id)
    new_id = systems.organization_id_for_unit(unit.id)
    huvudman_id = systems.organization_id_for_huvudman(golden.geriatrik.huvudman_id)
    new_huvudman = systems.organization_id_for_huvudman(unit.huvudman_id)

    def swap(value):  # type: ignore[no-untyped-def]
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            out = {k: swap(v) for k, v in value.items()}
            if out.get("reference") == f"Organization/{unit_id}":
                out["reference"] = f"Organization/{new_id}"
            if out.get("reference") == f"Organization/{huvudman_id}":
                out["reference"] = f"Organization/{new_huvudman}"
            return out
        return value

    resources = swap(resources)
    for resource in resources:
        if resource["resourceType"] == "CarePlan":  # the other system's own case number
            for identifier in resource["identifier"]:
                identifier["value"] = "900001"
    from sip_tracker.fhir.outbound.parties import huvudman_organization, unit_organization

    resources = [
        r
        for r in resources
        if not (r["resourceType"] == "Organization" and r["id"] in (unit_id, huvudman_id))
    ]
    resources.append(unit_organization(unit).model_dump(mode="json", exclude_none=True))
    resources.append(
        huvudman_organization(unit.huvudman).model_dump(mode="json", exclude_none=True)
    )
    return resources
