"""Logging in and out."""

from __future__ import annotations

import re

import pytest
from flask import g

from sip_tracker.auth.models import Role
from sip_tracker.auth.views import safe_next
from tests.factories import PASSWORD, login


def forget_cached_user() -> None:
    """Make the next request find its user from the session cookie.

    The tests keep one app context open, so Flask-Login's per-request cache in g would
    otherwise carry the previous request's user into the next one.
    """
    g.pop("_login_user", None)


def _post_login(client, email, password=PASSWORD, next_=None):
    forget_cached_user()
    url = "/login" if next_ is None else f"/login?next={next_}"
    return client.post(url, data={"email": email, "password": password})


def _signed_in(client) -> bool:
    """An authenticated non-admin gets 403 from an admin page; a visitor is sent to log in."""
    forget_cached_user()
    return client.get("/admin/users").status_code == 403


def test_login_with_the_right_password_goes_to_idag(client, make):
    user = make.user()
    make.commit()

    response = _post_login(client, user.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/idag"
    assert _signed_in(client)


def test_the_email_is_not_case_sensitive(client, make):
    make.user(email="karin.berg@test.example")
    make.commit()

    assert _post_login(client, "  Karin.Berg@TEST.example ").status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize("wrong", ["password", "email"])
def test_wrong_password_or_email_is_refused_with_the_same_message(client, make, wrong):
    user = make.user()
    make.commit()
    email = "nobody@test.example" if wrong == "email" else user.email
    password = "fel-losenord-123" if wrong == "password" else PASSWORD

    response = _post_login(client, email, password)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fel e-postadress eller lösenord." in html
    assert f'value="{email}"' in html  # the email stays, the password does not
    assert PASSWORD not in html
    assert not _signed_in(client)


def test_an_empty_form_says_what_is_missing(client):
    response = client.post("/login", data={"email": "", "password": ""})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ange din e-postadress." in html
    assert "Ange ditt lösenord." in html


def test_an_inactive_account_cannot_log_in(client, make):
    user = make.user(active=False)
    make.commit()

    response = _post_login(client, user.email)

    assert response.status_code == 422
    assert "Kontot är avstängt" in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_an_account_switched_off_during_a_session_is_signed_out(client, make):
    user = make.user()
    make.commit()
    login(client, user)
    assert _signed_in(client)

    user.active = False
    make.commit()

    forget_cached_user()
    assert client.get("/admin/users").status_code == 302


def test_a_page_that_needs_login_sends_the_visitor_to_login_and_back(client, make):
    user = make.user(role=Role.ADMINISTRATOR)
    make.commit()

    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    login_page = client.get(response.headers["Location"])
    assert "Logga in för att fortsätta." in login_page.get_data(as_text=True)

    forget_cached_user()
    response = client.post(
        response.headers["Location"], data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/users"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_off_the_site(client, make, target):
    user = make.user()
    make.commit()

    response = _post_login(client, user.email, next_=target)

    assert response.headers["Location"] == "/idag"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cases/12?tab=plan", "/cases/12?tab=plan"),
        ("/", "/"),
        (None, None),
        ("", None),
        ("cases/12", None),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("/\t/evil.example", None),
        ("https://evil.example/cases", None),
    ],
)
def test_safe_next_keeps_only_paths_on_this_site(target, expected):
    assert safe_next(target) == expected


def test_a_signed_in_user_visiting_login_goes_to_idag(client, make):
    login(client, make.user())
    make.commit()

    forget_cached_user()
    response = client.get("/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/idag"


def test_logout_signs_out(client, make):
    user = make.user()
    make.commit()
    login(client, user)

    forget_cached_user()
    response = client.post("/logout", follow_redirects=True)

    assert response.request.path == "/login"
    assert "Du är utloggad." in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_logout_is_not_a_link(client, make):
    login(client, make.user())
    make.commit()

    assert client.get("/logout").status_code == 405
    assert _signed_in(client)


def test_logout_needs_the_csrf_token(app, client, make, monkeypatch):
    admin = make.user(role=Role.ADMINISTRATOR)
    make.commit()
    login(client, admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    assert client.post("/logout").status_code == 400
    forget_cached_user()
    assert client.get("/admin/users").status_code == 200  # still signed in

    html = client.get("/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    response = client.post("/logout", data={"csrf_token": token.group(1)})
    assert response.status_code == 302
    forget_cached_user()
    assert client.get("/admin/users").status_code == 302


def test_repeated_failed_logins_lock_the_sign_in_for_a_while(client, make):
    user = make.user()
    make.commit()
    for _ in range(5):
        wrong = client.post("/login", data={"email": user.email, "password": "fel-losenord"})
        assert wrong.status_code == 422
    blocked = client.post("/login", data={"email": user.email, "password": "fel-losenord"})
    assert blocked.status_code == 429
    assert "Inloggningen är spärrad i 15 minuter" in blocked.get_data(as_text=True)
    # Reading the login page stays possible.
    assert client.get("/login").status_code == 200
