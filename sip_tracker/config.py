"""Configuration: safe defaults for a laptop, secrets from the environment."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from limits import parse as parse_limit

# Longest SIP_FHIR_EXPORT_TTL_HOURS: 100 years (beyond that the expiry date overflows).
MAX_EXPORT_TTL_HOURS = 876_600
ENVIRONMENTS = ("development", "production")
# As long as the SHA-256 HMACs it keys, so the key is not the weak part; 32 bytes
# is what `secrets.token_hex(16)` or more produces.
MIN_SECRET_KEY_BYTES = 32
MAX_RETENTION_YEARS = 100


class ConfigError(click.ClickException):
    """The environment does not hold what the app needs.

    A ClickException so that `flask` commands, `flask run` included, stop with this one
    line; a server such as gunicorn stops its workers from booting and logs it.
    """


def load_config(instance_path: str) -> dict[str, Any]:
    """Build the config from the environment; refuse production without a strong SECRET_KEY."""
    environment = os.environ.get("SIP_ENV", "development")
    if environment not in ENVIRONMENTS:
        # A typo must not start a production server with development settings.
        raise ConfigError(f"SIP_ENV must be development or production, not {environment!r}")
    production = environment == "production"
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when SIP_ENV=production")
        secret_key = _development_secret(Path(instance_path))
    elif production and len(secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes when SIP_ENV=production"
        )
    read_audit_commit = os.environ.get("SIP_FHIR_READ_AUDIT_COMMIT", "async")
    if read_audit_commit not in ("async", "sync"):
        raise ConfigError(
            f"SIP_FHIR_READ_AUDIT_COMMIT must be async or sync, not {read_audit_commit!r}"
        )
    export_ttl_hours = _export_ttl_hours(os.environ.get("SIP_FHIR_EXPORT_TTL_HOURS", "24"))
    max_body = _byte_count("SIP_MAX_CONTENT_LENGTH", 1024 * 1024)
    max_fhir_body = _byte_count("SIP_FHIR_MAX_CONTENT_LENGTH", 10 * 1024 * 1024)
    retention_years = _retention_years(os.environ.get("SIP_RETENTION_YEARS", "10"))
    smtp_starttls = _flag("SIP_SMTP_STARTTLS", "false")
    if production and os.environ.get("SIP_SMTP_PASSWORD") and not smtp_starttls:
        # The password would cross the network in clear text.
        raise ConfigError("SIP_SMTP_PASSWORD needs SIP_SMTP_STARTTLS=true when SIP_ENV=production")
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "sip_tracker.db")
    )
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Seconds a transaction waits for SQLite's write lock (db.py begins every one
        # IMMEDIATE) before it gives up.
        "SQLITE_LOCK_TIMEOUT": 30,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # Sessions live on the server (auth/sessions.py); the cookie holds only their id and
        # lasts as long as the browser. A session ends after this long without a request...
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=_positive_int("SIP_SESSION_IDLE_MINUTES", "30")
        ),
        # ... and this long after sign-in, however busy.
        "SESSION_MAX_LIFETIME": timedelta(hours=_positive_int("SIP_SESSION_MAX_HOURS", "12")),
        # The store is written when the session changes (auth/sessions.py marks it at most
        # once a minute), not on every request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Sessions and login failures in Redis instead of the database, shared by every worker.
        "REDIS_URL": os.environ.get("SIP_REDIS_URL") or None,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed.
        "TRUSTED_PROXIES": _count("SIP_TRUSTED_PROXIES", "0"),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ("sv", "en"),
        "CASES_PER_PAGE": 20,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed sign-ins allowed in a moving window, per e-mail address (whether an account
        # has it or not) across all client addresses, and per client address (auth/throttle.py).
        "LOGIN_FAILURES_PER_ACCOUNT": _rate("SIP_LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_FAILURES_PER_ADDRESS": _rate("SIP_LOGIN_FAILURES_PER_ADDRESS", "30 per 15 minutes"),
        # How the audit row of a FHIR read is committed on PostgreSQL (fhir/read.py).
        "FHIR_READ_AUDIT_COMMIT": read_audit_commit,
        # How long the files of a finished Bulk Data export stay downloadable (fhir/bulk.py).
        "FHIR_EXPORT_TTL_HOURS": export_ttl_hours,
        # An export without a sign of life for this long was interrupted (its process ended).
        "FHIR_EXPORT_STALL_SECONDS": 300,
        # The largest request body, in bytes: a form's, and a FHIR Bundle's (guards.py).
        "MAX_CONTENT_LENGTH": max_body,
        "FHIR_MAX_CONTENT_LENGTH": max_fhir_body,
        # Strict-Transport-Security on every answer, not only those that came over HTTPS.
        "HSTS": production,
        # Gallring (`flask gallra`): cases that ended this many years ago are deleted.
        "RETENTION_YEARS": retention_years,
        # The log review flags a user who opened more persons than this within an hour.
        "AUDIT_BULK_READ_LIMIT": _bulk_read_limit(os.environ.get("SIP_AUDIT_BULK_READS", "20")),
        # E-mail announcing new inbox items (inbox/mail.py); none without SIP_SMTP_HOST.
        "SMTP_HOST": os.environ.get("SIP_SMTP_HOST") or None,
        "SMTP_PORT": _positive_int("SIP_SMTP_PORT", "25"),
        "SMTP_USER": os.environ.get("SIP_SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("SIP_SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": smtp_starttls,
        "SMTP_TIMEOUT": 30,
        "MAIL_FROM": os.environ.get("SIP_MAIL_FROM", "sip-tracker@localhost"),
        # Where the links in e-mails point: the address users open the tracker at.
        "BASE_URL": os.environ.get("SIP_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # A failed send is tried again this many times, this many seconds apart (worker.py).
        "MAIL_RETRIES": 3,
        "MAIL_RETRY_DELAY": 60,
        # The background worker's queue (worker.py): in Redis when SIP_REDIS_URL is set,
        # else in this SQLite file, so `make run` needs nothing more.
        "QUEUE_NAME": os.environ.get("SIP_QUEUE_NAME", "sip-tracker"),
        "QUEUE_REDIS_URL": os.environ.get("SIP_REDIS_URL") or None,
        "QUEUE_SQLITE_PATH": os.environ.get("SIP_QUEUE_PATH")
        or str(Path(instance_path) / "queue.db"),
    }


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for the configured database (once the config is final)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        options["connect_args"] = {"timeout": config["SQLITE_LOCK_TIMEOUT"]}
    return {**options, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}


def _positive_int(name: str, default: str) -> int:
    """The environment variable as a whole number above 0; ConfigError otherwise."""
    text = os.environ.get(name, default)
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"{name} must be a whole number above 0, not {text!r}")
    return int(text)


def _flag(name: str, default: str) -> bool:
    """The environment variable as true/false (also 1/0, yes/no); ConfigError otherwise."""
    text = os.environ.get(name, default).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def _count(name: str, default: str) -> int:
    """The environment variable as a whole number, 0 or more; ConfigError otherwise."""
    text = os.environ.get(name, default)
    if not text.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {text!r}")
    return int(text)


def _rate(name: str, default: str) -> str:
    """The environment variable as a rate such as "5 per 15 minutes"; ConfigError otherwise."""
    text = os.environ.get(name, default)
    try:
        limit = parse_limit(text)
    except ValueError:
        raise ConfigError(
            f'{name} must be a rate such as "5 per 15 minutes", not {text!r}'
        ) from None
    if limit.amount < 1:
        raise ConfigError(f"{name} must allow at least one failure, not {text!r}")
    return text


def _export_ttl_hours(text: str) -> float:
    """SIP_FHIR_EXPORT_TTL_HOURS as a number of hours above 0; ConfigError otherwise."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not 0 < hours <= MAX_EXPORT_TTL_HOURS:  # NaN fails every comparison
        raise ConfigError(
            f"SIP_FHIR_EXPORT_TTL_HOURS must be a number of hours above 0 "
            f"(at most {MAX_EXPORT_TTL_HOURS}), not {text!r}"
        )
    return hours


