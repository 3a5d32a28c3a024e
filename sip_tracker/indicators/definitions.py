"""The indicators: what each counts, in the words users see, and the SQL behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from sip_tracker.indicators import queries as q


class Kind(StrEnum):
    COUNT = "count"  # how many: adds up over periods and groups
    SHARE = "share"  # a percentage of a denominator
    MEDIAN = "median"  # median days


@dataclass(frozen=True)
class Indicator:
    key: str
    kind: Kind
    title: Any  # lazy string
    explanation: Any
    events: Callable[[date], Select[Any]]


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "started",
        Kind.COUNT,
        _l("Påbörjade SIP:ar"),
        _l("Ärenden som skapades (behov identifierat) under perioden."),
        q.started_events,
    ),
    Indicator(
        "held",
        Kind.COUNT,
        _l("Hållna SIP:ar"),
        _l("Ärenden vars första SIP-möte hölls under perioden."),
        q.held_events,
    ),
    Indicator(
        "followed_up",
        Kind.COUNT,
        _l("Uppföljningar"),
        _l("Uppföljningar av fastställda planer som hölls under perioden."),
        q.followed_up_events,
    ),
    Indicator(
        "closed",
        Kind.COUNT,
        _l("Avslutade SIP:ar"),
        _l("Ärenden som avslutades under perioden."),
        q.closed_events,
    ),
    Indicator(
        "declined",
        Kind.COUNT,
        _l("Avböjda SIP:ar"),
        _l("Ärenden där personen tackade nej under perioden."),
        q.declined_events,
    ),
    Indicator(
        "person_present",
        Kind.SHARE,
        _l("Andel möten där personen deltog"),
        _l("Av SIP-möten som hölls under perioden, första möten och uppföljningsmöten."),
        q.person_present_events,
    ),
    Indicator(
        "narstaende_present",
        Kind.SHARE,
        _l("Andel möten där närstående deltog"),
        _l("Av SIP-möten som hölls under perioden, första möten och uppföljningsmöten."),
        q.narstaende_present_events,
    ),
    Indicator(
        "need_to_kallelse",
        Kind.MEDIAN,
        _l("Dagar från behov till kallelse"),
        _l(
            "Median i kalenderdagar från dagen ärendet skapades till dagen den första"
            " kallelsen skickades, för kallelser som skickades under perioden."
        ),
        q.need_to_kallelse_events,
    ),
    Indicator(
        "kallelse_to_meeting",
        Kind.MEDIAN,
        _l("Dagar från kallelse till möte"),
        _l(
            "Median i kalenderdagar från den första kallelsen till det första SIP-mötet,"
            " för möten som hölls under perioden."
        ),
        q.kallelse_to_meeting_events,
    ),
    Indicator(
        "discharge_kallelse",
        Kind.SHARE,
        _l("Andel kallelser vid utskrivning inom 3 dagar"),
        _l(
            "Ärenden vid utskrivning med utskrivningsklar under perioden: andel där den första"
            " kallelsen skickades senast tre kalenderdagar efter utskrivningsklar, helger"
            " inräknade (lag 2017:612). Ett ärende utan kallelse räknas som försenat när"
            " fristen har gått ut, om det inte har avslutats."
        ),
        q.discharge_kallelse_events,
    ),
    Indicator(
        "plan_follow_up_date",
        Kind.SHARE,
        _l("Andel planer med datum för uppföljning"),
        _l("Planer som fastställdes under perioden (varje fastställd version)."),
        q.plan_follow_up_date_events,
    ),
    Indicator(
        "plan_followed_up",
        Kind.SHARE,
        _l("Andel planer uppföljda senast på uppföljningsdatum"),
        _l(
            "Planer vars uppföljningsdatum låg under perioden och har passerat: andel där en"
            " uppföljning hölls senast det datumet."
        ),
        q.plan_followed_up_events,
    ),
    Indicator(
        "plan_complete",
        Kind.SHARE,
        _l("Andel planer med huvudansvarig och ansvarig huvudman för varje insats"),
        _l("Planer som fastställdes under perioden (varje fastställd version)."),
        q.plan_complete_events,
    ),
)

BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
