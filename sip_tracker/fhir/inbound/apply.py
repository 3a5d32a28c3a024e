"""Write a read SipBundle into the domain: find or create the person and the case, and bring
the case to what the Bundle says. Flushes and audits; the caller commits or rolls back.

The tables need a user behind every recorded change (created_by, StageEvent.user …); an
import is the token's, so each token acts through its own inactive service account, which
cannot sign in. The audit rows name the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role, User
from sip_tracker.cases.codes import FINAL_STAGES, ConsentGiver, ParticipantKind
from sip_tracker.cases.models import (
    CaseRole,
    CaseSakomrade,
    Consent,
    Need,
    Participant,
    SipCase,
    StageEvent,
)
from sip_tracker.cases.services import require_consent_for
from sip_tracker.cases.workflow import can_move, move, refresh_due
from sip_tracker.changes import person_changed
from sip_tracker.db import db, utcnow
from sip_tracker.errors import ConsentMissing
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.inbound.bundle import unprocessable
from sip_tracker.fhir.inbound.records import (
    MeetingData,
    OrganisationData,
    PartyKey,
    RelatedData,
    SipBundle,
)
from sip_tracker.fhir.models import ApiToken
from sip_tracker.fhir.outcomes import FhirError
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.people.models import Person, RelatedPerson
from sip_tracker.plans.models import Atgard, Evaluation, FollowUp, Goal, Insats, Plan, PlanVersion
from sip_tracker.plans.services import snapshot

_DB_ID = re.compile(r"^(?:unit|huvudman|related|meeting|sip)-(\d+)$")


@dataclass
class Imported:
    """What the import made of each entry: the resource it now is, Type/id."""

    case: SipCase
    created_case: bool
    targets: dict[int, tuple[str, str]] = field(default_factory=dict)


def _pk(logical_id: str | None) -> int | None:
    match = _DB_ID.match(logical_id or "")
    return int(match[1]) if match else None


def token_detail(token: ApiToken) -> str:
    return f"API token {token.id} ({token.name})"


def service_user(token: ApiToken, unit: Unit) -> User:
    """The token's service account: inactive (it cannot sign in), no usable password."""
    email = f"api-token-{token.id}@fhir.sip-tracker.invalid"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            name=f"API: {token.name}"[:120],
            password_hash="!",
            role=Role.SAMORDNARE,
            unit=unit,
            active=False,
        )
        db.session.add(user)
        db.session.flush()
    return user


# --- Organisations ---------------------------------------------------------------------------
def _huvudman(data: OrganisationData) -> Huvudman:
    found = None
    if data.kommunkod:
        found = db.session.scalar(select(Huvudman).where(Huvudman.kommunkod == data.kommunkod))
    if found is None and data.orgnr:
        found = db.session.scalar(select(Huvudman).where(Huvudman.orgnr == data.orgnr))
    if found is None and (pk := _pk(data.logical_id)) and data.logical_id.startswith("huvudman"):  # type: ignore[union-attr]
        candidate = db.session.get(Huvudman, pk)
        found = candidate if candidate is not None and candidate.name == data.name else None
    if found is None:
        found = db.session.scalar(select(Huvudman).where(Huvudman.name == data.name))
    if found is None:
        raise unprocessable(
            f"No huvudman here has kommunkod {data.kommunkod!r}, organisationsnummer"
            f" {data.orgnr!r} or the name {data.name!r}",
            f"{data.path}.identifier",
            code="not-found",
        )
    return found


def _unit(data: OrganisationData, parent: Huvudman | None) -> Unit:
    if data.hsa_id:
        found = db.session.scalar(select(Unit).where(Unit.hsa_id == data.hsa_id))
        if found is None:
            raise unprocessable(
                f"No unit here has HSA-id {data.hsa_id!r}",
                data.hsa_path or f"{data.path}.identifier",
                code="not-found",
            )
    else:
        found = None
        pk = _pk(data.logical_id)
        if pk and str(data.logical_id).startswith("unit-"):
            candidate = db.session.get(Unit, pk)
            found = candidate if candidate is not None and candidate.name == data.name else None
        if found is None and parent is not None:
            found = db.session.scalar(
                select(Unit).where(Unit.huvudman_id == parent.id, Unit.name == data.name)
            )
        if found is None:
            raise unprocessable(
                f"The unit {data.name!r} has no HSA-id and is not known here by name",
                f"{data.path}.name",
                code="not-found",
            )
    if parent is not None and found.huvudman_id != parent.id:
        raise unprocessable(
            f"{found.name} is not a unit of {parent.name}", f"{data.path}.partOf", code="value"
        )
    return found


