"""Users and directory administration."""
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func
from wtforms import SelectChoice

from ..audit.forms import AuditFilterForm
from ..audit.labels import action_label, detail_text, object_label
from ..audit.operations import export_audit_trail
from ..audit.queries import AuditFilter, filtered, known_actions
from ..auth.decorators import roles_required
from ..auth.models import User
from ..auth.operations import UserError, create_user, set_password, update_user
from ..cases.models import Case
from ..database import writes_on_get
from ..directory.models import Precinct
from ..directory.operations import DirectoryError, load_directory
from ..enums import CaseStatus, Role
from ..extensions import db
from .forms import DirectoryForm, EditUserForm, SetPasswordForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _precinct_choices() -> list[tuple[str, str]]:
    precincts = db.session.scalars(db.select(Precinct).order_by(Precinct.code))
    return [("", _("（无）"))] + [(p.code, f"{p.code} {p.name}") for p in precincts]


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users():
    """List users; create one."""
    form = UserForm()
    form.precinct.choices = _precinct_choices()
    if form.validate_on_submit():
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=form.precinct.data)) \
            if form.precinct.data else None
        try:
            create_user(form.username.data, Role(form.role.data), form.password.data, precinct=precinct,
                        display_name=form.display_name.data or "", must_change_password=True, by=current_user)
        except UserError as exc:
            form.username.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("已创建用户 %(name)s；首次登录时需修改密码。", name=form.username.data), "success")
            return redirect(url_for("admin.users"))
    rows = db.session.scalars(db.select(User).order_by(User.role, User.precinct_id, User.username)).all()
    return render_template("admin/users.html", users=rows, form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_edit(user_id: int):
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
            return redirect(url_for("admin.user_edit", user_id=user.id))
    held = db.session.scalar(db.select(func.count(Case.id)).where(
        Case.assignee_id == user.id, Case.status.in_(CaseStatus.open_values())))
    return render_template("admin/user_edit.html", user=user, form=form, password_form=SetPasswordForm(), held=held)


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def user_password(user_id: int):
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
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/directory", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.CENTER)
def directory():
    """The precinct directory; an admin can load a new version of it."""
    form = DirectoryForm()
    if current_user.role == Role.ADMIN and form.validate_on_submit():
        try:
            result = load_directory(form.file.data.read(), by=current_user)
        except DirectoryError as exc:
            db.session.rollback()
            for problem in exc.problems[:50]:
                flash(problem, "error")
        else:
            db.session.commit()
            flash(_("目录已导入：新增派出所 %(p)d 个，新增社区 %(c)d 个，新建社区民警账号 %(o)d 个。",
                    p=result.precincts_created, c=result.communities_created, o=result.officers_created), "success")
            return redirect(url_for("admin.directory"))
    precincts = db.session.scalars(db.select(Precinct).order_by(Precinct.code)).all()
    return render_template("admin/directory.html", precincts=precincts, form=form)


def _audit_filter() -> tuple[AuditFilterForm, AuditFilter]:
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("全部"))] + sorted(
        (SelectChoice(a, action_label(a)) for a in known_actions()), key=lambda c: c.label)
    form.validate()
    return form, AuditFilter(username=form.username.data or "", action=form.action.data or "",
                             date_from=form.date_from.data if not form.date_from.errors else None,
                             date_to=form.date_to.data if not form.date_to.errors else None,
                             success=form.success.data if form.success.data in ("yes", "no") else "")


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit():
    """The audit trail, newest first, narrowed by user, action, dates and result."""
    form, f = _audit_filter()
    pagination = db.paginate(filtered(f), page=request.args.get("page", 1, type=int),
                             per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("admin/audit.html", form=form, pagination=pagination, args=f.as_dict(),
                           action_label=action_label, object_label=object_label, detail_text=detail_text,
                           role_label=_role_label)


def _role_label(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


@bp.route("/audit/export")
@roles_required(Role.ADMIN)
@writes_on_get
def audit_export():
    """The filtered audit trail as .xlsx; the export is itself audited."""
    _form, f = _audit_filter()
    data = export_audit_trail(f, by=current_user)
    db.session.commit()
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=audit.xlsx"})


from . import rules  # noqa: E402,F401  (its routes join this blueprint)
