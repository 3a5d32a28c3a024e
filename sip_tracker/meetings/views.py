"""Meeting pages: schedule, kallelse (.ics), answers, the meeting held."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as HTTPResponse
from wtforms.fields.choices import SelectChoice

from sip_tracker.cases.access import (
    can_change_case,
    can_view_case,
    load_case,
    may_manage_meetings,
)
from sip_tracker.cases.codes import RESPONSE_LABELS, ParticipantKind, Response
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.cases.services import mark_seen
from sip_tracker.db import db
from sip_tracker.i18n import local_datetime, to_utc
from sip_tracker.meetings import services
from sip_tracker.meetings.forms import (
    AnswerForm,
    CancelForm,
    HeldForm,
    KallelseForm,
    MeetingForm,
    ResponsesForm,
)
from sip_tracker.meetings.ics import kallelse_calendar
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.web import attempt, page

bp = Blueprint("meetings", __name__, url_prefix="/cases/<int:case_id>/meetings")

Page = tuple[str, int]


def _meeting(case: SipCase, meeting_id: int) -> Meeting:
    """The meeting if it belongs to the case; 404 otherwise, as for a case one may not see."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.case_id != case.id:
        abort(404)
    return meeting


def _require_manager(case: SipCase) -> None:
    """403 for a user who changes the case but does not run its meetings (an invited unit)."""
    if not may_manage_meetings(current_user, case):
        abort(403)


def _to_meeting(case: SipCase, meeting: Meeting) -> HTTPResponse:
    return redirect(url_for("meetings.show", case_id=case.id, meeting_id=meeting.id))


def _refuse(case: SipCase, meeting: Meeting, message: str) -> HTTPResponse:
    """Say why the page cannot be used now, keep the audit row of the read, go back."""
    flash(message, "error")
    return _to_meeting(case, meeting)


def participant_name(participant: Participant) -> str:
    """The participant's name, marked when it is a närstående (counted in the statistics)."""
    if participant.kind == ParticipantKind.NARSTAENDE:
        return participant.display_name + " (" + _("närstående") + ")"
    return participant.display_name


def participant_label(case: SipCase, participant: Participant) -> str:
    """Who a participant is, and whether the consent lets the kallelse reach them."""
    label = participant_name(participant)
    if participant.unit is not None:
        label += f" ({participant.unit.huvudman.name})"
        consent = case.active_consent
        own = participant.unit_id == case.initiating_unit_id
        if not own and (consent is None or not consent.covers(participant.unit.id)):
            label += " – " + _("omfattas inte av samtycket")
    return label


def _meeting_form(case: SipCase, meeting: Meeting | None = None) -> MeetingForm:
    form = MeetingForm()
    form.participant_ids.choices = [
        SelectChoice(str(p.id), participant_label(case, p)) for p in case.participants
    ]
    if meeting is None:
        del form.lock_version  # nobody else can have saved a meeting not yet made
    elif request.method == "GET":
        form.lock_version.data = meeting.lock_version
        starts = local_datetime(meeting.starts_at)
        form.date.data = starts.date()
        form.time.data = starts.time()
        form.duration_minutes.data = meeting.duration_minutes
        form.place.data = meeting.place
        form.video_link.data = meeting.video_link
        form.participant_ids.data = [i.participant_id for i in meeting.invitations]
    return form


def _starts_at(form: MeetingForm) -> datetime:
    assert form.date.data is not None and form.time.data is not None  # validated
    return to_utc(datetime.combine(form.date.data, form.time.data))


def _schedule(case: SipCase, form: MeetingForm, meeting: Meeting | None = None) -> Meeting:
    chosen = set(form.participant_ids.data or [])
    return services.schedule_meeting(
        case,
        user=current_user,
        starts_at=_starts_at(form),
        duration_minutes=form.duration_minutes.data or 60,
        place=form.place.data,
        video_link=form.video_link.data,
        participants=[p for p in case.participants if p.id in chosen],
        meeting=meeting,
        lock_version=form.lock_version.data if meeting is not None else None,
    )


