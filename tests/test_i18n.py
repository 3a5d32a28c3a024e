"""Swedish by default, English on request, and no Swedish left in the English UI."""

from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import login

CATALOG = Path(__file__).parent.parent / "sip_tracker/translations/en/LC_MESSAGES/messages.po"


def test_the_ui_is_swedish_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page and "Lösenord" in page


def test_english_on_request_and_remembered(client, make):
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Log in" in english and "Password" in english
    user = make.user()
    make.commit()
    login(client, user)
    overview = client.get("/").get_data(as_text=True)
    assert "My cases" in overview
    back = client.get("/?lang=sv").get_data(as_text=True)
    assert "Mina ärenden" in back


def test_form_errors_are_translated_too(client):
    page = client.post("/login?lang=en", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address." in page


def test_every_ui_string_has_an_english_translation():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []
    problems = [(m.id, str(e)) for m, errors in catalog.check() for e in errors]
    assert problems == []


# English words whose plural is the singular.
SAME_IN_THE_PLURAL = {"%(num)d oläst"}


def test_english_plurals_read_as_plurals():
    """ "4 items", never "4 item": a plural entry's English forms differ (invariant words aside)."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    singular_as_plural = [
        m.id[0]
        for m in catalog
        if isinstance(m.id, tuple)
        and m.string[0] == m.string[1]
        and m.id[0] not in SAME_IN_THE_PLURAL
    ]
    assert singular_as_plural == []


def test_the_catalog_holds_every_string_in_the_code_and_templates():
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).parent.parent
    method_map = [("sip_tracker/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map=method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    with CATALOG.open("rb") as handle:
        known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(handle) if m.id}
    assert sorted(found - known) == []
