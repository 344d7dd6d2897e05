"""The admin's accounts pages: list and create users, change one (role, precinct, name, 停用), give a new initial
password. (The login pages are auth.views: a form posted there without a session is a login, not an admin's.)"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.signals import account_holds, results
from ..core.timeutil import now
from ..directory.models import Precinct
from ..extensions import db
from .forms import EditUserForm, SetPasswordForm, UserForm
from .login import clear_throttle, throttled_addresses, unlock_account
from .models import User
from .operations import UserError, account_problems, create_user, set_password, update_user
from .token_views import tokens_of_user

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _precinct_choices() -> list[tuple[str, str]]:
    precincts = db.session.scalars(db.select(Precinct).order_by(Precinct.code))
    return [("", _("（无）"))] + [(p.code, f"{p.code} {p.name}") for p in precincts]


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index():
    """List users; create one."""
    form = UserForm()
    form.precinct.choices = _precinct_choices()
    valid = form.validate_on_submit()
    roles = {r.value for r in Role}
    if form.is_submitted() and not valid and "csrf_token" not in form.errors and form.role.data in roles:
        # what the form's own checks did not already say, said with it (a bad name, a short password, no precinct)
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=form.precinct.data)) \
            if form.precinct.data else None
        for name, message in account_problems((form.username.data or "").strip(), Role(form.role.data),
                                              form.password.data or None, precinct).items():
            if not form[name].errors:
                form[name].errors.append(message)
    if valid:
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=form.precinct.data)) \
            if form.precinct.data else None
        try:
            create_user(form.username.data, Role(form.role.data), form.password.data, precinct=precinct,
                        display_name=form.display_name.data or "", must_change_password=True, by=current_user)
        except UserError as exc:
            for name, message in (exc.fields or {"username": str(exc)}).items():
                form[name].errors.append(message)
        else:
            db.session.commit()
            flash(_("已创建用户 %(name)s；首次登录时需修改密码。", name=form.username.data), "success")
            return redirect(url_for("users.index"))
    rows = db.session.scalars(db.select(User).order_by(User.role, User.precinct_id, User.username)).all()
    return render_template("auth/users.html", users=rows, form=form, throttled=throttled_addresses())


@bp.post("/throttle/clear")
@roles_required(Role.ADMIN)
def clear_login_throttle():
    """解除登录限制: an address held back by failed logins (a station behind one NAT) may log in again at once."""
    ip = (request.form.get("ip") or "").strip()
    if not ip or len(ip) > 64:
        flash(_("请指明要解除限制的地址。"), "error")
        return redirect(url_for("users.index"))
    clear_throttle(ip, current_user._get_current_object())
    db.session.commit()
    flash(_("已解除 %(ip)s 的登录限制。", ip=ip), "success")
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/unlock")
@roles_required(Role.ADMIN)
def unlock(user_id: int):
    """解除锁定: an account locked by failed logins may log in again with its own password."""
    user = db.get_or_404(User, user_id)
    if unlock_account(user, current_user._get_current_object()):
        db.session.commit()
        flash(_("已解除 %(name)s 的账号锁定。", name=user.username), "success")
    else:
        flash(_("%(name)s 的账号没有被锁定。", name=user.username), "info")
    return redirect(url_for("users.edit", user_id=user.id))


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(user_id: int):
    """Change an account's role, precinct or name, or stop it (停用); give it a new initial password."""
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=None if request.method == "POST" else user)
    form.precinct.choices = _precinct_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.precinct.data = user.precinct.code if user.precinct else ""
    if form.validate_on_submit():
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=form.precinct.data)) \
            if form.precinct.data else None
        try:
            changed = update_user(user, current_user, role=Role(form.role.data), precinct=precinct,
                                  display_name=form.display_name.data or "", active=form.active.data)
        except UserError as exc:
            db.session.rollback()
            form.role.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("已保存 %(name)s 的修改。", name=user.username) if changed else _("没有任何改动。"), "success")
            return redirect(url_for("users.edit", user_id=user.id))
    held = sum(results(account_holds, user))
    return render_template("auth/user_edit.html", user=user, form=form, password_form=SetPasswordForm(), held=held,
                           tokens=tokens_of_user(user), now=now())


@bp.post("/<int:user_id>/password")
@roles_required(Role.ADMIN)
def password(user_id: int):
    """Give an account a new initial password (and activate it, e.g. a community officer's)."""
    user = db.get_or_404(User, user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.password.data, by=current_user)
        except UserError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("已为 %(name)s 设置初始密码，账号已启用。", name=user.username), "success")
    else:
        flash(_("请输入密码。"), "error")
    return redirect(url_for("users.edit", user_id=user.id))
