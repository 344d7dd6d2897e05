"""API tokens on the pages: each user sees and revokes their own (我的接口令牌); an admin sees and revokes any
account's on its user page (auth/user_edit.html reads tokens_of_user). Tokens are created with
`flask --app app api-token create`."""
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists

from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.timeutil import now
from ..extensions import db
from .models import ApiToken, User
from .operations import revoke_token
from .session import HEADER_FIGURES, header_figure

bp = Blueprint("tokens", __name__)


def tokens_of_user(user: User) -> list[ApiToken]:
    """A user's tokens, newest first, ended ones included (shown as such)."""
    return list(db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


@bp.get("/account/tokens")
@login_required
def mine():
    """My API tokens: when each was made, when it ends, when and where it was last used; revoke one."""
    return render_template("auth/tokens.html", tokens=tokens_of_user(current_user), now=now())


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_mine(token_id: int):
    """Revoke one of my own tokens; another user's token is answered as one that does not exist."""
    _revoke(db.session.get(ApiToken, token_id), current_user.id)
    return redirect(url_for("tokens.mine"))


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_any(user_id: int, token_id: int):
    """An admin revokes a token of the account whose page this is."""
    _revoke(db.session.get(ApiToken, token_id), user_id)
    return redirect(url_for("users.edit", user_id=user_id) + "#tokens")


def _revoke(token: ApiToken | None, owner_id: int) -> None:
    if token is None or token.user_id != owner_id:
        flash(_("没有这个令牌（可能已被删除），请刷新页面。"), "error")
    elif revoke_token(token, current_user._get_current_object()):
        db.session.commit()
        flash(_("令牌“%(name)s”已吊销，立即失效。", name=token.name), "success")
    else:
        flash(_("令牌“%(name)s”此前已经吊销。", name=token.name), "info")


def init_app(app: Flask) -> None:
    HEADER_FIGURES["holds_api_tokens"] = lambda user_id: exists().where(ApiToken.user_id == user_id)

    @app.context_processor
    def inject_token_link():
        """Whether the header links 接口令牌: only for someone who holds a token (loaded with the user)."""
        if request.path.startswith("/api/") or not current_user.is_authenticated:
            return {}
        held = header_figure("holds_api_tokens", current_user)
        if held is None:
            held = db.session.scalar(db.select(ApiToken.id).filter_by(user_id=current_user.id).limit(1)) is not None
        return {"holds_api_tokens": held}