def resolve_organisations(sip: SipBundle) -> dict[int, Unit | Huvudman]:
    found: dict[int, Unit | Huvudman] = {}
    for index, data in sip.organisations.items():
        if data.is_huvudman:
            found[index] = _huvudman(data)
    for index, data in sip.organisations.items():
        if not data.is_huvudman:
            parent = found.get(data.part_of) if data.part_of is not None else None
            found[index] = _unit(data, parent if isinstance(parent, Huvudman) else None)
    return found


def _as_unit(orgs: dict[int, Unit | Huvudman], index: int, path: str) -> Unit:
    org = orgs.get(index)
    if not isinstance(org, Unit):
        raise unprocessable("This must be a unit (an Organization partOf a huvudman)", path)
    return org


# --- The importer -----------------------------------------------------------------------------
class Importer:
    def __init__(self, sip: SipBundle, token: ApiToken, today: date | None = None) -> None:
        self.sip = sip
        self.token = token
        self.detail = token_detail(token)
        self.today = today or date.today()
        self.orgs = resolve_organisations(sip)
        self.related: dict[int, RelatedPerson] = {}
        self.parties: dict[PartyKey, Participant] = {}
        self.meeting_rows: list[Meeting] = []

    def unit(self, index: int, path: str) -> Unit:
        return _as_unit(self.orgs, index, path)

    def initiating_unit(self) -> Unit:
        """The initiativtagare's unit; else the consent's custodian, else the plan's author."""
        from sip_tracker.cases.codes import CaseRoleKind

        for role in self.sip.roles:
            if role.kind == CaseRoleKind.INITIATIVTAGARE:
                return self.unit(role.unit, self.sip.case.path)
        careplan = self.sip.entries.entries[self.sip.case.entry]
        for consent in self.sip.entries.of_type("Consent"):
            org = self.sip.entries.resolve(
                (consent.resource.get("organization") or [None])[0],
                f"{consent.path}.organization[0]",
            )
            if org is not None:
                return self.unit(org.index, f"{consent.path}.organization[0]")
        raise unprocessable(
            "The SIP names no initiativtagare, so its initiating unit is unknown",
            f"{careplan.path}.careTeam",
        )

    # --- authorisation ------------------------------------------------------------------------
    def taking_part(self, case: SipCase | None) -> set[int]:
        """Huvudmän of the units taking part: initiating, roles, participating units."""
        units = [self.initiating_unit()]
        units += [self.unit(r.unit, self.sip.case.path) for r in self.sip.roles]
        units += [self.unit(p.unit, p.path) for p in self.sip.participants if p.unit is not None]
        wanted = {u.huvudman_id for u in units}
        if case is not None:
            existing = {case.initiating_unit.huvudman_id}
            existing |= {r.unit.huvudman_id for r in case.roles}
            existing |= {p.unit.huvudman_id for p in case.participants if p.unit}
            wanted &= existing
        return wanted

    def authorise(self, case: SipCase | None) -> None:
        if self.token.huvudman_id not in self.taking_part(case):
            raise FhirError(
                403,
                f"{self.token.huvudman.name} takes no part in this SIP",
                code="forbidden",
            )

    # --- the person ---------------------------------------------------------------------------
    def person(self) -> Person:
        data = self.sip.person
        person = db.session.scalar(select(Person).where(Person.identifier == data.identifier))
        fields = {
            "given_name": data.given_name,
            "family_name": data.family_name,
            "phone": data.phone,
            "email": data.email,
            "address": data.address,
        }
        if person is None:
            person = Person(identifier=data.identifier, identifier_kind=data.kind, **fields)
            db.session.add(person)
            db.session.flush()
            record("person.create", user=None, person_id=person.id, detail=self.detail)
        elif any(getattr(person, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(person, key, value)
            db.session.flush()
            record("person.update", user=None, person_id=person.id, detail=self.detail)
        for related in self.sip.related:
            self.related[related.entry] = self._related(person, related)
        return person

    def _related(self, person: Person, data: RelatedData) -> RelatedPerson:
        found = None
        if data.identifier:
            found = next((r for r in person.related if r.identifier == data.identifier), None)
        pk = _pk(data.logical_id)
        if found is None and pk and str(data.logical_id).startswith("related-"):
            found = next((r for r in person.related if r.id == pk), None)
        if found is None:
            found = next(
                (r for r in person.related if r.kind == data.kind and r.name == data.name), None
            )
        fields = {
            "kind": data.kind,
            "name": data.name,
            "relation": data.relation,
            "phone": data.phone,
            "email": data.email,
            "address": data.address,
        }
        if data.identifier:
            fields["identifier"] = data.identifier
        if found is None:
            found = RelatedPerson(**fields)
            person.related.append(found)
        elif any(getattr(found, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(found, key, value)
        else:
            return found
        db.session.flush()
        record("person.related.add", user=None, person_id=person.id, detail=data.name)
        return found

    # --- the case -----------------------------------------------------------------------------
    def find_case(self) -> SipCase | None:
        data = self.sip.case
        for candidate in (data.case_number, data.logical_id):
            if not candidate:
                continue
            pk = int(candidate) if candidate.isdigit() else _pk(candidate)
            if pk is None or (candidate == data.logical_id and candidate != fs.careplan_id(pk)):
                continue
            case = db.session.get(SipCase, pk)
            if case is not None:
                return case
        return None

    def run(self) -> Imported:
        existing = self.find_case()
        self.authorise(existing)
        person = self.person()
        if existing is not None and existing.person_id != person.id:
            raise FhirError(
                409,
                "The case the CarePlan names belongs to another person",
                code="conflict",
                expression=[f"{self.sip.case.path}.identifier"],
            )
        initiating = self.initiating_unit()
        user = service_user(self.token, initiating)
        case = existing or self._new_case(person, initiating, user)
        self.user = user
        self._details(case)
        self._roles(case)
        self._participants(case)
        self._consents(case)
        self._plan(case)
        self._meetings(case)
        self._stage(case, created=existing is None)
        refresh_due(case)
        db.session.flush()
        record(
            "fhir.import", user=None, person_id=case.person_id, case_id=case.id, detail=self.detail
        )
        person_changed(case.person)
        result = Imported(case=case, created_case=existing is None)
        self._targets(result)
        return result

    def _new_case(self, person: Person, initiating: Unit, user: User) -> SipCase:
        data = self.sip.case
        case = SipCase(
            person=person,
            origin=data.origin,
            initiating_unit=initiating,
            created_by=user,
            stage=data.stage,
            created_at=data.created_at or utcnow(),
        )
        db.session.add(case)
        db.session.flush()
        at = data.ended_at if data.stage in FINAL_STAGES and data.ended_at else case.created_at
        case.events.append(
            StageEvent(
                from_stage=None, to_stage=data.stage, user_id=user.id, at=at, note="FHIR import"
            )
        )
        record("case.create", user=None, person_id=person.id, case_id=case.id, detail=self.detail)
        return case

    def _details(self, case: SipCase) -> None:
        data = self.sip.case
        case.origin = data.origin
        case.utskrivningsklar_on = data.utskrivningsklar_on
        case.need_description = data.need_description
        wanted = list(dict.fromkeys(data.sakomraden))
        case.sakomraden = [s for s in case.sakomraden if s.code in wanted] + [
            CaseSakomrade(code=c) for c in wanted if c not in {s.code for s in case.sakomraden}
        ]
        case.what_matters = data.what_matters
        current = [(n.area, n.description, n.current_support) for n in case.needs]
        if current != [(n.area, n.description, n.support) for n in data.needs]:
            case.needs = [
                Need(area=n.area, description=n.description, current_support=n.support)
                for n in data.needs
            ]

    def _roles(self, case: SipCase) -> None:
        wanted = {r.kind for r in self.sip.roles}
        case.roles = [r for r in case.roles if r.kind in wanted]
        for data in self.sip.roles:
            unit = self.unit(data.unit, self.sip.entries.entries[data.entry].path)
            role = case.role(data.kind)
            if role is None:
                case.roles.append(CaseRole(kind=data.kind, unit=unit, person_name=data.person_name))
            elif role.unit_id != unit.id or role.person_name != data.person_name:
                role.unit, role.person_name, role.user_id = unit, data.person_name, None

    def _participants(self, case: SipCase) -> None:
        def key_of(p: Participant) -> tuple[str, object]:
            if p.kind == ParticipantKind.ENHET:
                return ("unit", p.unit_id)
            if p.kind == ParticipantKind.NARSTAENDE:
                return ("related", p.related_person_id)
            return ("annan", p.display_name)

        existing = {key_of(p): p for p in case.participants}
        kept: list[Participant] = []
        for data in self.sip.participants:
            unit = self.unit(data.unit, data.path) if data.unit is not None else None
            related = self.related.get(data.related) if data.related is not None else None
            fields = {
                "name": data.name,
                "organisation": data.organisation,
                "email": data.email,
                "phone": data.phone,
            }
            if data.kind == ParticipantKind.ENHET:
                key: tuple[str, object] = ("unit", unit.id if unit else None)
            elif data.kind == ParticipantKind.NARSTAENDE:
                key = ("related", related.id if related else None)
            else:
                key = ("annan", ", ".join(x for x in (data.name, data.organisation) if x))
            participant = existing.get(key)
            if participant is None:
                participant = Participant(
                    kind=data.kind, unit=unit, related_person=related, **fields
                )
                case.participants.append(participant)
            else:
                for name, value in fields.items():
                    setattr(participant, name, value)
            kept.append(participant)
            self.parties[data.key] = participant
        case.participants = kept
        db.session.flush()

    def _consents(self, case: SipCase) -> None:
        wanted = self.sip.consents
        if len(wanted) < len(case.consents):
            raise unprocessable(
                "A recorded consent cannot be removed by an import; withdraw it instead",
                f"{self.sip.entries.entries[self.sip.case.entry].path}.supportingInfo",
            )
        for position, data in enumerate(wanted):
            if data.given_on > self.today:
                raise unprocessable(
                    "A consent cannot be given in the future", f"{data.path}.dateTime"
                )
            units = [self.unit(i, f"{data.path}.provision.actor") for i in data.units]
            if not units:
                raise unprocessable("The consent covers no unit", f"{data.path}.provision.actor")
            guardian = self.related.get(data.guardian) if data.guardian is not None else None
            if guardian is not None and guardian.kind != "vardnadshavare":
                raise unprocessable(
                    "Consent for a child is given by a vårdnadshavare", f"{data.path}.performer[0]"
                )
            if guardian is None and case.person.is_child_on(data.given_on):
                raise unprocessable(
                    "The person is under 18: a vårdnadshavare gives the consent",
                    f"{data.path}.performer[0]",
                )
            fields = {
                "given_by": ConsentGiver.VARDNADSHAVARE if guardian else ConsentGiver.PERSON,
                "guardian": guardian,
                "method": data.method,
                "given_on": data.given_on,
                "withdrawn_on": data.withdrawn_on,
                "other_organisations": data.other_organisations,
                "exclusions": data.exclusions,
            }
            if position < len(case.consents):
                consent = case.consents[position]
                for key, value in fields.items():
                    setattr(consent, key, value)
                if {u.id for u in consent.units} != {u.id for u in units}:
                    consent.units = units
            else:
                case.consents.append(Consent(units=units, recorded_by_id=self.user.id, **fields))
        db.session.flush()

    def _plan(self, case: SipCase) -> None:
        data = self.sip.plan
        if data is None:
            return
        if case.plan is None:
            case.plan = Plan(follow_up_method="")
        plan = case.plan
        insatser = []
        for position, item in enumerate(data.insatser):
            owner = self.orgs[item.owner]
            unit = owner if isinstance(owner, Unit) else None
            huvudman = owner.huvudman if isinstance(owner, Unit) else owner
            if item.starts_on and item.ends_on and item.ends_on < item.starts_on:
                raise unprocessable(
                    "An insats cannot end before it starts", f"{item.path}.executionPeriod"
                )
            insatser.append((position, item, huvudman, unit))
        follow_ups = sorted({g.status_date for g in data.goals if g.status_date})
        evaluated = data.version is not None and (
            follow_ups or any(i.outcome for i in data.insatser)
        )
        plan_follow_up = follow_ups[0] if follow_ups else data.follow_up_on
        current = (
            [g.text for g in plan.goals],
            [
                (i.description, i.huvudman_id, i.unit_id, i.starts_on, i.ends_on)
                for i in plan.insatser
            ],
            [(a.actor, a.description) for a in plan.atgarder],
            plan.follow_up_method,
            plan.follow_up_on,
        )
        wanted = (
            [g.text for g in data.goals],
            [
                (i.description, h.id, u.id if u else None, i.starts_on, i.ends_on)
                for _, i, h, u in insatser
            ],
            [(a.actor, a.description) for a in data.atgarder],
            data.follow_up_method,
            plan_follow_up if evaluated else data.follow_up_on,
        )
        if current != wanted:
            plan.goals = [Goal(text=g.text, position=i) for i, g in enumerate(data.goals)]
            plan.insatser = [
                Insats(
                    description=i.description,
                    huvudman=h,
                    unit=u,
                    starts_on=i.starts_on,
                    ends_on=i.ends_on,
                    position=p,
                )
                for p, i, h, u in insatser
            ]
            plan.atgarder = [
                Atgard(actor=a.actor, description=a.description, position=i)
                for i, a in enumerate(data.atgarder)
            ]
            plan.follow_up_method = data.follow_up_method
            plan.follow_up_on = wanted[4]
            plan.updated_at = utcnow()
            db.session.flush()
        if data.version is None:
            return
        version = plan.current_version
        content = snapshot(case)
        if version is None or version.number != data.version:
            if version is not None and version.number > data.version:
                raise unprocessable(
                    f"Version {data.version} is older than the established"
                    f" version {version.number}",
                    f"{self.sip.case.path}.extension",
                )
            if wanted[4] is None:
                raise unprocessable(
                    "An established plan has a follow-up date", f"{self.sip.case.path}.extension"
                )
            version = PlanVersion(
                number=data.version,
                established_by_id=self.user.id,
                established_at=data.established_at or utcnow(),
                follow_up_on=wanted[4],
                content=content,
            )
            plan.versions.append(version)
            db.session.flush()
        elif version.content != content:
            raise unprocessable(
                f"Version {version.number} is established and cannot change; send a new version",
                f"{self.sip.case.path}.extension",
            )
        self._follow_ups(case, version, follow_ups)

    def _follow_ups(self, case: SipCase, version: PlanVersion, days: list[date]) -> None:
        """The latest evaluation of each goal and insats, as the follow-ups that gave them."""
        data = self.sip.plan
        assert data is not None
        goals = [(g.text, g.outcome, g.status_date) for g in data.goals if g.outcome]
        tasks = [(i.description, i.outcome) for i in data.insatser if i.outcome]
        if not goals and not tasks:
            return
        latest = [f for f in case.follow_ups if f.plan_version_id == version.id]
        now = sorted(
            (e.subject, e.subject_text, e.outcome) for f in latest[-1:] for e in f.evaluations
        )
        wished = sorted(
            [("goal", t, o) for t, o, _ in goals] + [("insats", t, o) for t, o in tasks]
        )
        if now == wished and latest and latest[-1].next_follow_up_on == data.follow_up_on:
            return
        days = days or [version.established_at.date()]
        for number, day in enumerate(days):
            last = number == len(days) - 1
            evaluations = [
                Evaluation(subject="goal", subject_text=t, outcome=o)
                for t, o, d in goals
                if d == day or (last and d is None)
            ]
            if last:
                evaluations += [
                    Evaluation(subject="insats", subject_text=t, outcome=o) for t, o in tasks
                ]
            case.follow_ups.append(
                FollowUp(
                    plan_version=version,
                    held_on=day,
                    next_follow_up_on=data.follow_up_on if last else days[number + 1],
                    created_by_id=self.user.id,
                    evaluations=evaluations,
                )
            )
        db.session.flush()

    def _meetings(self, case: SipCase) -> None:
        called = [m for m in case.meetings if m.kallelse_sent_at is not None]
        by_pk = {m.id: m for m in called}
        for data in self.sip.meetings:
            pk = _pk(data.logical_id) if str(data.logical_id).startswith("meeting-") else None
            meeting = by_pk.pop(pk) if pk in by_pk else None
            if meeting is None:
                meeting = Meeting()
                case.meetings.append(meeting)
            self._meeting(case, meeting, data)
            self.meeting_rows.append(meeting)
        db.session.flush()

    def _meeting(self, case: SipCase, meeting: Meeting, data: MeetingData) -> None:
        meeting.starts_at = data.starts_at
        meeting.duration_minutes = data.duration_minutes
        meeting.place = data.place
        meeting.video_link = data.video_link
        meeting.is_follow_up = data.is_follow_up
        meeting.kallelse_sent_at = data.kallelse_sent_at or meeting.kallelse_sent_at or utcnow()
        meeting.kallelse_sent_by_id = meeting.kallelse_sent_by_id or self.user.id
        invitations = []
        existing = {i.participant_id: i for i in meeting.invitations}
        for key, response, path in data.invitations:
            participant = self.parties.get(key)
            if participant is None:
                raise unprocessable("The invited party is not in the CareTeam", path)
            invitation = existing.get(participant.id) or Invitation(participant=participant)
            if invitation.response != response:
                invitation.response = response
                invitation.responded_at = utcnow() if response != "obesvarad" else None
            if data.encounter is not None:
                invitation.attended = key in data.attended
            invitations.append(invitation)
        meeting.invitations = invitations
        try:
            require_consent_for(case, [])
            units = [i.participant.unit for i in invitations if i.participant.unit is not None]
            require_consent_for(case, units)
        except ConsentMissing as refusal:
            raise unprocessable(refusal.message, data.path, code="business-rule") from None
        if data.encounter is not None:
            if data.held_at is None or data.held_at > utcnow():
                raise unprocessable(
                    "A meeting cannot be held in the future",
                    f"Bundle.entry[{data.encounter}].resource.period",
                )
            meeting.held_at = data.held_at
            meeting.person_attended = data.person_attended
            meeting.narstaende_attended = any(
                i.attended for i in invitations if i.participant.kind == ParticipantKind.NARSTAENDE
            )

    def _stage(self, case: SipCase, *, created: bool) -> None:
        wanted = self.sip.case.stage
        if created or case.stage == wanted:
            return
        if not can_move(case, wanted):
            raise unprocessable(
                f"The case cannot move from {case.stage} to {wanted}",
                self.sip.case.stage_path,
                code="business-rule",
            )
        move(case, wanted, user=self.user, note="FHIR import")
        if wanted in FINAL_STAGES:
            case.end_reason = case.end_reason or "FHIR import"

    # --- what each entry became -----------------------------------------------------------
    def _targets(self, result: Imported) -> None:
        case, sip, targets = result.case, self.sip, result.targets
        targets[sip.case.entry] = ("CarePlan", fs.careplan_id(case.id))
        targets[sip.careteam] = ("CareTeam", fs.careteam_id(case.id))
        entries = sip.entries.entries
        patient = next(e for e in entries if e.type == "Patient")
        targets[patient.index] = ("Patient", fs.patient_id(case.person_id))
        for index, related in self.related.items():
            targets[index] = ("RelatedPerson", fs.related_person_id(related.id))
        for index, org in self.orgs.items():
            logical = (
                fs.organization_id_for_unit(org.id)
                if isinstance(org, Unit)
                else fs.organization_id_for_huvudman(org.id)
            )
            targets[index] = ("Organization", logical)
        for role in sip.roles:
            targets[role.entry] = ("PractitionerRole", fs.practitioner_role_id(case.id, role.kind))
        for party in sip.participants:
            if party.kind == ParticipantKind.ENHET and party.entry is not None:
                pk = self.parties[party.key].id
                targets[party.entry] = (
                    "PractitionerRole",
                    fs.practitioner_role_id_for_participant(pk),
                )
        for consent, given in zip(case.consents, sip.consents, strict=False):
            targets[given.entry] = ("Consent", fs.consent_id(consent.id))
        if sip.plan is not None:
            for position, goal in enumerate(sip.plan.goals):
                targets[goal.entry] = ("Goal", fs.goal_id(case.id, position))
            for position, insats in enumerate(sip.plan.insatser):
                targets[insats.entry] = ("Task", fs.task_id(case.id, position))
            for position, atgard in enumerate(sip.plan.atgarder):
                targets[atgard.entry] = ("Task", fs.atgard_task_id(case.id, position))
        for called, meeting in zip(sip.meetings, self.meeting_rows, strict=True):
            targets[called.appointment] = ("Appointment", fs.appointment_id(meeting.id))
            if called.encounter is not None:
                targets[called.encounter] = ("Encounter", fs.encounter_id(meeting.id))


def import_sip(sip: SipBundle, token: ApiToken, today: date | None = None) -> Imported:
    """Create or update the case the Bundle describes (flushed, not committed)."""
    return Importer(sip, token, today).run()
