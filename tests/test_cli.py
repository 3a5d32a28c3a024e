"""The `flask` commands: success in one line, bad input in one readable line and a non-zero exit.

These tests run the commands as `flask` does, outside any request, so they use the app
fixture alone and open an app context only to prepare and check the database.
"""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from sip_tracker.auth.models import Role, User
from sip_tracker.auth.passwords import verify_password
from sip_tracker.db import db
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from tests.factories import PASSWORD


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def unit(app: Flask) -> str:
    """A unit's HSA-id, committed so the command sees it."""
    with app.app_context():
        huvudman = Huvudman(name="Region Test", kind=HuvudmanKind.REGION)
        db.session.add(Unit(huvudman=huvudman, name="Vårdcentral Test", hsa_id="SE123-TEST1"))
        db.session.add(Unit(huvudman=huvudman, name="Psykiatri Test", hsa_id="SE123-TEST2"))
        db.session.commit()
    return "SE123-TEST1"


def create_user(app: Flask, *extra: str, email: str = "karin.berg@test.example") -> Result:
    return run(
        app,
        "create-user",
        "--email",
        email,
        "--name",
        "Karin Berg",
        "--password",
        PASSWORD,
        *extra,
    )


def users(app: Flask) -> list[User]:
    with app.app_context():
        found = db.session.scalars(select(User).order_by(User.id)).all()
        for user in found:
            _ = (user.unit.name, [u.name for u in user.reviewed_units])  # load before closing
        return list(found)


# create-user ----------------------------------------------------------------------


def test_create_user_creates_an_account_that_can_log_in(app, unit):
    result = create_user(app, "--unit", unit, "--role", "administrator")

    assert result.exit_code == 0, result.output
    assert one_line(result) == "Skapade administrator karin.berg@test.example vid Vårdcentral Test."
    [user] = users(app)
    assert (user.email, user.name, user.role, user.unit.name) == (
        "karin.berg@test.example",
        "Karin Berg",
        Role.ADMINISTRATOR,
        "Vårdcentral Test",
    )
    assert verify_password(user.password_hash, PASSWORD)


def test_create_user_finds_the_unit_by_name_too(app, unit):
    result = create_user(app, "--unit", "vårdcentral test")

    assert result.exit_code == 0, result.output
    assert users(app)[0].role == Role.SAMORDNARE  # the default role


def test_create_user_gives_a_granskare_units_to_review(app, unit):
    result = create_user(
        app, "--unit", unit, "--role", "granskare", "--review-unit", "Psykiatri Test"
    )

    assert result.exit_code == 0, result.output
    assert [u.name for u in users(app)[0].reviewed_units] == ["Psykiatri Test"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--unit", "Finns inte"),
            "Error: Det finns ingen enhet med HSA-id, id eller namn ”Finns inte”.",
        ),
        (
            ("--unit", "SE123-TEST1", "--role", "granskare", "--review-unit", "Finns inte"),
            "Error: Det finns ingen enhet med HSA-id, id eller namn ”Finns inte”.",
        ),
        (
            ("--unit", "SE123-TEST1", "--role", "granskare"),
            "Error: Välj minst en enhet som granskaren ska granska.",
        ),
        (
            ("--unit", "SE123-TEST1", "--password", "kort"),
            "Error: Lösenordet måste ha minst 12 tecken.",
        ),
        (
            ("--unit", "SE123-TEST1", "--password", "1234567890"),
            "Error: Lösenordet måste ha minst 12 tecken.",
        ),
        (
            ("--unit", "SE123-TEST1", "--password", "password1234"),
            "Error: Lösenordet finns på listor över vanliga lösenord. Välj ett annat.",
        ),
    ],
)
def test_create_user_refuses_bad_input_in_one_line(app, unit, args, message):
    result = create_user(app, *args)

    assert result.exit_code != 0
    assert one_line(result) == message
    assert users(app) == []


def test_create_user_refuses_an_email_in_use(app, unit):
    assert create_user(app, "--unit", unit).exit_code == 0

    result = create_user(app, "--unit", unit, email="Karin.Berg@TEST.example")

    assert result.exit_code == 1
    assert one_line(result) == (
        "Error: Det finns redan en användare med e-postadressen Karin.Berg@TEST.example."
    )
    assert len(users(app)) == 1


def test_create_user_refuses_a_malformed_email(app, unit):
    result = create_user(app, "--unit", unit, email="karin.test.example")

    assert result.exit_code == 1
    assert one_line(result) == "Error: ”karin.test.example” är inte en giltig e-postadress."


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--unit", "SE123-TEST1", "--role", "chef"), "'chef' is not one of"),
        (("--role", "samordnare"), "Missing option '--unit'"),
        (("--unit", "SE123-TEST1", "--colour", "blå"), "No such option '--colour'"),
    ],
)
def test_create_user_reports_usage_errors_in_one_line(app, unit, args, words):
    result = create_user(app, *args)

    assert result.exit_code == 2
    assert words in one_line(result)


# seed-reference and seed-demo -----------------------------------------------------


def test_seed_reference_loads_the_region_and_the_26_kommuner_once(app):
    first = run(app, "seed-reference")

    assert first.exit_code == 0, first.output
    assert one_line(first) == "Referensdata: 27 huvudmän och 112 enheter tillagda."
    with app.app_context():
        huvudman = {h.name: h for h in db.session.scalars(select(Huvudman))}
        assert len(huvudman) == 27
        assert huvudman["Region Stockholm"].kind == HuvudmanKind.REGION
        assert huvudman["Region Stockholm"].kommunkod is None
        kommuner = [h for h in huvudman.values() if h.kind == HuvudmanKind.KOMMUN]
        assert len(kommuner) == 26
        assert huvudman["Stockholms stad"].kommunkod == "0180"
        assert huvudman["Upplands Väsby kommun"].kommunkod == "0114"
        assert huvudman["Nynäshamns kommun"].kommunkod == "0192"
        assert huvudman["Södertälje kommun"].kommunkod == "0181"
        assert all(h.kommunkod and h.kommunkod.startswith("01") for h in kommuner)
        assert len({h.kommunkod for h in kommuner}) == 26

    second = run(app, "seed-reference")

    assert second.exit_code == 0
    assert one_line(second) == "Referensdata: 0 huvudmän och 0 enheter tillagda."
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Huvudman)) == 27
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 112


def test_seed_demo_loads_once_and_then_keeps_the_data(app):
    first = run(app, "seed-demo")

    assert first.exit_code == 0, first.output
    assert one_line(first).startswith("Demodata: ")
    counts = {}
    with app.app_context():
        for model in (Huvudman, Unit, User):
            counts[model] = db.session.scalar(select(func.count()).select_from(model))
    assert counts[Huvudman] == 27 and counts[User] > 0

    second = run(app, "seed-demo")

    assert second.exit_code == 0
    assert one_line(second) == "Demodata finns redan: behölls som de är."
    with app.app_context():
        for model in (Huvudman, Unit, User):
            assert db.session.scalar(select(func.count()).select_from(model)) == counts[model]
