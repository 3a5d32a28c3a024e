"""FHIR → domain: a SIP Bundle read into typed dataclasses. Pure: no database.

Parties are named by their entry (its index in the Bundle); the database lookups that
turn an Organization entry into a unit or a huvudman are apply.py's. What is read is what
the outbound mapping writes (fhir_profiles/MAPPING.md), read backwards.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentMethod,
    NeedArea,
    Origin,
    Outcome,
    ParticipantKind,
    Response,
    Sakomrade,
    Stage,
)
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.inbound.bundle import Entries, Entry, unprocessable
from sip_tracker.fhir.inbound.records import (
    JSON,
    AtgardData,
    CaseData,
    ConsentData,
    GoalData,
    InsatsData,
    MeetingData,
    NeedData,
    OrganisationData,
    ParticipantData,
    PartyKey,
    PersonData,
    PlanData,
    RelatedData,
    RoleData,
    SipBundle,
)
from sip_tracker.people.identifiers import IdentifierKind, InvalidIdentifier, parse_identifier
from sip_tracker.people.models import RelationKind

RESPONSES = {
    "accepted": Response.KOMMER,
    "declined": Response.KOMMER_INTE,
    "tentative": Response.KANSKE,
    "needs-action": Response.OBESVARAD,
}
FOLLOW_UP_MEETING = "Uppföljande SIP-möte"


# --- Small readers ----------------------------------------------------------------------------
def _extensions(resource: JSON, name: str) -> list[tuple[int, JSON]]:
    url = fs.structure_definition(name) if name.startswith("sip-") else name
    return [(i, e) for i, e in enumerate(resource.get("extension") or []) if e.get("url") == url]


def _extension(resource: JSON, name: str) -> tuple[int, JSON] | None:
    found = _extensions(resource, name)
    return found[0] if found else None


def _code(concept: JSON | None, system: str) -> str | None:
    codings = (concept or {}).get("coding") or ([concept] if concept and "code" in concept else [])
    return next((c.get("code") for c in codings if c.get("system") == system), None)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _moment(text: str | None) -> datetime | None:
    """A FHIR dateTime as an aware UTC moment; a bare date is midnight UTC."""
    if not text:
        return None
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _telecom(resource: JSON, system: str) -> str | None:
    return next(
        (t.get("value") for t in resource.get("telecom") or [] if t.get("system") == system), None
    )


def _address(resource: JSON) -> str | None:
    for address in resource.get("address") or []:
        if address.get("text"):
            return str(address["text"])
        lines = [*address.get("line", []), address.get("postalCode"), address.get("city")]
        if any(lines):
            return ", ".join(str(x) for x in lines if x)
    return None


def _enum(kind: Any, code: str | None, path: str) -> Any:
    try:
        return kind(code)
    except ValueError:
        raise unprocessable(f"{code!r} is not a code sip-tracker knows here", path) from None


def _one(entries: Entries, resource_type: str) -> Entry:
    found = entries.of_type(resource_type)
    if len(found) != 1:
        raise unprocessable(
            f"A SIP Bundle holds exactly one {resource_type}, this one {len(found)}",
            "Bundle.entry",
        )
    return found[0]


# --- The person and the people close to them -------------------------------------------------
def _identifier(resource: JSON, path: str, *, required: bool) -> tuple[str, IdentifierKind] | None:
    systems = {fs.PERSONNUMMER: IdentifierKind.PERSONNUMMER}
    systems[fs.SAMORDNINGSNUMMER] = IdentifierKind.SAMORDNINGSNUMMER
    for index, identifier in enumerate(resource.get("identifier") or []):
        kind = systems.get(identifier.get("system"))
        if kind is None:
            continue
        where = f"{path}.identifier[{index}].value"
        try:
            parsed = parse_identifier(str(identifier.get("value", "")))
        except InvalidIdentifier as error:
            raise unprocessable(str(error), where) from None
        if parsed.kind != kind:
            raise unprocessable(f"The number is a {parsed.kind}, not a {kind}", where)
        return parsed.digits, parsed.kind
    if required:
        raise unprocessable(
            "The person needs a personnummer or samordningsnummer", f"{path}.identifier"
        )
    return None


def read_person(entry: Entry) -> PersonData:
    resource, path = entry.resource, entry.path
    found = _identifier(resource, path, required=True)
    assert found is not None
    digits, kind = found
    born = parse_identifier(digits).birth_date
    if resource.get("birthDate") and _day(resource["birthDate"]) != born:
        raise unprocessable(
            f"birthDate {resource['birthDate']} is not the date of birth in the number ({born})",
            f"{path}.birthDate",
        )
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given") or []).strip()
    family = str(name.get("family") or "").strip()
    if not given or not family:
        raise unprocessable("The person needs a given and a family name", f"{path}.name[0]")
    return PersonData(
        path=path,
        identifier=digits,
        kind=kind,
        given_name=given,
        family_name=family,
        phone=_telecom(resource, "phone"),
        email=_telecom(resource, "email"),
        address=_address(resource),
    )


def read_related(entry: Entry) -> RelatedData:
    resource, path = entry.resource, entry.path
    relationship = (resource.get("relationship") or [{}])[0]
    if _code(relationship, fs.V3_ROLE_CODE) == "GUARD":
        kind, default = RelationKind.VARDNADSHAVARE, "Vårdnadshavare"
    elif _code(relationship, fs.V2_0131) == "N":
        kind, default = RelationKind.NARSTAENDE, "Närstående"
    else:
        raise unprocessable(
            "The relationship is neither v3-RoleCode#GUARD nor v2-0131#N",
            f"{path}.relationship[0]",
        )
    text = relationship.get("text")
    name = (resource.get("name") or [{}])[0]
    full = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()
    if not full:
        raise unprocessable("The related person needs a name", f"{path}.name[0]")
    found = _identifier(resource, path, required=False)
    return RelatedData(
        entry=entry.index,
        path=path,
        logical_id=entry.logical_id,
        kind=kind,
        name=full,
        relation=text if text and text != default else None,
        identifier=found[0] if found else None,
        phone=_telecom(resource, "phone"),
        email=_telecom(resource, "email"),
        address=_address(resource),
    )


# --- Organisations -----------------------------------------------------------------------------
def read_organisation(entries: Entries, entry: Entry) -> OrganisationData:
    resource, path = entry.resource, entry.path
    hsa_id = hsa_path = orgnr = None
    for index, identifier in enumerate(resource.get("identifier") or []):
        if identifier.get("system") == fs.HSA_ID:
            hsa_id, hsa_path = identifier.get("value"), f"{path}.identifier[{index}].value"
        elif identifier.get("system") == fs.ORGANISATIONSNUMMER:
            orgnr = identifier.get("value")
    kommunkod = None
    if found := _extension(resource, fs.EXT_KOMMUNKOD):
        kommunkod = found[1].get("valueCoding", {}).get("code")
    part_of = entries.resolve(resource.get("partOf"), f"{path}.partOf", "Organization")
    return OrganisationData(
        entry=entry.index,
        path=path,
        logical_id=entry.logical_id,
        name=str(resource.get("name", "")),
        is_huvudman=bool(resource.get("type")),
        hsa_id=hsa_id,
        hsa_path=hsa_path,
        orgnr=orgnr,
        kommunkod=kommunkod,
        part_of=part_of.index if part_of else None,
    )


# --- The team: roles and participants ----------------------------------------------------------
def _roles_of(concepts: list[JSON]) -> tuple[str | None, str | None]:
    role = next((c for x in concepts if (c := _code(x, fs.CS_ROLE))), None)
    kind = next((c for x in concepts if (c := _code(x, fs.CS_PARTICIPANT_KIND))), None)
    return role, kind


def _organization_of(entries: Entries, entry: Entry) -> int:
    found = entries.resolve(
        entry.resource.get("organization"), f"{entry.path}.organization", "Organization"
    )
    if found is None:
        raise unprocessable("The PractitionerRole names no unit", f"{entry.path}.organization")
    return found.index


def read_team(entries: Entries, careteam: Entry) -> tuple[list[RoleData], list[ParticipantData]]:
    roles: list[RoleData] = []
    participants: list[ParticipantData] = []
    contained = {f"#{c.get('id')}": c for c in careteam.resource.get("contained") or []}
    for index, member in enumerate(careteam.resource.get("participant") or []):
        path = f"{careteam.path}.participant[{index}]"
        role, kind = _roles_of(member.get("role") or [])
        reference = member.get("member") or {}
        target = entries.resolve(
            reference, f"{path}.member", "Patient", "PractitionerRole", "RelatedPerson"
        )
        if target is not None and target.type == "Patient":
            continue
        if role in set(CaseRoleKind):
            if target is None or target.type != "PractitionerRole":
                raise unprocessable("A case role is held by a PractitionerRole", f"{path}.member")
            name = (target.resource.get("practitioner") or {}).get("display", "")
            roles.append(
                RoleData(
                    target.index,
                    CaseRoleKind(role),
                    _organization_of(entries, target),
                    str(name),
                )
            )
        elif target is not None and target.type == "PractitionerRole":
            pr = target.resource
            participants.append(
                ParticipantData(
                    key=("entry", target.index),
                    path=path,
                    kind=ParticipantKind.ENHET,
                    entry=target.index,
                    unit=_organization_of(entries, target),
                    name=(pr.get("practitioner") or {}).get("display"),
                    email=_telecom(pr, "email"),
                    phone=_telecom(pr, "phone"),
                )
            )
        elif target is not None:  # a RelatedPerson
            participants.append(
                ParticipantData(
                    key=("entry", target.index),
                    path=path,
                    kind=ParticipantKind.NARSTAENDE,
                    entry=target.index,
                    related=target.index,
                )
            )
        else:
            display = str(reference.get("display") or "")
            other = contained.get(str(reference.get("reference")))
            if other is not None:
                contact = (other.get("contact") or [{}])[0]
                name = (contact.get("name") or {}).get("text")
                participants.append(
                    ParticipantData(
                        key=("display", display),
                        path=path,
                        kind=ParticipantKind.ANNAN,
                        entry=None,
                        name=name,
                        organisation=other.get("name"),
                        email=_telecom(contact, "email"),
                        phone=_telecom(contact, "phone"),
                    )
                )
            elif display:
                participants.append(
                    ParticipantData(
                        ("display", display), path, ParticipantKind.ANNAN, None, name=display
                    )
                )
            else:
                raise unprocessable("A participant needs a member", f"{path}.member")
        if kind is not None and participants and kind != participants[-1].kind:
            raise unprocessable(
                f"The participant kind {kind!r} does not fit the member", f"{path}.role"
            )
    return roles, participants


# --- Consent -----------------------------------------------------------------------------------
def read_consent(entries: Entries, entry: Entry) -> ConsentData:
    resource, path = entry.resource, entry.path
    found = _extension(resource, fs.EXT_CONSENT_METHOD)
    method = (found[1].get("valueCoding") or {}).get("code") if found else None
    performer = entries.resolve(
        (resource.get("performer") or [None])[0],
        f"{path}.performer[0]",
        "Patient",
        "RelatedPerson",
    )
    provision = resource.get("provision") or {}
    units: list[int] = []
    others: list[str] = []
    for index, actor in enumerate(provision.get("actor") or []):
        where = f"{path}.provision.actor[{index}].reference"
        target = entries.resolve(actor.get("reference"), where, "Organization")
        if target is not None:
            units.append(target.index)
        elif (actor.get("reference") or {}).get("display"):
            others.append(actor["reference"]["display"])
    exclusions = [
        code.get("text")
        for nested in provision.get("provision") or []
        if nested.get("type") == "deny"
        for code in nested.get("code") or []
        if code.get("text")
    ]
    given_on = _day(resource.get("dateTime")) or _day((provision.get("period") or {}).get("start"))
    if given_on is None:
        raise unprocessable("The consent has no date", f"{path}.dateTime")
    return ConsentData(
        entry=entry.index,
        path=path,
        method=_enum(ConsentMethod, method, f"{path}.extension"),
        given_on=given_on,
        withdrawn_on=_day((provision.get("period") or {}).get("end")),
        guardian=performer.index if performer and performer.type == "RelatedPerson" else None,
        units=units,
        other_organisations=", ".join(others) or None,
        exclusions="; ".join(exclusions) or None,
    )


# --- The plan ---------------------------------------------------------------------------------
def _outcome(concept: JSON | None, path: str) -> Outcome | None:
    code = _code(concept, fs.CS_OUTCOME)
    return _enum(Outcome, code, path) if code else None


def read_plan(entries: Entries, careplan: Entry) -> PlanData | None:
    resource, path = careplan.resource, careplan.path
    goals: list[GoalData] = []
    for index, reference in enumerate(resource.get("goal") or []):
        goal = entries.resolve(reference, f"{path}.goal[{index}]", "Goal")
        if goal is None:
            continue
        data = goal.resource
        goals.append(
            GoalData(
                goal.index,
                str((data.get("description") or {}).get("text", "")),
                _outcome(data.get("achievementStatus"), f"{goal.path}.achievementStatus"),
                _day(data.get("statusDate")),
            )
        )
    insatser: list[InsatsData] = []
    atgarder: list[AtgardData] = []
    established: datetime | None = None
    for index, activity in enumerate(resource.get("activity") or []):
        task = entries.resolve(
            activity.get("reference"), f"{path}.activity[{index}].reference", "Task"
        )
        if task is None:
            continue
        data = task.resource
        established = established or _moment(data.get("authoredOn"))
        kind = _code(data.get("code"), fs.CS_ACTIVITY_KIND)
        if kind == "atgard":
            actor = str((data.get("owner") or {}).get("display", ""))
            atgarder.append(AtgardData(task.index, actor, str(data.get("description", ""))))
            continue
        owner = entries.resolve(data.get("owner"), f"{task.path}.owner", "Organization")
        if owner is None:
            raise unprocessable("An insats is owned by an Organization", f"{task.path}.owner")
        period = data.get("executionPeriod") or {}
        insatser.append(
            InsatsData(
                task.index,
                task.path,
                str(data.get("description", "")),
                owner.index,
                _day(period.get("start")),
                _day(period.get("end")),
                _outcome(data.get("businessStatus"), f"{task.path}.businessStatus"),
            )
        )
    method, follow_up_on = "", None
    if found := _extension(resource, fs.EXT_FOLLOW_UP):
        for part in found[1].get("extension") or []:
            if part.get("url") == "method":
                method = str(part.get("valueString", ""))
            elif part.get("url") == "date":
                follow_up_on = _day(part.get("valueDate"))
    version = _extension(resource, fs.EXT_PLAN_VERSION)
    if not (goals or insatser or atgarder or method or follow_up_on or version):
        return None
    return PlanData(
        goals=goals,
        insatser=insatser,
        atgarder=atgarder,
        follow_up_method=method,
        follow_up_on=follow_up_on,
        version=int(version[1]["valuePositiveInt"]) if version else None,
        established_at=established,
    )


def read_case(entries: Entries, careplan: Entry) -> CaseData:
    resource, path = careplan.resource, careplan.path
    stage_ext = _extension(resource, fs.EXT_STAGE)
    if stage_ext is None:
        raise unprocessable("The CarePlan has no sip-stage extension", f"{path}.extension")
    stage_path = f"{path}.extension[{stage_ext[0]}]"
    stage = _enum(Stage, (stage_ext[1].get("valueCoding") or {}).get("code"), stage_path)
    origin_ext = _extension(resource, fs.EXT_ORIGIN)
    origin_code = (origin_ext[1].get("valueCoding") or {}).get("code") if origin_ext else "annan"
    utskrivningsklar = _extension(resource, fs.EXT_UTSKRIVNINGSKLAR)
    sakomraden = [
        _enum(Sakomrade, (e.get("valueCoding") or {}).get("code"), f"{path}.extension[{i}]")
        for i, e in _extensions(resource, fs.EXT_SAKOMRADE)
    ]
    what_matters = _extension(resource, fs.EXT_WHAT_MATTERS)
    needs = []
    for i, need in _extensions(resource, fs.EXT_NEED):
        parts = {p.get("url"): p for p in need.get("extension") or []}
        area = (parts.get("area") or {}).get("valueCoding", {}).get("code")
        needs.append(
            NeedData(
                _enum(NeedArea, area, f"{path}.extension[{i}]"),
                str((parts.get("description") or {}).get("valueString", "")),
                (parts.get("support") or {}).get("valueString"),
            )
        )
    number = next(
        (
            str(i.get("value"))
            for i in resource.get("identifier") or []
            if i.get("system") == fs.SIP_CASE_ID
        ),
        None,
    )
    author = entries.resolve(
        resource.get("author"), f"{path}.author", "PractitionerRole", "Organization"
    )
    return CaseData(
        entry=careplan.index,
        path=path,
        logical_id=careplan.logical_id,
        case_number=number,
        stage=stage,
        stage_path=stage_path,
        origin=_enum(Origin, origin_code, f"{path}.extension"),
        utskrivningsklar_on=_day(utskrivningsklar[1].get("valueDate"))
        if utskrivningsklar
        else None,
        sakomraden=sakomraden,
        need_description=str(resource.get("description") or ""),
        what_matters=str(what_matters[1].get("valueString", "")) if what_matters else "",
        needs=needs,
        created_at=_moment(resource.get("created"))
        or _moment((resource.get("period") or {}).get("start")),
        ended_at=_moment((resource.get("period") or {}).get("end")),
        author=author.index if author else None,
    )


# --- Meetings ---------------------------------------------------------------------------------
def _party(entries: Entries, actor: JSON, path: str) -> PartyKey | None:
    """Who an Appointment or Encounter participant is; None for the person and places."""
    target = entries.resolve(actor, path, "Patient", "PractitionerRole", "RelatedPerson")
    if target is not None:
        return None if target.type == "Patient" else ("entry", target.index)
    if str(actor.get("reference", "")).startswith("#"):
        return None
    return ("display", str(actor.get("display", "")))


def read_meetings(entries: Entries) -> list[MeetingData]:
    held: dict[int, Entry] = {}
    for encounter in entries.of_type("Encounter"):
        for index, reference in enumerate(encounter.resource.get("appointment") or []):
            target = entries.resolve(
                reference, f"{encounter.path}.appointment[{index}]", "Appointment"
            )
            if target is not None:
                held[target.index] = encounter
    meetings = []
    for entry in entries.of_type("Appointment"):
        resource, path = entry.resource, entry.path
        places = {c.get("id"): c for c in resource.get("contained") or []}
        video = places.get("video")
        starts_at = _moment(resource.get("start"))
        assert starts_at is not None  # the profile requires start
        ends_at = _moment(resource.get("end"))
        minutes = resource.get("minutesDuration") or (
            int((ends_at - starts_at).total_seconds() // 60) if ends_at else 60
        )
        invitations = []
        for index, participant in enumerate(resource.get("participant") or []):
            where = f"{path}.participant[{index}].actor"
            key = _party(entries, participant.get("actor") or {}, where)
            if key is not None:
                status = participant.get("status", "needs-action")
                invitations.append((key, RESPONSES.get(status, Response.OBESVARAD), where))
        data = MeetingData(
            appointment=entry.index,
            encounter=None,
            path=path,
            logical_id=entry.logical_id,
            starts_at=starts_at,
            duration_minutes=int(minutes),
            place=(places.get("place") or {}).get("name"),
            video_link=next((t.get("value") for t in (video or {}).get("telecom") or []), None),
            is_follow_up=resource.get("description") == FOLLOW_UP_MEETING,
            kallelse_sent_at=_moment(resource.get("created")),
            invitations=invitations,
        )
        encounter_entry = held.get(entry.index)
        if encounter_entry is not None:
            encounter = encounter_entry
            attended_ext = _extension(encounter.resource, fs.EXT_PERSON_ATTENDED)
            attended = set()
            for index, participant in enumerate(encounter.resource.get("participant") or []):
                where = f"{encounter.path}.participant[{index}].individual"
                key = _party(entries, participant.get("individual") or {}, where)
                if key is not None:
                    attended.add(key)
            data = MeetingData(
                **{
                    **data.__dict__,
                    "encounter": encounter.index,
                    "held_at": _moment((encounter.resource.get("period") or {}).get("start")),
                    "person_attended": bool(attended_ext[1].get("valueBoolean"))
                    if attended_ext
                    else None,
                    "attended": frozenset(attended),
                }
            )
        meetings.append(data)
    return meetings


# --- The whole Bundle --------------------------------------------------------------------------
def read_sip(entries: Entries) -> SipBundle:
    """The SIP a valid Bundle describes; 422 naming the element where it cannot be one."""
    careplan = _one(entries, "CarePlan")
    patient = _one(entries, "Patient")
    subject = entries.resolve(careplan.resource.get("subject"), f"{careplan.path}.subject")
    if subject is not patient:
        raise unprocessable("The CarePlan's subject is not the Patient", f"{careplan.path}.subject")
    careteam = entries.resolve(
        (careplan.resource.get("careTeam") or [None])[0], f"{careplan.path}.careTeam[0]", "CareTeam"
    )
    if careteam is None:
        raise unprocessable("The CarePlan names no CareTeam", f"{careplan.path}.careTeam")
    roles, participants = read_team(entries, careteam)
    consents = []
    seen: set[int] = set()
    for index, reference in enumerate(careplan.resource.get("supportingInfo") or []):
        target = entries.resolve(reference, f"{careplan.path}.supportingInfo[{index}]", "Consent")
        if target is not None and target.index not in seen:
            seen.add(target.index)
            consents.append(read_consent(entries, target))
    consents += [
        read_consent(entries, e) for e in entries.of_type("Consent") if e.index not in seen
    ]
    return SipBundle(
        entries=entries,
        person=read_person(patient),
        related=[read_related(e) for e in entries.of_type("RelatedPerson")],
        organisations={
            e.index: read_organisation(entries, e) for e in entries.of_type("Organization")
        },
        case=read_case(entries, careplan),
        careteam=careteam.index,
        roles=roles,
        participants=participants,
        consents=consents,
        plan=read_plan(entries, careplan),
        meetings=read_meetings(entries),
    )
