"""FHIR search parameters, parsed strictly: an unknown or malformed parameter is an error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_

from sip_tracker.clock import STOCKHOLM
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import StoredResource
from sip_tracker.fhir.outcomes import FhirError

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
# Parameters every search understands; each type adds its own below.
COMMON = {"_id", "_lastUpdated", "_count", "_offset", "_format", "_include", "_summary"}
BY_TYPE: dict[str, set[str]] = {
    "CarePlan": {"patient", "patient.identifier", "subject", "status", "category", "date"},
    "Patient": {"identifier"},
}
INCLUDES = {
    "CarePlan:care-team": "careTeam",
    "CarePlan:goal": "goal",
    "CarePlan:subject": "subject",
    "CarePlan:patient": "subject",
    "CarePlan:activity-reference": "activity",
}
MAX_COUNT = 100
DEFAULT_COUNT = 20


@dataclass
class DateBound:
    prefix: str
    start: datetime  # first instant the value covers
    end: datetime  # first instant after it


@dataclass
class Search:
    resource_type: str
    count: int = DEFAULT_COUNT
    offset: int = 0
    ids: list[str] = field(default_factory=list)
    last_updated: list[DateBound] = field(default_factory=list)
    dates: list[DateBound] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    patient_ids: list[str] = field(default_factory=list)
    identifiers: list[tuple[str | None, str]] = field(default_factory=list)
    patient_identifiers: list[tuple[str | None, str]] = field(default_factory=list)
    categories: list[tuple[str | None, str]] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)


def _local(year: int, month: int = 1, day: int = 1) -> datetime:
    """Midnight in Stockholm, as UTC: a date without a time zone is the server's (FHIR R4
    search, date: "the server's local time zone should be assumed")."""
    return datetime(year, month, day, tzinfo=STOCKHOLM).astimezone(UTC)


def parse_date(text: str, name: str) -> DateBound:
    """A FHIR date search value with its precision: 2026, 2026-05, 2026-05-04, or an instant."""
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    if prefix in ("sa", "eb", "ap", "ne"):
        raise FhirError(400, f"{name}: the prefix {prefix} is not supported", code="not-supported")
    try:
        if re.fullmatch(r"\d{4}", value):
            start, end = _local(int(value)), _local(int(value) + 1)
        elif re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = map(int, value.split("-"))
            start, end = _local(year, month), _local(year + month // 12, month % 12 + 1)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            start = _local(day.year, day.month, day.day)
            after = day + timedelta(days=1)
            end = _local(after.year, after.month, after.day)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
            start = moment.astimezone(UTC)
            end = start + timedelta(seconds=1)
    except ValueError:
        raise FhirError(
            400, f"{name}: {text!r} is not a FHIR date, dateTime or instant", expression=[name]
        ) from None
    return DateBound(prefix, start, end)


def token(text: str) -> tuple[str | None, str]:
    """system|code, |code or code."""
    if "|" in text:
        system, _, code = text.partition("|")
        return (system or None), code
    return None, text


def parse(resource_type: str, args: list[tuple[str, str]]) -> Search:
    """Read the query string; report every parameter this server does not understand."""
    known = COMMON | BY_TYPE.get(resource_type, set())
    # No modifier is implemented: ignoring one (status:not=active) would answer with what
    # the token may see instead of what was asked, so each is refused by name (R4 search).
    modified = sorted({name for name, _ in args if ":" in name})
    if modified:
        raise FhirError(
            400,
            f"Search parameter modifier(s) not supported for {resource_type}: "
            f"{', '.join(modified)}. This server implements no modifiers; "
            "use the parameter without one.",
            code="not-supported",
            expression=modified,
        )
    unknown = sorted({name for name, _ in args if name not in known})
    if unknown:
        raise FhirError(
            400,
            "Unknown or unsupported search parameter(s) for "
            f"{resource_type}: {', '.join(unknown)}. Supported: {', '.join(sorted(known))}.",
            code="not-supported",
        )
    search = Search(resource_type)
    for name, value in args:
        if name == "_count":
            if not value.isdigit():
                raise FhirError(400, "_count must be a non-negative integer", expression=["_count"])
            search.count = min(int(value), MAX_COUNT)
        elif name == "_offset":
            if not value.isdigit():
                raise FhirError(
                    400, "_offset must be a non-negative integer", expression=["_offset"]
                )
            search.offset = int(value)
        elif name == "_id":
            search.ids += [v for v in value.split(",") if v]
        elif name == "_lastUpdated":
            search.last_updated.append(parse_date(value, name))
        elif name == "date":
            search.dates.append(parse_date(value, name))
        elif name == "status":
            search.statuses += value.split(",")
        elif name in ("patient", "subject"):
            for ref in value.split(","):
                search.patient_ids.append(_patient_reference(ref, name))
        elif name == "patient.identifier":
            search.patient_identifiers += [token(v) for v in value.split(",")]
        elif name == "identifier":
            search.identifiers += [token(v) for v in value.split(",")]
        elif name == "category":
            search.categories += [token(v) for v in value.split(",")]
        elif name == "_include":
            if value not in INCLUDES:
                raise FhirError(
                    400,
                    f"_include={value} is not supported; use one of {', '.join(sorted(INCLUDES))}",
                    code="not-supported",
                )
            search.includes.append(INCLUDES[value])
        elif name == "_summary" and value != "false":
            raise FhirError(400, "_summary is not supported", code="not-supported")
        elif name == "_format":
            check_format(value)
    return search


def check_format(value: str) -> None:
    """_format names JSON, or the answer is a 406."""
    if value not in ("json", "application/fhir+json", "application/json"):
        raise FhirError(406, f"_format={value}: only JSON is served", code="not-supported")


def _patient_reference(text: str, name: str) -> str:
    reference = text.rsplit("/", 2)
    logical = reference[-1]
    if len(reference) >= 2 and reference[-2] != "Patient":
        raise FhirError(400, f"{name} must reference a Patient", expression=[name])
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", logical):
        raise FhirError(400, f"{name}: {text!r} is not a Patient reference", expression=[name])
    return logical


def period_clause(
    bound: DateBound,
    start: SQLColumnExpression[datetime | None],
    end: SQLColumnExpression[datetime | None],
) -> ColumnElement[bool]:
    """Whether a period [start, end) meets the bound; a period with no end runs on."""
    open_or = end.is_(None)
    if bound.prefix == "eq":
        return and_(start < bound.end, open_or | (end > bound.start))
    if bound.prefix == "ge":
        return open_or | (end > bound.start)
    if bound.prefix == "gt":
        return open_or | (end > bound.end)
    if bound.prefix == "le":
        return start < bound.end
    return start < bound.start


def identifier_systems(system: str | None) -> list[str] | None:
    """The systems a personal identifier may be searched by, OID forms included."""
    if system is None:
        return None
    aliases = {
        systems.PERSONNUMMER_OID: systems.PERSONNUMMER,
        systems.SAMORDNINGSNUMMER_OID: systems.SAMORDNINGSNUMMER,
    }
    return [aliases.get(system, system)]


def last_updated_clause(bound: DateBound) -> ColumnElement[bool]:
    column = StoredResource.last_updated
    if bound.prefix == "eq":
        return and_(column >= bound.start, column < bound.end)
    if bound.prefix == "ge":
        return column >= bound.start
    if bound.prefix == "gt":
        return column >= bound.end
    if bound.prefix == "le":
        return column < bound.end
    return column < bound.start


def any_of(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*clauses)
