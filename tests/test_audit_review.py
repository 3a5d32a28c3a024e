"""The log review: unusual access flagged and explained, a random monthly sample that can
be reopened, verdicts recorded with who and when, administrators only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from sip_tracker.audit import flags
from sip_tracker.audit.flags import Flag
from sip_tracker.audit.models import AuditEvent, AuditReview, AuditSample, ReviewOutcome
from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role
from sip_tracker.cases import services as cases
from sip_tracker.cases.access import can_view_case
from sip_tracker.clock import today
from sip_tracker.config import ConfigError, load_config
from sip_tracker.db import db
from tests.factories import login
from tests.test_audit import add_event, html_of, rows_of, search

NO_PART = "Användarens enhet deltar inte i ärendet"
PROTECTED = "Personen har skyddade personuppgifter."


def bulk_text(n: int = 20) -> str:
    return f"Användaren öppnade uppgifter om fler än {n} olika personer inom en timme."


@pytest.fixture
def admin(make):
    return make.user(role=Role.ADMINISTRATOR, name="Ali Admin")


@pytest.fixture
def world(make):
    """A kommun unit's case shared with a region unit; a sibling unit outside it."""
    kommun = make.huvudman()
    own, sibling = make.unit(kommun), make.unit(kommun)
    region_unit = make.unit()
    coordinator = make.user(own)
    case = make.shared_case(coordinator, region_unit)
    return {
        "case": case,
        "coordinator": coordinator,
        "region": make.user(region_unit),
        "sibling": make.user(sibling),
        "reviewer": make.user(sibling, role=Role.GRANSKARE, reviewed_units=[own]),
        "other_reviewer": make.user(sibling, role=Role.GRANSKARE, reviewed_units=[sibling]),
        "admin_elsewhere": make.user(sibling, role=Role.ADMINISTRATOR),
    }


def flags_of(event: AuditEvent, bulk_limit: int = 20) -> list[Flag]:
    db.session.flush()
    found = db.session.execute(flags.flags_of([event.id], bulk_limit)).tuples().all()
    return flags.flags_by_event(list(found))[event.id]


def read(user, case) -> AuditEvent:
    return record("case.read", user=user, person_id=case.person_id, case_id=case.id)


# (a) the user's unit does not take part in the case


@pytest.mark.parametrize(
    "who",
    ["coordinator", "region", "sibling", "reviewer", "other_reviewer", "admin_elsewhere"],
)
def test_the_flag_says_what_the_access_rule_says(world, who):
    user, case = world[who], world["case"]

    flagged = Flag.NO_PART in flags_of(read(user, case))

    assert flagged is not can_view_case(user, case)


def test_a_unit_that_no_longer_takes_part_is_flagged(world):
    case, region = world["case"], world["region"]
    before = read(region, case)
    assert flags_of(before) == []

    cases.withdraw_consent(case, user=world["coordinator"], withdrawn_on=today(), note=None)

    assert flags_of(before) == [Flag.NO_PART]
    assert flags_of(read(world["coordinator"], case)) == []


def test_rows_without_a_user_or_a_case_are_not_flagged_as_outside_the_case(world):
    case = world["case"]
    token_read = record("fhir.read", user=None, person_id=case.person_id, case_id=case.id)
    person_read = record("person.read", user=world["sibling"], person_id=case.person_id)

    assert flags_of(token_read) == []
    assert flags_of(person_read) == []


# (b) bulk reads


def test_opening_more_than_n_persons_within_an_hour_is_flagged(make, admin):
    user = make.user()
    persons = [make.person(admin) for _ in range(22)]
    start = datetime(2024, 4, 10, 8, tzinfo=UTC)
    rows = [
        add_event(p.id, start + timedelta(minutes=2 * i), "person.read", user_id=user.id)
        for i, p in enumerate(persons[:21])
    ]
    # By the 22nd person the reads at 8:00 and 8:02 have left the hour: 20 in the window.
    later = add_event(
        persons[21].id, start + timedelta(hours=1, minutes=3), "person.read", user_id=user.id
    )

    assert [Flag.BULK in flags_of(row) for row in rows] == [False] * 20 + [True]
    assert flags_of(later) == []


def test_the_same_person_many_times_and_list_rows_are_not_bulk_reading(make, admin):
    user = make.user()
    one = make.person(admin)
    others = [make.person(admin) for _ in range(25)]
    start = datetime(2024, 4, 10, 8, tzinfo=UTC)
    for i in range(30):
        add_event(one.id, start + timedelta(seconds=i), "case.read", user_id=user.id)
    for i, p in enumerate(others):
        add_event(p.id, start + timedelta(seconds=40 + i), "case.list", user_id=user.id)
    last = add_event(one.id, start + timedelta(minutes=5), "case.read", user_id=user.id)

    assert flags_of(last) == []


