"""The code lists of a SIP case, with their Swedish labels (translated through Babel)."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Stage(StrEnum):
    BEHOV_IDENTIFIERAT = "behov_identifierat"
    FORBEREDELSE = "forberedelse"
    KALLAD = "kallad"
    MOTE_HALLET = "mote_hallet"
    PLAN_FASTSTALLD = "plan_faststalld"
    UPPFOLJNING = "uppfoljning"
    AVSLUTAD = "avslutad"
    AVBOJD = "avbojd"
    AVBRUTEN = "avbruten"


# The main line, in order; AVBOJD and AVBRUTEN leave it.
STAGE_ORDER = (
    Stage.BEHOV_IDENTIFIERAT,
    Stage.FORBEREDELSE,
    Stage.KALLAD,
    Stage.MOTE_HALLET,
    Stage.PLAN_FASTSTALLD,
    Stage.UPPFOLJNING,
    Stage.AVSLUTAD,
)
FINAL_STAGES = frozenset({Stage.AVSLUTAD, Stage.AVBOJD, Stage.AVBRUTEN})

STAGE_LABELS = {
    Stage.BEHOV_IDENTIFIERAT: _l("Behov identifierat"),
    Stage.FORBEREDELSE: _l("Förberedelse"),
    Stage.KALLAD: _l("Kallad"),
    Stage.MOTE_HALLET: _l("Möte hållet"),
    Stage.PLAN_FASTSTALLD: _l("Plan fastställd"),
    Stage.UPPFOLJNING: _l("Uppföljning"),
    Stage.AVSLUTAD: _l("Avslutad"),
    Stage.AVBOJD: _l("Avböjd"),
    Stage.AVBRUTEN: _l("Avbruten"),
}


class Origin(StrEnum):
    UTSKRIVNING = "utskrivning"
    ANNAN = "annan"


ORIGIN_LABELS = {
    Origin.UTSKRIVNING: _l("Vid utskrivning från slutenvård"),
    Origin.ANNAN: _l("Annat behov"),
}


class Sakomrade(StrEnum):
    """The sakområden of the Stockholm county action plan that a person's case can fall in."""

    BARN_UNGA = "barn_unga"
    PSYKISK_OHALSA = "psykisk_ohalsa_beroende"
    FUNKTIONSNEDSATTNING = "funktionsnedsattning"
    ALDRE = "aldre"


SAKOMRADE_LABELS = {
    Sakomrade.BARN_UNGA: _l("Barn och ungas hälsa"),
    Sakomrade.PSYKISK_OHALSA: _l("Psykisk ohälsa och beroende"),
    Sakomrade.FUNKTIONSNEDSATTNING: _l("Hälsa för personer med funktionsnedsättning"),
    Sakomrade.ALDRE: _l("Äldres hälsa"),
}


class CaseRoleKind(StrEnum):
    INITIATIVTAGARE = "initiativtagare"
    MOTESLEDARE = "motesledare"
    HUVUDANSVARIG = "huvudansvarig"


CASE_ROLE_LABELS = {
    CaseRoleKind.INITIATIVTAGARE: _l("Initiativtagare"),
    CaseRoleKind.MOTESLEDARE: _l("Mötesledare"),
    CaseRoleKind.HUVUDANSVARIG: _l("Huvudansvarig"),
}


class ConsentGiver(StrEnum):
    PERSON = "person"
    VARDNADSHAVARE = "vardnadshavare"


CONSENT_GIVER_LABELS = {
    ConsentGiver.PERSON: _l("Personen själv"),
    ConsentGiver.VARDNADSHAVARE: _l("Vårdnadshavare"),
}


class ConsentMethod(StrEnum):
    SKRIFTLIGT = "skriftligt"
    MUNTLIGT = "muntligt"


CONSENT_METHOD_LABELS = {
    ConsentMethod.SKRIFTLIGT: _l("Skriftligt"),
    ConsentMethod.MUNTLIGT: _l("Muntligt"),
}


class NeedArea(StrEnum):
    """Life areas for the kartläggning of needs."""

    HALSA = "halsa"
    PSYKISK_HALSA = "psykisk_halsa"
    BOENDE = "boende"
    SYSSELSATTNING = "sysselsattning"
    EKONOMI = "ekonomi"
    VARDAG = "vardag"
    RELATIONER = "relationer"
    TRYGGHET = "trygghet"
    FRITID = "fritid"
    OVRIGT = "ovrigt"


NEED_AREA_LABELS = {
    NeedArea.HALSA: _l("Fysisk hälsa"),
    NeedArea.PSYKISK_HALSA: _l("Psykisk hälsa"),
    NeedArea.BOENDE: _l("Boende"),
    NeedArea.SYSSELSATTNING: _l("Sysselsättning, skola eller arbete"),
    NeedArea.EKONOMI: _l("Ekonomi"),
    NeedArea.VARDAG: _l("Vardag och personlig vård"),
    NeedArea.RELATIONER: _l("Relationer och nätverk"),
    NeedArea.TRYGGHET: _l("Trygghet och säkerhet"),
    NeedArea.FRITID: _l("Fritid"),
    NeedArea.OVRIGT: _l("Övrigt"),
}


class ParticipantKind(StrEnum):
    ENHET = "enhet"
    NARSTAENDE = "narstaende"
    ANNAN = "annan"


PARTICIPANT_KIND_LABELS = {
    ParticipantKind.ENHET: _l("Enhet hos kommun eller region"),
    ParticipantKind.NARSTAENDE: _l("Närstående"),
    ParticipantKind.ANNAN: _l("Annan aktör (skola, Försäkringskassan …)"),
}


class Response(StrEnum):
    OBESVARAD = "obesvarad"
    KOMMER = "kommer"
    KOMMER_INTE = "kommer_inte"
    KANSKE = "kanske"
    ANNAN_TID = "annan_tid"  # föreslår annan tid


RESPONSE_LABELS = {
    Response.OBESVARAD: _l("Inte svarat"),
    Response.KOMMER: _l("Kommer"),
    Response.KOMMER_INTE: _l("Kommer inte"),
    Response.KANSKE: _l("Osäker"),
    Response.ANNAN_TID: _l("Föreslår annan tid"),
}


class Outcome(StrEnum):
    """How far a goal or insats has come at a follow-up."""

    UPPNATT = "uppnatt"
    DELVIS = "delvis"
    EJ_UPPNATT = "ej_uppnatt"
    PAGAR = "pagar"


OUTCOME_LABELS = {
    Outcome.UPPNATT: _l("Uppnått"),
    Outcome.DELVIS: _l("Delvis uppnått"),
    Outcome.EJ_UPPNATT: _l("Inte uppnått"),
    Outcome.PAGAR: _l("Pågår"),
}


def values(enum: type[StrEnum]) -> list[str]:
    """The stored values of an enum, for SQLAlchemy's values_callable."""
    return [member.value for member in enum]