def _clashes(case: SipCase, form: MeetingForm, meeting: Meeting | None) -> list[dict[str, str]]:
    """The other meetings the mötesledare leads at the new time; an error to confirm them.

    Each names its time; the person's name and a link only when the user may see that case.
    """
    starts_at = _starts_at(form)
    duration = form.duration_minutes.data or 60
    if meeting is not None and (meeting.starts_at, meeting.duration_minutes) == (
        starts_at,
        duration,
    ):
        return []  # not moved: nothing new to warn of
    found = services.clashing_meetings(
        case, user=current_user, starts_at=starts_at, duration_minutes=duration, meeting=meeting
    )
    clashes = []
    for other in found:
        other_case = db.session.get_one(SipCase, other.case_id)
        seen = can_view_case(current_user, other_case)
        clashes.append(
            {
                "starts": local_datetime(other.starts_at).strftime("%Y-%m-%d %H:%M"),
                "ends": local_datetime(other.ends_at).strftime("%H:%M"),
                "name": other_case.person.name if seen else "",
                "url": url_for("meetings.show", case_id=other.case_id, meeting_id=other.id)
                if seen
                else "",
            }
        )
    if clashes and not form.confirm_clash.data:
        form.confirm_clash.errors = [
            _("Mötesledaren leder redan ett annat möte då. Kryssa i Spara ändå för att spara.")
        ]
    return clashes


