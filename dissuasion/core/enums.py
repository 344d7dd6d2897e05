"""Every status, tier, method and outcome of the product, with its Chinese label, in one place.

The values are the keys SPEC fixes for JSON, files and code; the labels are what people see.
Labels are written in Chinese (the default interface) and translated to English by the `en`
catalog, so an untranslated label still shows the right thing to the primary users.
"""
import enum

from flask_babel import lazy_gettext as _l

from .catalog import kept_translations

#: Each enum's labels, made once: they are lazy strings, translated each time they are shown.
_LABELS: dict[type, dict] = {}
#: Each enum's labels in each catalog (the catalogs live as long as the process: one per language).
_TRANSLATED: dict[tuple, dict] = {}


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a display label."""

    @property
    def label(self) -> str:
        catalog = kept_translations()
        if catalog is not None:  # translated once per enum and catalog (a worklist page shows some 300 labels)
            translated = _TRANSLATED.get((type(self), catalog))
            if translated is None:
                translated = _TRANSLATED[type(self), catalog] = {m: str(v) for m, v in self._lazy_labels().items()}
            return translated[self]
        return str(self._lazy_labels()[self])

    @classmethod
    def _lazy_labels(cls) -> dict:
        labels = _LABELS.get(cls)
        if labels is None:
            labels = _LABELS[cls] = cls._labels()
        return labels

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(LabelledEnum):
    CENTER = "center"
    LEAD = "lead"
    OFFICER = "officer"
    ADMIN = "admin"

    @classmethod
    def _labels(cls):
        return {cls.CENTER: _l("中心民警"), cls.LEAD: _l("所领导"), cls.OFFICER: _l("民警"),
                cls.ADMIN: _l("系统管理员")}


class CaseStatus(LabelledEnum):
    NEW = "new"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    TRANSFERRED = "transferred"
    UNREACHABLE = "unreachable"

    @classmethod
    def _labels(cls):
        return {cls.NEW: _l("待签收"), cls.SIGNED: _l("已签收"), cls.IN_PROGRESS: _l("处置中"),
                cls.CLOSED: _l("已办结"), cls.TRANSFERRED: _l("已移交"), cls.UNREACHABLE: _l("无法联系")}

    @classmethod
    def open_values(cls) -> tuple["CaseStatus", ...]:
        """Statuses in which a case still needs work from its precinct."""
        return (cls.NEW, cls.SIGNED, cls.IN_PROGRESS)


class Tier(LabelledEnum):
    EXTRA_HIGH = "extra_high"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def _labels(cls):
        return {cls.EXTRA_HIGH: _l("特高危"), cls.HIGH: _l("高风险"), cls.MEDIUM: _l("中风险"), cls.LOW: _l("低风险")}

    @property
    def rank(self) -> int:
        """0 is the most urgent; worklists sort by it."""
        return _TIER_RANKS[self]

    @classmethod
    def highest(cls, *tiers: "Tier") -> "Tier":
        return min(tiers, key=lambda t: t.rank)

    @property
    def needs_visit(self) -> bool:
        """SPEC "The job": 高风险 and 特高危 are dissuaded face to face (预警见人). Their default rule's method is a
        visit, a case of theirs closes only after a visit (or a lead's approval), and the report's 预警见人率 counts
        them. The one home of this rule: everything else reads it here."""
        return self in (Tier.EXTRA_HIGH, Tier.HIGH)


_TIER_RANKS = {tier: rank for rank, tier in enumerate(Tier)}


class Method(LabelledEnum):
    VISIT = "visit"
    PHONE = "phone"
    SMS = "sms"
    VIDEO = "video"
    RELATIVES = "relatives"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.VISIT: _l("面见"), cls.PHONE: _l("电话"), cls.SMS: _l("短信"), cls.VIDEO: _l("视频"),
                cls.RELATIVES: _l("经亲友"), cls.OTHER: _l("其他")}


class Outcome(LabelledEnum):
    DISSUADED = "dissuaded"
    SELF_PROTECTED = "self_protected"
    DEFRAUDED = "defrauded"
    FALSE_ALARM = "false_alarm"
    UNREACHABLE = "unreachable"

    @classmethod
    def _labels(cls):
        return {cls.DISSUADED: _l("及时劝阻"), cls.SELF_PROTECTED: _l("自主防范"), cls.DEFRAUDED: _l("已被骗"),
                cls.FALSE_ALARM: _l("误报"), cls.UNREACHABLE: _l("无法联系")}

    @property
    def fields(self) -> tuple[str, ...]:
        """The case's fields that belong to this outcome (SPEC "Outcomes when closing"): 劝阻金额 goes only with
        及时劝阻, 受骗金额 and 受骗时间 only with 已被骗. A new outcome clears the others' fields, reports sum an amount
        only over its outcome's cases, and the feedback file sends it only with its outcome: the one home of the
        rule."""
        return _OUTCOME_FIELDS.get(self, ())

    def owns(self, field: str) -> bool:
        return field in self.fields


_OUTCOME_FIELDS = {Outcome.DISSUADED: ("amount_dissuaded",), Outcome.DEFRAUDED: ("amount_defrauded", "defrauded_at")}


class Reached(LabelledEnum):
    SELF = "self"
    RELATIVE = "relative"
    NONE = "none"

    @classmethod
    def _labels(cls):
        return {cls.SELF: _l("本人"), cls.RELATIVE: _l("亲友"), cls.NONE: _l("未联系上")}


class FailureReason(LabelledEnum):
    NO_ANSWER = "no_answer"
    POWERED_OFF = "powered_off"
    INVALID_NUMBER = "invalid_number"
    REJECTED = "rejected"
    NOT_HOME = "not_home"
    WRONG_ADDRESS = "wrong_address"

    @classmethod
    def _labels(cls):
        return {cls.NO_ANSWER: _l("无人接听"), cls.POWERED_OFF: _l("关机"), cls.INVALID_NUMBER: _l("空号"),
                cls.REJECTED: _l("拒接"), cls.NOT_HOME: _l("不在家"), cls.WRONG_ADDRESS: _l("地址不符")}


class AppStatus(LabelledEnum):
    REGISTERED = "registered"
    REGISTERED_NOW = "registered_now"
    NOT_REGISTERED = "not_registered"

    @classmethod
    def _labels(cls):
        return {cls.REGISTERED: _l("已注册"), cls.REGISTERED_NOW: _l("本次注册"), cls.NOT_REGISTERED: _l("未注册")}


class FraudType(LabelledEnum):
    """SPEC "Fraud types"; an unknown value maps to OTHER and keeps its original text."""

    REBATE = "rebate"
    INVESTMENT = "investment"
    LOAN = "loan"
    CUSTOMER_SERVICE = "customer_service"
    AUTHORITY = "authority"
    ROMANCE = "romance"
    ACQUAINTANCE = "acquaintance"
    CREDIT = "credit"
    SHOPPING = "shopping"
    GAME = "game"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.REBATE: _l("刷单返利"), cls.INVESTMENT: _l("虚假投资理财"), cls.LOAN: _l("虚假网络贷款"),
                cls.CUSTOMER_SERVICE: _l("冒充电商物流客服"), cls.AUTHORITY: _l("冒充公检法"),
                cls.ROMANCE: _l("网络交友诱导投资"), cls.ACQUAINTANCE: _l("冒充领导熟人"), cls.CREDIT: _l("虚假征信"),
                cls.SHOPPING: _l("虚假购物服务"), cls.GAME: _l("网络游戏产品虚假交易"), cls.OTHER: _l("其他")}


class FollowUpKind(LabelledEnum):
    RETRY = "retry"
    ESCALATION = "escalation"
    REVISIT = "revisit"
    MANUAL = "manual"

    @classmethod
    def _labels(cls):
        return {cls.RETRY: _l("再次联系"), cls.ESCALATION: _l("升级处置"), cls.REVISIT: _l("回访"),
                cls.MANUAL: _l("自定回访")}


class FollowUpStatus(LabelledEnum):
    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        return {cls.PENDING: _l("待办"), cls.DONE: _l("已完成"), cls.MISSED: _l("已错过"), cls.CANCELLED: _l("已取消")}


class DataFlag(LabelledEnum):
    """Data-quality problems found on import; the case shows them."""

    ID_LENGTH = "id_length"
    ID_CHECKSUM = "id_checksum"
    ID_FORMAT = "id_format"
    ID_BIRTH_DATE = "id_birth_date"
    ID_LOST_DIGITS = "id_lost_digits"
    PHONE = "phone"

    @classmethod
    def _labels(cls):
        return {cls.ID_LENGTH: _l("身份证号位数不对"), cls.ID_CHECKSUM: _l("身份证号校验位错误"),
                cls.ID_FORMAT: _l("身份证号含非法字符"), cls.ID_BIRTH_DATE: _l("身份证号出生日期无效"),
                cls.ID_LOST_DIGITS: _l("身份证号被 Excel 存成数字，末几位已丢失"), cls.PHONE: _l("手机号格式错误")}


class EventKind(LabelledEnum):
    """What happened on a case's timeline."""

    CREATED = "created"
    WARNING_ADDED = "warning_added"
    TIER_RAISED = "tier_raised"
    REOPENED = "reopened"
    SIGNED = "signed"
    ASSIGNED = "assigned"
    TRANSFERRED = "transferred"
    ROUTED = "routed"
    CONTACT = "contact"
    FOLLOWUP = "followup"
    STATUS = "status"
    CLOSED = "closed"
    NOTE = "note"
    #: A lead lets a 特高危/高 case close without a 面见 contact (预警见人), with a reason.
    CLOSE_APPROVED = "close_approved"

    @classmethod
    def _labels(cls):
        return {cls.CREATED: _l("建立任务"), cls.WARNING_ADDED: _l("新增预警"), cls.TIER_RAISED: _l("风险升级"),
                cls.REOPENED: _l("重复预警，重新启用"), cls.SIGNED: _l("签收"), cls.ASSIGNED: _l("指派"),
                cls.TRANSFERRED: _l("移交"), cls.ROUTED: _l("分派派出所"), cls.CONTACT: _l("劝阻记录"),
                cls.FOLLOWUP: _l("回访安排"), cls.STATUS: _l("状态变更"), cls.CLOSED: _l("办结"), cls.NOTE: _l("备注"),
                cls.CLOSE_APPROVED: _l("批准未面见办结")}


class WarningSource(LabelledEnum):
    """Where a warning came from: the center's push (a file or the push API), or entered by hand (SPEC "Words": a
    bank teller's call, 96110, 110, a relative, a walk-in). The hand-entry keys are the API's `source` values."""

    PUSH = "push"
    API = "api"
    #: Entered by hand before the source was asked (kept for old rows).
    MANUAL = "manual"
    BANK = "bank"
    HOTLINE_96110 = "hotline_96110"
    POLICE_110 = "police_110"
    RELATIVE = "relative"
    WALK_IN = "walk_in"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.PUSH: _l("推送文件"), cls.API: _l("接口推送"), cls.MANUAL: _l("手工录入"), cls.BANK: _l("银行阻截"),
                cls.HOTLINE_96110: _l("96110"), cls.POLICE_110: _l("110"), cls.RELATIVE: _l("亲友报告"),
                cls.WALK_IN: _l("本人来所"), cls.OTHER: _l("其他")}

    @property
    def pushed(self) -> bool:
        """Sent by the center (a file or the push API); every other source is a hand entry."""
        return self in (WarningSource.PUSH, WarningSource.API)

    @classmethod
    def hand_entry(cls) -> tuple["WarningSource", ...]:
        """The sources a user picks on 录入预警 and the API takes (MANUAL is only for old rows)."""
        return (cls.BANK, cls.HOTLINE_96110, cls.POLICE_110, cls.RELATIVE, cls.WALK_IN, cls.OTHER)


