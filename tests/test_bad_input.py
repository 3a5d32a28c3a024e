"""Malformed input to the web pages: a clear 4xx, never a 500; and the HTTP defences."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from sip_tracker.auth.models import Role
from sip_tracker.config import ConfigError, load_config
from sip_tracker.db import db
from tests.factories import login
from tests.test_meetings import SUMMER_START_UTC
from tests.test_meetings import build as build_meeting

# Past PostgreSQL's integer (2^31 - 1) and past SQLite's (2^63 - 1): both answered 500.
TOO_BIG = (2**31, 2**63, 10**30)


def id_routes(app: Flask) -> list[tuple[str, list[str], list[str]]]:
    """(rule, methods, int arguments) of every route with an integer id in its path."""
    found = []
    for rule in app.url_map.iter_rules():
        ints = [
            name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)
        ]
        if ints:
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            found.append((rule.rule, methods, ints))
    return found


def fill(rule: str, value: int) -> str:
    """The rule's path with every argument replaced: ids by value, the rest by a valid word."""
    path = rule
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        argument = path[start + 1 : end]
        word = str(value) if argument.startswith("int:") else "close"
        path = path[:start] + word + path[end + 1 :]
    return path


def test_the_routes_with_ids_are_the_ones_expected(app):
    # The walk below covers these; a new id route joins it by itself.
    assert len(id_routes(app)) >= 25


@pytest.mark.parametrize("too_big", TOO_BIG)
def test_an_id_beyond_the_database_integer_range_is_404_on_every_route(app, client, make, too_big):
    admin = make.user(role=Role.ADMINISTRATOR)
    make.commit()
    login(client, admin)
    answers = {}
    for rule, methods, _ in id_routes(app):
        for method in methods:
            response = client.open(fill(rule, too_big), method=method)
            answers[(method, rule)] = response.status_code
    assert {key: status for key, status in answers.items() if status != 404} == {}


def test_the_largest_id_the_database_holds_is_still_routed(client, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    make.commit()
    login(client, admin)
    assert client.get(f"/admin/users/{2**31 - 1}").status_code == 404  # looked up, not there
    assert client.get(f"/admin/users/{admin.id}").status_code == 200


def test_integer_query_arguments_out_of_range_are_not_errors(client, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    make.commit()
    login(client, admin)
    for path in (
        f"/handlingsplan?year={10**30}",
        f"/handlingsplan/inriktningar/ny?malomrade={2**63}",
        f"/admin/units/new?huvudman={2**63}",
        f"/?page={10**30}",
    ):
        assert client.get(path).status_code < 500, path


# --- NUL characters -----------------------------------------------------------------------


@pytest.fixture
def coordinator_client(client, make):
    user = make.user()
    make.commit()
    return login(client, user)


def assert_refused_for_nul(response) -> None:
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Felaktig begäran" in text
    assert "NUL" in text  # says what was wrong, in Swedish
    assert response.mimetype == "text/html"


def test_a_nul_in_a_query_string_is_400_with_a_swedish_page(coordinator_client):
    assert_refused_for_nul(coordinator_client.get("/?q=Karin%00"))
    assert_refused_for_nul(coordinator_client.get("/admin/audit/?personnummer=%00"))


def test_a_nul_in_a_form_field_is_400_and_nothing_is_saved(coordinator_client, make):
    from sip_tracker.people.models import Person

    before = db.session.query(Person).count()
    response = coordinator_client.post(
        "/cases/new",
        data={"identifier": "19500101-0003", "given_name": "Ka\x00rin", "family_name": "N"},
    )
    assert_refused_for_nul(response)
    db.session.expire_all()
    assert db.session.query(Person).count() == before


def test_a_nul_in_a_path_or_a_header_is_400(coordinator_client):
    assert_refused_for_nul(coordinator_client.get("/handlingsplan/aktiviteter/x%00y"))
    assert_refused_for_nul(coordinator_client.get("/", headers={"Accept-Language": "sv\x00"}))


def test_the_nul_page_is_english_for_an_english_user(coordinator_client):
    response = coordinator_client.get("/?lang=en&q=%00")
    assert response.status_code == 400
    assert "Bad request" in response.get_data(as_text=True)


# --- Size ---------------------------------------------------------------------------------


def test_a_form_body_over_the_limit_is_413_with_a_swedish_page(app, coordinator_client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = coordinator_client.post("/cases/new", data={"need_description": "x" * (limit + 1)})
    assert response.status_code == 413
    assert "för stor" in response.get_data(as_text=True)


# --- Headers ------------------------------------------------------------------------------


def test_no_hsts_over_plain_http_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_when_the_request_came_over_https(client):
    response = client.get("/login", base_url="https://sip.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    max_age = int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600


def test_hsts_on_every_answer_in_production(app, client, monkeypatch):
    # Behind a proxy that ends TLS the request may look like plain HTTP: production says it all.
    monkeypatch.setitem(app.config, "HSTS", True)
    assert "Strict-Transport-Security" in client.get("/login").headers
    assert "Strict-Transport-Security" in client.get("/healthz").headers


def test_downloads_with_personal_data_are_never_stored(make, client):
    world = build_meeting(make, client, starts_at=SUMMER_START_UTC, sent=True)
    ics = client.get(world.url("/kallelse.ics"))
    assert ics.status_code == 200
    assert ics.headers["Cache-Control"] == "no-store"
    csv = client.get("/indicators.csv")
    assert csv.status_code == 200
    assert csv.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


# --- Configuration ------------------------------------------------------------------------


def test_the_size_limits_default_to_a_megabyte_for_forms_and_ten_for_fhir(tmp_path, monkeypatch):
    monkeypatch.delenv("SIP_MAX_CONTENT_LENGTH", raising=False)
    monkeypatch.delenv("SIP_FHIR_MAX_CONTENT_LENGTH", raising=False)
    config = load_config(str(tmp_path))
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert config["FHIR_MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    monkeypatch.setenv("SIP_FHIR_MAX_CONTENT_LENGTH", "52428800")
    assert load_config(str(tmp_path))["FHIR_MAX_CONTENT_LENGTH"] == 50 * 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-1", "10MB", "1e6", "", "١٠"])
def test_a_size_limit_that_is_not_a_number_of_bytes_stops_the_start(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SIP_FHIR_MAX_CONTENT_LENGTH", value)
    with pytest.raises(ConfigError, match="SIP_FHIR_MAX_CONTENT_LENGTH must be a number of bytes"):
        load_config(str(tmp_path))


def test_hsts_is_on_in_production_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("SIP_ENV", "production")
    assert load_config(str(tmp_path))["HSTS"] is True
    monkeypatch.setenv("SIP_ENV", "development")
    assert load_config(str(tmp_path))["HSTS"] is False


# --- Filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/?stage=%20",
        "/?sakomrade=%20",
        "/?kommun=%20",
        "/?activity=%20&malomrade=%20",
        "/?due=%20&status=%20",
        "/indicators?period=%20",
        "/indicators?by=%20",
        "/indicators?indicator=%20",
        "/indicators.csv?by=%20&period=%20",
    ],
)
def test_a_blank_in_a_filter_is_a_refused_choice_not_an_error(coordinator_client, path):
    # WTForms' Optional() took " " as empty and dropped the "not a valid choice" with it.
    response = coordinator_client.get(path)
    assert response.status_code in (200, 422)
