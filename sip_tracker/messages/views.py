"""The messages of a case: the thread, writing (and correcting), and kvittens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as HTTPResponse

from sip_tracker.cases.access import load_case
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.guards import database_id
from sip_tracker.messages import services
from sip_tracker.messages.forms import AcknowledgeForm, MessageForm
from sip_tracker.messages.models import CaseMessage
from sip_tracker.web import attempt, page

bp = Blueprint("messages", __name__, url_prefix="/cases/<int:case_id>/messages")

Page = tuple[str, int]


def _message(case: SipCase, message_id: int | None) -> CaseMessage | None:
    """The case's message; None when it names none, or one of another case (not shown)."""
    message = db.session.get(CaseMessage, message_id) if message_id is not None else None
    if message is None or message.case_id != case.id:
        return None
    return message


def _to_thread(case: SipCase, anchor: str = "meddelanden") -> HTTPResponse:
    return redirect(url_for("messages.index", case_id=case.id) + "#" + anchor)


@bp.route("", methods=["GET", "POST"])
@login_required
def index(case_id: int) -> HTTPResponse | Page:
    """The thread, and the form to write in it (GET ?corrects=<id>: a rättelse)."""
    case = load_case(case_id, change=request.method == "POST")
    form = MessageForm()
    if request.method == "GET":
        form.corrects.data = request.args.get("corrects", "")
    corrects = _message(case, database_id(form.corrects.data or ""))
    # Naming no message of this case, it is an ordinary message.
    form.corrects.data = str(corrects.id) if corrects is not None else ""
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.send_message(
                case,
                user=current_user,
                body=form.body.data or "",
                receipt_requested=bool(form.receipt_requested.data),
                corrects=corrects,
            ),
            default_field="body",
        )
        if done.ok and done.value is not None:
            flash(_("Meddelandet är skickat."), "success")
            return _to_thread(case, f"meddelande-{done.value.id}")
    return page(
        "messages/index.html",
        form=form,
        case=case,
        thread=services.thread_for(case, current_user),
        corrects=corrects,
    )


@bp.route("/<int:message_id>/receipt", methods=["POST"])
@login_required
def acknowledge(case_id: int, message_id: int) -> HTTPResponse | Page:
    """Kvittera for one's own unit: the unit's own receipt of the message, nobody else's."""
    case = load_case(case_id, change=True)
    message = _message(case, message_id)
    if message is None:
        abort(404)
    if services.receipt_of(message, current_user.unit_id) is None:
        abort(403)  # the message asks no receipt of this unit: nothing to acknowledge for it
    form = AcknowledgeForm()
    if form.validate_on_submit():
        done = attempt(form, lambda: services.acknowledge(case, message, user=current_user))
        if done.ok:
            flash(_("Meddelandet är kvitterat."), "success")
        else:
            for error in form.form_errors or [_("Meddelandet kunde inte kvitteras.")]:
                flash(str(error), "error")
    else:
        flash(_("Meddelandet kunde inte kvitteras: läs in sidan på nytt."), "error")
    return _to_thread(case, f"meddelande-{message.id}")


@bp.app_context_processor
def thread_on_case_page() -> dict[str, object]:
    """The case page shows the thread too (templates/messages/_thread.html)."""
    return {
        "message_thread": lambda case: services.thread_for(case, current_user),
        "message_overdue": services.receipt_overdue,
    }
