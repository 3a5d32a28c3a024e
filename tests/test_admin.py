"""The administrators' pages: users and units."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from sip_tracker.auth.models import Role, User
from sip_tracker.db import db
from sip_tracker.organizations.models import HuvudmanKind, Unit
from sip_tracker.organizations.reference import load_reference_data
from tests.factories import PASSWORD, login

FORM_PAGES = [
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/units/new",
    "/admin/units/{unit}",
]
ADMIN_PAGES = ["/admin/users", "/admin/units", "/admin/audit/", *FORM_PAGES]


@pytest.fixture
def admin(make):
    return make.user(role=Role.ADMINISTRATOR, name="Ali Admin")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _log_in_with_password(app, email: str, password: str):
    """A real login in a new browser, past Flask-Login's cache in the shared app context."""
    g.pop("_login_user", None)
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": password})
    g.pop("_login_user", None)
    return response


# Who may open the admin pages ------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SAMORDNARE, Role.GRANSKARE])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_only_administrators_open_admin_pages(client, make, role, path):
    unit = make.unit()
    user = make.user(unit=unit, role=role, reviewed_units=[unit])
    make.commit()
    login(client, user)
    url = path.format(user=user.id, unit=unit.id)

    assert client.get(url).status_code == 403
    if path in FORM_PAGES:
        assert client.post(url, data={"name": "Hackad"}).status_code == 403
        assert db.session.scalar(select(User).where(User.name == "Hackad")) is None
        assert db.session.scalar(select(Unit).where(Unit.name == "Hackad")) is None


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_send_visitors_to_login(client, make, path):
    unit = make.unit()
    user = make.user(unit=unit)
    make.commit()

    response = client.get(path.format(user=user.id, unit=unit.id))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_administrators_open_every_admin_page(client, make, admin, path):
    make.commit()
    login(client, admin)

    response = client.get(path.format(user=admin.id, unit=admin.unit_id))

    assert response.status_code == 200


# Users ----------------------------------------------------------------------------


def _user_data(unit: Unit, **overrides):
    data = {
        "name": "Karin Berg",
        "email": "karin.berg@test.example",
        "role": "samordnare",
        "unit_id": str(unit.id),
        "active": "y",
        "password": "ett-nytt-losenord",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_user_list_shows_name_role_unit_and_status(client, make, admin):
    unit = make.unit(name="Vårdcentral Test")
    make.user(unit=unit, name="Stina Strand", role=Role.GRANSKARE, reviewed_units=[unit])
    make.user(unit=unit, name="Bo Ek", active=False)
    make.commit()
    login(client, admin)

    html = _html(client.get("/admin/users"))

    assert re.search(r"Stina Strand.*?Granskare \(endast läsa\).*?Vårdcentral Test", html, re.S)
    assert re.search(r"Bo Ek.*?Samordnare.*?Avstängt", html, re.S)
    assert "<caption>" in html


def test_an_administrator_creates_a_user_who_can_then_log_in(app, client, make, admin):
    unit = make.unit(name="Socialtjänsten Testby")
    make.commit()
    login(client, admin)

    response = client.post("/admin/users/new", data=_user_data(unit), follow_redirects=True)

    assert response.request.path == "/admin/users"
    assert "Användaren Karin Berg är skapad." in _html(response)
    user = db.session.scalar(select(User).where(User.email == "karin.berg@test.example"))
    assert user is not None
    assert (user.role, user.unit_id, user.active) == (Role.SAMORDNARE, unit.id, True)
    assert user.password_hash != "ett-nytt-losenord"

    login_response = _log_in_with_password(app, "karin.berg@test.example", "ett-nytt-losenord")
    assert login_response.status_code == 302


def test_a_duplicate_email_is_refused_and_the_input_kept(client, make, admin):
    unit = make.unit()
    make.user(email="karin.berg@test.example")
    make.commit()
    login(client, admin)

    response = client.post(
        "/admin/users/new",
        data=_user_data(unit, name="Karin Andra", email="Karin.Berg@test.example"),
    )

    assert response.status_code == 422
    html = _html(response)
    assert "Det finns redan en användare med e-postadressen Karin.Berg@test.example." in html
    assert 'value="Karin Andra"' in html
    assert 'value="Karin.Berg@test.example"' in html
    assert db.session.scalar(select(User).where(User.name == "Karin Andra")) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort", "Lösenordet måste ha minst 12 tecken."),
        ("1234567890", "Lösenordet måste ha minst 12 tecken."),
        ("password1234", "Lösenordet finns på listor över vanliga lösenord."),
        ("qwerty123456", "Lösenordet finns på listor över vanliga lösenord."),
        ("aaaaaaaaaaaaaaa", "det upprepar tecken eller ord"),
        ("abcdefghijklmn", "det innehåller en följd"),
        ("karinberg2024", "bygger på namnet eller e-postadressen"),
        ("siptracker2026", "bygger på namnet eller e-postadressen"),
        (None, "Ange ett lösenord för det nya kontot."),
    ],
)
def test_a_new_user_needs_a_password_that_is_hard_to_guess(client, make, admin, password, message):
    unit = make.unit()
    make.commit()
    login(client, admin)

    response = client.post("/admin/users/new", data=_user_data(unit, password=password))

    assert response.status_code == 422
    error = re.search(r'id="password-error">([^<]*)<', _html(response))  # at the field
    assert error is not None and message in error.group(1)
    assert 'value="Karin Berg"' in _html(response)  # the rest of the form is kept
    assert db.session.scalar(select(User).where(User.name == "Karin Berg")) is None


