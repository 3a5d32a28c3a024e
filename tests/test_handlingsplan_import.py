"""`flask import-activities FILE`: the shipped plan, a new year's list, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from sip_tracker.db import db
from sip_tracker.handlingsplan.models import (
    Activity,
    ActivityStatus,
    Malomrade,
    PlanSakomrade,
    StrategiskInriktning,
)

SHIPPED = Path(__file__).parent.parent / "sip_tracker/handlingsplan/data/handlingsplan.yaml"


def run(app: Flask, path: Path | str) -> Result:
    return app.test_cli_runner().invoke(args=["import-activities", str(path)])


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Malomrade, StrategiskInriktning, PlanSakomrade, Activity)
        }


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_plan_holds_what_the_sources_state(app):
    result = run(app, SHIPPED)

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("12 poster, varav 12 nya, 0 ändrade och 0 oförändrade.")
    with app.app_context():
        malomraden = [
            m.title for m in db.session.scalars(select(Malomrade).order_by(Malomrade.position))
        ]
        assert malomraden == [
            "Sömlös vård och omsorg",
            "Personcentrerad vård och omsorg",
            "Jämlik tillgång till vård och omsorg",
            "Kostnadseffektiv vård och omsorg",
            "Befolkningens hälsa ska förbättras",
        ]
        # The 18 strategiska inriktningar are not named in the sources: none are invented.
        assert db.session.scalar(select(func.count()).select_from(StrategiskInriktning)) == 0
        codes = set(db.session.scalars(select(PlanSakomrade.code)))
        # The four a case can fall in keep the case's codes, so links and filters meet.
        assert codes == {
            "barn_unga",
            "psykisk_ohalsa_beroende",
            "funktionsnedsattning",
            "aldre",
            "digitalisering",
        }
        activities = {a.identifier: a for a in db.session.scalars(select(Activity))}
        assert set(activities) == {"2024-sip-lifecare-sp", "2024-uppfoljning-indikatorer"}
        sip = activities["2024-sip-lifecare-sp"]
        assert "Lifecare SP" in sip.description and sip.years == "2024"
        assert sip.status == ActivityStatus.BESLUTAD
        assert sip.malomraden == [] and sip.sakomraden == [] and sip.responsible_group is None


def test_loading_twice_changes_nothing(app):
    run(app, SHIPPED)
    with app.app_context():
        stamp = db.session.scalar(
            select(Activity.updated_at).where(Activity.identifier == "2024-sip-lifecare-sp")
        )
    again = run(app, SHIPPED)

    assert again.exit_code == 0
    assert again.output.strip().endswith("12 poster, varav 0 nya, 0 ändrade och 12 oförändrade.")
    assert counts(app) == {
        "Malomrade": 5,
        "StrategiskInriktning": 0,
        "PlanSakomrade": 5,
        "Activity": 2,
    }
    with app.app_context():
        assert (
            db.session.scalar(
                select(Activity.updated_at).where(Activity.identifier == "2024-sip-lifecare-sp")
            )
            == stamp
        )


def test_a_new_years_list_adds_and_updates_by_identifier(app, tmp_path):
    run(app, SHIPPED)
    path = write(
        tmp_path,
        "2025.yaml",
        """
strategiska_inriktningar:
  - code: somlos-1
    malomrade: somlos
    title: En inriktning som en administratör lägger till
activities:
  - identifier: 2024-sip-lifecare-sp
    years: 2024-2025
    title: SIP och Lifecare SP på regional nivå
    description: Fortsätter 2025.
    malomraden: [somlos]
    sakomraden: [aldre, digitalisering]
    responsible_group: Samrådsgrupp äldres hälsa
    status: pagaende
  - identifier: 2025-ny
    years: [2025, 2026]
    title: En ny aktivitet
