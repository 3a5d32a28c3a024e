"""The inbox ("Inkorg"): what happened in the cases of the user's unit, and the count of
unread items in the header of every page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from sip_tracker.audit.services import record_many
from sip_tracker.cases.access import can_view_case
from sip_tracker.db import db
from sip_tracker.guards import database_int
from sip_tracker.inbox.models import INBOX_KIND_LABELS, InboxItem, InboxKind
from sip_tracker.inbox.queries import FILTERS, inbox_items, read_by, readers, viewable_cases
from sip_tracker.inbox.services import can_open, mark_all_read, mark_read, unread_count
from sip_tracker.web import log_read, page

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.app_context_processor
def inbox_header() -> dict[str, Any]:
    """The header's unread count, as a function: counted (one query) only where the header
    shows it, for a signed-in user."""
    return {"inbox_unread": _unread_for_header, "inbox_kind_labels": INBOX_KIND_LABELS}


def _unread_for_header() -> int | None:
    if not current_user.is_authenticated or not db.session.is_active:
        return None  # not signed in, or a failed transaction behind an error page
    return unread_count(current_user)


@bp.route("")
@login_required
def index() -> tuple[str, int]:
    show = request.args.get("show", "all")
    if show not in FILTERS:
        show = "all"
    pagination = db.paginate(
        inbox_items(current_user, show=show),
        page=request.args.get("page", 1, type=database_int),
        per_page=current_app.config["CASES_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    items: list[InboxItem] = list(pagination.items)
    read = read_by(current_user, [item.id for item in items])
    viewable = viewable_cases(current_user, {item.case_id for item in items if item.case_id})
    # A line naming a person is a read of their data, as in the case lists.
    record_many(
        "case.list",
        user=current_user,
        subjects=sorted(
            {
                (item.case.person_id, item.case.id)
                for item in items
                if item.case is not None and item.case.id in viewable
            }
        ),
    )
    return page(
        "inbox/index.html",
        pagination=pagination,
        items=items,
        read=read,
        viewable=viewable,
        show=show,
    )


@bp.route("/<int:item_id>")
@login_required
def show(item_id: int) -> tuple[str, int]:
    """Open an item: as opening a letter, the GET marks it read for this user."""
    item = db.session.get(InboxItem, item_id)
    if item is None or not can_open(current_user, item):
        abort(404)
    case = item.case
    viewable = case is not None and can_view_case(current_user, case)
    if case is not None and viewable:
        log_read("case.read", person_id=case.person_id, case_id=case.id)
    mark_read(item, current_user)
    return page(
        "inbox/show.html",
        item=item,
        case=case if viewable else None,
        readers=readers(item),
        handled_at=_handled_at(item) if viewable else None,
    )


def _handled_at(item: InboxItem) -> tuple[str, str]:
    """Where the item is dealt with: the link and its text."""
    assert item.case_id is not None
    if item.meeting_id is not None:
        return (
            url_for("meetings.show", case_id=item.case_id, meeting_id=item.meeting_id),
            _("Till mötet"),
        )
    if item.message_id is not None or item.kind in (InboxKind.MESSAGE, InboxKind.RECEIPT_MISSING):
        return (
            url_for("cases.show", case_id=item.case_id, _anchor="meddelanden"),
            _("Till meddelandena i ärendet"),
        )
    if item.kind == InboxKind.FOLLOW_UP_DUE:
        return url_for("plans.follow_ups", case_id=item.case_id), _("Till planens uppföljning")
    if item.kind == InboxKind.PLAN:
        return url_for("plans.versions", case_id=item.case_id), _("Till planen")
    if item.kind == InboxKind.KALLELSE_DEADLINE:
        return url_for("cases.show", case_id=item.case_id, _anchor="moten"), _("Till ärendet")
    return url_for("cases.show", case_id=item.case_id), _("Till ärendet")


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all() -> Response:
    marked = mark_all_read(current_user)
    flash(
        ngettext(
            "%(num)d händelse markerad som läst.", "%(num)d händelser markerade som lästa.", marked
        ),
        "success",
    )
    return redirect(url_for("inbox.index"))
