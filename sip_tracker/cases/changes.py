"""The two effects of every change to a case, in one call: the access log and publication."""

from __future__ import annotations

from sip_tracker.audit.services import record
from sip_tracker.auth.models import User
from sip_tracker.cases.models import SipCase
from sip_tracker.changes import case_changed


def record_change(action: str, case: SipCase, user: User | None, detail: str | None = None) -> None:
    """Log the change in the access log (same transaction) and have the case's FHIR
    resources mapped again when the transaction commits."""
    record(action, user=user, person_id=case.person_id, case_id=case.id, detail=detail)
    case_changed(case)
