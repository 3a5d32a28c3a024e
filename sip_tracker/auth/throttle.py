"""Failed sign-ins, counted where every worker and process sees them: per e-mail address
(whether an account has it or not) across all client addresses, and per client address.

The database holds them by default (table login_failure); with SIP_REDIS_URL set, Redis
does, through the `limits` package's moving window. Either way, a check, the password
verification and the count of a failure happen under one lock per e-mail address and per
client address, so concurrent attempts in several workers cannot get past the limit
together. A successful sign-in clears nothing: failures only age out of the window, so
signing in to one's own account never buys an attacker new guesses at another.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from flask import Flask, current_app
from flask_babel import ngettext
from limits import RateLimitItem
from limits import parse as parse_limit
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis
from sqlalchemy import ColumnElement, func, select

from sip_tracker.auth.models import LoginFailure
from sip_tracker.db import db, utcnow
from sip_tracker.errors import DomainError

REDIS_PREFIX = "sip-tracker:login"
_EXTENSION = "sip_login_throttle"


class LoginLocked(DomainError):
    """Too many sign-ins failed lately for this e-mail address or from this client address.

    The message is the same whether or not an account has the address.
    """

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(
            ngettext(
                "För många misslyckade inloggningar. Inloggningen är spärrad i %(num)d minut; "
                "försök igen sedan eller kontakta en administratör.",
                "För många misslyckade inloggningar. Inloggningen är spärrad i %(num)d minuter; "
                "försök igen sedan eller kontakta en administratör.",
                minutes,
            )
        )


@dataclass(frozen=True)
class Keys:
    """What a sign-in is counted under: keyed hashes of the e-mail and client addresses."""

    account: str
    address: str


def keys_for(email: str, address: str) -> Keys:
    """Count by a keyed hash, so stored counts hold no typed e-mail address or IP address."""
    secret = str(current_app.secret_key).encode()

    def digest(kind: str, value: str) -> str:
        return hmac.new(secret, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()

    return Keys(
        account=digest("account", email.strip().lower()), address=digest("address", address)
    )


class Throttle(Protocol):
    def guard(self, keys: Keys) -> AbstractContextManager[None]:
        """Hold off other sign-ins under the same keys until this one is counted."""

    def wait(self, keys: Keys) -> float:
        """Seconds until a sign-in under these keys is allowed again; 0 when it is now."""

    def record_failure(self, keys: Keys) -> None:
        """Count one failed sign-in under both keys."""


class DatabaseThrottle:
    """Failures as rows in the request's transaction: they commit with it."""

    def __init__(self, per_account: RateLimitItem, per_address: RateLimitItem) -> None:
        self.per_account = per_account
        self.per_address = per_address

    @contextmanager
    def guard(self, keys: Keys) -> Iterator[None]:
        # SQLite: every transaction begins IMMEDIATE (db.py), which already serialises
        # writers until the request commits. PostgreSQL: transaction-level advisory locks,
        # also released at commit, taken in a fixed order so two sign-ins cannot deadlock.
        if db.session.get_bind().dialect.name == "postgresql":
            for number in sorted({_lock_number(keys.account), _lock_number(keys.address)}):
                db.session.execute(select(func.pg_advisory_xact_lock(number)))
        yield

    def wait(self, keys: Keys) -> float:
        return max(
            self._wait(LoginFailure.account_key == keys.account, self.per_account),
            self._wait(LoginFailure.address_key == keys.address, self.per_address),
        )

    def _wait(self, counted: ColumnElement[bool], limit: RateLimitItem) -> float:
        """Until the limit-th latest failure in the window leaves it (a moving window)."""
        now = utcnow()
        window = timedelta(seconds=limit.get_expiry())
        nth_latest = db.session.scalar(
            select(LoginFailure.failed_at)
            .where(counted, LoginFailure.failed_at > now - window)
            .order_by(LoginFailure.failed_at.desc())
            .offset(limit.amount - 1)
            .limit(1)
        )
        if nth_latest is None:
            return 0.0
        return max(0.0, (nth_latest + window - now).total_seconds())

    def record_failure(self, keys: Keys) -> None:
        db.session.add(LoginFailure(account_key=keys.account, address_key=keys.address))
        db.session.flush()


class RedisThrottle:
    """Failures in Redis (the `limits` moving window), written at once, outside any transaction."""

    def __init__(self, url: str, per_account: RateLimitItem, per_address: RateLimitItem) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.client = Redis.from_url(url)
        storage = RedisStorage(
            url, connection_pool=self.client.connection_pool, key_prefix=REDIS_PREFIX
        )
        self.limiter = MovingWindowRateLimiter(storage)

    @contextmanager
    def guard(self, keys: Keys) -> Iterator[None]:
        with ExitStack() as stack:
            for key in sorted({f"account:{keys.account}", f"address:{keys.address}"}):
                # The lock expires by itself should its holder die mid-sign-in.
                lock = self.client.lock(f"{REDIS_PREFIX}:lock:{key}", timeout=60)
                if not lock.acquire(blocking_timeout=30):
                    raise LoginLocked(60)
                stack.callback(lock.release)
            yield

    def wait(self, keys: Keys) -> float:
        now = time.time()
        waits = [0.0]
        for limit, key in (
            (self.per_account, f"account:{keys.account}"),
            (self.per_address, f"address:{keys.address}"),
        ):
            stats = self.limiter.get_window_stats(limit, key)
            if stats.remaining <= 0:
                waits.append(stats.reset_time - now)
        return max(waits)

    def record_failure(self, keys: Keys) -> None:
        self.limiter.hit(self.per_account, f"account:{keys.account}")
        self.limiter.hit(self.per_address, f"address:{keys.address}")


def _lock_number(key: str) -> int:
    """A hex digest as the signed 64-bit number PostgreSQL's advisory locks take."""
    return int(key[:16], 16) - 2**63


def login_throttle() -> Throttle:
    throttle: Throttle = current_app.extensions[_EXTENSION]
    return throttle


def init_app(app: Flask) -> None:
    per_account = parse_limit(app.config["LOGIN_FAILURES_PER_ACCOUNT"])
    per_address = parse_limit(app.config["LOGIN_FAILURES_PER_ADDRESS"])
    url = app.config.get("REDIS_URL")
    app.extensions[_EXTENSION] = (
        RedisThrottle(url, per_account, per_address)
        if url
        else DatabaseThrottle(per_account, per_address)
    )
