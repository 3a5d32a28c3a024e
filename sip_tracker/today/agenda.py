"""The lines of "Idag": each deadline due by the end of the week, what it is, when, in which
case, and where it is done; sorted into overdue, today and this week."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sip_tracker import clock
from sip_tracker.auth.models import User
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.workflow import DeadlineKind, deadline_kind
from sip_tracker.db import db, utcnow
from sip_tracker.i18n import local_date, local_datetime, to_utc
from sip_tracker.messages.models import CaseMessage
from sip_tracker.messages.services import receipt_due
from sip_tracker.today import queries

# "Den här veckan": the seven days after today.
WEEK_DAYS = 7
# An invitation is to be answered two days before its meeting (the reminder's rule, issue 9).
ANSWER_DAYS_BEFORE_MEETING = 2

LABELS = {
    "kallelse": _l("Kallelse senast (utskrivning)"),
    "meeting": _l("SIP-möte"),
    "follow_up_meeting": _l("Uppföljningsmöte"),
    "follow_up": _l("Uppföljning"),
    "answer": _l("Svara på kallelse"),
    "message": _l("Oläst meddelande"),
    "acknowledge": _l("Kvittera meddelande"),
    "receipt_missing": _l("Kvittens saknas"),
    "receipt_awaited": _l("Kvittens väntas"),
}


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class Due:
    """One thing to do: which deadline (label), by when, in which case, and where."""

    label: str
    on: date
    case: SipCase
    links: list[Link]
    detail: str = ""
    # Unread messages have no deadline: they are for today, whenever they came.
    can_be_late: bool = True


@dataclass
class Agenda:
    today: date
    week_end: date
    overdue: list[Due] = field(default_factory=list)
    due_today: list[Due] = field(default_factory=list)
    this_week: list[Due] = field(default_factory=list)

    def add(self, due: Due) -> None:
        if due.on < self.today and due.can_be_late:
            self.overdue.append(due)
        elif due.on <= self.today:
            self.due_today.append(due)
        elif due.on <= self.week_end:
            self.this_week.append(due)

    @property
    def cases(self) -> list[SipCase]:
        """The cases the page names, once each."""
        found = {d.case.id: d.case for d in (*self.overdue, *self.due_today, *self.this_week)}
        return list(found.values())

    def sort(self) -> None:
        for part in (self.overdue, self.due_today, self.this_week):
            part.sort(key=lambda d: (d.on, d.case.id))


def agenda_for(user: User, *, today: date, only_mine: bool = False) -> Agenda:
    """Everything due for the user by the end of the week, late things included."""
    agenda = Agenda(today=today, week_end=today + timedelta(days=WEEK_DAYS))
    after_week = to_utc(datetime.combine(agenda.week_end + timedelta(days=1), time()))
    _case_deadlines(agenda, user, only_mine)
    _meetings(agenda, user, only_mine, after_week)
    _invitations(agenda, user, only_mine)
    _messages(agenda, user, only_mine)
    agenda.sort()
    return agenda


def _case_link(case: SipCase, anchor: str | None = None) -> Link:
    return Link(url_for("cases.show", case_id=case.id, _anchor=anchor), _("Till ärendet"))


def _thread_link(case: SipCase) -> Link:
    return Link(
        url_for("cases.show", case_id=case.id, _anchor="meddelanden"), _("Till meddelandena")
    )


def _case_deadlines(agenda: Agenda, user: User, only_mine: bool) -> None:
    query = queries.cases_due(user, only_mine=only_mine, until=agenda.week_end)
    for case in db.session.scalars(query):
        kind = deadline_kind(case.stage)
        assert case.next_due_on is not None  # the query's condition
        if kind == DeadlineKind.KALLELSE:
            agenda.add(
                Due(
                    LABELS["kallelse"],
                    case.next_due_on,
                    case,
                    [_case_link(case, "moten")],
                    _(
                        "Tre dagar efter utskrivningsklar %(date)s.",
                        date=case.utskrivningsklar_on.isoformat()
                        if case.utskrivningsklar_on
                        else "–",
                    ),
                )
            )
        elif kind == DeadlineKind.FOLLOW_UP:
            follow_up = Link(url_for("plans.follow_ups", case_id=case.id), _("Till uppföljningen"))
            agenda.add(Due(LABELS["follow_up"], case.next_due_on, case, [follow_up]))


def _meeting_time(starts_at: datetime, place: str | None) -> str:
    text = _("kl. %(time)s", time=local_datetime(starts_at).strftime("%H:%M"))
    return f"{text}, {place}" if place else text


def _meetings(agenda: Agenda, user: User, only_mine: bool, before: datetime) -> None:
    query = queries.meetings_due(user, only_mine=only_mine, before=before)
    for meeting, case in db.session.execute(query).tuples():
        on = local_date(meeting.starts_at)
        detail = _meeting_time(meeting.starts_at, meeting.place)
        if meeting.kallelse_sent_at is None:
            detail += ". " + _("Kallelsen är inte skickad.")
        elif on < agenda.today:
            detail += ". " + _("Registrera mötet som hållet.")
        link = Link(
            url_for("meetings.show", case_id=case.id, meeting_id=meeting.id), _("Till mötet")
        )
        label = LABELS["follow_up_meeting" if meeting.is_follow_up else "meeting"]
        agenda.add(Due(label, on, case, [link], detail))


def _invitations(agenda: Agenda, user: User, only_mine: bool) -> None:
    # Meetings ahead whose answer is due by the end of the week.
    last = agenda.week_end + timedelta(days=ANSWER_DAYS_BEFORE_MEETING + 1)
    query = queries.unanswered_invitations(
        user,
        only_mine=only_mine,
        after=utcnow(),
        before=to_utc(datetime.combine(last, time())),
    )
    for _invitation, meeting, case in db.session.execute(query).tuples():
        meeting_on = local_date(meeting.starts_at)
        link = Link(
            url_for("meetings.show", case_id=case.id, meeting_id=meeting.id), _("Till mötet")
        )
        detail = _(
            "Mötet %(date)s %(time)s.",
            date=meeting_on.isoformat(),
            time=_meeting_time(meeting.starts_at, meeting.place),
        )
        on = meeting_on - timedelta(days=ANSWER_DAYS_BEFORE_MEETING)
        agenda.add(Due(LABELS["answer"], on, case, [link], detail))


def _receipt_due(message: CaseMessage) -> date:
    """The day a kvittens is late after (one working day, as the thread flags it)."""
    return local_date(receipt_due(message.created_at))


def _messages(agenda: Agenda, user: User, only_mine: bool) -> None:
    for item, case in db.session.execute(
        queries.unread_messages(user, only_mine=only_mine)
    ).tuples():
        received = local_date(item.created_at)
        read = Link(url_for("inbox.show", item_id=item.id), _("Läs i inkorgen"))
        detail = _("Mottaget %(date)s.", date=received.isoformat())
        agenda.add(
            Due(
                LABELS["message"],
                agenda.today,
                case,
                [read, _thread_link(case)],
                detail,
                can_be_late=False,
            )
        )
    for message, case in db.session.execute(
        queries.receipts_owed(user, only_mine=only_mine)
    ).tuples():
        sent = local_date(message.created_at)
        detail = _("Från %(unit)s %(date)s.", unit=message.author_unit.name, date=sent.isoformat())
        agenda.add(
            Due(LABELS["acknowledge"], _receipt_due(message), case, [_thread_link(case)], detail)
        )
    for message, case in db.session.execute(
        queries.receipts_awaited(user, only_mine=only_mine)
    ).tuples():
        sent = local_date(message.created_at)
        waiting = ", ".join(r.unit.name for r in message.receipts if r.acknowledged_at is None)
        detail = _("Skickat %(date)s. Väntar på %(units)s.", date=sent.isoformat(), units=waiting)
        due = _receipt_due(message)
        agenda.add(
            Due(
                LABELS["receipt_missing" if due < clock.today() else "receipt_awaited"],
                due,
                case,
                [_thread_link(case)],
                detail,
            )
        )
