"""Template filters and globals: local times, money, labels, masking."""
from decimal import Decimal

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .enums import DataFlag, Outcome, Role
from .timeutil import local, now

#: The navigation of each role: (endpoint, label, roles). Entries whose page does not exist yet are skipped.
NAV = (
    ("cases.worklist", _l("我的任务"), (Role.OFFICER, Role.LEAD)),
    ("cases.precinct_board", _l("本所看板"), (Role.LEAD,)),
    ("cases.center_board", _l("全县看板"), (Role.CENTER,)),
    ("entry.new", _l("录入预警"), (Role.CENTER, Role.LEAD)),
    ("imports.upload", _l("导入名单"), (Role.CENTER,)),
    ("imports.pushes", _l("推送批次"), (Role.CENTER,)),
    ("reports.weekly", _l("周报"), (Role.CENTER, Role.LEAD)),
    ("prevention.index", _l("宣传工作"), (Role.OFFICER, Role.LEAD, Role.CENTER)),
    ("prevention.targets", _l("注册目标"), (Role.ADMIN,)),
    ("watch.register", _l("重点关注"), (Role.OFFICER, Role.LEAD, Role.CENTER)),
    ("watch.assessment", _l("考评"), (Role.CENTER, Role.LEAD)),
    ("watch.settings", _l("关注与考评设置"), (Role.ADMIN,)),
    ("users.index", _l("用户管理"), (Role.ADMIN,)),
    ("directory.index", _l("派出所目录"), (Role.ADMIN, Role.CENTER)),
    ("rules.index", _l("处置规则"), (Role.ADMIN,)),
    ("audit.index", _l("审计日志"), (Role.ADMIN,)),
)


def nav_for(user) -> list[tuple[str, str]]:
    """The links this user's role sees, in order."""
    if not user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label, roles in NAV
            if user.role in roles and endpoint in current_app.view_functions]


def fmt_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as Asia/Shanghai wall-clock time."""
    return local(value).strftime(fmt) if value else ""


def fmt_money(value: Decimal | None) -> str:
    """Yuan with thousands separators and two decimals: 5,000.00."""
    return "" if value is None else f"{value:,.2f}"


def flag_label(key: str) -> str:
    """A data-quality flag's words; an unknown key shows as itself."""
    return DataFlag(key).label if key in DataFlag._value2member_map_ else key


def init_app(app: Flask) -> None:
    app.add_template_global(flag_label)
    app.add_template_global(now)
    app.add_template_filter(fmt_time, "time")
    app.add_template_filter(fmt_money, "money")

    @app.context_processor
    def inject_roles():
        # the user itself, not the proxy: a page reads `me` dozens of times, each a lookup through werkzeug's proxy
        me = current_user._get_current_object()
        return {"Role": Role, "Outcome": Outcome, "me": me, "nav": nav_for(me)}
