"""Canonical URLs, identifier systems and code systems of the SIP exchange: the contract.

Everything a receiver matches on is defined here once; profiles in fhir_profiles/ and the
mapping modules use these names. The canonical base is an identifier, not a server: it
need not resolve, but it must never change once systems exchange data.
"""

from __future__ import annotations

import re
from typing import Final

FHIR_VERSION: Final = "4.0.1"  # what we exchange by default, and our profiles' version
# Served on request (Accept: application/fhir+json; fhirVersion=5.0), see outbound_r5/.
FHIR_VERSION_R5: Final = "5.0.0"
CANONICAL: Final = "https://sip-tracker.se/fhir"


def structure_definition(name: str) -> str:
    return f"{CANONICAL}/StructureDefinition/{name}"


def code_system(name: str) -> str:
    return f"{CANONICAL}/CodeSystem/{name}"


def value_set(name: str) -> str:
    return f"{CANONICAL}/ValueSet/{name}"


# --- Profiles (StructureDefinition ids; url = structure_definition(id)) --------------------
PROFILE_CAREPLAN: Final = "sip-careplan"
PROFILE_CARETEAM: Final = "sip-careteam"
PROFILE_GOAL: Final = "sip-goal"
PROFILE_TASK: Final = "sip-insats-task"
PROFILE_CONSENT: Final = "sip-consent"
PROFILE_PATIENT: Final = "sip-patient"
PROFILE_RELATEDPERSON: Final = "sip-relatedperson"
PROFILE_ORGANIZATION: Final = "sip-organization"
PROFILE_PRACTITIONERROLE: Final = "sip-practitionerrole"
PROFILE_APPOINTMENT: Final = "sip-appointment"
PROFILE_ENCOUNTER: Final = "sip-encounter"
PROFILE_PLANDEFINITION: Final = "sip-plandefinition"

# --- Extensions (StructureDefinition ids of kind complex-type, context as noted) -----------
EXT_STAGE: Final = "sip-stage"  # CarePlan: valueCoding from CS_STAGE (finer than status)
EXT_ORIGIN: Final = "sip-origin"  # CarePlan: valueCoding from CS_ORIGIN
EXT_UTSKRIVNINGSKLAR: Final = "sip-utskrivningsklar"  # CarePlan: valueDate
EXT_KALLELSE_DUE: Final = "sip-kallelse-due"  # CarePlan: valueDate, utskrivningsklar + 3 days
EXT_SAKOMRADE: Final = "sip-sakomrade"  # CarePlan: valueCoding from CS_SAKOMRADE, 0..*
EXT_FOLLOW_UP: Final = "sip-follow-up"  # CarePlan: complex: method (string), date (date)
EXT_PLAN_VERSION: Final = "sip-plan-version"  # CarePlan: valuePositiveInt, established version
EXT_ACTIVITY: Final = "sip-handlingsplan-activity"  # CarePlan: valueCanonical → PlanDefinition
EXT_CONSENT_METHOD: Final = "sip-consent-method"  # Consent: valueCoding from CS_CONSENT_METHOD
EXT_NEED: Final = "sip-need"  # CarePlan: complex: area (Coding CS_NEED_AREA), description, support
EXT_WHAT_MATTERS: Final = "sip-what-matters"  # CarePlan: valueString, the person's own words
EXT_KOMMUNKOD: Final = "sip-kommunkod"  # Organization (a kommun): valueCoding CS_KOMMUNKOD
# Encounter: valueBoolean. R4 Encounter.participant cannot reference the Patient, and
# "share of meetings with the person present" is an indicator the county follows.
EXT_PERSON_ATTENDED: Final = "sip-person-attended"
# Inera's national CarePlan profile: whether the plan may be shown to the person.
EXT_INERA_APPROVED_FOR_PATIENT: Final = (
    "https://fhir.inera.se/ig/ehds-tk/StructureDefinition/approved-for-patient"
)

# --- Identifier systems ---------------------------------------------------------------------
PERSONNUMMER: Final = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER: Final = "http://electronichealth.se/identifier/samordningsnummer"
# Older Inera RIVTA contracts use the Skatteverket OIDs; accepted on import only.
PERSONNUMMER_OID: Final = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_OID: Final = "urn:oid:1.2.752.129.2.1.3.3"
HSA_ID: Final = "urn:oid:1.2.752.29.4.19"
ORGANISATIONSNUMMER: Final = "urn:oid:2.5.4.97"
SIP_CASE_ID: Final = f"{CANONICAL}/identifier/sip-case"
# The stable identifier of a handlingsplan activity (PlanDefinition.identifier).
HANDLINGSPLAN_ACTIVITY_ID: Final = f"{CANONICAL}/identifier/handlingsplan-activity"
V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"  # PRN (HSA), XX (orgnr)

