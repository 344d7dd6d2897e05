"""Route guards by role."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .enums import Role


def roles_required(*roles: Role):
    """Logged in, and one of these roles; anyone else gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
