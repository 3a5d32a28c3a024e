"""A SIP case from first need to first follow-up, clicked through in a real Chromium.

Controls are found by their labels and roles, so the test also checks that they are labelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from sip_tracker.i18n import STOCKHOLM
from sip_tracker.organizations.models import HuvudmanKind
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/e2e-case.png")
PERSON = "Tolvan Tolvansson"


@dataclass(frozen=True)
class Staff:
    """The signed-in samordnare's login and the two units taking part, by name."""

    email: str
    name: str
    own_unit: str
    own_huvudman: str
    partner_unit: str
    partner_huvudman: str


@pytest.fixture
def staff(app: Flask) -> Staff:
    """A samordnare in a kommun's unit, and a region's unit to work with (committed)."""
    with app.app_context():
        make = Factory()
        kommun = make.huvudman(HuvudmanKind.KOMMUN, name="Testkommun")
        region = make.huvudman(HuvudmanKind.REGION, name="Region Test")
        own = make.unit(kommun, name="Hemtjänst Norr")
        partner = make.unit(region, name="Vårdcentralen Söder")
        user = make.user(own, name="Sara Samordnare")
        make.commit()
        return Staff(user.email, user.name, own.name, kommun.name, partner.name, region.name)


def log_in(page: Page, staff: Staff) -> None:
    page.goto("/login")
    page.get_by_label("E-post").fill(staff.email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_text(f"{staff.name}, {staff.own_unit}")).to_be_visible()


def expect_flash(page: Page, text: str) -> None:
    expect(page.locator(".alert-success").filter(has_text=text)).to_be_visible()


def expect_stage(page: Page, stage: str) -> None:
    """On the case page: the current step of the stage list."""
    stages = page.get_by_role("navigation", name="Skeden")
    expect(stages.locator('[aria-current="step"]')).to_have_text(stage)


