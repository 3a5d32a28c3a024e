"""Fixtures for the FHIR API: a case shared between a kommun and the region, and tokens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from sip_tracker.db import db
from sip_tracker.fhir.tokens import issue_token
from sip_tracker.organizations.models import HuvudmanKind
from tests.factories import Factory
from tests.fhir.golden_case import Golden, build_golden_case


@dataclass
class World:
    case_id: int
    person_id: int
    identifier: str
    kommun_id: int
    region_id: int
    region_token: str
    kommun_token: str
    outsider_token: str


@pytest.fixture
def world(make: Factory) -> World:
    kommun = make.huvudman(name="Solna stad")
    region = make.huvudman(HuvudmanKind.REGION, name="Region Stockholm")
    outsider = make.huvudman(name="Täby kommun")
    kommun_unit = make.unit(kommun, name="Socialtjänsten Solna")
    region_unit = make.unit(region, name="Vårdcentral Solna", hsa_id="SE2321000016-ABCD")
    make.unit(outsider)
    coordinator = make.user(kommun_unit)
    case = make.shared_case(coordinator, region_unit)
    world = World(
        case_id=case.id,
        person_id=case.person_id,
        identifier=case.person.identifier,
        kommun_id=kommun.id,
        region_id=region.id,
        region_token=issue_token(name="Journal", huvudman=region, read=True, write=False).secret,
        kommun_token=issue_token(
            name="Verksamhetssystem", huvudman=kommun, read=True, write=True
        ).secret,
        outsider_token=issue_token(name="Annan", huvudman=outsider, read=True, write=False).secret,
    )
    make.commit()
    return world


class Api:
    """A FHIR client for tests: JSON in, parsed JSON out."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def get(self, path: str, **headers: str):  # type: ignore[no-untyped-def]
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.get(f"/fhir/{path}", headers=headers)


@pytest.fixture
def api(client: FlaskClient, world: World) -> Api:
    return Api(client, world.region_token)


@pytest.fixture
def golden(make: Factory) -> Golden:
    return build_golden_case(make)


@pytest.fixture
def kommun_token(golden: Golden) -> str:
    secret = issue_token(
        name="Verksamhetssystem", huvudman=golden.bistand.huvudman, read=True, write=True
    ).secret
    db.session.commit()
    return secret


@pytest.fixture
def region_token(golden: Golden) -> str:
    """The region's: its unit started the golden case, so it may send it as a new one."""
    secret = issue_token(
        name="Journalsystem", huvudman=golden.geriatrik.huvudman, read=True, write=True
    ).secret
    db.session.commit()
    return secret
