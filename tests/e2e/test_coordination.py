"""Coordination between a kommun and a region, clicked through in a real Chromium.

The kommun's coordinator sends the kallelse; the region's coordinator finds it in the inbox,
answers for the region's unit and writes a message asking for a kvittens; the kommun's
coordinator sees the answer, acknowledges the message, and has nothing else pending.
Controls are found by their labels and roles, so the test also checks that they are labelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from sip_tracker import clock
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import ConsentGiver, ConsentMethod, ParticipantKind
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.organizations.models import HuvudmanKind
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.e2e

PERSON = "Karin Nilsson"
KOMMUN_UNIT = "Hemtjänst Norr"
OTHER_KOMMUN_UNIT = "Socialtjänst Öst"
REGION_UNIT = "Vårdcentralen Söder"
KOMMUN_USER = "Kim Kommunsamordnare"
REGION_USER = "Rita Regionsamordnare"
ATTENDEES = "Anna Läkare, distriktsläkare"
COMMENT = "Vi tar med läkemedelslistan."
MESSAGE = "Kan ni bekräfta att hemtjänsten får läkemedelslistan före mötet?"
# What "Idag" says of a thing still to be done by someone in the case.
PENDING = ("Svara på kallelse", "Oläst meddelande", "Kvittera meddelande", "Kvittens saknas")


@dataclass(frozen=True)
class World:
    """The two coordinators' logins, the shared case and its meeting, and a case of the
    kommun's that the region does not take part in."""

    kommun_email: str
    region_email: str
    case_id: int
    meeting_id: int
    other_case_id: int


@pytest.fixture
def world(app: Flask) -> World:
    """A case started by the kommun with the region's unit (and a second kommun unit without
    accounts) taking part under consent, and a meeting planned four days ahead (committed)."""
    with app.test_request_context():
        make = Factory()
        kommun = make.huvudman(HuvudmanKind.KOMMUN, name="Testkommun")
        region = make.huvudman(HuvudmanKind.REGION, name="Region Test")
        own = make.unit(kommun, name=KOMMUN_UNIT)
        other = make.unit(kommun, name=OTHER_KOMMUN_UNIT)
        partner = make.unit(region, name=REGION_UNIT)
        coordinator = make.user(own, name=KOMMUN_USER)
        region_coordinator = make.user(partner, name=REGION_USER)

        case = make.case(coordinator)
        cases.start_preparation(case, user=coordinator)
        invited = [
            cases.add_participant(case, user=coordinator, kind=ParticipantKind.ENHET, unit=unit)
            for unit in (partner, other)
        ]
        cases.record_consent(
            case,
            user=coordinator,
            given_by=ConsentGiver.PERSON,
            guardian=None,
            method=ConsentMethod.SKRIFTLIGT,
            given_on=clock.today() - timedelta(days=1),
            units=[own, partner, other],
            other_organisations=None,
            exclusions=None,
        )
        meeting = meetings.schedule_meeting(
            case,
            user=coordinator,
            starts_at=to_utc(datetime.combine(clock.today() + timedelta(days=4), time(10))),
            duration_minutes=60,
            place="Storgatan 1 rum 2",
            video_link=None,
            participants=invited,
        )
        other_case = make.case(coordinator, person=make.person(coordinator, given_name="Olle"))
        make.commit()
        return World(
            coordinator.email,
            region_coordinator.email,
            case.id,
            meeting.id,
            other_case.id,
        )


