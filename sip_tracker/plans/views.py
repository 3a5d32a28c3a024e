"""Plan pages: edit the draft, establish (fastställ) a version, read versions, follow up."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from sip_tracker.cases import services as cases
from sip_tracker.cases.access import can_change_case, load_case
from sip_tracker.cases.codes import OUTCOME_LABELS, STAGE_LABELS, CaseRoleKind, Outcome
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db, utcnow
from sip_tracker.i18n import local_date
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.people.identifiers import format_identifier
from sip_tracker.plans import services as plans
from sip_tracker.plans.forms import FollowUpForm, PlanForm
from sip_tracker.plans.models import Plan, PlanVersion
from sip_tracker.web import Done, attempt, page

bp = Blueprint("plans", __name__, url_prefix="/cases/<int:case_id>")

# The version counter a plan row starts at; a form loaded before the first save carries it.
NEW_PLAN_LOCK_VERSION = 1

View = str | Response | tuple[str, int]


# --- The draft -------------------------------------------------------------------------


def _draft_data(case: SipCase) -> dict[str, Any]:
    plan = case.plan
    lead = case.role(CaseRoleKind.HUVUDANSVARIG)
    data: dict[str, Any] = {
        "lock_version": plan.lock_version if plan else NEW_PLAN_LOCK_VERSION,
        "lead_unit_id": lead.unit_id if lead else None,
        "lead_person_name": lead.person_name if lead else "",
    }
    if plan is not None:
        data.update(
            goals=[g.text for g in plan.goals],
            insatser=[
                {
                    "description": i.description,
                    "huvudman_id": i.huvudman_id,
                    "unit_id": i.unit_id,
                    "starts_on": i.starts_on,
                    "ends_on": i.ends_on,
                }
                for i in plan.insatser
            ],
            atgarder=[{"actor": a.actor, "description": a.description} for a in plan.atgarder],
            follow_up_method=plan.follow_up_method,
            follow_up_on=plan.follow_up_on,
        )
    return data


def _plan_form(case: SipCase) -> PlanForm:
    """The form as saved on a GET; as the user sent it on a POST."""
    form = PlanForm(data=_draft_data(case) if request.method == "GET" else None)
    form.load_choices()
    return form


def _insatser(form: PlanForm) -> list[plans.InsatsInput]:
    rows = []
    for entry in form.insatser:
        row = entry.form
        unit = db.session.get(Unit, row.unit_id.data) if row.unit_id.data else None
        huvudman = db.session.get(Huvudman, row.huvudman_id.data) if row.huvudman_id.data else None
        rows.append(
            plans.InsatsInput(
                description=row.description.data or "",
                # Choosing only a unit names its huvudman too.
                huvudman=huvudman or (unit.huvudman if unit else None),
                unit=unit,
                starts_on=row.starts_on.data,
                ends_on=row.ends_on.data,
            )
        )
    return rows


def _save(case: SipCase, form: PlanForm) -> Done[Plan]:
    """Name the huvudansvarig if it changed, then save the draft, all or nothing."""
    lead_unit = db.session.get(Unit, form.lead_unit_id.data) if form.lead_unit_id.data else None
    lead_name = (form.lead_person_name.data or "").strip()
    lead = case.role(CaseRoleKind.HUVUDANSVARIG)
    lead_changed = lead_unit is not None and (
        lead is None or lead.unit_id != lead_unit.id or lead.person_name != lead_name
    )

    def change() -> Plan:
        if lead_changed:
            assert lead_unit is not None
            cases.set_role(
                case,
                user=current_user,
                kind=CaseRoleKind.HUVUDANSVARIG,
                unit=lead_unit,
                person_name=lead_name,
            )
        return plans.save_plan(
            case,
            user=current_user,
            lock_version=form.lock_version.data or 0,
            goals=[entry.data or "" for entry in form.goals],
            insatser=_insatser(form),
            atgarder=[
                plans.AtgardInput(e.form.actor.data or "", e.form.description.data or "")
                for e in form.atgarder
            ],
            follow_up_method=form.follow_up_method.data or "",
            follow_up_on=form.follow_up_on.data,
        )

    return attempt(form, change)


def _is_conflict(case: SipCase, form: PlanForm) -> bool:
    """Whether the save failed because someone else saved the plan after this form loaded."""
    return case.plan is not None and case.plan.lock_version != form.lock_version.data


def _edit_page(case: SipCase, form: PlanForm, notice: str | None = None) -> tuple[str, int]:
    conflict = form.is_submitted() and _is_conflict(case, form)
    form.add_blank_rows()
    html, status = page(
        "plans/edit.html",
        form=form,
        case=case,
        plan=case.plan,
        lead=case.role(CaseRoleKind.HUVUDANSVARIG),
        missing=plans.missing_for_establishment(case),
        saved=plans.snapshot(case) if conflict and case.plan else None,
        notice=notice,
        stage_labels=STAGE_LABELS,
    )
    return html, 409 if conflict else status


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def edit(case_id: int) -> View:
    case = load_case(case_id, change=True)
    form = _plan_form(case)
    if form.validate_on_submit():
        done = _save(case, form)
        if done.ok:
            flash(_("Utkastet till planen är sparat."), "success")
            return redirect(url_for("plans.edit", case_id=case.id))
    return _edit_page(case, form)


@bp.route("/plan/establish", methods=["POST"])
@login_required
def establish(case_id: int) -> View:
    """Save the draft as sent, then fastställ it; a refusal leaves the draft saved."""
    case = load_case(case_id, change=True)
    form = _plan_form(case)
    if not form.validate_on_submit():
        return _edit_page(case, form)
    saved = _save(case, form)
    if not saved.ok:
        return _edit_page(case, form)
    assert saved.value is not None
    # The save moved the plan's version on: the form now stands for the saved draft.
    form.lock_version.data = saved.value.lock_version
    form.lock_version.raw_data = [str(saved.value.lock_version)]
    done = attempt(form, lambda: plans.establish_plan(case, user=current_user))
    if done.ok:
        assert done.value is not None
        number = done.value.number
        flash(_("Planen är fastställd som version %(number)s.", number=number), "success")
        return redirect(url_for("plans.version", case_id=case.id, number=number))
    return _edit_page(case, form, notice=_("Utkastet är sparat, men planen är inte fastställd."))


# --- Established versions --------------------------------------------------------------


def _versions(case: SipCase) -> list[PlanVersion]:
    return list(case.plan.versions) if case.plan else []


def _version_numbered(case: SipCase, number: int | None) -> PlanVersion | None:
    return next((v for v in _versions(case) if v.number == number), None)


@bp.route("/plan/versions")
@login_required
def versions(case_id: int) -> View:
    case = load_case(case_id)
    return page(
        "plans/versions.html",
        case=case,
        versions=list(reversed(_versions(case))),
        can_change=can_change_case(current_user, case),
    )


@bp.route("/plan/versions/<int:number>")
@login_required
def version(case_id: int, number: int) -> View:
    case = load_case(case_id)
    found = _version_numbered(case, number)
    if found is None:
        abort(404)
    return page(
        "plans/version.html",
        case=case,
        version=found,
        latest=_versions(case)[-1],
        identifier=format_identifier(case.person.identifier),
    )


# --- Follow-ups ------------------------------------------------------------------------


def _items(plan_version: PlanVersion | None) -> list[tuple[str, str, str]]:
    """The goals and insatser a follow-up evaluates: (subject, text, what to show)."""
    if plan_version is None:
        return []
    goals = [("goal", text, text) for text in plan_version.content["goals"]]
    insatser = []
    for item in plan_version.content["insatser"]:
        who = ", ".join(part for part in (item.get("huvudman"), item.get("unit")) if part)
        shown = f"{item['description']} ({who})" if who else item["description"]
        insatser.append(("insats", item["description"], shown))
    return goals + insatser


@bp.route("/follow-ups/new", methods=["GET", "POST"])
@login_required
def follow_up(case_id: int) -> View:
    case = load_case(case_id, change=True)
    current = case.plan.current_version if case.plan else None
    today = local_date(utcnow())  # the date in Stockholm, whatever the server's zone
    form = FollowUpForm()
    if not form.is_submitted() and current is not None:
        form.plan_version.data = current.number
        form.held_on.data = today
        for _item in _items(current):
            form.evaluations.append_entry()
    # The rows stand for the version the user evaluated, even if a newer one exists now.
    shown = _version_numbered(case, form.plan_version.data) or current
    items = _items(shown)
    if form.validate_on_submit():
        evaluations = [
            plans.EvaluationInput(
                subject=subject,
                subject_text=text,
                outcome=Outcome(entry.form.outcome.data),
                comment=entry.form.comment.data,
            )
            for (subject, text, _shown), entry in zip(items, form.evaluations, strict=False)
        ]
        done = attempt(
            form,
            lambda: plans.record_follow_up(
                case,
                user=current_user,
                held_on=form.held_on.data,
                evaluations=evaluations,
                next_follow_up_on=form.next_follow_up_on.data,
                notes=form.notes.data,
                today=today,
                expected_version=form.plan_version.data,
            ),
        )
        if done.ok:
            flash(_("Uppföljningen är registrerad."), "success")
            return redirect(url_for("plans.follow_ups", case_id=case.id))
    kinds = {"goal": _("Mål"), "insats": _("Insats")}
    labels = [f"{kinds[subject]}: {text}" for subject, _stored, text in items]
    return page(
        "plans/follow_up.html",
        form=form,
        case=case,
        version=shown,
        rows=list(zip(form.evaluations, labels, strict=False)),
        row_labels=labels,
    )


@bp.route("/follow-ups")
@login_required
def follow_ups(case_id: int) -> View:
    case = load_case(case_id)
    current = case.plan.current_version if case.plan else None
    return page(
        "plans/follow_ups.html",
        case=case,
        follow_ups=list(reversed(case.follow_ups)),
        outcome_labels=OUTCOME_LABELS,
        can_change=can_change_case(current_user, case),
        has_version=current is not None,
    )
