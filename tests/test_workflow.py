"""Stage transitions and what each needs, through the services."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services
from sip_tracker.cases.codes import (
    ConsentGiver,
    ConsentMethod,
    Origin,
    ParticipantKind,
    Stage,
)
from sip_tracker.cases.workflow import (
    ALLOWED_FROM,
    can_move,
    kallelse_deadline,
    kallelse_overdue,
    move,
)
from sip_tracker.db import db
from sip_tracker.errors import ConsentMissing, DomainError, InvalidTransition
from sip_tracker.meetings import services as meetings
from sip_tracker.people.models import RelatedPerson, RelationKind


def book_meeting(case, user, participants):
    return meetings.schedule_meeting(
        case,
        user=user,
        starts_at=datetime.now(UTC) + timedelta(days=3),
        duration_minutes=60,
        place="Rum 1",
        video_link=None,
        participants=participants,
    )


def test_a_new_case_starts_at_behov_identifierat_with_its_initiator(make):
    user = make.user()
    case = make.case(user)
    assert case.stage == Stage.BEHOV_IDENTIFIERAT
    assert case.events[0].to_stage == Stage.BEHOV_IDENTIFIERAT
    assert case.events[0].user_id == user.id
    role = case.role("initiativtagare")
    assert role is not None and role.unit_id == user.unit_id and role.person_name == user.name


def test_every_stage_change_is_timestamped_and_attributed(make):
    user = make.user()
    case = make.case(user)
    before = datetime.now(UTC)
    services.start_preparation(case, user=user)
    event = case.events[-1]
    assert (event.from_stage, event.to_stage) == (Stage.BEHOV_IDENTIFIERAT, Stage.FORBEREDELSE)
    assert event.user_id == user.id
    assert event.at >= before - timedelta(seconds=1)


@pytest.mark.parametrize("target", list(Stage))
def test_the_road_allows_only_listed_moves(make, target):
    user = make.user()
    case = make.case(user)
    allowed = Stage.BEHOV_IDENTIFIERAT in ALLOWED_FROM.get(target, frozenset())
    assert can_move(case, target) is allowed
    if not allowed:
        with pytest.raises(InvalidTransition):
            move(case, target, user=user)


def test_final_stages_lead_nowhere(make):
    user = make.user()
    case = make.case(user)
    services.abort_case(case, user=user, reason="Flyttat")
    assert case.stage == Stage.AVBRUTEN
    assert not any(can_move(case, stage) for stage in Stage)


def test_abort_needs_a_reason(make):
    user = make.user()
    case = make.case(user)
    with pytest.raises(InvalidTransition, match="varför"):
        services.abort_case(case, user=user, reason="  ")
    assert case.stage == Stage.BEHOV_IDENTIFIERAT


def test_decline_records_the_persons_no(make):
    user = make.user()
    case = make.case(user)
    services.decline_case(case, user=user, reason="Vill inte just nu")
    assert case.stage == Stage.AVBOJD
    assert case.events[-1].note == "Vill inte just nu"


def test_close_only_after_a_plan(make):
    user = make.user()
    case = make.case(user)
    with pytest.raises(InvalidTransition):
        services.close_case(case, user=user, reason="Klart")


def test_discharge_case_needs_the_utskrivningsklar_date(make):
    with pytest.raises(DomainError, match="utskrivningsklar"):
        make.case(origin=Origin.UTSKRIVNING, utskrivningsklar_on=None)


def test_kallelse_deadline_is_three_calendar_days_after_utskrivningsklar(make):
    friday = date(2026, 11, 20)
    case = make.case(origin=Origin.UTSKRIVNING, utskrivningsklar_on=friday)
    # Saturday and Sunday count: lag (2017:612) speaks of days, not working days.
    assert kallelse_deadline(case) == date(2026, 11, 23)
    assert case.next_due_on == date(2026, 11, 23)
    assert not kallelse_overdue(case, today=date(2026, 11, 23))
    assert kallelse_overdue(case, today=date(2026, 11, 24))


def test_no_deadline_for_other_origins(make):
    case = make.case(origin=Origin.ANNAN)
    assert kallelse_deadline(case) is None
    assert not kallelse_overdue(case, today=date(2030, 1, 1))


def test_a_child_s_consent_is_given_by_a_guardian(make):
    user = make.user()
    child = make.person(user, born=clock.today() - timedelta(days=365 * 10))
    case = make.case(user, person=child)
    with pytest.raises(DomainError, match="vårdnadshavare"):
        services.record_consent(
            case,
            user=user,
            given_by=ConsentGiver.PERSON,
            guardian=None,
            method=ConsentMethod.SKRIFTLIGT,
            given_on=clock.today(),
            units=[user.unit],
            other_organisations=None,
            exclusions=None,
        )
    guardian = RelatedPerson(kind=RelationKind.VARDNADSHAVARE, name="Maria")
    child.related.append(guardian)
    db.session.flush()
    consent = services.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.VARDNADSHAVARE,
        guardian=guardian,
        method=ConsentMethod.MUNTLIGT,
        given_on=clock.today(),
        units=[user.unit],
        other_organisations=None,
        exclusions="Inte skolan",
    )
    assert case.active_consent is consent
    assert consent.exclusions == "Inte skolan"


def test_no_kallelse_before_consent(make):
    user = make.user()
    partner = make.unit()
    case = make.case(user)
    services.start_preparation(case, user=user)
    participant = services.add_participant(
        case, user=user, kind=ParticipantKind.ENHET, unit=partner
    )
    meeting = book_meeting(case, user, [participant])
    with pytest.raises(ConsentMissing, match="samtycke"):
        meetings.send_kallelse(case, meeting, user=user)
    assert case.stage == Stage.FORBEREDELSE
    assert meeting.kallelse_sent_at is None


def test_no_kallelse_to_a_unit_the_consent_does_not_cover(make):
    user = make.user()
    partner, outsider = make.unit(), make.unit(name="Enhet utanför")
    case = make.shared_case(user, partner)
    extra = services.add_participant(case, user=user, kind=ParticipantKind.ENHET, unit=outsider)
    meeting = book_meeting(case, user, [extra])
    with pytest.raises(ConsentMissing, match="Enhet utanför"):
        meetings.send_kallelse(case, meeting, user=user)


def test_after_withdrawal_no_new_kallelse(make):
    user = make.user()
    partner = make.unit()
    case = make.shared_case(user, partner)
    services.withdraw_consent(case, user=user, withdrawn_on=clock.today(), note="Ångrade sig")
    assert case.active_consent is None
    meeting = book_meeting(case, user, case.participants)
    with pytest.raises(ConsentMissing, match="återkallats"):
        meetings.send_kallelse(case, meeting, user=user)


def test_every_change_writes_an_audit_row_in_the_same_transaction(make):
    user = make.user()
    case = make.case(user)
    services.start_preparation(case, user=user)
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
    assert [r.action for r in rows] == ["case.create", "case.stage"]
    assert all(r.user_id == user.id and r.unit_id == user.unit_id for r in rows)
    assert all(r.person_id == case.person_id for r in rows)
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent)).all() == []
