"""Time the log review's pages over a large access log (in-process, as an administrator).

    .venv/bin/python bench/audit_review_bench.py \\
        --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Daudit_bench'
    .venv/bin/python bench/audit_review_bench.py --database-url sqlite:////tmp/audit_bench.db

It builds the schema afresh (a PostgreSQL schema of its own, or a new SQLite file), writes
one month of log rows (200,000 by default: 200 users in 20 units reading 5,000 persons'
cases; one row in ten by a unit not taking part; one person in a hundred protected; one
burst of 100 persons in ten minutes), and reports the median time of each page over five
requests. Shown, not judged: there is no target yet.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def build(database_url: str, rows: int) -> Any:
    """A fresh schema with the generated log; returns the app."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, insert, text

    from sip_tracker import create_app
    from sip_tracker.audit.models import AuditEvent
    from sip_tracker.auth.models import Role, User
    from sip_tracker.cases.models import SipCase
    from sip_tracker.db import db
    from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
    from sip_tracker.people.models import Person

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    elif "search_path%3D" in database_url:
        schema = database_url.split("search_path%3D", 1)[1].split("&", 1)[0]
        engine = create_engine(database_url.split("?", 1)[0])
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}
    )
    import sip_tracker.models  # noqa: F401

    rng = random.Random(7)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    with app.app_context():
        db.create_all()
        huvudman = Huvudman(name="Benchkommun", kind=HuvudmanKind.KOMMUN, kommunkod="9999")
        units = [Unit(name=f"Enhet {n}", huvudman=huvudman) for n in range(20)]
        db.session.add_all(units)
        db.session.flush()
        users = [
            User(
                email=f"user{n}@bench.example",
                name=f"Användare {n}",
                password_hash="x",
                role=Role.SAMORDNARE,
                unit=units[n % 20],
            )
            for n in range(200)
        ]
        admin = User(
            email="admin@bench.example",
            name="Admin",
            password_hash="x",
            role=Role.ADMINISTRATOR,
            unit=units[0],
        )
        db.session.add_all([*users, admin])
        db.session.flush()
        persons = [
            {
                "identifier": _personnummer(n),
                "identifier_kind": "personnummer",
                "given_name": "Karin",
                "family_name": f"Nilsson {n}",
                "protected_identity": n % 100 == 0,
                "created_at": start,
                "updated_at": start,
            }
            for n in range(5000)
        ]
        db.session.execute(insert(Person), persons)
        person_ids = list(db.session.scalars(text("SELECT id FROM person ORDER BY id")))
        cases = [
            {
                "person_id": pid,
                "initiating_unit_id": units[n % 20].id,
                "created_by_id": users[n % 200].id,
                "created_at": start,
                "updated_at": start,
            }
            for n, pid in enumerate(person_ids)
        ]
        db.session.execute(insert(SipCase), cases)
        case_rows = db.session.execute(
            text("SELECT id, person_id, initiating_unit_id FROM sip_case")
        ).all()
        by_unit: dict[int, list[tuple[int, int]]] = {}
        for case_id, pid, unit_id in case_rows:
            by_unit.setdefault(unit_id, []).append((case_id, pid))
        log = []
        seconds = 30 * 24 * 3600
        for _ in range(rows):
            user = rng.choice(users)
            own = rng.random() < 0.9
            pool = by_unit[user.unit_id] if own else rng.choice(list(by_unit.values()))
            case_id, pid = rng.choice(pool)
            log.append(
                {
                    "at": start + timedelta(seconds=rng.randrange(seconds)),
                    "user_id": user.id,
                    "unit_id": user.unit_id,
                    "person_id": pid,
                    "case_id": case_id,
                    "action": rng.choice(["case.read", "person.read", "case.update"]),
                }
            )
        burst = users[0]
        for n, (case_id, pid, _unit) in enumerate(rng.sample(case_rows, 100)):
            log.append(
                {
                    "at": start + timedelta(days=10, seconds=6 * n),
                    "user_id": burst.id,
                    "unit_id": burst.unit_id,
                    "person_id": pid,
                    "case_id": case_id,
                    "action": "person.read",
                }
            )
        for chunk in range(0, len(log), 10_000):
            db.session.execute(insert(AuditEvent), log[chunk : chunk + 10_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        app.config["BENCH_ADMIN"] = admin.id
        app.config["BENCH_USER"] = users[0].email
        app.config["BENCH_PERSON"] = persons[1]["identifier"]
    return app


def _personnummer(n: int) -> str:
    from stdnum import luhn

    born = date(1950, 1, 1) + timedelta(days=n // 900)
    nine = f"{born:%y%m%d}{100 + n % 900:03d}"
    return f"{born:%Y}{nine[2:]}{luhn.calc_check_digit(nine)}"


def median_ms(call: Any, times: int = 5) -> float:
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        response = call()
        spent.append(time.perf_counter() - began)
        assert response.status_code < 400, response.status_code
    return statistics.median(spent) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    began = time.perf_counter()
    app = build(args.database_url, args.rows)
    print(f"{args.rows:,} log rows written in {time.perf_counter() - began:.0f} s")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(app.config["BENCH_ADMIN"])
        session["_fresh"] = True
    month = "first_day=2024-03-01&last_day=2024-03-31"
    with app.app_context():
        from sqlalchemy import select

        from sip_tracker.auth.models import User
        from sip_tracker.db import db

        user_id = db.session.scalar(select(User.id).where(User.email == app.config["BENCH_USER"]))
    pages = {
        "log, first page, no filter": lambda: client.get("/admin/audit/"),
        "log, a month, page 20": lambda: client.get(f"/admin/audit/?{month}&page=20"),
        "log, a month, only flagged": lambda: client.get(f"/admin/audit/?{month}&only_flagged=y"),
        "log, one user, only flagged": lambda: client.get(
            f"/admin/audit/?user={user_id}&only_flagged=y"
        ),
        "sample of 50 drawn from the month": lambda: client.post(
            "/admin/audit/samples", data={"month": "2024-03", "size": "50"}
        ),
        "a person's log extract (CSV)": lambda: client.post(
            "/admin/audit/extract", data={"personnummer": app.config["BENCH_PERSON"]}
        ),
    }
    for name, call in pages.items():
        print(f"{name:40} {median_ms(call):8.0f} ms")


if __name__ == "__main__":
    main()