def test_a_case_from_need_to_follow_up(page: Page, staff: Staff) -> None:
    now = datetime.now(STOCKHOLM)
    today = now.date()
    log_in(page, staff)

    # A new case.
    page.get_by_role("link", name="Nytt ärende").click()
    page.get_by_label("Personnummer eller samordningsnummer").fill("19121212-1212")
    page.get_by_label("Förnamn").fill("Tolvan")
    page.get_by_label("Efternamn").fill("Tolvansson")
    page.get_by_label("Äldres hälsa").check()
    page.get_by_label("Beskriv behovet").fill("Behöver hemtjänst och hjälp med läkemedel.")
    page.get_by_role("button", name="Skapa ärende").click()
    expect_flash(page, "Ärendet är skapat.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(PERSON)
    expect_stage(page, "Behov identifierat")

    page.get_by_role("button", name="Starta förberedelse").click()
    expect_flash(page, "Ärendet är i förberedelse.")
    expect_stage(page, "Förberedelse")

    # The region's unit takes part.
    page.get_by_role("link", name="Välj deltagare").click()
    expect(page.get_by_label("Enhet hos kommun eller region")).to_be_checked()
    page.get_by_label("Enhet", exact=True).select_option(label=staff.partner_unit)
    page.get_by_role("button", name="Lägg till").click()
    expect_flash(page, "Deltagaren är tillagd.")
    expect(page.get_by_role("row").filter(has_text=staff.partner_unit)).to_contain_text(
        staff.partner_huvudman
    )
    page.get_by_role("link", name="Tillbaka till ärendet").click()

    # Consent covering both units.
    page.get_by_role("link", name="Registrera samtycke").first.click()
    expect(page.get_by_label("Personen själv")).to_be_checked()
    expect(page.get_by_label("Skriftligt")).to_be_checked()
    page.get_by_label("Enheter som samtycket omfattar").select_option(
        label=[staff.own_unit, staff.partner_unit]
    )
    page.get_by_role("button", name="Spara samtycke").click()
    expect_flash(page, "Samtycket är registrerat.")
    consent = page.get_by_role("region", name="Samtycke")
    expect(consent).to_contain_text(staff.own_unit)
    expect(consent).to_contain_text(staff.partner_unit)

    # A meeting a week ahead, with the partner called.
    page.get_by_role("link", name="Boka möte och skicka kallelse").click()
    expect(page.get_by_role("heading", name="Planera SIP-möte")).to_be_visible()
    page.get_by_label("Datum").fill((today + timedelta(days=7)).isoformat())
    page.get_by_label("Starttid").fill("13:30")
    page.get_by_label("Plats").fill("Storgatan 1 rum 2")
    expect(page.get_by_text("omfattas inte av samtycket")).to_have_count(0)
    page.get_by_label(staff.partner_unit).check()
    page.get_by_role("button", name="Planera mötet").click()
    expect_flash(page, "Mötet är planerat.")

    page.get_by_role("button", name="Skicka kallelse").click()
    expect_flash(page, "Kallelsen är registrerad som skickad.")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Ladda ner kallelsen (.ics)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Path(download.path()).read_text(encoding="utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert "Storgatan 1 rum 2" in calendar

    page.get_by_role("link", name=f"Tillbaka till ärendet för {PERSON}").click()
    expect_stage(page, "Kallad")
    page.get_by_role("region", name="Möten").get_by_role("link").first.click()

    # The partner answers, and the meeting is held (now: never in the future, nor before
    # the kallelse was sent).
    page.get_by_label(staff.partner_unit).select_option(label="Kommer")
    page.get_by_role("button", name="Spara svaren").click()
    expect_flash(page, "Svaren är sparade.")
    expect(page.get_by_label(staff.partner_unit)).to_have_value("kommer")

    page.get_by_role("link", name="Registrera hållet möte").click()
    held = datetime.now(STOCKHOLM)
    page.get_by_label("Datum").fill(held.date().isoformat())
    page.get_by_label("Starttid").fill(held.strftime("%H:%M"))
    page.get_by_role("group", name="Deltog personen själv?").get_by_label("Ja").check()
    expect(page.get_by_label(staff.partner_unit)).to_be_checked()
    page.get_by_label("Anteckningar från mötet").fill("Tolvan vill bo kvar hemma.")
    page.get_by_role("button", name="Registrera mötet som hållet").click()
    expect_flash(page, "Mötet är registrerat som hållet.")

    page.get_by_role("link", name=f"Tillbaka till ärendet för {PERSON}").click()
    expect_stage(page, "Möte hållet")

    # The plan, written at the meeting and established.
    page.get_by_role("link", name="Skriv och fastställ planen").click()
    expect(page.locator(".badge-stage")).to_have_text("Möte hållet")
    page.get_by_label("Mål 1", exact=True).fill("Att bo kvar hemma.")
    insats = page.get_by_role("group", name="Insats 1", exact=True)
    insats.get_by_label("Insats", exact=True).fill("Läkemedelsgenomgång")
    insats.get_by_label("Ansvarig huvudman").select_option(label=staff.partner_huvudman)
    insats.get_by_label("Ansvarig enhet").select_option(label=staff.partner_unit)
    page.get_by_label("Enhet med huvudansvar").select_option(label=staff.own_unit)
    page.get_by_label("Namn på huvudansvarig person").fill(staff.name)
    page.get_by_label("Hur planen följs upp").fill("Uppföljande SIP-möte med alla parter.")
    page.get_by_label("Datum för uppföljning").fill((today + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Spara och fastställ").click()
    expect_flash(page, "Planen är fastställd som version 1.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Samordnad individuell plan, version 1"
    )
    expect(page.get_by_role("cell", name="Läkemedelsgenomgång")).to_be_visible()

    page.get_by_role("link", name=f"Ärendet för {PERSON}").click()
    expect_stage(page, "Plan fastställd")
    plan = page.get_by_role("region", name="Planen")
    expect(plan).to_contain_text(re.compile(r"Version 1 fastställd"))
    expect(plan).to_contain_text("Att bo kvar hemma.")

    # The first follow-up: every goal and insats evaluated, and the next date set.
    page.get_by_role("link", name="Registrera uppföljning").click()
    goal = page.get_by_role("group", name="Mål: Att bo kvar hemma.")
    goal.get_by_label("Bedömning").select_option(label="Delvis uppnått")
    insats = page.get_by_role("group", name=re.compile(r"^Insats: Läkemedelsgenomgång"))
    insats.get_by_label("Bedömning").select_option(label="Uppnått")
    insats.get_by_label("Kommentar").fill("Genomförd av vårdcentralen.")
    page.get_by_label("Nästa uppföljning").fill((today + timedelta(days=180)).isoformat())
    page.get_by_role("button", name="Registrera uppföljningen").click()
    expect_flash(page, "Uppföljningen är registrerad.")
    expect(page.get_by_role("cell", name="Delvis uppnått")).to_be_visible()

    page.get_by_role("link", name=f"Ärendet för {PERSON}").click()
    expect_stage(page, "Uppföljning")
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_wrong_personnummer_is_explained_next_to_the_field(page: Page, staff: Staff) -> None:
    log_in(page, staff)
    page.get_by_role("link", name="Nytt ärende").click()
    number = page.get_by_label("Personnummer eller samordningsnummer")
    number.fill("19121212-1213")
    page.get_by_label("Förnamn").fill("Tolvan")
    page.get_by_label("Efternamn").fill("Tolvansson")
    page.get_by_label("Äldres hälsa").check()
    page.get_by_label("Beskriv behovet").fill("Behöver hemtjänst.")
    page.get_by_role("button", name="Skapa ärende").click()

    message = "Kontrollsiffran stämmer inte: sista siffran är 3 men borde vara 2."
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(re.compile(re.escape(message)))
    expect(page.get_by_role("alert")).to_contain_text("Formuläret innehåller fel")
    expect(page.get_by_role("heading", name="Nytt SIP-ärende")).to_be_visible()