def _byte_count(name: str, default: int) -> int:
    """A size in bytes from the environment, above 0; ConfigError otherwise."""
    text = os.environ.get(name, str(default))
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise ConfigError(f"{name} must be a number of bytes above 0, not {text!r}")
    return int(text)


def _retention_years(text: str) -> int:
    """SIP_RETENTION_YEARS as whole years from 1 to 100; ConfigError otherwise.

    The default, 10, is the longer of the two principals' minimums: patientdatalagen keeps
    a health record at least ten years after its last entry, socialtjänstlagen has social
    services records gallrade five years after it. The tracker is a coordination copy (each
    principal documents the SIP in its own records), but it must not delete what either
    principal may still need: ten years covers both.
    """
    years = text.strip()
    if not (years.isascii() and years.isdigit() and 1 <= int(years) <= MAX_RETENTION_YEARS):
        raise ConfigError(
            f"SIP_RETENTION_YEARS must be a whole number of years from 1 to "
            f"{MAX_RETENTION_YEARS}, not {text!r}"
        )
    return int(years)


def _bulk_read_limit(text: str) -> int:
    """SIP_AUDIT_BULK_READS as a whole number of persons, at least 1; ConfigError otherwise."""
    if not text.strip().isdecimal() or int(text) < 1:
        raise ConfigError(f"SIP_AUDIT_BULK_READS must be a whole number above 0, not {text!r}")
    return int(text)


def _development_secret(instance: Path) -> str:
    """Keep one random key per checkout so sessions survive restarts on a laptop."""
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
