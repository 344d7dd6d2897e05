"""The one rule that decides which rows of case work a user may see (SPEC "Who uses it").

It is written on columns, not on a table: cases, and any later record that belongs to a precinct and may have an
assignee, pass their own precinct and assignee columns. Accounts know nothing of cases; `cases.scoping` applies
this rule to Case, and every case query goes through it.
"""
from sqlalchemy import ColumnElement, Select, false, or_, true

from ..core.enums import Role
from .models import User


def visible_to(user: User, precinct_id: ColumnElement, assignee_id: ColumnElement | None = None) -> ColumnElement:
    """The condition a row must meet for this user to see it.

    officer: rows assigned to them and their precinct's unassigned pool; lead: their precinct;
    center: every row; admin: none (admins manage the system, not case content).
    """
    if user.role == Role.CENTER:
        return true()
    if user.role == Role.LEAD and user.precinct_id is not None:
        return precinct_id == user.precinct_id
    if user.role == Role.OFFICER and user.precinct_id is not None:
        if assignee_id is None:
            return precinct_id == user.precinct_id
        return (precinct_id == user.precinct_id) & or_(assignee_id == user.id, assignee_id.is_(None))
    return false()


def scope(user: User, stmt: Select, precinct_id: ColumnElement, assignee_id: ColumnElement | None = None) -> Select:
    """`stmt` restricted to the rows this user may see (a center's query is left as it is)."""
    if user.role == Role.CENTER:
        return stmt
    return stmt.where(visible_to(user, precinct_id, assignee_id))