class ActivityCount(LabelledEnum):
    """The counts a publicity activity (宣传工作) records; each has its unit and the largest sane value."""

    PEOPLE = "people"
    HOUSEHOLDS = "households"
    MATERIALS = "materials"
    BANNERS = "banners"
    POSTS = "posts"
    APP_REGISTRATIONS = "app_registrations"
    OFFICERS = "officers"

    @classmethod
    def _labels(cls):
        return {cls.PEOPLE: _l("受教群众（人次）"), cls.HOUSEHOLDS: _l("入户走访（户）"),
                cls.MATERIALS: _l("发放资料（份）"), cls.BANNERS: _l("横幅标语（条）"),
                cls.POSTS: _l("发布信息（条）"), cls.APP_REGISTRATIONS: _l("注册反诈APP（人次）"),
                cls.OFFICERS: _l("出动警力（人）")}

    @property
    def maximum(self) -> int:
        """Past this, a number is a typing slip (an extra zero), not a week's work of one precinct."""
        return {ActivityCount.PEOPLE: 100_000, ActivityCount.HOUSEHOLDS: 10_000, ActivityCount.MATERIALS: 200_000,
                ActivityCount.BANNERS: 5_000, ActivityCount.POSTS: 10_000, ActivityCount.APP_REGISTRATIONS: 50_000,
                ActivityCount.OFFICERS: 500}[self]


