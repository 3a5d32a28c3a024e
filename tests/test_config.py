"""Configuration from the environment: a wrong value stops the start with one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from sip_tracker import ROOT
from sip_tracker.config import ConfigError, load_config

STRONG_KEY = "k" * 32


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in (
        "SIP_ENV",
        "SECRET_KEY",
        "SIP_REDIS_URL",
        "SIP_TRUSTED_PROXIES",
        "SIP_SESSION_IDLE_MINUTES",
        "SIP_SESSION_MAX_HOURS",
        "SIP_LOGIN_FAILURES_PER_ACCOUNT",
        "SIP_LOGIN_FAILURES_PER_ADDRESS",
        "SIP_SMTP_HOST",
        "SIP_SMTP_PORT",
        "SIP_SMTP_PASSWORD",
        "SIP_SMTP_STARTTLS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("value", ["Production", "PRODUCTION", "prod", "production ", "", "test"])
def test_sip_env_accepts_only_development_or_production(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SIP_ENV", value)
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)

    with pytest.raises(ConfigError, match="SIP_ENV must be development or production, not"):
        load_config(str(tmp_path))


def test_production_turns_on_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)

    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key", [None, "a", "k" * 31, "å" * 15])
def test_production_needs_a_secret_key_of_at_least_32_bytes(monkeypatch, tmp_path, key):
    monkeypatch.setenv("SIP_ENV", "production")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)

    with pytest.raises(ConfigError, match="SECRET_KEY must be"):
        load_config(str(tmp_path))


def test_a_32_byte_key_is_enough_and_development_keeps_its_own(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "å" * 16)  # 32 bytes in UTF-8
    assert load_config(str(tmp_path))["SECRET_KEY"] == "å" * 16

    monkeypatch.setenv("SIP_ENV", "development")
    monkeypatch.delenv("SECRET_KEY")
    generated = load_config(str(tmp_path))["SECRET_KEY"]
    assert len(generated) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_session_and_sign_in_defaults(tmp_path):
    config = load_config(str(tmp_path))

    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    assert config["SESSION_MAX_LIFETIME"] == timedelta(hours=12)
    assert config["LOGIN_FAILURES_PER_ACCOUNT"] == "5 per 15 minutes"
    assert config["LOGIN_FAILURES_PER_ADDRESS"] == "30 per 15 minutes"
    assert config["TRUSTED_PROXIES"] == 0
    assert config["REDIS_URL"] is None


def test_session_and_sign_in_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("SIP_SESSION_MAX_HOURS", "8")
    monkeypatch.setenv("SIP_LOGIN_FAILURES_PER_ACCOUNT", "3 per 30 minutes")
    monkeypatch.setenv("SIP_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("SIP_REDIS_URL", "redis://127.0.0.1:6379/1")

    config = load_config(str(tmp_path))

    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=15)
    assert config["SESSION_MAX_LIFETIME"] == timedelta(hours=8)
    assert config["LOGIN_FAILURES_PER_ACCOUNT"] == "3 per 30 minutes"
    assert config["TRUSTED_PROXIES"] == 1
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIP_SESSION_IDLE_MINUTES", "0"),
        ("SIP_SESSION_IDLE_MINUTES", "half an hour"),
        ("SIP_SESSION_MAX_HOURS", "-1"),
        ("SIP_SESSION_MAX_HOURS", "1.5"),
        ("SIP_TRUSTED_PROXIES", "yes"),
        ("SIP_TRUSTED_PROXIES", "-1"),
        ("SIP_LOGIN_FAILURES_PER_ACCOUNT", "many"),
        ("SIP_LOGIN_FAILURES_PER_ADDRESS", "0 per minute"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=f"^{name} must "):
        load_config(str(tmp_path))


def test_a_server_with_a_wrong_sip_env_refuses_to_start_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "sip_tracker", "routes"],
        cwd=ROOT,
        env={"SIP_ENV": "Production", "SECRET_KEY": STRONG_KEY, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert result.stderr == "Error: SIP_ENV must be development or production, not 'Production'\n"


def test_an_smtp_password_needs_starttls_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("SIP_SMTP_HOST", "smtp.example.se")
    monkeypatch.setenv("SIP_SMTP_PASSWORD", "hemligt")
    monkeypatch.delenv("SIP_SMTP_STARTTLS", raising=False)

    with pytest.raises(ConfigError, match="SIP_SMTP_PASSWORD needs SIP_SMTP_STARTTLS=true"):
        load_config(str(tmp_path))

    monkeypatch.setenv("SIP_SMTP_STARTTLS", "true")
    config = load_config(str(tmp_path))
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_STARTTLS"]) == (
        "smtp.example.se",
        25,
        True,
    )


def test_smtp_starttls_accepts_only_true_or_false(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_SMTP_STARTTLS", "kanske")

    with pytest.raises(ConfigError, match="SIP_SMTP_STARTTLS must be true or false"):
        load_config(str(tmp_path))
