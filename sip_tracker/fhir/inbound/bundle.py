"""The transaction Bundle as sent: its structure, the references between its entries, and
each resource validated against our profiles. Nothing here reads the database."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.outcomes import FhirError
from sip_tracker.fhir.validation import Issue, errors, operation_outcome, validate

# The resource types a SIP Bundle may hold, each with the profile it must meet.
PROFILES: dict[str, str] = {
    "CarePlan": fs.PROFILE_CAREPLAN,
    "CareTeam": fs.PROFILE_CARETEAM,
    "Goal": fs.PROFILE_GOAL,
    "Task": fs.PROFILE_TASK,
    "Consent": fs.PROFILE_CONSENT,
    "Patient": fs.PROFILE_PATIENT,
    "RelatedPerson": fs.PROFILE_RELATEDPERSON,
    "Organization": fs.PROFILE_ORGANIZATION,
    "PractitionerRole": fs.PROFILE_PRACTITIONERROLE,
    "Appointment": fs.PROFILE_APPOINTMENT,
    "Encounter": fs.PROFILE_ENCOUNTER,
}
METHODS = ("POST", "PUT")
# Older Inera RIVTA contracts name the Skatteverket OIDs: read them as the FHIR systems.
IDENTIFIER_SYSTEMS = {
    fs.PERSONNUMMER_OID: fs.PERSONNUMMER,
    fs.SAMORDNINGSNUMMER_OID: fs.SAMORDNINGSNUMMER,
}
_RELATIVE = re.compile(
    r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)


def bad_request(message: str, path: str) -> FhirError:
    return FhirError(400, message, code="structure", expression=[path])


def unprocessable(message: str, path: str, code: str = "invalid") -> FhirError:
    return FhirError(422, message, code=code, expression=[path])


@dataclass(frozen=True)
class Entry:
    """One entry of the Bundle: its resource (identifiers normalised), and how it was sent."""

    index: int
    resource: dict[str, Any]
    method: str
    full_url: str | None

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def type(self) -> str:
        return str(self.resource["resourceType"])

    @property
    def logical_id(self) -> str | None:
        value = self.resource.get("id")
        return value if isinstance(value, str) else None


class Entries:
    """The entries, and references between them resolved by fullUrl or Type/id."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._by_url: dict[str, Entry] = {}
        self._by_key: dict[str, Entry] = {}
        for entry in entries:
            if entry.full_url:
                self._by_url[entry.full_url] = entry
                match = _RELATIVE.search(entry.full_url)
                if match and match["type"] == entry.type:
                    self._by_key.setdefault(f"{match['type']}/{match['id']}", entry)
            if entry.logical_id:
                self._by_key.setdefault(f"{entry.type}/{entry.logical_id}", entry)

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.type == resource_type]

    def target(self, reference: str) -> Entry | None:
        if reference in self._by_url:
            return self._by_url[reference]
        match = _RELATIVE.search(reference)
        if match is None:
            return None
        return self._by_key.get(f"{match['type']}/{match['id']}")

    def resolve(self, value: Any, path: str, *types: str) -> Entry | None:
        """The entry a Reference points at; None for a display-only or contained one."""
        if not isinstance(value, Mapping):
            return None
        reference = value.get("reference")
        if not isinstance(reference, str) or reference.startswith("#"):
            return None
        entry = self.target(reference)
        if entry is None:
            raise bad_request(f"{reference!r} is no entry of the Bundle", f"{path}.reference")
        if types and entry.type not in types:
            raise unprocessable(
                f"{reference!r} is a {entry.type}, not a {' or '.join(types)}", f"{path}.reference"
            )
        return entry


def _references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, reference) of every Reference in a resource, contained resources aside."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield f"{path}.reference", value["reference"]
        for key, item in value.items():
            if key not in ("contained", "reference"):
                yield from _references(item, f"{path}.{key}")


def _localised(value: Any, entries: Entries) -> Any:
    """References to entries as Type/id, so invariants over reference strings (sip-task-1:
    the owner is an Organization) hold for urn:uuid references too."""
    if isinstance(value, list):
        return [_localised(item, entries) for item in value]
    if isinstance(value, dict):
        out = {k: _localised(v, entries) if k != "contained" else v for k, v in value.items()}
        reference = out.get("reference")
        if isinstance(reference, str) and not reference.startswith("#"):
            target = entries.target(reference)
            if target is not None:
                out["reference"] = f"{target.type}/{target.logical_id or f'entry-{target.index}'}"
        return out
    return value


def _normalised(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy with the Skatteverket OIDs read as the FHIR identifier systems."""
    if resource.get("resourceType") not in ("Patient", "RelatedPerson"):
        return resource
    resource = copy.deepcopy(resource)
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") in IDENTIFIER_SYSTEMS:
            identifier["system"] = IDENTIFIER_SYSTEMS[identifier["system"]]
            value = identifier.get("value")
            if isinstance(value, str) and re.fullmatch(r"\d{8}[-+]\d{4}", value):
                identifier["value"] = value[:8] + value[9:]
    return resource


def read_bundle(body: Any) -> Entries:
    """Check the Bundle's structure (400) and every resource against its profile (422)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise bad_request("The body must be a FHIR Bundle", "Bundle")
    if body.get("type") != "transaction":
        raise bad_request(
            f"Only a Bundle of type 'transaction' is accepted here, not {body.get('type')!r}",
            "Bundle.type",
        )
    raw = body.get("entry")
    if not isinstance(raw, list) or not raw:
        raise bad_request("The Bundle has no entries", "Bundle.entry")
    entries: list[Entry] = []
    for index, item in enumerate(raw):
        path = f"Bundle.entry[{index}]"
        if not isinstance(item, dict):
            raise bad_request("An entry must be an object", path)
        resource, request = item.get("resource"), item.get("request")
        if not isinstance(resource, dict):
            raise bad_request("The entry has no resource", f"{path}.resource")
        if not isinstance(request, dict):
            raise bad_request("The entry has no request", f"{path}.request")
        method = request.get("method")
        if method not in METHODS:
            raise bad_request(
                f"Only POST and PUT entries are supported, not {method!r}", f"{path}.request.method"
            )
        if not isinstance(request.get("url"), str):
            raise bad_request("The entry's request has no url", f"{path}.request.url")
        kind = resource.get("resourceType")
        if kind not in PROFILES:
            raise FhirError(
                422,
                f"A SIP Bundle holds no {kind!r}; it holds {', '.join(PROFILES)}",
                code="not-supported",
                expression=[f"{path}.resource.resourceType"],
            )
        full_url = item.get("fullUrl")
        entries.append(
            Entry(
                index,
                _normalised(resource),
                method,
                full_url if isinstance(full_url, str) else None,
            )
        )
    found = Entries(entries)
    for entry in entries:
        for path, reference in _references(entry.resource, entry.path):
            if not reference.startswith("#") and found.target(reference) is None:
                raise bad_request(f"{reference!r} is no entry of the Bundle", path)
    problems: list[Issue] = []
    for entry in entries:
        claimed = [
            p
            for p in (entry.resource.get("meta") or {}).get("profile") or []
            if isinstance(p, str) and p.startswith(fs.CANONICAL)
        ]
        profiles = list(dict.fromkeys([*claimed, fs.structure_definition(PROFILES[entry.type])]))
        for issue in errors(validate(_localised(entry.resource, found), profiles)):
            where = entry.path + issue.path[len(entry.type) :]
            problems.append(Issue(issue.severity, where, issue.message, issue.code))
    if problems:
        raise FhirError(422, problems[0].message, issues=operation_outcome(problems)["issue"])
    return found