""",
    )
    result = run(app, path)

    assert result.exit_code == 0, result.output
    assert "3 poster, varav 2 nya, 1 ändrade och 0 oförändrade." in result.output
    with app.app_context():
        sip = db.session.scalar(
            select(Activity).where(Activity.identifier == "2024-sip-lifecare-sp")
        )
        assert (sip.year_from, sip.year_to, sip.status) == (2024, 2025, ActivityStatus.PAGAENDE)
        assert [m.code for m in sip.malomraden] == ["somlos"]
        assert {s.code for s in sip.sakomraden} == {"aldre", "digitalisering"}
        new = db.session.scalar(select(Activity).where(Activity.identifier == "2025-ny"))
        assert new.years == "2025–2026" and new.status == ActivityStatus.BESLUTAD
    assert counts(app)["StrategiskInriktning"] == 1


def test_a_csv_list_loads_too(app, tmp_path):
    run(app, SHIPPED)
    path = write(
        tmp_path,
        "2025.csv",
        "identifier;years;title;description;malomraden;sakomraden;responsible_group;status\n"
        '2025-csv;2025;Från ett kalkylark;"Två rader;\nmed semikolon";'
        "somlos|jamlik;barn_unga;;planerad\n",
    )
    result = run(app, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.identifier == "2025-csv"))
        assert activity.description == "Två rader;\nmed semikolon"
        assert {m.code for m in activity.malomraden} == {"somlos", "jamlik"}
        assert activity.status == ActivityStatus.PLANERAD


BAD_YAML = """activities:
  - identifier: 2025-ok
    years: 2025
    title: Den här raden är bra
  - identifier: 2025-b
    years: 2026-2025
    title: Åren i fel ordning
    malomraden: [finns-inte]
  - identifier: "fel id"
    years: 2025
    title: ""
    status: klar
  - identifier: 2025-ok
    years: 2025
    title: Samma id igen
    typo: 1
"""


def test_a_bad_file_loads_nothing_and_names_each_bad_row(app, tmp_path):
    run(app, SHIPPED)
    before = counts(app)
    result = run(app, write(tmp_path, "bad.yaml", BAD_YAML))

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Rad 5: ") and "fel ordning" not in lines[0]
    assert "det sista året kommer före det första" in lines[0]
    assert "okänt målområde ”finns-inte”" in lines[0]
    assert lines[1].startswith("Rad 9: ")
    assert "title saknas" in lines[1] and "status ”klar” finns inte" in lines[1]
    assert lines[2].startswith("Rad 13: ")
    assert "okänd nyckel typo" in lines[2] and "finns redan på rad 2" in lines[2]
    assert lines[3].startswith("Inget lästes in")
    assert len(lines) == 4
    assert counts(app) == before  # not even the good row


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("syntax.yaml", "activities: [\n", "Rad 2: filen är inte giltig YAML"),
        ("list.yaml", "- a\n- b\n", "Filen ska innehålla avsnitten"),
        ("section.yaml", "aktiviteter: []\n", "Okänt avsnitt i filen: aktiviteter"),
        ("plan.txt", "x", "Ange en fil som slutar på .yaml, .yml eller .csv."),
        ("header.csv", "id;år\n1;2025\n", "Rad 1: kolumnerna ska heta"),
        (
            "bad.csv",
            "identifier;years;title\n2025-a;2025;Bra\n2025-b;tjugo;Fel\n",
            "Rad 3: years ska vara",
        ),
        (
            "short.csv",
            "identifier;years;title\n2025-a;2025\n",
            "Rad 2: 2 kolumner, men rubriken har 3.",
        ),
    ],
)
def test_bad_files_are_refused_with_a_readable_line(app, tmp_path, name, text, message):
    result = run(app, write(tmp_path, name, text))

    assert result.exit_code != 0
    assert message in result.output
    assert counts(app)["Activity"] == 0


def test_a_missing_file(app, tmp_path):
    result = run(app, tmp_path / "finns-inte.yaml")

    assert result.exit_code != 0
    assert "finns inte" in result.output