def test_an_administrator_cannot_give_an_existing_user_a_common_password(client, make, admin):
    user = make.user()
    make.commit()
    login(client, admin)
    data = {"name": user.name, "role": "samordnare", "unit_id": str(user.unit_id), "active": "y"}
    data["lock_version"] = "1"

    response = client.post(f"/admin/users/{user.id}", data={**data, "password": "password1234"})

    assert response.status_code == 422
    error = re.search(r'id="password-error">([^<]*)<', _html(response))
    assert error is not None and "vanliga lösenord" in error.group(1)


def test_a_granskare_needs_units_to_review(client, make, admin):
    unit = make.unit()
    make.commit()
    login(client, admin)

    response = client.post("/admin/users/new", data=_user_data(unit, role="granskare"))

    assert response.status_code == 422
    assert "Välj minst en enhet som granskaren ska granska." in _html(response)


def test_a_granskare_is_created_with_the_units_they_review(client, make, admin):
    home, first, second = make.unit(), make.unit(), make.unit()
    make.commit()
    login(client, admin)
    data = _user_data(home, role="granskare")
    data["reviewed_unit_ids"] = [str(first.id), str(second.id)]

    assert client.post("/admin/users/new", data=data).status_code == 302

    user = db.session.scalar(select(User).where(User.email == "karin.berg@test.example"))
    assert {u.id for u in user.reviewed_units} == {first.id, second.id}


def test_inactive_units_are_not_offered_for_new_users(client, make, admin):
    make.unit(name="Nedlagd enhet", active=False)
    make.unit(name="Öppen enhet")
    make.commit()
    login(client, admin)

    html = _html(client.get("/admin/users/new"))

    assert "Öppen enhet" in html
    assert "Nedlagd enhet" not in html
    assert "<optgroup" in html  # units are grouped by huvudman


def test_an_administrator_edits_role_unit_status_and_password(app, client, make, admin):
    old_unit, new_unit, reviewed = make.unit(), make.unit(), make.unit()
    user = make.user(unit=old_unit, name="Bo Ek")
    make.commit()
    login(client, admin)

    page = client.get(f"/admin/users/{user.id}")
    assert 'value="Bo Ek"' in _html(page)
    data = {
        "name": "Bo Eklund",
        "role": "granskare",
        "unit_id": str(new_unit.id),
        "reviewed_unit_ids": [str(reviewed.id)],
        "password": "helt-nytt-losenord",
        "lock_version": "1",
    }  # "active" left out: the box is unticked
    response = client.post(f"/admin/users/{user.id}", data=data, follow_redirects=True)

    assert "Ändringarna för Bo Eklund är sparade." in _html(response)
    db.session.refresh(user)
    assert (user.name, user.role, user.unit_id, user.active) == (
        "Bo Eklund",
        Role.GRANSKARE,
        new_unit.id,
        False,
    )
    assert [u.id for u in user.reviewed_units] == [reviewed.id]
    refused = _log_in_with_password(app, user.email, "helt-nytt-losenord")
    assert "Kontot är avstängt" in _html(refused)