def log_in(page: Page, email: str, name: str, unit: str) -> None:
    page.goto("/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_text(f"{name}, {unit}")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("button", name="Logga in")).to_be_visible()


def expect_flash(page: Page, text: str) -> None:
    expect(page.locator(".alert-success").filter(has_text=text)).to_be_visible()


def inbox_link(page: Page) -> Locator:
    """The header's link to the inbox; its name says how many items are unread."""
    return page.get_by_role("banner").get_by_role("link", name=re.compile(r"^Inkorg"))


def expect_unread(page: Page, count: str | None) -> None:
    """The header's inbox link names the number unread ("1 oläst"), or none when all are read.

    (Chromium puts a space before the visually hidden part of the name: "Inkorg , 1 oläst".)
    """
    name = re.compile(rf"^Inkorg\s*, {count}$" if count else r"^Inkorg$")
    expect(inbox_link(page)).to_have_accessible_name(name)


def inbox_item(page: Page, kind: str) -> Locator:
    return page.get_by_role("listitem").filter(has=page.get_by_role("link", name=kind, exact=True))


def agenda_lines(page: Page) -> Locator:
    """The lines of "Idag" about the shared case."""
    return page.locator(".agenda-item").filter(has_text=f"{PERSON}, ärende")


def answer_row(page: Page, unit: str) -> Locator:
    table = page.get_by_role("table", name="Kallade deltagare och deras svar")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=unit))