def test_the_bulk_limit_is_configurable(app, client, make, admin, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_BULK_READ_LIMIT", 3)
    user = make.user()
    start = datetime(2024, 4, 10, 8, tzinfo=UTC)
    for i in range(4):
        add_event(
            make.person(admin).id, start + timedelta(minutes=i), "person.read", user_id=user.id
        )
    make.commit()
    login(client, admin)

    html = html_of(search(client, user=user.email, only_flagged="y"))

    assert len(rows_of(html)) == 1
    assert bulk_text(3) in html


@pytest.mark.parametrize(
    ("after", "flagged"), [(timedelta(hours=1), False), (timedelta(hours=1, microseconds=-1), True)]
)
def test_the_hour_is_exact_to_the_microsecond(make, admin, after, flagged):
    user = make.user()
    first = datetime(2024, 4, 10, 8, 0, 0, 500_000, tzinfo=UTC)
    for i in range(20):
        add_event(
            make.person(admin).id, first + timedelta(seconds=i), "person.read", user_id=user.id
        )
    last = add_event(make.person(admin).id, first + after, "person.read", user_id=user.id)

    assert (Flag.BULK in flags_of(last)) is flagged


def test_a_burst_across_a_clock_hour_is_found_by_the_only_flagged_filter(client, make, admin):
    user = make.user()
    start = datetime(2024, 4, 10, 8, 40, tzinfo=UTC)  # 10 reads before 9:00, 11 after
    for i in range(21):
        add_event(
            make.person(admin).id, start + timedelta(minutes=2 * i), "person.read", user_id=user.id
        )
    make.commit()
    login(client, admin)

    html = html_of(search(client, first_day="2024-04-10", last_day="2024-04-10", only_flagged="y"))

    rows = rows_of(html)
    assert len(rows) == 1 and "2024-04-10 11:20:00" in rows[0]  # the 21st, in Stockholm
    assert bulk_text() in rows[0]


# (c) protected identity


def test_every_row_about_a_person_with_a_protected_identity_is_flagged(make, admin):
    user = make.user()
    person = make.person(admin)
    person.protected_identity = True

    event = record("person.read", user=user, person_id=person.id)

    assert flags_of(event) == [Flag.PROTECTED]


# The page


def test_flags_are_explained_on_the_page_and_can_be_the_only_rows_shown(client, world, admin, make):
    case, sibling = world["case"], world["sibling"]
    hidden = make.person(admin, given_name="Hemlig")
    hidden.protected_identity = True
    read(world["coordinator"], case)
    read(sibling, case)
    record("person.read", user=world["coordinator"], person_id=hidden.id)
    make.commit()
    login(client, admin)

    every = html_of(search(client))
    flagged = html_of(search(client, only_flagged="y"))

    # The sibling unit's read, and both rows about the protected person (its registration).
    assert len(rows_of(flagged)) == 3
    assert NO_PART in flagged and PROTECTED in flagged
    assert sibling.name in flagged
    assert len(rows_of(every)) > len(rows_of(flagged))
    # A protected person's name is not shown in the list, their number is.
    assert "Hemlig" not in flagged
    assert hidden.identifier[:8] in flagged


def test_viewing_the_log_logs_one_read_per_person_shown(client, make, admin):
    user = make.user()
    first, second = make.person(admin), make.person(admin)
    for person in (first, second, first):
        record("person.read", user=user, person_id=person.id)
    make.commit()
    login(client, admin)

    search(client, user=user.email)

    logged = db.session.scalars(
        select(AuditEvent.person_id).where(AuditEvent.action == "audit.read")
    ).all()
    assert sorted(logged) == sorted([first.id, second.id])


# The monthly sample


def _month_of_rows(make, admin) -> list[AuditEvent]:
    person = make.person(admin)
    inside = [
        add_event(person.id, datetime(2024, 3, 1, 12, tzinfo=UTC) + timedelta(days=i))
        for i in range(20)
    ]
    # 29 Feb 23:30 UTC is 1 March in Stockholm; 31 March 22:30 UTC is 1 April.
    inside.append(add_event(person.id, datetime(2024, 2, 29, 23, 30, tzinfo=UTC)))
    add_event(person.id, datetime(2024, 2, 29, 22, 30, tzinfo=UTC))
    add_event(person.id, datetime(2024, 3, 31, 22, 30, tzinfo=UTC))
    make.commit()
    return inside


def test_a_sample_is_drawn_from_the_month_and_can_be_reopened(client, make, admin):
    inside = _month_of_rows(make, admin)
    login(client, admin)

    response = client.post("/admin/audit/samples", data={"month": "2024-03", "size": "5"})

    assert response.status_code == 303
    sample = db.session.scalar(select(AuditSample))
    assert response.headers["Location"].endswith(f"/admin/audit/samples/{sample.id}")
    assert (sample.month, sample.size, sample.drawn_by_id) == (date(2024, 3, 1), 5, admin.id)
    drawn = {event.id for event in sample.events}
    assert len(drawn) == 5 and drawn <= {event.id for event in inside}
    first = html_of(client.get(f"/admin/audit/samples/{sample.id}"))
    again = html_of(client.get(f"/admin/audit/samples/{sample.id}"))
    assert rows_of(first) == rows_of(again) and len(rows_of(first)) == 5
    assert "Ali Admin" in first
    listing = html_of(client.get("/admin/audit/samples"))
    assert "2024-03" in listing and f"/admin/audit/samples/{sample.id}" in listing


def test_the_draw_is_random(client, make, admin):
    _month_of_rows(make, admin)
    login(client, admin)

    for _ in range(10):
        client.post("/admin/audit/samples", data={"month": "2024-03", "size": "1"})

    drawn = {s.events[0].id for s in db.session.scalars(select(AuditSample))}
    # Ten draws of one row out of 21 all alike: (1/21)^9, about 1 in 10^12.
    assert len(drawn) > 1


def test_a_quiet_month_gives_what_it_has(client, make, admin):
    inside = _month_of_rows(make, admin)
    login(client, admin)

    client.post("/admin/audit/samples", data={"month": "2024-03", "size": "500"})

    sample = db.session.scalar(select(AuditSample))
    assert len(sample.events) == len(inside)
    assert f"av {500} begärda" in html_of(client.get("/admin/audit/samples"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"month": "2024-13", "size": "5"}, "month", "Inte ett giltigt datum"),
        ({"month": "", "size": "5"}, "month", "Ange månad."),
        ({"month": "2024-03", "size": "0"}, "size", "Ange ett antal mellan 1 och 500."),
        ({"month": "2024-03", "size": "501"}, "size", "Ange ett antal mellan 1 och 500."),
        ({"month": "2024-03", "size": "fem"}, "size", "Inte ett giltigt heltal"),
        ({"month": "2099-01", "size": "5"}, "month", "Månaden har inte börjat än."),
        ({"month": "2023-03", "size": "5"}, "month", "Loggen har inga händelser från 2023-03."),
    ],
)
def test_a_bad_draw_is_explained_at_the_field(client, make, admin, data, field, message):
    _month_of_rows(make, admin)
    login(client, admin)

    response = client.post("/admin/audit/samples", data=data)

    assert response.status_code == 422
    html = html_of(response)
    assert f'id="{field}-error">{message}' in html
    assert f'value="{data[field]}"' in html or not data[field]
    assert db.session.scalar(select(AuditSample)) is None


