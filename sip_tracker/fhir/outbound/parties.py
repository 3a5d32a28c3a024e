"""Who takes part: CareTeam, Consent, Patient, RelatedPerson, Organization, PractitionerRole."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.relatedperson import RelatedPerson as FhirRelatedPerson
from sqlalchemy.orm import object_session

from sip_tracker.cases.codes import (
    CONSENT_METHOD_LABELS,
    FINAL_STAGES,
    ConsentGiver,
    ParticipantKind,
)
from sip_tracker.cases.models import CaseRole, Consent, Participant, SipCase
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.outbound.common import (
    JSON,
    PARTICIPANT_ROLE,
    coding,
    concept,
    ext,
    huvudman_ref,
    meta,
    moment,
    patient_ref,
    plan_content,
    ref,
    role_concepts,
    role_ref,
    roles_in_order,
    sv,
    telecom,
    unit_ref,
)
from sip_tracker.fhir.outbound.plan import ended_at
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.organizations.reference import KOMMUNER
from sip_tracker.people.identifiers import IdentifierKind, InvalidIdentifier, parse_identifier
from sip_tracker.people.models import Person, RelatedPerson, RelationKind

HUVUDMAN_KIND_DISPLAY = {HuvudmanKind.KOMMUN: "Kommun", HuvudmanKind.REGION: "Region"}
KOMMUN_DISPLAY = {code: name for code, name, _official in KOMMUNER}
CONSENT_POLICY_TEXT = (
    "Samtycke till samordnad individuell plan enligt socialtjänstlagen"
    " och hälso- och sjukvårdslagen (16 kap. 4 §)"
)


# --- CareTeam ---------------------------------------------------------------------------------
def _annan_id(participant: Participant) -> str:
    return f"annan-{participant.id}"


def participant_ref(participant: Participant, *, contained: bool = False) -> JSON:
    """Who a participant is: a PractitionerRole, a RelatedPerson, or another actor.

    Another actor (school, Försäkringskassan …) has no identity we could share. Where it
    names an organisation the CareTeam contains that Organization (contained=True);
    otherwise, and outside the CareTeam, it is a reference by display only.
    """
    if participant.kind == ParticipantKind.ENHET:
        return ref("PractitionerRole", fs.practitioner_role_id_for_participant(participant.id))
    if participant.kind == ParticipantKind.NARSTAENDE and participant.related_person_id:
        return ref("RelatedPerson", fs.related_person_id(participant.related_person_id))
    if contained and participant.organisation:
        return {"reference": f"#{_annan_id(participant)}", "display": participant.display_name}
    return {"display": participant.display_name}


def _annan_organization(participant: Participant) -> JSON:
    contact = {
        "name": {"text": participant.name} if participant.name else None,
        "telecom": telecom(participant.phone, participant.email),
    }
    return {
        "resourceType": "Organization",
        "id": _annan_id(participant),
        "name": participant.organisation,
        "contact": [contact] if any(contact.values()) else None,
    }


def careteam(case: SipCase) -> CareTeam:
    """Everyone taking part: the person, the case roles, units, närstående and others."""
    members = [{"role": role_concepts(PARTICIPANT_ROLE), "member": patient_ref(case.person)}]
    members += [
        {"role": role_concepts(role.kind), "member": role_ref(case, role)}
        for role in roles_in_order(case)
    ]
    members += [
        {
            "role": role_concepts(PARTICIPANT_ROLE, p.kind),
            "member": participant_ref(p, contained=True),
        }
        for p in case.participants
    ]
    others = [
        _annan_organization(p)
        for p in case.participants
        if p.kind == ParticipantKind.ANNAN and p.organisation
    ]
    return CareTeam.model_validate(
        {
            "id": fs.careteam_id(case.id),
            "meta": meta(fs.PROFILE_CARETEAM),
            "contained": others or None,
            "status": "inactive" if case.stage in FINAL_STAGES else "active",
            "subject": patient_ref(case.person),
            "period": {"start": moment(case.created_at), "end": moment(ended_at(case))},
            "participant": members,
        }
    )


# --- Consent ----------------------------------------------------------------------------------
def consent_status(case: SipCase, consent: Consent) -> str:
    """Only the latest consent is in force, unless withdrawn; earlier ones are history."""
    return "active" if consent is case.active_consent else "inactive"


def consent(case: SipCase, consent: Consent) -> FhirConsent:
    """Samtycke: who gave it and how, to which units; exclusions as a nested deny provision."""
    if consent.given_by == ConsentGiver.VARDNADSHAVARE and consent.guardian_id:
        performer = ref("RelatedPerson", fs.related_person_id(consent.guardian_id))
    else:
        performer = patient_ref(case.person)
    recipient = concept(fs.V3_PARTICIPATION_TYPE, "IRCP", "information recipient")
    actors = [
        {"role": recipient, "reference": unit_ref(unit.id)}
        for unit in sorted(consent.units, key=lambda u: u.id)
    ]
    if consent.other_organisations:
        actors.append({"role": recipient, "reference": {"display": consent.other_organisations}})
    method_label = sv(CONSENT_METHOD_LABELS[consent.method])
    method = coding(fs.CS_CONSENT_METHOD, consent.method, method_label)
    # R4's Consent.provision has no text: an exclusion, in the words it was given in, is
    # the code (which information) of a nested deny provision.
    deny = (
        [{"type": "deny", "code": [{"text": consent.exclusions}]}] if consent.exclusions else None
    )
    return FhirConsent.model_validate(
        {
            "id": fs.consent_id(consent.id),
            "meta": meta(fs.PROFILE_CONSENT),
            "extension": [ext(fs.EXT_CONSENT_METHOD, valueCoding=method)],
            "status": consent_status(case, consent),
            "scope": concept(fs.CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
            "category": [concept(fs.LOINC, fs.CONSENT_CATEGORY_LOINC, "Patient Consent")],
            "patient": patient_ref(case.person),
            "dateTime": consent.given_on,
            "performer": [performer],
            "organization": [unit_ref(case.initiating_unit_id)],
            "policyRule": {
                "coding": [coding(fs.V3_ACT_CODE, "OPTIN", "opt-in")],
                "text": CONSENT_POLICY_TEXT,
            },
            "provision": {
                "type": "permit",
                "period": {"start": consent.given_on, "end": consent.withdrawn_on},
                "actor": actors,
                "provision": deny,
            },
        }
    )


def consents(case: SipCase) -> list[FhirConsent]:
    return [consent(case, c) for c in case.consents]


# --- People -----------------------------------------------------------------------------------
def _identifier_system(kind: IdentifierKind) -> str:
    return fs.SAMORDNINGSNUMMER if kind == IdentifierKind.SAMORDNINGSNUMMER else fs.PERSONNUMMER


def patient(person: Person) -> Patient:
    """The person, aligned with the HL7 Sweden base Patient (12-digit identifier)."""
    identifier = {
        "use": "official",
        "system": _identifier_system(person.identifier_kind),
        "value": person.identifier,
    }
    return Patient.model_validate(
        {
            "id": fs.patient_id(person.id),
            "meta": meta(fs.PROFILE_PATIENT),
            "identifier": [identifier],
            "name": [
                {"use": "official", "family": person.family_name, "given": [person.given_name]}
            ],
            "telecom": telecom(person.phone, person.email),
            "birthDate": person.birth_date,
            "address": [{"text": person.address}] if person.address else None,
        }
    )


def related_person(related: RelatedPerson) -> FhirRelatedPerson:
    """A vårdnadshavare (v3 RoleCode GUARD) or a närstående (v2-0131 N, next of kin)."""
    if related.kind == RelationKind.VARDNADSHAVARE:
        relationship = coding(fs.V3_ROLE_CODE, "GUARD", "guardian")
        text = related.relation or "Vårdnadshavare"
    else:
        relationship = coding(fs.V2_0131, "N", "Next-of-Kin")
        text = related.relation or "Närstående"
    identifier = None
    if related.identifier:
        try:
            kind = parse_identifier(related.identifier).kind
        except InvalidIdentifier:
            pass  # kept as staff typed it, but not shared as an identifier it is not
        else:
            identifier = [{"system": _identifier_system(kind), "value": related.identifier}]
    return FhirRelatedPerson.model_validate(
        {
            "id": fs.related_person_id(related.id),
            "meta": meta(fs.PROFILE_RELATEDPERSON),
            "identifier": identifier,
            "patient": ref("Patient", fs.patient_id(related.person_id)),
            "relationship": [{"coding": [relationship], "text": text}],
            "name": [{"text": related.name}],
            "telecom": telecom(related.phone, related.email),
            "address": [{"text": related.address}] if related.address else None,
        }
    )


def related_people(case: SipCase) -> list[RelatedPerson]:
    """The närstående taking part and the guardians who consented; no one else is shared."""
    found = {p.related_person.id: p.related_person for p in case.participants if p.related_person}
    found |= {c.guardian.id: c.guardian for c in case.consents if c.guardian}
    return [found[key] for key in sorted(found)]


# --- Organisations and staff ------------------------------------------------------------------
def huvudman_organization(huvudman: Huvudman) -> Organization:
    orgnr = {
        "type": concept(fs.V2_0203, "XX", "Organization identifier"),
        "system": fs.ORGANISATIONSNUMMER,
        "value": huvudman.orgnr,
    }
    kind = concept(fs.CS_HUVUDMAN_KIND, huvudman.kind, HUVUDMAN_KIND_DISPLAY[huvudman.kind])
    kommunkod = None
    if huvudman.kommunkod:
        code = coding(fs.CS_KOMMUNKOD, huvudman.kommunkod, KOMMUN_DISPLAY.get(huvudman.kommunkod))
        kommunkod = [ext(fs.EXT_KOMMUNKOD, valueCoding=code)]
    return Organization.model_validate(
        {
            "id": fs.organization_id_for_huvudman(huvudman.id),
            "meta": meta(fs.PROFILE_ORGANIZATION),
            "extension": kommunkod,
            "identifier": [orgnr] if huvudman.orgnr else None,
            "active": True,
            "type": [kind],
            "name": huvudman.name,
        }
    )


def unit_organization(unit: Unit) -> Organization:
    hsa = {
        "type": concept(fs.V2_0203, "PRN", "Provider number"),
        "system": fs.HSA_ID,
        "value": unit.hsa_id,
    }
    return Organization.model_validate(
        {
            "id": fs.organization_id_for_unit(unit.id),
            "meta": meta(fs.PROFILE_ORGANIZATION),
            "identifier": [hsa] if unit.hsa_id else None,
            "active": unit.active,
            "name": unit.name,
            "partOf": huvudman_ref(unit.huvudman_id),
        }
    )


def _lookup(case: SipCase, model: type[Any], pk: int) -> Any:
    """A row a plan version names by id only: its content is frozen JSON, not relationships."""
    session = object_session(case)
    return session.get(model, pk) if session is not None else None


def involved_units(case: SipCase) -> list[Unit]:
    """Every unit a resource of the case references, in id order."""
    found: dict[int, Unit] = {case.initiating_unit.id: case.initiating_unit}
    found |= {r.unit.id: r.unit for r in case.roles}
    found |= {p.unit.id: p.unit for p in case.participants if p.unit}
    found |= {u.id: u for c in case.consents for u in c.units}
    content = plan_content(case)
    for insats in content.insatser if content else []:
        if insats.unit_id and insats.unit_id not in found:
            unit = _lookup(case, Unit, insats.unit_id)
            if unit is not None:
                found[unit.id] = unit
    return [found[key] for key in sorted(found)]


def involved_huvudman(case: SipCase, units: Iterable[Unit]) -> list[Huvudman]:
    """The huvudmän of those units and of every insats, in id order."""
    found = {u.huvudman.id: u.huvudman for u in units}
    content = plan_content(case)
    for insats in content.insatser if content else []:
        if insats.huvudman_id not in found:
            huvudman = _lookup(case, Huvudman, insats.huvudman_id)
            if huvudman is not None:
                found[huvudman.id] = huvudman
    return [found[key] for key in sorted(found)]


def organizations(case: SipCase) -> list[Organization]:
    """The huvudmän, then their units (each partOf its huvudman)."""
    units = involved_units(case)
    return [huvudman_organization(h) for h in involved_huvudman(case, units)] + [
        unit_organization(u) for u in units
    ]


def role_practitioner_role(case: SipCase, role: CaseRole) -> PractitionerRole:
    """Initiativtagare, mötesledare or huvudansvarig: a named person at a unit."""
    return PractitionerRole.model_validate(
        {
            "id": fs.practitioner_role_id(case.id, role.kind),
            "meta": meta(fs.PROFILE_PRACTITIONERROLE),
            "practitioner": {"display": role.person_name},
            "organization": unit_ref(role.unit_id),
            "code": role_concepts(role.kind),
        }
    )


def participant_practitioner_role(participant: Participant) -> PractitionerRole:
    """A unit taking part, with its contact person by name when one is given."""
    assert participant.unit_id is not None
    return PractitionerRole.model_validate(
        {
            "id": fs.practitioner_role_id_for_participant(participant.id),
            "meta": meta(fs.PROFILE_PRACTITIONERROLE),
            "practitioner": {"display": participant.name} if participant.name else None,
            "organization": unit_ref(participant.unit_id),
            "code": role_concepts(PARTICIPANT_ROLE, participant.kind),
            "telecom": telecom(participant.phone, participant.email),
        }
    )


def practitioner_roles(case: SipCase) -> list[PractitionerRole]:
    return [role_practitioner_role(case, r) for r in roles_in_order(case)] + [
        participant_practitioner_role(p) for p in case.participants if p.unit_id
    ]