def _save_meeting(
    case: SipCase, form: MeetingForm, meeting: Meeting | None
) -> tuple[Meeting | None, list[dict[str, str]]]:
    """Save unless the time clashes unconfirmed; the saved meeting (or None) and the clashes."""
    clashes = _clashes(case, form, meeting)
    if form.confirm_clash.errors:
        return None, clashes
    done = attempt(form, lambda: _schedule(case, form, meeting))
    return (done.value if done.ok else None), clashes


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(case_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    _require_manager(case)
    form = _meeting_form(case)
    clashes: list[dict[str, str]] = []
    if form.validate_on_submit():
        saved, clashes = _save_meeting(case, form, None)
        if saved is not None:
            flash(_("Mötet är planerat. Skicka kallelsen när allt är klart."), "success")
            return _to_meeting(case, saved)
    return page("meetings/form.html", form=form, case=case, meeting=None, clashes=clashes)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    _require_manager(case)
    meeting = _meeting(case, meeting_id)
    # A form sent after the meeting was held goes to the service, which refuses it with the
    # user's input kept (409: it was held since the form was loaded).
    if request.method == "GET":
        if meeting.held_at is not None:
            return _refuse(case, meeting, _("Mötet är redan hållet och kan inte ändras."))
        if meeting.is_cancelled:
            return _refuse(case, meeting, _("Mötet är inställt och kan inte ändras."))
    form = _meeting_form(case, meeting)
    clashes: list[dict[str, str]] = []
    if form.validate_on_submit():
        saved, clashes = _save_meeting(case, form, meeting)
        if saved is not None:
            flash(_("Ändringarna av mötet är sparade."), "success")
            return _to_meeting(case, meeting)
    return page("meetings/form.html", form=form, case=case, meeting=meeting, clashes=clashes)


def _show_page(
    case: SipCase,
    meeting: Meeting,
    *,
    kallelse_form: KallelseForm | None = None,
    responses_form: ResponsesForm | None = None,
) -> Page:
    submitted = kallelse_form or responses_form
    version = {"lock_version": meeting.lock_version}
    own = services.own_invitation(meeting, current_user)
    return page(
        "meetings/show.html",
        form=submitted,
        case=case,
        meeting=meeting,
        can_change=may_manage_meetings(current_user, case),
        may_record=services.may_record_answers(current_user, case),
        own_invitation=own,
        may_answer=own is not None
        and can_change_case(current_user, case)
        and meeting.kallelse_sent_at is not None
        and meeting.held_at is None
        and not meeting.is_cancelled,
        kallelse_form=kallelse_form or KallelseForm(formdata=None, data=version),
        responses_form=responses_form
        or ResponsesForm.for_invitations(meeting.invitations, formdata=None, data=version),
        blocker=services.kallelse_blocker(case, meeting),
        participant_label=participant_label,
        response_labels=RESPONSE_LABELS,
    )


@bp.route("/<int:meeting_id>")
@login_required
def show(case_id: int, meeting_id: int) -> Page:
    case = load_case(case_id)
    meeting = _meeting(case, meeting_id)
    # The inbox's invitation leads here: the invited unit has opened the case (no longer new).
    mark_seen(case, user=current_user)
    return _show_page(case, meeting)


@bp.route("/<int:meeting_id>/kallelse", methods=["POST"])
@login_required
def send_kallelse(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    _require_manager(case)
    meeting = _meeting(case, meeting_id)
    form = KallelseForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.send_kallelse(
                case, meeting, user=current_user, lock_version=form.lock_version.data
            ),
        )
        if done.ok:
            flash(
                _(
                    "Kallelsen är registrerad som skickad. Ladda ner kallelsen (.ics) och"
                    " skicka den till deltagarna."
                ),
                "success",
            )
            return _to_meeting(case, meeting)
    return _show_page(case, meeting, kallelse_form=form)


@bp.route("/<int:meeting_id>/responses", methods=["POST"])
@login_required
def responses(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    meeting = _meeting(case, meeting_id)
    if not services.may_record_answers(current_user, case):
        abort(403)  # others answer for their own unit only (answer below)
    form = ResponsesForm.for_invitations(meeting.invitations)
    if form.validate_on_submit():
        answers = {i.id: form.answer(i) for i in meeting.invitations}
        done = attempt(
            form,
            lambda: services.record_responses(
                case,
                meeting,
                user=current_user,
                responses=answers,
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            flash(_("Svaren är sparade."), "success")
            return _to_meeting(case, meeting)
    return _show_page(case, meeting, responses_form=form)


def _answer_form(invitation: Invitation) -> AnswerForm:
    form = AnswerForm()
    if request.method == "GET" and invitation.response != Response.OBESVARAD:
        form.response.data = invitation.response.value
        form.attendee_names.data = invitation.attendee_names
        form.comment.data = invitation.comment
        if invitation.proposed_starts_at is not None:
            proposed = local_datetime(invitation.proposed_starts_at)
            form.proposed_date.data = proposed.date()
            form.proposed_time.data = proposed.time()
    return form


@bp.route("/<int:meeting_id>/answer", methods=["GET", "POST"])
@login_required
def answer(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    """A user answers the kallelse for their own unit: the invitation follows from it."""
    case = load_case(case_id, change=True)
    meeting = _meeting(case, meeting_id)
    invitation = services.own_invitation(meeting, current_user)
    if invitation is None:
        abort(403)
    if request.method == "GET":  # a form sent goes to the service, which keeps its input
        if meeting.is_cancelled:
            return _refuse(case, meeting, _("Mötet är inställt."))
        if meeting.held_at is not None:
            return _refuse(case, meeting, _("Mötet är redan hållet."))
        if meeting.kallelse_sent_at is None:
            return _refuse(case, meeting, _("Kallelsen till mötet är inte skickad än."))
    form = _answer_form(invitation)
    if form.validate_on_submit():
        proposed = None
        if form.proposed_date.data is not None and form.proposed_time.data is not None:
            proposed = to_utc(datetime.combine(form.proposed_date.data, form.proposed_time.data))
        done = attempt(
            form,
            lambda: services.answer_invitation(
                case,
                meeting,
                user=current_user,
                response=Response(form.response.data),
                attendee_names=form.attendee_names.data,
                comment=form.comment.data,
                proposed_starts_at=proposed,
            ),
            default_field="response",
        )
        if done.ok:
            flash(_("Ert svar är skickat till mötesledaren."), "success")
            return _to_meeting(case, meeting)
    return page(
        "meetings/answer.html", form=form, case=case, meeting=meeting, invitation=invitation
    )


@bp.route("/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    _require_manager(case)
    meeting = _meeting(case, meeting_id)
    if request.method == "GET":  # a form sent goes to the service, which keeps its input
        if meeting.held_at is not None:
            return _refuse(case, meeting, _("Mötet är redan hållet och kan inte ställas in."))
        if meeting.is_cancelled:
            return _refuse(case, meeting, _("Mötet är redan inställt."))
    form = CancelForm()
    if request.method == "GET":
        form.lock_version.data = meeting.lock_version
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.cancel_meeting(
                case,
                meeting,
                user=current_user,
                reason=form.reason.data or "",
                lock_version=form.lock_version.data,
            ),
            default_field="reason",
        )
        if done.ok:
            flash(_("Mötet är inställt."), "success")
            return _to_meeting(case, meeting)
    return page("meetings/cancel.html", form=form, case=case, meeting=meeting)


@bp.route("/<int:meeting_id>/kallelse.ics")
@login_required
def ics(case_id: int, meeting_id: int) -> HTTPResponse:
    case = load_case(case_id)
    meeting = _meeting(case, meeting_id)
    if meeting.kallelse_sent_at is None:
        return _refuse(case, meeting, _("Skicka kallelsen innan du laddar ner den."))
    blocker = services.kallelse_blocker(case, meeting)
    if blocker is not None:
        return _refuse(case, meeting, blocker)
    body = kallelse_calendar(case, meeting)
    filename = f"kallelse-sip-{case.id}-{meeting.id}.ics"
    return HTTPResponse(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _held_form(meeting: Meeting) -> HeldForm:
    form = HeldForm()
    form.attended.choices = [
        SelectChoice(str(i.id), participant_name(i.participant)) for i in meeting.invitations
    ]
    if request.method == "GET":
        starts = local_datetime(meeting.starts_at)
        form.held_date.data = starts.date()
        form.held_time.data = starts.time()
        form.attended.data = [i.id for i in meeting.invitations if i.response == Response.KOMMER]
        form.lock_version.data = meeting.lock_version
    return form


@bp.route("/<int:meeting_id>/held", methods=["GET", "POST"])
@login_required
def held(case_id: int, meeting_id: int) -> HTTPResponse | Page:
    case = load_case(case_id, change=True)
    _require_manager(case)
    meeting = _meeting(case, meeting_id)
    if request.method == "GET":  # a form sent goes to the service, which keeps its input
        if meeting.held_at is not None:
            return _refuse(case, meeting, _("Mötet är redan registrerat som hållet."))
        if meeting.is_cancelled:
            return _refuse(case, meeting, _("Mötet är inställt."))
        if meeting.kallelse_sent_at is None:
            return _refuse(case, meeting, _("Skicka kallelsen innan mötet registreras som hållet."))
    form = _held_form(meeting)
    if form.validate_on_submit():
        assert form.held_date.data is not None and form.held_time.data is not None  # validated
        held_at = to_utc(datetime.combine(form.held_date.data, form.held_time.data))
        came = set(form.attended.data or [])
        done = attempt(
            form,
            lambda: services.record_meeting_held(
                case,
                meeting,
                user=current_user,
                held_at=held_at,
                person_attended=form.person_attended.data == "ja",
                attended={i.id: i.id in came for i in meeting.invitations},
                notes=form.notes.data,
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            flash(_("Mötet är registrerat som hållet."), "success")
            return _to_meeting(case, meeting)
    return page("meetings/held.html", form=form, case=case, meeting=meeting)
