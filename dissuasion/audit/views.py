"""The audit trail page and its export (admins only)."""
from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..core.database import writes_on_get
from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.formdata import whole
from ..extensions import db
from .forms import AuditFilterForm
from .labels import action_label, detail_text, object_label
from .operations import export_audit_trail
from .queries import AuditFilter, filtered, known_actions

bp = Blueprint("audit", __name__)


def _audit_filter() -> tuple[AuditFilterForm, AuditFilter]:
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("全部"))] + sorted(
        (SelectChoice(a, action_label(a)) for a in known_actions()), key=lambda c: c.label)
    form.validate()
    return form, AuditFilter(username=form.username.data or "", action=form.action.data or "",
                             date_from=form.date_from.data if not form.date_from.errors else None,
                             date_to=form.date_to.data if not form.date_to.errors else None,
                             success=form.success.data if form.success.data in ("yes", "no") else "")


@bp.route("/admin/audit")
@roles_required(Role.ADMIN)
def index():
    """The audit trail, newest first, narrowed by user, action, dates and result."""
    form, f = _audit_filter()
    pagination = db.paginate(filtered(f), page=request.args.get("page", 1, type=whole),
                             per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("audit/index.html", form=form, pagination=pagination, args=f.as_dict(),
                           action_label=action_label, object_label=object_label, detail_text=detail_text,
                           role_label=_role_label)


def _role_label(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


@bp.route("/admin/audit/export")
@roles_required(Role.ADMIN)
@writes_on_get
def export():
    """The filtered audit trail as .xlsx; the export is itself audited."""
    _form, f = _audit_filter()
    data = export_audit_trail(f, by=current_user)
    db.session.commit()
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=audit.xlsx"})
