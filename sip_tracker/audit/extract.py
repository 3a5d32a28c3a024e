"""A person's log extract (registerutdrag ur loggen): who has read or changed my data.

A CSV file that Excel opens as it is in Sweden: UTF-8 with a byte order mark, columns
separated by semicolons (Swedish Excel's list separator), times in Stockholm.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date

from flask import Response
from flask_babel import gettext as _

from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.forms import ROLE_LABELS
from sip_tracker.i18n import local_datetime

# A cell Excel would read as a formula (=, +, -, @, or a tab or CR first) is prefixed with
# an apostrophe: a user's name such as "=HYPERLINK(…)" must stay text (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def extract_csv(
    events: Iterable[AuditEvent],
    action_label: Callable[[AuditEvent], str],
    detail_text: Callable[[AuditEvent], str],
) -> str:
    """The rows as CSV text, newest first as given, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Tid"),
            _("Organisation"),
            _("Enhet"),
            _("Användare"),
            _("Roll"),
            _("Händelse"),
            _("Ärende"),
            _("Detalj"),
        ]
    )
    for event in events:
        unit = event.unit
        user = event.user
        writer.writerow(
            [
                _cell(text)
                for text in (
                    f"{local_datetime(event.at):%Y-%m-%d %H:%M:%S}",
                    unit.huvudman.name if unit else "",
                    unit.name if unit else "",
                    user.name if user else _("Systemet"),
                    str(ROLE_LABELS[user.role]) if user else "",
                    action_label(event),
                    str(event.case_id) if event.case_id is not None else "",
                    detail_text(event),
                )
            ]
        )
    return out.getvalue()


def extract_response(text: str, *, person_id: int, today: date) -> Response:
    """The CSV as a download that no cache keeps; the file name holds no personal data."""
    filename = f"registerutdrag-logg-person-{person_id}-{today.isoformat()}.csv"
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
