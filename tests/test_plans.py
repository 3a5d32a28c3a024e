"""The plan pages: the draft, establishing versions, reading them, and follow-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sip_tracker import clock
from sip_tracker.auth.models import Role
from sip_tracker.cases.codes import CaseRoleKind, Outcome, Stage
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.meetings import services as meetings
from sip_tracker.organizations.models import HuvudmanKind
from sip_tracker.plans import services as plans
from sip_tracker.plans.models import FollowUp, Plan
from tests.factories import Factory, login

TODAY = clock.today()
FOLLOW_UP_ON = TODAY + timedelta(days=60)


@dataclass
class World:
    """Ids of what a test needs: objects expire once the factory commits."""

    case: int
    user: int
    partner_user: int
    kommun: int
    kommun_unit: int
    region: int
    region_unit: int

    def url(self, path: str = "/plan") -> str:
        return f"/cases/{self.case}{path}"


def build(make: Factory, client: FlaskClient, held: bool = True) -> World:
    """A case shared between a kommun unit and a region unit, its SIP meeting held."""
    kommun = make.huvudman(HuvudmanKind.KOMMUN, name="Tumba kommun")
    region = make.huvudman(HuvudmanKind.REGION, name="Region Tumba")
    kommun_unit = make.unit(kommun, name="Hemtjänsten Tumba")
    region_unit = make.unit(region, name="Vårdcentralen Tumba")
    user = make.user(kommun_unit, name="Karin Samordnare")
    partner_user = make.user(region_unit, name="Rolf Regionsson")
    case = make.shared_case(user, region_unit)
    if held:
        meeting = meetings.schedule_meeting(
            case,
            user=user,
            starts_at=datetime.now(UTC) - timedelta(hours=2),
            allow_past=True,
            duration_minutes=60,
            place="Mötesrum 1",
            video_link=None,
            participants=[case.participants[0]],
        )
        meetings.send_kallelse(case, meeting, user=user, at=datetime.now(UTC) - timedelta(days=1))
        meetings.record_meeting_held(
            case,
            meeting,
            user=user,
            held_at=datetime.now(UTC) - timedelta(hours=1),
            person_attended=True,
            attended={i.id: True for i in meeting.invitations},
            notes=None,
        )
    world = World(
        case=case.id,
        user=user.id,
        partner_user=partner_user.id,
        kommun=kommun.id,
        kommun_unit=kommun_unit.id,
        region=region.id,
        region_unit=region_unit.id,
    )
    make.commit()
    login(client, world.user)
    return world


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def lock_version(html: str) -> str:
    found = re.search(r'name="lock_version" type="hidden" value="(\d+)"', html)
    if found is None:
        found = re.search(r'name="lock_version"[^>]*value="(\d+)"', html)
    assert found, "the plan form carries its lock_version"
    return found.group(1)


def plan_form(world: World, lock: str = "1", **overrides: Any) -> dict[str, Any]:
    """A complete plan: two goals, an insats per huvudman, an åtgärd, huvudansvar, follow-up."""
    data: dict[str, Any] = {
        "lock_version": lock,
        "goals-0": "Jag vill bo kvar hemma.",
        "goals-1": "Jag vill sova bättre.",
        "insatser-0-description": "Hemtjänst morgon och kväll",
        "insatser-0-huvudman_id": str(world.kommun),
        "insatser-0-unit_id": str(world.kommun_unit),
        "insatser-0-starts_on": TODAY.isoformat(),
        "insatser-0-ends_on": "",
        "insatser-1-description": "Läkemedelsgenomgång",
        "insatser-1-huvudman_id": "",
        "insatser-1-unit_id": str(world.region_unit),
        "insatser-1-starts_on": "",
        "insatser-1-ends_on": "",
        "atgarder-0-actor": "Dottern Anna",
        "atgarder-0-description": "Handlar varje lördag.",
        "lead_unit_id": str(world.kommun_unit),
        "lead_person_name": "Karin Samordnare",
        "follow_up_method": "Uppföljande SIP-möte med alla parter.",
        "follow_up_on": FOLLOW_UP_ON.isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def fetch_case(case_id: int) -> SipCase:
    db.session.expire_all()
    return db.session.get_one(SipCase, case_id)


def fetch_plan(case_id: int) -> Plan:
    db.session.expire_all()
    return db.session.scalars(select(Plan).where(Plan.case_id == case_id)).one()


def establish_by_service(world: World, **overrides: Any) -> None:
    """Save a complete plan and establish it, as the SIP meeting would."""
    case = fetch_case(world.case)
    user = case.created_by
    from sip_tracker.cases import services as cases

    cases.set_role(
        case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, unit=user.unit, person_name=user.name
    )
    plan = plans.plan_for(case)
    region = case.participants[0].unit
    assert region is not None
    fields: dict[str, Any] = {
        "goals": ["Jag vill bo kvar hemma."],
        "insatser": [plans.InsatsInput("Hemtjänst", user.unit.huvudman, user.unit)],
        "atgarder": [],
        "follow_up_method": "SIP-möte",
        "follow_up_on": FOLLOW_UP_ON,
    }
    fields.update(overrides)
    plans.save_plan(case, user=user, lock_version=plan.lock_version, **fields)
    plans.establish_plan(case, user=user)
    db.session.commit()


# Who may open the plan pages


@pytest.mark.parametrize(
    ("who", "edit", "read"),
    [
        ("coordinator", 200, 200),
        ("partner", 200, 200),  # the region unit, invited and covered by consent
        ("reviewer", 403, 200),
        ("outsider", 404, 404),
    ],
)
def test_plan_pages_by_role(
    make: Factory, client: FlaskClient, who: str, edit: int, read: int
) -> None:
    world = build(make, client)
    case = fetch_case(world.case)
    users = {
        "coordinator": world.user,
        "partner": world.partner_user,
        "reviewer": make.user(
            make.unit(), role=Role.GRANSKARE, reviewed_units=[case.initiating_unit]
        ).id,
        "outsider": make.user().id,
    }
    make.commit()
    login(client, users[who])
    assert client.get(world.url("/plan")).status_code == edit
    assert client.get(world.url("/follow-ups/new")).status_code == edit
    assert client.post(world.url("/plan"), data=plan_form(world)).status_code in (
        {edit} if edit != 200 else {302}
    )
    assert client.get(world.url("/plan/versions")).status_code == read
    assert client.get(world.url("/follow-ups")).status_code == read


def test_the_empty_plan_offers_labelled_blank_rows(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.get(world.url())
    html = text(page)
    assert page.status_code == 200
    assert "Planen är inte fastställd än" in html
    for name in ("goals-1", "insatser-1-description", "atgarder-1-actor"):
        assert f'id="{name}"' in html and f'for="{name}"' in html
    assert "goals-2" not in html
    assert "<legend>Insats 2</legend>" in html
    assert "Tumba kommun" in html and "Vårdcentralen Tumba" in html
    assert lock_version(html) == "1"
    # Nothing is written by looking.
    assert db.session.scalar(select(func.count(Plan.id))) == 0


# The draft


def test_save_a_draft_with_all_four_parts(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    saved = client.post(world.url(), data=plan_form(world))
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"])
    html = text(page)
    assert "Utkastet till planen är sparat." in html
    assert "Jag vill bo kvar hemma." in html
    assert "Läkemedelsgenomgång" in html
    assert "Handlar varje lördag." in html
    assert "Huvudansvarig nu: Karin Samordnare, Hemtjänsten Tumba (Tumba kommun)." in html
    assert "Det här saknas innan planen kan fastställas" not in html
    # Two blank rows after the filled ones.
    assert 'id="goals-3"' in html and 'id="goals-4"' not in html

    plan = fetch_plan(world.case)
    assert [goal.text for goal in plan.goals] == [
        "Jag vill bo kvar hemma.",
        "Jag vill sova bättre.",
    ]
    # Choosing only a unit names its huvudman.
    assert [(i.huvudman_id, i.unit_id) for i in plan.insatser] == [
        (world.kommun, world.kommun_unit),
        (world.region, world.region_unit),
    ]
    assert plan.follow_up_on == FOLLOW_UP_ON
    lead = fetch_case(world.case).role(CaseRoleKind.HUVUDANSVARIG)
    assert lead is not None and lead.person_name == "Karin Samordnare"
    assert fetch_case(world.case).stage == Stage.MOTE_HALLET
    db.session.rollback()


def test_a_unit_of_another_huvudman_is_a_form_error(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    form = plan_form(world, **{"insatser-1-huvudman_id": str(world.kommun)})
    page = client.post(world.url(), data=form)
    assert page.status_code == 422
    html = text(page)
    assert "Enheten Vårdcentralen Tumba hör inte till Tumba kommun." in html
    assert "Läkemedelsgenomgång" in html  # the user's text stays
    assert db.session.scalar(select(func.count(Plan.id))) == 0


def test_row_errors_name_the_row_and_keep_the_text(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    form = plan_form(
        world,
        **{
            "insatser-1-unit_id": "",
            "insatser-0-ends_on": (TODAY - timedelta(days=1)).isoformat(),
            "atgarder-0-actor": "",
            "lead_person_name": "",
        },
    )
    page = client.post(world.url(), data=form)
    html = text(page)
    assert page.status_code == 422
    assert (
        "Insats 2, ansvarig huvudman</a>: Välj vilken huvudman som ansvarar för insatsen." in html
    )
    assert "Insats 1, slutdatum</a>: Slutdatum kan inte ligga före startdatum." in html
    assert "Ange vem som gör åtgärden." in html
    assert "Ange namnet på den som har huvudansvaret." in html
    assert "Läkemedelsgenomgång" in html and "Handlar varje lördag." in html
    assert db.session.scalar(select(func.count(Plan.id))) == 0


# Establishing (fastställa)


def test_establishing_an_incomplete_plan_names_what_is_missing(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client)
    form = {"lock_version": "1", "goals-0": "Jag vill bo kvar hemma."}
    page = client.post(world.url("/plan/establish"), data=form)
    assert page.status_code == 422
    html = text(page)
    assert "Planen kan inte fastställas. Det saknas:" in html
    assert "minst en insats" in html
    assert "vem som har huvudansvaret" in html
    assert "datum för uppföljning" in html
    assert "Utkastet är sparat, men planen är inte fastställd." in html
    assert "Jag vill bo kvar hemma." in html
    assert fetch_case(world.case).stage == Stage.MOTE_HALLET
    plan = fetch_plan(world.case)
    assert plan.versions == []
    assert [goal.text for goal in plan.goals] == ["Jag vill bo kvar hemma."]
    # The form now stands for the saved draft, so saving again is not a conflict.
    assert lock_version(html) == str(plan.lock_version)
    db.session.rollback()
    again = client.post(world.url(), data={"lock_version": lock_version(html), "goals-0": "Mål"})
    assert again.status_code == 302


def test_a_plan_is_established_only_after_the_meeting(make: Factory, client: FlaskClient) -> None:
    world = build(make, client, held=False)
    page = client.post(world.url("/plan/establish"), data=plan_form(world))
    assert page.status_code == 422
    assert "registrera mötet som hållet först" in text(page)
    assert fetch_case(world.case).stage == Stage.FORBEREDELSE
    db.session.rollback()


def test_establish_then_change_makes_version_two_and_keeps_version_one(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client)
    first = client.post(world.url("/plan/establish"), data=plan_form(world))
    assert first.status_code == 302
    assert first.headers["Location"].endswith(world.url("/plan/versions/1"))
    version_one = client.get(first.headers["Location"])
    html = text(version_one)
    assert "Planen är fastställd som version 1." in html
    assert "Jag vill bo kvar hemma." in html
    assert "Tumba kommun har huvudansvaret, genom Karin Samordnare på Hemtjänsten Tumba." in html
    assert fetch_case(world.case).stage == Stage.PLAN_FASTSTALLD
    assert fetch_case(world.case).next_due_on == FOLLOW_UP_ON
    db.session.rollback()

    edit = client.get(world.url())
    assert "Gällande plan: version 1" in text(edit)
    changed = plan_form(
        world, lock=lock_version(text(edit)), **{"goals-0": "Jag vill klara trappan själv."}
    )
    second = client.post(world.url("/plan/establish"), data=changed)
    assert second.status_code == 302
    assert second.headers["Location"].endswith(world.url("/plan/versions/2"))

    old = text(client.get(world.url("/plan/versions/1")))
    assert "Jag vill bo kvar hemma." in old
    assert "Jag vill klara trappan själv." not in old
    assert "Det här är en tidigare version." in old
    new = text(client.get(world.url("/plan/versions/2")))
    assert "Jag vill klara trappan själv." in new
    assert "Det här är en tidigare version." not in new

    listing = text(client.get(world.url("/plan/versions")))
    assert "Version 1" in listing and "Version 2" in listing
    assert "Karin Samordnare" in listing
    assert client.get(world.url("/plan/versions/3")).status_code == 404
    assert fetch_case(world.case).stage == Stage.PLAN_FASTSTALLD
    db.session.rollback()


# No lost work


def test_the_second_of_two_coordinators_is_refused_and_keeps_their_text(
    make: Factory, client: FlaskClient, app: Any
) -> None:
    world = build(make, client)
    other = app.test_client()
    form_a = text(login(client, world.user).get(world.url()))
    form_b = text(login(other, world.partner_user).get(world.url()))

    mine = plan_form(world, lock=lock_version(form_a), **{"goals-0": "Karins formulering."})
    assert login(client, world.user).post(world.url(), data=mine).status_code == 302

    theirs = plan_form(
        world,
        lock=lock_version(form_b),
        **{
            "goals-0": "Rolfs formulering som inte får försvinna.",
            "lead_unit_id": str(world.region_unit),
            "lead_person_name": "Rolf Regionsson",
        },
    )
    refused = login(other, world.partner_user).post(world.url(), data=theirs)
    assert refused.status_code == 409
    html = text(refused)
    assert "Karin Samordnare sparade planen medan du redigerade den." in html
    assert "Rolfs formulering som inte får försvinna." in html
    assert "Planen som den är sparad nu" in html  # what the other one saved, to compare
    assert "Karins formulering." in html

    plan = fetch_plan(world.case)
    assert plan.goals[0].text == "Karins formulering."
    lead = fetch_case(world.case).role(CaseRoleKind.HUVUDANSVARIG)
    assert lead is not None and lead.person_name == "Karin Samordnare"  # nothing half-saved
    db.session.rollback()

    # Establishing from the stale form is refused the same way.
    stale = login(other, world.partner_user).post(world.url("/plan/establish"), data=theirs)
    assert stale.status_code == 409
    assert fetch_plan(world.case).versions == []
    db.session.rollback()


# Follow-up


def follow_up_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "plan_version": "1",
        "held_on": TODAY.isoformat(),
        "evaluations-0-outcome": Outcome.DELVIS.value,
        "evaluations-0-comment": "Bättre än förut.",
        "evaluations-1-outcome": Outcome.PAGAR.value,
        "evaluations-1-comment": "",
        "notes": "Sömnen är bättre.",
        "next_follow_up_on": (TODAY + timedelta(days=90)).isoformat(),
    }
    data.update(overrides)
    return data


def test_follow_ups_evaluate_goals_and_insatser_and_repeat(
    make: Factory, client: FlaskClient
) -> None:
    world = build(make, client)
    establish_by_service(world)

    page = client.get(world.url("/follow-ups/new"))
    html = text(page)
    assert page.status_code == 200
    assert "<legend>Mål: Jag vill bo kvar hemma.</legend>" in html
    assert "Insats: Hemtjänst (" in html
    assert 'for="evaluations-1-outcome"' in html
    assert "Delvis uppnått" in html

    first = client.post(world.url("/follow-ups/new"), data=follow_up_form())
    assert first.status_code == 302
    listing = text(client.get(first.headers["Location"]))
    assert "Uppföljningen är registrerad." in listing
    assert "Mål: Jag vill bo kvar hemma." in listing
    assert "Delvis uppnått" in listing and "Pågår" in listing
    assert "Bättre än förut." in listing
    case = fetch_case(world.case)
    assert case.stage == Stage.UPPFOLJNING
    assert case.next_due_on == TODAY + timedelta(days=90)
    db.session.rollback()

    later = TODAY + timedelta(days=180)
    second = client.post(
        world.url("/follow-ups/new"),
        data=follow_up_form(
            **{"evaluations-0-outcome": Outcome.UPPNATT.value, "next_follow_up_on": later}
        ),
    )
    assert second.status_code == 302
    case = fetch_case(world.case)
    assert case.stage == Stage.UPPFOLJNING
    assert case.next_due_on == later
    assert len(case.follow_ups) == 2
    assert "Uppnått" in text(client.get(world.url("/follow-ups")))
    db.session.rollback()


def test_a_follow_up_needs_the_next_date(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    establish_by_service(world)
    page = client.post(world.url("/follow-ups/new"), data=follow_up_form(next_follow_up_on=""))
    assert page.status_code == 422
    html = text(page)
    assert "Ange datum för nästa uppföljning" in html
    assert "Bättre än förut." in html and "Sömnen är bättre." in html
    assert db.session.scalar(select(func.count(FollowUp.id))) == 0
    assert fetch_case(world.case).stage == Stage.PLAN_FASTSTALLD
    db.session.rollback()


def test_every_row_needs_an_outcome(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    establish_by_service(world)
    page = client.post(
        world.url("/follow-ups/new"), data=follow_up_form(**{"evaluations-1-outcome": ""})
    )
    assert page.status_code == 422
    assert "Välj en bedömning." in text(page)
    assert db.session.scalar(select(func.count(FollowUp.id))) == 0


def test_a_follow_up_of_a_replaced_version_is_refused(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    establish_by_service(world)
    form = follow_up_form()
    establish_by_service(world, goals=["Ett nytt mål."])  # version 2, meanwhile
    page = client.post(world.url("/follow-ups/new"), data=form)
    assert page.status_code == 409  # a stale form, as for every versioned record
    html = text(page)
    assert "Planen har fastställts i en ny version (2)" in html
    assert "Mål: Jag vill bo kvar hemma." in html  # the rows still show what was evaluated
    assert "Bättre än förut." in html
    assert db.session.scalar(select(func.count(FollowUp.id))) == 0


def test_no_follow_up_before_the_plan_is_established(make: Factory, client: FlaskClient) -> None:
    world = build(make, client)
    page = client.get(world.url("/follow-ups/new"))
    assert page.status_code == 200
    assert "Planen måste vara fastställd innan den kan följas upp." in text(page)
    listing = text(client.get(world.url("/follow-ups")))
    assert "Planen har inte följts upp än." in listing
    assert "Registrera en uppföljning" not in listing