class ActivityKind(LabelledEnum):
    """Types of publicity work (宣传工作登记), and which counts apply to each (`counts`)."""

    LECTURE = "lecture"
    COMMUNITY_VISIT = "community_visit"
    SCHOOL = "school"
    BANK_COMPANY = "bank_company"
    STREET = "street"
    VAN = "van"
    BANNER = "banner"
    LEAFLETS = "leaflets"
    SCREEN = "screen"
    SOCIAL_MEDIA = "social_media"
    REGISTRY_WINDOW = "registry_window"
    PEAK_POLICING = "peak_policing"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {cls.LECTURE: _l("讲座/报告会"), cls.COMMUNITY_VISIT: _l("进社区/入户走访"),
                cls.SCHOOL: _l("进校园/班会"), cls.BANK_COMPANY: _l("进银行/企业"), cls.STREET: _l("街面/集市宣传"),
                cls.VAN: _l("宣传车"), cls.BANNER: _l("张贴标语/悬挂横幅"), cls.LEAFLETS: _l("发放资料"),
                cls.SCREEN: _l("电子屏/广播"), cls.SOCIAL_MEDIA: _l("自媒体发布"), cls.REGISTRY_WINDOW: _l("户籍窗口"),
                cls.PEAK_POLICING: _l("高峰警务"), cls.OTHER: _l("其他")}

    @property
    def counts(self) -> tuple[ActivityCount, ...]:
        """The counts this type of work records; the others stay 0 (the form hides them, the checks refuse them)."""
        c = ActivityCount
        face_to_face = (c.PEOPLE, c.MATERIALS, c.APP_REGISTRATIONS, c.OFFICERS)
        return {
            ActivityKind.COMMUNITY_VISIT: (c.PEOPLE, c.HOUSEHOLDS, c.MATERIALS, c.APP_REGISTRATIONS, c.OFFICERS),
            ActivityKind.VAN: (c.PEOPLE, c.MATERIALS, c.OFFICERS),
            ActivityKind.BANNER: (c.BANNERS, c.OFFICERS),
            ActivityKind.LEAFLETS: (c.PEOPLE, c.MATERIALS, c.OFFICERS),
            ActivityKind.SCREEN: (c.POSTS,),
            ActivityKind.SOCIAL_MEDIA: (c.POSTS,),
            ActivityKind.PEAK_POLICING: (c.PEOPLE, c.MATERIALS, c.APP_REGISTRATIONS, c.OFFICERS),
            ActivityKind.OTHER: tuple(c),
        }.get(self, face_to_face)


