"""Small factories: make_*(**overrides) build valid domain objects through the services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from flask import g
from flask.testing import FlaskClient
from stdnum import luhn

from sip_tracker import clock
from sip_tracker.auth import sessions
from sip_tracker.auth.models import Role, User
from sip_tracker.auth.passwords import hash_password
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    Origin,
    ParticipantKind,
    Sakomrade,
)
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.people.models import Person
from sip_tracker.people.services import create_person

PASSWORD = "ett-bra-losenord"
_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose
_counter = itertools.count(1)


def personnummer(born: date = date(1950, 1, 1), serial: int | None = None) -> str:
    """A valid 12-digit personnummer."""
    serial = serial if serial is not None else 100 + next(_counter) % 900
    nine = f"{born:%y%m%d}{serial:03d}"
    return f"{born:%Y}{nine[2:]}{luhn.calc_check_digit(nine)}"


class Factory:
    """Builds rows in the current app context; flushes, and commits on request."""

    def huvudman(self, kind: HuvudmanKind = HuvudmanKind.KOMMUN, **overrides: Any) -> Huvudman:
        n = next(_counter)
        fields: dict[str, Any] = {
            "name": f"Kommun {n}" if kind == HuvudmanKind.KOMMUN else f"Region {n}",
            "kind": kind,
            "kommunkod": f"{n % 10000:04d}" if kind == HuvudmanKind.KOMMUN else None,
        }
        fields.update(overrides)
        huvudman = Huvudman(**fields)
        db.session.add(huvudman)
        db.session.flush()
        return huvudman

    def unit(self, huvudman: Huvudman | None = None, **overrides: Any) -> Unit:
        huvudman = huvudman or self.huvudman()
        fields: dict[str, Any] = {"name": f"Enhet {next(_counter)}", "huvudman": huvudman}
        fields.update(overrides)
        unit = Unit(**fields)
        db.session.add(unit)
        db.session.flush()
        return unit

    def user(
        self, unit: Unit | None = None, role: Role = Role.SAMORDNARE, **overrides: Any
    ) -> User:
        n = next(_counter)
        fields: dict[str, Any] = {
            "email": f"user{n}@test.example",
            "name": f"Användare {n}",
            "password_hash": _HASH,
            "role": role,
            "unit": unit or self.unit(),
        }
        fields.update(overrides)
        user = User(**fields)
        db.session.add(user)
        db.session.flush()
        return user

    def person(
        self, user: User | None = None, born: date = date(1950, 1, 1), **overrides: Any
    ) -> Person:
        fields: dict[str, Any] = {
            "identifier": personnummer(born),
            "given_name": "Karin",
            "family_name": "Nilsson",
            "phone": None,
            "email": None,
            "address": None,
        }
        fields.update(overrides)
        return create_person(user=user or self.user(), **fields)

    def case(
        self, user: User | None = None, person: Person | None = None, **overrides: Any
    ) -> SipCase:
        user = user or self.user()
        fields: dict[str, Any] = {
            "person": person or self.person(user),
            "user": user,
            "origin": Origin.ANNAN,
            "utskrivningsklar_on": None,
            "sakomraden": [Sakomrade.ALDRE],
            "need_description": "Behöver insatser från både kommun och region.",
        }
        fields.update(overrides)
        return cases.create_case(**fields)

    def shared_case(self, user: User, partner: Unit, **overrides: Any) -> SipCase:
        """A case in preparation with the partner unit invited and covered by consent."""
        case = self.case(user, **overrides)
        cases.start_preparation(case, user=user)
        cases.add_participant(case, user=user, kind=ParticipantKind.ENHET, unit=partner)
        cases.record_consent(
            case,
            user=user,
            given_by=ConsentGiver.PERSON,
            guardian=None,
            method=ConsentMethod.SKRIFTLIGT,
            given_on=clock.today() - timedelta(days=1),
            units=[user.unit, partner],
            other_organisations=None,
            exclusions=None,
        )
        return case

    def huvudansvarig(self, case: SipCase, user: User) -> None:
        cases.set_role(
            case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, unit=user.unit, person_name=user.name
        )

    def commit(self) -> None:
        db.session.commit()


def login(client: FlaskClient, user: User | int) -> FlaskClient:
    """Sign the client in as the user without the (deliberately slow) password check.

    The session is marked as the login page marks it (sessions.mark_signed_in) and stored
    in the test's open transaction, which the next request (sharing the test's app context) or
    make.commit() commits. Forget the user Flask-Login cached in that context so the next
    request loads this one.
    """
    g.pop("_login_user", None)
    account = db.session.get_one(User, user) if isinstance(user, int) else user
    with client.session_transaction() as session:
        sessions.mark_signed_in(session, account)
    return client