def test_an_empty_password_keeps_the_old_one(app, client, make, admin):
    user = make.user()
    make.commit()
    login(client, admin)

    data = {"name": user.name, "role": "samordnare", "unit_id": str(user.unit_id)}
    data.update(active="y", password="", lock_version="1")
    assert client.post(f"/admin/users/{user.id}", data=data).status_code == 302

    assert _log_in_with_password(app, user.email, PASSWORD).status_code == 302


def test_a_short_new_password_is_refused(client, make, admin):
    user = make.user()
    make.commit()
    login(client, admin)

    data = {"name": user.name, "role": "samordnare", "unit_id": str(user.unit_id)}
    data["lock_version"] = "1"
    response = client.post(f"/admin/users/{user.id}", data={**data, "password": "kort"})

    assert response.status_code == 422
    assert "Lösenordet måste ha minst 12 tecken." in _html(response)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "samordnare", "active": "y"}, "Du kan inte ta bort din egen administratörsroll."),
        ({"role": "administrator"}, "Du kan inte stänga av ditt eget konto."),
    ],
)
def test_an_administrator_cannot_lock_themselves_out(client, make, admin, change, message):
    make.commit()
    login(client, admin)

    data = {"name": admin.name, "unit_id": str(admin.unit_id), "lock_version": "1", **change}
    response = client.post(f"/admin/users/{admin.id}", data=data)

    assert response.status_code == 422
    assert message in _html(response)
    db.session.refresh(admin)
    assert admin.role == Role.ADMINISTRATOR
    assert admin.active


def test_a_user_at_a_closed_unit_can_still_be_edited(client, make, admin):
    closed = make.unit(name="Stängd enhet", active=False)
    user = make.user(unit=closed)
    make.commit()
    login(client, admin)

    page = client.get(f"/admin/users/{user.id}")
    assert "Stängd enhet (inaktiv)" in _html(page)
    data = {"name": "Nytt Namn", "role": "samordnare", "unit_id": str(closed.id), "active": "y"}
    data["lock_version"] = "1"
    assert client.post(f"/admin/users/{user.id}", data=data).status_code == 302


def test_an_unknown_user_is_not_found(client, make, admin):
    make.commit()
    login(client, admin)

    assert client.get("/admin/users/99999").status_code == 404


# Units ----------------------------------------------------------------------------


def test_the_unit_list_shows_every_huvudman_with_kommunkod_and_units(client, make, admin):
    load_reference_data()
    make.commit()
    login(client, admin)

    html = _html(client.get("/admin/units"))

    assert "Huvudmän, 28 stycken" in html  # the 27 of Stockholm county and the admin's own
    assert re.search(r"Stockholms stad.*?0180", html, re.S)
    assert re.search(r"Nynäshamns kommun.*?0192", html, re.S)
    assert re.search(r"Vårdcentral Rinkeby.*?SE2321000016-A001.*?Aktiv", html, re.S)
    assert html.index("Region Stockholm") < html.index("Botkyrka kommun")  # the region first
    assert 'scope="col"' in html


