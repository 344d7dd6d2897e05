"""预警劝阻: the case tracker precincts use to reach suspected fraud victims in time."""
import importlib

from flask import Flask

from . import config
from .core.urls import IdConverter
from .privacy import pii

#: The domains that own tables; each one's models module is imported when the app is built.
DOMAINS_WITH_MODELS = ("auth", "directory", "cases", "contacts", "followups", "notifications", "imports",
                       "reports", "prevention", "watch", "jobs", "privacy")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, then each registration step in order."""
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates")
    config.load(app, test_config)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    pii.check_keys(app.config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    if not app.testing:  # (the tests check it where they mean to: tests/test_key_check.py)
        check_keys_against_database(app)
    return app


def check_keys_against_database(app: Flask) -> None:
    """Before this process serves or runs anything: its keys are the ones the database was written with
    (privacy/keycheck.py); a gunicorn worker that refuses fails to boot, which stops gunicorn."""
    from .extensions import db
    from .privacy.keycheck import check_against_database

    with app.app_context():
        try:
            check_against_database(app.config)
        finally:
            db.engine.dispose()  # no connection kept from before the process's work (a bench may replace the file)


def register_extensions(app: Flask) -> None:
    from .auth import session as auth_session
    from .core import database, i18n, security
    from .extensions import babel, csrf, db

    database.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    i18n.init_app(app, babel)
    auth_session.init_app(app)
    from .core import auditlog  # noqa: F401  (the audit trail's table)

    for domain in DOMAINS_WITH_MODELS:  # every table known to Alembic (`flask db`) and create_all
        importlib.import_module(f"{__name__}.{domain}.models")


def register_blueprints(app: Flask) -> None:
    from .api.routes import bp as api_bp
    from .audit.views import bp as audit_bp
    from .auth.account_views import bp as account_bp
    from .auth.token_views import bp as tokens_bp
    from .auth.user_views import bp as users_bp
    from .auth.views import bp as auth_bp
    from .cases.entry_views import bp as entry_bp
    from .cases.rule_views import bp as rules_bp
    from .cases.views import bp as cases_bp
    from .contacts.views import bp as contacts_bp
    from .core.views import bp as main_bp
    from .directory.views import bp as directory_bp
    from .followups.views import bp as followups_bp
    from .imports.views import bp as imports_bp
    from .notifications.views import bp as notifications_bp
    from .prevention.views import bp as prevention_bp
    from .reports.views import bp as reports_bp
    from .watch.views import bp as watch_bp

    for bp in (main_bp, auth_bp, account_bp, users_bp, cases_bp, contacts_bp, followups_bp, imports_bp, audit_bp,
               directory_bp, rules_bp, reports_bp, api_bp, notifications_bp, entry_bp, prevention_bp, tokens_bp,
               watch_bp):
        app.register_blueprint(bp)


def register_errorhandlers(app: Flask) -> None:
    from .core.errors import init_app

    init_app(app)


def register_template_helpers(app: Flask) -> None:
    from .auth.token_views import init_app as init_token_link
    from .core.filters import init_app
    from .notifications.views import init_app as init_bell
    from .prevention.views import init_app as init_progress
    from .privacy.freetext import mask_numbers

    init_app(app)
    init_bell(app)
    init_token_link(app)
    init_progress(app)
    app.add_template_filter(mask_numbers, "masked")


def register_commands(app: Flask) -> None:
    from .cli import init_app
    from .reports.cli import init_app as init_report_commands

    init_app(app)
    init_report_commands(app)