def test_kallelse_answer_and_kvittens_between_kommun_and_region(page: Page, world: World) -> None:
    today = clock.today()

    # The kommun's coordinator sends the kallelse.
    log_in(page, world.kommun_email, KOMMUN_USER, KOMMUN_UNIT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Idag")
    page.goto(f"/cases/{world.case_id}")
    page.get_by_role("region", name="Möten").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SIP-möte")
    page.get_by_role("button", name="Skicka kallelse").click()
    expect_flash(page, "Kallelsen är registrerad som skickad.")
    expect(answer_row(page, REGION_UNIT)).to_contain_text(REGION_UNIT)
    log_out(page)

    # The region's coordinator starts on "Idag", where the invitation waits for an answer.
    log_in(page, world.region_email, REGION_USER, REGION_UNIT)
    expect(page).to_have_url(re.compile(r"/idag$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Idag")
    to_answer = agenda_lines(page).filter(has_text="Svara på kallelse")
    expect(to_answer).to_have_count(1)
    expect(to_answer).to_contain_text(f"Mötet {(today + timedelta(days=4)).isoformat()}")
    expect_unread(page, "1 oläst")

    # The inbox marks the invitation unread; opening it marks it read.
    inbox_link(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inkorg")
    invitation = inbox_item(page, "Inbjudan till SIP-möte")
    expect(invitation).to_contain_text("Ny, oläst")
    expect(invitation).to_contain_text(f"{PERSON}, ärende {world.case_id}")
    expect(invitation).to_contain_text(f"{KOMMUN_USER}, {KOMMUN_UNIT}")
    invitation.get_by_role("link", name="Inbjudan till SIP-möte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbjudan till SIP-möte")
    expect(page.get_by_role("region", name="Läst av")).to_contain_text(REGION_USER)
    expect_unread(page, None)
    page.get_by_role("link", name="Tillbaka till inkorgen").click()
    expect(inbox_item(page, "Inbjudan till SIP-möte")).not_to_contain_text("Ny")

    # From the invitation to the meeting, and an answer for the region's own unit.
    inbox_item(page, "Inbjudan till SIP-möte").get_by_role("link").click()
    page.get_by_role("link", name="Till mötet").click()
    own = page.get_by_role("region", name=f"Svar från {REGION_UNIT}")
    expect(own).to_contain_text("Inte svarat")
    own.get_by_role("link", name="Svara på kallelsen").click()
    expect(page.get_by_text(f"Du svarar för {REGION_UNIT}.")).to_be_visible()
    page.get_by_label("Kommer", exact=True).check()
    page.get_by_label("Vem kommer?").fill(ATTENDEES)
    page.get_by_label("Kommentar").fill(COMMENT)
    page.get_by_role("button", name="Skicka svaret").click()
    expect_flash(page, "Ert svar är skickat till mötesledaren.")
    expect(own).to_contain_text("Kommer")
    row = answer_row(page, REGION_UNIT)
    expect(row).to_contain_text(f"av {REGION_USER}")
    expect(row).to_contain_text(f"Kommer: {ATTENDEES}")
    expect(row).to_contain_text(COMMENT)

    # Another unit's answer is not the region's to give: no control for it, nor any other.
    expect(answer_row(page, OTHER_KOMMUN_UNIT)).to_contain_text("Inte svarat")
    invited = page.get_by_role("region", name="Kallade deltagare")
    expect(invited.get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("button", name="Spara svaren")).to_have_count(0)
    # Nor may the region read a case it does not take part in.
    refused = page.request.get(f"/cases/{world.other_case_id}/messages")
    assert refused.status == 404

    # A message on the case, asking the other units for a kvittens.
    page.get_by_role("link", name=f"Tillbaka till ärendet för {PERSON}").click()
    page.get_by_role("region", name="Meddelanden").get_by_role(
        "link", name="Skriv meddelande"
    ).click()
    page.get_by_role("textbox", name="Meddelande").fill(MESSAGE)
    page.get_by_label("Be mottagarna om kvittens").check()
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect_flash(page, "Meddelandet är skickat.")
    sent = page.get_by_role("listitem").filter(has_text=MESSAGE)
    expect(sent).to_contain_text("Kvittens begärd")
    expect(sent).to_contain_text(f"{KOMMUN_UNIT}: väntar på kvittens")
    log_out(page)

    # The kommun's coordinator: the answer and the message wait in the inbox.
    log_in(page, world.kommun_email, KOMMUN_USER, KOMMUN_UNIT)
    expect(page).to_have_url(re.compile(r"/idag$"))
    expect(agenda_lines(page).filter(has_text="Oläst meddelande")).to_have_count(1)
    owed = agenda_lines(page).filter(has_text="Kvittera meddelande")
    expect(owed).to_contain_text(f"Från {REGION_UNIT} {today.isoformat()}.")
    expect_unread(page, "2 olästa")
    inbox_link(page).click()
    answer = inbox_item(page, "Svar på kallelse")
    message = inbox_item(page, "Meddelande")
    for item in (answer, message):
        expect(item).to_contain_text("Ny, oläst")
        expect(item).to_contain_text(f"{REGION_USER}, {REGION_UNIT}")

    # The answer, who gave it and when, on the meeting.
    answer.get_by_role("link").click()
    page.get_by_role("link", name="Till mötet").click()
    row = answer_row(page, REGION_UNIT)
    expect(row.get_by_role("combobox")).to_have_value("kommer")
    expect(row).to_contain_text(f"av {REGION_USER}")
    expect(row).to_contain_text(re.compile(rf"{today.isoformat()} \d\d:\d\d"))
    expect(row).to_contain_text(f"Kommer: {ATTENDEES}")
    expect(row).to_contain_text(COMMENT)
    expect_unread(page, "1 oläst")

    # The message, acknowledged with one click.
    inbox_link(page).click()
    inbox_item(page, "Meddelande").get_by_role("link").click()
    expect(page.get_by_text(MESSAGE)).to_be_visible()
    page.get_by_role("link", name="Till meddelandena i ärendet").click()
    thread = page.get_by_role("region", name="Meddelanden")
    thread.get_by_role("button", name=f"Kvittera meddelandet från {REGION_USER}").click()
    expect_flash(page, "Meddelandet är kvitterat.")
    received = page.get_by_role("listitem").filter(has_text=MESSAGE)
    expect(received).to_contain_text(f"{KOMMUN_UNIT}: ✓ kvitterat av {KOMMUN_USER}")
    expect(received.get_by_role("button", name=re.compile("^Kvittera"))).to_have_count(0)

    # Nothing else pending: no unread item, and nothing on "Idag" but the meeting itself.
    expect_unread(page, None)
    inbox_link(page).click()
    page.get_by_role("navigation", name="Visa").get_by_role("link", name="Olästa").click()
    expect(page.get_by_text("Inga händelser här.")).to_be_visible()
    page.get_by_role("link", name="Idag", exact=True).click()
    lines = agenda_lines(page)
    expect(lines.filter(has_text="SIP-möte")).to_contain_text("Storgatan 1 rum 2")
    for pending in PENDING:
        expect(lines.filter(has_text=pending)).to_have_count(0)