# The watch list (重点人员关注, watch/)


class WatchStatus(LabelledEnum):
    ACTIVE = "active"
    ENDED = "ended"

    @classmethod
    def _labels(cls):
        return {cls.ACTIVE: _l("关注中"), cls.ENDED: _l("已结束")}


class MeetingMethod(LabelledEnum):
    VISIT = "visit"
    PHONE = "phone"
    VIDEO = "video"
    #: went to the door and did not find the person: how 失联 is found out
    DOOR = "door"

    @classmethod
    def _labels(cls):
        return {cls.VISIT: _l("面见"), cls.PHONE: _l("电话"), cls.VIDEO: _l("视频"), cls.DOOR: _l("上门未见")}


class MetBy(LabelledEnum):
    """Who of the two responsible people met the person."""

    OFFICER = "officer"
    CADRE = "cadre"
    BOTH = "both"

    @classmethod
    def _labels(cls):
        return {cls.OFFICER: _l("民警"), cls.CADRE: _l("村（社区）干部"), cls.BOTH: _l("民警和干部共同")}


class MeetingFlag(LabelledEnum):
    NEW_NUMBER = "new_number"
    LOST = "lost"
    LEFT_COUNTRY = "left_country"
    FRAUD_AGAIN = "fraud_again"

    @classmethod
    def _labels(cls):
        return {cls.NEW_NUMBER: _l("换号"), cls.LOST: _l("失联"), cls.LEFT_COUNTRY: _l("疑似再次出境"),
                cls.FRAUD_AGAIN: _l("再次涉诈")}

    @property
    def alarms(self) -> bool:
        """Flags that tell the precinct's leads and the center at once."""
        return self in (MeetingFlag.LOST, MeetingFlag.LEFT_COUNTRY)
