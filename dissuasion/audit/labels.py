"""What the audit page shows for the stored keys: an action and an object type in words. The keys stay as they are
in the database and in the export (an analyst filters by them); an unknown key is shown as it is."""
from flask_babel import lazy_gettext as _l

from ..core.enums import ActivityKind, CaseStatus, Method, Outcome, Role, Tier, WarningSource
from ..core.i18n import colon, list_separator

ACTIONS = {
    "login": _l("登录"), "logout": _l("退出登录"), "login_failed": _l("登录失败"),
    "login_throttled": _l("登录过于频繁"), "account_locked": _l("账号锁定"), "totp_enrol": _l("绑定动态口令"),
    "password_change": _l("修改密码"),
    "user_create": _l("新建用户"), "user_update": _l("修改或停用用户"), "api_token_create": _l("创建接口令牌"),
    "api_token_revoke": _l("吊销接口令牌"), "api_token_new_address": _l("接口令牌从新地址使用"),
    "login_throttle_clear": _l("解除登录限制"), "account_unlock": _l("解除账号锁定"),
    "reveal_id": _l("查看完整身份证号"), "reveal_phone": _l("查看完整手机号"), "case_search": _l("查询任务"),
    "reveal_notes": _l("查看记录中的完整号码"),
    "reveal_relative_phone": _l("查看亲友完整电话"),
    "case_sign": _l("签收"), "case_assign": _l("指派"), "case_transfer": _l("移交"), "case_route": _l("分派派出所"),
    "contact_add": _l("登记劝阻记录"), "followup_add": _l("安排回访"), "followup_move": _l("回访改期"),
    "case_close": _l("办结"), "case_close_approved": _l("批准未面见办结"), "case_reopen": _l("重新启用"),
    "import_preview": _l("导入预览"), "import": _l("导入名单"), "export": _l("导出"),
    "report_generated": _l("生成周报"), "rule_update": _l("修改规则"), "directory_load": _l("导入派出所目录"),
    "backup": _l("备份"), "restore": _l("恢复备份"), "pii_rotate": _l("更换加密密钥"), "demo_load": _l("载入演示数据"),
    "warning_enter": _l("录入预警"), "entry_lookup": _l("录入预警时查找已有任务"),
    "warnings_return": _l("退回（非本辖区）"), "warnings_return_undo": _l("撤销退回"),
    "case_return_request": _l("申请退回中心"),
    "activity_create": _l("登记宣传工作"), "activity_update": _l("修改宣传工作"), "activity_delete": _l("删除宣传工作"),
    "app_target_set": _l("设置APP注册目标"),
    "watch_create": _l("列入重点关注"), "watch_update": _l("修改重点关注"), "watch_meeting": _l("登记见面"),
    "watch_end": _l("结束关注"), "watch_kind_add": _l("新增关注类别"), "assessment_weights": _l("修改考评权重"),
}

OBJECTS = {
    "case": _l("任务"), "push": _l("批次"), "user": _l("账号"), "username": _l("用户名"), "file": _l("文件"),
    "api_token": _l("接口令牌"), "database": _l("数据库"), "directory": _l("目录"), "rule": _l("规则"),
    "weekly_report": _l("周报"), "feedback": _l("反馈"), "audit_events": _l("审计日志"), "ip": _l("地址"),
    "activity": _l("宣传工作"), "community": _l("社区"), "work_summary": _l("工作总结"),
    "watch_entry": _l("重点关注"), "watch_kind": _l("关注类别"), "watch_register": _l("重点人员台账"),
    "assessment": _l("考评"),
}


def action_label(key: str) -> str:
    label = ACTIONS.get(key)
    return str(label) if label is not None else key


def object_label(key: str) -> str:
    label = OBJECTS.get(key)
    return str(label) if label is not None else key


