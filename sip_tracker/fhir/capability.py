"""The CapabilityStatement: what this server really does, and nothing it does not."""

from __future__ import annotations

from typing import Any

from sip_tracker.fhir import systems
from sip_tracker.fhir.search import BY_TYPE, INCLUDES

PROFILES = {
    "CarePlan": systems.PROFILE_CAREPLAN,
    "CareTeam": systems.PROFILE_CARETEAM,
    "Goal": systems.PROFILE_GOAL,
    "Task": systems.PROFILE_TASK,
    "Consent": systems.PROFILE_CONSENT,
    "Patient": systems.PROFILE_PATIENT,
    "RelatedPerson": systems.PROFILE_RELATEDPERSON,
    "Organization": systems.PROFILE_ORGANIZATION,
    "PractitionerRole": systems.PROFILE_PRACTITIONERROLE,
    "Appointment": systems.PROFILE_APPOINTMENT,
    "Encounter": systems.PROFILE_ENCOUNTER,
    "PlanDefinition": systems.PROFILE_PLANDEFINITION,
}
# Served from the committed files in fhir_profiles/ (conformance.py), without a token.
CONFORMANCE_TYPES = ("StructureDefinition", "CodeSystem", "ValueSet")
CONFORMANCE_PARAMS = [
    ("url", "uri", "The canonical URL, optionally with |version"),
    ("_id", "token", "Logical id"),
]

SEARCH_PARAMS: dict[str, list[tuple[str, str, str]]] = {
    "CarePlan": [
        ("patient", "reference", "The person the plan is for (Patient/<id>)"),
        ("subject", "reference", "Same as patient"),
        (
            "patient.identifier",
            "token",
            "The person's personnummer or samordningsnummer, system|value",
        ),
        ("status", "token", "draft | active | completed | revoked"),
        ("category", "token", f"{systems.INERA_TYPE_OF_CARE_PLAN}|{systems.INERA_SIP_CODE}"),
        ("date", "date", "The plan's period"),
    ],
    "Patient": [
        (
            "identifier",
            "token",
            "personnummer or samordningsnummer, system|value (OID forms accepted)",
        ),
    ],
}
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"  # the Bulk Data Access IG (v2)
COMMON_PARAMS = [
    ("_id", "token", "Logical id"),
    ("_lastUpdated", "date", "When the resource last changed"),
    ("_count", "number", "Page size, at most 100"),
]


def _conformance_entry(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "searchParam": [
            {"name": name, "type": kind_, "documentation": doc}
            for name, kind_, doc in CONFORMANCE_PARAMS
        ],
        "documentation": "The contract: served as committed in fhir_profiles/, no token needed. "
        "FHIR R4 definitions only.",
    }


def capability_statement(base: str, version: str = "4.0") -> dict[str, Any]:
    """What the server does, in FHIR R4 ("4.0") or R5 ("5.0")."""
    r5 = version == "5.0"
    resources = []
    for kind, profile in PROFILES.items():
        params = [*COMMON_PARAMS, *SEARCH_PARAMS.get(kind, [])]
        assert {p[0] for p in SEARCH_PARAMS.get(kind, [])} == BY_TYPE.get(kind, set())
        entry: dict[str, Any] = {
            "type": kind,
            "profile": systems.structure_definition(profile),
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "versioned",
            "readHistory": False,
            "conditionalRead": "not-match",
            "searchParam": [
                {"name": name, "type": kind_, "documentation": doc} for name, kind_, doc in params
            ],
        }
        if kind == "CarePlan":
            entry["searchInclude"] = sorted(INCLUDES)
        if kind == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                },
                {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/patient-export"},
            ]
        if r5:
            # Our profiles are R4 definitions; an R5 instance does not claim them.
            del entry["profile"]
        resources.append(entry)
    if not r5:
        resources += [_conformance_entry(kind) for kind in CONFORMANCE_TYPES]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "sip-tracker",
        "kind": "instance",
        "software": {"name": "sip-tracker"},
        "implementation": {"description": "SIP exchange (samordnad individuell plan)", "url": base},
        "fhirVersion": systems.FHIR_VERSION_R5 if r5 else systems.FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "text": "Bearer tokens issued per IT system with "
                            "`flask --app sip_tracker create-api-token`"
                        }
                    ],
                    "description": "A token acts for one organisation and sees only the cases "
                    "that organisation takes part in under the person's consent.",
                },
                "resource": resources,
                "operation": [
                    {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/export"}
                ],
            }
        ],
    }
