"""Swedish personal identifiers: personnummer and samordningsnummer.

People write them as YYMMDD-NNNC, YYMMDDNNNC, YYYYMMDD-NNNC or YYYYMMDDNNNC, with '+'
instead of '-' once the person has turned 100. They are stored as 12 digits. The check
digit C is the Luhn digit over the ten digits YYMMDDNNN; a samordningsnummer adds 60 to
the day of birth (Skatteverket, folkbokföringslagen 18 a §).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask_babel import gettext as _
from stdnum import luhn

from sip_tracker import clock

# ASCII digits only: \d also matches other scripts' digits (٣, ３), which int() reads but the
# Luhn check and the database's 12 digits do not.
_SHAPE = re.compile(
    r"(?P<century>[0-9]{2})?(?P<yymmdd>[0-9]{6})(?P<sep>[-+]?)(?P<serial>[0-9]{3})(?P<check>[0-9])"
)


class IdentifierKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"


class InvalidIdentifier(ValueError):
    """The text is not a valid personnummer or samordningsnummer; the message says why."""


@dataclass(frozen=True)
class PersonalIdentifier:
    digits: str  # YYYYMMDDNNNC
    kind: IdentifierKind
    birth_date: date

    def formatted(self) -> str:
        """YYYYMMDD-NNNC, the form staff read most easily."""
        return f"{self.digits[:8]}-{self.digits[8:]}"


def parse_identifier(text: str, today: date | None = None) -> PersonalIdentifier:
    """Parse a personnummer or samordningsnummer in any common written form."""
    today = today or clock.today()
    compact = re.sub(r"\s", "", text or "")
    if not compact:
        raise InvalidIdentifier(_("Ange ett personnummer eller samordningsnummer."))
    match = _SHAPE.fullmatch(compact)
    if not match:
        raise InvalidIdentifier(
            _("Numret ska skrivas som ÅÅMMDD-NNNN eller ÅÅÅÅMMDDNNNN (10 eller 12 siffror).")
        )
    yymmdd = match["yymmdd"]
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    kind = IdentifierKind.PERSONNUMMER
    if day > 60:
        kind = IdentifierKind.SAMORDNINGSNUMMER
        day -= 60
    year = _full_year(match["century"], int(yymmdd[:2]), match["sep"] == "+", today)
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIdentifier(
            _("Datumdelen (%(date)s) är inte ett giltigt datum.", date=yymmdd)
            if kind == IdentifierKind.PERSONNUMMER
            else _(
                "Datumdelen (%(date)s) är inte ett giltigt datum, inte heller med dag minus 60"
                " som i ett samordningsnummer.",
                date=yymmdd,
            )
        ) from None
    if born > today:
        raise InvalidIdentifier(_("Födelsedatumet ligger i framtiden."))
    ten = yymmdd + match["serial"] + match["check"]
    if not luhn.is_valid(ten):
        expected = luhn.calc_check_digit(ten[:-1])
        raise InvalidIdentifier(
            _(
                "Kontrollsiffran stämmer inte: sista siffran är %(given)s men borde vara"
                " %(expected)s. Kontrollera att numret är rätt skrivet.",
                given=ten[-1],
                expected=expected,
            )
        )
    digits = f"{year:04d}{yymmdd[2:]}{match['serial']}{match['check']}"
    return PersonalIdentifier(digits=digits, kind=kind, birth_date=born)


def _full_year(century: str | None, yy: int, plus: bool, today: date) -> int:
    if century is not None:
        return int(century) * 100 + yy
    # Ten digits: the most recent year ending in yy, or a century earlier with '+'.
    year = today.year - ((today.year - yy) % 100)
    if plus:
        year -= 100
    return year


def format_identifier(digits: str) -> str:
    """Show 12 stored digits as YYYYMMDD-NNNC."""
    return f"{digits[:8]}-{digits[8:]}" if len(digits) == 12 else digits
