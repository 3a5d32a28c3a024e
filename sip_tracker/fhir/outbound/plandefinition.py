"""The county action plan's activities: a PlanDefinition each, shared by every case.

An activity holds no personal data; a CarePlan names the activities its case is counted
towards by their canonical URL (extension sip-handlingsplan-activity).
"""

from __future__ import annotations

from fhir.resources.R4B.plandefinition import PlanDefinition

from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.outbound.common import JSON, coding, meta
from sip_tracker.fhir.validation.definitions import default_definitions
from sip_tracker.handlingsplan.models import Activity, ActivityStatus

PLANDEFINITION_STATUS: dict[ActivityStatus, str] = {
    ActivityStatus.PLANERAD: "draft",
    ActivityStatus.BESLUTAD: "active",
    ActivityStatus.PAGAENDE: "active",
    ActivityStatus.AVSLUTAD: "retired",
    ActivityStatus.AVBRUTEN: "retired",
}
PROGRAM = coding(fs.USAGE_CONTEXT_TYPE, "program", "Program")


def activity_url(activity: Activity) -> str:
    """The canonical URL a CarePlan uses to name the activity."""
    return fs.plandefinition_url(activity.identifier, activity.id)


def _concept(system: str, code: str, title: str) -> JSON:
    """A code of our code system when it holds the code; else the title as text only.

    Administrators may add a målområde or sakområde the published code system does not
    have yet: sending its code under our system would claim a code that does not exist.
    """
    known = default_definitions().concepts(system).get(code)
    if known is None:
        return {"text": title}
    return {"coding": [coding(system, code, known.get("display"))], "text": title}


def plandefinition(activity: Activity) -> PlanDefinition:
    """An activity as a PlanDefinition: title, status, years, målområden and sakområden."""
    use_context = [
        {"code": PROGRAM, "valueCodeableConcept": _concept(fs.CS_SAKOMRADE, s.code, s.title)}
        for s in activity.sakomraden
    ]
    return PlanDefinition.model_validate(
        {
            "id": fs.plandefinition_id(activity.identifier, activity.id),
            "meta": meta(fs.PROFILE_PLANDEFINITION),
            "url": activity_url(activity),
            "identifier": [{"system": fs.HANDLINGSPLAN_ACTIVITY_ID, "value": activity.identifier}],
            "title": activity.title,
            "status": PLANDEFINITION_STATUS[activity.status],
            "description": activity.description or None,
            "useContext": use_context or None,
            "author": [{"name": activity.responsible_group}]
            if activity.responsible_group
            else None,
            "effectivePeriod": {
                "start": f"{activity.year_from}-01-01",
                "end": f"{activity.year_to}-12-31",
            },
            "topic": [_concept(fs.CS_MALOMRADE, m.code, m.title) for m in activity.malomraden]
            or None,
        }
    )
