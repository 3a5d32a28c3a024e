"""Time as the law and the users count it: the calendar day in Stockholm.

A kallelse is due three calendar days after utskrivningsklar, a consent may not be dated
tomorrow: "today" is the date in Stockholm, whatever the server's time zone. One helper,
used everywhere instead of the server's local date.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today() -> date:
    """Today's date in Stockholm."""
    return datetime.now(STOCKHOLM).date()
