"""The plan: CarePlan, the person's Goals, and a Task per insats and per åtgärd."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.task import Task

from sip_tracker.cases.codes import (
    FINAL_STAGES,
    NEED_AREA_LABELS,
    ORIGIN_LABELS,
    SAKOMRADE_LABELS,
    STAGE_LABELS,
    CaseRoleKind,
    Outcome,
    Stage,
)
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.workflow import kallelse_deadline
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.outbound.common import (
    JSON,
    SIP_DISPLAY,
    PlanContent,
    careplan_ref,
    coding,
    concept,
    ext,
    huvudman_ref,
    latest_evaluation,
    meta,
    moment,
    next_follow_up_on,
    outcome_coding,
    patient_ref,
    plan_content,
    ref,
    role_ref,
    sv,
    unit_ref,
)

# A plan is a draft until it is established at the SIP meeting (see MAPPING.md).
CAREPLAN_STATUS: dict[Stage, str] = {
    Stage.BEHOV_IDENTIFIERAT: "draft",
    Stage.FORBEREDELSE: "draft",
    Stage.KALLAD: "draft",
    Stage.MOTE_HALLET: "draft",
    Stage.PLAN_FASTSTALLD: "active",
    Stage.UPPFOLJNING: "active",
    Stage.AVSLUTAD: "completed",
    Stage.AVBOJD: "revoked",
    Stage.AVBRUTEN: "revoked",
}
GOAL_ACHIEVEMENT: dict[Outcome, tuple[str, str]] = {
    Outcome.UPPNATT: ("achieved", "Achieved"),
    Outcome.DELVIS: ("improving", "Improving"),
    Outcome.EJ_UPPNATT: ("not-achieved", "Not Achieved"),
    Outcome.PAGAR: ("in-progress", "In Progress"),
}
ACTIVITY_KIND_DISPLAY = {"insats": "Insats", "atgard": "Åtgärd"}


def careplan_status(stage: Stage) -> str:
    return CAREPLAN_STATUS[stage]


def careplan_title(case: SipCase) -> str:
    """Inera requires a title: the kind of plan and its sakområden, never the person's name."""
    areas = ", ".join(sv(SAKOMRADE_LABELS[area.code]) for area in case.sakomraden)
    return f"{SIP_DISPLAY} – {areas}" if areas else SIP_DISPLAY


def ended_at(case: SipCase) -> datetime | None:
    """When the case reached its final stage, if it has."""
    if case.stage not in FINAL_STAGES:
        return None
    return next((e.at for e in reversed(case.events) if e.to_stage in FINAL_STAGES), None)


def careplan_author(case: SipCase) -> JSON:
    """The huvudansvarig; before one is named, the initiativtagare who prepares the SIP."""
    role = case.role(CaseRoleKind.HUVUDANSVARIG) or case.role(CaseRoleKind.INITIATIVTAGARE)
    return role_ref(case, role) if role else unit_ref(case.initiating_unit_id)


def _careplan_extensions(
    case: SipCase, content: PlanContent | None, activities: Sequence[str]
) -> list[JSON]:
    stage = coding(fs.CS_STAGE, case.stage, sv(STAGE_LABELS[case.stage]))
    origin = coding(fs.CS_ORIGIN, case.origin, sv(ORIGIN_LABELS[case.origin]))
    exts = [ext(fs.EXT_STAGE, valueCoding=stage), ext(fs.EXT_ORIGIN, valueCoding=origin)]
    if case.utskrivningsklar_on:
        exts.append(ext(fs.EXT_UTSKRIVNINGSKLAR, valueDate=case.utskrivningsklar_on))
    if deadline := kallelse_deadline(case):
        exts.append(ext(fs.EXT_KALLELSE_DUE, valueDate=deadline))
    for sakomrade in case.sakomraden:
        label = sv(SAKOMRADE_LABELS[sakomrade.code])
        exts.append(
            ext(fs.EXT_SAKOMRADE, valueCoding=coding(fs.CS_SAKOMRADE, sakomrade.code, label))
        )
    if content is not None:
        parts = []
        if content.follow_up_method:
            parts.append(ext("method", valueString=content.follow_up_method))
        if follow_up_on := next_follow_up_on(case, content):
            parts.append(ext("date", valueDate=follow_up_on))
        if parts:
            exts.append(ext(fs.EXT_FOLLOW_UP, extension=parts))
        if content.version is not None:
            exts.append(ext(fs.EXT_PLAN_VERSION, valuePositiveInt=content.version.number))
    if case.what_matters:
        exts.append(ext(fs.EXT_WHAT_MATTERS, valueString=case.what_matters))
    for need in case.needs:
        area = coding(fs.CS_NEED_AREA, need.area, sv(NEED_AREA_LABELS[need.area]))
        parts = [ext("area", valueCoding=area), ext("description", valueString=need.description)]
        if need.current_support:
            parts.append(ext("support", valueString=need.current_support))
        exts.append(ext(fs.EXT_NEED, extension=parts))
    exts += [ext(fs.EXT_ACTIVITY, valueCanonical=url) for url in activities]
    return exts


def _activity_ids(case: SipCase, content: PlanContent | None) -> list[str]:
    if content is None:
        return []
    return [fs.task_id(case.id, i) for i in range(len(content.insatser))] + [
        fs.atgard_task_id(case.id, i) for i in range(len(content.atgarder))
    ]


