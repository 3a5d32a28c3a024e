"""Administrators review the access log: filter it, see what is unusual, review a monthly
sample, and produce a person's log extract (who has read my data)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from sip_tracker.audit import flags
from sip_tracker.audit.extract import extract_csv, extract_response
from sip_tracker.audit.forms import ExtractForm, LogFilterForm, ReviewForm, SampleForm
from sip_tracker.audit.models import AuditEvent, AuditReview, AuditSample, ReviewOutcome
from sip_tracker.audit.queries import (
    LogFilters,
    events_for_person,
    log_entries,
    reviews_of,
    sample_entries,
    samples,
)
from sip_tracker.audit.services import draw_sample, record, record_many, review_event
from sip_tracker.auth.forms import ROLE_LABELS
from sip_tracker.auth.models import User
from sip_tracker.auth.views import require_admin
from sip_tracker.cases.codes import STAGE_LABELS, Stage
from sip_tracker.clock import today
from sip_tracker.db import db
from sip_tracker.forms import unit_choices
from sip_tracker.people.identifiers import parse_identifier
from sip_tracker.people.models import Person
from sip_tracker.people.services import PROTECTED_OFF, PROTECTED_ON, person_by_identifier
from sip_tracker.web import attempt, log_read, page

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50

# What the services write in AuditEvent.action, as people say it. Unknown actions show as is.
ACTION_LABELS = {
    "audit.read": _l("Läste loggen för personen"),
    "audit.review": _l("Granskade en händelse i loggen"),
    "audit.extract": _l("Tog ut ett registerutdrag ur loggen"),
    "person.create": _l("Registrerade personen"),
    "person.read": _l("Läste personuppgifterna"),
    "person.update": _l("Ändrade personuppgifterna"),
    "person.related.add": _l("Lade till vårdnadshavare eller närstående"),
    "case.create": _l("Skapade ärendet"),
    "case.read": _l("Läste ärendet"),
    "case.update": _l("Ändrade ärendet"),
    "case.stage": _l("Flyttade ärendet till ett nytt steg"),
    "case.role": _l("Angav en roll i ärendet"),
    "consent.record": _l("Registrerade samtycke"),
    "consent.withdraw": _l("Registrerade att samtycket återkallats"),
    "kartlaggning.update": _l("Ändrade kartläggningen"),
    "participant.add": _l("Lade till en deltagare"),
    "participant.remove": _l("Tog bort en deltagare"),
    "meeting.schedule": _l("Planerade ett SIP-möte"),
    "meeting.kallelse": _l("Skickade kallelse"),
    "meeting.response": _l("Registrerade svar på kallelse"),
    "meeting.held": _l("Registrerade att mötet hållits"),
    "plan.update": _l("Ändrade planen"),
    "plan.establish": _l("Fastställde planen"),
    "plan.follow_up": _l("Registrerade uppföljning av planen"),
}

PROTECTED_LABELS = {
    PROTECTED_ON: _l("Markerade skyddade personuppgifter"),
    PROTECTED_OFF: _l("Tog bort markeringen skyddade personuppgifter"),
}
OUTCOME_LABELS = {ReviewOutcome.OK: _l("OK"), ReviewOutcome.AVVIKELSE: _l("Avvikelse")}


def action_label(event: AuditEvent) -> str:
    return str(ACTION_LABELS.get(event.action, event.action))


def detail_text(event: AuditEvent) -> str:
    """The detail as written, except that a stage or a review is shown in words."""
    if event.action == "case.stage" and event.detail in set(Stage):
        return str(STAGE_LABELS[Stage(event.detail)])
    if event.action == "person.update" and event.detail in PROTECTED_LABELS:
        return str(PROTECTED_LABELS[event.detail])
    if event.action == "audit.review" and event.detail:
        reviewed, _sep, outcome = event.detail.partition(":")
        if outcome in set(ReviewOutcome):
            label = OUTCOME_LABELS[ReviewOutcome(outcome)]
            return _("Händelse %(id)s: %(outcome)s", id=reviewed, outcome=label)
    return event.detail or ""


@bp.app_context_processor
def audit_helpers() -> dict[str, Any]:
    return {
        "action_label": action_label,
        "detail_text": detail_text,
        "role_labels": ROLE_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "explain_flag": lambda flag: flags.explain(flag, _bulk_limit()),
    }


@bp.before_request
@login_required
def _administrators_only() -> None:
    require_admin()


def _bulk_limit() -> int:
    return int(current_app.config["AUDIT_BULK_READ_LIMIT"])


def _shown(events: list[AuditEvent]) -> dict[str, Any]:
    """What a table of log rows needs beside the rows, and the audit rows for showing them.

    Reading the log shows whose data was read: each person shown is itself a read to log.
    """
    ids = [event.id for event in events]
    found = db.session.execute(flags.flags_of(ids, _bulk_limit())).tuples().all()
    reviews = {review.event_id: review for review in db.session.scalars(reviews_of(ids))}
    persons = sorted({event.person_id for event in events if event.person_id is not None})
    record_many("audit.read", user=current_user, subjects=[(pid, None) for pid in persons])
    return {"flags": flags.flags_by_event(list(found)), "reviews": reviews}


def _filter_form_from_args() -> LogFilterForm:
    """The filter form as the URL describes it, the ids shown as the numbers people know."""
    args = request.args
    data: MultiDict[str, str] = MultiDict()
    missing: list[str] = []
    for key in ("unit", "first_day", "last_day", "only_flagged", "with_log_reads"):
        if args.get(key):
            data[key] = args[key]
    if args.get("person"):
        person_id = _id_arg("person")
        person = db.session.get(Person, person_id) if person_id else None
        if person is None:
            missing.append("personnummer")
        else:
            data["personnummer"] = parse_identifier(person.identifier).formatted()
    if args.get("user"):
        user_id = _id_arg("user")
        user = db.session.get(User, user_id) if user_id else None
        if user is None:
            missing.append("user")
        else:
            data["user"] = user.email
    form = LogFilterForm(formdata=data, meta={"csrf": False})
    form.unit.choices = unit_choices(active_only=False, blank=_("Alla enheter"))
    form.validate()
    for field in missing:
        form[field].errors = [*form[field].errors, _("Finns inte i SIP-trackern.")]
    return form


def _id_arg(key: str) -> int | None:
    text = request.args.get(key, "")
    # Ids fit PostgreSQL's integer; anything else is no row of ours.
    return int(text) if text.isdecimal() and int(text) < 2**31 else None


def _resolve(form: LogFilterForm) -> LogFilters | None:
    """The filters, or None with a message at each field naming nobody we know."""
    person_id = user_id = None
    if form.personnummer.data:
        number = parse_identifier(form.personnummer.data).formatted()
        person = person_by_identifier(number)
        if person is None:
            message = _(
                "Det finns ingen person med nummer %(number)s i SIP-trackern.", number=number
            )
            form.personnummer.errors = [message]
        else:
            person_id = person.id
    if form.user.data:
        email = form.user.data.strip()
        user_id = db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        if user_id is None:
            message = _("Det finns ingen användare med e-postadressen %(email)s.", email=email)
            form.user.errors = [message]
    if form.errors:
        return None
    return LogFilters(
        person_id=person_id,
        user_id=user_id,
        unit_id=form.unit.data,
        first_day=form.first_day.data,
        last_day=form.last_day.data,
    )


def _filter_args(form: LogFilterForm, filters: LogFilters) -> dict[str, Any]:
    """The filters as URL arguments: ids and dates only."""
    args = {
        "person": filters.person_id,
        "user": filters.user_id,
        "unit": filters.unit_id,
        "first_day": filters.first_day.isoformat() if filters.first_day else None,
        "last_day": filters.last_day.isoformat() if filters.last_day else None,
        "only_flagged": "y" if form.only_flagged.data else None,
        "with_log_reads": "y" if form.with_log_reads.data else None,
    }
    return {key: value for key, value in args.items() if value is not None}


@bp.route("/", methods=["GET", "POST"])
def search() -> Response | tuple[str, int]:
    """The log, filtered; a POSTed filter comes back as a URL of ids (Post/Redirect/Get)."""
    if request.method == "POST":
        form = LogFilterForm()
        form.unit.choices = unit_choices(active_only=False, blank=_("Alla enheter"))
        if form.validate():
            filters = _resolve(form)
            if filters is not None:
                return redirect(url_for("audit.search", **_filter_args(form, filters)), 303)
        return page("audit/search.html", form, events=None)
    form = _filter_form_from_args()
    filters = None if form.errors else _resolve(form)
    if filters is None:
        return page("audit/search.html", form, events=None)
    only = None
    if form.only_flagged.data:
        only = flags.expressions_over(_bulk_limit(), *filters.bounds(), filters.user_id).any()
        flags.without_jit()
    query = log_entries(filters, only)
    if not form.with_log_reads.data:
        query = query.where(AuditEvent.action != "audit.read")
    events = db.paginate(query, per_page=PER_PAGE, max_per_page=PER_PAGE)
    return page(
        "audit/search.html",
        form,
        events=events,
        page_args=_filter_args(form, filters),
        **_shown(list(events.items)),
    )


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
def review(event_id: int) -> Response | tuple[str, int]:
    """One log row in full, and the administrator's verdict on it."""
    event = db.session.get(AuditEvent, event_id)
    if event is None:
        abort(404)
    sample_id = _id_arg("sample")
    sample = db.session.get(AuditSample, sample_id) if sample_id else None
    form = ReviewForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: review_event(
                event,
                user=current_user,
                outcome=ReviewOutcome(form.outcome.data),
                note=form.note.data,
            ),
        )
        if done.ok:
            flash(_("Granskningen är sparad."), "success")
            if sample is not None:
                return redirect(url_for("audit.sample", sample_id=sample.id))
            return redirect(url_for("audit.review", event_id=event.id))
    context = _shown([event])
    return page(
        "audit/review.html",
        form,
        event=event,
        sample=sample,
        event_flags=context["flags"].get(event.id, []),
        done=context["reviews"].get(event.id),
    )


