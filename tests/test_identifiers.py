"""Personnummer and samordningsnummer: every written form, and a clear message when wrong."""

from datetime import date

import pytest

from sip_tracker.people.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    format_identifier,
    parse_identifier,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "written",
    ["19121212-1212", "191212121212", "121212+1212", "19121212 1212", "19121212+1212"],
)
def test_the_same_centenarian_in_every_written_form(written):
    parsed = parse_identifier(written, TODAY)
    assert parsed.digits == "191212121212"
    assert parsed.birth_date == date(1912, 12, 12)
    assert parsed.kind == IdentifierKind.PERSONNUMMER


def test_ten_digits_without_plus_mean_the_latest_century():
    assert parse_identifier("121212-1212", TODAY).digits == "201212121212"
    assert parse_identifier("1212121212", TODAY).digits == "201212121212"


def test_plus_means_a_hundred_years_more():
    assert parse_identifier("121212+1212", TODAY).birth_date.year == 1912


def test_a_ten_digit_number_from_later_this_century_is_taken_as_last_century():
    # Born 1990: "90" is after "26", so the latest year ending in 90 is 1990.
    assert parse_identifier("900621-4432", TODAY).birth_date == date(1990, 6, 21)


def test_samordningsnummer_adds_sixty_to_the_day():
    parsed = parse_identifier("701063-2391", TODAY)
    assert parsed.kind == IdentifierKind.SAMORDNINGSNUMMER
    assert parsed.birth_date == date(1970, 10, 3)
    assert parsed.digits == "197010632391"


def test_wrong_check_digit_says_which_digit_it_should_be():
    with pytest.raises(InvalidIdentifier) as error:
        parse_identifier("19121212-1213", TODAY)
    assert "Kontrollsiffran" in str(error.value)
    assert "borde vara 2" in str(error.value)


def test_impossible_date_is_named():
    with pytest.raises(InvalidIdentifier) as error:
        parse_identifier("19901340-1234", TODAY)
    assert "Datumdelen (901340)" in str(error.value)


def test_day_over_sixty_that_is_no_date_mentions_samordningsnummer():
    with pytest.raises(InvalidIdentifier) as error:
        parse_identifier("700195-1234", TODAY)
    assert "samordningsnummer" in str(error.value)


@pytest.mark.parametrize("written", ["abc", "12345", "19121212-12121", "1912-1212-1212"])
def test_wrong_shape_explains_the_forms_accepted(written):
    with pytest.raises(InvalidIdentifier) as error:
        parse_identifier(written, TODAY)
    assert "ÅÅMMDD-NNNN" in str(error.value)


def test_empty_asks_for_a_number():
    with pytest.raises(InvalidIdentifier, match="Ange"):
        parse_identifier("  ", TODAY)


def test_birth_in_the_future_is_refused():
    with pytest.raises(InvalidIdentifier, match="framtiden"):
        parse_identifier("20291212-1212", TODAY)


def test_stored_digits_are_shown_with_a_hyphen():
    assert format_identifier("191212121212") == "19121212-1212"
