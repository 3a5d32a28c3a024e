"""Meeting pages: schedule, kallelse (.ics), answers, the meeting held."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/cases/<int:case_id>/meetings")