# Reviews


def test_a_review_is_recorded_shown_and_logged(client, make, admin):
    inside = _month_of_rows(make, admin)
    login(client, admin)
    client.post("/admin/audit/samples", data={"month": "2024-03", "size": "3"})
    sample = db.session.scalar(select(AuditSample))
    event = sample.events[0]

    page = html_of(client.get(f"/admin/audit/events/{event.id}?sample={sample.id}"))
    response = client.post(
        f"/admin/audit/events/{event.id}?sample={sample.id}",
        data={"outcome": "avvikelse", "note": "Läste utan att delta i ärendet."},
    )

    assert "Spara granskningen" in page
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/audit/samples/{sample.id}")
    review = db.session.scalar(select(AuditReview))
    assert (review.event_id, review.reviewer_id, review.outcome) == (
        event.id,
        admin.id,
        ReviewOutcome.AVVIKELSE,
    )
    logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.review"))
    assert (logged.user_id, logged.person_id) == (admin.id, inside[0].person_id)
    shown = html_of(client.get(f"/admin/audit/samples/{sample.id}"))
    assert "Avvikelse" in shown and "Läste utan att delta i ärendet." in shown
    assert "1 av dem är granskade" in shown
    assert shown.count("Granska<") == 2  # the two rows still to review
    log = html_of(search(client, with_log_reads="y"))
    assert "Granskade en händelse i loggen" in log
    assert f"Händelse {event.id}: Avvikelse" in log


