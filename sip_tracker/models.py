"""Import every model so the metadata is complete (for Alembic and the tests)."""

from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import LoginFailure, Role, User, WebSession
from sip_tracker.cases.models import (
    CaseRole,
    CaseSakomrade,
    Consent,
    Need,
    Participant,
    SipCase,
    StageEvent,
)
from sip_tracker.fhir.models import ApiToken, ExportJob, ExportSubject, StoredResource
from sip_tracker.handlingsplan.models import (
    Activity,
    CaseActivity,
    Malomrade,
    PlanSakomrade,
    StrategiskInriktning,
)
from sip_tracker.inbox.models import EmailDelivery, InboxItem, InboxRead
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.messages.models import CaseMessage, MessageReceipt
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.plans.models import Atgard, Evaluation, FollowUp, Goal, Insats, Plan, PlanVersion

__all__ = [
    "Activity",
    "ApiToken",
    "Atgard",
    "AuditEvent",
    "CaseActivity",
    "CaseMessage",
    "CaseRole",
    "CaseSakomrade",
    "Consent",
    "EmailDelivery",
    "Evaluation",
    "ExportJob",
    "ExportSubject",
    "FollowUp",
    "Goal",
    "Huvudman",
    "HuvudmanKind",
    "InboxItem",
    "InboxRead",
    "Insats",
    "Invitation",
    "LoginFailure",
    "Malomrade",
    "Meeting",
    "MessageReceipt",
    "Need",
    "Participant",
    "Person",
    "Plan",
    "PlanSakomrade",
    "PlanVersion",
    "RelatedPerson",
    "RelationKind",
    "Role",
    "SipCase",
    "StageEvent",
    "StoredResource",
    "StrategiskInriktning",
    "Unit",
    "User",
    "WebSession",
]
