"""Apply a read SipBundle to the domain, through the same services the web pages use.

The parsing stays in parse.py; every change goes through the service that makes it from the
web (cases, people, meetings, plans), so an import obeys the same rules: consent before a
kallelse, a complete plan before it is established, versions, stages. Before it changes
anything, the importer applies the access rule of cases/access.py to the token's
organisation:
- an existing case must be shared with it (`shares_case`: it takes part, under consent);
- a new case is started in its own name (its initiating unit is one of its units);
- the person's own data (name, contact details, närstående) changes only when one of the
  person's cases is shared with it; otherwise the stored data stays and the answer says so;
- a recorded consent never changes: an import may record a new one, or the withdrawal of
  the current one, never undo a withdrawal or add a unit.
Services flush and write the access log; the caller commits (or rolls back the savepoint).

The tables need a user behind every change (created_by, StageEvent.user …): an import is
its token's, so each token acts through its own inactive service account ("API: <name>"),
which cannot sign in; the access log shows that account, and the import row names the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services as cases
from sip_tracker.cases.access import organisation_units, shares_case, shares_person
from sip_tracker.cases.codes import FINAL_STAGES, CaseRoleKind, ConsentGiver, ParticipantKind, Stage
from sip_tracker.cases.models import Consent, Participant, SipCase
from sip_tracker.cases.workflow import can_move
from sip_tracker.db import db
from sip_tracker.fhir import systems as fs
from sip_tracker.fhir.inbound.bundle import unprocessable
from sip_tracker.fhir.inbound.organisations import as_unit, pk_of, resolve_organisations
from sip_tracker.fhir.inbound.records import ConsentData, MeetingData, RelatedData, SipBundle
from sip_tracker.fhir.models import ApiToken
from sip_tracker.fhir.outcomes import FhirError
from sip_tracker.guards import database_id
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Meeting
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.people import services as people
from sip_tracker.people.models import Person, RelatedPerson
from sip_tracker.plans import services as plans


@dataclass
class Imported:
    """What the import made of each entry (Type/id), and what it did not apply, per entry."""

    case: SipCase
    created_case: bool
    targets: dict[int, tuple[str, str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)


def token_detail(token: ApiToken) -> str:
    return f"API token {token.id} ({token.name})"


def service_user(token: ApiToken, unit: Unit) -> User:
    """The token's service account, at a unit of its organisation; inactive, so it cannot
    sign in, with a random password nobody knows."""
    from sip_tracker.auth.services import create_user

    email = f"api-token-{token.id}@fhir.sip-tracker.invalid"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = create_user(
            email=email,
            name=f"API: {token.name}"[:120],
            password=secrets.token_urlsafe(32),
            role=Role.SAMORDNARE,
            unit=unit,
            active=False,
        )
    return user


class Importer:
    def __init__(self, sip: SipBundle, token: ApiToken, today: date | None = None) -> None:
        self.sip = sip
        self.token = token
        self.today = today or clock.today()
        self.orgs = resolve_organisations(sip)
        self.unit_ids = list(db.session.scalars(organisation_units(token.huvudman_id)))
        self.related: dict[int, RelatedPerson] = {}
        self.parties: dict[object, Participant] = {}
        self.meetings: dict[int, Meeting] = {}  # Appointment entry → meeting
        self.warnings: dict[int, list[str]] = {}
        self.user: User

    def unit(self, index: int, path: str) -> Unit:
        return as_unit(self.orgs, index, path)

    @property
    def careplan_path(self) -> str:
        return self.sip.case.path

    # --- who may do this ------------------------------------------------------------------
    def initiating_unit(self) -> Unit:
        """The initiativtagare's unit; else the consent's custodian."""
        for role in self.sip.roles:
            if role.kind == CaseRoleKind.INITIATIVTAGARE:
                return self.unit(role.unit, self.careplan_path)
        for consent in self.sip.entries.of_type("Consent"):
            org = self.sip.entries.resolve(
                (consent.resource.get("organization") or [None])[0],
                f"{consent.path}.organization[0]",
            )
            if org is not None:
                return self.unit(org.index, f"{consent.path}.organization[0]")
        raise unprocessable(
            "The SIP names no initiativtagare, so its initiating unit is unknown",
            f"{self.careplan_path}.careTeam",
        )

    def find_case(self) -> SipCase | None:
        data = self.sip.case
        for candidate in (data.case_number, data.logical_id):
            if not candidate:
                continue
            pk = database_id(candidate) if candidate.isdigit() else pk_of(candidate)
            if pk is None or (candidate == data.logical_id and candidate != fs.careplan_id(pk)):
                continue
            case = db.session.get(SipCase, pk)
            if case is not None:
                return case
        return None

    def authorise(self, existing: SipCase | None) -> Unit:
        """The case's initiating unit, once the token's organisation may write it."""
        organisation = self.token.huvudman.name
        if existing is not None:
            if not shares_case(existing, self.unit_ids):
                raise FhirError(
                    404,
                    f"CarePlan/{fs.careplan_id(existing.id)} is not known to this token:"
                    f" {organisation} takes no part in it under the person's consent",
                    code="not-found",
                    expression=[f"{self.careplan_path}.identifier"],
                )
            return existing.initiating_unit
        initiating = self.initiating_unit()
        if initiating.huvudman_id != self.token.huvudman_id:
            raise FhirError(
                403,
                f"{initiating.name} is not a unit of {organisation}: a token starts a SIP"
                " only in its own organisation's name",
                code="forbidden",
                expression=[f"{self.careplan_path}.careTeam"],
            )
        return initiating

    def warn(self, entry: int, message: str) -> None:
        self.warnings.setdefault(entry, []).append(message)

    # --- the run ----------------------------------------------------------------------------
    def run(self) -> Imported:
        existing = self.find_case()
        initiating = self.authorise(existing)
        self.user = service_user(self.token, initiating)
        person = self.person()
        if existing is not None and existing.person_id != person.id:
            raise FhirError(
                409,
                "The case the CarePlan names belongs to another person",
                code="conflict",
                expression=[f"{self.careplan_path}.identifier"],
            )
        case = existing or self.new_case(person, initiating)
        if case.stage == Stage.BEHOV_IDENTIFIERAT and self.sip.case.stage != case.stage:
            cases.start_preparation(case, user=self.user)
        self.details(case)
        self.roles(case)
        self.participants(case)
        self.consents(case)
        self.meetings_of(case, follow_up=False)
        self.plan(case)
        self.meetings_of(case, follow_up=True)
        self.follow_up(case)
        self.stage(case)
        record(
            "fhir.import",
            user=self.user,
            person_id=case.person_id,
            case_id=case.id,
            detail=token_detail(self.token),
        )
        result = Imported(case=case, created_case=existing is None, warnings=self.warnings)
        self.targets(result)
        return result

    # --- the person ---------------------------------------------------------------------------
    def person(self) -> Person:
        data = self.sip.person
        person = db.session.scalar(select(Person).where(Person.identifier == data.identifier))
        fields: dict[str, Any] = {
            "given_name": data.given_name,
            "family_name": data.family_name,
            "phone": data.phone,
            "email": data.email,
            "address": data.address,
        }
        if person is None:
            person = people.create_person(user=self.user, identifier=data.identifier, **fields)
            may_change = True
        else:
            may_change = shares_person(person.id, self.unit_ids)
            if any(getattr(person, k) != v for k, v in fields.items()):
                if may_change:
                    people.update_person(person, user=self.user, **fields)
                else:
                    self.not_applied(self.patient_entry, "The Patient's name and contact details")
        for related in self.sip.related:
            self.related[related.entry] = self.related_person(person, related, may_change)
        return person

    @property
    def patient_entry(self) -> int:
        return next(e.index for e in self.sip.entries.entries if e.type == "Patient")

    def not_applied(self, entry: int, what: str) -> None:
        self.warn(
            entry,
            f"{what} were not applied: {self.token.huvudman.name} takes part in none of this"
            " person's cases under their consent, so it cannot change what other"
            " organisations show. The details stored here are kept.",
        )

    def related_person(self, person: Person, data: RelatedData, may_change: bool) -> RelatedPerson:
        found = None
        if data.identifier:
            found = next((r for r in person.related if r.identifier == data.identifier), None)
        pk = pk_of(data.logical_id)
        if found is None and pk and str(data.logical_id).startswith("related-"):
            found = next((r for r in person.related if r.id == pk), None)
        if found is None:
            found = next(
                (r for r in person.related if r.kind == data.kind and r.name == data.name), None
            )
        fields: dict[str, Any] = {
            "kind": data.kind,
            "name": data.name,
            "relation": data.relation,
            "phone": data.phone,
            "email": data.email,
            "address": data.address,
        }
        if found is None:
            return people.add_related_person(
                person, user=self.user, identifier=data.identifier, **fields
            )
        differs = any(getattr(found, k) != v for k, v in fields.items()) or (
            data.identifier is not None and found.identifier != data.identifier
        )
        if differs and may_change:
            people.update_related_person(
                person, found, user=self.user, identifier=data.identifier, **fields
            )
        elif differs:
            self.not_applied(data.entry, "The RelatedPerson's details")
        return found

    # --- the case -----------------------------------------------------------------------------
    def new_case(self, person: Person, initiating: Unit) -> SipCase:
        data = self.sip.case
        return cases.create_case(
            person=person,
            user=self.user,
            origin=data.origin,
            utskrivningsklar_on=data.utskrivningsklar_on,
            sakomraden=data.sakomraden,
            need_description=data.need_description,
            initiating_unit=initiating,
            at=data.created_at,
        )

    def details(self, case: SipCase) -> None:
        data = self.sip.case
        current = (
            case.origin,
            case.utskrivningsklar_on,
            case.need_description,
            {s.code for s in case.sakomraden},
        )
        if current != (
            data.origin,
            data.utskrivningsklar_on,
            data.need_description,
            set(data.sakomraden),
        ):
            cases.update_case_details(
                case,
                user=self.user,
                origin=data.origin,
                utskrivningsklar_on=data.utskrivningsklar_on,
                sakomraden=data.sakomraden,
                need_description=data.need_description,
            )
        needs = [cases.NeedInput(n.area, n.description, n.support) for n in data.needs]
        if (
            case.what_matters,
            [(n.area, n.description, n.current_support) for n in case.needs],
        ) != (
            data.what_matters,
            [(n.area, n.description, n.current_support) for n in needs],
        ):
            cases.save_kartlaggning(
                case, user=self.user, what_matters=data.what_matters, needs=needs
            )

    def roles(self, case: SipCase) -> None:
        wanted = {r.kind for r in self.sip.roles}
        for data in self.sip.roles:
            unit = self.unit(data.unit, self.sip.entries.entries[data.entry].path)
            role = case.role(data.kind)
            if role is not None and (role.unit_id, role.person_name) == (unit.id, data.person_name):
                continue
            if data.kind == CaseRoleKind.INITIATIVTAGARE and unit.id != case.initiating_unit_id:
                raise unprocessable(
                    f"The SIP was started by {case.initiating_unit.name}; an import cannot"
                    " change who started it",
                    self.sip.entries.entries[data.entry].path,
                    code="business-rule",
                )
            cases.set_role(
                case, user=self.user, kind=data.kind, unit=unit, person_name=data.person_name
            )
        for role in list(case.roles):
            if role.kind not in wanted and role.kind != CaseRoleKind.INITIATIVTAGARE:
                cases.remove_role(case, user=self.user, kind=role.kind)

    def participants(self, case: SipCase) -> None:
        def key_of(p: Participant) -> tuple[str, object]:
            if p.kind == ParticipantKind.ENHET:
                return ("unit", p.unit_id)
            if p.kind == ParticipantKind.NARSTAENDE:
                return ("related", p.related_person_id)
            return ("annan", p.display_name)

        existing = {key_of(p): p for p in case.participants}
        kept: set[int] = set()
        for data in self.sip.participants:
            unit = self.unit(data.unit, data.path) if data.unit is not None else None
            related = self.related.get(data.related) if data.related is not None else None
            contact = {
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
                participant = cases.add_participant(
                    case,
                    user=self.user,
                    kind=data.kind,
                    unit=unit,
                    related_person=related,
                    **contact,
                )
            elif any(getattr(participant, k) != v for k, v in contact.items()):
                cases.update_participant(case, participant, user=self.user, **contact)
            kept.add(participant.id)
            self.parties[data.key] = participant
        for participant in list(case.participants):
            if participant.id not in kept:
                cases.remove_participant(case, participant, user=self.user)

    # --- consent: recorded once, never changed, withdrawn at most -----------------------------
    def consents(self, case: SipCase) -> None:
        wanted = self.sip.consents
        if len(wanted) < len(case.consents):
            raise unprocessable(
                "A recorded consent cannot be removed by an import; withdraw it instead",
                f"{self.careplan_path}.supportingInfo",
                code="business-rule",
            )
        for position, data in enumerate(wanted):
            if position < len(case.consents):
                self.keep_consent(case, case.consents[position], data)
                continue
            guardian = self.related.get(data.guardian) if data.guardian is not None else None
            cases.record_consent(
                case,
                user=self.user,
                given_by=ConsentGiver.VARDNADSHAVARE if guardian else ConsentGiver.PERSON,
                guardian=guardian,
                method=data.method,
                given_on=data.given_on,
                units=[self.unit(i, f"{data.path}.provision.actor") for i in data.units],
                other_organisations=data.other_organisations,
                exclusions=data.exclusions,
                today=self.today,
            )
            if data.withdrawn_on is not None:
                cases.withdraw_consent(
                    case, user=self.user, withdrawn_on=data.withdrawn_on, note=None
                )

    def keep_consent(self, case: SipCase, stored: Consent, data: ConsentData) -> None:
        """The Bundle must say what was recorded; it may add the withdrawal of the current one."""
        guardian = self.related.get(data.guardian) if data.guardian is not None else None
        units = {self.unit(i, f"{data.path}.provision.actor").id for i in data.units}
        recorded = (
            stored.method,
            stored.given_on,
            stored.guardian_id,
            {u.id for u in stored.units},
            stored.other_organisations,
            stored.exclusions,
        )
        sent = (
            data.method,
            data.given_on,
            guardian.id if guardian else None,
            units,
            data.other_organisations,
            data.exclusions,
        )
        if recorded != sent:
            raise unprocessable(
                "A recorded consent cannot be changed by an import (who gave it, when, how,"
                " which units it covers, what it excludes): record a new consent instead",
                data.path,
                code="business-rule",
            )
        if stored.withdrawn_on is not None and data.withdrawn_on != stored.withdrawn_on:
            raise unprocessable(
                f"The consent was withdrawn on {stored.withdrawn_on.isoformat()}; an import"
                " cannot undo or move a withdrawal",
                f"{data.path}.provision.period",
                code="business-rule",
            )
        if stored.withdrawn_on is None and data.withdrawn_on is not None:
            if case.active_consent is not stored:
                raise unprocessable(
                    "Only the current consent can be withdrawn",
                    f"{data.path}.provision.period",
                    code="business-rule",
                )
            cases.withdraw_consent(case, user=self.user, withdrawn_on=data.withdrawn_on, note=None)

    # --- meetings -----------------------------------------------------------------------------
    def meetings_of(self, case: SipCase, *, follow_up: bool) -> None:
        called = {m.id: m for m in case.meetings if m.kallelse_sent_at is not None}
        for data in self.sip.meetings:
            if data.is_follow_up != follow_up:
                continue
            pk = pk_of(data.logical_id) if str(data.logical_id).startswith("meeting-") else None
            meeting = called.get(pk) if pk is not None else None
            self.meetings[data.appointment] = self.meeting(case, meeting, data)

    def meeting(self, case: SipCase, found: Meeting | None, data: MeetingData) -> Meeting:
        invited = []
        for key, _response, path in data.invitations:
            participant = self.parties.get(key)
            if participant is None:
                raise unprocessable("The invited party is not in the CareTeam", path)
            invited.append(participant)
        calendar = (data.starts_at, data.duration_minutes, data.place, data.video_link)
        if found is not None and (
            (found.starts_at, found.duration_minutes, found.place, found.video_link) == calendar
            and {i.participant_id for i in found.invitations} == {p.id for p in invited}
        ):
            meeting = found
        else:
            meeting = meetings.schedule_meeting(
                case,
                user=self.user,
                starts_at=data.starts_at,
                duration_minutes=data.duration_minutes,
                place=data.place,
                video_link=data.video_link,
                participants=invited,
                meeting=found,
                allow_past=True,  # a record of meetings already called, held ones included
            )
            if found is None:  # a kallelse this system has not recorded yet
                meetings.send_kallelse(case, meeting, user=self.user, at=data.kallelse_sent_at)
        by_participant = {i.participant_id: i for i in meeting.invitations}
        answers = {
            by_participant[self.parties[key].id].id: response
            for key, response, _path in data.invitations
        }
        if meeting.held_at is None:
            meetings.record_responses(case, meeting, user=self.user, responses=answers)
        if data.encounter is not None and meeting.held_at is None:
            if data.held_at is None:
                raise unprocessable(
                    "The Encounter says when the meeting was held",
                    f"Bundle.entry[{data.encounter}].resource.period",
                )
            meetings.record_meeting_held(
                case,
                meeting,
                user=self.user,
                held_at=data.held_at,
                person_attended=bool(data.person_attended),
                attended={
                    by_participant[self.parties[key].id].id: key in data.attended
                    for key, _response, _path in data.invitations
                },
                notes=None,
            )
        return meeting

    # --- the plan -----------------------------------------------------------------------------
    def plan(self, case: SipCase) -> None:
        data = self.sip.plan
        if data is None:
            return
        insatser = []
        for item in data.insatser:
            owner = self.orgs[item.owner]
            unit = owner if isinstance(owner, Unit) else None
            huvudman: Huvudman = owner.huvudman if isinstance(owner, Unit) else owner
            insatser.append(
                plans.InsatsInput(item.description, huvudman, unit, item.starts_on, item.ends_on)
            )
        # After a follow-up, the CarePlan's date is the next follow-up; the draft keeps the
        # date the plan was established with: the first evaluation's.
        evaluated = sorted({g.status_date for g in data.goals if g.status_date})
        follow_up_on = evaluated[0] if data.version is not None and evaluated else data.follow_up_on
        plan = plans.plan_for(case)
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
                (
                    i.description,
                    i.huvudman.id if i.huvudman else None,
                    i.unit.id if i.unit else None,
                    i.starts_on,
                    i.ends_on,
                )
                for i in insatser
            ],
            [(a.actor, a.description) for a in data.atgarder],
            data.follow_up_method,
            follow_up_on,
        )
        if current != wanted:
            plans.save_plan(
                case,
                user=self.user,
                lock_version=plan.lock_version,
                goals=[g.text for g in data.goals],
                insatser=insatser,
                atgarder=[plans.AtgardInput(a.actor, a.description) for a in data.atgarder],
                follow_up_method=data.follow_up_method,
                follow_up_on=follow_up_on,
            )
        if data.version is None:
            return
        version = plan.current_version
        if version is not None and version.content == plans.snapshot(case):
            return
        if version is not None and data.version <= version.number:
            raise unprocessable(
                f"Version {version.number} is established and cannot change; send a new version",
                f"{self.careplan_path}.extension",
                code="business-rule",
            )
        plans.establish_plan(case, user=self.user, at=data.established_at)

    def follow_up(self, case: SipCase) -> None:
        """The latest evaluation of every goal and insats, as the follow-up that gave it."""
        data = self.sip.plan
        if data is None or case.plan is None or case.plan.current_version is None:
            return
        goals = [g for g in data.goals if g.outcome]
        tasks = [i for i in data.insatser if i.outcome]
        if not goals and not tasks:
            return
        version = case.plan.current_version
        latest = [f for f in case.follow_ups if f.plan_version_id == version.id][-1:]
        now = sorted((e.subject, e.subject_text, e.outcome) for f in latest for e in f.evaluations)
        wished = sorted(
            [("goal", g.text, g.outcome) for g in goals]
            + [("insats", i.description, i.outcome) for i in tasks]
        )
        if latest and now == wished and latest[0].next_follow_up_on == data.follow_up_on:
            return
        if len(goals) != len(data.goals) or len(tasks) != len(data.insatser):
            raise unprocessable(
                "A follow-up evaluates every goal and every insats of the plan: give each"
                " Goal an outcome and each Task its outcome, or none",
                f"{self.careplan_path}.goal",
                code="business-rule",
            )
        days = [g.status_date for g in goals if g.status_date]
        plans.record_follow_up(
            case,
            user=self.user,
            held_on=max(days) if days else version.established_at.date(),
            evaluations=[plans.EvaluationInput("goal", g.text, g.outcome) for g in goals]  # type: ignore[arg-type]
            + [plans.EvaluationInput("insats", i.description, i.outcome) for i in tasks],  # type: ignore[arg-type]
            next_follow_up_on=data.follow_up_on,
            notes=None,
            today=self.today,
        )

    # --- where the case ends up -------------------------------------------------------------
    def stage(self, case: SipCase) -> None:
        wanted = self.sip.case.stage
        if case.stage == wanted:
            return
        ends = {
            Stage.AVSLUTAD: cases.close_case,
            Stage.AVBRUTEN: cases.abort_case,
            Stage.AVBOJD: cases.decline_case,
        }
        if wanted in FINAL_STAGES and can_move(case, wanted):
            ends[wanted](case, user=self.user, reason="FHIR import", at=self.sip.case.ended_at)
            return
        raise unprocessable(
            f"The CarePlan says the SIP is at {wanted}, but what the Bundle holds brings it"
            f" to {case.stage} (a kallelse moves it on, a held meeting, an established plan,"
            " a follow-up)",
            self.sip.case.stage_path,
            code="business-rule",
        )

    # --- what each entry became -----------------------------------------------------------
    def targets(self, result: Imported) -> None:
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
        for called in sip.meetings:
            meeting = self.meetings[called.appointment]
            targets[called.appointment] = ("Appointment", fs.appointment_id(meeting.id))
            if called.encounter is not None:
                targets[called.encounter] = ("Encounter", fs.encounter_id(meeting.id))


def import_sip(sip: SipBundle, token: ApiToken, today: date | None = None) -> Imported:
    """Create or update the case the Bundle describes (flushed, not committed)."""
    return Importer(sip, token, today).run()
