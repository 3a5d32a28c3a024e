"""Who may see a case: the units taking part, under consent (patientdatalagen's inner secrecy).

The predicates and their SQL twin, without HTTP; every route's answers to every role are in
tests/test_access_matrix.py."""

import pytest
from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.auth.models import Role
from sip_tracker.cases import services
from sip_tracker.cases.access import can_change_case, can_view_case, visible_to
from sip_tracker.cases.codes import ParticipantKind
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db


def visible_ids(user):
    return set(db.session.scalars(select(SipCase.id).where(visible_to(user))))


@pytest.fixture
def world(make):
    """One kommun with two units, one region unit; a case shared with the region unit."""
    kommun = make.huvudman()
    own, sibling = make.unit(kommun), make.unit(kommun)
    region_unit = make.unit()
    coordinator = make.user(own)
    case = make.shared_case(coordinator, region_unit)
    return {
        "case": case,
        "coordinator": coordinator,
        "colleague": make.user(own),
        "sibling": make.user(sibling),
        "region": make.user(region_unit),
        "reviewer": make.user(sibling, role=Role.GRANSKARE, reviewed_units=[own]),
        "other_reviewer": make.user(sibling, role=Role.GRANSKARE, reviewed_units=[sibling]),
        "admin_elsewhere": make.user(sibling, role=Role.ADMINISTRATOR),
    }


@pytest.mark.parametrize(
    ("who", "sees", "changes"),
    [
        ("coordinator", True, True),
        ("colleague", True, True),
        ("region", True, True),
        ("sibling", False, False),
        ("reviewer", True, False),
        ("other_reviewer", False, False),
        ("admin_elsewhere", False, False),
    ],
)
def test_who_sees_and_changes_a_case(world, who, sees, changes):
    user, case = world[who], world["case"]
    assert can_view_case(user, case) is sees
    assert can_change_case(user, case) is changes
    # The SQL used by lists says the same as the predicate.
    assert (case.id in visible_ids(user)) is sees


def test_an_invited_unit_without_consent_does_not_see_the_case(make):
    coordinator = make.user()
    partner = make.unit()
    case = make.case(coordinator)
    services.add_participant(case, user=coordinator, kind=ParticipantKind.ENHET, unit=partner)
    partner_user = make.user(partner)
    assert not can_view_case(partner_user, case)
    assert case.id not in visible_ids(partner_user)


def test_withdrawn_consent_ends_sharing_but_not_the_initiators_access(world):
    case, coordinator = world["case"], world["coordinator"]
    services.withdraw_consent(case, user=coordinator, withdrawn_on=clock.today(), note=None)
    assert not can_view_case(world["region"], case)
    assert case.id not in visible_ids(world["region"])
    assert can_view_case(coordinator, case)


def test_a_closed_case_is_read_only(world):
    case, coordinator = world["case"], world["coordinator"]
    services.abort_case(case, user=coordinator, reason="Flyttat")
    assert can_view_case(coordinator, case)
    assert not can_change_case(coordinator, case)


def _shared_ids(unit_ids):
    from sip_tracker.cases.access import shared_clause

    return set(db.session.scalars(select(SipCase.id).where(shared_clause(unit_ids))))


@pytest.mark.parametrize("withdrawn", [False, True], ids=["consent", "withdrawn"])
def test_sharing_with_an_organisation_reads_the_same_in_python_and_sql(world, withdrawn):
    """The FHIR API and the importer use shares_case; its SQL twin must say the same."""
    from sip_tracker.cases.access import shares_case

    case, coordinator = world["case"], world["coordinator"]
    if withdrawn:
        services.withdraw_consent(case, user=coordinator, withdrawn_on=clock.today(), note=None)
    for who in ("coordinator", "sibling", "region"):
        units = [world[who].unit_id]
        expected = not withdrawn and who in ("coordinator", "region")
        assert shares_case(case, units) is expected, who
        assert (case.id in _shared_ids(units)) is expected, who