def test_ok_needs_no_note_and_a_row_is_reviewed_once(client, make, admin):
    person = make.person(admin)
    event = add_event(person.id, datetime(2024, 3, 1, tzinfo=UTC))
    make.commit()
    login(client, admin)

    first = client.post(f"/admin/audit/events/{event.id}", data={"outcome": "ok"})
    again = client.get(f"/admin/audit/events/{event.id}")
    service_again = client.post(f"/admin/audit/events/{event.id}", data={"outcome": "ok"})

    assert first.status_code == 302
    assert "OK</strong>, granskad av Ali Admin" in html_of(again)
    assert service_again.status_code == 422
    assert "Händelsen är redan granskad." in html_of(service_again)
    assert len(db.session.scalars(select(AuditReview)).all()) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"outcome": "avvikelse", "note": "  "}, "note", "Beskriv avvikelsen."),
        ({"note": "Något"}, "outcome", "Välj OK eller avvikelse."),
        ({"outcome": "kanske"}, "outcome", "Inte ett giltigt val"),
        ({"outcome": "ok", "note": "x" * 2001}, "note", "Högst 2 000 tecken."),
    ],
)
def test_a_bad_review_is_explained_at_the_field(client, make, admin, data, field, message):
    person = make.person(admin)
    event = add_event(person.id, datetime(2024, 3, 1, tzinfo=UTC))
    make.commit()
    login(client, admin)

    response = client.post(f"/admin/audit/events/{event.id}", data=data)

    assert response.status_code == 422
    assert f'id="{field}-error">{message}' in html_of(response)
    assert db.session.scalar(select(AuditReview)) is None


def test_reviewing_shows_the_row_and_logs_the_read(client, make, admin):
    person = make.person(admin)
    event = add_event(person.id, datetime(2024, 3, 1, tzinfo=UTC), "person.read")
    make.commit()
    login(client, admin)

    html = html_of(client.get(f"/admin/audit/events/{event.id}"))

    assert "Läste personuppgifterna" in html and "Karin Nilsson" in html
    logged = db.session.scalars(
        select(AuditEvent.person_id).where(AuditEvent.action == "audit.read")
    ).all()
    assert logged == [person.id]
    assert client.get("/admin/audit/events/999999").status_code == 404
    # A tampered return address is ignored, never a server error.
    for sample in ("x", "99999999999999999999999", "-1"):
        response = client.get(f"/admin/audit/events/{event.id}?sample={sample}")
        assert response.status_code == 200


# Access


def _audit_urls(app, event_id: int, sample_id: int):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            values = {"event_id": event_id, "sample_id": sample_id}
            url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.mark.parametrize("role", [None, Role.SAMORDNARE, Role.GRANSKARE, Role.ADMINISTRATOR])
def test_only_administrators_reach_the_log(app, client, make, admin, role):
    person = make.person(admin)
    event = add_event(person.id, datetime(2024, 3, 1, tzinfo=UTC))
    sample = AuditSample(month=date(2024, 3, 1), size=1, drawn_by_id=admin.id)
    db.session.add(sample)
    make.commit()
    if role is not None:
        login(client, make.user(role=role) if role != Role.ADMINISTRATOR else admin)
        make.commit()
    urls = list(_audit_urls(app, event.id, sample.id))
    assert len(urls) >= 8

    for method, url in urls:
        response = client.open(url, method=method)
        if role is None:
            assert response.status_code == 302, (method, url)
            assert "/login" in response.headers["Location"]
        elif role != Role.ADMINISTRATOR:
            assert response.status_code == 403, (method, url)
        else:
            assert response.status_code < 500, (method, url)
    if role != Role.ADMINISTRATOR:
        assert db.session.scalar(select(AuditReview)) is None


def test_every_form_that_writes_needs_its_csrf_token(app, client, make, admin, monkeypatch):
    person = make.person(admin)
    event = add_event(person.id, datetime(2024, 3, 1, tzinfo=UTC))
    make.commit()
    login(client, admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    review = client.post(f"/admin/audit/events/{event.id}", data={"outcome": "ok"})
    draw = client.post("/admin/audit/samples", data={"month": "2024-03", "size": "1"})
    extract = client.post("/admin/audit/extract", data={"personnummer": person.identifier})

    assert [review.status_code, draw.status_code, extract.status_code] == [400, 400, 400]
    assert db.session.scalar(select(AuditReview)) is None
    assert db.session.scalar(select(AuditSample)) is None
    assert extract.mimetype == "text/html"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.extract")) is None


@pytest.mark.parametrize("value", ["0", "-3", "tjugo", "2.5", "²", ""])
def test_a_bad_bulk_limit_stops_the_app_with_one_line(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SIP_AUDIT_BULK_READS", value)

    with pytest.raises(ConfigError, match="SIP_AUDIT_BULK_READS must be a whole number above 0"):
        load_config(str(tmp_path))


def test_the_bulk_limit_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("SIP_AUDIT_BULK_READS", raising=False)
    assert load_config(str(tmp_path))["AUDIT_BULK_READ_LIMIT"] == 20
    monkeypatch.setenv("SIP_AUDIT_BULK_READS", "50")
    assert load_config(str(tmp_path))["AUDIT_BULK_READ_LIMIT"] == 50
