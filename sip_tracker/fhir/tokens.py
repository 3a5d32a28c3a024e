"""API tokens: one per IT system, acting for one organisation, with read and/or write scope."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from sip_tracker.db import db, utcnow
from sip_tracker.fhir.models import ApiToken
from sip_tracker.organizations.models import Huvudman

PREFIX = "sip_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    secret: str  # shown once; only its hash is kept


def issue_token(*, name: str, huvudman: Huvudman, read: bool, write: bool) -> IssuedToken:
    """Create a token; the caller shows the secret once."""
    if not (read or write):
        raise ValueError("a token needs read or write scope")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip(),
        huvudman=huvudman,
        token_hash=digest(secret),
        can_read=read,
        can_write=write,
    )
    db.session.add(row)
    db.session.flush()
    return IssuedToken(row=row, secret=secret)


_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))


def token_for(secret: str) -> ApiToken | None:
    """The live token with this secret, or None; records when it was last used."""
    if not secret.startswith(PREFIX):
        return None
    row = db.session.scalar(_BY_HASH, {"token_hash": digest(secret)})
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    # Once a minute is precise enough, and keeps a write off nearly every read.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return row


def revoke_token(row: ApiToken) -> None:
    row.revoked_at = utcnow()
    db.session.flush()
