"""The case pages: overview, a new case, the case itself, and its preparation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from sip_tracker import clock
from sip_tracker.audit.services import record_many
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services
from sip_tracker.cases.access import (
    can_change_case,
    load_case,
    may_manage_meetings,
    sees_person_details,
    visible_related,
)
from sip_tracker.cases.codes import (
    CASE_ROLE_LABELS,
    CONSENT_GIVER_LABELS,
    CONSENT_METHOD_LABELS,
    NEED_AREA_LABELS,
    ORIGIN_LABELS,
    OUTCOME_LABELS,
    PARTICIPANT_KIND_LABELS,
    RESPONSE_LABELS,
    SAKOMRADE_LABELS,
    STAGE_LABELS,
    STAGE_ORDER,
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    NeedArea,
    Origin,
    ParticipantKind,
    Sakomrade,
    Stage,
)
from sip_tracker.cases.forms import (
    CaseDetailsForm,
    ConsentForm,
    KartlaggningForm,
    NewCaseForm,
    OverviewFilterForm,
    ParticipantForm,
    ReasonForm,
    RoleForm,
    WithdrawConsentForm,
)
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.queries import CaseFilters, cases_for_overview, role_candidates
from sip_tracker.cases.workflow import (
    DEADLINE_LABELS,
    can_move,
    deadline_kind,
    kallelse_deadline,
    kallelse_overdue,
    kallelse_sent_on,
)
from sip_tracker.db import db
from sip_tracker.forms import choices, unit_choices
from sip_tracker.guards import database_int
from sip_tracker.handlingsplan.queries import activities as plan_activities
from sip_tracker.handlingsplan.queries import activities_for_case
from sip_tracker.handlingsplan.queries import malomraden as plan_malomraden
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.people.identifiers import format_identifier, parse_identifier
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.people.services import create_person
from sip_tracker.web import attempt, page

bp = Blueprint("cases", __name__)

LABELS = {
    "stage": STAGE_LABELS,
    "origin": ORIGIN_LABELS,
    "sakomrade": SAKOMRADE_LABELS,
    "role": CASE_ROLE_LABELS,
    "consent_giver": CONSENT_GIVER_LABELS,
    "consent_method": CONSENT_METHOD_LABELS,
    "need_area": NEED_AREA_LABELS,
    "participant_kind": PARTICIPANT_KIND_LABELS,
    "response": RESPONSE_LABELS,
    "outcome": OUTCOME_LABELS,
}


@bp.app_context_processor
def case_helpers() -> dict[str, Any]:
    return {
        "labels": LABELS,
        "format_identifier": format_identifier,
        "stage_order": STAGE_ORDER,
        "kallelse_deadline": kallelse_deadline,
        "kallelse_overdue": kallelse_overdue,
        "kallelse_sent_on": kallelse_sent_on,
        "deadline_kind": deadline_kind,
        "deadline_labels": DEADLINE_LABELS,
        "today": clock.today,
    }


def _require_writer() -> None:
    if current_user.role == Role.GRANSKARE:
        abort(403)


@bp.route("/")
@login_required
def overview() -> tuple[str, int]:
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "unit"):
        scope = "mine"
    if current_user.role == Role.GRANSKARE:
        scope = "unit"
    form = OverviewFilterForm(request.args)
    kommuner = db.session.scalars(
        select(Huvudman).where(Huvudman.kind == HuvudmanKind.KOMMUN).order_by(Huvudman.name)
    ).all()
    form.kommun.choices = choices(((str(k.id), k.name) for k in kommuner), _("Alla kommuner"))
    form.activity.choices = choices(
        ((str(a.id), f"{a.identifier} {a.title}") for a in db.session.scalars(plan_activities())),
        _("Alla aktiviteter"),
    )
    form.malomrade.choices = choices(
        ((str(m.id), m.title) for m in db.session.scalars(plan_malomraden())),
        _("Alla målområden"),
    )
    valid = form.validate()
    filters = CaseFilters(status="open")
    if valid:
        filters = CaseFilters(
            q=form.q.data or None,
            stage=Stage(form.stage.data) if form.stage.data else None,
            sakomrade=Sakomrade(form.sakomrade.data) if form.sakomrade.data else None,
            kommun_id=int(form.kommun.data) if form.kommun.data else None,
            activity_id=int(form.activity.data) if form.activity.data else None,
            malomrade_id=int(form.malomrade.data) if form.malomrade.data else None,
            due=form.due.data or None,
            status=form.status.data or "open",
        )
    today = clock.today()
    query = cases_for_overview(current_user, scope=scope, filters=filters, today=today)
    pagination = db.paginate(
        query,
        page=request.args.get("page", 1, type=database_int),
        per_page=current_app.config["CASES_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    # A list shows names and personnummer: each case shown is a read of personal data.
    record_many(
        "case.list",
        user=current_user,
        subjects=[(case.person_id, case.id) for case in pagination.items],
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return page(
        "cases/overview.html",
        form=form,
        pagination=pagination,
        scope=scope,
        today=today,
        page_args=args,
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case() -> Response | tuple[str, int]:
    _require_writer()
    form = NewCaseForm()
    if form.validate_on_submit():
        digits = parse_identifier(form.identifier.data or "").digits
        person = db.session.scalar(select(Person).where(Person.identifier == digits))

        def open_case() -> SipCase:
            nonlocal person
            if person is None:
                person = create_person(
                    user=current_user,
                    identifier=digits,
                    given_name=form.given_name.data or "",
                    family_name=form.family_name.data or "",
                    phone=form.phone.data,
                    email=form.email.data,
                    address=form.address.data,
                )
            return services.create_case(
                person=person,
                user=current_user,
                origin=Origin(form.origin.data),
                utskrivningsklar_on=form.utskrivningsklar_on.data,
                sakomraden=[Sakomrade(s) for s in form.sakomraden.data or []],
                need_description=form.need_description.data or "",
            )

        done = attempt(form, open_case, "need_description")
        if done.ok and done.value is not None:
            flash(_("Ärendet är skapat."), "success")
            return redirect(url_for("cases.show", case_id=done.value.id))
    return page("cases/new.html", form=form)


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> tuple[str, int]:
    case = load_case(case_id)
    # Opened by a user of an invited unit: the case is no longer new to the unit.
    services.mark_seen(case, user=current_user)
    return page(
        "cases/show.html",
        case=case,
        activities=db.session.scalars(activities_for_case(case.id)).all(),
        can_change=can_change_case(current_user, case),
        manages_meetings=may_manage_meetings(current_user, case),
        can_move=lambda stage: can_move(case, Stage(stage)),
        reason_form=ReasonForm(formdata=None),
        person_details=sees_person_details(current_user, case.person),
        related=visible_related(current_user, case.person),
    )


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    form = CaseDetailsForm(
        formdata=None if request.method == "GET" else request.form,
        data={
            "origin": case.origin.value,
            "utskrivningsklar_on": case.utskrivningsklar_on,
            "sakomraden": [s.code.value for s in case.sakomraden],
            "need_description": case.need_description,
            "lock_version": case.lock_version,
        },
    )
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.update_case_details(
                case,
                user=current_user,
                origin=Origin(form.origin.data),
                utskrivningsklar_on=form.utskrivningsklar_on.data,
                sakomraden=[Sakomrade(s) for s in form.sakomraden.data or []],
                need_description=form.need_description.data or "",
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return page("cases/edit.html", form=form, case=case)


def _consent_form(case: SipCase) -> ConsentForm:
    taking_part = [case.initiating_unit_id] + [p.unit_id for p in case.participants if p.unit_id]
    form = ConsentForm(data={"unit_ids": taking_part} if request.method == "GET" else None)
    form.unit_ids.choices = unit_choices()
    guardians = [
        r
        for r in visible_related(current_user, case.person)
        if r.kind == RelationKind.VARDNADSHAVARE
    ]
    form.guardian_id.choices = [("", _("Välj vårdnadshavare"))] + [
        (g.id, g.name) for g in guardians
    ]
    if request.method == "GET":
        child = case.person.is_child_on(clock.today())
        form.given_by.data = (ConsentGiver.VARDNADSHAVARE if child else ConsentGiver.PERSON).value
        form.method.data = ConsentMethod.SKRIFTLIGT.value
    return form


@bp.route("/cases/<int:case_id>/consent", methods=["GET", "POST"])
@login_required
def consent(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    form = _consent_form(case)
    if form.validate_on_submit():
        guardian = (
            db.session.get(RelatedPerson, form.guardian_id.data) if form.guardian_id.data else None
        )
        units = list(db.session.scalars(select(Unit).where(Unit.id.in_(form.unit_ids.data or []))))
        done = attempt(
            form,
            lambda: services.record_consent(
                case,
                user=current_user,
                given_by=ConsentGiver(form.given_by.data),
                guardian=guardian,
                method=ConsentMethod(form.method.data),
                given_on=form.given_on.data or clock.today(),
                units=units,
                other_organisations=form.other_organisations.data,
                exclusions=form.exclusions.data,
            ),
        )
        if done.ok:
            flash(_("Samtycket är registrerat."), "success")
            return redirect(url_for("cases.show", case_id=case.id) + "#samtycke")
    return page("cases/consent.html", form=form, case=case)


@bp.route("/cases/<int:case_id>/consent/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_consent(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    form = WithdrawConsentForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.withdraw_consent(
                case,
                user=current_user,
                withdrawn_on=form.withdrawn_on.data or clock.today(),
                note=form.note.data,
            ),
        )
        if done.ok:
            flash(
                _("Samtycket är återkallat. Ärendet delas inte längre med andra enheter."),
                "success",
            )
            return redirect(url_for("cases.show", case_id=case.id) + "#samtycke")
    return page("cases/withdraw_consent.html", form=form, case=case)


@bp.route("/cases/<int:case_id>/kartlaggning", methods=["GET", "POST"])
@login_required
def kartlaggning(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    if request.method == "GET":
        data: dict[str, Any] = {
            "what_matters": case.what_matters,
            "needs": [
                {
                    "area": n.area.value,
                    "description": n.description,
                    "current_support": n.current_support,
                }
                for n in case.needs
            ]
            + [{"area": NeedArea.HALSA.value}] * 2,
            "lock_version": case.lock_version,
        }
        form = KartlaggningForm(formdata=None, data=data)
    else:
        form = KartlaggningForm()
    if form.validate_on_submit():
        needs = [
            services.NeedInput(
                NeedArea(row.form.area.data),
                row.form.description.data or "",
                row.form.current_support.data,
            )
            for row in form.needs
        ]
        done = attempt(
            form,
            lambda: services.save_kartlaggning(
                case,
                user=current_user,
                what_matters=form.what_matters.data or "",
                needs=needs,
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            flash(_("Kartläggningen är sparad."), "success")
            return redirect(url_for("cases.show", case_id=case.id) + "#kartlaggning")
    return page("cases/kartlaggning.html", form=form, case=case)


@bp.route("/cases/<int:case_id>/participants", methods=["GET", "POST"])
@login_required
def participants(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    form = ParticipantForm()
    form.unit_id.load(blank=_("Välj enhet"))
    form.related_person_id.choices = choices(
        (
            (r.id, f"{r.name} ({r.relation or _('närstående')})")
            for r in visible_related(current_user, case.person)
        ),
        _("Välj närstående"),
    )
    if form.validate_on_submit():
        kind = ParticipantKind(form.kind.data)
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        related = (
            db.session.get(RelatedPerson, form.related_person_id.data)
            if form.related_person_id.data
            else None
        )
        field = {ParticipantKind.ENHET: "unit_id", ParticipantKind.NARSTAENDE: "related_person_id"}
        done = attempt(
            form,
            lambda: services.add_participant(
                case,
                user=current_user,
                kind=kind,
                unit=unit,
                related_person=related,
                name=form.name.data,
                organisation=form.organisation.data,
                email=form.email.data,
                phone=form.phone.data,
            ),
            field.get(kind, "organisation"),
        )
        if done.ok:
            flash(_("Deltagaren är tillagd."), "success")
            return redirect(url_for("cases.participants", case_id=case.id))
    return page("cases/participants.html", form=form, case=case)


@bp.route("/cases/<int:case_id>/participants/<int:participant_id>/remove", methods=["POST"])
@login_required
def remove_participant(case_id: int, participant_id: int) -> Response:
    case = load_case(case_id, change=True)
    participant = next((p for p in case.participants if p.id == participant_id), None)
    if participant is None:
        abort(404)
    form = ReasonForm(formdata=None)
    done = attempt(form, lambda: services.remove_participant(case, participant, user=current_user))
    if done.ok:
        flash(_("Deltagaren är borttagen."), "success")
    else:
        flash(" ".join(form.form_errors), "error")
    return redirect(url_for("cases.participants", case_id=case.id))


def _role_form(case: SipCase) -> tuple[RoleForm, dict[int, User]]:
    """The role form, its users those who may hold a role, grouped by unit."""
    form = RoleForm()
    form.unit_id.load(blank=_("Välj enhet"))
    candidates = {u.id: u for u in db.session.scalars(role_candidates(case))}
    form.user_id.choices = [
        SelectChoice(value="", label=_("Ingen användare: ange enhet och namn nedan")),
        *(
            SelectChoice(
                value=u.id, label=u.name, optgroup=f"{u.unit.name} ({u.unit.huvudman.name})"
            )
            for u in candidates.values()
        ),
    ]
    return form, candidates


@bp.route("/cases/<int:case_id>/roles", methods=["GET", "POST"])
@login_required
def roles(case_id: int) -> Response | tuple[str, int]:
    case = load_case(case_id, change=True)
    form, candidates = _role_form(case)
    if request.method == "GET":
        kind = request.args.get("kind", CaseRoleKind.MOTESLEDARE.value)
        if kind in (CaseRoleKind.MOTESLEDARE.value, CaseRoleKind.HUVUDANSVARIG.value):
            form.kind.data = kind
            existing = case.role(CaseRoleKind(kind))
            if existing is None:
                form.user_id.data = current_user.id if current_user.id in candidates else None
            elif existing.user_id is not None:
                form.user_id.data = existing.user_id
            else:
                form.unit_id.data = existing.unit_id
                form.person_name.data = existing.person_name
        form.lock_version.data = case.lock_version
    if form.validate_on_submit():
        holder = candidates.get(form.user_id.data) if form.user_id.data else None
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        done = attempt(
            form,
            lambda: services.set_role(
                case,
                user=current_user,
                kind=CaseRoleKind(form.kind.data),
                unit=unit,
                person_name=form.person_name.data or "",
                holder=holder,
                lock_version=form.lock_version.data,
            ),
            "person_name",
        )
        if done.ok:
            flash(_("Rollen är sparad."), "success")
            return redirect(url_for("cases.show", case_id=case.id) + "#roller")
    return page("cases/roles.html", form=form, case=case)


@bp.route("/cases/<int:case_id>/start", methods=["POST"])
@login_required
def start_preparation(case_id: int) -> Response:
    case = load_case(case_id, change=True)
    form = ReasonForm(formdata=None)
    done = attempt(form, lambda: services.start_preparation(case, user=current_user))
    if done.ok:
        flash(_("Ärendet är i förberedelse."), "success")
    else:
        flash(" ".join(form.form_errors), "error")
    return redirect(url_for("cases.show", case_id=case.id))


END_ACTIONS: dict[str, tuple[Stage, Callable[..., None]]] = {
    "decline": (Stage.AVBOJD, services.decline_case),
    "abort": (Stage.AVBRUTEN, services.abort_case),
    "close": (Stage.AVSLUTAD, services.close_case),
}


@bp.route("/cases/<int:case_id>/<any(decline, abort, close):action>", methods=["GET", "POST"])
@login_required
def end(case_id: int, action: str) -> Response | tuple[str, int]:
    """Decline (the person says no), abort (end early) or close, each with a reason."""
    case = load_case(case_id, change=True)
    stage, service = END_ACTIONS[action]
    form = ReasonForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: service(case, user=current_user, reason=form.reason.data or ""),
            "reason",
        )
        if done.ok:
            flash(_("Ärendet har nu skedet %(stage)s.", stage=STAGE_LABELS[stage]), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    elif request.method == "GET" and not can_move(case, stage):
        flash(
            _(
                "Ärendet kan inte gå till %(stage)s från sitt nuvarande skede.",
                stage=STAGE_LABELS[stage],
            ),
            "error",
        )
        return redirect(url_for("cases.show", case_id=case.id))
    return page("cases/end.html", form=form, case=case, action=action, target=stage)
