"""Personnummer parsing, for any text at all: a valid number that survives a round trip, or
InvalidIdentifier with a Swedish message; never another exception."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from sip_tracker.people.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    PersonalIdentifier,
    format_identifier,
    parse_identifier,
)

TODAY = date(2026, 11, 23)
EXAMPLES = 400
SWEDISH_MESSAGES = (
    "Ange ett personnummer eller samordningsnummer.",
    "Numret ska skrivas som ÅÅMMDD-NNNN eller ÅÅÅÅMMDDNNNN",
    "Datumdelen (",
    "Födelsedatumet ligger i framtiden.",
    "Kontrollsiffran stämmer inte",
)
# Decimal digits of other scripts: str.isdigit() and int() take them, a personnummer does not.
FOREIGN_DIGITS = ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९", "߀߁߂߃߄߅߆߇߈߉")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)


def check(text: str) -> PersonalIdentifier | None:
    """The property: valid and stable, or refused in Swedish."""
    try:
        parsed = parse_identifier(text, TODAY)
    except InvalidIdentifier as error:
        assert str(error).startswith(SWEDISH_MESSAGES), str(error)
        return None
    digits = parsed.digits
    assert re.fullmatch(r"[0-9]{12}", digits), digits
    assert luhn.is_valid(digits[2:])
    day = int(digits[6:8])
    samordning = day > 60
    assert parsed.kind == (
        IdentifierKind.SAMORDNINGSNUMMER if samordning else IdentifierKind.PERSONNUMMER
    )
    born = date(int(digits[:4]), int(digits[4:6]), day - 60 if samordning else day)
    assert parsed.birth_date == born <= TODAY
    assert parsed.formatted() == format_identifier(digits) == f"{digits[:8]}-{digits[8:]}"
    # Formats and re-parses to the same digits, in every form it is shown or stored in.
    assert parse_identifier(parsed.formatted(), TODAY) == parsed
    assert parse_identifier(digits, TODAY) == parsed
    return parsed


def ascii_digits(count: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=count, max_size=count)


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, the 12 digits): a real personnummer or samordningsnummer."""
    born = draw(st.dates(date(1900, 1, 1), TODAY))
    serial = draw(ascii_digits(3))
    samordning = draw(st.booleans())
    day = born.day + 60 if samordning else born.day
    nine = f"{born:%y%m}{day:02d}{serial}"
    ten = nine + luhn.calc_check_digit(nine)
    twelve = f"{born:%Y}"[:2] + ten
    forms = [twelve, f"{twelve[:8]}-{twelve[8:]}", f" {twelve[:8]} {twelve[8:]} "]
    # Ten digits name the latest year ending in YY, or the one a century before with "+".
    latest = TODAY.year - (TODAY.year - born.year % 100) % 100
    if born.year in (latest, latest - 100):
        separator = "-" if born.year == latest else "+"
        forms.append(f"{ten[:6]}{separator}{ten[6:]}")
    return draw(st.sampled_from(forms)), twelve


@st.composite
def foreign(draw: st.DrawFn) -> str:
    """A valid number with some of its digits written in another script."""
    written, _ = draw(valid_numbers())
    script = draw(st.sampled_from(FOREIGN_DIGITS))
    digits = [i for i, c in enumerate(written) if c.isdigit()]
    positions = draw(st.sets(st.sampled_from(digits), min_size=1))
    return "".join(script[int(c)] if i in positions else c for i, c in enumerate(written))


shaped = st.builds(
    lambda century, yymmdd, sep, rest: century + yymmdd + sep + rest,
    st.sampled_from(["", "19", "20", "18", "00", "99"]),
    ascii_digits(6),
    st.sampled_from(["", "-", "+", " ", "--", "\n", "\u00a0"]),
    st.one_of(ascii_digits(4), ascii_digits(3), ascii_digits(5)),
)


@SETTINGS
@given(st.text())
def test_any_text_is_a_valid_number_or_a_swedish_refusal(text: str) -> None:
    check(text)


@SETTINGS
@given(shaped)
def test_anything_shaped_like_a_number_is_a_valid_number_or_a_swedish_refusal(text: str) -> None:
    check(text)


@SETTINGS
@given(valid_numbers())
def test_every_valid_number_parses_to_its_twelve_digits(number: tuple[str, str]) -> None:
    written, twelve = number
    parsed = check(written)
    assert parsed is not None, written
    assert parsed.digits == twelve


@SETTINGS
@given(foreign())
def test_digits_of_other_scripts_are_refused_in_swedish(written: str) -> None:
    assert check(written) is None