def _unit_data(huvudman_id: int, **overrides):
    data = {
        "huvudman_id": str(huvudman_id),
        "name": "Mottagning Testby",
        "hsa_id": "SE2321000016-T001",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_administrator_creates_a_unit(client, make, admin):
    region = make.huvudman(HuvudmanKind.REGION, name="Region Test")
    make.commit()
    login(client, admin)

    response = client.post(
        "/admin/units/new", data=_unit_data(region.id, hsa_id=" SE2321000016-T001 ")
    )
    assert response.status_code == 302
    listing = _html(client.get(response.headers["Location"]))

    assert "Enheten Mottagning Testby är skapad." in listing
    assert re.search(r"Mottagning Testby.*?SE2321000016-T001", listing, re.S)
    unit = db.session.scalar(select(Unit).where(Unit.name == "Mottagning Testby"))
    assert (unit.huvudman_id, unit.hsa_id, unit.active) == (
        region.id,
        "SE2321000016-T001",
        True,
    )


def test_the_hsa_id_is_optional(client, make, admin):
    kommun = make.huvudman()
    make.commit()
    login(client, admin)

    assert client.post("/admin/units/new", data=_unit_data(kommun.id, hsa_id="")).status_code == 302

    unit = db.session.scalar(select(Unit).where(Unit.name == "Mottagning Testby"))
    assert unit.hsa_id is None


@pytest.mark.parametrize("hsa_id", ["2321000016-A1", "SE12", "SE2321000016 A001", "se-x"])
def test_a_malformed_hsa_id_is_refused_in_swedish(client, make, admin, hsa_id):
    kommun = make.huvudman()
    make.commit()
    login(client, admin)

    response = client.post("/admin/units/new", data=_unit_data(kommun.id, hsa_id=hsa_id))

    assert response.status_code == 422
    html = _html(response)
    assert "Ett HSA-id börjar med SE" in html
    assert 'value="Mottagning Testby"' in html


def test_an_hsa_id_in_use_is_refused(client, make, admin):
    kommun = make.huvudman()
    make.unit(kommun, name="Första enheten", hsa_id="SE2321000016-T001")
    make.commit()
    login(client, admin)

    response = client.post("/admin/units/new", data=_unit_data(kommun.id))

    assert response.status_code == 422
    assert "HSA-id SE2321000016-T001 används redan av Första enheten." in _html(response)


def test_two_units_of_one_huvudman_cannot_share_a_name(client, make, admin):
    kommun, other = make.huvudman(), make.huvudman()
    make.unit(kommun, name="Mottagning Testby")
    make.commit()
    login(client, admin)

    same = client.post("/admin/units/new", data=_unit_data(kommun.id, name="mottagning testby"))
    elsewhere = client.post("/admin/units/new", data=_unit_data(other.id))

    assert same.status_code == 422
    assert "har redan en enhet som heter mottagning testby" in _html(same)
    assert elsewhere.status_code == 302


def test_a_name_is_required(client, make, admin):
    kommun = make.huvudman()
    make.commit()
    login(client, admin)

    response = client.post("/admin/units/new", data=_unit_data(kommun.id, name="  "))

    assert response.status_code == 422
    assert "Ange enhetens namn." in _html(response)


def test_an_administrator_edits_and_deactivates_a_unit(client, make, admin):
    kommun, region = make.huvudman(), make.huvudman(HuvudmanKind.REGION)
    unit = make.unit(kommun, name="Gamla namnet", hsa_id="SE2321000016-T001")
    make.commit()
    login(client, admin)

    form = _html(client.get(f"/admin/units/{unit.id}"))
    assert 'value="SE2321000016-T001"' in form
    data = _unit_data(region.id, name="Nya namnet", active=None)  # keeps its own HSA-id
    data["lock_version"] = "1"
    response = client.post(f"/admin/units/{unit.id}", data=data, follow_redirects=True)

    assert "Ändringarna för Nya namnet är sparade." in _html(response)
    assert re.search(r"Nya namnet.*?Inaktiv", _html(response), re.S)
    db.session.refresh(unit)
    assert (unit.name, unit.huvudman_id, unit.active) == ("Nya namnet", region.id, False)


def test_the_new_unit_form_can_start_at_a_huvudman(client, make, admin):
    kommun = make.huvudman(name="Testby kommun")
    make.commit()
    login(client, admin)

    html = _html(client.get(f"/admin/units/new?huvudman={kommun.id}"))

    assert re.search(rf'<option selected value="{kommun.id}">Testby kommun', html) or re.search(
        rf'<option value="{kommun.id}" selected>', html
    )


def test_an_unknown_unit_is_not_found(client, make, admin):
    make.commit()
    login(client, admin)

    assert client.get("/admin/units/99999").status_code == 404
