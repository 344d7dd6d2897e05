"""Extension objects, unbound; create_app() binds them to the application."""
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .core.i18n import Babel

# Named constraints, so Alembic batch migrations on SQLite can find and alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def bind_migrations(app: Flask) -> None:
    """Flask-Migrate bound to `app` (app.extensions["migrate"], which migrations/env.py and flask_migrate's functions
    read), once. Done when the migrations are first wanted (`flask db …`: cli.MigrationCommands; a test or a server
    that calls flask_migrate.upgrade), not by create_app: importing Flask-Migrate imports Alembic, Mako and Pygments,
    0.15 s of the start of every command, web worker and scheduler, none of which migrates."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, render_as_batch=True, compare_type=True)  # (also puts its own `db` group in app.cli)
