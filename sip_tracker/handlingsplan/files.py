"""Reading a plan file (YAML or CSV) into checked rows, each with the line it came from.

Pure: no database. The caller passes the codes the database already knows, so a file with
only next year's activities may refer to målområden loaded earlier. Every bad row is
reported with its line number, and one bad row rejects the whole file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _

from sip_tracker.handlingsplan.models import CODE_PATTERN, ActivityStatus

FIRST_YEAR, LAST_YEAR = 2000, 2100
TITLE_MAX = 255
YEARS_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:[-–]\s*(\d{4})\s*)?$")
LIST_SEPARATORS = re.compile(r"[,|\s]+")


class PlanFileError(Exception):
    """The file cannot be loaded; errors holds one readable line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class MalomradeRow:
    line: int
    code: str
    title: str
    description: str
    position: int


@dataclass(frozen=True)
class InriktningRow:
    line: int
    code: str
    malomrade: str
    title: str
    description: str
    position: int


@dataclass(frozen=True)
class SakomradeRow:
    line: int
    code: str
    title: str
    description: str
    position: int


@dataclass(frozen=True)
class ActivityRow:
    line: int
    identifier: str
    year_from: int
    year_to: int
    title: str
    description: str
    malomraden: tuple[str, ...]
    sakomraden: tuple[str, ...]
    responsible_group: str | None
    status: ActivityStatus


@dataclass
class PlanFile:
    malomraden: list[MalomradeRow] = field(default_factory=list)
    inriktningar: list[InriktningRow] = field(default_factory=list)
    sakomraden: list[SakomradeRow] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return (
            len(self.malomraden)
            + len(self.inriktningar)
            + len(self.sakomraden)
            + len(self.activities)
        )


SECTIONS = ("malomraden", "strategiska_inriktningar", "sakomraden", "activities")
KEYS = {
    "malomraden": ({"code", "title"}, {"description"}),
    "strategiska_inriktningar": ({"code", "malomrade", "title"}, {"description"}),
    "sakomraden": ({"code", "title"}, {"description"}),
    "activities": (
        {"identifier", "years", "title"},
        {"description", "malomraden", "sakomraden", "responsible_group", "status"},
    ),
}
CSV_COLUMNS = (
    "identifier",
    "years",
    "title",
    "description",
    "malomraden",
    "sakomraden",
    "responsible_group",
    "status",
)


class _Row(dict[str, Any]):
    """A mapping read from YAML that remembers the line it starts on."""

    line = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_row(loader: _LineLoader, node: yaml.MappingNode) -> Iterable[_Row]:
    row = _Row()
    row.line = node.start_mark.line + 1
    yield row
    row.update({str(key): value for key, value in loader.construct_mapping(node).items()})


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_row)


