"""Passwords: hashing with Argon2id (argon2-cffi's defaults follow RFC 9106), and what a new
password must be.

The rule follows NIST SP 800-63B: long enough, and not one that attackers try first (lists
of common and leaked passwords, repeats, sequences, keyboard rows, the user's own name);
no rules about character classes. zxcvbn ships the lists and finds the patterns, offline.
"""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn import zxcvbn

_hasher = PasswordHasher()

MIN_LENGTH = 12
# zxcvbn's score 3: about 10^8 guesses or more, "safely unguessable" against an online
# attack and a slow hash such as ours.
MIN_SCORE = 3
# Words from the service itself, which a password must not lean on either.
SERVICE_WORDS = ("SIP-tracker", "samordnad individuell plan")
# zxcvbn refuses longer input; a password that is strong in its first 72 characters is
# strong.
_ZXCVBN_MAX = 72


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, about_user: Iterable[str] = ()) -> str | None:
    """Say why a new password is refused, in the user's language; None when it is good.

    about_user: the account's name and e-mail address, which a password must not lean on.
    """
    if len(password) < MIN_LENGTH:
        return _("Lösenordet måste ha minst %(n)d tecken.", n=MIN_LENGTH)
    words = [part for text in (*about_user, *SERVICE_WORDS) for part in _words(text)]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=words)
    matches = result["sequence"]
    if len(matches) == 1 and matches[0].get("dictionary_name") == "passwords":
        return _("Lösenordet finns på listor över vanliga lösenord. Välj ett annat.")
    borrowed = sum(len(m["token"]) for m in matches if m.get("dictionary_name") == "user_inputs")
    if 2 * borrowed >= len(password[:_ZXCVBN_MAX]):
        # zxcvbn counts a name as one rare word; someone who targets the account knows it.
        return _("Lösenordet bygger på namnet eller e-postadressen. Välj ett annat.")
    if result["score"] >= MIN_SCORE:
        return None
    patterns = {match["pattern"] for match in matches}
    if "repeat" in patterns:
        return _(
            "Lösenordet är lätt att gissa: det upprepar tecken eller ord (som aaa eller abcabc)."
        )
    if "sequence" in patterns:
        return _("Lösenordet är lätt att gissa: det innehåller en följd (som abcd eller 1234).")
    if "spatial" in patterns:
        return _("Lösenordet är lätt att gissa: det följer tangentbordet (som qwerty).")
    return _(
        "Lösenordet är lätt att gissa: det liknar vanliga lösenord eller ord. "
        "Lägg till fler ovanliga ord."
    )


def _words(text: str) -> list[str]:
    """A name or e-mail address as the words a password might borrow from it."""
    for separator in "@.-_+":
        text = text.replace(separator, " ")
    return [word.lower() for word in text.split() if len(word) >= 3]


# Verifying against this keeps a login for an unknown email as slow as a wrong password.
DUMMY_HASH = _hasher.hash("not-a-real-password")