@bp.route("/samples", methods=["GET", "POST"])
def sample_list() -> Response | tuple[str, int]:
    """The samples drawn so far, and a form to draw the next."""
    form = SampleForm()
    if form.validate_on_submit():
        assert form.month.data is not None and form.size.data is not None
        month, size = form.month.data, form.size.data
        done = attempt(
            form, lambda: draw_sample(user=current_user, month=month, size=size, today=today())
        )
        if done.ok and done.value is not None:
            return redirect(url_for("audit.sample", sample_id=done.value.id), 303)
    drawn = db.session.execute(samples()).tuples().all()
    return page("audit/samples.html", form, drawn=drawn)


@bp.get("/samples/<int:sample_id>")
def sample(sample_id: int) -> tuple[str, int]:
    """A sample's rows, each with its flags and review."""
    found = db.session.get(AuditSample, sample_id)
    if found is None:
        abort(404)
    events = list(db.session.scalars(sample_entries(found.id)))
    reviewed = db.session.scalar(
        select(func.count())
        .select_from(AuditReview)
        .where(AuditReview.event_id.in_([event.id for event in events]))
    )
    return page(
        "audit/sample.html", sample=found, events=events, reviewed=reviewed, **_shown(events)
    )


@bp.route("/extract", methods=["GET", "POST"])
def extract() -> Response | tuple[str, int]:
    """A person's log extract (registerutdrag: who has read my data) as a CSV file."""
    form = ExtractForm()
    if request.method == "GET":
        person_id = _id_arg("person")
        person = db.session.get(Person, person_id) if person_id else None
        if person is not None:
            form.personnummer.data = parse_identifier(person.identifier).formatted()
            log_read("person.read", person_id=person.id)  # the form shows their number
    elif form.validate():
        number = parse_identifier(form.personnummer.data or "").formatted()
        person = person_by_identifier(number)
        if person is None:
            form.personnummer.errors = [
                _("Det finns ingen person med nummer %(number)s i SIP-trackern.", number=number)
            ]
        else:
            events = db.session.scalars(events_for_person(person.id)).all()
            with force_locale("sv"):  # the extract goes to the person, in Swedish
                text = extract_csv(events, action_label, detail_text)
            record("audit.extract", user=current_user, person_id=person.id)
            return extract_response(text, person_id=person.id, today=today())
    return page("audit/extract.html", form)
