"""sip-tracker: a case tracker for samordnad individuell plan (SIP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Assemble the application: config, extensions, blueprints, handlers."""
    from sip_tracker import cli, errors, guards, i18n, security, web, worker
    from sip_tracker.auth import sessions, throttle
    from sip_tracker.config import engine_options, load_config
    from sip_tracker.db import db
    from sip_tracker.extensions import csrf, limiter, login_manager, migrate
    from sip_tracker.operations.files import keep_files_private

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if app.config["TRUSTED_PROXIES"]:
        # Believe X-Forwarded-For/-Proto only as far as our own proxies set them.
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    keep_files_private(app)

    guards.init_app(app)  # first: its converter and its check come before all else
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    web.init_app(app)
    sessions.init_app(app)  # after web: its hook must run before web's commit
    throttle.init_app(app)
    i18n.init_app(app)
    worker.init_app(app)

    from sip_tracker.audit.views import bp as audit_bp
    from sip_tracker.auth.views import bp as auth_bp
    from sip_tracker.cases.views import bp as cases_bp
    from sip_tracker.fhir import store
    from sip_tracker.fhir.api import bp as fhir_bp
    from sip_tracker.handlingsplan.views import bp as handlingsplan_bp
    from sip_tracker.health import bp as health_bp
    from sip_tracker.inbox.views import bp as inbox_bp
    from sip_tracker.indicators.views import bp as indicators_bp
    from sip_tracker.meetings.calendar import bp as calendar_bp
    from sip_tracker.meetings.views import bp as meetings_bp
    from sip_tracker.messages.views import bp as messages_bp
    from sip_tracker.organizations.views import bp as organizations_bp
    from sip_tracker.people.views import bp as people_bp
    from sip_tracker.plans.views import bp as plans_bp
    from sip_tracker.today.views import bp as today_bp

    blueprints = (
        auth_bp,
        organizations_bp,
        people_bp,
        cases_bp,
        meetings_bp,
        messages_bp,
        calendar_bp,
        plans_bp,
        inbox_bp,
        today_bp,
        audit_bp,
        handlingsplan_bp,
        indicators_bp,
        fhir_bp,
        health_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    store.install()
    errors.register_handlers(app)
    cli.register(app)
    return app
