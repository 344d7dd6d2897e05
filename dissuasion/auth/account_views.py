"""The user's own account: turning on the second factor (any user may; admin and center accounts must, at their
first login, auth.views). Changing one's password is auth.views.password; both are in every user's menu."""
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..privacy.pii import decrypt, encrypt
from . import login as policy
from .forms import TotpForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp():
    """开启动态验证码: a QR code drawn here and the secret to type, then a code from the app proves it works."""
    user = current_user._get_current_object()
    if user.totp_secret:
        return render_template("auth/totp_self.html", on=True, obliged=user.role in policy.TOTP_ROLES)
    sealed = session.get("enrol_secret") or encrypt(policy.new_totp_secret())  # a cookie is signed, not encrypted
    session["enrol_secret"] = sealed
    secret = decrypt(sealed)
    form = TotpForm()
    if form.validate_on_submit():
        if policy.totp_ok(secret, form.code.data, user):  # its step kept: the same code cannot log in afterwards
            policy.enrol_totp(user, secret)
            db.session.commit()
            session.pop("enrol_secret", None)
            flash(_("已开启动态验证码，下次登录时需要输入验证器应用显示的 6 位数字。"), "success")
            return redirect(url_for("account.totp"))
        form.code.errors.append(_("验证码不正确，请输入验证器应用当前显示的 6 位数字。"))
    uri = policy.totp_uri(secret, user)
    return render_template("auth/totp_self.html", on=False, form=form, secret=secret, uri=uri,
                           qr=policy.totp_qr_svg(uri))