#: The details an event keeps, in words. The stored keys stay as they are (the export gives them raw).
DETAILS = {
    "file_name": _l("文件名"), "file": _l("文件"), "sha256": _l("校验值"), "status": _l("结果"),
    "rows_total": _l("数据行"), "imported": _l("导入"), "rejected": _l("拒收"), "duplicates": _l("重复"),
    "rows": _l("行数"), "kind": _l("类型"), "results": _l("结果数"), "reason": _l("原因"), "until": _l("锁定至"),
    "username": _l("用户名"), "role": _l("角色"), "precinct": _l("派出所"), "active": _l("启用"),
    "changed": _l("改动"), "cases_released": _l("退回的任务"), "for_user": _l("用于账号"), "name": _l("名称"),
    "to_user": _l("指派给（账号编号）"), "to_precinct": _l("移交至"), "new_case": _l("新任务"),
    "outcome": _l("办结结果"), "contact": _l("劝阻记录编号"), "followup": _l("回访编号"), "person": _l("人员编号"),
    "purpose": _l("查看事由"), "bulk": _l("批量方式"), "tier": _l("风险等级"), "week": _l("周"),
    "scheduled": _l("定时生成"), "period": _l("期间"), "filters": _l("筛选条件"), "via": _l("途径"),
    "key_id": _l("密钥"), "values": _l("改写的值"), "bytes": _l("字节"), "warnings": _l("预警条数"),
    "precincts_created": _l("新建派出所"), "precincts_updated": _l("更新派出所"),
    "communities_created": _l("新建社区"), "officers_created": _l("新建民警账号"),
    "officers_linked": _l("关联民警账号"), "push_id": _l("批次"), "case_id": _l("任务"), "message": _l("说明"),
    "errors": _l("错误"), "counters": _l("计数"), "display_name": _l("姓名"), "action": _l("操作"),
    "date_from": _l("起始日期"), "date_to": _l("截止日期"), "success": _l("结果"),
    "warning": _l("预警编号"), "source": _l("预警来源"), "attached": _l("并入已有任务"), "by": _l("查找依据"),
    "ip": _l("地址"), "previous_ip": _l("此前的地址"), "count": _l("号码个数"), "expires_at": _l("到期时间"),
    # a rule's settings (rule_update's changes: before → after)
    "method": _l("劝阻方式"), "call_at_once": _l("同时立即电话"), "sign_minutes": _l("签收时限（分钟）"),
    "contact_minutes": _l("首次联系时限（分钟）"), "retry_minutes": _l("重拨间隔（分钟）"),
    "max_tries": _l("联系次数"), "escalation": _l("联系失败后"), "followup_days": _l("回访日"),
    "watch_days": _l("关注期（天）"), "away_method": _l("外出务工人员的方式"),
    "away_relatives": _l("外出务工人员另需联系亲友"),
    # publicity work (activity_create, activity_update's changes: before → after) and APP targets
    "changes": _l("改动"), "before": _l("改前"), "format": _l("格式"), "community": _l("社区"),
    "community_id": _l("社区编号"), "held_on": _l("活动日期"), "place": _l("地点"), "participants": _l("参与民警"),
    "people": _l("受教群众（人次）"), "households": _l("入户走访（户）"), "materials": _l("发放资料（份）"),
    "banners": _l("横幅标语（条）"), "posts": _l("发布信息（条）"), "app_registrations": _l("注册反诈APP（人次）"),
    "officers": _l("出动警力（人）"), "note": _l("备注"), "target": _l("目标人数"), "since": _l("起算日期"),
    # watch lists
    "case": _l("任务"), "officer": _l("责任民警"), "meeting": _l("见面记录编号"), "flags": _l("情况标记"),
    "after": _l("修改后"), "cadre": _l("责任干部"), "interval": _l("见面间隔（天）"),
    "overdue": _l("只看逾期"), "ends_on": _l("结束日期"),
}

#: Stored values that are words of ours rather than the user's.
VALUES = {
    "committed": _l("已导入"), "duplicate_file": _l("重复文件，未改动"), "error_report": _l("错误报告"),
    "group": _l("按组分派"), "directory": _l("按目录匹配"), "password": _l("密码错误"), "totp": _l("动态口令错误"),
    "password_change": _l("修改密码时当前密码错误"),
    "locked": _l("账号已锁定"), "api": _l("接口"), "view": _l("查看"), "call": _l("拨打电话"),
    "visit": _l("面见"), "phone": _l("电话"), "relatives": _l("经亲友"), "unreachable": _l("无法联系"),
    "id": _l("身份证号"),
}
#: The keys of the case's words (outcome, method, tier, status, role) as the pages say them: 办结结果：及时劝阻.
VALUES |= {member.value: label for enum in (Outcome, Method, Tier, CaseStatus, Role, WarningSource)
           for member, label in enum._labels().items() if member.value not in VALUES}
VALUES |= {member.value: label for member, label in ActivityKind._labels().items() if member.value not in VALUES}


def detail_text(detail: dict) -> str:
    """An event's details as staff read them: 文件名：名单.xlsx；结果：已导入；数据行：120."""
    return list_separator().join(f"{_detail_label(k)}{colon()}{_detail_value(v)}" for k, v in sorted(detail.items()))


def _detail_label(key: str) -> str:
    label = DETAILS.get(key)
    return str(label) if label is not None else key


def _detail_value(value) -> str:
    if isinstance(value, bool):
        return str(_l("是") if value else _l("否"))
    if isinstance(value, dict):  # a rule's changes hold [before, after]
        return "，".join(f"{_detail_label(k)} " + (f"{_detail_value(v[0])} → {_detail_value(v[1])}"
                                                   if isinstance(v, list) and len(v) == 2 else _detail_value(v))
                        for k, v in value.items() if v not in ("", None))
    if isinstance(value, list | tuple):  # the fields a change touched, or a rule's days
        return "、".join(_detail_label(v) if isinstance(v, str) and v in DETAILS else _detail_value(v)
                        for v in value) or "—"
    label = VALUES.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else str(value)