# --- Code systems ---------------------------------------------------------------------------
INERA_TYPE_OF_CARE_PLAN: Final = "https://fhir.inera.se/CodeSystem/typeofcareplan-cs"
INERA_SIP_CODE: Final = "SIP"  # display "Samordnad individuell plan"
CS_STAGE: Final = code_system("sip-stage")  # cases.codes.Stage values
CS_ORIGIN: Final = code_system("sip-origin")  # cases.codes.Origin values
CS_SAKOMRADE: Final = code_system("sip-sakomrade")  # the five of the county action plan
CS_MALOMRADE: Final = code_system("sip-malomrade")  # the plan's five målområden (goal areas)
USAGE_CONTEXT_TYPE: Final = "http://terminology.hl7.org/CodeSystem/usage-context-type"
CS_ROLE: Final = code_system("sip-role")  # initiativtagare, motesledare, huvudansvarig, deltagare
CS_HUVUDMAN_KIND: Final = code_system("sip-huvudman-kind")  # kommun, region
CS_KOMMUNKOD: Final = code_system("kommunkod")  # SCB kommunkod (no national system exists)
CS_CONSENT_METHOD: Final = code_system("sip-consent-method")  # skriftligt, muntligt
CS_NEED_AREA: Final = code_system("sip-need-area")  # cases.codes.NeedArea values
CS_OUTCOME: Final = code_system("sip-outcome")  # cases.codes.Outcome values
CS_PARTICIPANT_KIND: Final = code_system("sip-participant-kind")  # enhet, narstaende, annan
CS_ACTIVITY_KIND: Final = code_system("sip-activity-kind")  # Task.code: insats, atgard
LOINC: Final = "http://loinc.org"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY_LOINC: Final = "59284-0"  # Patient Consent
V3_ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"  # GUARD
V3_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # AMB, VR, OPTIN
V3_PARTICIPATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V2_0131: Final = "http://terminology.hl7.org/CodeSystem/v2-0131"  # contact role: N next-of-kin
LOCATION_PHYSICAL_TYPE: Final = "http://terminology.hl7.org/CodeSystem/location-physical-type"
GOAL_ACHIEVEMENT: Final = "http://terminology.hl7.org/CodeSystem/goal-achievement"


# --- Logical ids: stable, derived from database ids, never reused ---------------------------
def careplan_id(case_id: int) -> str:
    return f"sip-{case_id}"


def careteam_id(case_id: int) -> str:
    return f"sip-{case_id}-team"


def goal_id(case_id: int, position: int) -> str:
    return f"sip-{case_id}-goal-{position + 1}"


def task_id(case_id: int, position: int) -> str:
    return f"sip-{case_id}-insats-{position + 1}"


def atgard_task_id(case_id: int, position: int) -> str:
    return f"sip-{case_id}-atgard-{position + 1}"


def consent_id(consent_pk: int) -> str:
    return f"consent-{consent_pk}"


def patient_id(person_pk: int) -> str:
    return f"person-{person_pk}"


def related_person_id(related_pk: int) -> str:
    return f"related-{related_pk}"


def organization_id_for_huvudman(huvudman_pk: int) -> str:
    return f"huvudman-{huvudman_pk}"


def organization_id_for_unit(unit_pk: int) -> str:
    return f"unit-{unit_pk}"


def practitioner_role_id(case_id: int, role: str) -> str:
    return f"sip-{case_id}-{role}"


def practitioner_role_id_for_participant(participant_pk: int) -> str:
    """A unit taking part in a case, with its contact person if one is named."""
    return f"participant-{participant_pk}"


def appointment_id(meeting_pk: int) -> str:
    return f"meeting-{meeting_pk}"


def encounter_id(meeting_pk: int) -> str:
    return f"meeting-{meeting_pk}-held"


_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def plandefinition_id(identifier: str, activity_pk: int) -> str:
    """The activity's own identifier, when it is a valid FHIR id (no "_"); else from its key."""
    return identifier if _FHIR_ID.fullmatch(identifier) else f"activity-{activity_pk}"


def plandefinition_url(identifier: str, activity_pk: int) -> str:
    """The canonical URL of a handlingsplan activity's PlanDefinition: it never changes."""
    return f"{CANONICAL}/PlanDefinition/{plandefinition_id(identifier, activity_pk)}"
