"""How jobs take their rows, so two scheduler runs at once (two processes, or a run-once beside the
scheduler) never handle one row twice (STYLE pitfalls: APScheduler).

A job lists the due ids, then handles each in its own transaction: `claim()` locks the row and checks it
is still due. On PostgreSQL the lock is FOR UPDATE SKIP LOCKED (a row another process holds is skipped);
on SQLite the transaction starts with BEGIN IMMEDIATE (database.py), so the second process waits and then
finds the row no longer due. Notifications carry a unique dedupe_key as the last guard (notify_once).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy import select

from ..extensions import db

log = logging.getLogger(__name__)


def claim(entity, ident: int, *still_due):
    """The row, locked for this transaction, if it still meets `still_due`; None if another process has it."""
    stmt = (select(entity).where(entity.id == ident, *still_due).with_for_update(skip_locked=True)
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def each_claimed(entity, ids: Iterable[int], still_due: tuple, handle: Callable) -> int:
    """Claim and handle each row in its own transaction; one row's failure is logged and does not stop the rest."""
    handled = 0
    for ident in ids:
        try:
            row = claim(entity, ident, *still_due)
            if row is not None:
                handle(row)
                handled += 1
            db.session.commit()
        except Exception:  # noqa: BLE001  (a job goes on with the next row; the error is logged)
            db.session.rollback()
            log.exception("%s %s: not handled", entity.__name__, ident)
    return handled


def due_ids(stmt) -> list[int]:
    """The ids a job will handle, read in a short transaction of its own."""
    ids = list(db.session.scalars(stmt))
    db.session.commit()
    return ids