def read_plan_file(
    path: Path, *, known_malomraden: Iterable[str] = (), known_sakomraden: Iterable[str] = ()
) -> PlanFile:
    """Read and check a plan file; raise PlanFileError listing every bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanFileError([_("Filen %(path)s finns inte.", path=str(path))]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(
            [_("Filen %(path)s kan inte läsas: %(error)s", path=str(path), error=str(error))]
        ) from None
    if path.suffix.lower() == ".csv":
        sections = _csv_sections(text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        sections = _yaml_sections(text)
    else:
        raise PlanFileError([_("Ange en fil som slutar på .yaml, .yml eller .csv.")])
    return _check(sections, set(known_malomraden), set(known_sakomraden))


def _yaml_sections(text: str) -> dict[str, list[Any]]:
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        if mark is not None:
            message = _(
                "Rad %(line)d: filen är inte giltig YAML (%(problem)s).",
                line=mark.line + 1,
                problem=problem,
            )
        else:
            message = _("Filen är inte giltig YAML (%(problem)s).", problem=problem)
        raise PlanFileError([message]) from None
    if not isinstance(document, dict):
        raise PlanFileError(
            [_("Filen ska innehålla avsnitten %(sections)s.", sections=", ".join(SECTIONS))]
        )
    errors = []
    unknown = sorted(str(k) for k in document if k not in SECTIONS)
    if unknown:
        errors.append(
            _(
                "Okänt avsnitt i filen: %(unknown)s. Tillåtna är %(sections)s.",
                unknown=", ".join(unknown),
                sections=", ".join(SECTIONS),
            )
        )
    sections: dict[str, list[Any]] = {}
    for name in SECTIONS:
        value = document.get(name)
        if value is None:
            sections[name] = []
        elif not isinstance(value, list):
            errors.append(_("Avsnittet %(section)s ska vara en lista.", section=name))
        else:
            sections[name] = value
    if errors:
        raise PlanFileError(errors)
    return sections


def _csv_sections(text: str) -> dict[str, list[Any]]:
    """A CSV holds activities only: one per row, under a header naming the columns."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise PlanFileError([_("Filen är tom.")]) from None
    missing = [c for c in ("identifier", "years", "title") if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown:
        raise PlanFileError(
            [
                _(
                    "Rad 1: kolumnerna ska heta %(columns)s (saknas: %(missing)s;"
                    " okända: %(unknown)s).",
                    columns=", ".join(CSV_COLUMNS),
                    missing=", ".join(missing) or "–",
                    unknown=", ".join(unknown) or "–",
                )
            ]
        )
    activities: list[Any] = []
    errors: list[str] = []
    line = reader.line_num
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                errors.append(
                    _(
                        "Rad %(line)d: %(found)d kolumner, men rubriken har %(expected)d.",
                        line=start,
                        found=len(values),
                        expected=len(header),
                    )
                )
                continue
            row = _Row(zip(header, (v.strip() for v in values), strict=True))
            row.line = start
            for key in ("malomraden", "sakomraden"):
                if key in row:
                    row[key] = [c for c in LIST_SEPARATORS.split(row[key]) if c]
            for key in ("description", "responsible_group", "status"):
                if key in row and row[key] == "":
                    del row[key]
            activities.append(row)
    except csv.Error as error:
        errors.append(_("Rad %(line)d: %(error)s", line=reader.line_num, error=str(error)))
    if errors:
        raise PlanFileError(errors)
    return {
        "malomraden": [],
        "strategiska_inriktningar": [],
        "sakomraden": [],
        "activities": activities,
    }


class _Problems:
    """The problems of one row, reported as one line."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)


def _text(row: Mapping[str, Any], key: str, problems: _Problems, *, required: bool) -> str:
    value = row.get(key)
    if value is None:
        if required:
            problems.add(_("%(key)s saknas", key=key))
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.add(_("%(key)s ska vara text", key=key))
        return ""
    # Titles and names on one line; descriptions keep their paragraphs.
    text = str(value).strip() if key == "description" else " ".join(str(value).split())
    if required and not text:
        problems.add(_("%(key)s saknas", key=key))
    if key in ("title", "responsible_group") and len(text) > TITLE_MAX:
        problems.add(_("%(key)s får ha högst %(max)d tecken", key=key, max=TITLE_MAX))
    return text


def _code(row: Mapping[str, Any], key: str, problems: _Problems) -> str:
    code = _text(row, key, problems, required=True)
    if code and not re.match(CODE_PATTERN, code):
        problems.add(
            _(
                "%(key)s ”%(code)s” får bara innehålla bokstäver a–z, siffror, punkt, bindestreck"
                " och understreck (högst 64 tecken)",
                key=key,
                code=code,
            )
        )
    return code


def _codes(row: Mapping[str, Any], key: str, problems: _Problems) -> tuple[str, ...]:
    value = row.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [c for c in LIST_SEPARATORS.split(value) if c]
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        problems.add(_("%(key)s ska vara en lista med koder", key=key))
        return ()
    return tuple(dict.fromkeys(value))


def _years(value: Any, problems: _Problems) -> tuple[int, int]:
    years: list[int] = []
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        years = [value]
    elif isinstance(value, str) and (match := YEARS_PATTERN.match(value)):
        years = [int(match.group(1)), int(match.group(2) or match.group(1))]
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(y, int) and not isinstance(y, bool) for y in value)
    ):
        years = sorted(value)
        if years != list(range(years[0], years[-1] + 1)):
            problems.add(_("years ska vara ett år eller flera år i följd"))
            return 0, 0
    if not years:
        problems.add(_("years ska vara ett år (2024) eller flera år i följd (2024-2026)"))
        return 0, 0
    first, last = years[0], years[-1]
    if not (FIRST_YEAR <= first <= LAST_YEAR and FIRST_YEAR <= last <= LAST_YEAR):
        problems.add(
            _("years ska ligga mellan %(first)d och %(last)d", first=FIRST_YEAR, last=LAST_YEAR)
        )
        return 0, 0
    if last < first:
        problems.add(_("years: det sista året kommer före det första"))
        return 0, 0
    return first, last


def _check(
    sections: dict[str, list[Any]], known_malomraden: set[str], known_sakomraden: set[str]
) -> PlanFile:
    plan = PlanFile()
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}

    def rows_of(section: str) -> Iterable[tuple[int, int, _Row | None, _Problems]]:
        required, optional = KEYS[section]
        for position, item in enumerate(sections[section], start=1):
            problems = _Problems()
            if not isinstance(item, _Row):
                problems.add(
                    _("varje post i %(section)s ska ha nycklar och värden", section=section)
                )
                yield position, 0, None, problems
                continue
            unknown = sorted(str(k) for k in item if k not in required | optional)
            if unknown:
                problems.add(_("okänd nyckel %(keys)s", keys=", ".join(unknown)))
            yield position, item.line, item, problems

    def report(line: int, problems: _Problems) -> bool:
        if problems.items:
            where = _("Rad %(line)d", line=line) if line else _("En post")
            errors.append(f"{where}: {'; '.join(problems.items)}.")
            return False
        return True

    def unique(kind: str, key: str, line: int, problems: _Problems) -> None:
        if not key:
            return
        if (kind, key) in seen:
            problems.add(_("”%(key)s” finns redan på rad %(line)d", key=key, line=seen[kind, key]))
        else:
            seen[kind, key] = line

    for position, line, row, problems in rows_of("malomraden"):
        if row is not None:
            code = _code(row, "code", problems)
            unique("malomrade", code, line, problems)
            title = _text(row, "title", problems, required=True)
            description = _text(row, "description", problems, required=False)
            if report(line, problems):
                plan.malomraden.append(MalomradeRow(line, code, title, description, position))
        else:
            report(line, problems)
    malomraden = known_malomraden | {m.code for m in plan.malomraden}

    for position, line, row, problems in rows_of("strategiska_inriktningar"):
        if row is not None:
            code = _code(row, "code", problems)
            unique("inriktning", code, line, problems)
            parent = _text(row, "malomrade", problems, required=True)
            if parent and parent not in malomraden:
                problems.add(_("okänt målområde ”%(code)s”", code=parent))
            title = _text(row, "title", problems, required=True)
            description = _text(row, "description", problems, required=False)
            if report(line, problems):
                plan.inriktningar.append(
                    InriktningRow(line, code, parent, title, description, position)
                )
        else:
            report(line, problems)

    for position, line, row, problems in rows_of("sakomraden"):
        if row is not None:
            code = _code(row, "code", problems)
            unique("sakomrade", code, line, problems)
            title = _text(row, "title", problems, required=True)
            description = _text(row, "description", problems, required=False)
            if report(line, problems):
                plan.sakomraden.append(SakomradeRow(line, code, title, description, position))
        else:
            report(line, problems)
    sakomraden = known_sakomraden | {s.code for s in plan.sakomraden}

    statuses = {s.value: s for s in ActivityStatus}
    for _position, line, row, problems in rows_of("activities"):
        if row is None:
            report(line, problems)
            continue
        identifier = _code(row, "identifier", problems)
        unique("activity", identifier, line, problems)
        year_from, year_to = _years(row["years"], problems) if "years" in row else (0, 0)
        if "years" not in row:
            problems.add(_("years saknas"))
        title = _text(row, "title", problems, required=True)
        description = _text(row, "description", problems, required=False)
        linked_malomraden = _codes(row, "malomraden", problems)
        for code in linked_malomraden:
            if code not in malomraden:
                problems.add(_("okänt målområde ”%(code)s”", code=code))
        linked_sakomraden = _codes(row, "sakomraden", problems)
        for code in linked_sakomraden:
            if code not in sakomraden:
                problems.add(_("okänt sakområde ”%(code)s”", code=code))
        group = _text(row, "responsible_group", problems, required=False) or None
        status_text = _text(row, "status", problems, required=False) or ActivityStatus.BESLUTAD
        status = statuses.get(status_text)
        if status is None:
            problems.add(
                _(
                    "status ”%(status)s” finns inte (välj %(choices)s)",
                    status=status_text,
                    choices=", ".join(statuses),
                )
            )
        if report(line, problems) and status is not None:
            plan.activities.append(
                ActivityRow(
                    line,
                    identifier,
                    year_from,
                    year_to,
                    title,
                    description,
                    linked_malomraden,
                    linked_sakomraden,
                    group,
                    status,
                )
            )
    if errors:
        raise PlanFileError(errors)
    return plan
