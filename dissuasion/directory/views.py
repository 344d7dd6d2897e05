"""The precinct directory page: everyone at the center reads it; an admin loads a new version."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.decorators import roles_required
from ..core.enums import Role
from ..extensions import db
from .forms import DirectoryForm
from .models import Precinct
from .operations import DirectoryError, load_directory

bp = Blueprint("directory", __name__)


@bp.route("/admin/directory", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.CENTER)
def index():
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
            return redirect(url_for("directory.index"))
    precincts = db.session.scalars(db.select(Precinct).order_by(Precinct.code)).all()
    return render_template("directory/index.html", precincts=precincts, form=form)
