"""The audit trail is append-only in the database itself, whoever connects."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dissuasion.audit.models import AuditEvent
from dissuasion.audit.operations import record
from dissuasion.extensions import db


@pytest.fixture
def event_id(app) -> int:
    event = record("login", "user", 1)
    db.session.commit()
    return event.id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET success = false WHERE id = :id",
    "UPDATE audit_events SET username = 'someone-else'",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
])
def test_updating_or_deleting_an_audit_row_fails(event_id, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "login"


def test_the_orm_cannot_change_or_delete_an_event_either(event_id):
    event = db.session.get(AuditEvent, event_id)
    event.success = False
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event_id))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).success is True


def test_postgresql_refuses_truncate_too(event_id):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events"))
    db.session.rollback()


def test_new_events_can_still_be_written(event_id):
    record("export", "cases", "", rows=3)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 2