def careplan(case: SipCase, *, handlingsplan_activities: Sequence[str] = ()) -> CarePlan:
    """The SIP as a CarePlan; handlingsplan_activities are PlanDefinition canonical URLs."""
    content = plan_content(case)
    goal_count = len(content.goals) if content else 0
    return CarePlan.model_validate(
        {
            "id": fs.careplan_id(case.id),
            "meta": meta(fs.PROFILE_CAREPLAN),
            "extension": _careplan_extensions(case, content, handlingsplan_activities),
            "identifier": [{"system": fs.SIP_CASE_ID, "value": str(case.id)}],
            "status": careplan_status(case.stage),
            "intent": "plan",
            "category": [concept(fs.INERA_TYPE_OF_CARE_PLAN, fs.INERA_SIP_CODE, SIP_DISPLAY)],
            "title": careplan_title(case),
            "description": case.need_description or None,
            "subject": patient_ref(case.person),
            "period": {"start": moment(case.created_at), "end": moment(ended_at(case))},
            "created": moment(case.created_at),
            "author": careplan_author(case),
            "careTeam": [ref("CareTeam", fs.careteam_id(case.id))],
            "supportingInfo": [ref("Consent", fs.consent_id(c.id)) for c in case.consents] or None,
            "goal": [ref("Goal", fs.goal_id(case.id, i)) for i in range(goal_count)] or None,
            "activity": [{"reference": ref("Task", i)} for i in _activity_ids(case, content)]
            or None,
        }
    )


def _lifecycle(case: SipCase, content: PlanContent) -> str:
    if case.stage == Stage.AVSLUTAD:
        return "completed"
    if case.stage in FINAL_STAGES:
        return "cancelled"
    return "active" if content.version is not None else "proposed"


def goals(case: SipCase) -> list[Goal]:
    """The person's own goals, in their words (expressedBy the Patient)."""
    content = plan_content(case)
    if content is None:
        return []
    result = []
    for position, text in enumerate(content.goals):
        judged = latest_evaluation(case, content, "goal", text)
        achievement = None
        if judged:
            code, display = GOAL_ACHIEVEMENT[judged[0].outcome]
            achievement = {
                "coding": [
                    coding(fs.GOAL_ACHIEVEMENT, code, display),
                    outcome_coding(judged[0].outcome),
                ]
            }
        goal = {
            "id": fs.goal_id(case.id, position),
            "meta": meta(fs.PROFILE_GOAL),
            "lifecycleStatus": _lifecycle(case, content),
            "achievementStatus": achievement,
            "description": {"text": text},
            "subject": patient_ref(case.person),
            "statusDate": judged[1] if judged else None,
            "expressedBy": patient_ref(case.person),
        }
        result.append(Goal.model_validate(goal))
    return result


def task_status(case: SipCase, content: PlanContent) -> str:
    """Draft before the plan is established, in progress while it is in force, then done.

    Deliberately not from today's date against the insats's dates: the same case must map
    to the same JSON on any day, or the store would version resources nobody changed. The
    dates are in executionPeriod for a receiver to compare.
    """
    if content.version is None:
        return "draft"
    if case.stage == Stage.AVSLUTAD:
        return "completed"
    if case.stage in FINAL_STAGES:
        return "cancelled"
    return "in-progress"


def _task(
    case: SipCase,
    content: PlanContent,
    *,
    logical_id: str,
    kind: str,
    description: str,
    owner: JSON,
    period: JSON | None = None,
) -> Task:
    judged = latest_evaluation(case, content, "insats", description) if kind == "insats" else None
    return Task.model_validate(
        {
            "id": logical_id,
            "meta": meta(fs.PROFILE_TASK),
            "basedOn": [careplan_ref(case)],
            "status": task_status(case, content),
            "businessStatus": {"coding": [outcome_coding(judged[0].outcome)]} if judged else None,
            "intent": "plan",
            "code": concept(fs.CS_ACTIVITY_KIND, kind, ACTIVITY_KIND_DISPLAY[kind]),
            "description": description,
            "for": patient_ref(case.person),
            "executionPeriod": period,
            "authoredOn": moment(content.version.established_at) if content.version else None,
            "owner": owner,
        }
    )


def tasks(case: SipCase) -> list[Task]:
    """One Task per insats (owner: its unit, else its huvudman), then one per åtgärd."""
    content = plan_content(case)
    if content is None:
        return []
    result = [
        _task(
            case,
            content,
            logical_id=fs.task_id(case.id, position),
            kind="insats",
            description=insats.description,
            owner=unit_ref(insats.unit_id) if insats.unit_id else huvudman_ref(insats.huvudman_id),
            period={"start": insats.starts_on, "end": insats.ends_on}
            if insats.starts_on or insats.ends_on
            else None,
        )
        for position, insats in enumerate(content.insatser)
    ]
    result += [
        _task(
            case,
            content,
            logical_id=fs.atgard_task_id(case.id, position),
            kind="atgard",
            description=description,
            owner={"display": actor},  # school, Försäkringskassan, family: no identity to share
        )
        for position, (actor, description) in enumerate(content.atgarder)
    ]
    return result
