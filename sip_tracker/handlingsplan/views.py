"""The action plan's pages: the plan, an activity, administrators' edits, a case's links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from sip_tracker.auth.views import require_admin
from sip_tracker.cases.access import load_case
from sip_tracker.db import db
from sip_tracker.forms import choices
from sip_tracker.guards import database_int
from sip_tracker.handlingsplan import queries, services
from sip_tracker.handlingsplan.counts import case_counts
from sip_tracker.handlingsplan.forms import (
    ActivityForm,
    CaseActivitiesForm,
    InriktningForm,
    MalomradeForm,
    SakomradeForm,
)
from sip_tracker.handlingsplan.models import (
    ACTIVITY_STATUS_LABELS,
    Activity,
    ActivityStatus,
    Malomrade,
    PlanSakomrade,
    StrategiskInriktning,
)
from sip_tracker.indicators.scope import scope_for
from sip_tracker.web import attempt, page

bp = Blueprint("handlingsplan", __name__)


@bp.app_context_processor
def plan_helpers() -> dict[str, Any]:
    return {"activity_status_labels": ACTIVITY_STATUS_LABELS}


@bp.route("/handlingsplan")
@login_required
def index() -> tuple[str, int]:
    year = request.args.get("year", type=database_int)
    return page(
        "handlingsplan/index.html",
        malomraden=db.session.scalars(queries.malomraden()).all(),
        sakomraden=db.session.scalars(queries.sakomraden()).all(),
        activities=db.session.scalars(queries.activities(year)).all(),
        year=year,
        years=db.session.execute(queries.activity_years()).one(),
    )


def _activity(identifier: str) -> Activity:
    activity = db.session.scalar(queries.activity_by_identifier(identifier))
    if activity is None:
        abort(404)
    return activity


@bp.route("/handlingsplan/aktiviteter/<identifier>")
@login_required
def activity(identifier: str) -> tuple[str, int]:
    found = _activity(identifier)
    scope = scope_for(current_user, _("Stockholms län"))
    return page(
        "handlingsplan/activity.html",
        activity=found,
        scope=scope,
        counts=case_counts(found.id, scope),
    )


# Administrators ----------------------------------------------------------------------


def _activity_form(activity: Activity | None) -> ActivityForm:
    data: dict[str, Any] = {}
    if activity is not None:
        data = {
            "identifier": activity.identifier,
            "title": activity.title,
            "description": activity.description,
            "year_from": activity.year_from,
            "year_to": activity.year_to,
            "malomrade_ids": [m.id for m in activity.malomraden],
            "sakomrade_codes": [s.code for s in activity.sakomraden],
            "responsible_group": activity.responsible_group,
            "status": activity.status.value,
            "lock_version": activity.lock_version,
        }
    else:
        data = {"status": ActivityStatus.BESLUTAD.value}
    form = ActivityForm(data=data)
    if activity is not None:
        del form.identifier  # stable: PlanDefinition ids and links rely on it
    else:
        del form.lock_version  # nobody else can have saved an activity not yet made
    form.malomrade_ids.choices = choices(
        (m.id, m.title) for m in db.session.scalars(queries.malomraden())
    )
    form.sakomrade_codes.choices = choices(
        (s.code, s.title) for s in db.session.scalars(queries.sakomraden())
    )
    return form


def _save_activity(form: ActivityForm, activity: Activity | None) -> Activity:
    identifier = activity.identifier if activity else form.identifier.data or ""
    malomraden = db.session.scalars(
        select(Malomrade).where(Malomrade.id.in_(form.malomrade_ids.data or []))
    ).all()
    sakomraden = db.session.scalars(
        select(PlanSakomrade).where(PlanSakomrade.code.in_(form.sakomrade_codes.data or []))
    ).all()
    year_from = form.year_from.data or 0
    return services.save_activity(
        activity,
        identifier=identifier,
        title=form.title.data or "",
        description=form.description.data or "",
        year_from=year_from,
        year_to=form.year_to.data or year_from,
        malomraden=malomraden,
        sakomraden=sakomraden,
        responsible_group=form.responsible_group.data,
        status=ActivityStatus(form.status.data),
        lock_version=form.lock_version.data if activity is not None else None,
        user=current_user,
    )


@bp.route("/handlingsplan/aktiviteter/ny", methods=["GET", "POST"])
@login_required
def new_activity() -> Response | tuple[str, int]:
    require_admin()
    form = _activity_form(None)
    if form.validate_on_submit():
        done = attempt(form, lambda: _save_activity(form, None))
        if done.ok and done.value is not None:
            flash(_("Aktiviteten %(id)s är sparad.", id=done.value.identifier), "success")
            return redirect(url_for("handlingsplan.activity", identifier=done.value.identifier))
    return page("handlingsplan/activity_form.html", form, activity=None)


@bp.route("/handlingsplan/aktiviteter/<identifier>/andra", methods=["GET", "POST"])
@login_required
def edit_activity(identifier: str) -> Response | tuple[str, int]:
    require_admin()
    activity = _activity(identifier)
    form = _activity_form(activity)
    if form.validate_on_submit():
        done = attempt(form, lambda: _save_activity(form, activity))
        if done.ok:
            flash(_("Aktiviteten %(id)s är sparad.", id=activity.identifier), "success")
            return redirect(url_for("handlingsplan.activity", identifier=activity.identifier))
    return page("handlingsplan/activity_form.html", form, activity=activity)


def _simple_form(form_class: type[Any], record: Any, fields: tuple[str, ...]) -> Any:
    data = (
        {name: getattr(record, name) for name in (*fields, "lock_version")}
        if record is not None
        else {}
    )
    form = form_class(data=data)
    if record is not None:
        del form.code
    else:
        del form.lock_version  # nobody else can have saved a row not yet made
    return form


def _record(model: Any, code: str | None) -> Any:
    """The row with this code, None for a new one, 404 for an unknown code."""
    if code is None:
        return None
    record = db.session.scalar(select(model).where(model.code == code))
    if record is None:
        abort(404)
    return record


def _save_listing(
    form: Any,
    record: Any,
    *,
    save: Callable[..., Any],
    saved: str,
    anchor: str,
    kind: str,
    extra: Callable[[], dict[str, Any]] = dict,
) -> Response | tuple[str, int]:
    """Save a målområde, inriktning or sakområde (the code never changes once made)."""
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: save(
                record,
                code=record.code if record else form.code.data,
                title=form.title.data or "",
                description=form.description.data or "",
                position=form.position.data or 0,
                lock_version=form.lock_version.data if record is not None else None,
                user=current_user,
                **extra(),
            ),
        )
        if done.ok:
            flash(saved, "success")
            return redirect(url_for("handlingsplan.index", _anchor=anchor))
    return page("handlingsplan/simple_form.html", form, kind=kind, record=record)


LISTING_FIELDS = ("code", "title", "description", "position")


@bp.route("/handlingsplan/malomraden/ny", methods=["GET", "POST"])
@bp.route("/handlingsplan/malomraden/<code>/andra", methods=["GET", "POST"])
@login_required
def edit_malomrade(code: str | None = None) -> Response | tuple[str, int]:
    require_admin()
    record = _record(Malomrade, code)
    form = _simple_form(MalomradeForm, record, LISTING_FIELDS)
    return _save_listing(
        form,
        record,
        save=services.save_malomrade,
        saved=_("Målområdet är sparat."),
        anchor="malomraden",
        kind="malomrade",
    )


@bp.route("/handlingsplan/inriktningar/ny", methods=["GET", "POST"])
@bp.route("/handlingsplan/inriktningar/<code>/andra", methods=["GET", "POST"])
@login_required
def edit_inriktning(code: str | None = None) -> Response | tuple[str, int]:
    require_admin()
    record = _record(StrategiskInriktning, code)
    form = _simple_form(InriktningForm, record, ("malomrade_id", *LISTING_FIELDS))
    if record is None and request.method == "GET":
        form.malomrade_id.data = request.args.get("malomrade", type=database_int)
    form.malomrade_id.choices = choices(
        (m.id, m.title) for m in db.session.scalars(queries.malomraden())
    )
    return _save_listing(
        form,
        record,
        save=services.save_inriktning,
        saved=_("Den strategiska inriktningen är sparad."),
        anchor="malomraden",
        kind="inriktning",
        extra=lambda: {"malomrade": db.session.get_one(Malomrade, form.malomrade_id.data)},
    )


@bp.route("/handlingsplan/sakomraden/ny", methods=["GET", "POST"])
@bp.route("/handlingsplan/sakomraden/<code>/andra", methods=["GET", "POST"])
@login_required
def edit_sakomrade(code: str | None = None) -> Response | tuple[str, int]:
    require_admin()
    record = _record(PlanSakomrade, code)
    form = _simple_form(SakomradeForm, record, LISTING_FIELDS)
    return _save_listing(
        form,
        record,
        save=services.save_sakomrade,
        saved=_("Sakområdet är sparat."),
        anchor="sakomraden",
        kind="sakomrade",
    )


# A case's links ----------------------------------------------------------------------


@bp.route("/cases/<int:case_id>/handlingsplan", methods=["GET", "POST"])
@login_required
def case_activities(case_id: int) -> Response | tuple[str, int]:
    """Link a case to activities; those naming the case's sakområde are suggested first."""
    case = load_case(case_id, change=True)
    linked = db.session.scalars(queries.activities_for_case(case.id)).all()
    available = db.session.scalars(queries.linkable_activities(case.id)).all()
    codes = [s.code.value for s in case.sakomraden]
    suggested = set(db.session.scalars(queries.suggested_activity_ids(codes)))
    form = CaseActivitiesForm(
        data={"activity_ids": [a.id for a in linked], "lock_version": case.lock_version}
        if request.method == "GET"
        else None
    )
    form.activity_ids.choices = choices((a.id, a.title) for a in available)
    if form.validate_on_submit():
        chosen = [a for a in available if a.id in set(form.activity_ids.data or [])]
        done = attempt(
            form,
            lambda: services.link_activities(
                case,
                user=current_user,
                activities=chosen,
                lock_version=form.lock_version.data,
            ),
            "activity_ids",
        )
        if done.ok:
            flash(_("Kopplingen till handlingsplanen är sparad."), "success")
            return redirect(url_for("cases.show", case_id=case.id) + "#handlingsplan")
    checked = set(form.activity_ids.data or [])
    return page(
        "handlingsplan/case_activities.html",
        form=form,
        case=case,
        suggested=[a for a in available if a.id in suggested],
        others=[a for a in available if a.id not in suggested],
        checked=checked,
    )
