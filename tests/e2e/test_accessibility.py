"""WCAG 2.1 AA, checked by axe-core in a real Chromium on the pages a coordinator uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from sip_tracker.cases.codes import Stage
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.demo import DEMO_PASSWORD, load_demo_data
from sip_tracker.i18n import STOCKHOLM
from sip_tracker.organizations.reference import load_reference_data

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules/axe-core/axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_page(browser: Browser, live_server: str) -> Iterator[Page]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: `make test` installs it with npm in tests/e2e")
    # The app's CSP rightly refuses injected scripts; the checker has to bypass it.
    context = browser.new_context(base_url=live_server, locale="sv-SE", bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def demo_cases(app: Flask) -> dict[Stage, tuple[int, str, int | None]]:
    """Per stage: a demo case id, its coordinator's email and its first meeting id."""
    with app.app_context():
        load_reference_data()
        load_demo_data()
        db.session.commit()
        found: dict[Stage, tuple[int, str, int | None]] = {}
        for case in db.session.scalars(select(SipCase).order_by(SipCase.id)):
            meeting = case.meetings[0].id if case.meetings else None
            found.setdefault(case.stage, (case.id, case.created_by.email, meeting))
        return found


def log_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url("**/idag")  # coordinators and administrators start on "Idag"


def violations(page: Page, path: str | None = None) -> list[str]:
    """axe-core's WCAG 2.1 A and AA findings on the page (after going to path, if given)."""
    if path is not None:
        response = page.goto(path)
        assert response is not None and response.ok, path
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {node['target']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def test_the_pages_of_a_case_meet_wcag_21_aa(axe_page: Page, demo_cases) -> None:
    found = violations(axe_page, "/login")
    kallad, kallad_user, meeting = demo_cases[Stage.KALLAD]
    log_in(axe_page, kallad_user)
    for path in [
        "/idag",
        "/inbox",
        "/?scope=mine",
        "/?scope=unit&due=overdue",
        f"/cases/{kallad}",
        f"/cases/{kallad}/consent",
        f"/cases/{kallad}/kartlaggning",
        f"/cases/{kallad}/participants",
        f"/cases/{kallad}/roles",
        f"/cases/{kallad}/meetings/new",
        f"/cases/{kallad}/meetings/{meeting}",
        f"/cases/{kallad}/meetings/{meeting}/held",
        "/kalender",
        "/kalender?scope=unit&view=month",
    ]:
        found += violations(axe_page, path)
    # A form with errors is where screen reader users need the most help.
    axe_page.goto("/cases/new")
    axe_page.get_by_role("button", name="Skapa ärende").click()
    axe_page.wait_for_selector("#form-errors")
    found += violations(axe_page)
    found += violations(axe_page, "/account/password")
    axe_page.get_by_role("button", name="Byt lösenord").click()
    axe_page.wait_for_selector("#form-errors")
    found += violations(axe_page)

    followed, followed_user, _ = demo_cases[Stage.UPPFOLJNING]
    log_in(axe_page, followed_user)
    for path in [
        f"/cases/{followed}",
        f"/cases/{followed}/plan",
        f"/cases/{followed}/plan/versions/1",
        f"/cases/{followed}/follow-ups/new",
        f"/cases/{followed}/follow-ups",
    ]:
        found += violations(axe_page, path)
    assert found == []


def test_the_admin_pages_meet_wcag_21_aa(axe_page: Page, demo_cases) -> None:
    log_in(axe_page, "admin@sip.example")
    found: list[str] = []
    for path in ["/admin/users", "/admin/users/new", "/admin/units"]:
        found += violations(axe_page, path)
    found += _log_review_violations(axe_page)
    assert found == []


def _log_review_violations(page: Page) -> list[str]:
    """The log review's pages, reached as an administrator reaches them, with errors shown."""
    found = violations(page, "/admin/audit/?with_log_reads=y")
    page.get_by_label("Från och med").fill("2024-03-10")
    page.get_by_label("Till och med").fill("2024-03-01")
    page.get_by_role("button", name="Visa loggen").click()
    page.wait_for_selector("#form-errors")
    found += violations(page)
    found += violations(page, "/admin/audit/samples")
    page.get_by_label("Månad").fill(datetime.now(STOCKHOLM).strftime("%Y-%m"))
    page.get_by_label("Antal händelser").fill("5")
    page.get_by_role("button", name="Dra stickprov").click()
    page.wait_for_url("**/admin/audit/samples/*")
    found += violations(page)
    page.get_by_role("link", name=re.compile("^Granska")).first.click()
    page.get_by_role("button", name="Spara granskningen").click()  # no verdict chosen
    page.wait_for_selector("#form-errors")
    found += violations(page)
    found += violations(page, "/admin/audit/extract")
    return found


def test_the_log_review_works_at_375_px(axe_page: Page, demo_cases) -> None:
    """Nothing but the log's own table scrolls sideways on a small phone."""
    axe_page.set_viewport_size({"width": 375, "height": 800})
    log_in(axe_page, "admin@sip.example")
    wide = []
    for path in ["/admin/audit/?with_log_reads=y", "/admin/audit/samples", "/admin/audit/extract"]:
        axe_page.goto(path)
        width = axe_page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide.append((path, width))
    assert wide == []


def test_the_calendar_and_the_roles_work_at_375_px(axe_page: Page, demo_cases) -> None:
    """The calendar's days and the role form fit a small phone."""
    kallad, kallad_user, _ = demo_cases[Stage.KALLAD]
    axe_page.set_viewport_size({"width": 375, "height": 800})
    log_in(axe_page, kallad_user)
    wide = []
    for path in ["/kalender", "/kalender?scope=unit&view=month", f"/cases/{kallad}/roles"]:
        axe_page.goto(path)
        width = axe_page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide.append((path, width))
    assert wide == []


def test_mina_arenden_the_case_and_its_follow_ups_work_at_375_px(
    axe_page: Page, demo_cases
) -> None:
    """Their tables scroll inside their own box; the page itself does not scroll sideways."""
    followed, followed_user, _ = demo_cases[Stage.UPPFOLJNING]
    axe_page.set_viewport_size({"width": 375, "height": 800})
    log_in(axe_page, followed_user)
    wide = []
    for path in ["/", f"/cases/{followed}", f"/cases/{followed}/follow-ups"]:
        axe_page.goto(path)
        width = axe_page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide.append((path, width))
    assert wide == []
