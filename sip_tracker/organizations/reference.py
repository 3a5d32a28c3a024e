"""Reference data: Region Stockholm and the 26 kommuner of Stockholm county.

Kommunkod from SCB's list of kommuner (län 01). Organisationsnummer only where stated
below. The units are examples for demonstration: their names describe typical units
and their HSA-ids are made up in the HSA format (SE + organisationsnummer + suffix);
they are not real units in the HSA catalogue.
"""

from __future__ import annotations

from sqlalchemy import select

from sip_tracker.db import db
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.organizations.services import add_huvudman, save_unit

REGION = ("Region Stockholm", "2321000016")

# (kommunkod, short name, the huvudman's own name)
KOMMUNER: tuple[tuple[str, str, str], ...] = (
    ("0114", "Upplands Väsby", "Upplands Väsby kommun"),
    ("0115", "Vallentuna", "Vallentuna kommun"),
    ("0117", "Österåker", "Österåkers kommun"),
    ("0120", "Värmdö", "Värmdö kommun"),
    ("0123", "Järfälla", "Järfälla kommun"),
    ("0125", "Ekerö", "Ekerö kommun"),
    ("0126", "Huddinge", "Huddinge kommun"),
    ("0127", "Botkyrka", "Botkyrka kommun"),
    ("0128", "Salem", "Salems kommun"),
    ("0136", "Haninge", "Haninge kommun"),
    ("0138", "Tyresö", "Tyresö kommun"),
    ("0139", "Upplands-Bro", "Upplands-Bro kommun"),
    ("0140", "Nykvarn", "Nykvarns kommun"),
    ("0160", "Täby", "Täby kommun"),
    ("0162", "Danderyd", "Danderyds kommun"),
    ("0163", "Sollentuna", "Sollentuna kommun"),
    ("0180", "Stockholm", "Stockholms stad"),
    ("0181", "Södertälje", "Södertälje kommun"),
    ("0182", "Nacka", "Nacka kommun"),
    ("0183", "Sundbyberg", "Sundbybergs stad"),
    ("0184", "Solna", "Solna stad"),
    ("0186", "Lidingö", "Lidingö stad"),
    ("0187", "Vaxholm", "Vaxholms stad"),
    ("0188", "Norrtälje", "Norrtälje kommun"),
    ("0191", "Sigtuna", "Sigtuna kommun"),
    ("0192", "Nynäshamn", "Nynäshamns kommun"),
)

# Only organisationsnummer we state as fact; the others stay empty until an admin adds them.
KOMMUN_ORGNR = {"0180": "2120000142"}

REGION_UNITS: tuple[tuple[str, str | None], ...] = (
    ("Vårdcentral Rinkeby", "SE2321000016-A001"),
    ("Vårdcentral Tyresö", "SE2321000016-A002"),
    ("Vårdcentral Södertälje", "SE2321000016-A003"),
    ("Psykiatrisk öppenvård Södermalm", "SE2321000016-A004"),
    ("Geriatriska kliniken Huddinge", "SE2321000016-A005"),
    ("Barn- och ungdomspsykiatri (BUP) Nacka", "SE2321000016-A006"),
    ("Habilitering Botkyrka", "SE2321000016-A007"),
    ("Akutsjukhuset, medicinavdelning 12", "SE2321000016-A008"),
)


def kommun_unit_names(name: str) -> tuple[tuple[str, bool], ...]:
    """A few typical units of a kommun: (name, whether it has an HSA-id)."""
    return (
        (f"Socialtjänsten {name}, vuxenenheten", False),
        (f"Socialtjänsten {name}, barn och unga", False),
        (f"Biståndsenheten äldreomsorg {name}", False),
        (f"Kommunal hälso- och sjukvård {name}", True),
    )


def load_reference_data() -> tuple[int, int]:
    """Insert what is missing, by name; return how many huvudmän and units were added."""
    added_huvudman = added_units = 0
    existing = {h.name: h for h in db.session.scalars(select(Huvudman))}
    known_units = {(u.huvudman_id, u.name) for u in db.session.scalars(select(Unit))}

    def ensure(name: str, kind: HuvudmanKind, kommunkod: str | None, orgnr: str | None) -> Huvudman:
        nonlocal added_huvudman
        if name not in existing:
            existing[name] = add_huvudman(name=name, kind=kind, kommunkod=kommunkod, orgnr=orgnr)
            added_huvudman += 1
        return existing[name]

    def ensure_unit(huvudman: Huvudman, name: str, hsa_id: str | None) -> None:
        nonlocal added_units
        if (huvudman.id, name) not in known_units:
            save_unit(None, huvudman=huvudman, name=name, hsa_id=hsa_id, active=True)
            known_units.add((huvudman.id, name))
            added_units += 1

    region = ensure(REGION[0], HuvudmanKind.REGION, kommunkod=None, orgnr=REGION[1])
    for name, hsa_id in REGION_UNITS:
        ensure_unit(region, name, hsa_id)
    for code, name, official in KOMMUNER:
        orgnr = KOMMUN_ORGNR.get(code)
        kommun = ensure(official, HuvudmanKind.KOMMUN, kommunkod=code, orgnr=orgnr)
        for index, (unit_name, has_hsa) in enumerate(kommun_unit_names(name), start=1):
            # An HSA-id only where we know the organisationsnummer it is built on.
            hsa = f"SE{orgnr}-K{index:03d}" if has_hsa and orgnr else None
            ensure_unit(kommun, unit_name, hsa)
    db.session.flush()
    return added_huvudman, added_units
