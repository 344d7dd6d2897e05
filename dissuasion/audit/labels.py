"""What the audit page shows for the stored keys: an action and an object type in words. The keys stay as they are
in the database and in the export (an analyst filters by them); an unknown key is shown as it is."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "login": _l("登录"), "logout": _l("退出登录"), "login_failed": _l("登录失败"),
    "login_throttled": _l("登录过于频繁"), "account_locked": _l("账号锁定"), "totp_enrol": _l("绑定动态口令"),
    "password_change": _l("修改密码"),
    "user_create": _l("新建用户"), "user_update": _l("修改或停用用户"), "api_token_create": _l("创建接口令牌"),
    "reveal_id": _l("查看完整身份证号"), "reveal_phone": _l("查看完整手机号"), "case_search": _l("查询任务"),
    "case_sign": _l("签收"), "case_assign": _l("指派"), "case_transfer": _l("移交"), "case_route": _l("分派派出所"),
    "contact_add": _l("登记劝阻记录"), "followup_add": _l("安排回访"), "followup_move": _l("回访改期"),
    "case_close": _l("办结"), "case_close_approved": _l("批准未面见办结"), "case_reopen": _l("重新启用"),
    "import_preview": _l("导入预览"), "import": _l("导入名单"), "export": _l("导出"),
    "report_generated": _l("生成周报"), "rule_update": _l("修改规则"), "directory_load": _l("导入派出所目录"),
    "backup": _l("备份"), "restore": _l("恢复备份"), "pii_rotate": _l("更换加密密钥"), "demo_load": _l("载入演示数据"),
}

OBJECTS = {
    "case": _l("任务"), "push": _l("批次"), "user": _l("账号"), "username": _l("用户名"), "file": _l("文件"),
    "api_token": _l("接口令牌"), "database": _l("数据库"), "directory": _l("目录"), "rule": _l("规则"),
    "weekly_report": _l("周报"), "feedback": _l("反馈"), "audit_events": _l("审计日志"),
}


def action_label(key: str) -> str:
    label = ACTIONS.get(key)
    return str(label) if label is not None else key


def object_label(key: str) -> str:
    label = OBJECTS.get(key)
    return str(label) if label is not None else key
