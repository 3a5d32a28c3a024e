"""Administrators read the access log, person by person."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import ValidationError

from sip_tracker.audit.models import AuditEvent
from sip_tracker.audit.queries import events_for_person
from sip_tracker.audit.services import record
from sip_tracker.auth.views import require_admin
from sip_tracker.cases.codes import STAGE_LABELS, Stage
from sip_tracker.db import db
from sip_tracker.people.identifiers import InvalidIdentifier, parse_identifier
from sip_tracker.people.services import person_by_identifier
from sip_tracker.web import page

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50

# What the services write in AuditEvent.action, as people say it. Unknown actions show as is.
ACTION_LABELS = {
    "audit.read": _l("Läste loggen för personen"),
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


def action_label(event: AuditEvent) -> str:
    return str(ACTION_LABELS.get(event.action, event.action))


def detail_text(event: AuditEvent) -> str:
    """The detail as written, except that a stage is shown by its name."""
    if event.action == "case.stage" and event.detail in set(Stage):
        return str(STAGE_LABELS[Stage(event.detail)])
    return event.detail or ""


def _valid_identifier(form: FlaskForm, field: Field) -> None:
    try:
        parse_identifier(field.data or "")
    except InvalidIdentifier as error:
        raise ValidationError(str(error)) from None


class AuditSearchForm(FlaskForm):
    """A search: sent with GET, so it changes nothing and needs no CSRF token."""

    class Meta:
        csrf = False

    personnummer = StringField(
        _l("Personnummer eller samordningsnummer"),
        validators=[_valid_identifier],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )


@bp.route("/")
@login_required
def search() -> tuple[str, int]:
    require_admin()
    searched = "personnummer" in request.args
    form = AuditSearchForm(formdata=request.args if searched else None)
    number = person = events = None
    if searched and form.validate():
        number = parse_identifier(form.personnummer.data or "").formatted()
        person = person_by_identifier(number)
        if person is not None:
            # Reading the log shows whose data was read: that is itself a read to log.
            record("audit.read", user=current_user, person_id=person.id)
            events = db.paginate(
                events_for_person(person.id), per_page=PER_PAGE, max_per_page=PER_PAGE
            )
    return page(
        "audit/search.html",
        form,
        number=number,
        person=person,
        events=events,
        action_label=action_label,
        detail_text=detail_text,
    )
