"""The start page "Idag": what is due today and this week, and where it is done."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for
from flask_login import current_user, login_required

from sip_tracker import clock
from sip_tracker.audit.services import record_many
from sip_tracker.auth.models import Role, User
from sip_tracker.today.agenda import agenda_for
from sip_tracker.web import page

bp = Blueprint("today", __name__)


def start_page(user: User) -> str:
    """Where a user lands after login: coordinators on "Idag", reviewers on the case list
    (they follow cases up but have no deadlines of their own)."""
    if user.role == Role.GRANSKARE:
        return url_for("cases.overview")
    return url_for("today.index")


@bp.app_context_processor
def start_page_helper() -> dict[str, Any]:
    return {"start_page": start_page}


@bp.route("/idag")
@login_required
def index() -> tuple[str, int]:
    only_mine = request.args.get("scope") == "mine"
    agenda = agenda_for(current_user, today=clock.today(), only_mine=only_mine)
    # Each line names a person: a read of their data, as in the case lists.
    record_many(
        "case.list",
        user=current_user,
        subjects=[(case.person_id, case.id) for case in agenda.cases],
    )
    return page("today/index.html", agenda=agenda, only_mine=only_mine)
